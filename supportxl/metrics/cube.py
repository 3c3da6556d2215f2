"""The compact aggregate table ("Cube") of the executive template, and KPI formulas over it.

One row per month x channel x priority x team with summed measures, so sums, counts and
ratios stay live formulas (SUMIFS) under the Dashboard's filters without the ticket rows.
Medians and percentiles cannot be rebuilt from sums: they are written as values.
SLA flags and the CSAT threshold are applied when the cube is made, so editing Settings
does not re-flag tickets in a compact workbook (About says so).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from supportxl.metrics.columns import Column, column
from supportxl.metrics.kpis import Criterion

CUBE_TABLE = "Cube"
CUBE_DIMS = ("month", "channel", "priority", "team")
# measure key -> (header, how it is computed from the derived ticket table)
MEASURES: dict[str, tuple[str, Callable[[pd.DataFrame, int], pd.Series]]] = {
    "tickets": ("Tickets", lambda f, g: pd.Series(1, index=f.index)),
    "frt_sum": ("First response hours", lambda f, g: f["frt_hours"].fillna(0.0)),
    "frt_count": ("First responses", lambda f, g: f["frt_hours"].notna().astype(int)),
    "ttr_sum": ("Resolution hours", lambda f, g: f["ttr_hours"].fillna(0.0)),
    "resolved": ("Resolved", lambda f, g: f["resolved_at"].notna().astype(int)),
    "response_breached": ("Response breached", lambda f, g: f["response_breached"]),
    "resolution_breached": ("Resolution breached", lambda f, g: f["resolution_breached"]),
    "resolved_late": ("Resolved late", lambda f, g: (f["resolved_at"].notna() & (f["resolution_breached"] == 1)).astype(int)),
    "open_past": ("Open past target", lambda f, g: (f["resolved_at"].isna() & (f["resolution_breached"] == 1)).astype(int)),
    "open": ("Open", lambda f, g: f["status"].isin(("Open", "Pending")).astype(int)),
    "rated": ("Rated", lambda f, g: f["csat"].notna().astype(int)),
    "good": ("Rated good", lambda f, g: (f["csat"] >= g).fillna(False).astype(int)),
    "csat_sum": ("CSAT points", lambda f, g: f["csat"].fillna(0).astype(float)),
    "escalated": ("Escalated", lambda f, g: (f["escalated"] == "Yes").astype(int)),
    "reopened": ("Reopened", lambda f, g: (f["reopen_count"] > 0).astype(int)),
    "fcr": ("FCR", lambda f, g: f["fcr"]),
    "hours_over": ("Hours over target", lambda f, g: f["hours_over_target"]),
    "breach_cost": ("Breach cost", lambda f, g: f["breach_cost"]),
}
CUBE_COLUMNS = tuple(
    [column(key) for key in CUBE_DIMS]
    + [Column(key, header, "hours" if key.endswith("_sum") or key == "hours_over" else
              "currency" if key == "breach_cost" else "int") for key, (header, _) in MEASURES.items()])


def cube_frame(frame: pd.DataFrame, csat_good_threshold: int) -> pd.DataFrame:
    """The tickets summed by month, channel, priority and team (sorted, so output is stable)."""
    measures = pd.DataFrame({key: make(frame, csat_good_threshold) for key, (_, make) in MEASURES.items()})
    grouped = measures.groupby([frame[d] for d in CUBE_DIMS], sort=True).sum().reset_index()
    for key in MEASURES:
        if key not in ("frt_sum", "ttr_sum", "hours_over", "breach_cost", "csat_sum"):
            grouped[key] = grouped[key].astype(np.int64)
    return grouped


def _pairs(criteria: Sequence[Criterion]) -> str:
    pairs = [f"{CUBE_TABLE}[{column(c.key).header}],{c.countifs}" for c in criteria]
    if any(c.key not in CUBE_DIMS for c in criteria):
        raise ValueError(f"the cube has no column for {[c.key for c in criteria if c.key not in CUBE_DIMS]}")
    return "," + ",".join(pairs) if pairs else ""


def _sum(measure: str, criteria: Sequence[Criterion]) -> str:
    header = MEASURES[measure][0]
    if not criteria:
        return f"SUM({CUBE_TABLE}[{header}])"
    return f"SUMIFS({CUBE_TABLE}[{header}]{_pairs(criteria)})"


def _ratio(numerator: str, denominator: str, criteria: Sequence[Criterion]) -> str:
    return f'IFERROR({_sum(numerator, criteria)}/{_sum(denominator, criteria)},"")'


def _complement(numerator: str, denominator: str, criteria: Sequence[Criterion]) -> str:
    return f'IFERROR(1-{_sum(numerator, criteria)}/{_sum(denominator, criteria)},"")'


# KPI key -> its formula over the cube. KPIs not listed are written as values.
CUBE_FORMULAS: dict[str, Callable[[Sequence[Criterion]], str]] = {
    "tickets": lambda c: _sum("tickets", c),
    "frt_mean": lambda c: _ratio("frt_sum", "frt_count", c),
    "ttr_mean": lambda c: _ratio("ttr_sum", "resolved", c),
    "response_breach_rate": lambda c: _ratio("response_breached", "tickets", c),
    "resolution_breach_rate": lambda c: _ratio("resolution_breached", "tickets", c),
    "resolution_compliance": lambda c: _complement("resolution_breached", "tickets", c),
    "response_compliance": lambda c: _complement("response_breached", "tickets", c),
    "csat": lambda c: _ratio("good", "rated", c),
    "csat_mean": lambda c: _ratio("csat_sum", "rated", c),
    "csat_response_rate": lambda c: _ratio("rated", "resolved", c),
    "escalation_rate": lambda c: _ratio("escalated", "tickets", c),
    "reopen_rate": lambda c: _ratio("reopened", "tickets", c),
    "fcr": lambda c: _ratio("fcr", "resolved", c),
    "backlog": lambda c: _sum("open", c),
    "resolved_within_target": lambda c: f"{_sum('resolved', c)}-{_sum('resolved_late', c)}",
    "resolved_late": lambda c: _sum("resolved_late", c),
    "open_within_target": lambda c: f"{_sum('open', c)}-{_sum('open_past', c)}",
    "open_past_target": lambda c: _sum("open_past", c),
    "hours_over_target": lambda c: _sum("hours_over", c),
    "breach_cost": lambda c: _sum("breach_cost", c),
}
