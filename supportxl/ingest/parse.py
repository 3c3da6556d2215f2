"""Vectorised parsing of text columns: timestamps, durations, counts and mapped values.

A column is factorised once (``Column``: a code per row and the distinct values), and every
parser works on the distinct values only, then spreads the result back to the rows with one
``take``. Repetitive columns (status, priority, group) cost almost nothing; columns of
mostly distinct values (timestamps) cost one vectorised pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from supportxl.ingest.mapping import normalise

EARLIEST = np.datetime64("1980-01-01T00:00:00", "ns")
LATEST = np.datetime64("2100-01-01T00:00:00", "ns")
EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")
ABSURD_HOURS = 5 * 365.25 * 24  # a duration longer than five years is not a support duration
MAX_COUNT = 1e9
NAT = np.datetime64("NaT", "ns")
_LATEST_SERIAL = (LATEST - EXCEL_EPOCH) / np.timedelta64(1, "D")  # the Excel serial of LATEST

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_OFFSET = r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
_CLOCK = r"^([+-])?\s*(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?$"
UNIT_HOURS = {"minutes": 1 / 60, "seconds": 1 / 3600, "milliseconds": 1 / 3_600_000, "hours": 1.0, "days": 24.0}


@dataclass
class Column:
    """One source column, factorised: ``codes[i]`` indexes ``uniques`` (-1 = missing)."""

    header: str
    codes: np.ndarray
    uniques: np.ndarray  # object array of stripped text
    raw: np.ndarray  # the same distinct values as the file holds them (for examples)

    @classmethod
    def from_text(cls, header: str, values: np.ndarray, missing: Iterable[str]) -> "Column":
        """Factorise text cells (NaN counts as missing), strip surrounding white space, and
        treat the mapping's missing-value tokens (any case) as missing."""
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        raw = [u if isinstance(u, str) else str(u) for u in uniques.tolist()]
        stripped = [u.strip() for u in raw]
        tokens = {normalise(t) for t in missing} | {""}
        is_missing = np.array([u.casefold() in tokens for u in stripped], dtype=bool)
        if is_missing.any():
            remap = np.where(is_missing, -1, np.arange(len(stripped)))
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        return cls(header, codes.astype(np.intp, copy=False), np.array(stripped, dtype=object),
                   np.array(raw, dtype=object))

    def examples(self, mask: np.ndarray, limit: int = 5) -> tuple[np.ndarray, list[str]]:
        """Row positions and text (as in the file) of the first ``limit`` rows where ``mask`` is true."""
        at = np.flatnonzero(mask)[:limit]
        return at, self.raw_at(at)

    def raw_at(self, positions: np.ndarray) -> list[str]:
        """The text of the rows at ``positions`` exactly as the file holds it ("" where missing)."""
        return ["" if c < 0 else self.raw[c] for c in self.codes[positions].tolist()]

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def present(self) -> np.ndarray:
        return self.codes >= 0

    def subset(self, keep: np.ndarray) -> "Column":
        return Column(self.header, self.codes[keep], self.uniques, self.raw)

    def spread(self, per_unique: np.ndarray, fill) -> np.ndarray:
        """Per-row values from values computed per distinct value."""
        per_unique = np.asarray(per_unique)
        if len(per_unique) == 0:
            return np.full(len(self.codes), fill, dtype=per_unique.dtype if per_unique.dtype != object else object)
        out = per_unique[np.maximum(self.codes, 0)]  # a new array: safe to fill in place
        missing = ~self.present
        if missing.any():
            out[missing] = fill
        return out

    def text(self) -> np.ndarray:
        """Object array of the stripped text, None where missing."""
        return self.spread(self.uniques, None)


@dataclass
class Parsed:
    """Per-row parsed values and the rows whose value could not be used."""

    values: np.ndarray
    bad: np.ndarray  # bool per row: present but not parseable


# ----------------------------------------------------------------------------- timestamps
#
# Every parser below returns naive datetime64[ns] values and a mask of those already in UTC
# (the text carried an offset, or was an epoch number); the others are wall-clock times in
# the export's zone, converted to UTC once at the end (``_local_to_utc``).

def parse_timestamps(column: Column, formats: Iterable[str], zone: str) -> Parsed:
    """Naive datetime64[ns] in UTC. Values carrying an offset (ISO 8601 with Z or +hh:mm, a
    pattern with %z) and epoch numbers are absolute; the others are read as wall-clock times in
    ``zone``. Dates outside 1980–2099 count as unparseable. Each format is tried, in order, on
    the values no earlier format read; number-looking values are read only by the number
    formats (excel, epoch_*)."""
    u = column.uniques
    result = np.full(len(u), NAT, dtype="datetime64[ns]")
    is_utc = np.zeros(len(u), dtype=bool)
    remaining = np.ones(len(u), dtype=bool)
    numeric: np.ndarray | None = None  # computed when first needed, for what remains
    for fmt in formats:
        if not remaining.any():
            break
        if fmt == "ISO":
            todo = remaining & _iso_like(u)
            if todo.any():
                _accept(result, is_utc, remaining, todo, *_from_iso(pd.Series(u[todo], dtype=object)))
            continue
        if numeric is None:
            numeric = np.zeros(len(u), dtype=bool)
            numeric[remaining] = _number_like(u[remaining])
        if fmt in ("excel", "epoch_ms", "epoch_s"):
            todo = remaining & numeric
            if todo.any():
                number = pd.to_numeric(pd.Series(u[todo], dtype=object), errors="coerce").to_numpy(dtype=float)
                _accept(result, is_utc, remaining, todo, *_from_number(number, fmt))
        else:
            todo = remaining & ~numeric
            if todo.any():
                _accept(result, is_utc, remaining, todo, *_to_datetime(pd.Series(u[todo], dtype=object), format=fmt))
    local = ~is_utc & ~np.isnat(result)
    if local.any() and zone != "UTC":
        result[local] = _local_to_utc(result[local], zone)
    values = column.spread(result, NAT)
    bad = column.present & column.spread(remaining, False)
    return Parsed(values.astype("datetime64[ns]"), bad)


def _local_to_utc(values: np.ndarray, zone: str) -> np.ndarray:
    """Wall-clock times in ``zone`` as UTC. A time that occurs twice (clocks going back) is read
    as the second occurrence, in standard time, and a time that never occurs (clocks going
    forward) as the moment the clocks changed, as the business calendar reads them."""
    local = pd.Series(values).dt.tz_localize(zone, ambiguous=np.zeros(len(values), dtype=bool),
                                             nonexistent="shift_forward")
    return _ns(local.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy())


def _iso_like(values: np.ndarray) -> np.ndarray:
    """Text starting with a full date, YYYY-MM-DD."""
    return np.fromiter((len(v) >= 10 and v[4] == "-" and v[7] == "-" and v[:4].isdigit() for v in values.tolist()),
                       dtype=bool, count=len(values))


_NUMBER_RE = re.compile(_NUMBER)


def _number_like(values: np.ndarray) -> np.ndarray:
    match = _NUMBER_RE.fullmatch
    return np.fromiter((match(v) is not None for v in values.tolist()), dtype=bool, count=len(values))


def _accept(result: np.ndarray, is_utc: np.ndarray, remaining: np.ndarray, todo: np.ndarray,
            parsed: np.ndarray, utc: np.ndarray) -> None:
    parsed = np.asarray(parsed, dtype="datetime64[ns]")
    ok = ~np.isnat(parsed)
    ok &= (parsed >= EARLIEST) & (parsed < LATEST)
    where = np.flatnonzero(todo)[ok]
    result[where] = parsed[ok]
    is_utc[where] = np.asarray(utc, dtype=bool)[ok]
    remaining[where] = False


def _to_datetime(values: pd.Series, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """``pd.to_datetime`` with errors coerced, as naive datetime64[ns] (out of range → NaT) and
    whether each value is in UTC (it carried an offset: a pattern with %z)."""
    try:
        parsed = pd.to_datetime(values, errors="coerce", **kwargs)
    except (ValueError, TypeError, OverflowError):
        try:  # offsets that differ from value to value (a pattern with %z)
            parsed = pd.to_datetime(values, errors="coerce", utc=True, **kwargs)
        except (ValueError, TypeError, OverflowError):
            return np.full(len(values), NAT), np.zeros(len(values), dtype=bool)
    aware = getattr(parsed.dt, "tz", None) is not None
    if aware:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return _ns(parsed.to_numpy()), np.full(len(values), aware)


def _ns(values: np.ndarray) -> np.ndarray:
    """datetime64 of any unit as datetime64[ns]; values outside the ns range become NaT."""
    values = np.asarray(values)
    if values.dtype.kind != "M":
        return np.full(len(values), NAT)
    low = np.datetime64("1678-01-01", "D").astype(values.dtype)
    high = np.datetime64("2261-12-31", "D").astype(values.dtype)
    inside = ~np.isnat(values) & (values > low) & (values < high)
    out = np.full(len(values), NAT)
    out[inside] = values[inside].astype("datetime64[ns]")
    return out


def _from_iso(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """ISO 8601 text: in one pass when every value is naive or every value has an offset;
    else (mixed, or offsets pandas does not read: " +0100", "UTC") value group by group."""
    try:
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
    except (ValueError, TypeError, OverflowError):
        return _from_iso_mixed(values)
    aware = parsed.dt.tz is not None
    if aware:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    out, utc = _ns(parsed.to_numpy()), np.full(len(values), aware)
    failed = np.isnat(out)
    if failed.any():
        out[failed], utc[failed] = _from_iso_mixed(values[failed])
    return out, utc


def _from_iso_mixed(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    with_offset = values.str.contains(_OFFSET, regex=True).fillna(False).to_numpy(dtype=bool)
    out = np.full(len(values), NAT)
    if (~with_offset).any():
        out[~with_offset] = _to_datetime(values[~with_offset], format="ISO8601")[0]
    if with_offset.any():
        aware = values[with_offset].str.replace(r"\s*(?:UTC|GMT)$", "Z", regex=True)
        aware = aware.str.replace(r"\s+(?=[+-]\d{2}(?::?\d{2})?$)", "", regex=True)
        aware = aware.str.replace(r"(?<=\d),(?=\d+(?:Z|[+-]))", ".", regex=True)
        try:
            parsed = pd.to_datetime(aware, format="ISO8601", errors="coerce", utc=True)
        except (ValueError, TypeError, OverflowError):
            parsed = pd.Series(pd.NaT, index=aware.index, dtype="datetime64[ns, UTC]")
        out[with_offset] = _ns(parsed.dt.tz_localize(None).to_numpy())
    return out, with_offset


def _from_number(number: np.ndarray, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """Excel serials (wall-clock times, like the sheet shows them) or epoch numbers (UTC)."""
    finite = np.isfinite(number) & (np.abs(number) < 1e15 if fmt != "epoch_ms" else np.abs(number) < 1e17)
    out = np.full(len(number), NAT)
    if fmt == "excel":
        # Before LATEST: later serials (Excel's run to 9999) overflow nanoseconds, wrapping into
        # plausible dates or raising, depending on NumPy's version
        finite &= (number >= 1) & (number < _LATEST_SERIAL)
        seconds = np.round(number[finite] * 86_400).astype(np.int64)
        out[finite] = (EXCEL_EPOCH + seconds.astype("timedelta64[s]")).astype("datetime64[ns]")
        return out, np.zeros(len(number), dtype=bool)
    scale = 1_000 if fmt == "epoch_ms" else 1
    finite &= (number >= 0) & (number / scale < 4_102_444_800)  # before 2100
    millis = np.round(number[finite] * (1_000 / scale)).astype(np.int64)
    out[finite] = millis.astype("datetime64[ms]").astype("datetime64[ns]")
    return out, np.ones(len(number), dtype=bool)


# ------------------------------------------------------------------------------ durations

def parse_durations(column: Column, unit: str) -> Parsed:
    """Hours as float (NaN where missing or unparseable). Clock units read "h:mm" or
    "h:mm:ss", signed ("-1:30" is minus 90 minutes); a plain number there counts hours."""
    u = pd.Series(column.uniques, dtype=object)
    comma_decimal = u.str.fullmatch(r"[+-]?\d+,\d+").fillna(False)
    if comma_decimal.any():
        u = u.where(~comma_decimal, u.str.replace(",", ".", regex=False))
    number = _numbers(u)
    if unit in UNIT_HOURS:
        hours = number * UNIT_HOURS[unit]
    else:
        parts = u.str.extract(_CLOCK)
        sign = np.where(parts[0].to_numpy(dtype=object) == "-", -1.0, 1.0)
        h = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float)
        m = pd.to_numeric(parts[2], errors="coerce").to_numpy(dtype=float)
        s = pd.to_numeric(parts[3], errors="coerce").fillna(0).to_numpy(dtype=float)
        clock = sign * (h + m / 60 + s / 3600)
        clock[(m >= 60) | (s >= 60)] = np.nan
        hours = np.where(np.isnan(clock), number, clock)
    hours = np.where(np.isfinite(hours), hours, np.nan)
    values = column.spread(hours, np.nan).astype(float)
    bad = column.present & np.isnan(values)
    return Parsed(values, bad)


def _numbers(values: pd.Series) -> np.ndarray:
    """Plain decimal numbers as float; anything else (words, "inf", "nan", "1_000") is NaN."""
    number = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, copy=True)
    odd = ~np.isnan(number)
    if odd.any():
        odd[odd] = ~_number_like(values.to_numpy(dtype=object)[odd])
        number[odd] = np.nan
    return number


def absurd_durations(hours: np.ndarray, signed: bool) -> np.ndarray:
    """Durations that cannot be real: negative (unless the field is signed) or over 5 years."""
    with np.errstate(invalid="ignore"):
        return (np.abs(hours) > ABSURD_HOURS) | ((hours < 0) & (not signed))


# --------------------------------------------------------------------------------- counts

def parse_counts(column: Column) -> Parsed:
    """Non-negative whole numbers as float (NaN where missing or not a count)."""
    number = _numbers(pd.Series(column.uniques, dtype=object))
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(number) & (number >= 0) & (number <= MAX_COUNT) & (number == np.floor(number))
    number = np.where(ok, number, np.nan)
    values = column.spread(number, np.nan).astype(float)
    return Parsed(values, column.present & np.isnan(values))


# ----------------------------------------------------------------------------- value maps

def map_values(column: Column, lookup: Callable[[str], str | None]) -> Parsed:
    """Per row: ``lookup(text)`` for present values (object; None where missing); ``bad``
    marks present values the lookup does not know."""
    mapped = np.array([lookup(v) for v in column.uniques.tolist()], dtype=object)
    unknown = np.array([m is None for m in mapped.tolist()], dtype=bool)
    values = column.spread(mapped, None)
    bad = column.present & column.spread(unknown, False)
    return Parsed(values, bad)


def lookup_for(table: dict[str, str], canonical: Iterable[str] = (), *, numeric_range: tuple[int, int] | None = None,
               keep_unknown: bool = False) -> Callable[[str], str | None]:
    """A lookup from source text to a canonical value: the mapping's table (normalised keys),
    then the canonical values themselves (any case), then whole numbers in ``numeric_range``
    (CSAT), then — for open vocabularies — the text itself."""
    known = {normalise(c): c for c in canonical}
    known.update(table)

    def lookup(text: str) -> str | None:
        key = normalise(text)
        if key in known:
            return known[key]
        if numeric_range is not None:
            try:
                number = float(key)
            except ValueError:
                number = None
            if number is not None and number.is_integer() and numeric_range[0] <= number <= numeric_range[1]:
                return str(int(number))
        return text if keep_unknown else None
    return lookup
