"""Business-hour counting: the vectorised count against a day-by-day reference, and by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from supportxl.errors import ParameterError
from supportxl.metrics.calendar import (
    BusinessCalendar,
    business_hours,
    business_hours_reference,
)

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")
# Wall-clock moments near daylight-saving changes, so that times which occur twice or never
# (in the data's zone or the business's) turn up often rather than by rare chance.
DST_CHANGES = (
    dt.datetime(2024, 3, 10, 2, 0), dt.datetime(2024, 11, 3, 1, 0),    # America/New_York
    dt.datetime(2024, 3, 31, 2, 0), dt.datetime(2024, 10, 27, 2, 0),   # Europe/Berlin
    dt.datetime(2025, 3, 9, 2, 0), dt.datetime(2025, 11, 2, 1, 0),
    dt.datetime(2025, 3, 30, 2, 0), dt.datetime(2025, 10, 26, 2, 0),
)
FEW_WEEKS = 21 * 86_400


def series(*stamps) -> pd.Series:
    return pd.Series(pd.to_datetime(list(stamps)), dtype="datetime64[ns]")


def one(start, end, calendar: BusinessCalendar | None = None) -> float:
    return float(business_hours(series(start), series(end), calendar or BusinessCalendar())[0])


# --------------------------------------------------------------------------- property


@st.composite
def calendars(draw):
    days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    if draw(st.booleans()):  # round quarter hours, including the whole day 0-24
        start_q = draw(st.integers(0, 95))
        end_q = draw(st.integers(start_q + 1, 96))
        start_hour, end_hour = start_q / 4, end_q / 4
    else:
        start_hour = draw(st.floats(0, 23.5, allow_nan=False))
        end_hour = draw(st.floats(start_hour + 0.01, 24, allow_nan=False))
    base = draw(st.dates(dt.date(2024, 1, 1), dt.date(2025, 12, 31)))
    holidays = draw(st.lists(st.integers(-10, 30).map(lambda d: base + dt.timedelta(days=d)),
                             max_size=4))
    return BusinessCalendar(
        working_days=tuple(sorted(days)),
        start_hour=start_hour,
        end_hour=end_hour,
        holidays=tuple(holidays),
        timezone=draw(st.sampled_from(ZONES)),
        data_timezone=draw(st.sampled_from(ZONES)),
    ), base


@st.composite
def stamp_pairs(draw, base: dt.date):
    near_base = dt.datetime.combine(base, dt.time()) + dt.timedelta(
        seconds=draw(st.integers(-7 * 86_400, 14 * 86_400)))
    near_change = draw(st.sampled_from(DST_CHANGES)) + dt.timedelta(
        seconds=draw(st.integers(-3 * 3_600, 3 * 3_600)))
    start = draw(st.sampled_from((near_base, near_change)))
    end = start + dt.timedelta(seconds=draw(st.integers(-FEW_WEEKS // 3, FEW_WEEKS)))
    return start, end


@st.composite
def cases(draw):
    calendar, base = draw(calendars())
    pairs = draw(st.lists(stamp_pairs(base), min_size=1, max_size=25))
    return calendar, pairs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
@example((BusinessCalendar(timezone="Europe/Berlin", data_timezone="America/New_York"),
          [(dt.datetime(2025, 3, 9, 2, 30, 17), dt.datetime(2025, 3, 12, 1, 0)),
           (dt.datetime(2025, 11, 2, 1, 30), dt.datetime(2025, 11, 3, 9, 0))]))
@example((BusinessCalendar(start_hour=0.0, end_hour=24.0, working_days=(6,),
                           holidays=(dt.date(2025, 3, 16),)),
          [(dt.datetime(2025, 3, 8, 23, 59, 59), dt.datetime(2025, 3, 24, 0, 0, 1))]))
@example((BusinessCalendar(working_days=tuple(range(7)), start_hour=0.0, end_hour=24.0,
                           timezone="UTC", data_timezone="America/New_York"),
          [(dt.datetime(2025, 3, 9, 2, 30, 17), dt.datetime(2025, 3, 9, 3, 30)),
           (dt.datetime(2025, 3, 9, 1, 59, 59), dt.datetime(2025, 3, 9, 2, 0)),
           (dt.datetime(2025, 11, 2, 0, 30), dt.datetime(2025, 11, 2, 1, 30))]))
def test_vectorised_count_matches_the_day_by_day_reference(case):
    calendar, pairs = case
    starts = series(*(s for s, _ in pairs))
    ends = series(*(e for _, e in pairs))
    got = business_hours(starts, ends, calendar)
    expected = np.array([business_hours_reference(s, e, calendar) for s, e in pairs])
    assert got.shape == (len(pairs),)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert (got >= 0).all()


# --------------------------------------------------------------------------- by hand


def test_friday_afternoon_to_monday_morning():
    assert one("2025-01-03 16:00", "2025-01-06 10:00") == 2.0  # Fri 16-17 + Mon 9-10


def test_same_day():
    assert one("2025-01-06 10:00", "2025-01-06 12:30") == 2.5


def test_same_day_outside_hours():
    assert one("2025-01-06 06:00", "2025-01-06 08:59") == 0.0
    assert one("2025-01-06 17:30", "2025-01-06 23:00") == 0.0
    assert one("2025-01-06 06:00", "2025-01-06 23:00") == 8.0


def test_span_across_a_holiday():
    calendar = BusinessCalendar(holidays=(dt.date(2025, 12, 25), dt.date(2025, 12, 26)))
    # Wed 24th 15:00-17:00, Thu 25th and Fri 26th off, weekend off, Mon 29th 9:00-11:00.
    assert one("2025-12-24 15:00", "2025-12-29 11:00", calendar) == 4.0
    assert one("2025-12-24 15:00", "2025-12-29 11:00") == 2 + 8 + 8 + 2


def test_start_on_saturday():
    assert one("2025-01-04 11:00", "2025-01-06 09:45") == 0.75
    assert one("2025-01-04 11:00", "2025-01-05 18:00") == 0.0  # the whole span is a weekend


def test_whole_weeks():
    assert one("2025-01-06 00:00", "2025-01-20 00:00") == 80.0


def test_working_days_and_hours_are_the_calendars():
    calendar = BusinessCalendar(working_days=(5, 6), start_hour=8.5, end_hour=12.0)
    assert one("2025-01-03 10:00", "2025-01-06 10:00", calendar) == 7.0  # Sat + Sun 8:30-12


def test_end_before_start_is_zero():
    assert one("2025-01-06 12:00", "2025-01-06 10:00") == 0.0
    assert one("2025-01-06 10:00", "2025-01-06 10:00") == 0.0


def test_missing_timestamps_give_nan():
    got = business_hours(series("2025-01-06 10:00", None, None),
                         series(None, "2025-01-06 11:00", None), BusinessCalendar())
    assert np.isnan(got).all()
    got = business_hours(series("2025-01-06 10:00", None), series("2025-01-06 11:00", "2025-01-06 11:00"),
                         BusinessCalendar())
    assert got[0] == 1.0 and np.isnan(got[1])
    assert math.isnan(business_hours_reference(pd.NaT, dt.datetime(2025, 1, 6), BusinessCalendar()))
    assert math.isnan(business_hours_reference(dt.datetime(2025, 1, 6), None, BusinessCalendar()))


def test_empty_input():
    empty = np.array([], dtype="datetime64[ns]")
    got = business_hours(empty, empty, BusinessCalendar())
    assert got.shape == (0,) and got.dtype == np.float64
    assert business_hours(series(), series(), BusinessCalendar()).shape == (0,)


def test_numpy_arrays_and_other_units_are_accepted():
    start = np.array(["2025-01-03T16:00", "2025-01-06T10:00"], dtype="datetime64[s]")
    end = np.array(["2025-01-06T10:00", "2025-01-06T12:30"], dtype="datetime64[ms]")
    np.testing.assert_array_equal(business_hours(start, end, BusinessCalendar()), [2.0, 2.5])


def test_time_zone_conversion():
    # 14:00 UTC is 09:00 in New York (EST): the New York business day has just begun.
    calendar = BusinessCalendar(timezone="America/New_York", data_timezone="UTC")
    assert one("2025-01-06 14:00", "2025-01-06 15:30", calendar) == 1.5
    assert one("2025-01-06 12:00", "2025-01-06 14:30", calendar) == 0.5
    # India is 5:30 ahead of UTC and has no daylight saving.
    calendar = BusinessCalendar(timezone="Asia/Kolkata", data_timezone="UTC")
    assert one("2025-01-06 03:00", "2025-01-06 04:00", calendar) == 0.5
    assert business_hours_reference(dt.datetime(2025, 1, 6, 3), dt.datetime(2025, 1, 6, 4), calendar) == 0.5


def test_daylight_saving_changes_give_no_gaps():
    # 2025-03-09 02:30 never happened in New York, 2025-11-02 01:30 happened twice: both count.
    calendar = BusinessCalendar(working_days=tuple(range(7)), start_hour=0, end_hour=24,
                                timezone="UTC", data_timezone="America/New_York")
    got = business_hours(series("2025-03-09 02:30", "2025-11-02 01:30"),
                         series("2025-03-09 04:00", "2025-11-02 03:00"), calendar)
    # 02:30 moves to 03:00 EDT (07:00 UTC); 04:00 EDT is 08:00 UTC.
    # 01:30 is read as EST (06:30 UTC); 03:00 EST is 08:00 UTC.
    np.testing.assert_array_equal(got, [1.0, 1.5])


def test_a_million_rows_agree_with_the_reference_on_a_sample():
    rng = np.random.default_rng(0)
    start = np.datetime64("2025-01-01T00:00:00") + rng.integers(0, 365 * 86_400, 1_000_000).astype("timedelta64[s]")
    end = start + rng.integers(0, 14 * 86_400, 1_000_000).astype("timedelta64[s]")
    calendar = BusinessCalendar(holidays=(dt.date(2025, 1, 1), dt.date(2025, 12, 25)),
                                timezone="Europe/Berlin", data_timezone="UTC")
    got = business_hours(start, end, calendar)
    assert got.shape == (1_000_000,) and not np.isnan(got).any()
    for i in rng.integers(0, 1_000_000, 200):
        assert got[i] == pytest.approx(business_hours_reference(start[i], end[i], calendar), abs=1e-6)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("settings_, message", [
    ({"timezone": "Mars/Base"},
     "calendar.timezone 'Mars/Base' is not a known time zone "
     "(for example UTC, Europe/Berlin, America/New_York)."),
    ({"data_timezone": "utc"},
     "calendar.data_timezone 'utc' is not a known time zone "
     "(for example UTC, Europe/Berlin, America/New_York)."),
    ({"timezone": ""},
     "calendar.timezone '' is not a known time zone "
     "(for example UTC, Europe/Berlin, America/New_York)."),
    ({"start_hour": 17.0, "end_hour": 9.0},
     "calendar.end_hour (9.0) must be after calendar.start_hour (17.0)."),
    ({"start_hour": 9.0, "end_hour": 9.0},
     "calendar.end_hour (9.0) must be after calendar.start_hour (9.0)."),
    ({"start_hour": -1.0},
     "calendar.start_hour (-1.0) must be between 0 and 24."),
    ({"end_hour": 25},
     "calendar.end_hour (25.0) must be between 0 and 24."),
    ({"end_hour": float("nan")},
     "calendar.end_hour (nan) must be between 0 and 24."),
    ({"working_days": ()},
     "calendar.working_days must list at least one day (0 = Monday to 6 = Sunday)."),
    ({"working_days": (0, 1, 7)},
     "calendar.working_days contains 7, but days are numbered 0 (Monday) to 6 (Sunday)."),
    ({"working_days": (-1,)},
     "calendar.working_days contains -1, but days are numbered 0 (Monday) to 6 (Sunday)."),
])
def test_validation_messages(settings_, message):
    calendar = BusinessCalendar(**settings_)
    with pytest.raises(ParameterError) as caught:
        calendar.validate()
    assert str(caught.value) == message
    empty = np.array([], dtype="datetime64[ns]")
    with pytest.raises(ParameterError):
        business_hours(empty, empty, calendar)


def test_valid_calendars_pass():
    BusinessCalendar().validate()
    BusinessCalendar(working_days=(6,), start_hour=0, end_hour=24, timezone="Asia/Kolkata",
                     data_timezone="America/New_York", holidays=(dt.date(2025, 1, 1),)).validate()
