"""Checks and repairs of canonical tickets that every source gets: exports and dataset folders.

- ``fold_spellings``: category values that differ only in letter case or spacing become one
  value (Excel's COUNTIFS does not tell them apart, so pandas must not either);
- ``reconcile_status``: the one rule that makes status and timestamps agree, "the timestamps
  decide" (after it, a status is Open or Pending exactly when there is no resolved time);
- ``implausible``: timestamps before 1990 or after the file was written (and after now);
- ``latest_moment``: the data's as-of moment, the latest timestamp of any kind;
- ``report_missing_fields``: a note per canonical field the source lacks (``schema.OPTIONAL_FIELDS``).

Each function works on whole columns; the callers report what changed, with examples, so
an export's findings can quote the file's own rows and text.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from supportxl.errors import ParameterError
from supportxl.ingest.mapping import normalise
from supportxl.ingest.report import MAX_EXAMPLES, QualityReport
from supportxl.schema import CLOSED_STATUSES, OPEN_STATUSES, OPTIONAL_FIELDS

PLAUSIBLE_FROM = np.datetime64("1990-01-01T00:00:00", "ns")
FILE_TIME_SLACK = np.timedelta64(1, "D")
MAX_FOLDS_LISTED = 5


# ------------------------------------------------------------------------------ spellings

@dataclass(frozen=True)
class Folded:
    """A column after folding: the values, which rows changed, and each folded group as
    (the spelling kept, [(spelling, rows), ...] most frequent first)."""

    values: np.ndarray
    changed: np.ndarray
    groups: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]


def fold_spellings(values: Sequence | np.ndarray | pd.Series) -> Folded:
    """Values that differ only in letter case or white space made one: the most frequent
    spelling wins; between equally frequent spellings, the one first in code-point order
    (capitals sort before small letters: 'Hardware' before 'hardware'). Missing values and
    values that are not text are left as they are."""
    values = np.asarray(values, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    unchanged = Folded(values, np.zeros(len(values), dtype=bool), ())
    if len(uniques) < 2:
        return unchanged
    spellings = uniques.tolist() if isinstance(uniques, np.ndarray) else list(uniques)
    counts = np.bincount(codes[codes >= 0], minlength=len(spellings))
    members: dict[str, list[int]] = {}
    for i, spelling in enumerate(spellings):
        if isinstance(spelling, str):
            members.setdefault(normalise(spelling), []).append(i)
    target = np.arange(len(spellings))
    groups = []
    for indexes in members.values():
        if len(indexes) < 2:
            continue
        ranked = sorted(indexes, key=lambda i: (-counts[i], spellings[i]))
        target[ranked] = ranked[0]
        groups.append((spellings[ranked[0]], tuple((spellings[i], int(counts[i])) for i in ranked)))
    if not groups:
        return unchanged
    present = codes >= 0
    changed = present & (target[np.maximum(codes, 0)] != np.maximum(codes, 0))
    folded = values.copy()
    folded[changed] = np.asarray(spellings, dtype=object)[target[codes[changed]]]
    groups.sort(key=lambda g: (-sum(n for _, n in g[1]), g[0]))
    return Folded(folded, changed, tuple(groups))


def report_folds(report: QualityReport, folded: Folded, *, column: str, rows: np.ndarray,
                 text_at: Callable[[np.ndarray], list[str]], where: str = "") -> None:
    """An info finding for a folded column: which spellings became which, with example rows
    (``text_at(positions)`` gives the text of those rows as the source holds it). ``where``
    names the column in the finding when that differs from its name in the examples."""
    if not folded.changed.any():
        return
    listed = []
    for kept, variants in folded.groups[:MAX_FOLDS_LISTED]:
        others = ", ".join(f"'{s}' ({n:,})" for s, n in variants[1:])
        listed.append(f"'{kept}' ({variants[0][1]:,}) for {others}")
    more = len(folded.groups) - MAX_FOLDS_LISTED
    detail = ("values that differ only in letter case or spacing counted as one, the most frequent "
              "spelling kept: " + "; ".join(listed) + (f"; and {more:,} more" if more > 0 else ""))
    at = np.flatnonzero(folded.changed)[:MAX_EXAMPLES]
    examples = [(int(rows[i]), column, text) for i, text in zip(at.tolist(), text_at(at))]
    report.add("spelling variants", "info", int(folded.changed.sum()), column=where or column, detail=detail,
               examples=examples)


# ------------------------------------------------------------------------- status and time

@dataclass(frozen=True)
class Reconciled:
    """Status and resolved time after ``reconcile_status``, and the rows each rule changed."""

    status: np.ndarray
    resolved: np.ndarray
    open_resolved: np.ndarray  # open-type status with a resolved or closed time: now Resolved
    from_closed: np.ndarray  # closed-type status, resolved time taken from the closed time
    from_updated: np.ndarray  # ... taken from the last update time
    reopened: np.ndarray  # closed-type status with no usable time: now Open


def reconcile_status(status: np.ndarray, created: np.ndarray, resolved: np.ndarray,
                     closed: np.ndarray | None = None, updated: np.ndarray | None = None) -> Reconciled:
    """Make status agree with the timestamps; the timestamps decide.

    A ticket's resolved time is its resolved time, else its closed time (not before created).
    An open-type status (Open, Pending) with a resolved time becomes Resolved. A closed-type
    status (Resolved, Closed) without one takes the last update time (not before created)
    when there is one, else becomes Open. A missing status (None) is Resolved with a resolved
    time, else Open."""
    status = np.asarray(status, dtype=object).copy()
    created = np.asarray(created, dtype="datetime64[ns]")
    end = np.asarray(resolved, dtype="datetime64[ns]").copy()
    none = np.zeros(len(status), dtype=bool)

    def usable(times: np.ndarray | None) -> np.ndarray:
        if times is None:
            return none
        times = np.asarray(times, dtype="datetime64[ns]")
        return ~np.isnat(times) & (times >= created)

    is_open = np.isin(status, OPEN_STATUSES)
    is_closed = np.isin(status, CLOSED_STATUSES)
    from_closed = np.isnat(end) & usable(closed)
    if from_closed.any():
        end[from_closed] = np.asarray(closed, dtype="datetime64[ns]")[from_closed]
    from_updated = np.isnat(end) & is_closed & usable(updated)
    if from_updated.any():
        end[from_updated] = np.asarray(updated, dtype="datetime64[ns]")[from_updated]
    has_end = ~np.isnat(end)
    open_resolved = is_open & has_end
    reopened = is_closed & ~has_end
    status[open_resolved] = "Resolved"
    status[reopened] = "Open"
    unknown = ~is_open & ~is_closed
    status[unknown] = np.where(has_end[unknown], "Resolved", "Open")
    return Reconciled(status, end, open_resolved, from_closed & is_closed, from_updated, reopened)


def report_reconciled(report: QualityReport, r: Reconciled, *, column: str, rows: np.ndarray,
                      text_at: Callable[[np.ndarray], list[str]], closed_label: str = "",
                      updated_label: str = "", where: str = "") -> None:
    """One finding per rule of ``reconcile_status`` that changed rows, quoting their status as the
    source holds it (a warning, except a closed ticket's resolved time read from its closed time)."""
    for mask, kind, severity, detail in (
        (r.open_resolved, "open status with a resolved time", "warning",
         "status set to Resolved: the timestamps decide"),
        (r.from_closed, "closed status without a resolved time", "info",
         f"resolved time taken from the closed time ({closed_label})"),
        (r.from_updated, "closed status without a resolved time", "warning",
         f"resolved time taken from the last update time ({updated_label})"),
        (r.reopened, "closed status without a resolved time", "warning",
         "no usable resolved, closed or update time: counted as open (status set to Open)"),
    ):
        if not mask.any():
            continue
        at = np.flatnonzero(mask)[:MAX_EXAMPLES]
        examples = [(int(rows[i]), column, text) for i, text in zip(at.tolist(), text_at(at))]
        report.add(kind, severity, int(mask.sum()), column=where or column, detail=detail, examples=examples)


def latest_plausible(path: Path | None) -> np.datetime64:
    """The latest believable timestamp, in UTC: a day after the file was last written (or
    after now, when that is earlier or the file is unknown)."""
    now = dt.datetime.now(dt.timezone.utc).timestamp()
    written = now
    if path is not None:
        try:
            written = min(os.stat(path).st_mtime, now)
        except OSError:
            pass
    return np.datetime64(int(written), "s").astype("datetime64[ns]") + FILE_TIME_SLACK


def implausible(times: np.ndarray, latest: np.datetime64) -> np.ndarray:
    """Timestamps before 1990 or after ``latest`` (the rows they are in are real, the times not)."""
    times = np.asarray(times, dtype="datetime64[ns]")
    return ~np.isnat(times) & ((times < PLAUSIBLE_FROM) | (times > latest))


def implausible_detail(action: str) -> str:
    # The limit itself is left out: it moves with the file's time, the report should not.
    return f"before 1990, or more than a day after the file was last written; {action}"


def parse_as_of(text: str, zone: str = "UTC") -> pd.Timestamp:
    """An as-of moment given as "YYYY-MM-DD" (the end of that day) or "YYYY-MM-DD HH:MM[:SS]",
    a wall-clock time in ``zone``, as naive UTC."""
    value = str(text).strip()
    try:
        moment = pd.Timestamp(dt.datetime.fromisoformat(value))
    except ValueError:
        raise ParameterError(f"--as-of: '{text}' is not a date or a date and time (expected YYYY-MM-DD "
                             f"or 'YYYY-MM-DD HH:MM', in the report's time zone, {zone}).") from None
    if len(value) == 10:  # a day: the data as of its end
        moment += pd.Timedelta(days=1)
    if moment.tzinfo is None:
        moment = moment.tz_localize(zone, ambiguous=False, nonexistent="shift_forward")
    return moment.tz_convert("UTC").tz_localize(None)


def period_days(created: pd.Series, zone: str, as_of: pd.Timestamp | None = None) -> tuple[str, str]:
    """The first and last day (YYYY-MM-DD) with a created time, on the calendar of ``zone``;
    with ``as_of``, of the tickets created by then (an as-of before them all is an error)."""
    if as_of is not None:
        if not (created <= as_of).any():
            first = pd.Series([created.min()]).dt.tz_localize("UTC").dt.tz_convert(zone)[0]
            raise ParameterError(f"--as-of: {_shown(as_of, zone)} is before the first ticket was created "
                                 f"({first:%Y-%m-%d %H:%M} {zone}); the report would hold no tickets.")
        created = created[created <= as_of]
    first, last = pd.Series([created.min(), created.max()]).dt.tz_localize("UTC").dt.tz_convert(zone)
    return first.strftime("%Y-%m-%d"), last.strftime("%Y-%m-%d")


def _shown(moment: pd.Timestamp, zone: str) -> str:
    return f"{moment.tz_localize('UTC').tz_convert(zone):%Y-%m-%d %H:%M} {zone}"


def latest_moment(*columns: np.ndarray | pd.Series | None) -> pd.Timestamp | None:
    """The latest of all the given timestamps (None when there is none)."""
    latest = None
    for column in columns:
        if column is None or len(column) == 0:
            continue
        values = np.asarray(column, dtype="datetime64[ns]")
        values = values[~np.isnat(values)]
        if len(values):
            top = values.max()
            latest = top if latest is None or top > latest else latest
    return None if latest is None else pd.Timestamp(latest)


# ------------------------------------------------------------------------- missing fields

def report_missing_fields(report: QualityReport, missing: Sequence[str]) -> None:
    """One note per canonical field the source lacks (``schema.OPTIONAL_FIELDS``); the KPIs
    that need it are shown as n/a, and listed with the reason on the Data Quality sheet."""
    for key in missing:
        report.add("missing field", "info", 1, unit="field", column=key,
                   detail=f"{OPTIONAL_FIELDS[key]}; the KPIs that need it show n/a")
