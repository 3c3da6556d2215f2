"""The compact aggregate table ("Cube") of the executive template, and KPI formulas over it.

One row per month x channel x priority x team, with one column per additive measure of the
KPI catalogue (counts and sums; a mean is its sum over its count), so sums, counts and ratios
stay live formulas (SUMIFS) under the Dashboard's filters without the ticket rows. Percentiles
cannot be rebuilt from sums: they are written as values. SLA flags and the CSAT threshold are
applied when the cube is made, so editing Settings does not re-flag tickets in a compact
workbook (About says so).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from supportxl.metrics.kpis import CATALOGUE, Count, Criterion, Kpi, Mean, Measure, Policy, Quantile, Sum
from supportxl.schema import Column, column

CUBE_TABLE = "Cube"
CUBE_DIMS = ("month", "channel", "priority", "team")


def _additive(measure: Measure) -> tuple[Count | Sum, ...]:
    if isinstance(measure, Mean):
        return (measure.total, measure.count)
    if isinstance(measure, Quantile):
        return ()
    return (measure,)


# Every additive measure the catalogue uses, once, in catalogue order.
CUBE_MEASURES: tuple[Count | Sum, ...] = tuple(dict.fromkeys(
    part for item in CATALOGUE for measure in item.expression.measures for part in _additive(measure)))
assert len({m.label for m in CUBE_MEASURES}) == len(CUBE_MEASURES), "cube headers must be unique"


def _measure_format(measure: Count | Sum) -> str:
    if isinstance(measure, Count):
        return "int"
    return "currency" if column(measure.key).fmt == "currency" else "hours" if \
        column(measure.key).fmt == "hours" else "int"


# Tickets resolved in a row's month (whatever month they were created in): with the tickets
# created, it gives the backlog at any month's end under the filters.
RESOLVED_IN_MONTH = "Resolved in month"
CUBE_COLUMNS = tuple([column(key) for key in CUBE_DIMS] + [
    Column(m.label, m.label, _measure_format(m), table=CUBE_TABLE) for m in CUBE_MEASURES]
    + [Column(RESOLVED_IN_MONTH, RESOLVED_IN_MONTH, "int", table=CUBE_TABLE)])


def cube_frame(frame: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """The tickets summed by month, channel, priority and team (sorted, so output is stable):
    by the month they were created in, and their resolutions by the month they happened in."""
    measures = pd.DataFrame({m.label: m.rows(frame, policy) for m in CUBE_MEASURES}, index=frame.index)
    created = measures.groupby([frame[d] for d in CUBE_DIMS], sort=True).sum()
    resolved = frame[frame["resolved_at"].notna()]
    resolved_month = resolved["resolved_at"].dt.to_period("M").dt.to_timestamp().rename("month")
    resolutions = resolved.groupby([resolved_month, *(resolved[d] for d in CUBE_DIMS[1:])], sort=True).size()
    grouped = created.join(resolutions.rename(RESOLVED_IN_MONTH), how="outer").fillna(0).reset_index()
    for m in CUBE_MEASURES:
        if _measure_format(m) == "int":
            grouped[m.label] = grouped[m.label].round().astype(np.int64)
    grouped[RESOLVED_IN_MONTH] = grouped[RESOLVED_IN_MONTH].astype(np.int64)
    return grouped


def cube_resolved_in_month_formula(month_ref: str, criteria: Sequence[Criterion] = ()) -> str:
    """Tickets (in the slice) resolved in the month in ``month_ref``, from the cube."""
    in_month = Criterion("month", month_ref, "", "==", None)
    return "=" + _sum(Count(RESOLVED_IN_MONTH), [*criteria, in_month])


def cube_backlog_at_formula(boundary_ref: str, criteria: Sequence[Criterion] = ()) -> str:
    """Tickets (in the slice) open at the month boundary in ``boundary_ref``, from the cube:
    created in months before it, less resolved in months before it."""
    before = Criterion("month", f'"<"&{boundary_ref}', "", "<", None)
    created = _sum(Count("Tickets"), [*criteria, before])
    resolved = _sum(Count(RESOLVED_IN_MONTH), [*criteria, before])
    return f"={created}-{resolved}"


def _sum(measure: Count | Sum, criteria: Sequence[Criterion]) -> str:
    ref = f"{CUBE_TABLE}[{measure.label}]"
    if not criteria:
        return f"SUM({ref})"
    unknown = [c.key for c in criteria if c.key not in CUBE_DIMS]
    if unknown:
        raise ValueError(f"the cube has no column for {unknown}")
    pairs = ",".join(f"{CUBE_TABLE}[{column(c.key).header}],{c.countifs}" for c in criteria)
    return f"SUMIFS({ref},{pairs})"


def cube_formula(kpi: Kpi, criteria: Sequence[Criterion]) -> str | None:
    """``kpi``'s formula over the cube (without '='), or None where it can only be a value."""
    if kpi.array:
        return None

    def part(measure: Measure) -> str:
        if isinstance(measure, Mean):
            return f'IFERROR({_sum(measure.total, criteria)}/{_sum(measure.count, criteria)},"")'
        return _sum(measure, criteria)

    return kpi.expression.formula(part)
