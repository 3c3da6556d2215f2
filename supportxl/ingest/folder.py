"""``load_dataset``: a dataset folder in, checked as an export is, with its quality report.

A folder written by ``supportxl generate`` (or by hand, or by another tool, in the canonical
column names) gets the checks an import gets: unreadable or implausible timestamps, duplicate
ticket ids, unknown statuses, priorities and tiers, times before the created time, status
reconciled with the timestamps, spellings folded, escalation events of unknown tickets. Each
problem is a finding with the file's own row numbers (the header is row 1), and the rows go
on; with ``strict=True`` the first problem is an error instead.

A clean generated folder comes out exactly as it was read, with no report in its manifest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from supportxl.dataset import FILES, TICKET_TIMESTAMPS, Dataset, read_dataset
from supportxl.errors import SupportxlError
from supportxl.ingest.checks import (Folded, fold_spellings, implausible, implausible_detail, latest_moment,
                                     latest_plausible, parse_as_of, period_days, reconcile_status, report_folds,
                                     report_reconciled)
from supportxl.ingest.importer import ImportResult
from supportxl.ingest.mapping import normalise
from supportxl.ingest.report import MAX_EXAMPLES, QualityReport
from supportxl.schema import PRIORITIES, STATUSES, TIERS, UNKNOWN

NAT = np.datetime64("NaT", "ns")
# Columns folded together because they name the same things in two tables.
SHARED_SPELLINGS = (("account_id", "accounts", "account_id"), ("agent", "agents", "name"),
                    ("team", "agents", "team"))
FOLDED_TICKET_FIELDS = ("channel", "issue_type")
FOLDED_ACCOUNT_FIELDS = ("name", "industry", "country", "region", "segment")
FOLDED_AGENT_FIELDS = ("location",)


def load_dataset(folder: str | Path, *, strict: bool = False, as_of: str | None = None) -> ImportResult:
    """Read a dataset folder and check it as an export is checked (see the module docstring).

    ``as_of`` ("YYYY-MM-DD[ HH:MM[:SS]]" in the folder's recorded zone, else UTC) replaces the
    moment the data is described at.
    Raises SupportxlError for a folder that cannot be read (and, with ``strict``, for the
    first problem found)."""
    folder = Path(folder)
    report = QualityReport()
    bad_times: list[tuple[Path, str, np.ndarray, pd.Series]] = []
    dataset = read_dataset(folder, on_bad_timestamps=None if strict else
                           (lambda *found: bad_times.append(found)))
    checker = _FolderChecks(folder, dataset, report, bad_times)
    dataset = checker.run()
    if strict and any(f.severity == "warning" for f in report.findings):
        first = next(f for f in report.findings if f.severity == "warning")
        raise SupportxlError(f"{folder}: {first.line()}. Load it without --strict to go on (each such "
                             f"problem becomes a finding on the Data Quality sheet).")
    manifest = dict(dataset.manifest)
    period = dict(manifest.get("period", {}))
    if as_of is not None:
        zone = manifest.get("timezone", "UTC")
        moment = parse_as_of(as_of, zone)
        period["start"], period["end"] = period_days(dataset.tickets["created_at"], zone, moment)
        period["as_of"] = moment.strftime("%Y-%m-%d %H:%M:%S")
        period["as_of_given"] = True
    elif manifest.get("source") != "generator" and (checker.changed_times or "as_of" not in period):
        latest = latest_moment(*(dataset.tickets[k] for k in TICKET_TIMESTAMPS),
                               dataset.escalation_events["timestamp"])
        if latest is not None:  # the latest of the timestamps that survived the checks
            period["as_of"] = latest.ceil("s").strftime("%Y-%m-%d %H:%M:%S")  # none after it
    manifest["period"] = period
    reason = f"a dataset folder ({', '.join(FILES.values())} and manifest.json)"
    if len(report) or "data_quality" in manifest or manifest.get("source") != "generator":
        manifest["data_quality"] = report.to_data()
        manifest.setdefault("file", folder.name)
        manifest.setdefault("reason", reason)
        manifest["rows"] = {**manifest.get("rows", {}), "source": checker.source_rows,
                            "tickets": len(dataset.tickets), "escalation_events": len(dataset.escalation_events),
                            "dropped": checker.source_rows - len(dataset.tickets)}
    dataset = Dataset(tickets=dataset.tickets, accounts=dataset.accounts, agents=dataset.agents,
                      escalation_events=dataset.escalation_events, manifest=manifest)
    return ImportResult(dataset=dataset, report=report, mapping="dataset folder", reason=reason)


class _FolderChecks:
    def __init__(self, folder: Path, dataset: Dataset, report: QualityReport,
                 bad_times: list[tuple[Path, str, np.ndarray, pd.Series]]):
        self.folder = folder
        self.report = report
        self.bad_times = bad_times
        self.tickets = dataset.tickets
        self.accounts = dataset.accounts
        self.agents = dataset.agents
        self.events = dataset.escalation_events
        self.manifest = dataset.manifest
        self.rows = np.arange(2, len(self.tickets) + 2, dtype=np.int64)  # the file's row numbers
        self.source_rows = len(self.tickets)
        self.status_text = self.tickets["status"]  # as the file holds it, for examples
        self.changed_times = False

    def run(self) -> Dataset:
        self._unreadable_times()
        if self.manifest.get("source") != "generator":  # generated data may lie in the future
            self._implausible_times()
        self._drop_tickets(self.tickets["created_at"].isna().to_numpy())
        self._duplicates()
        self._closed_vocabularies()
        self._order()
        self._reconcile()
        self._fold()
        self._unknown_event_tickets()
        return Dataset(tickets=self.tickets, accounts=self.accounts, agents=self.agents,
                       escalation_events=self.events, manifest=self.manifest)

    # ---------------------------------------------------------------- helpers
    def _examples(self, mask: np.ndarray, column: str, values: pd.Series, rows: np.ndarray):
        at = np.flatnonzero(mask)[:MAX_EXAMPLES]
        return [(int(rows[i]), column, "" if pd.isna(v) else str(v)) for i, v in zip(at, values.iloc[at])]

    def _set_tickets(self, column: str, values) -> None:
        frame = self.tickets.copy()
        frame[column] = values
        self.tickets = frame

    def _drop_tickets(self, drop: np.ndarray) -> None:
        if drop.any():
            self.tickets = self.tickets[~drop].reset_index(drop=True)
            self.status_text = self.status_text[~drop].reset_index(drop=True)
            self.rows = self.rows[~drop]

    # ---------------------------------------------------------------- timestamps
    def _unreadable_times(self) -> None:
        for path, column, bad, text in self.bad_times:
            table = next(name for name, file in FILES.items() if file == path.name)
            where = f"{path.name}: {column}"
            detail = {"tickets": ("the row is dropped: a ticket needs its created time" if column == "created_at"
                                  else "kept as missing"),
                      "escalation_events": "the event is dropped",
                      }.get(table, "kept as missing")
            rows = np.arange(2, len(bad) + 2)
            self.report.add("unparseable date", "warning", int(bad.sum()), column=where,
                            detail=f"not an ISO 8601 timestamp; {detail}",
                            examples=self._examples(bad, column, text, rows))
            if table == "escalation_events":
                self.events = self.events[~bad].reset_index(drop=True)

    def _implausible_times(self) -> None:
        latest = latest_plausible(self.folder / FILES["tickets"])
        for column in ("created_at", "first_response_at", "resolved_at"):
            values = self.tickets[column].to_numpy(dtype="datetime64[ns]")
            odd = implausible(values, latest)
            if not odd.any():
                continue
            action = ("the row is dropped: a ticket needs its created time" if column == "created_at"
                      else "kept as missing")
            self.report.add("implausible date", "warning", int(odd.sum()), column=f"tickets.csv: {column}",
                            detail=implausible_detail(action),
                            examples=self._examples(odd, column, self.tickets[column], self.rows))
            values = values.copy()
            values[odd] = NAT
            self._set_tickets(column, values)
            self.changed_times = True
        stamps = self.events["timestamp"].to_numpy(dtype="datetime64[ns]")
        odd = implausible(stamps, latest)
        if odd.any():
            self.report.add("implausible date", "warning", int(odd.sum()), column="escalation_events.csv: timestamp",
                            detail=implausible_detail("the event is dropped"),
                            examples=self._examples(odd, "timestamp", self.events["timestamp"],
                                                    np.arange(2, len(odd) + 2)))
            self.events = self.events[~odd].reset_index(drop=True)
            self.changed_times = True

    # ---------------------------------------------------------------- tickets
    def _duplicates(self) -> None:
        repeated = self.tickets["ticket_id"].duplicated(keep="last").to_numpy()
        if repeated.any():
            self.report.add("duplicate ticket id", "warning", int(repeated.sum()), column="tickets.csv: ticket_id",
                            detail="the last row of each ticket is kept",
                            examples=self._examples(repeated, "ticket_id", self.tickets["ticket_id"], self.rows))
            self._drop_tickets(repeated)

    def _closed_vocabularies(self) -> None:
        """Status, priority and tier onto their canonical spelling (any case); unknown values
        reported: a status is then derived from the timestamps, a priority is Unknown, a tier Tier 1."""
        for column, vocabulary, fill, detail in (
            ("status", STATUSES, None, "status derived from the resolved time"),
            ("priority", PRIORITIES, UNKNOWN, f'set to "{UNKNOWN}"'),
            ("escalation_tier", TIERS, "Tier 1", "treated as Tier 1"),
        ):
            values = self.tickets[column]
            known = {normalise(v): v for v in vocabulary}
            if column == "priority":
                known[normalise(UNKNOWN)] = UNKNOWN
            codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
            spellings = uniques.tolist()
            mapped = np.array([known.get(normalise(u)) for u in spellings] + [None], dtype=object)
            # per distinct value, then spread to the rows (code -1, a missing value, picks the last entry)
            unknown = np.array([m is None for m in mapped[:-1].tolist()] + [False], dtype=bool)[codes]
            respelled = np.array([m != u for m, u in zip(mapped[:-1].tolist(), spellings)] + [True], dtype=bool)[codes]
            self.report.add("unknown value", "warning", int(unknown.sum()), column=f"tickets.csv: {column}",
                            detail=detail, examples=self._examples(unknown, column, values, self.rows))
            result = mapped[codes]
            if fill is not None:
                result[pd.isna(result)] = fill
            if respelled.any():
                self._set_tickets(column, pd.Series(result, dtype=object if fill is None else str))

    def _order(self) -> None:
        created = self.tickets["created_at"]
        for column, kind in (("resolved_at", "resolved before created"),
                             ("first_response_at", "first response before created")):
            early = (self.tickets[column] < created).to_numpy()
            if early.any():
                self.report.add(kind, "warning", int(early.sum()), column=f"tickets.csv: {column}",
                                detail=f"{column.replace('_at', '').replace('_', ' ')} time dropped",
                                examples=self._examples(early, column, self.tickets[column], self.rows))
                values = self.tickets[column].to_numpy(dtype="datetime64[ns]").copy()
                values[early] = NAT
                self._set_tickets(column, values)

    def _reconcile(self) -> None:
        status = self.tickets["status"].to_numpy(dtype=object)
        status = np.where(pd.isna(status), None, status)
        r = reconcile_status(status, self.tickets["created_at"].to_numpy(dtype="datetime64[ns]"),
                             self.tickets["resolved_at"].to_numpy(dtype="datetime64[ns]"))
        report_reconciled(self.report, r, column="status", where="tickets.csv: status", rows=self.rows,
                          text_at=lambda at: ["" if pd.isna(v) else str(v) for v in self.status_text.iloc[at]])
        if (r.status != self.tickets["status"].to_numpy(dtype=object)).any():
            self._set_tickets("status", pd.Series(r.status, dtype=str))

    # ---------------------------------------------------------------- spellings
    def _fold(self) -> None:
        for column in FOLDED_TICKET_FIELDS:
            self.tickets = self._fold_column(self.tickets, "tickets", column, self.rows)
        for key, table, column in SHARED_SPELLINGS:
            self._fold_shared(key, table, column)
        for column in FOLDED_ACCOUNT_FIELDS:
            self.accounts = self._fold_column(self.accounts, "accounts", column,
                                              np.arange(2, len(self.accounts) + 2))
        for column in FOLDED_AGENT_FIELDS:
            self.agents = self._fold_column(self.agents, "agents", column, np.arange(2, len(self.agents) + 2))
        if not self.accounts["account_id"].is_unique:
            self.accounts = self.accounts.drop_duplicates("account_id").reset_index(drop=True)

    def _fold_column(self, frame: pd.DataFrame, table: str, column: str, rows: np.ndarray) -> pd.DataFrame:
        values = frame[column]
        folded = fold_spellings(values.to_numpy(dtype=object))
        report_folds(self.report, folded, column=column, where=f"{FILES[table]}: {column}", rows=rows,
                     text_at=lambda at: [str(values.iloc[i]) for i in at.tolist()])
        if not folded.changed.any():
            return frame
        frame = frame.copy()
        frame[column] = pd.Series(folded.values, index=frame.index).astype(values.dtype)
        return frame

    def _fold_shared(self, key: str, table: str, column: str) -> None:
        """A ticket column and the column of another table naming the same things (accounts,
        agents, teams), folded as one so the two keep matching."""
        other = getattr(self, table)
        n = len(self.tickets)
        both = pd.Series(np.concatenate([self.tickets[key].to_numpy(dtype=object),
                                         other[column].to_numpy(dtype=object)]), dtype=object)
        folded = fold_spellings(both.to_numpy())
        if not folded.changed.any():
            return
        for part, file, name, rows in ((slice(0, n), FILES["tickets"], key, self.rows),
                                       (slice(n, None), FILES[table], column, np.arange(2, len(other) + 2))):
            text = both.iloc[part]
            report_folds(self.report, Folded(folded.values[part], folded.changed[part], folded.groups),
                         column=name, where=f"{file}: {name}", rows=rows,
                         text_at=lambda at, text=text: [str(v) for v in text.iloc[at]])
        tickets = self.tickets.copy()
        tickets[key] = pd.Series(folded.values[:n]).astype(self.tickets[key].dtype)
        self.tickets = tickets
        other = other.copy()
        other[column] = pd.Series(folded.values[n:], index=other.index).astype(other[column].dtype)
        setattr(self, table, other)

    # ---------------------------------------------------------------- events
    def _unknown_event_tickets(self) -> None:
        unknown = ~self.events["ticket_id"].isin(self.tickets["ticket_id"]).to_numpy()
        if unknown.any():
            self.report.add("event of an unknown ticket", "warning", int(unknown.sum()),
                            column="escalation_events.csv: ticket_id",
                            detail="no ticket of that id is kept from tickets.csv; the event is dropped",
                            examples=self._examples(unknown, "ticket_id", self.events["ticket_id"],
                                                    np.arange(2, len(unknown) + 2)))
            self.events = self.events[~unknown].reset_index(drop=True)
