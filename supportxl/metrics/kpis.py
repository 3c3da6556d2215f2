"""The KPI catalogue: each KPI defined once, as an expression over a few row measures.

A KPI is a small expression (a ratio, a complement, a difference) of *measures*: a count of
tickets meeting some conditions, a sum, a mean or a percentile of a Tickets column. Each
measure says itself three ways from one definition:

- as an Excel formula over the Tickets table (COUNTIFS / SUMIFS / AVERAGEIFS / MEDIAN(IF...)),
  restricted to a slice described by criteria (month, channel, a dashboard filter...);
- as per-row values, which the report model sums by any grouping at once (so a grid's cells
  are one vectorised group-by, not a mask per cell);
- as a column of the compact workbook's aggregate table, so a compact formula is a SUMIFS
  over it (percentiles cannot be rebuilt from sums: they are values there).

So the formula, the cached value and the compact formula cannot drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from supportxl.schema import OPTIONAL_FIELDS, STATUS_FIELDS, column

CSAT_GOOD_NAME = "CsatGood"  # defined name of the CSAT threshold cell on Settings
AS_OF_NAME = "ReportAsOf"  # defined name of the as-of cell on Settings
BREACH_HOURS_CAP_NAME = "BreachHoursCap"  # defined name of the cap on charged hours over target
MATURITY_NAME = "MaturityDays"  # defined name: days after its end before a month counts as complete
FILTER_NAME = "Filter_{}"  # defined names of the Dashboard's drop-down filter cells: Filter_channel, ...
# Defined names of the first and last month the Dashboard's period filter lets through (helper cells).
PERIOD_FROM_NAME, PERIOD_TO_NAME = "PeriodFromMonth", "PeriodToMonth"
Value = float | int | str | None
NOT_AVAILABLE = "n/a"


@dataclass(frozen=True)
class Policy:
    """What a KPI's row conditions need besides the tickets: the policy the formulas read
    from Settings, as values."""

    csat_good_threshold: int = 4


# --- criteria: the slice a value is computed over -------------------------------------

# A text that Excel's COUNTIFS would read as an operator, a wildcard or a number.
_OPERATOR_STARTS = ("=", "<", ">", "+", "-", "@")
_WILDCARDS = ("*", "?", "~")


def needs_literal(text: Any) -> bool:
    """Whether ``text``, used as a COUNTIFS criterion, would not match itself literally."""
    text = str(text)
    if text == "" or text.startswith(_OPERATOR_STARTS) or any(c in text for c in _WILDCARDS):
        return True
    try:
        float(text.replace(",", ""))
    except ValueError:
        return text.strip() != text or text.upper() in ("TRUE", "FALSE")
    return True


def literal_criterion(ref: str) -> str:
    """A COUNTIFS criterion that matches the text in ``ref`` literally: ``=`` forces an equality
    test, and ~ * ? are escaped so they are not wildcards."""
    return f'"="&SUBSTITUTE(SUBSTITUTE(SUBSTITUTE({ref},"~","~~"),"*","~*"),"?","~?")'


@dataclass(frozen=True)
class Criterion:
    """One condition on the Tickets table, spoken to COUNTIFS, to array formulas and to pandas.

    ``op`` is "==" (equality: a grid's row or column value, a filter's choice), "all" (a
    filter left at "(All)"), or a comparison "<", "<=", ">", ">=".
    """

    key: str  # the Tickets column
    countifs: str  # criteria argument for COUNTIFS/SUMIFS/AVERAGEIFS
    array: str  # a boolean array expression for array formulas
    op: str
    value: Any
    ref: str = ""  # the cell the criterion reads (a grid label, a filter or helper cell)
    selection: bool = False  # a drop-down filter: the cell holds a value or "(All)"
    period: str = ""  # a cell holding the look-up key of the period a month bound belongs to

    @property
    def range(self) -> str:
        return column(self.key).ref

    @property
    def token(self) -> tuple:
        return (self.key, self.op, self.value)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        values = frame[self.key]
        if self.op == "all":
            return np.ones(len(frame), dtype=bool)
        if self.op == "==":
            return (values == self.value).to_numpy(dtype=bool)
        compare = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}[self.op]
        return pd.Series(compare(values, self.value), index=frame.index).fillna(False).to_numpy(dtype=bool)


def equals(key: str, ref: str, value: Any, *, texts: Sequence[str] = ()) -> Criterion:
    """``key`` equals the cell ``ref``, which holds ``value``.

    ``texts`` are all the values the cell may hold; when any of them would not match itself
    as a COUNTIFS criterion (an operator, a wildcard, a number-like text), the criterion is
    written so it matches literally.
    """
    countifs = literal_criterion(ref) if any(needs_literal(t) for t in texts) else ref
    return Criterion(key, countifs, f"({column(key).ref}={ref})", "==", value, ref)


def compare(key: str, operator: str, ref: str, value: Any, *, period: str = "") -> Criterion:
    """``key`` compared with the cell ``ref`` (which holds ``value``) by <, <=, > or >=;
    ``period`` is the cell holding the key of the period the bound belongs to, if any."""
    return Criterion(key, f'"{operator}"&{ref}', f"({column(key).ref}{operator}{ref})", operator, value, ref,
                     period=period)


def selected(key: str, ref: str, value: str, all_label: str = "(All)", *,
             texts: Sequence[str] = ()) -> Criterion:
    """A drop-down filter cell: its value, or every row when it reads ``all_label``."""
    col = column(key).ref
    choice = literal_criterion(ref) if any(needs_literal(t) for t in texts) else ref
    countifs = f'IF({ref}="{all_label}","*",{choice})'
    array = f'(({ref}="{all_label}")+({col}={ref})>0)'
    if value == all_label:
        return Criterion(key, countifs, array, "all", None, ref, True)
    return Criterion(key, countifs, array, "==", value, ref, True)


# --- the Dashboard's selection, tested once per ticket ---------------------------------
#
# The Tickets column "Dashboard selection" tests every Dashboard filter (period, channel,
# priority, team; each a value or "(All)") once per ticket, so a Dashboard formula reads one
# criterion on it instead of five: a filter left at "(All)" was a "*" criterion, which makes the
# spreadsheet engine pattern-match every row in every formula.

SELECTION_KEY = "dashboard_selection"
IN_SELECTION, IN_FILTERS = 2, 1  # its values; 0: outside the channel, priority or team filter
SELECTION_FILTERS = ("channel", "priority", "team")


def selection_formula(cell: Callable[[str], str], all_label: str = "(All)") -> str:
    """The selection column's formula (without '='); ``cell(key)`` is the row's cell of a Tickets
    column. A choice is compared as text, as the Tickets cells hold it (a drop-down may enter a
    number-like value as a number); ``=`` ignores case, as COUNTIFS does."""
    filters = ",".join(f'OR({name}="{all_label}",{cell(key)}={name}&"")'
                       for name, key in ((FILTER_NAME.format(key), key) for key in SELECTION_FILTERS))
    month = cell("month")
    return (f"IF(AND({filters}),IF(AND({month}>={PERIOD_FROM_NAME},{month}<={PERIOD_TO_NAME}),"
            f"{IN_SELECTION},{IN_FILTERS}),0)")


def in_selection(*, period: bool = True) -> Criterion:
    """The tickets the Dashboard's filters let through (``period=False``: all but the period
    filter), from the selection column."""
    ref = column(SELECTION_KEY).ref
    if period:
        return Criterion(SELECTION_KEY, str(IN_SELECTION), f"({ref}={IN_SELECTION})", "==", IN_SELECTION)
    return Criterion(SELECTION_KEY, f'">={IN_FILTERS}"', f"({ref}>={IN_FILTERS})", ">=", IN_FILTERS)


def mask_of(frame: pd.DataFrame, criteria: Sequence[Criterion]) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for criterion in criteria:
        mask &= criterion.mask(frame)
    return mask


# --- row conditions inside a measure --------------------------------------------------

@dataclass(frozen=True)
class Cond:
    """A condition a measure adds to its slice: a Tickets column, its COUNTIFS criterion and
    the same test in pandas."""

    key: str
    countifs: str
    test: Callable[[pd.DataFrame, Policy], np.ndarray]

    @property
    def range(self) -> str:
        return column(self.key).ref


# Cached, so equal conditions are one object and the report model computes each once.
@functools.cache
def _notna(key: str) -> Callable[[pd.DataFrame, Policy], np.ndarray]:
    return lambda f, p: f[key].notna().to_numpy(dtype=bool)


@functools.cache
def _equal_to(key: str, value: int) -> Callable[[pd.DataFrame, Policy], np.ndarray]:
    return lambda f, p: (f[key] == value).fillna(False).to_numpy(dtype=bool)


RESOLVED = Cond("resolved_at", '">0"', _notna("resolved_at"))
RATED = Cond("csat", '">=1"', lambda f, p: (f["csat"] >= 1).fillna(False).to_numpy(dtype=bool))
RATED_GOOD = Cond("csat", f'">="&{CSAT_GOOD_NAME}',
                  lambda f, p: (f["csat"] >= p.csat_good_threshold).fillna(False).to_numpy(dtype=bool))
# A target cell is a number, or empty text when the priority has no target: ">=0" tests numbers only.
RESPONSE_TARGETED = Cond("response_target", '">=0"', _notna("response_target"))
RESOLUTION_TARGETED = Cond("resolution_target", '">=0"', _notna("resolution_target"))
ESCALATED = Cond("escalated", '"Yes"', lambda f, p: (f["escalated"] == "Yes").to_numpy(dtype=bool))
REOPENED = Cond("reopen_count", '">0"', lambda f, p: (f["reopen_count"] > 0).to_numpy(dtype=bool))
BREACHED = Cond("resolution_breached", "1", _equal_to("resolution_breached", 1))
ONE_TOUCH = Cond("agent_replies", "1", _equal_to("agent_replies", 1))
TWO_TOUCH = Cond("agent_replies", "2", _equal_to("agent_replies", 2))
MULTI_TOUCH = Cond("agent_replies", '">=3"', lambda f, p: (f["agent_replies"] >= 3).to_numpy(dtype=bool))


@functools.cache
def sla_used(operator: str, share: float) -> Cond:
    """An open ticket whose used share of its resolution target compares with ``share``
    (``operator`` is <, <=, > or >=); resolved tickets and those without a target have none."""
    within = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}[operator]
    return Cond("sla_used", f'"{operator}{share:g}"',
                lambda f, p: within(f["sla_used"].to_numpy(dtype=float), share))
WITHIN_TARGET = Cond("resolution_breached", "0", _equal_to("resolution_breached", 0))


def _pairs(criteria: Sequence[Criterion], conds: Sequence[Cond] = ()) -> str:
    pairs = [(c.range, c.countifs) for c in criteria] + [(c.range, c.countifs) for c in conds]
    if not pairs:
        pairs = [(column("ticket_id").ref, '"<>"')]
    return ",".join(f"{r},{e}" for r, e in pairs)


def _conds_mask(frame: pd.DataFrame, policy: Policy, conds: Sequence[Cond]) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for cond in conds:
        mask &= cond.test(frame, policy)
    return mask


# --- measures -------------------------------------------------------------------------

@dataclass(frozen=True)
class Count:
    """Tickets in the slice that meet ``conds``."""

    label: str  # its header in the compact aggregate table
    conds: tuple[Cond, ...] = ()

    def formula(self, criteria: Sequence[Criterion]) -> str:
        return f"COUNTIFS({_pairs(criteria, self.conds)})"

    def rows(self, frame: pd.DataFrame, policy: Policy) -> np.ndarray:
        return _conds_mask(frame, policy, self.conds).astype(float)

    def finish(self, total: float) -> int:
        return int(round(total))


@dataclass(frozen=True)
class Sum:
    """A Tickets column summed over the slice (blanks count as nothing)."""

    label: str
    key: str

    def formula(self, criteria: Sequence[Criterion]) -> str:
        return f"SUMIFS({column(self.key).ref},{_pairs(criteria)})"

    def rows(self, frame: pd.DataFrame, policy: Policy) -> np.ndarray:
        return np.nan_to_num(frame[self.key].to_numpy(dtype=float, na_value=np.nan), nan=0.0)

    def finish(self, total: float) -> float:
        return float(total)


@dataclass(frozen=True)
class Mean:
    """The mean of a Tickets column over the slice, blanks left out (AVERAGEIFS)."""

    key: str

    def formula(self, criteria: Sequence[Criterion]) -> str:
        return f'IFERROR(AVERAGEIFS({column(self.key).ref},{_pairs(criteria)}),"")'

    @property
    def total(self) -> Sum:
        return Sum(f"{column(self.key).header} sum", self.key)

    @property
    def count(self) -> Count:
        return Count(f"{column(self.key).header} count",
                     (Cond(self.key, '"<>"', _notna(self.key)),))


@dataclass(frozen=True)
class Quantile:
    """A percentile of a Tickets column over the slice, blanks left out (an array formula)."""

    key: str
    p: float

    def formula(self, criteria: Sequence[Criterion]) -> str:
        col = column(self.key).ref
        conditions = "*".join([c.array for c in criteria] + [f'({col}<>"")'])
        inner = f"IF({conditions},{col})"
        call = f"MEDIAN({inner})" if self.p == 0.5 else f"PERCENTILE({inner},{self.p})"
        return f'IFERROR({call},"")'


Additive = Count | Sum  # measures that are sums of per-row values
Measure = Count | Sum | Mean | Quantile


# --- KPI expressions ------------------------------------------------------------------

@dataclass(frozen=True)
class Ratio:
    """``numerator / denominator``, empty when the denominator is 0."""

    numerator: Additive
    denominator: Additive

    def formula(self, part: Callable[[Measure], str]) -> str:
        return f'IFERROR({part(self.numerator)}/{part(self.denominator)},"")'

    def combine(self, n: float, d: float) -> float | None:
        return float(n) / float(d) if d else None

    @property
    def measures(self) -> tuple[Measure, ...]:
        return (self.numerator, self.denominator)


@dataclass(frozen=True)
class Complement(Ratio):
    """``1 - numerator / denominator``: the share that did not breach."""

    def formula(self, part: Callable[[Measure], str]) -> str:
        return f'IFERROR(1-{part(self.numerator)}/{part(self.denominator)},"")'

    def combine(self, n: float, d: float) -> float | None:
        return 1 - float(n) / float(d) if d else None


@dataclass(frozen=True)
class Difference:
    """``minuend - subtrahend`` of two counts."""

    minuend: Additive
    subtrahend: Additive

    def formula(self, part: Callable[[Measure], str]) -> str:
        return f"{part(self.minuend)}-{part(self.subtrahend)}"

    def combine(self, a: float, b: float) -> int:
        return int(round(a - b))

    @property
    def measures(self) -> tuple[Measure, ...]:
        return (self.minuend, self.subtrahend)


@dataclass(frozen=True)
class Single:
    """One measure as it is."""

    measure: Measure

    def formula(self, part: Callable[[Measure], str]) -> str:
        return part(self.measure)

    def combine(self, value: Value) -> Value:
        return value

    @property
    def measures(self) -> tuple[Measure, ...]:
        return (self.measure,)


Expression = Ratio | Difference | Single


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    definition: str
    fmt: str  # number-format name of the theme
    expression: Expression
    better: str | None = None  # "higher", "lower" or None
    target: str | None = None  # a field of template.targets
    requires: tuple[str, ...] = ()  # canonical fields without which it cannot be computed

    @property
    def array(self) -> bool:
        """Whether it must be written as an array formula."""
        return any(isinstance(m, Quantile) for m in self.expression.measures)

    def formula(self, criteria: Sequence[Criterion] = ()) -> str:
        """The Excel formula (without '=') over the Tickets rows in the slice ``criteria``."""
        return self.expression.formula(lambda m: m.formula(criteria))

    def excel(self, criteria: Sequence[Criterion] = ()) -> str:
        return "=" + self.formula(criteria)

    def unavailable(self, missing_fields: Sequence[str]) -> str | None:
        """Why the KPI cannot be computed from a source lacking ``missing_fields``, or None."""
        lacking = [f for f in self.requires if f in missing_fields]
        reasons = OPTIONAL_FIELDS | STATUS_FIELDS
        return "; ".join(reasons[f] for f in lacking) + "." if lacking else None


def _duration_kpis(prefix: str, key: str, label: str, what: str, requires: tuple[str, ...],
                   target: str | None = None, quartiles: bool = False) -> list[Kpi]:
    stats = [("mean", "Mean", None), ("median", "Median", 0.5), ("p90", "P90", 0.9)]
    if quartiles:
        stats[1:1] = [("q1", "Q1", 0.25)]
        stats.insert(3, ("q3", "Q3", 0.75))
    meaning = {"mean": f"Average hours {what}, over tickets that got there.",
               "median": f"Middle value of the hours {what}.",
               "p90": f"90th percentile of the hours {what}: nine in ten tickets took no longer.",
               "q1": f"Lower quartile of the hours {what}: a quarter of tickets took no longer.",
               "q3": f"Upper quartile of the hours {what}: three in four tickets took no longer."}
    return [Kpi(f"{prefix}_{stat}", f"{name} {label} (h)", meaning[stat], "hours",
                Single(Mean(key) if p is None else Quantile(key, p)), "lower",
                target if stat == "median" else None, requires)
            for stat, name, p in stats]


TICKETS = Count("Tickets")
RESOLVED_TICKETS = Count("Resolved", (RESOLVED,))
RATED_TICKETS = Count("Rated", (RATED,))
RESPONSE_TARGETED_TICKETS = Count("With response target", (RESPONSE_TARGETED,))
RESOLUTION_TARGETED_TICKETS = Count("With resolution target", (RESOLUTION_TARGETED,))
RESPONSE_BREACHES = Sum("Response breached", "response_breached")
RESOLUTION_BREACHES = Sum("Resolution breached", "resolution_breached")
WITHIN_TARGET_TICKETS = Count("Within target", (WITHIN_TARGET,))
BREACHED_TICKETS = Count("Breached", (BREACHED,))
RESOLVED_WITHIN = Count("Resolved within target", (RESOLVED, WITHIN_TARGET))
RESOLVED_LATE = Count("Resolved late", (RESOLVED, BREACHED))

# The SLA-at-risk buckets of open tickets: (key, name, share in words, lower bound, upper bound)
# of the share of the resolution target used; the last bucket, past the target, is open_past_target.
RISK_BUCKETS = (("risk_under_50", "Open, under 50 % used", "under 50 %", None, ("<", 0.5)),
                ("risk_50_75", "Open, 50-75 % used", "50 % to under 75 %", (">=", 0.5), ("<", 0.75)),
                ("risk_75_90", "Open, 75-90 % used", "75 % to under 90 %", (">=", 0.75), ("<", 0.9)),
                ("risk_90_100", "Open, 90-100 % used", "90 % to 100 %", (">=", 0.9), ("<=", 1)))


def _risk_kpi(key: str, name: str, share: str, low: tuple | None, high: tuple) -> Kpi:
    conds = tuple(sla_used(*bound) for bound in (low, high) if bound)
    return Kpi(key, name, f"Tickets open at the as-of time whose resolution clock has used {share} "
               f"of the target for their priority (live: the targets on Settings).", "int",
               Single(Count(name, conds)), "lower" if low else None, requires=_SLA_RESOLUTION)


_SLA_RESPONSE = ("first_response_at", "priority")
_SLA_RESOLUTION = ("resolved_at", "priority")
_TOUCHES = ("resolved_at", "agent_replies")

CATALOGUE: tuple[Kpi, ...] = (
    Kpi("tickets", "Tickets", "Tickets created.", "int", Single(TICKETS)),
    *_duration_kpis("frt", "frt_hours", "first response", "from creation to the first agent response",
                    ("first_response_at",), "median_first_response_hours"),
    *_duration_kpis("ttr", "ttr_hours", "resolution", "from creation to resolution",
                    ("resolved_at",), "median_resolution_hours", quartiles=True),
    *_duration_kpis("escalate", "hours_to_escalate", "time to escalate",
                    "from submission to the first escalation", ()),
    *_duration_kpis("tier3", "hours_to_tier3", "time to Tier 3", "from submission to reaching Tier 3", ()),
    Kpi("handoffs_mean", "Mean hand-offs", "Average number of times an escalated ticket passed "
        "from one stakeholder to another.", "score", Single(Mean("handoffs")), "lower"),
    Kpi("response_breach_rate", "Response breach %",
        "Share of tickets with a target whose first response came after the target for their "
        "priority (or has not come and the target has passed).", "percent",
        Ratio(RESPONSE_BREACHES, RESPONSE_TARGETED_TICKETS), "lower", requires=_SLA_RESPONSE),
    Kpi("resolution_breach_rate", "Resolution breach %",
        "Share of tickets with a target resolved after the target for their priority, or still "
        "open past it.", "percent",
        Ratio(RESOLUTION_BREACHES, RESOLUTION_TARGETED_TICKETS), "lower", requires=_SLA_RESOLUTION),
    Kpi("resolution_compliance", "Resolution SLA %",
        "Share of tickets with a target resolved within the target for their priority (open "
        "tickets count as breached once their target has passed; tickets whose priority has no "
        "target are left out).", "percent",
        Complement(RESOLUTION_BREACHES, RESOLUTION_TARGETED_TICKETS), "higher", "resolution_compliance",
        _SLA_RESOLUTION),
    Kpi("response_compliance", "Response SLA %",
        "Share of tickets with a target first answered within the target for their priority "
        "(tickets whose priority has no target are left out).", "percent",
        Complement(RESPONSE_BREACHES, RESPONSE_TARGETED_TICKETS), "higher", "response_compliance",
        _SLA_RESPONSE),
    Kpi("no_target", "No SLA target", "Tickets whose priority has no SLA target (unknown or "
        "missing priority): outside every SLA percentage, never counted as met.", "int",
        Difference(TICKETS, RESOLUTION_TARGETED_TICKETS), "lower"),
    Kpi("csat", "CSAT %", "Share of rated tickets scored at or above the 'good' threshold "
        "(4 of 5 by default).", "percent",
        Ratio(Count("Rated good", (RATED_GOOD,)), RATED_TICKETS), "higher", "csat", ("csat",)),
    Kpi("csat_mean", "Mean CSAT (1-5)", "Average rating of rated tickets.", "score",
        Single(Mean("csat")), "higher", requires=("csat",)),
    Kpi("csat_response_rate", "CSAT response %", "Share of resolved tickets that were rated.",
        "percent", Ratio(RATED_TICKETS, RESOLVED_TICKETS), requires=("csat", "resolved_at")),
    Kpi("escalation_rate", "Escalation %", "Share of tickets escalated beyond Tier 1.", "percent",
        Ratio(Count("Escalated", (ESCALATED,)), TICKETS), "lower", "escalation_rate", ("escalated",)),
    Kpi("reopen_rate", "Reopen %", "Share of tickets reopened at least once.", "percent",
        Ratio(Count("Reopened", (REOPENED,)), TICKETS), "lower", "reopen_rate", ("reopen_count",)),
    Kpi("fcr", "FCR %", "First-contact resolution: share of resolved tickets solved with one "
        "agent reply, no escalation and no reopen.", "percent",
        Ratio(Sum("FCR", "fcr"), RESOLVED_TICKETS), "higher", "fcr",
        ("resolved_at", "agent_replies", "reopen_count", "escalated")),
    Kpi("backlog", "Backlog", "Tickets open at the data's as-of time: created, and not resolved.",
        "int", Difference(TICKETS, RESOLVED_TICKETS), "lower", requires=("resolved_at",)),
    Kpi("resolved_within_target", "Resolved within target", "Resolved tickets whose resolution "
        "clock stayed within the target.", "int", Single(RESOLVED_WITHIN), requires=_SLA_RESOLUTION),
    Kpi("resolved_late", "Resolved late", "Resolved tickets whose resolution took longer than "
        "the target.", "int", Single(RESOLVED_LATE), "lower", requires=_SLA_RESOLUTION),
    Kpi("open_within_target", "Open, within target", "Unresolved tickets whose target has not "
        "passed yet.", "int", Difference(WITHIN_TARGET_TICKETS, RESOLVED_WITHIN),
        requires=_SLA_RESOLUTION),
    Kpi("open_past_target", "Open, past target", "Unresolved tickets already past their target "
        "(they count as breached).", "int", Difference(BREACHED_TICKETS, RESOLVED_LATE), "lower",
        requires=_SLA_RESOLUTION),
    Kpi("hours_over_target", "Hours over target", "Resolution hours beyond the target, summed "
        "over breached tickets.", "hours", Single(Sum("Hours over target", "hours_over_target")),
        "lower", requires=_SLA_RESOLUTION),
    Kpi("breach_cost", "Breach cost (est.)", "An estimate: for every ticket that breached its "
        "resolution target, the cost per breached ticket of its priority plus the cost per hour over "
        "the target for at most the capped hours (Settings); open tickets count up to the as-of time.",
        "currency", Single(Sum("Breach cost", "breach_cost")), "lower", requires=_SLA_RESOLUTION),
    *(_risk_kpi(*bucket) for bucket in RISK_BUCKETS),
    Kpi("sla_at_risk", "At risk (75-100 % used)", "Tickets open at the as-of time that have used "
        "75 % or more of their resolution target but are not past it yet.", "int",
        Single(Count("At risk", (sla_used(">=", 0.75), sla_used("<=", 1)))), "lower",
        requires=_SLA_RESOLUTION),
    Kpi("open_targeted", "Open with a target", "Tickets open at the as-of time whose priority has "
        "a resolution target.", "int", Single(Count("Open with target", (sla_used(">=", 0),))),
        requires=_SLA_RESOLUTION),
    Kpi("one_touch", "One-touch %", "Share of resolved tickets solved with exactly one agent reply "
        "(FCR also asks for no escalation and no reopen).", "percent",
        Ratio(Count("One-touch", (RESOLVED, ONE_TOUCH)), RESOLVED_TICKETS), "higher",
        requires=_TOUCHES),
    Kpi("two_touch", "Two-touch %", "Share of resolved tickets solved with exactly two agent "
        "replies.", "percent", Ratio(Count("Two-touch", (RESOLVED, TWO_TOUCH)), RESOLVED_TICKETS),
        requires=_TOUCHES),
    Kpi("multi_touch", "Multi-touch %", "Share of resolved tickets that took three or more agent "
        "replies.", "percent", Ratio(Count("Multi-touch", (RESOLVED, MULTI_TOUCH)), RESOLVED_TICKETS),
        "lower", requires=_TOUCHES),
    *_duration_kpis("status_new", "hours_new", "time New", "a ticket spent New, before an agent "
                    "took it up (from its status history, until the as-of time)", ("status_history",)),
    *_duration_kpis("status_open", "hours_open", "time Open", "a ticket spent Open or Reopened, "
                    "being worked on (from its status history, until the as-of time)", ("status_history",)),
    *_duration_kpis("agent_wait", "hours_pending", "agent wait", "a ticket spent Pending, waiting "
                    "on the customer (from its status history, or as the export states it)", ("agent_wait",)),
    *_duration_kpis("on_hold", "hours_on_hold", "on-hold time", "a ticket spent On-hold, waiting on "
                    "a third party (from its status history, or as the export states it)", ("on_hold",)),
    *_duration_kpis("requester_wait", "requester_wait_hours", "requester wait", "the customer "
                    "waited on the team: time New, Open, Reopened or On-hold", ("requester_wait",)),
    *_duration_kpis("ttr_net", "ttr_net_hours", "resolution less customer wait", "from creation to "
                    "resolution, less the time Pending (waiting on the customer)",
                    ("resolved_at", "agent_wait")),
)

KPIS = {kpi.key: kpi for kpi in CATALOGUE}


def kpi(key: str) -> Kpi:
    return KPIS[key]


def backlog_at_formula(boundary_ref: str, criteria: Sequence[Criterion] = ()) -> str:
    """Tickets (in the slice ``criteria``) open at the moment in ``boundary_ref``: created
    before it and not resolved before it."""
    created = Count("", (Cond("created_at", f'"<"&{boundary_ref}', _notna("created_at")),)).formula(criteria)
    resolved = Count("", (Cond("resolved_at", f'"<"&{boundary_ref}', _notna("resolved_at")),)).formula(criteria)
    return f"={created}-{resolved}"


def resolved_between_formula(start_ref: str, end_ref: str, criteria: Sequence[Criterion] = ()) -> str:
    """Tickets in the slice resolved at or after ``start_ref`` and before ``end_ref``."""
    return "=" + Count("", (Cond("resolved_at", f'">="&{start_ref}', _notna("resolved_at")),
                            Cond("resolved_at", f'"<"&{end_ref}', _notna("resolved_at")))).formula(criteria)


def backlog_at(frame: pd.DataFrame, boundary: pd.Timestamp) -> int:
    return int((frame["created_at"] < boundary).sum() - (frame["resolved_at"] < boundary).sum())
