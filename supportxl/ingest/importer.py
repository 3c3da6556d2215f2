"""``load_export``: a helpdesk export file in, the canonical Dataset and a quality report out.

The flow, every step vectorised over whole columns:

1. open the file and read its header row (``readers``);
2. choose the mapping: the given one, or the built-in mapping whose columns the headers
   match best (``mapping.rank``); a missing required column is a fatal error;
3. read only the mapped columns, as text, and parse them (``parse``): timestamps, durations,
   counts and value maps, each problem becoming a finding with example rows;
4. drop empty rows and rows without a ticket id or created time; collapse an audit-style
   export (several rows per ticket) to one row per ticket, keeping the rows as events and,
   with the mapping's [history] table, their states as the status history (``history``), or
   keep the last row of a repeated ticket id;
5. fill what the export states only as durations (first response, resolution), check the
   order of the timestamps, reconcile status with them (``checks.reconcile_status``: the
   timestamps decide), fold spellings of category values, derive escalation, and build
   tickets, accounts, agents, escalation events and the manifest.

Timestamps are converted to UTC as they are parsed: the canonical tables hold naive UTC
times, and the manifest records the zone the report shows them in (``timezone``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from supportxl import __version__
from supportxl.dataset import (EVENT_COLUMNS, STATED_BUSINESS_HOURS, TICKET_COLUMNS, Dataset,
                               empty_status_changes)
from supportxl.errors import SupportxlError
from supportxl.ingest.checks import (fold_spellings, implausible, implausible_detail,
                                     latest_moment, latest_plausible, parse_as_of, period_days,
                                     reconcile_status, report_folds, report_missing_fields,
                                     report_reconciled)
from supportxl.ingest.classify import DESCRIPTION, classify_untyped
from supportxl.ingest.history import status_history
from supportxl.ingest.mapping import (BUILTIN, COUNT_FIELDS, FIELDS, PRIORITIES, TIERS, TIMESTAMP_FIELDS,
                                      Mapping, Match, check_zone, describe_expected, load_mapping, match,
                                      normalise, rank)
from supportxl.ingest.parse import (Column, absurd_durations, lookup_for, map_values, parse_counts,
                                    parse_durations, parse_timestamps)
from supportxl.ingest.readers import Source, Table, open_source
from supportxl.ingest.report import QualityReport, shorten
from supportxl.ingest.waits import stated_durations
from supportxl.schema import CLOSED_STATUSES, OPEN_STATUSES, OPTIONAL_FIELDS, STATUSES

UNKNOWN = "Unknown"
UNASSIGNED = "Unassigned"
CHANNELS = ("Email", "Web", "Chat", "Phone", "Social")
# Open vocabularies whose spellings are folded (the closed ones are mapped onto one spelling).
FOLDED_FIELDS = ("channel", "issue_type", "team", "agent", "account_id", "account_name")
BOOLEAN_WORDS = {"true": "true", "yes": "true", "y": "true", "1": "true", "x": "true",
                 "false": "false", "no": "false", "n": "false", "0": "false"}
MAX_HEADERS_SHOWN = 30
SECOND = np.timedelta64(1, "s")


@dataclass(frozen=True)
class ImportResult:
    """What ``load_export`` produced: the canonical tables, the findings, and which mapping
    read the file and why."""

    dataset: Dataset
    report: QualityReport
    mapping: str
    reason: str


def load_export(path: str | Path, mapping: str | Path = "auto", *, timezone: str | None = None,
                sheet: str | None = None, strict: bool = False, redact: bool = False,
                as_of: str | None = None) -> ImportResult:
    """Read a helpdesk export (CSV, XLSX or JSON) into the canonical tables.

    ``mapping`` is "auto", a built-in mapping name or a path to a .toml mapping file;
    ``timezone`` overrides the zone the mapping says the export's naive timestamps are
    written in (it is also the zone the report shows times in); ``sheet`` picks an XLSX sheet
    (default: the first); ``strict`` makes unknown values of status, priority, CSAT and tier
    fatal; ``redact`` replaces requester names and e-mail addresses with pseudonyms and drops
    subjects and descriptions; ``as_of`` ("YYYY-MM-DD[ HH:MM[:SS]]" in that zone) is the moment
    the report describes, by default the latest timestamp in the data. Raises SupportxlError for a file
    that cannot be used; every lesser problem is a finding in ``result.report``.
    """
    path = Path(path)
    if timezone is not None:
        check_zone(timezone)
    source = open_source(path, sheet)
    chosen, reason = choose_mapping(source, mapping)
    zone = timezone or chosen.mapping.timezone
    importer = _Importer(source, chosen, zone=zone, strict=strict, redact=redact,
                         as_of=parse_as_of(as_of, zone) if as_of is not None else None)
    dataset = importer.run()
    dataset.manifest["reason"] = reason
    return ImportResult(dataset=dataset, report=importer.report, mapping=chosen.mapping.name, reason=reason)


# ------------------------------------------------------------------------- choosing a mapping

def choose_mapping(source: Source, mapping: str | Path) -> tuple[Match, str]:
    headers = source.headers
    if str(mapping) == "auto":
        ranked = rank(headers)
        best = ranked[0]
        if not best.ok:
            raise SupportxlError(_auto_failure(source.path, headers, ranked))
        return best, f"{best.mapping.name}, recognised from the headers: {_found(best, headers)}"
    chosen = match(load_mapping(mapping), headers)
    if not chosen.ok:
        raise SupportxlError(_missing_columns(source.path, headers, chosen))
    return chosen, f"{chosen.mapping.name}, as given: {_found(chosen, headers)}"


def _found(m: Match, headers: list[str]) -> str:
    names = m.found_headers(headers)
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"{m.found} of {m.mapping.declared} mapped columns found: {shown}"


def _headers_text(headers: list[str]) -> str:
    shown = [shorten(h)[:40] if h.strip() else "(blank)" for h in headers[:MAX_HEADERS_SHOWN]]
    more = len(headers) - MAX_HEADERS_SHOWN
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")


def _closest(headers: list[str], exclude: str = "") -> Match | None:
    ranked = [m for m in rank(headers) if m.mapping.name != exclude and m.found > 0]
    return ranked[0] if ranked else None


def _missing_columns(path: Path, headers: list[str], m: Match) -> str:
    name = m.mapping.name
    text = (f"{path}: missing required columns for the {name} mapping: {describe_expected(m)}. "
            f"Found headers: {_headers_text(headers)}.")
    closest = _closest(headers, exclude=name)
    if closest is None:
        return text + (" No built-in mapping recognises these headers; write a mapping file "
                       "(TOML, like the built-in ones) that names the columns.")
    text += (f" The closest built-in mapping by header overlap is {closest.mapping.name} "
             f"({closest.found} of {closest.mapping.declared} columns found)")
    return text + (", which finds every column it needs." if closest.ok else ".")


def _auto_failure(path: Path, headers: list[str], ranked: list[Match]) -> str:
    closest = _closest(headers)
    if closest is None:
        return (f"{path}: cannot tell which helpdesk this export comes from: no built-in mapping "
                f"({', '.join(BUILTIN)}) recognises any of its headers. Found headers: "
                f"{_headers_text(headers)}. Write a mapping file (TOML, like the built-in ones) "
                f"that names the columns.")
    return (f"{path}: cannot tell which helpdesk this export comes from: no built-in mapping finds "
            f"all its required columns. The closest by header overlap is {closest.mapping.name} "
            f"({closest.found} of {closest.mapping.declared} columns found), which is missing "
            f"{describe_expected(closest)}. Found headers: {_headers_text(headers)}. Name the "
            f"mapping, or write a mapping file that names the columns.")


# --------------------------------------------------------------------------------- the import

class _Importer:
    def __init__(self, source: Source, chosen: Match, *, zone: str, strict: bool, redact: bool,
                 as_of: pd.Timestamp | None = None):
        self.source = source
        self.path = source.path
        self.match = chosen
        self.m: Mapping = chosen.mapping
        self.zone = zone
        self.strict = strict
        self.redact = redact
        self.as_of = as_of
        self.latest_plausible = latest_plausible(source.path)
        self.report = QualityReport()
        self.audit = False
        self.source_rows = 0
        self.rows_kept = 0
        self._rows = np.zeros(0, dtype=np.int64)  # source row numbers of the rows being parsed
        self._source_columns: dict[str, Column] = {}  # the source columns, for examples as in the file
        self._unknown: list[tuple[str, Column, np.ndarray]] = []  # closed fields with unknown values
        self.status_changes = empty_status_changes()  # read from an audit export's update rows

    # ---------------------------------------------------------------- steps
    def run(self) -> Dataset:
        self._header_findings()
        table = self.source.read(self.match.used_positions())
        self.source_rows = len(table) + table.malformed_count
        self.report.add("malformed row", "warning", table.malformed_count, detail="the row is dropped",
                        examples=[(line, "", what) for line, what in table.malformed])
        columns, durations, rows = self._columns(table)
        work = self._parse(columns, durations, rows)
        self._raise_if_fatal()
        work = self._drop_unusable(work, columns)
        work = self._ids(work)
        events = self._empty_events()
        if self._is_audit(work):
            work, events = self._collapse(work)
        else:
            work = self._dedupe(work)
        work = self._fill_from_durations(work)
        work = self._check_order(work)
        work = self._reconcile(work)
        work = self._fold(work)
        tickets = self._tickets(work)
        tickets = classify_untyped(tickets, work["_row"].to_numpy(), self.report)
        if self.redact:
            tickets = _redact(tickets)
        missing = self._missing_fields(work)
        report_missing_fields(self.report, missing)
        accounts = _accounts(tickets, work)
        agents = _agents(tickets)
        events = events.astype({"ticket_id": tickets["ticket_id"].dtype})
        changes = self.status_changes.astype({"ticket_id": tickets["ticket_id"].dtype})
        latest = latest_moment(*(work[k] for k in TIMESTAMP_FIELDS if k in work), events["timestamp"])
        return Dataset(tickets=tickets, accounts=accounts, agents=agents, escalation_events=events,
                       status_changes=changes,
                       manifest=self._manifest(tickets, accounts, agents, events, changes, latest, missing))

    def _header_findings(self) -> None:
        headers = self.source.headers
        used = set(self.match.used_positions())
        first: dict[str, int] = {}
        repeated, ignored = [], []
        for position, header in enumerate(headers):
            key = normalise(header)
            if key in first and key:
                repeated.append(position)
            else:
                first.setdefault(key, position)
                if position not in used:
                    ignored.append(position)
        name = self.m.name
        for positions, detail in (
            (ignored, f"not used by the {name} mapping"),
            (repeated, "repeated header name: the first column of that name is used"),
        ):
            if positions:
                names = [headers[p] if headers[p].strip() else f"(blank, column {p + 1})" for p in positions]
                listed = ", ".join(names[:15]) + (f" and {len(names) - 15:,} more" if len(names) > 15 else "")
                self.report.add("ignored column", "info", len(positions), unit="column",
                                detail=f"{detail}: {listed}",
                                examples=[(1, headers[p], "") for p in positions])

    def _columns(self, table: Table) -> tuple[dict[str, Column], dict[str, Column], np.ndarray]:
        headers = self.source.headers
        columns = {f: Column.from_text(headers[p], table.columns[p], self.m.missing)
                   for f, p in self.match.fields.items()}
        durations = {n: Column.from_text(headers[p], table.columns[p], self.m.missing)
                     for n, p in self.match.durations.items()}
        rows = table.rows
        if len(rows) == 0:
            raise SupportxlError(f"{self.path}: has a header row but no ticket rows.")
        present = np.zeros(len(rows), dtype=bool)
        for column in (*columns.values(), *durations.values()):
            present |= column.present
        empty = ~present
        self.report.add_rows("empty row", "info", empty, rows, detail="no value in any mapped column; dropped")
        if empty.all():
            raise SupportxlError(f"{self.path}: holds no tickets: all {len(rows):,} rows are empty "
                                 f"in the columns the {self.m.name} mapping reads.")
        if empty.any():
            keep = ~empty
            columns = {f: c.subset(keep) for f, c in columns.items()}
            durations = {n: c.subset(keep) for n, c in durations.items()}
            rows = rows[keep]
        return columns, durations, rows

    def _parse(self, columns: dict[str, Column], durations: dict[str, Column], rows: np.ndarray) -> pd.DataFrame:
        m = self.m
        self._rows = rows
        self._source_columns = columns
        work: dict[str, object] = {"_row": rows, "_at": np.arange(len(rows))}
        work["ticket_id"] = columns["ticket_id"].text()

        for key in TIMESTAMP_FIELDS:
            if key not in columns:
                continue
            column = columns[key]
            parsed = parse_timestamps(column, m.date_formats, self.zone)
            detail = ("the row is dropped: a ticket needs its created time" if key == "created_at"
                      else "kept as missing")
            self._flag("unparseable date", "warning", parsed.bad, column, detail)
            values = parsed.values
            odd = implausible(values, self.latest_plausible)
            self._flag("implausible date", "warning", odd, column,
                       implausible_detail(detail))
            values[odd] = np.datetime64("NaT", "ns")
            work[key] = values

        for name, column in durations.items():
            spec = m.durations[name]
            parsed = parse_durations(column, spec.unit)
            self._flag("unparseable duration", "warning", parsed.bad, column, f"expected {spec.unit}; kept as missing")
            hours = parsed.values
            absurd = absurd_durations(hours, spec.signed) & ~np.isnan(hours)
            self._flag("negative or absurd duration", "warning", absurd, column,
                       "negative or over 5 years; kept as missing")
            hours = np.where(absurd, np.nan, hours)
            work[f"_duration_{name}"] = hours

        for key in COUNT_FIELDS:
            if key in columns:
                column = columns[key]
                parsed = parse_counts(column)
                self._flag("unparseable number", "warning", parsed.bad, column,
                           "expected a whole number; kept as missing")
                work[key] = parsed.values

        closed = {
            "status": (lookup_for(m.value_map("status"), STATUSES),
                       "status derived from the resolved time"),
            "priority": (lookup_for(m.value_map("priority"), PRIORITIES), f'set to "{UNKNOWN}"'),
            "csat": (lookup_for(m.value_map("csat"), (), numeric_range=(1, 5)), "kept as not rated"),
            "escalation_tier": (lookup_for(m.value_map("escalation_tier"), TIERS), "treated as Tier 1"),
            "escalated": (lookup_for({**BOOLEAN_WORDS, **m.value_map("escalated")}), "treated as not escalated"),
        }
        for key, (lookup, detail) in closed.items():
            if key not in columns:
                continue
            column = columns[key]
            parsed = map_values(column, lookup)
            severity = "fatal" if self.strict else "warning"
            finding = self._flag("unknown value", severity, parsed.bad, column, detail)
            if finding is not None:
                self._unknown.append((key, column, parsed.bad))
            values = parsed.values
            if key == "csat":
                values = np.where(values == "", None, values)
            work[key] = values
        if "status" in columns:
            state = columns["status"]
            work["_state"] = state.spread(np.array([normalise(u) for u in state.uniques.tolist()], dtype=object), None)

        for key in ("channel", "issue_type", "team"):
            if key not in columns:
                continue
            column = columns[key]
            table = m.value_map(key)
            canonical = CHANNELS if key == "channel" else ()
            parsed = map_values(column, lookup_for(table, canonical))
            if table:
                self._flag("unknown value", "info", parsed.bad, column, "not in the mapping's value map; kept as is")
            work[key] = np.where(parsed.bad, column.text(), parsed.values) if parsed.bad.any() else parsed.values

        for key in ("agent", "account_id", "account_name", "requester_name", "requester_email", "subject",
                    "description"):
            if key in columns:
                work[key] = columns[key].text()
        return pd.DataFrame(work)

    def _flag(self, kind: str, severity: str, mask: np.ndarray, column: Column, detail: str):
        """A finding about the rows of ``column`` where ``mask`` holds, with their values."""
        if not mask.any():
            return None
        at, texts = column.examples(mask)
        examples = [(int(self._rows[i]), column.header, text) for i, text in zip(at.tolist(), texts)]
        return self.report.add(kind, severity, int(mask.sum()), column=column.header, detail=detail,
                               examples=examples)

    def _raise_if_fatal(self) -> None:
        if not self.report.fatal:
            return
        parts = []
        for key, column, bad in self._unknown:
            (at,), (text,) = column.examples(bad, limit=1)
            count = int(bad.sum())
            parts.append((int(self._rows[at]),
                          f"row {int(self._rows[at]):,}, column {column.header}: '{shorten(text)}' is not a "
                          f"{FIELDS[key]} the {self.m.name} mapping knows ({count:,} "
                          f"{'row' if count == 1 else 'rows'} in all; known: {self._known_values(key)})"))
        raise SupportxlError(
            f"{self.path}: unknown values in a strict import: "
            + "; ".join(text for _, text in sorted(parts))
            + ". Add them to the [values] table of a mapping file, or import without strict mode "
              "(they become findings).")

    def _known_values(self, key: str) -> str:
        canonical = {"status": STATUSES, "priority": PRIORITIES, "escalation_tier": TIERS,
                     "csat": ("1", "2", "3", "4", "5"), "escalated": ("true", "false")}[key]
        names: dict[str, str] = {}
        for name in (*canonical, *self.m.values.get(key, {})):
            names.setdefault(normalise(name), name)
        listed = list(names.values())
        return ", ".join(listed[:16]) + (", ..." if len(listed) > 16 else "")

    def _drop_unusable(self, work: pd.DataFrame, columns: dict[str, Column]) -> pd.DataFrame:
        rows = work["_row"].to_numpy()
        no_id = work["ticket_id"].isna().to_numpy()
        self.report.add_rows("missing ticket id", "warning", no_id, rows,
                             column=columns["ticket_id"].header, detail="the row is dropped")
        no_created = ~columns["created_at"].present & ~no_id
        self.report.add_rows("missing created date", "warning", no_created, rows,
                             column=columns["created_at"].header, detail="the row is dropped")
        keep = ~no_id & ~np.isnat(work["created_at"].to_numpy())
        if not keep.any():
            problems = "; ".join(f.line() for f in self.report.findings if f.severity == "warning")
            raise SupportxlError(f"{self.path}: no usable tickets: every row lacks a ticket id or a "
                                 f"readable created time ({problems}).")
        return work[keep].reset_index(drop=True)

    def _ids(self, work: pd.DataFrame) -> pd.DataFrame:
        ids = work["ticket_id"].astype(object)
        if ids.str.fullmatch(r"\d{1,18}").all():
            work["ticket_id"] = ids.astype(np.int64)
        else:
            work["ticket_id"] = ids.astype(str)
        return work

    def _is_audit(self, work: pd.DataFrame) -> bool:
        m = self.m
        return bool(m.group_by and m.order_by and m.order_by in work and m.group_by in work
                    and work[m.group_by].duplicated().any())

    def _dedupe(self, work: pd.DataFrame) -> pd.DataFrame:
        repeated = work["ticket_id"].duplicated(keep="last").to_numpy()
        self.rows_kept = int((~repeated).sum())
        header = self.source.headers[self.match.fields["ticket_id"]]
        self.report.add_rows("duplicate ticket id", "warning", repeated, work["_row"].to_numpy(),
                             column=header, values=work["ticket_id"].to_numpy(dtype=object),
                             detail="the last row of each ticket is kept")
        return work[~repeated].reset_index(drop=True) if repeated.any() else work

    # ---------------------------------------------------------------- audit-style exports
    def _collapse(self, work: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """One row per ticket (its final state) from several rows per ticket, and the rows
        as the event log."""
        m = self.m
        self.audit = True
        n_rows = self.rows_kept = len(work)
        key = pd.factorize(work[m.group_by])[0]
        moment = work[m.order_by].fillna(work["created_at"])
        work = work.assign(_key=key, _t=moment, _pos=np.arange(n_rows))
        work = work.sort_values(["_key", "_t", "_pos"], kind="stable").reset_index(drop=True)
        key = work["_key"]
        by = work.groupby("_key", sort=True)
        status = work["status"] if "status" in work else pd.Series(None, index=work.index, dtype=object)
        resolved_row = status.isin(CLOSED_STATUSES)
        open_row = status.isin(OPEN_STATUSES)

        final = by.last()
        final["created_at"] = by["created_at"].min()
        if "_state" in work:
            first_state = by["_state"].transform("first")
            changed = work["_state"].notna() & work["_state"].ne(first_state)
            from_states = work["_t"].where(changed).groupby(key).min()
            final["first_response_at"] = (final["first_response_at"].fillna(from_states)
                                          if "first_response_at" in final else from_states)
            last_open = work["_t"].where(open_row).groupby(key).transform("max")
            solved = work["_t"].where(resolved_row & ~(work["_t"] < last_open)).groupby(key).min()
            solved = solved.where(final["status"].isin(CLOSED_STATUSES))
            final["resolved_at"] = (by["resolved_at"].last().fillna(solved)
                                    if "resolved_at" in work else solved)
            if "reopen_count" not in work:
                reopened = open_row & resolved_row.groupby(key).shift(fill_value=False).astype(bool)
                final["reopen_count"] = reopened.groupby(key).sum().astype(float)
        team = work["team"] if "team" in work else pd.Series(None, index=work.index, dtype=object)
        previous_team = team.groupby(key).shift()
        handed_over = team.notna() & previous_team.notna() & team.ne(previous_team)
        if "reassignment_count" in work:
            final["reassignment_count"] = by["reassignment_count"].max()
        else:
            final["reassignment_count"] = handed_over.groupby(key).sum().astype(float)
        final = final.reset_index(drop=True)
        final = final.drop(columns=[c for c in ("_t", "_pos", m.order_by) if c in final.columns])
        self.report.add("audit export", "info", n_rows,
                        detail=f"{n_rows:,} update rows collapsed into {len(final):,} tickets "
                               f"(each ticket's final state); the updates are kept as the escalation log")
        if m.history and "_state" in work:
            self._read_history(work, final["ticket_id"].to_numpy()[key.to_numpy()])
        return final, self._audit_events(work, key, handed_over, final)

    def _read_history(self, work: pd.DataFrame, ids: np.ndarray) -> None:
        """The status changes of the update rows (sorted by ticket and time), by the mapping's
        [history] table; rows in states it does not list are reported and add no change."""
        table = {normalise(state): status for state, status in self.m.history.items()}
        history = status_history(ids, work["_t"], work["_state"], table)
        self.status_changes = history.changes
        unknown = history.unknown
        if unknown.any():
            at = np.flatnonzero(unknown)
            texts = self._text_at("status", work, at)
            rows = work["_row"].to_numpy()[at]
            order = np.argsort(rows, kind="stable")  # examples in the file's order
            header = self._header("status")
            self.report.add("unknown history state", "warning", len(at), column=header,
                            detail=f"not in the {self.m.name} mapping's [history] table: the row adds no "
                                   f"status change",
                            examples=[(int(rows[i]), header, texts[i]) for i in order])
        changes = self.status_changes
        self.report.add("status history", "info", len(changes), unit="change",
                        detail=f"of {changes['ticket_id'].nunique():,} tickets, read from the update rows; "
                               f"time in status is counted from them")

    def _audit_events(self, work: pd.DataFrame, key: pd.Series, handed_over: pd.Series,
                      final: pd.DataFrame) -> pd.DataFrame:
        level = handed_over.astype(np.int64).groupby(key).cumsum().clip(upper=1).to_numpy()
        if "escalation_tier" in work:
            tier_level = work["escalation_tier"].map({t: i for i, t in enumerate(TIERS)})
            level = tier_level.fillna(pd.Series(level, index=work.index)).to_numpy(dtype=np.int64)
        tiers = np.array(TIERS, dtype=object)
        step = work.groupby("_key").cumcount().to_numpy() + 1
        stakeholder = tiers[level]
        previous_level = pd.Series(level).groupby(key).shift().to_numpy(dtype=float)
        escalation = (step > 1) & (level > np.nan_to_num(previous_level, nan=level.astype(float)))
        activities = {normalise(k): v for k, v in self.m.activities.items()}
        state = work["_state"] if "_state" in work else pd.Series(None, index=work.index, dtype=object)
        activity = state.map(activities).to_numpy(dtype=object, copy=True)  # NaN where none is named
        activity[pd.isna(activity)] = "Review & Analysis"
        first = step == 1
        activity[first] = "Initial Submission"
        stakeholder = np.where(first, "Customer", stakeholder).astype(object)
        activity[escalation] = "Escalation"
        prev_tier = tiers[np.nan_to_num(previous_level, nan=0).astype(np.int64)]
        stakeholder[escalation] = prev_tier[escalation]
        following = pd.Series(stakeholder).groupby(key).shift(-1)
        counterpart = following.fillna("Customer").to_numpy(dtype=object)
        counterpart[escalation] = tiers[level][escalation]
        ids = final["ticket_id"].to_numpy()[key.to_numpy()]
        events = pd.DataFrame({
            "ticket_id": ids, "step": step.astype(np.int64),
            "timestamp": work["_t"].to_numpy(dtype="datetime64[ns]"),
            "stakeholder": stakeholder, "counterpart": counterpart, "activity": activity,
        })
        events = events[events["timestamp"].notna()].reset_index(drop=True)
        events["step"] = events.groupby("ticket_id", sort=False).cumcount().astype(np.int64) + 1
        for column in ("stakeholder", "counterpart", "activity"):
            events[column] = events[column].astype(str)
        return events[list(EVENT_COLUMNS)]

    @staticmethod
    def _empty_events() -> pd.DataFrame:
        return pd.DataFrame({
            "ticket_id": pd.Series([], dtype=np.int64), "step": pd.Series([], dtype=np.int64),
            "timestamp": pd.Series([], dtype="datetime64[ns]"),
            "stakeholder": pd.Series([], dtype=str), "counterpart": pd.Series([], dtype=str),
            "activity": pd.Series([], dtype=str),
        })

    # ---------------------------------------------------------------- timestamps
    def _fill_from_durations(self, work: pd.DataFrame) -> pd.DataFrame:
        created = work["created_at"].to_numpy(dtype="datetime64[ns]")
        status = work["status"] if "status" in work else None
        for measure, target in (("first_response", "first_response_at"), ("resolution", "resolved_at")):
            current = (work[target].to_numpy(dtype="datetime64[ns]") if target in work
                       else np.full(len(work), np.datetime64("NaT", "ns")))
            for name, spec in self.m.durations.items():
                column = f"_duration_{name}"
                if spec.measures != measure or spec.business_hours or column not in work:
                    continue
                hours = work[column].to_numpy(dtype=float)
                usable = np.isnat(current) & ~np.isnan(hours) & (hours >= 0)
                if measure == "resolution" and status is not None:
                    usable &= ~status.isin(OPEN_STATUSES).to_numpy()
                seconds = np.round(np.where(usable, hours, 0) * 3600).astype(np.int64)
                current = np.where(usable, created + seconds * SECOND, current)
            work[target] = current.astype("datetime64[ns]")
        return work

    def _check_order(self, work: pd.DataFrame) -> pd.DataFrame:
        created = work["created_at"]
        rows = work["_row"].to_numpy()
        for key, kind in (("resolved_at", "resolved before created"),
                          ("first_response_at", "first response before created"),
                          ("closed_at", "closed before created")):
            if key not in work:
                continue
            early = (work[key] < created).to_numpy()
            if early.any():
                position = self.match.fields.get(key, self.match.fields["created_at"])
                header = self.source.headers[position]
                # the time as the file wrote it, or as computed from a stated duration
                shown = work[key].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
                if key in self._source_columns:
                    at = np.flatnonzero(early)
                    written = np.array(self._text_at(key, work, at), dtype=object)
                    shown[at] = np.where(written != "", written, shown[at])
                self.report.add_rows(kind, "warning", early, rows, column=header, values=shown,
                                     detail=f"{key.replace('_at', '').replace('_', ' ')} time dropped")
                work.loc[early, key] = pd.NaT
        return work

    def _text_at(self, key: str, work: pd.DataFrame, positions: np.ndarray) -> list[str]:
        """The source text of field ``key`` in the given rows of ``work``, as the file holds it."""
        return self._source_columns[key].raw_at(work["_at"].to_numpy()[positions])

    def _header(self, key: str) -> str:
        return self._source_columns[key].header if key in self._source_columns else ""

    def _reconcile(self, work: pd.DataFrame) -> pd.DataFrame:
        """Status and resolved time made to agree (``checks.reconcile_status``), reported."""
        n = len(work)
        status = _column(work, "status", n)
        status = np.where(pd.isna(status), None, status)
        timestamps = {k: work[k].to_numpy(dtype="datetime64[ns]") for k in ("closed_at", "updated_at") if k in work}
        r = reconcile_status(status, work["created_at"].to_numpy(dtype="datetime64[ns]"),
                             work["resolved_at"].to_numpy(dtype="datetime64[ns]"),
                             timestamps.get("closed_at"), timestamps.get("updated_at"))
        if "status" in self._source_columns:
            report_reconciled(self.report, r, column=self._header("status"), rows=work["_row"].to_numpy(),
                              text_at=lambda at: self._text_at("status", work, at),
                              closed_label=self._header("closed_at"), updated_label=self._header("updated_at"))
        work["status"] = r.status
        work["resolved_at"] = r.resolved
        return work

    def _fold(self, work: pd.DataFrame) -> pd.DataFrame:
        """Spellings of category values that differ only in case or spacing made one."""
        rows = work["_row"].to_numpy()
        for key in FOLDED_FIELDS:
            if key not in work or key not in self._source_columns:
                continue
            folded = fold_spellings(work[key].to_numpy(dtype=object))
            report_folds(self.report, folded, column=self._header(key), rows=rows,
                         text_at=lambda at, key=key: self._text_at(key, work, at))
            if folded.changed.any():
                work[key] = folded.values
        return work

    # ---------------------------------------------------------------- tables
    def _tickets(self, work: pd.DataFrame) -> pd.DataFrame:
        n = len(work)
        status = work["status"].to_numpy(dtype=object)

        tier, escalated = self._escalation(work)

        csat = pd.to_numeric(pd.Series(_column(work, "csat", n), dtype=object), errors="coerce")
        account_id = _column(work, "account_id", n)
        account_id = np.where(pd.isna(account_id), _column(work, "account_name", n), account_id)

        tickets = pd.DataFrame({
            "ticket_id": work["ticket_id"].to_numpy(),
            "created_at": work["created_at"].to_numpy(dtype="datetime64[ns]"),
            "first_response_at": work["first_response_at"].to_numpy(dtype="datetime64[ns]"),
            "resolved_at": work["resolved_at"].to_numpy(dtype="datetime64[ns]"),
            "status": _text(status, UNKNOWN),
            "priority": _text(_column(work, "priority", n), UNKNOWN),
            "channel": _text(_column(work, "channel", n), UNKNOWN),
            "issue_type": _text(_column(work, "issue_type", n), UNKNOWN),
            "team": _text(_column(work, "team", n), UNKNOWN),
            "agent": _text(_column(work, "agent", n), UNASSIGNED),
            "account_id": _text(account_id, UNKNOWN),
            "requester_name": _text(_column(work, "requester_name", n), ""),
            "requester_email": _text(_column(work, "requester_email", n), ""),
            "subject": _text(_column(work, "subject", n), ""),
            "csat": pd.array(csat, dtype="Int64"),
            "escalated": escalated,
            "escalation_tier": pd.Series(tier, dtype=str),
            "reopen_count": _counts(work, "reopen_count"),
            "agent_replies": _counts(work, "agent_replies"),
        })
        business = {"first_response": STATED_BUSINESS_HOURS["first_response_at"],
                    "resolution": STATED_BUSINESS_HOURS["resolved_at"]}
        tickets = tickets.assign(**stated_durations(self.m.durations, work, business, business_hours=True))
        tickets = tickets.assign(**stated_durations(self.m.durations, work))
        if "description" in work:  # read by the classifier only: the workbook does not show it
            tickets[DESCRIPTION] = _text(work["description"].to_numpy(dtype=object), "")
        assert tuple(tickets.columns[:len(TICKET_COLUMNS)]) == TICKET_COLUMNS
        return tickets

    def _escalation(self, work: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        n = len(work)
        tiers = np.array(TIERS, dtype=object)
        if "escalation_tier" in work:
            tier = pd.Series(work["escalation_tier"], dtype=object).fillna("Tier 1").to_numpy(dtype=object)
            escalated = tier != "Tier 1"
            if "escalated" in work:
                flagged = (work["escalated"] == "true").to_numpy()
                tier = np.where(flagged & ~escalated, "Tier 2", tier)
                escalated = escalated | flagged
            return tier.astype(object), escalated.astype(bool)
        if "escalated" in work:
            escalated = (work["escalated"] == "true").to_numpy()
        elif "group_stations" in work:
            escalated = (work["group_stations"].fillna(0) > 1).to_numpy()
        elif "reassignment_count" in work:
            escalated = (work["reassignment_count"].fillna(0) > 0).to_numpy()
        else:
            escalated = np.zeros(n, dtype=bool)
        return np.where(escalated, tiers[1], tiers[0]).astype(object), escalated.astype(bool)

    def _missing_fields(self, work: pd.DataFrame) -> list[str]:
        """The canonical fields (``schema.OPTIONAL_FIELDS``) this export has no column for and
        cannot derive."""
        fields = self.match.fields
        stated = {self.m.durations[name].measures for name in self.match.durations}
        audit_states = self.audit and "status" in fields
        has = {
            "first_response_at": "first_response_at" in fields or "first_response" in stated or audit_states,
            "resolved_at": bool({"resolved_at", "closed_at"} & set(fields)) or "resolution" in stated
                           or audit_states,
            "reopen_count": "reopen_count" in fields or audit_states,
            "escalated": bool({"escalation_tier", "escalated", "group_stations", "reassignment_count"} & set(fields))
                         or (self.audit and "team" in fields),
            "account_id": "account_id" in fields or "account_name" in fields,
        }
        for key in ("csat", "agent_replies", "priority", "channel", "issue_type", "team", "agent", "subject"):
            has[key] = key in fields
        return [key for key in OPTIONAL_FIELDS if not has[key]]

    def _manifest(self, tickets, accounts, agents, events, changes, latest: pd.Timestamp,
                  missing: list[str]) -> dict:
        start, end = period_days(tickets["created_at"], self.zone, self.as_of)
        # Recorded to the second: the latest moment rounds up, so no time of the data is after it.
        as_of = self.as_of if self.as_of is not None else latest.ceil("s")
        return {
            "source": f"{self.m.name} export {self.path.name}",
            "mapping": self.m.name,
            "mapping_file": self.m.source,
            "file": self.path.name,
            "format": dict(self.source.details),
            "timezone": self.zone,
            "timestamps": "utc",
            "supportxl_version": __version__,
            "period": {"start": start, "end": end, "as_of": as_of.strftime("%Y-%m-%d %H:%M:%S"),
                       "as_of_given": self.as_of is not None},
            "missing_fields": missing,
            "audit_export": self.audit,
            "strict": self.strict,
            "redacted": self.redact,
            "data_quality": self.report.to_data(),
            "rows": {"source": int(self.source_rows), "tickets": len(tickets), "accounts": len(accounts),
                     "agents": len(agents), "escalation_events": len(events),
                     "status_changes": len(changes), "dropped": int(self.source_rows - self.rows_kept)},
        }


# ------------------------------------------------------------------------------ helpers

def _column(work: pd.DataFrame, key: str, n: int) -> np.ndarray:
    if key in work:
        return work[key].to_numpy(dtype=object)
    return np.full(n, None, dtype=object)


def _text(values: np.ndarray, fill: str) -> pd.Series:
    values = np.asarray(values, dtype=object)
    values = np.where(pd.isna(values), fill, values)
    return pd.Series(values, dtype=str)


def _counts(work: pd.DataFrame, key: str) -> np.ndarray:
    if key not in work:
        return np.zeros(len(work), dtype=np.int64)
    return work[key].fillna(0).to_numpy(dtype=float).astype(np.int64)


def _redact(tickets: pd.DataFrame) -> pd.DataFrame:
    """Stable pseudonyms for requesters (one per person, numbered in first-seen order) and
    no free text."""
    email = tickets["requester_email"].str.strip().str.casefold()
    name = tickets["requester_name"].str.strip()
    key = email.where(email != "", "name:" + name)
    anonymous = (email == "") & (name == "")
    codes, _ = pd.factorize(key.where(~anonymous))
    width = max(4, len(str(codes.max() + 1))) if len(codes) else 4
    number = pd.Series(codes + 1).astype(str).str.zfill(width)
    has_name = (name != "").to_numpy()
    has_email = (email != "").to_numpy()
    tickets = tickets.copy()
    tickets["requester_name"] = pd.Series(np.where(has_name | has_email, "Requester " + number, ""), dtype=str)
    tickets["requester_email"] = pd.Series(
        np.where(has_email, "requester" + number + "@redacted.invalid", ""), dtype=str)
    for key in ("subject", DESCRIPTION):
        if key in tickets:
            tickets[key] = pd.Series(np.full(len(tickets), "", dtype=object), dtype=str)
    return tickets


def _accounts(tickets: pd.DataFrame, work: pd.DataFrame) -> pd.DataFrame:
    names = pd.Series(_column(work, "account_name", len(work)), dtype=object)
    frame = pd.DataFrame({"account_id": tickets["account_id"].to_numpy(dtype=object), "name": names})
    first_name = frame.dropna().drop_duplicates("account_id").set_index("account_id")["name"]
    ids = np.sort(frame["account_id"].unique().astype(object))
    name = pd.Series(ids, dtype=object).map(first_name).to_numpy(dtype=object)
    name = np.where(pd.isna(name), ids, name)
    n = len(ids)
    return pd.DataFrame({
        "account_id": pd.Series(ids, dtype=str),
        "name": pd.Series(name, dtype=str),
        "industry": pd.Series([UNKNOWN] * n, dtype=str),
        "country": pd.Series([UNKNOWN] * n, dtype=str),
        "region": pd.Series([UNKNOWN] * n, dtype=str),
        "segment": pd.Series([UNKNOWN] * n, dtype=str),
        "annual_revenue": np.zeros(n, dtype=np.int64),
    })


def _agents(tickets: pd.DataFrame) -> pd.DataFrame:
    assigned = tickets[tickets["agent"] != UNASSIGNED]
    first = assigned.drop_duplicates("agent")
    n = len(first)
    width = max(3, len(str(n)))
    return pd.DataFrame({
        "agent_id": pd.Series([f"AG-{i:0{width}d}" for i in range(1, n + 1)], dtype=str),
        "name": pd.Series(first["agent"].to_numpy(dtype=object), dtype=str),
        "team": pd.Series(first["team"].to_numpy(dtype=object), dtype=str),
        "location": pd.Series([UNKNOWN] * n, dtype=str),
        "hire_date": pd.Series(np.full(n, np.datetime64("NaT", "ns"))),
    })
