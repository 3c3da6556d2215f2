"""Column mappings: which source header feeds which canonical field, and how values read.

A mapping is a TOML file (the built-in ones live in ``supportxl/ingest/mappings/``) parsed
once into a frozen ``Mapping``. Headers are matched case-insensitively, ignoring surrounding
spaces and runs of inner white space; the first accepted header found in the file wins.
Value maps are matched the same way. Every problem in a mapping file names the file, the
key path and what would be accepted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from supportxl.config import from_data, read_toml
from supportxl.errors import ParameterError
from supportxl.schema import HISTORY_STATUSES, PRIORITIES, STATUSES, TIERS

BUILTIN = ("zendesk", "zendesk_explore", "freshdesk", "jira", "servicenow", "hubspot", "canonical")

# Canonical source fields a mapping can name in [columns], with the words used in messages.
FIELDS = {
    "ticket_id": "ticket id",
    "created_at": "created time",
    "first_response_at": "first response time",
    "resolved_at": "resolved time",
    "closed_at": "closed time",
    "updated_at": "update time",
    "status": "status",
    "priority": "priority",
    "channel": "channel",
    "issue_type": "issue type",
    "team": "team or group",
    "agent": "agent",
    "account_id": "account id",
    "account_name": "account name",
    "requester_name": "requester name",
    "requester_email": "requester e-mail",
    "subject": "subject",
    "description": "description",
    "csat": "satisfaction rating",
    "escalated": "escalated flag",
    "escalation_tier": "escalation tier",
    "reopen_count": "reopen count",
    "agent_replies": "agent replies",
    "group_stations": "group stations",
    "reassignment_count": "reassignment count",
}
TIMESTAMP_FIELDS = ("created_at", "first_response_at", "resolved_at", "closed_at", "updated_at")
COUNT_FIELDS = ("reopen_count", "agent_replies", "group_stations", "reassignment_count")
# Fields whose values must land in a fixed vocabulary (an unknown value is a finding, and
# fatal with strict=True), and that vocabulary.
CLOSED_VALUES = {
    "status": STATUSES,
    "priority": PRIORITIES,
    "csat": ("1", "2", "3", "4", "5", ""),  # "" = not rated
    "escalation_tier": TIERS,
    "escalated": ("true", "false"),
}
OPEN_VALUE_FIELDS = ("channel", "issue_type", "team")
UNITS = ("minutes", "seconds", "milliseconds", "hours", "days", "hh:mm", "hh:mm:ss")
MEASURES = ("first_response", "resolution", "agent_wait", "requester_wait", "on_hold", "work_time", "other")
DATE_TOKENS = ("ISO", "excel", "epoch_ms", "epoch_s")
ACTIVITIES = ("Initial Submission", "Review & Analysis", "Escalation", "Communication",
              "Troubleshooting", "Development", "Resolution Confirmation")


@dataclass(frozen=True)
class DurationSpec:
    """A column holding a duration: its unit, what it measures, and on which clock."""

    columns: tuple[str, ...] = ()
    unit: str = "minutes"
    measures: str = "other"  # first_response | resolution | agent_wait | requester_wait | on_hold | work_time | other
    business_hours: bool = False
    signed: bool = False  # SLA "time remaining" fields: negative means breached


@dataclass(frozen=True)
class Mapping:
    name: str = ""
    description: str = ""
    timezone: str = "UTC"  # the zone the export's naive timestamps are written in
    date_formats: tuple[str, ...] = ("ISO",)
    missing: tuple[str, ...] = ("", "-", "?")
    required: tuple[str, ...] = ("ticket_id", "created_at")
    group_by: str = ""  # audit-style exports: the field that groups a ticket's rows
    order_by: str = ""  # ... and the field that orders them (the update time)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    durations: dict[str, DurationSpec] = field(default_factory=dict)
    activities: dict[str, str] = field(default_factory=dict)  # audit: state → event activity
    history: dict[str, str] = field(default_factory=dict)  # audit: state → status-history status
    source: str = field(default="", init=False, compare=False)  # where it was read from

    def value_map(self, field_name: str) -> dict[str, str]:
        """The value map of a field with normalised keys."""
        return {normalise(k): v for k, v in self.values.get(field_name, {}).items()}

    @property
    def declared(self) -> int:
        """How many columns the mapping can use (fields and durations)."""
        return len(self.columns) + len(self.durations)


def normalise(text: object) -> str:
    """A header or value as matched: case-folded, surrounding and repeated spaces removed."""
    return " ".join(str(text).replace("\ufeff", "").split()).casefold()


# ------------------------------------------------------------------------------ loading

def load_mapping(name_or_path: str | Path) -> Mapping:
    """A built-in mapping by name, or a mapping file by path (``.toml``)."""
    text = str(name_or_path)
    path = Path(text)
    if text in BUILTIN:
        return _builtin(text)
    if path.suffix.lower() == ".toml" or path.exists():
        return _load_file(path)
    raise ParameterError(
        f"unknown mapping '{text}' (built-in mappings: {', '.join(BUILTIN)}, or auto; "
        f"or give a path to a .toml mapping file)."
    )


def builtin_mappings() -> list[Mapping]:
    return [_builtin(name) for name in BUILTIN]


@functools.cache
def _builtin(name: str) -> Mapping:
    resource = resources.files("supportxl.ingest").joinpath("mappings").joinpath(f"{name}.toml")
    with resources.as_file(resource) as path:
        return _load_file(path, label=f"built-in mapping {name}")


def _load_file(path: Path, label: str | None = None) -> Mapping:
    source = str(path)
    mapping = from_data(Mapping, read_toml(path), source=source)
    if not mapping.name:
        mapping = dataclasses.replace(mapping, name=path.stem)
    validate_mapping(mapping, source)
    object.__setattr__(mapping, "source", label or source)
    return mapping


def validate_mapping(mapping: Mapping, source: str) -> None:
    """Raise ParameterError for the first setting of ``mapping`` that cannot be used."""
    def bad(key: str, message: str) -> ParameterError:
        return ParameterError(f"{source}: {key}: {message}")

    valid_fields = ", ".join(FIELDS)
    for key, aliases in mapping.columns.items():
        if key not in FIELDS:
            raise bad(f"columns.{key}", f"unknown field '{key}' (valid fields: {valid_fields}).")
        if not aliases:
            raise bad(f"columns.{key}", "list at least one accepted header.")
    for key in mapping.required:
        if key not in FIELDS:
            raise bad("required", f"unknown field '{key}' (valid fields: {valid_fields}).")
        if key not in mapping.columns:
            raise bad("required", f"'{key}' is required but has no entry in [columns].")
    for key in ("ticket_id", "created_at"):
        if key not in mapping.columns:
            raise bad("columns", f"every mapping needs '{key}' (the {FIELDS[key]}).")
    for key, table in mapping.values.items():
        if key in CLOSED_VALUES:
            allowed = CLOSED_VALUES[key]
            for value, target in table.items():
                if target not in allowed:
                    raise bad(f"values.{key}.{value}",
                              f"'{target}' is not a valid {FIELDS[key]} "
                              f"(valid: {', '.join(repr(a) for a in allowed)}).")
        elif key not in OPEN_VALUE_FIELDS:
            raise bad(f"values.{key}", f"no value map for '{key}' (value maps exist for: "
                      f"{', '.join((*CLOSED_VALUES, *OPEN_VALUE_FIELDS))}).")
    for name, spec in mapping.durations.items():
        if not spec.columns:
            raise bad(f"durations.{name}.columns", "list at least one accepted header.")
        if spec.unit not in UNITS:
            raise bad(f"durations.{name}.unit", f"'{spec.unit}' is not a unit (valid: {', '.join(UNITS)}).")
        if spec.measures not in MEASURES:
            raise bad(f"durations.{name}.measures",
                      f"'{spec.measures}' is not valid (valid: {', '.join(MEASURES)}).")
    for fmt in mapping.date_formats:
        if fmt not in DATE_TOKENS:
            problem = date_format_problem(fmt)
            if problem:
                raise bad("date_formats", f"'{fmt}' is not a date format: {problem} (use a strftime "
                          f"pattern like '%d/%m/%Y %H:%M', or one of {', '.join(DATE_TOKENS)}).")
    if mapping.group_by or mapping.order_by:
        for key in ("group_by", "order_by"):
            value = getattr(mapping, key)
            if value not in mapping.columns:
                raise bad(key, f"'{value}' must be a field named in [columns] (audit-style exports "
                          f"need both group_by and order_by).")
    if mapping.history:
        if not (mapping.group_by and mapping.order_by):
            raise bad("history", "a status history is read from update rows: set group_by and order_by "
                      "(the field grouping a ticket's rows and the field ordering them).")
        if "status" not in mapping.columns:
            raise bad("history", "a status history needs the state of each row: name 'status' in [columns].")
    for state, status in mapping.history.items():
        if status not in HISTORY_STATUSES:
            raise bad(f"history.{state}",
                      f"'{status}' is not a status-history status (valid: {', '.join(HISTORY_STATUSES)}).")
    for state, activity in mapping.activities.items():
        if activity not in ACTIVITIES:
            raise bad(f"activities.{state}", f"'{activity}' is not an activity (valid: {', '.join(ACTIVITIES)}).")
    check_zone(mapping.timezone, f"{source}: timezone")


_SAMPLE_MOMENT = dt.datetime(2024, 11, 23, 17, 45, 59, tzinfo=dt.timezone.utc)


def date_format_problem(fmt: str) -> str:
    """Why the strftime pattern ``fmt`` cannot read dates ("" when it can): it must hold a
    directive, and a date it writes must read back with it, in Python and in pandas."""
    if "%" not in fmt:
        return "it holds no % directive"
    try:
        text = _SAMPLE_MOMENT.strftime(fmt)
        dt.datetime.strptime(text, fmt)
        pd.to_datetime(pd.Series([text]), format=fmt, errors="raise")
    except (ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split()).split(", at position")[0]
        return reason or "it does not read the dates it writes"
    return ""


def check_zone(zone: str, what: str = "timezone") -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ParameterError(
            f"{what}: '{zone}' is not a known time zone (use an IANA name such as UTC, "
            f"Europe/Berlin or America/New_York)."
        ) from None
    return zone


# ------------------------------------------------------------------------------ matching

@dataclass(frozen=True)
class Match:
    """Where a mapping's fields are in a file's header row (positions of first occurrences)."""

    mapping: Mapping
    fields: dict[str, int]  # canonical field → column position
    durations: dict[str, int]  # duration name → column position
    missing_required: tuple[str, ...]

    @property
    def found(self) -> int:
        return len(self.fields) + len(self.durations)

    @property
    def ok(self) -> bool:
        return not self.missing_required

    def used_positions(self) -> list[int]:
        return sorted(set(self.fields.values()) | set(self.durations.values()))

    def found_headers(self, headers: list[str]) -> list[str]:
        """The matched headers in the mapping's own order."""
        seen, out = set(), []
        for position in [*self.fields.values(), *self.durations.values()]:
            if position not in seen:
                seen.add(position)
                out.append(headers[position])
        return out


def match(mapping: Mapping, headers: list[str]) -> Match:
    first: dict[str, int] = {}
    for position, header in enumerate(headers):
        first.setdefault(normalise(header), position)

    def locate(aliases: tuple[str, ...]) -> int | None:
        for alias in aliases:
            position = first.get(normalise(alias))
            if position is not None:
                return position
        return None

    fields = {k: p for k, a in mapping.columns.items() if (p := locate(a)) is not None}
    durations = {k: p for k, s in mapping.durations.items() if (p := locate(s.columns)) is not None}
    missing = tuple(k for k in mapping.required if k not in fields)
    return Match(mapping, fields, durations, missing)


def rank(headers: list[str], mappings: list[Mapping] | None = None) -> list[Match]:
    """Built-in mappings by how well they fit ``headers``: those with every required column
    first, then more columns found, then a larger share of the mapping found."""
    matches = [match(m, headers) for m in (mappings or builtin_mappings())]
    order = {id(m): i for i, m in enumerate(matches)}
    return sorted(matches, key=lambda m: (not m.ok, -m.found, -m.found / max(m.mapping.declared, 1),
                                          order[id(m)]))


def describe_expected(m: Match) -> str:
    """'ticket id (expected header: Id or Ticket ID), ...' for the missing required fields."""
    parts = []
    for key in m.missing_required:
        aliases = " or ".join(m.mapping.columns[key])
        parts.append(f"{FIELDS[key]} (expected header: {aliases})")
    return ", ".join(parts)
