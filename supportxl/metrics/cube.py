"""The compact aggregate table ("Cube") of the executive template, and KPI formulas over it.

One row per month x channel x priority x team, with one column per additive measure of the
KPI catalogue (counts and sums; a mean is its sum over its count), so sums, counts and ratios
stay live formulas (SUMIFS) under the Dashboard's filters without the ticket rows. Percentiles
cannot be rebuilt from sums: under the Dashboard's filters they are look-ups in the
Percentiles table below, elsewhere values. SLA flags and the CSAT threshold are
applied when the cube is made, so editing Settings does not re-flag tickets in a compact
workbook (About says so).
"""

from __future__ import annotations

from collections.abc import Sequence

import itertools

import numpy as np
import pandas as pd

from supportxl.metrics.kpis import CATALOGUE, Count, Criterion, Kpi, Mean, Measure, Policy, Quantile, Sum
from supportxl.metrics.periods import MONTH, QUARTER, YEAR, period_keys
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


def cube_column(key: str) -> str:
    """The structured reference of a dimension column of the cube, e.g. Cube[Month]."""
    return f"{CUBE_TABLE}[{column(key).header}]"


def _sum(measure: Count | Sum, criteria: Sequence[Criterion]) -> str:
    ref = f"{CUBE_TABLE}[{measure.label}]"
    if not criteria:
        return f"SUM({ref})"
    unknown = [c.key for c in criteria if c.key not in CUBE_DIMS]
    if unknown:
        raise ValueError(f"the cube has no column for {unknown}")
    pairs = ",".join(f"{cube_column(c.key)},{c.countifs}" for c in criteria)
    return f"SUMIFS({ref},{pairs})"


def cube_formula(kpi: Kpi, criteria: Sequence[Criterion]) -> str | None:
    """``kpi``'s formula over the cube (without '='), or None where it can only be a value."""
    if kpi.array:
        return percentile_formula(kpi, criteria)

    def part(measure: Measure) -> str:
        if isinstance(measure, Mean):
            return f'IFERROR({_sum(measure.total, criteria)}/{_sum(measure.count, criteria)},"")'
        return _sum(measure, criteria)

    return kpi.expression.formula(part)


# --- percentiles: a value per filter selection, looked up live --------------------------
#
# A median cannot be summed from the cube's rows, but the Dashboard's filters pick one of a
# few thousand selections (a period or all, a channel or all, ...). The Percentiles table holds
# each percentile for every selection that has one, keyed like
# "2025-03|Email|(All)|(All)|Median Resolution (h)" (the period a month "2025-03", a quarter
# "2025-Q1" or a year "2025"), so a compact workbook's medians and P90s follow the filters as
# live look-ups (a selection without a value is not listed: empty).

PERCENTILES_TABLE = "Percentiles"
ALL = "(All)"
PERCENTILE_MEASURES: tuple[Quantile, ...] = tuple(dict.fromkeys(
    m for key in ("frt_median", "frt_p90", "ttr_median", "ttr_p90")
    for m in next(k for k in CATALOGUE if k.key == key).expression.measures))
PERCENTILE_KEY, PERCENTILE_VALUE = "Selection", "Hours"


def percentile_name(measure: Quantile) -> str:
    stat = "Median" if measure.p == 0.5 else f"P{round(measure.p * 100)}"
    return f"{stat} {column(measure.key).header}"


PERCENTILE_COLUMNS = (Column(PERCENTILE_KEY, PERCENTILE_KEY, table=PERCENTILES_TABLE),
                      Column(PERCENTILE_VALUE, PERCENTILE_VALUE, "hours", table=PERCENTILES_TABLE))


def percentile_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every percentile of PERCENTILE_MEASURES for every selection of the cube's dimensions
    (each a value or all; the month dimension a month, a quarter or a year) that has one, keyed
    period, channel, priority, team and the percentile's name, sorted by key."""
    codes, names = {}, {}

    def factorize(name: str, labels: pd.Series) -> None:
        codes[name], uniques = pd.factorize(labels)
        names[name] = np.asarray(uniques, dtype=object)

    for length in (MONTH, QUARTER, YEAR):
        factorize(f"month{length}", period_keys(frame["month"], length))
    for d in CUBE_DIMS[1:]:
        factorize(d, frame[d].astype(str))
    values = frame[list(dict.fromkeys(m.key for m in PERCENTILE_MEASURES))]
    parts = []
    for chosen in itertools.product((False, MONTH, QUARTER, YEAR), *[(False, True)] * (len(CUBE_DIMS) - 1)):
        keys = [f"month{chosen[0]}"] if chosen[0] else []
        keys += [d for d, c in zip(CUBE_DIMS[1:], chosen[1:]) if c]
        grouped = values.groupby([codes[d] for d in keys], sort=False) if keys else None
        for m in PERCENTILE_MEASURES:
            if grouped is None:
                column_values = values[m.key].dropna()
                stats = pd.Series([column_values.quantile(m.p)] if len(column_values) else [], dtype=float)
                picked = [()] * len(stats)
            else:
                stats = grouped[m.key].quantile(m.p).dropna()
                picked = [g if isinstance(g, tuple) else (g,) for g in stats.index]
            texts = []
            for group in picked:
                given = {("month" if d.startswith("month") else d): names[d][code] for d, code in zip(keys, group)}
                texts.append("|".join([*(given.get(d, ALL) for d in CUBE_DIMS), percentile_name(m)]))
            parts.append(pd.DataFrame({PERCENTILE_KEY: texts, PERCENTILE_VALUE: stats.to_numpy(dtype=float)}))
    table = pd.concat(parts, ignore_index=True)
    return table.sort_values(PERCENTILE_KEY, kind="stable").reset_index(drop=True)


def _selection_part(key: str, criteria: Sequence[Criterion]) -> str | None:
    """The key text the criteria pick for one dimension, as a formula; None if they pick none."""
    tests = [c for c in criteria if c.key == key]
    if not tests:
        return f'"{ALL}"'
    if key == "month":
        periods = {c.period for c in tests}
        if len(periods) == 1 and "" not in periods:  # the bounds of one period, which names its key
            return periods.pop()
        if len(tests) == 1 and tests[0].op == "==" and tests[0].ref:
            return f'TEXT({tests[0].ref},"yyyy-mm")'
        return None
    if len(tests) > 1 or not tests[0].ref:
        return None
    test = tests[0]
    return test.ref if test.op in ("==", "all") else None


def percentile_formula(kpi: Kpi, criteria: Sequence[Criterion]) -> str | None:
    """A percentile KPI over the slice as a look-up in the Percentiles table, or None where the
    criteria are not a selection of the cube's dimensions."""
    measures = kpi.expression.measures
    if len(measures) != 1 or measures[0] not in PERCENTILE_MEASURES:
        return None
    if any(c.key not in CUBE_DIMS for c in criteria):
        return None
    parts = [_selection_part(d, criteria) for d in CUBE_DIMS]
    if any(p is None for p in parts):
        return None
    # MATCH reads * ? ~ in its key as wildcards: escape them, so every value matches literally.
    key = '&"|"&'.join(f'SUBSTITUTE(SUBSTITUTE(SUBSTITUTE({p},"~","~~"),"*","~*"),"?","~?")'
                       if not p.startswith('"') else p for p in parts)
    lookup = f'{key}&"|{percentile_name(measures[0])}"'
    return (f"IFERROR(INDEX({PERCENTILES_TABLE}[{PERCENTILE_VALUE}],"
            f'MATCH({lookup},{PERCENTILES_TABLE}[{PERCENTILE_KEY}],0)),"")')
