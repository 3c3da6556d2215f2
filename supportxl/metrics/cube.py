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


CUBE_COLUMNS = tuple([column(key) for key in CUBE_DIMS] + [
    Column(m.label, m.label, _measure_format(m), table=CUBE_TABLE) for m in CUBE_MEASURES])


def cube_frame(frame: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """The tickets summed by month, channel, priority and team (sorted, so output is stable)."""
    measures = pd.DataFrame({m.label: m.rows(frame, policy) for m in CUBE_MEASURES}, index=frame.index)
    grouped = measures.groupby([frame[d] for d in CUBE_DIMS], sort=True).sum().reset_index()
    for m in CUBE_MEASURES:
        if _measure_format(m) == "int":
            grouped[m.label] = grouped[m.label].round().astype(np.int64)
    return grouped


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
