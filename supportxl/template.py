"""Report templates: what the workbook contains and the policy its formulas apply.

A template is a TOML file parsed once into a frozen ReportTemplate; the builders never
see raw dictionaries. Shipped templates live in templates/*.toml.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportxl.config import from_data, merge, read_toml
from supportxl.errors import ParameterError
from supportxl.metrics.calendar import BusinessCalendar
from supportxl.metrics.kpis import KPIS
from supportxl.paths import TEMPLATES_DIR
from supportxl.schema import PRIORITIES, SlaPolicy, ticket_columns
from supportxl.workbook.catalogue import (CHART_NAMES, COMPACT_CHARTS, COMPACT_REQUIRED_SHEETS, DEFAULT_CHARTS,
                                          COMPACT_SHEETS, DEFAULT_CARDS, MAX_CARDS, READS_ESCALATION_LOG,
                                          REQUIRED_SHEETS, SHEET_CHOICES, SHEET_NAMES)
from supportxl.workbook.theme import NUMBER_FORMATS, Theme

DEFAULT_TEMPLATE = "dashboard"


@dataclass(frozen=True)
class Targets:
    """What good looks like; the dashboard compares each KPI with its target."""

    resolution_compliance: float = 0.8
    response_compliance: float = 0.85
    csat: float = 0.88
    escalation_rate: float = 0.2
    reopen_rate: float = 0.04
    fcr: float = 0.35
    median_first_response_hours: float = 2.0
    median_resolution_hours: float = 12.0


PIVOT_AGGREGATIONS = ("count", "sum", "average", "min", "max")


@dataclass(frozen=True)
class PivotSpec:
    """One native PivotTable over the Tickets table; fields are named by their Tickets header."""

    name: str = ""
    rows: str = ""
    columns: str = ""  # none when empty
    values: str = "Ticket ID"
    aggregation: str = "count"
    filters: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.rows, *((self.columns,) if self.columns else ()), self.values, *self.filters)


DEFAULT_PIVOTS = (
    PivotSpec("Tickets by month and channel", "Month", "Channel", filters=("Region",)),
    PivotSpec("Tickets by issue type and status", "Issue type", "Status"),
    PivotSpec("Resolution SLA breaches by priority", "Priority", "Resolution breached"),
    PivotSpec("Mean resolution hours by team and priority", "Team", "Priority", "Resolution (h)", "average"),
)
DEFAULT_SLICERS = ("Channel", "Priority", "Team")
DEFAULT_TIMELINE = "Created"


@dataclass(frozen=True)
class PlanAssumptions:
    """What the Plan sheet's forecast and staffing table assume (the last two live on Settings)."""

    forecast_weeks: int = 13
    interval: float = 0.8  # share of backtest errors the forecast interval covers
    service_level: float = 0.8  # share of tickets to answer within the first-response target
    # Agent work time per ticket; None: the mean the export tracks, else DEFAULT_HANDLE_MINUTES.
    handle_minutes: float | None = None


@dataclass(frozen=True)
class ReportTemplate:
    name: str = DEFAULT_TEMPLATE
    title: str = "Support Performance Dashboard"
    description: str = "Everything: dashboard, summaries, escalations, insights and the data."
    csat_good_threshold: int = 4
    top_accounts: int = 25
    maturity_days: int = 7  # days after its end before a month counts as complete (cards compare it)
    paper: str = "auto"  # "letter", "a4", or "auto": Letter where the data's locale uses it
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    targets: Targets = field(default_factory=Targets)
    plan: PlanAssumptions = field(default_factory=PlanAssumptions)
    calendar: BusinessCalendar | None = None
    sheets: tuple[str, ...] = SHEET_NAMES
    cards: tuple[str, ...] = DEFAULT_CARDS
    charts: tuple[str, ...] = DEFAULT_CHARTS
    theme: Theme = field(default_factory=Theme)
    compact: bool = False  # formulas over an aggregate table instead of the ticket rows
    pivots: tuple[PivotSpec, ...] = DEFAULT_PIVOTS  # on the Pivots sheet, when the template lists it
    slicers: tuple[str, ...] = DEFAULT_SLICERS  # Tickets fields; each slicer filters every pivot
    timeline: str = DEFAULT_TIMELINE  # a Tickets date field whose timeline filters every pivot; "" for none
    refresh_on_open: bool = False  # the pivots' cells are written exact; Excel may refresh them on open
    source: str = "built-in defaults"

    @property
    def business_hours(self) -> bool:
        return self.calendar is not None


def load_template(name_or_path: str | Path | None = None, overrides: Sequence[str] = ()) -> ReportTemplate:
    """A shipped template by name (``dashboard``) or a TOML file by path, with ``KEY=VALUE``
    overrides (``sla.resolution_hours.High=8``) applied and validated like the file."""
    path = template_path(name_or_path)
    label = str(path) if path.parent != TEMPLATES_DIR else f"shipped template templates/{path.name}"
    data = read_toml(path)
    from_data(ReportTemplate, data, source=str(path))  # the file's own errors name the file
    if overrides:
        data = merge(data, parse_overrides(overrides))
        source = "--set"
        label += " with --set " + " ".join(overrides)
    else:
        source = str(path)
    template = from_data(ReportTemplate, {**data, "source": label}, source=source)
    validate_template(template, source)
    return template


def template_path(name_or_path: str | Path | None) -> Path:
    """The file of a shipped template name, or the given .toml path."""
    name_or_path = name_or_path or DEFAULT_TEMPLATE
    path = Path(name_or_path)
    if path.is_dir():
        raise ParameterError(f"--template {path}: is a folder; give a shipped template name "
                             f"({', '.join(shipped_templates())}) or a .toml file.")
    if path.suffix == ".toml":
        return path
    shipped = TEMPLATES_DIR / f"{name_or_path}.toml"
    if not shipped.is_file() or shipped.stem in NOT_TEMPLATES:
        raise ParameterError(
            f"unknown template '{name_or_path}' (shipped templates: "
            f"{', '.join(shipped_templates())}; or give a path to a .toml file)."
        )
    return shipped


def parse_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """``["sla.resolution_hours.High=8", 'title="Q4"']`` as a nested table. A value is read as
    TOML (numbers, true/false, quoted text, [lists]); anything else is taken as text."""
    tree: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ParameterError(f"--set {item!r}: expected KEY=VALUE, for example "
                                 f"sla.resolution_hours.High=8.")
        try:
            value = tomllib.loads(f"value = {raw.strip()}")["value"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ParameterError(f"--set {item!r}: {part} is set twice, as a value and as a table.")
        node[leaf] = value
    return tree


# Targets that are rates, written as shares: 0.9 is 90 %.
RATE_TARGETS = ("resolution_compliance", "response_compliance", "csat", "escalation_rate", "reopen_rate", "fcr")
MAX_FONT_SIZE = 409  # Excel's largest font size
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def _validate_targets(targets: Targets, source: str) -> None:
    """Rates are shares from 0 to 1; a percent (95) is refused with the share it stands for."""
    for item in dataclasses.fields(targets):
        value = getattr(targets, item.name)
        key = f"targets.{item.name}"
        if not math.isfinite(value):
            raise ParameterError(f"{source}: {key} must be a finite number, found {value}.")
        if item.name in RATE_TARGETS and not 0 <= value <= 1:
            hint = (f" (for {value:g} %, write {value / 100:g})" if 1 < value <= 100 else "")
            raise ParameterError(f"{source}: {key} is a share from 0 to 1, found {value:g}{hint}.")
        if item.name not in RATE_TARGETS and not value > 0:
            raise ParameterError(f"{source}: {key} is a number of hours above 0, found {value:g}.")


def _validate_theme(theme: Theme, source: str) -> None:
    if not theme.font.strip():
        raise ParameterError(f"{source}: theme.font must name a font, found {theme.font!r}.")
    if not 1 <= theme.font_size <= MAX_FONT_SIZE:
        raise ParameterError(f"{source}: theme.font_size must be between 1 and {MAX_FONT_SIZE}, "
                             f"found {theme.font_size}.")
    colours = [(f"theme.{f.name}", getattr(theme, f.name)) for f in dataclasses.fields(theme)
               if f.type in ("str", str) and f.name not in ("font", "table_style")]
    colours += [(f"theme.series[{i}]", c) for i, c in enumerate(theme.series)]
    for key, value in colours:
        if not _COLOUR.fullmatch(value):
            raise ParameterError(f"{source}: {key} must be a colour written #RRGGBB (like #1F4E79), "
                                 f"found {value!r}.")


NOT_TEMPLATES = ("actions", "issue_types")  # the Insights' suggested actions; the import's issue-type rules


def shipped_templates() -> list[str]:
    return sorted(p.stem for p in TEMPLATES_DIR.glob("*.toml") if p.stem not in NOT_TEMPLATES)


def validate_template(template: ReportTemplate, source: str) -> None:
    for name, table in (("sla.first_response_hours", template.sla.first_response_hours),
                        ("sla.resolution_hours", template.sla.resolution_hours),
                        ("sla.cost_per_breach", template.sla.cost_per_breach),
                        ("sla.cost_per_breach_hour", template.sla.cost_per_breach_hour)):
        unknown = [k for k in table if k not in PRIORITIES]
        missing = [k for k in PRIORITIES if k not in table]
        if unknown or missing:
            raise ParameterError(
                f"{source}: {name} needs exactly the priorities {', '.join(PRIORITIES)} "
                f"(found: {', '.join(table) or 'none'})."
            )
        for key, value in table.items():
            if not math.isfinite(value) or value < 0 or (value == 0 and "cost" not in name):
                least = "zero or more" if "cost" in name else "above 0"
                raise ParameterError(f"{source}: {name}.{key} must be a finite number {least}, found {value}.")
    _validate_targets(template.targets, source)
    _validate_theme(template.theme, source)
    if template.paper not in ("auto", "letter", "a4"):
        raise ParameterError(f"{source}: paper must be auto, letter or a4, found {template.paper!r}.")
    if not 0 <= template.maturity_days <= 60:
        raise ParameterError(f"{source}: maturity_days must be between 0 and 60, found {template.maturity_days}.")
    if not template.sla.breach_hours_cap >= 0:
        raise ParameterError(f"{source}: sla.breach_hours_cap must be 0 or more hours, found "
                             f"{template.sla.breach_hours_cap}.")
    if not 1 <= template.csat_good_threshold <= 5:
        raise ParameterError(
            f"{source}: csat_good_threshold must be between 1 and 5, found {template.csat_good_threshold}."
        )
    if template.top_accounts < 1:
        raise ParameterError(f"{source}: top_accounts must be at least 1, found {template.top_accounts}.")
    plan = template.plan
    for name, value, ok, rule in (
            ("forecast_weeks", plan.forecast_weeks, 1 <= plan.forecast_weeks <= 52, "between 1 and 52"),
            ("interval", plan.interval, 0 < plan.interval < 1, "between 0 and 1 (exclusive)"),
            ("service_level", plan.service_level, 0 < plan.service_level < 1, "between 0 and 1 (exclusive)"),
            ("handle_minutes", plan.handle_minutes, plan.handle_minutes is None or plan.handle_minutes > 0,
             "above 0")):
        if not ok:
            raise ParameterError(f"{source}: plan.{name} must be {rule}, found {value}.")
    if template.calendar is not None:
        template.calendar.validate()
    compact = template.compact
    for key, names, choices in (("sheets", template.sheets, COMPACT_SHEETS if compact else SHEET_CHOICES),
                                ("cards", template.cards, tuple(KPIS)),
                                ("charts", template.charts, COMPACT_CHARTS if compact else CHART_NAMES),
                                ("theme.number_formats", tuple(template.theme.number_formats),
                                 tuple(NUMBER_FORMATS))):
        unknown = [n for n in names if n not in choices]
        if unknown:
            kind = "a compact template" if compact and key in ("sheets", "charts") else "a template"
            raise ParameterError(f"{source}: {key} has unknown name '{unknown[0]}' for {kind} "
                                 f"(valid: {', '.join(choices)}).")
        if len(set(names)) != len(names):
            repeated = next(n for n in names if names.count(n) > 1)
            raise ParameterError(f"{source}: {key} lists '{repeated}' twice.")
    for required in COMPACT_REQUIRED_SHEETS if compact else REQUIRED_SHEETS:
        if required not in template.sheets:
            reads = "the Aggregates sheet's Cube table" if compact else "the Tickets table"
            raise ParameterError(f"{source}: sheets must include '{required}': every formula reads "
                                 f"{reads} and the targets live on Settings.")
    readers = [s for s in READS_ESCALATION_LOG if s in template.sheets]
    if ("Dashboard" in readers and "escalation_stages" not in template.charts) or compact:
        readers = [s for s in readers if s != "Dashboard"]  # only its stage chart reads the log
    if readers and "Escalation Log" not in template.sheets:
        raise ParameterError(f"{source}: sheets lists '{readers[0]}' but not 'Escalation Log', "
                             f"which its formulas read.")
    if not 1 <= len(template.cards) <= MAX_CARDS:
        raise ParameterError(f"{source}: cards must list 1 to {MAX_CARDS} KPIs, found {len(template.cards)}.")
    if "Pivots" in template.sheets:
        validate_pivots(template, source)


def validate_pivots(template: ReportTemplate, source: str) -> None:
    """Every pivot names Tickets fields, a known aggregation and a name of its own."""
    columns = {c.header: c for c in ticket_columns(template.business_hours)}
    valid = ", ".join(columns)
    if not template.pivots:
        raise ParameterError(f"{source}: sheets lists 'Pivots' but pivots declares none "
                             f"(add a [[pivots]] table, or drop 'Pivots' from sheets).")
    names: set[str] = set()
    for i, pivot in enumerate(template.pivots):
        key = f"pivots[{i}]"
        for name, value in (("name", pivot.name), ("rows", pivot.rows)):
            if not value.strip():
                raise ParameterError(f"{source}: {key}.{name} is required.")
        if len(pivot.name) > 100 or pivot.name in names:
            reason = "longer than 100 characters" if len(pivot.name) > 100 else "the name of another pivot"
            raise ParameterError(f"{source}: {key}.name '{pivot.name}' is {reason}.")
        names.add(pivot.name)
        for name, value in (("rows", pivot.rows), ("columns", pivot.columns), ("values", pivot.values),
                            *((f"filters[{j}]", f) for j, f in enumerate(pivot.filters))):
            if value and value not in columns:
                raise ParameterError(f"{source}: {key}.{name} has unknown field '{value}' "
                                     f"(valid: the Tickets headers {valid}).")
        axes = [pivot.rows, *([pivot.columns] if pivot.columns else []), *pivot.filters]
        repeated = next((f for f in axes if axes.count(f) > 1), None)
        if repeated:
            raise ParameterError(f"{source}: {key} uses '{repeated}' twice among rows, columns and filters.")
        if pivot.aggregation not in PIVOT_AGGREGATIONS:
            raise ParameterError(f"{source}: {key}.aggregation has unknown name '{pivot.aggregation}' "
                                 f"(valid: {', '.join(PIVOT_AGGREGATIONS)}).")
        if pivot.aggregation != "count" and columns[pivot.values].fmt == "text":
            raise ParameterError(f"{source}: {key}.values '{pivot.values}' is text: its aggregation "
                                 f"can only be count, found '{pivot.aggregation}'.")
    for j, name in enumerate(template.slicers):
        if name not in columns:
            raise ParameterError(f"{source}: slicers[{j}] has unknown field '{name}' "
                                 f"(valid: the Tickets headers {valid}).")
        if template.slicers.count(name) > 1:
            raise ParameterError(f"{source}: slicers lists '{name}' twice.")
    dates = [header for header, c in columns.items() if c.fmt in ("date", "datetime")]
    if template.timeline and template.timeline not in dates:
        raise ParameterError(f"{source}: timeline has unknown date field '{template.timeline}' "
                             f"(valid: the Tickets date headers {', '.join(dates)}, or \"\" for none).")
    if template.timeline in template.slicers:
        raise ParameterError(f"{source}: '{template.timeline}' is both the timeline and a slicer; "
                             f"drop it from one of them.")
