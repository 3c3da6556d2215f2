"""The business calendar: which hours count when an SLA clock runs in business hours only.

A calendar names the working days of the week, the working hours of each working day (local
wall-clock time in the zone the business works in), the holidays, and the zone the naive
timestamps in the data are recorded in.

``business_hours`` is the vectorised count used on whole ticket tables;
``business_hours_reference`` is a deliberately plain day-by-day walk that the tests check it
against.

Both convert each timestamp in the same way before counting:

* a naive timestamp is read as wall-clock time in ``data_timezone`` and converted to wall-clock
  time in ``timezone`` (nothing is converted when the two zones are the same);
* a wall-clock time that occurs twice (when clocks go back) is read as the second occurrence,
  in standard time;
* a wall-clock time that never occurs (when clocks go forward) is moved forward to the first
  time that does, the moment the clocks changed.

Hours are then counted on the local wall clock: a working day from 09:00 to 17:00 holds eight
business hours even on the day the clocks change (which, in practice, happens at night).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from supportxl.errors import ParameterError

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class BusinessCalendar:
    """When the business works: days (Monday = 0), hours, holidays and time zones."""

    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start_hour: float = 9.0
    end_hour: float = 17.0
    holidays: tuple[dt.date, ...] = ()
    timezone: str = "UTC"
    data_timezone: str = "UTC"

    def validate(self) -> None:
        """Raise ParameterError, in one sentence, for the first setting that cannot be used."""
        for key in ("timezone", "data_timezone"):
            _zone(getattr(self, key), f"calendar.{key}")
        for key in ("start_hour", "end_hour"):
            value = getattr(self, key)
            if not 0 <= value <= 24:  # also rejects NaN
                raise ParameterError(f"calendar.{key} ({_number(value)}) must be between 0 and 24.")
        if self.end_hour <= self.start_hour:
            raise ParameterError(
                f"calendar.end_hour ({_number(self.end_hour)}) must be after "
                f"calendar.start_hour ({_number(self.start_hour)})."
            )
        if not self.working_days:
            raise ParameterError(
                "calendar.working_days must list at least one day (0 = Monday to 6 = Sunday)."
            )
        for day in self.working_days:
            if isinstance(day, bool) or not isinstance(day, (int, np.integer)) or not 0 <= day <= 6:
                raise ParameterError(
                    f"calendar.working_days contains {day!r}, but days are numbered "
                    f"0 (Monday) to 6 (Sunday)."
                )

    @property
    def hours_per_day(self) -> float:
        return float(self.end_hour) - float(self.start_hour)

    @property
    def weekmask(self) -> list[int]:
        """numpy's weekmask: seven flags, Monday first."""
        days = set(self.working_days)
        return [int(d in days) for d in range(7)]

    def holiday_dates(self) -> tuple[dt.date, ...]:
        return tuple(sorted({h.date() if isinstance(h, dt.datetime) else h for h in self.holidays}))


def _zone(name: str, key: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ParameterError(
            f"{key} {name!r} is not a known time zone "
            f"(for example UTC, Europe/Berlin, America/New_York)."
        ) from None


def _number(value) -> str:
    try:
        return str(float(value))
    except (TypeError, ValueError):
        return repr(value)


# --------------------------------------------------------------------------- vectorised


def business_hours(start, end, calendar: BusinessCalendar) -> np.ndarray:
    """Working hours between ``start`` and ``end``, element by element, as float64.

    ``start`` and ``end`` are equally long sequences of naive timestamps (pandas Series or
    Index, numpy datetime64 arrays, or anything ``pandas.DatetimeIndex`` accepts) in
    ``calendar.data_timezone``. The result is 0 where ``end <= start`` and NaN where either
    is missing.

    The count is ``W(end) - W(start)``, where ``W(t)`` is the number of working hours from
    a fixed origin up to ``t``: whole working days before ``t``'s date (``numpy.busday_count``)
    times the hours per day, plus the part of ``t``'s own day's window already elapsed.
    """
    calendar.validate()
    s = _local_wall_clock(start, calendar)
    e = _local_wall_clock(end, calendar)
    if len(s) != len(e):
        raise ValueError(f"start and end differ in length ({len(s)} and {len(e)}).")
    result = np.full(len(s), np.nan)
    valid = ~(np.isnat(s) | np.isnat(e))
    if not valid.any():
        return result
    s, e = s[valid], e[valid]

    s_day = s.astype("datetime64[D]")
    e_day = e.astype("datetime64[D]")
    cal = np.busdaycalendar(weekmask=calendar.weekmask,
                            holidays=np.array(calendar.holiday_dates(), dtype="datetime64[D]"))
    whole_days = np.busday_count(s_day, e_day, busdaycal=cal)  # working days in [s_day, e_day)
    lo, hi = float(calendar.start_hour), float(calendar.end_hour)

    def elapsed_today(stamps: np.ndarray, days: np.ndarray) -> np.ndarray:
        hour = (stamps - days).astype(np.int64) / _US_PER_HOUR
        return np.where(np.is_busday(days, busdaycal=cal), np.clip(hour, lo, hi) - lo, 0.0)

    hours = whole_days * (hi - lo) + elapsed_today(e, e_day) - elapsed_today(s, s_day)
    result[valid] = np.where(e > s, np.maximum(hours, 0.0), 0.0)
    return result


def _local_wall_clock(values, calendar: BusinessCalendar) -> np.ndarray:
    """Naive datetime64[us] wall-clock times in the business's zone."""
    index = pd.DatetimeIndex(values)
    if index.tz is not None:  # already aware: only the business's zone matters
        index = index.tz_convert(calendar.timezone).tz_localize(None)
    elif calendar.data_timezone != calendar.timezone:
        index = (index.tz_localize(calendar.data_timezone, ambiguous=False,
                                   nonexistent="shift_forward")
                 .tz_convert(calendar.timezone)
                 .tz_localize(None))
    return index.as_unit("us").to_numpy(dtype="datetime64[us]")


# --------------------------------------------------------------------------- reference


def business_hours_reference(start, end, calendar: BusinessCalendar) -> float:
    """The same count for one pair, walking day by day; slow and plain, for the tests."""
    calendar.validate()
    if _missing(start) or _missing(end):
        return math.nan
    s = _reference_local(start, calendar)
    e = _reference_local(end, calendar)
    if e <= s:
        return 0.0
    holidays = set(calendar.holiday_dates())
    total = dt.timedelta(0)
    day = s.date()
    while day <= e.date():
        if day.weekday() in calendar.working_days and day not in holidays:
            midnight = dt.datetime.combine(day, dt.time())
            window_start = midnight + dt.timedelta(hours=calendar.start_hour)
            window_end = midnight + dt.timedelta(hours=calendar.end_hour)
            overlap = min(e, window_end) - max(s, window_start)
            if overlap > dt.timedelta(0):
                total += overlap
        day += dt.timedelta(days=1)
    return total / dt.timedelta(hours=1)


def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)) \
        or (isinstance(value, np.datetime64) and np.isnat(value))


def _reference_local(value, calendar: BusinessCalendar) -> dt.datetime:
    """One timestamp as a naive wall-clock datetime in the business's zone, via zoneinfo."""
    stamp = pd.Timestamp(value).to_pydatetime()
    if stamp.tzinfo is not None:
        return stamp.astimezone(ZoneInfo(calendar.timezone)).replace(tzinfo=None)
    if calendar.data_timezone == calendar.timezone:
        return stamp
    source = ZoneInfo(calendar.data_timezone)
    utc = stamp.replace(tzinfo=source, fold=1).astimezone(dt.timezone.utc)  # twice-occurring: the 2nd
    if utc.astimezone(source).replace(tzinfo=None) != stamp:
        # A wall-clock time that never occurs: move it to the moment the clocks changed, the
        # first instant whose offset is the new one. It lies between the two readings.
        before = stamp.replace(tzinfo=source, fold=1).astimezone(dt.timezone.utc)
        after = stamp.replace(tzinfo=source, fold=0).astimezone(dt.timezone.utc)
        lo, hi = min(before, after), max(before, after)  # offset(lo) is old, offset(hi) is new
        new_offset = hi.astimezone(source).utcoffset()
        while hi - lo > dt.timedelta(microseconds=1):
            mid = lo + (hi - lo) // 2
            if mid.astimezone(source).utcoffset() == new_offset:
                hi = mid
            else:
                lo = mid
        utc = hi
    return utc.astimezone(ZoneInfo(calendar.timezone)).replace(tzinfo=None)


# --------------------------------------------------------------------------- --calendar

_DAY_KEYS = tuple(name[:3].lower() for name in _DAY_NAMES)
CALENDAR_SPEC_EXAMPLE = "Mon-Fri 09:00-17:00 Europe/Berlin"


def calendar_overrides(spec: str) -> list[str]:
    """A compact calendar, ``"Mon-Fri 09:00-17:00 Europe/Berlin"``, as template overrides
    (``calendar.working_days=[0, 1, 2, 3, 4]``, ...). Days are a range (``Sun-Thu``) or a
    list (``Mon,Wed,Fri``); hours are ``HH:MM-HH:MM`` or ``H-H``; the zone the team works in
    is optional (without it the template's, or UTC). Holidays are set with
    ``--set calendar.holidays=[2025-12-25]``."""
    parts = spec.split()
    if len(parts) not in (2, 3):
        raise ParameterError(f"--calendar {spec!r}: expected DAYS HOURS [TIME ZONE], for example "
                             f"{CALENDAR_SPEC_EXAMPLE!r}.")
    days = _spec_days(spec, parts[0])
    start, end = _spec_hours(spec, parts[1])
    overrides = [f"calendar.working_days={days}", f"calendar.start_hour={start}",
                 f"calendar.end_hour={end}"]
    if len(parts) == 3:
        _zone(parts[2], f"--calendar {spec!r}: the time zone")
        overrides.append(f'calendar.timezone="{parts[2]}"')
    return overrides


def _spec_days(spec: str, text: str) -> list[int]:
    def day(name: str) -> int:
        word = name.strip().lower()
        if word not in _DAY_KEYS and word not in (d.lower() for d in _DAY_NAMES):
            raise ParameterError(f"--calendar {spec!r}: {name!r} is not a day (use Mon, Tue, Wed, "
                                 f"Thu, Fri, Sat, Sun).")
        return _DAY_KEYS.index(word[:3])

    if "-" in text:
        first, _, last = text.partition("-")
        a, b = day(first), day(last)
        return [(a + i) % 7 for i in range((b - a) % 7 + 1)]
    return sorted({day(name) for name in text.split(",")})


def _spec_hours(spec: str, text: str) -> tuple[float, float]:
    def hour(value: str) -> float:
        h, _, m = value.partition(":")
        try:
            hours, minutes = int(h), int(m or 0)
        except ValueError:
            hours, minutes = -1, 0
        if not (0 <= hours <= 24 and 0 <= minutes < 60):
            raise ParameterError(f"--calendar {spec!r}: {value!r} is not a time of day "
                                 f"(use HH:MM, for example 09:00).")
        return hours + minutes / 60

    first, sep, last = text.partition("-")
    if not sep:
        raise ParameterError(f"--calendar {spec!r}: expected working hours as START-END, "
                             f"for example 09:00-17:00.")
    return hour(first), hour(last)
