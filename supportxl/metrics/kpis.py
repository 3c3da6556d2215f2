"""The KPI catalogue: each KPI defined once, as an Excel formula and as pandas.

A KPI is evaluated over a slice of the Tickets table described by criteria (month,
channel, priority, team, a dashboard filter...). Each criterion knows how to say itself
to COUNTIFS, as a boolean array for MEDIAN/PERCENTILE array formulas, and as a pandas
mask, so the builder can write a formula together with its cached value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supportxl.dataset import OPEN_STATUSES
from supportxl.metrics.columns import column

if TYPE_CHECKING:  # the template module imports this one to validate KPI names
    from supportxl.template import ReportTemplate

# Excel treats * ? ~ as wildcards and a leading = < > as an operator in COUNTIFS criteria.
_CRITERIA_SPECIAL = ("*", "?", "~", "=", "<", ">")
CSAT_GOOD_NAME = "CsatGood"  # defined name of the CSAT threshold cell on Settings
Value = float | int | str | None


@dataclass(frozen=True)
class Criterion:
    """One condition on the Tickets table, spoken three ways."""

    key: str  # the Tickets column
    countifs: str  # criteria argument for COUNTIFS/SUMIFS/AVERAGEIFS
    array: str  # a boolean array expression for array formulas
    mask: Callable[[pd.DataFrame], pd.Series]
    token: tuple = ()  # identifies the pandas condition, so its slice can be reused

    @property
    def range(self) -> str:
        return column(self.key).ref


def equals(key: str, ref: str, value: Any, *, texts: Sequence[str] = ()) -> Criterion:
    """``key`` equals the cell ``ref``, which holds ``value``.

    ``texts`` are all the values the cell may hold; when any of them contains a wildcard or
    starts with an operator, the COUNTIFS criterion is escaped so it matches literally.
    """
    countifs = ref
    if any(str(t).startswith(_CRITERIA_SPECIAL[3:]) or any(c in str(t) for c in "*?~") for t in texts):
        countifs = f'"="&SUBSTITUTE(SUBSTITUTE(SUBSTITUTE({ref},"~","~~"),"*","~*"),"?","~?")'
    col = column(key).ref
    return Criterion(key, countifs, f"({col}={ref})", lambda f: f[key] == value, (key, "==", value))


def compare(key: str, operator: str, ref: str, value: Any) -> Criterion:
    """``key`` compared with the cell ``ref`` (which holds ``value``) by <, <=, > or >=."""
    ops = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
    col = column(key).ref
    return Criterion(key, f'"{operator}"&{ref}', f"({col}{operator}{ref})",
                     lambda f: pd.Series(ops[operator](f[key], value), index=f.index).fillna(False),
                     (key, operator, value))


def selected(key: str, ref: str, value: str, all_label: str = "(All)") -> Criterion:
    """A drop-down filter cell: its value, or every row when it reads ``all_label``."""
    col = column(key).ref
    return Criterion(
        key, f'IF({ref}="{all_label}","*",{ref})', f'(({ref}="{all_label}")+({col}={ref})>0)',
        lambda f: pd.Series(True, index=f.index) if value == all_label else f[key] == value,
        (key, "selected", value))


def mask_of(frame: pd.DataFrame, criteria: Sequence[Criterion]) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for criterion in criteria:
        mask &= criterion.mask(frame).to_numpy(dtype=bool)
    return mask


# --- formula helpers -----------------------------------------------------------------

_RESOLVED = ("resolved_at", '">0"')  # extra COUNTIFS condition: the ticket has been resolved
_RATED = ("csat", '">=1"')


def _pairs(criteria: Sequence[Criterion], extra: Sequence[tuple[str, str]] = ()) -> str:
    pairs = [(c.range, c.countifs) for c in criteria] + [(column(k).ref, e) for k, e in extra]
    if not pairs:
        pairs = [(column("ticket_id").ref, '"<>"')]
    return ",".join(f"{r},{e}" for r, e in pairs)


def count_formula(criteria: Sequence[Criterion], extra: Sequence[tuple[str, str]] = ()) -> str:
    return f"COUNTIFS({_pairs(criteria, extra)})"


def _sum(key: str, criteria: Sequence[Criterion]) -> str:
    return f"SUMIFS({column(key).ref},{_pairs(criteria)})"


def _ratio(numerator: str, denominator: str) -> str:
    return f'IFERROR({numerator}/{denominator},"")'


def _average(key: str, criteria: Sequence[Criterion]) -> str:
    return f'IFERROR(AVERAGEIFS({column(key).ref},{_pairs(criteria)}),"")'


def _percentile(key: str, criteria: Sequence[Criterion], p: float) -> str:
    col = column(key).ref
    conditions = "*".join([c.array for c in criteria] + [f'({col}<>"")'])
    inner = f"IF({conditions},{col})"
    call = f"MEDIAN({inner})" if p == 0.5 else f"PERCENTILE({inner},{p})"
    return f'IFERROR({call},"")'


# --- pandas helpers ------------------------------------------------------------------

def _none_if_nan(value: float) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _rate(numerator: int | float, denominator: int | float) -> float | None:
    return float(numerator) / float(denominator) if denominator else None


def _rated(f: pd.DataFrame) -> pd.Series:
    return f["csat"].notna() & (f["csat"] >= 1)


def _resolved(f: pd.DataFrame) -> pd.Series:
    return f["resolved_at"].notna()


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    definition: str
    fmt: str  # number-format name of the theme
    formula: Callable[[Sequence[Criterion]], str]
    compute: Callable[[pd.DataFrame, ReportTemplate], Value]
    better: str | None = None  # "higher", "lower" or None
    target: str | None = None  # a field of template.targets
    array: bool = False  # must be written as an array formula

    def excel(self, criteria: Sequence[Criterion] = ()) -> str:
        return "=" + self.formula(criteria)

    def value(self, frame: pd.DataFrame, template: ReportTemplate,
              criteria: Sequence[Criterion] = ()) -> Value:
        return self.compute(frame[mask_of(frame, criteria)] if criteria else frame, template)


def _duration_kpis(prefix: str, key: str, label: str, what: str, target: str | None = None,
                   quartiles: bool = False) -> list[Kpi]:
    stats = [("mean", "Mean", None), ("median", "Median", 0.5), ("p90", "P90", 0.9)]
    if quartiles:
        stats[1:1] = [("q1", "Q1", 0.25)]
        stats.insert(3, ("q3", "Q3", 0.75))
    meaning = {"mean": f"Average hours {what}, over tickets that got there.",
               "median": f"Middle value of the hours {what}.",
               "p90": f"90th percentile of the hours {what}: nine in ten tickets took no longer.",
               "q1": f"Lower quartile of the hours {what}: a quarter of tickets took no longer.",
               "q3": f"Upper quartile of the hours {what}: three in four tickets took no longer."}
    kpis = []
    for stat, name, p in stats:
        if p is None:
            formula = lambda c, k=key: _average(k, c)
            compute = lambda f, t, k=key: _none_if_nan(f[k].mean())
        else:
            formula = lambda c, k=key, q=p: _percentile(k, c, q)
            compute = lambda f, t, k=key, q=p: _none_if_nan(f[k].quantile(q))
        kpis.append(Kpi(f"{prefix}_{stat}", f"{name} {label} (h)", meaning[stat], "hours", formula,
                        compute, "lower", target if stat == "median" else None, array=p is not None))
    return kpis


CATALOGUE: tuple[Kpi, ...] = (
    Kpi("tickets", "Tickets", "Tickets created.", "int", count_formula,
        lambda f, t: int(len(f))),
    *_duration_kpis("frt", "frt_hours", "first response", "from creation to the first agent response",
                    "median_first_response_hours"),
    *_duration_kpis("ttr", "ttr_hours", "resolution", "from creation to resolution",
                    "median_resolution_hours", quartiles=True),
    *_duration_kpis("escalate", "hours_to_escalate", "time to escalate",
                    "from submission to the first escalation"),
    *_duration_kpis("tier3", "hours_to_tier3", "time to Tier 3", "from submission to reaching Tier 3"),
    Kpi("handoffs_mean", "Mean hand-offs", "Average number of times an escalated ticket passed "
        "from one stakeholder to another.", "score", lambda c: _average("handoffs", c),
        lambda f, t: _none_if_nan(f["handoffs"].mean()), "lower"),
    Kpi("response_breach_rate", "Response breach %",
        "Share of tickets whose first response came after the target for their priority "
        "(or has not come and the target has passed).", "percent",
        lambda c: _ratio(_sum("response_breached", c), count_formula(c)),
        lambda f, t: _rate(f["response_breached"].sum(), len(f)), "lower"),
    Kpi("resolution_breach_rate", "Resolution breach %",
        "Share of tickets resolved after the target for their priority, or still open past it.",
        "percent", lambda c: _ratio(_sum("resolution_breached", c), count_formula(c)),
        lambda f, t: _rate(f["resolution_breached"].sum(), len(f)), "lower"),
    Kpi("resolution_compliance", "Resolution SLA %",
        "Share of tickets resolved within the target for their priority (open tickets count "
        "once their target has passed).", "percent",
        lambda c: f'IFERROR(1-{_sum("resolution_breached", c)}/{count_formula(c)},"")',
        lambda f, t: None if not len(f) else 1 - f["resolution_breached"].sum() / len(f),
        "higher", "resolution_compliance"),
    Kpi("response_compliance", "Response SLA %",
        "Share of tickets first answered within the target for their priority.", "percent",
        lambda c: f'IFERROR(1-{_sum("response_breached", c)}/{count_formula(c)},"")',
        lambda f, t: None if not len(f) else 1 - f["response_breached"].sum() / len(f),
        "higher", "response_compliance"),
    Kpi("csat", "CSAT %", "Share of rated tickets scored at or above the 'good' threshold "
        "(4 of 5 by default).", "percent",
        lambda c: _ratio(count_formula(c, [("csat", f'">="&{CSAT_GOOD_NAME}')]),
                         count_formula(c, [_RATED])),
        lambda f, t: _rate((f["csat"] >= t.csat_good_threshold).sum(), _rated(f).sum()),
        "higher", "csat"),
    Kpi("csat_mean", "Mean CSAT (1-5)", "Average rating of rated tickets.", "score",
        lambda c: _average("csat", c), lambda f, t: _none_if_nan(f["csat"].astype(float).mean()),
        "higher"),
    Kpi("csat_response_rate", "CSAT response %", "Share of resolved tickets that were rated.",
        "percent",
        lambda c: _ratio(count_formula(c, [_RATED]),
                         count_formula(c, [_RESOLVED])),
        lambda f, t: _rate(_rated(f).sum(), _resolved(f).sum())),
    Kpi("escalation_rate", "Escalation %", "Share of tickets escalated beyond Tier 1.", "percent",
        lambda c: _ratio(count_formula(c, [("escalated", '"Yes"')]), count_formula(c)),
        lambda f, t: _rate((f["escalated"] == "Yes").sum(), len(f)), "lower", "escalation_rate"),
    Kpi("reopen_rate", "Reopen %", "Share of tickets reopened at least once.", "percent",
        lambda c: _ratio(count_formula(c, [("reopen_count", '">0"')]), count_formula(c)),
        lambda f, t: _rate((f["reopen_count"] > 0).sum(), len(f)), "lower", "reopen_rate"),
    Kpi("fcr", "FCR %", "First-contact resolution: share of resolved tickets solved with one "
        "agent reply, no escalation and no reopen.", "percent",
        lambda c: _ratio(_sum("fcr", c), count_formula(c, [_RESOLVED])),
        lambda f, t: _rate(f["fcr"].sum(), _resolved(f).sum()), "higher", "fcr"),
    Kpi("backlog", "Backlog", "Tickets still open or pending at the end of the period.", "int",
        lambda c: "+".join(count_formula(c, [("status", f'"{s}"')]) for s in OPEN_STATUSES),
        lambda f, t: int(f["status"].isin(OPEN_STATUSES).sum()), "lower"),
    Kpi("resolved_within_target", "Resolved within target", "Resolved tickets whose resolution "
        "clock stayed within the target.", "int",
        lambda c: count_formula(c, [_RESOLVED, ("resolution_breached", "0")]),
        lambda f, t: int((_resolved(f) & (f["resolution_breached"] == 0)).sum())),
    Kpi("resolved_late", "Resolved late", "Resolved tickets whose resolution took longer than "
        "the target.", "int",
        lambda c: count_formula(c, [_RESOLVED, ("resolution_breached", "1")]),
        lambda f, t: int((_resolved(f) & (f["resolution_breached"] == 1)).sum()), "lower"),
    Kpi("open_within_target", "Open, within target", "Unresolved tickets whose target has not "
        "passed yet.", "int",
        lambda c: (f'{count_formula(c, [("resolution_breached", "0")])}'
                   f'-{count_formula(c, [_RESOLVED, ("resolution_breached", "0")])}'),
        lambda f, t: int((~_resolved(f) & (f["resolution_breached"] == 0)).sum())),
    Kpi("open_past_target", "Open, past target", "Unresolved tickets already past their target "
        "(they count as breached).", "int",
        lambda c: (f'{count_formula(c, [("resolution_breached", "1")])}'
                   f'-{count_formula(c, [_RESOLVED, ("resolution_breached", "1")])}'),
        lambda f, t: int((~_resolved(f) & (f["resolution_breached"] == 1)).sum()), "lower"),
    Kpi("hours_over_target", "Hours over target", "Resolution hours beyond the target, summed "
        "over breached tickets.", "hours", lambda c: _sum("hours_over_target", c),
        lambda f, t: float(f["hours_over_target"].sum()), "lower"),
    Kpi("breach_cost", "Breach cost", "Hours over the resolution target times the cost per "
        "breach hour of the ticket's priority, summed.", "currency",
        lambda c: _sum("breach_cost", c), lambda f, t: float(f["breach_cost"].sum()), "lower"),
)

KPIS = {kpi.key: kpi for kpi in CATALOGUE}


def kpi(key: str) -> Kpi:
    return KPIS[key]


def backlog_at_formula(boundary_ref: str, criteria: Sequence[Criterion] = ()) -> str:
    """Tickets (in the slice ``criteria``) created before the moment in ``boundary_ref`` and
    not resolved before it."""
    created = count_formula(criteria, [("created_at", f'"<"&{boundary_ref}')])
    resolved = count_formula(criteria, [("resolved_at", f'"<"&{boundary_ref}')])
    return f"={created}-{resolved}"


def backlog_at(frame: pd.DataFrame, boundary: pd.Timestamp) -> int:
    return int((frame["created_at"] < boundary).sum() - (frame["resolved_at"] < boundary).sum())
