"""The canonical tables every source is turned into, and their folder on disk.

A dataset folder holds tickets.csv, accounts.csv, agents.csv, escalation_events.csv and
manifest.json (what produced the data: every parameter, the seed, the package version).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from supportxl.errors import SupportxlError
from supportxl.fileio import atomic_write

TICKET_COLUMNS = (
    "ticket_id", "created_at", "first_response_at", "resolved_at", "status", "priority",
    "channel", "issue_type", "team", "agent", "account_id", "requester_name",
    "requester_email", "subject", "csat", "escalated", "escalation_tier", "reopen_count",
    "agent_replies",
)
TICKET_TIMESTAMPS = ("created_at", "first_response_at", "resolved_at")
ACCOUNT_COLUMNS = ("account_id", "name", "industry", "country", "region", "segment", "annual_revenue")
AGENT_COLUMNS = ("agent_id", "name", "team", "location", "hire_date")
EVENT_COLUMNS = ("ticket_id", "step", "timestamp", "stakeholder", "counterpart", "activity")

STATUSES = ("Open", "Pending", "Resolved", "Closed")
OPEN_STATUSES = ("Open", "Pending")
STAKEHOLDERS = ("Customer", "Tier 1", "Tier 2", "Tier 3", "Project Manager", "C-Level Executive")

FILES = {
    "tickets": "tickets.csv",
    "accounts": "accounts.csv",
    "agents": "agents.csv",
    "escalation_events": "escalation_events.csv",
}
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Dataset:
    """The canonical tables of one support period, plus what produced them."""

    tickets: pd.DataFrame
    accounts: pd.DataFrame
    agents: pd.DataFrame
    escalation_events: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

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
        """The moment the data describes: the end of the period's last day."""
        return self.period[1] + pd.Timedelta(days=1)


def write_dataset(dataset: Dataset, folder: Path) -> list[Path]:
    """Write the tables and manifest into ``folder``; each file appears whole or not at all."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SupportxlError(f"cannot create output folder {folder}: {exc.strerror}.") from None
    if not os.access(folder, os.W_OK):
        raise SupportxlError(f"output folder {folder} is not writable.")
    written = []
    for name, filename in FILES.items():
        frame = _csv_ready(getattr(dataset, name))
        written.append(atomic_write(folder / filename,
                                     lambda path, f=frame: f.to_csv(path, index=False, lineterminator="\n")))
    manifest_text = json.dumps(dataset.manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    written.append(atomic_write(folder / MANIFEST,
                                 lambda path: Path(path).write_text(manifest_text, encoding="utf-8")))
    return written


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


def read_dataset(folder: Path) -> Dataset:
    """Read a folder written by ``write_dataset`` (or ``supportxl generate``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SupportxlError(f"{folder}: no such folder (expected one written by 'supportxl generate').")
    missing = [f for f in (*FILES.values(), MANIFEST) if not (folder / f).is_file()]
    if missing:
        raise SupportxlError(
            f"{folder}: missing {', '.join(missing)} (a dataset folder holds "
            f"{', '.join((*FILES.values(), MANIFEST))})."
        )
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SupportxlError(f"{folder / MANIFEST}: not valid JSON ({exc}).") from None
    tables = {
        "tickets": _read_table(folder / FILES["tickets"], TICKET_COLUMNS, TICKET_TIMESTAMPS),
        "accounts": _read_table(folder / FILES["accounts"], ACCOUNT_COLUMNS, ()),
        "agents": _read_table(folder / FILES["agents"], AGENT_COLUMNS, ("hire_date",)),
        "escalation_events": _read_table(folder / FILES["escalation_events"], EVENT_COLUMNS,
                                         ("timestamp",)),
    }
    tickets = tables["tickets"]
    tickets["csat"] = pd.to_numeric(tickets["csat"], errors="coerce").astype("Int64")
    tickets["escalated"] = tickets["escalated"].astype(str).str.lower().isin(("true", "1", "yes"))
    return Dataset(manifest=manifest, **tables)


def _read_table(path: Path, columns: tuple[str, ...], timestamps: tuple[str, ...]) -> pd.DataFrame:
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
        parsed = pd.to_datetime(frame[column], format="ISO8601", errors="coerce")
        bad = parsed.isna() & frame[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise SupportxlError(
                f"{path}: row {row + 2}, column {column}: '{frame[column].iloc[row]}' is not an "
                f"ISO 8601 timestamp."
            )
        frame[column] = parsed.astype("datetime64[ns]")
    return frame
