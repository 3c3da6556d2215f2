"""The canonical tables every source is turned into, and their folder on disk.

A dataset folder holds tickets.csv, accounts.csv, agents.csv, escalation_events.csv and
manifest.json (what produced the data: every parameter, the seed, the package version).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import operator
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from supportxl.errors import SupportxlError
from supportxl.fileio import atomic_folder
from supportxl.schema import OPEN_STATUSES, STAKEHOLDERS, STATUS_CHANGE_COLUMNS, STATUSES  # noqa: F401

TICKET_COLUMNS = (
    "ticket_id", "created_at", "first_response_at", "resolved_at", "status", "priority",
    "channel", "issue_type", "team", "agent", "account_id", "requester_name",
    "requester_email", "subject", "csat", "escalated", "escalation_tier", "reopen_count",
    "agent_replies",
)
TICKET_TIMESTAMPS = ("created_at", "first_response_at", "resolved_at")
# Optional ticket columns: business-hour durations an export states itself, by the timestamp
# they end at. Where present they are used instead of counting with the business calendar.
STATED_BUSINESS_HOURS = {"first_response_at": "frt_business_hours_source",
                         "resolved_at": "ttr_business_hours_source"}
# Optional ticket columns: waits an export states per ticket (Zendesk's ticket metrics), by the
# field of schema.STATUS_FIELDS they stand for. A status history, where there is one, wins.
STATED_WAITS = {"agent_wait": "agent_wait_hours_source", "requester_wait": "requester_wait_hours_source",
                "on_hold": "on_hold_hours_source"}
# Optional ticket column: the agent work time an export tracks per ticket (time-tracking fields),
# in hours; the Plan's handle time is its mean where the export has it.
WORK_HOURS = "work_hours_source"
ACCOUNT_COLUMNS = ("account_id", "name", "industry", "country", "region", "segment", "annual_revenue")
AGENT_COLUMNS = ("agent_id", "name", "team", "location", "hire_date")
EVENT_COLUMNS = ("ticket_id", "step", "timestamp", "stakeholder", "counterpart", "activity")


FILES = {
    "tickets": "tickets.csv",
    "accounts": "accounts.csv",
    "agents": "agents.csv",
    "escalation_events": "escalation_events.csv",
    "status_changes": "status_changes.csv",
}
# Files a dataset folder may lack (written before they existed, or by a source without them).
OPTIONAL_FILES = ("status_changes",)
MANIFEST = "manifest.json"
MANIFEST_FILES = "files"  # the manifest's record of each table file: rows and SHA-256


@dataclass(frozen=True)
class Dataset:
    """The canonical tables of one support period, plus what produced them."""

    tickets: pd.DataFrame
    accounts: pd.DataFrame
    agents: pd.DataFrame
    escalation_events: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    # ticket_id, timestamp, from_status, to_status: empty when the source has no status history.
    status_changes: pd.DataFrame = field(default_factory=lambda: empty_status_changes())

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First day and last day (inclusive) of the period the data covers."""
        period = self.manifest.get("period", {})
        if "start" in period and "end" in period:
            return pd.Timestamp(period["start"]), pd.Timestamp(period["end"])
        created = self.tickets["created_at"]
        return created.min().normalize(), created.max().normalize()

    @property
    def as_of(self) -> pd.Timestamp:
        """The moment the data describes (naive UTC): the manifest's ``period.as_of`` (the
        latest timestamp of any kind in the data, or the moment given with --as-of; for
        generated data the end of the period), else the latest timestamp in the tables."""
        recorded = self.manifest.get("period", {}).get("as_of")
        if recorded:
            return pd.Timestamp(recorded)
        latest = [column.max() for column in (*(self.tickets[k] for k in TICKET_TIMESTAMPS),
                                              self.escalation_events["timestamp"]) if column.notna().any()]
        return max(latest) if latest else self.period[1] + pd.Timedelta(days=1)

    @property
    def missing_fields(self) -> tuple[str, ...]:
        """The canonical ticket fields the source does not have at all (see ``ingest.checks``)."""
        return tuple(self.manifest.get("missing_fields", ()))


def empty_status_changes() -> pd.DataFrame:
    return pd.DataFrame({"ticket_id": pd.Series(dtype=np.int64), "timestamp": pd.Series(dtype="datetime64[ns]"),
                         "from_status": pd.Series(dtype=object), "to_status": pd.Series(dtype=object)})


def write_dataset(dataset: Dataset, folder: Path) -> list[Path]:
    """Write the tables and manifest into ``folder`` as one unit: into a temporary folder beside
    it, then swapped in whole, so ``folder`` never mixes the files of two runs. The manifest
    records each table file's row count and checksum, which ``read_dataset`` checks."""
    folder = check_dataset_folder(folder)

    def write(temp: Path) -> None:
        files = {}
        for name, filename in FILES.items():
            frame = getattr(dataset, name)
            write_csv(frame, temp / filename)
            files[filename] = {"rows": len(frame), "sha256": file_digest(temp / filename)}
        manifest = {**dataset.manifest, MANIFEST_FILES: files}
        (temp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                     encoding="utf-8")

    atomic_folder(folder, write)
    return [folder / f for f in (*FILES.values(), MANIFEST)]


def check_dataset_folder(folder: Path) -> Path:
    """Refuse to replace a folder that holds anything but a dataset's files: writing a dataset
    swaps the whole folder, which would delete them."""
    folder = Path(folder)
    if folder.is_dir():
        foreign = sorted(p.name for p in folder.iterdir() if p.name not in (*FILES.values(), MANIFEST))
        if foreign:
            raise SupportxlError(f"{folder} holds files that are not part of a dataset "
                                 f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}), which "
                                 f"replacing it would delete; give a new folder or a dataset folder.")
    return folder


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_belongs_together(folder: Path, manifest: dict[str, Any]) -> None:
    """Refuse a folder whose table files are not the ones its manifest recorded (files of two
    runs mixed, or edited since). Folders written before the manifest recorded them pass."""
    recorded = manifest.get(MANIFEST_FILES)
    if recorded is None:
        return
    if not isinstance(recorded, dict):
        raise SupportxlError(f"{folder / MANIFEST}: '{MANIFEST_FILES}' should be a table of file names.")
    for name, filename in FILES.items():
        if name in OPTIONAL_FILES and filename not in recorded and not (folder / filename).exists():
            continue  # written before the file existed
        entry = recorded.get(filename)
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if expected is None:
            raise SupportxlError(f"{folder / MANIFEST}: records no checksum for {filename}.")
        if file_digest(folder / filename) != expected:
            raise SupportxlError(
                f"{folder}: {filename} is not the file manifest.json was written with (its checksum "
                f"differs): the folder mixes files of "
                f"different runs, or one was edited. Generate the folder again (or, to use a file edited "
                f"on purpose, delete the \"{MANIFEST_FILES}\" entry of {MANIFEST}).")


# ------------------------------------------------------------------------------ CSV writing
#
# ``write_csv`` writes exactly the bytes of ``_csv_ready(frame).to_csv(path, index=False,
# lineterminator="\n")`` but several times faster: every column is turned into text in a few
# vectorised steps (lookup tables for timestamps, small integers and repeated strings), rows
# are joined with ``str.join`` and written in chunks. Columns of a kind it does not handle
# (floats, categoricals, time zones, ...) send the whole frame to the pandas path.

CSV_CHUNK_ROWS = 10_000
_Cells = Callable[[int, int], list]  # rows [start, stop) of one column as CSV text


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write ``frame`` as CSV (no index, ``\n`` line ends, empty cells for missing values)."""
    columns = _column_writers(frame)
    if columns is None:
        _csv_ready(frame).to_csv(path, index=False, lineterminator="\n")
        return
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(_quote(str(label)) for label in frame.columns) + "\n")
        for start in range(0, len(frame), CSV_CHUNK_ROWS):
            stop = min(start + CSV_CHUNK_ROWS, len(frame))
            cells = [column(start, stop) for column in columns]
            handle.write("\n".join(map(",".join, zip(*cells))))
            handle.write("\n")


def _column_writers(frame: pd.DataFrame) -> list[_Cells] | None:
    """One cell writer per column, or None if some column needs pandas' own formatting."""
    # A single column would need the csv module's rule for rows holding one empty field.
    if frame.shape[1] < 2 or isinstance(frame.columns, pd.MultiIndex):
        return None
    writers = []
    for i in range(frame.shape[1]):
        writer = _column_writer(frame.iloc[:, i])
        if writer is None:
            return None
        writers.append(writer)
    return writers


def _column_writer(series: pd.Series) -> _Cells | None:
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "b":
            return _table_cells(np.array(["False", "True"], dtype=object), series.to_numpy().astype(np.intp))
        if dtype.kind in "iu":
            return _integer_cells(series.to_numpy())
        if dtype.kind == "M":
            return _timestamp_cells(series)
        if dtype.kind == "O":
            return _text_cells(series)
        return None
    if isinstance(dtype, pd.StringDtype):
        return _text_cells(series)
    if isinstance(series.array, pd.arrays.IntegerArray):
        missing = series.isna().to_numpy()
        return _integer_cells(series.to_numpy(dtype=dtype.numpy_dtype, na_value=0), missing)
    return None


def _table_cells(table: np.ndarray, index: np.ndarray) -> _Cells:
    return lambda start, stop: table[index[start:stop]].tolist()


def _integer_cells(values: np.ndarray, missing: np.ndarray | None = None) -> _Cells:
    """Integers as ``str`` writes them; through a table when their range is small."""
    if len(values) == 0:
        return lambda start, stop: []
    low, high = int(values.min()), int(values.max())
    if high - low < max(len(values), 1_024):
        table = np.array([*map(str, range(low, high + 1)), ""], dtype=object)
        wide = values.astype(np.uint64 if values.dtype.kind == "u" else np.int64)  # no overflow
        index = (wide - wide.min()).astype(np.intp)
        if missing is not None:
            index[missing] = len(table) - 1
        return _table_cells(table, index)

    def cells(start: int, stop: int) -> list:
        text = list(map(str, values[start:stop].tolist()))
        if missing is not None:
            for i in np.flatnonzero(missing[start:stop]).tolist():
                text[i] = ""
        return text
    return cells


def _timestamp_cells(series: pd.Series) -> _Cells | None:
    """ISO 8601 text, as ``_csv_ready`` makes it: dates alone when every time is midnight."""
    if series.dt.tz is not None:
        return None
    values = series.to_numpy(dtype="datetime64[s]")
    missing = np.isnat(values)
    seconds = values.astype(np.int64)
    day = np.floor_divide(seconds, 86_400)
    time_of_day = seconds - day * 86_400
    dates_only = bool((time_of_day[~missing] == 0).all())
    if missing.all():
        return lambda start, stop: [""] * (stop - start)
    first, last = int(day[~missing].min()), int(day[~missing].max())
    if last - first < 2_000_000:
        days = np.arange(first, last + 1)
        day_index = day - first
    else:  # a sparse spread of dates over millennia: only the dates that occur
        days, present_index = np.unique(day[~missing], return_inverse=True)
        day_index = np.zeros(len(day), dtype=np.int64)
        day_index[~missing] = present_index
    dates = np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)
    day_index = day_index.astype(np.intp)
    day_index[missing] = len(dates)  # the empty cell at the end of the table
    if dates_only:
        return _table_cells(np.append(dates, ""), day_index)
    dates = np.append(dates + "T", "")
    times = _times_of_day()
    time_index = np.where(missing, len(times) - 1, time_of_day).astype(np.intp)
    return lambda start, stop: list(map(operator.add, dates[day_index[start:stop]].tolist(),
                                        times[time_index[start:stop]].tolist()))


@functools.cache
def _times_of_day() -> np.ndarray:
    """'HH:MM:SS' for every second of a day, then '' (for a missing timestamp)."""
    clock = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
    return np.array([c + s for c in clock for s in (f"{s:02d}" for s in range(60))] + [""], dtype=object)


def _text_cells(series: pd.Series) -> _Cells | None:
    values = series.to_numpy(dtype=object)
    try:  # str.join accepts nothing but strings: it checks the values as it scans them
        joined = "\x00".join(values.tolist())
    except TypeError:
        values = series.to_numpy(dtype=object, na_value="")  # missing values become empty cells
        try:
            joined = "\x00".join(values.tolist())
        except TypeError:
            return None  # numbers, dates or mixed objects: pandas knows how it prints them
    if not any(c in joined for c in _quote_triggers()):
        return lambda start, stop: values[start:stop].tolist()
    codes, uniques = pd.factorize(values)
    table = np.array([_quote(u) for u in uniques], dtype=object)
    return _table_cells(table, codes.astype(np.intp))


@functools.cache
def _quote_triggers() -> tuple[str, ...]:
    """The characters that make the csv module (as pandas calls it) quote a field."""
    triggers = []
    for c in (",", '"', "\n", "\r"):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(["a" + c, "b"])
        if buffer.getvalue().startswith('"'):
            triggers.append(c)
    return tuple(triggers)


def _quote(text: str) -> str:
    if any(c in text for c in _quote_triggers()):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as ISO 8601 text (empty where not reached; dates alone when every time is
    midnight), formatted in one vectorised pass."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            values = out[column].to_numpy(dtype="datetime64[s]")
            dates_only = bool((values[~np.isnat(values)].astype(np.int64) % 86_400 == 0).all())
            text = np.datetime_as_string(values, unit="D" if dates_only else "s").astype(object)
            text[np.isnat(values)] = ""
            out[column] = text
    return out


# Called with (file, column, bad rows, the column as text) for timestamps that do not parse.
BadTimestamps = Callable[[Path, str, np.ndarray, pd.Series], None]


def read_dataset(folder: Path, on_bad_timestamps: BadTimestamps | None = None) -> Dataset:
    """Read a folder written by ``write_dataset`` (or ``supportxl generate``).

    A timestamp that is not ISO 8601 is an error naming the file, row, column and value; with
    ``on_bad_timestamps`` it is handed to that function instead and read as missing (see
    ``supportxl.ingest.load_dataset``, which reports it)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SupportxlError(f"{folder}: no such folder (expected one written by 'supportxl generate').")
    required = [f for name, f in FILES.items() if name not in OPTIONAL_FILES]
    missing = [f for f in (*required, MANIFEST) if not (folder / f).is_file()]
    if missing:
        raise SupportxlError(
            f"{folder}: missing {', '.join(missing)} (a dataset folder holds "
            f"{', '.join((*required, MANIFEST))})."
        )
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SupportxlError(f"{folder / MANIFEST}: not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict):
        raise SupportxlError(f"{folder / MANIFEST}: should hold a JSON object (what produced the data), "
                             f"found a {type(manifest).__name__}.")
    check_belongs_together(folder, manifest)
    manifest = {k: v for k, v in manifest.items() if k != MANIFEST_FILES}  # about the folder, not the data

    def read(name: str, columns: tuple[str, ...], timestamps: tuple[str, ...]) -> pd.DataFrame:
        return _read_table(folder / FILES[name], columns, timestamps, on_bad_timestamps)

    tables = {
        "tickets": read("tickets", TICKET_COLUMNS, TICKET_TIMESTAMPS),
        "accounts": read("accounts", ACCOUNT_COLUMNS, ()),
        "agents": read("agents", AGENT_COLUMNS, ("hire_date",)),
        "escalation_events": read("escalation_events", EVENT_COLUMNS, ("timestamp",)),
    }
    changes = folder / FILES["status_changes"]
    if changes.is_file():
        tables["status_changes"] = read("status_changes", STATUS_CHANGE_COLUMNS, ("timestamp",))
    tickets = tables["tickets"]
    tickets["csat"] = pd.to_numeric(tickets["csat"], errors="coerce").astype("Int64")
    tickets["escalated"] = tickets["escalated"].astype(str).str.lower().isin(("true", "1", "yes"))
    return Dataset(manifest=manifest, **tables)


def _read_table(path: Path, columns: tuple[str, ...], timestamps: tuple[str, ...],
                on_bad_timestamps: BadTimestamps | None = None) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise SupportxlError(f"{path}: cannot be read as CSV ({exc}).") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SupportxlError(
            f"{path}: missing column {missing[0]} (found: {', '.join(map(str, frame.columns))})."
        )
    frame = frame[list(columns)].copy()
    for column in timestamps:
        parsed = _utc_timestamps(frame[column])
        bad = parsed.isna() & frame[column].notna()
        if bad.any():
            if on_bad_timestamps is None:
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise SupportxlError(
                    f"{path}: row {row + 2}, column {column}: '{frame[column].iloc[row]}' is not an "
                    f"ISO 8601 timestamp."
                )
            on_bad_timestamps(path, column, bad.to_numpy(), frame[column].astype(str))
        frame[column] = parsed.astype("datetime64[ns]")
    return frame


def _utc_timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 text as naive UTC (NaT where unreadable): times with an offset are converted,
    naive ones are UTC already."""
    try:
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # naive and offset times mixed
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed
