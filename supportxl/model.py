"""The report model: the derived tables of a report and every KPI value it shows, computed once.

``plan(dataset, template)`` derives the ticket table and the escalation log once. The model then
answers "this KPI over this slice" for every sheet, the CSV reports, the insights and the e-mail
headline. Values are computed by vectorised group-bys: the first time a grid asks for a KPI by
(say) month, the KPI's measures are summed for every month at once and the grid's other cells
are look-ups, so a build does a few dozen group-bys instead of a pandas mask per cell.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supportxl.dataset import Dataset
from supportxl.metrics.kpis import (CATALOGUE, Count, Criterion, Kpi, Mean, Measure, Policy, Quantile, Sum,
                                    Value, backlog_at, mask_of)
from supportxl.metrics.forecast import Forecast, forecast_volume
from supportxl.metrics.staffing import HandleTime, StaffingPlan, handle_time, staffing_plan
from supportxl.schema import OPEN_RULE

if TYPE_CHECKING:
    from supportxl.template import ReportTemplate


@dataclass
class _Groups:
    """The rows of one slice split by the values of some columns."""

    # group number of each row, -1 for rows outside the slice; in the smallest integer type
    # that holds them: a build keeps a few hundred of these, one per slice a sheet asks for
    codes: np.ndarray
    index: dict[tuple, int]  # the grouping columns' values -> group number
    size: int


def _distinct(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for integers in [0, size), counted in one
    pass instead of sorted where the range is small beside the values."""
    if size > 4 * len(values) + 65_536:
        return np.unique(values, return_inverse=True)
    present = np.flatnonzero(np.bincount(values, minlength=size))
    number = np.zeros(size, dtype=np.int64)
    number[present] = np.arange(len(present))
    return present, number[values]


class Evaluator:
    """KPI values over slices of one ticket table, by vectorised group-bys with caching."""

    def __init__(self, frame: pd.DataFrame, policy: Policy) -> None:
        self.frame = frame
        self.policy = policy
        self._groups: dict[tuple, _Groups] = {}
        self._totals: dict[tuple, np.ndarray] = {}
        self._rows: dict[Measure, np.ndarray] = {}
        self._factorized: dict[str, tuple[np.ndarray, pd.Index]] = {}

    def value(self, kpi: Kpi, criteria: Sequence[Criterion] = ()) -> Value:
        """``kpi`` over the tickets matching every criterion."""
        groups, where = self._split(criteria)
        parts = [self._measure(m, groups, where) for m in kpi.expression.measures]
        return kpi.expression.combine(*parts)

    def by(self, kpi: Kpi, keys: Sequence[str], criteria: Sequence[Criterion] = ()) -> pd.Series:
        """``kpi`` for every combination of ``keys`` present in the slice, as a Series."""
        slice_ = self._grouping(tuple(c for c in criteria if c.op != "all"), tuple(keys))
        values = {}
        for group in slice_.index:
            equal = dict(zip(keys, group))
            values[group if len(keys) > 1 else group[0]] = self.value(
                kpi, [*criteria, *(Criterion(k, "", "", "==", v) for k, v in equal.items())])
        return pd.Series(values, dtype=object)

    # --- internals ---------------------------------------------------------------------

    def _split(self, criteria: Sequence[Criterion]) -> tuple[_Groups, int]:
        """The grouping for these criteria (equalities group, other tests filter) and the
        group the criteria's values pick (-1 when no ticket has them)."""
        equal = sorted((c for c in criteria if c.op == "=="), key=lambda c: c.key)
        keys = tuple(c.key for c in equal)
        if len(set(keys)) != len(keys):  # two tests of one column: every one filters
            return self._grouping(tuple(c for c in criteria if c.op != "all"), ()), 0
        filters = tuple(c for c in criteria if c.op not in ("==", "all"))
        groups = self._grouping(filters, keys)
        return groups, groups.index.get(tuple(c.value for c in equal), -1)

    def _grouping(self, filters: tuple[Criterion, ...], keys: tuple[str, ...]) -> _Groups:
        cache_key = (tuple(c.token for c in filters), keys)
        if cache_key not in self._groups:
            frame = self.frame
            inside = mask_of(frame, filters) if filters else np.ones(len(frame), dtype=bool)
            if not keys:
                codes = np.where(inside, 0, -1).astype(np.int8)
                self._groups[cache_key] = _Groups(codes, {(): 0}, 1)
            else:
                parts = [self._codes(k) for k in keys]
                inside &= np.all([codes >= 0 for codes, _ in parts], axis=0)
                shape = tuple(max(len(uniques), 1) for _, uniques in parts)
                flat = np.ravel_multi_index([np.where(inside, c, 0) for c, _ in parts], shape)
                present, codes = _distinct(flat[inside], int(np.prod(shape)))
                row_codes = np.full(len(frame), -1, dtype=np.int32 if len(present) < 2**31 else np.int64)
                row_codes[inside] = codes
                positions = zip(*np.unravel_index(present, shape))
                index = {tuple(_plain(uniques[i]) for (_, uniques), i in zip(parts, position)): number
                         for number, position in enumerate(positions)}
                self._groups[cache_key] = _Groups(row_codes, index, len(present))
        return self._groups[cache_key]

    def _codes(self, key: str) -> tuple[np.ndarray, pd.Index]:
        """Column ``key`` factorised (-1 for a missing value), once per column."""
        if key not in self._factorized:
            self._factorized[key] = pd.factorize(self.frame[key], use_na_sentinel=True)
        return self._factorized[key]

    def _measure(self, measure: Measure, groups: _Groups, group: int) -> Value:
        if isinstance(measure, (Count, Sum)):
            totals = self._sums(measure, groups)
            return measure.finish(totals[group] if group >= 0 else 0.0)
        if isinstance(measure, Mean):
            if group < 0:
                return None
            count = self._sums(measure.count, groups)[group]
            return float(self._sums(measure.total, groups)[group] / count) if count else None
        return self._quantile(measure, groups, group)

    def _sums(self, measure: Count | Sum, groups: _Groups) -> np.ndarray:
        key = (id(groups), measure)
        if key not in self._totals:
            if measure not in self._rows:
                self._rows[measure] = measure.rows(self.frame, self.policy)
            inside = groups.codes >= 0
            self._totals[key] = np.bincount(groups.codes[inside], weights=self._rows[measure][inside],
                                            minlength=groups.size)
        return self._totals[key]

    def _quantile(self, measure: Quantile, groups: _Groups, group: int) -> float | None:
        if group < 0:
            return None
        key = (id(groups), measure)
        if key not in self._totals:
            values = self.frame[measure.key].to_numpy(dtype=float, na_value=np.nan)
            usable = (groups.codes >= 0) & ~np.isnan(values)
            result = pd.Series(values[usable]).groupby(groups.codes[usable]).quantile(measure.p)
            self._totals[key] = result.reindex(range(groups.size)).to_numpy(dtype=float)
        value = self._totals[key][group]
        return None if np.isnan(value) else float(value)


def _plain(value: Any) -> Any:
    """A grouping value as the criteria hold it (numpy scalars as Python ones)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


# How the numbers are counted, on every kind of source: shown on the About sheet.
RULES: tuple[tuple[str, str], ...] = (
    ("Open tickets", OPEN_RULE),
    ("As of", "The data's as-of time is the latest timestamp of any kind in the data (or the "
              "--as-of time given): what happened after it has not happened yet."),
    ("No SLA target", "A ticket whose priority has no target (unknown or missing priority) is "
                      "left out of both SLA percentages, numerator and denominator; it is counted "
                      "in the 'No SLA target' column, never as met."),
    ("Not available", "A KPI whose input the source does not have shows n/a (with the reason), "
                      "never 0 % or 100 %; no insight is drawn from it or from an 'Unknown' value."),
    ("Categories", "Values that differ only in letter case or spaces are one value (the most "
                   "frequent spelling), as Excel's COUNTIFS matches them; a value that looks like "
                   "an operator, a wildcard or a number is matched literally."),
    ("Time", "Durations are measured in absolute time (UTC), so a daylight-saving change never "
             "adds or removes an hour; times are shown in the report's time zone."),
)


@dataclass
class ReportModel:
    """Everything a report shows, computed once from one dataset and one template."""

    dataset: Dataset
    template: ReportTemplate
    frame: pd.DataFrame  # the derived ticket table (times in the report's zone)
    events: pd.DataFrame  # the escalation log with step durations and ticket fields
    as_of: pd.Timestamp  # the data's as-of moment, in the report's zone
    missing_fields: tuple[str, ...] = ()
    evaluator: Evaluator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.evaluator = Evaluator(self.frame, Policy(self.template.csat_good_threshold))

    def value(self, kpi: Kpi, criteria: Sequence[Criterion] = ()) -> Value:
        """``kpi`` over the slice; "n/a" where the source lacks what it needs."""
        if self.unavailable(kpi):
            return None
        return self.evaluator.value(kpi, criteria)

    def by(self, kpi: Kpi, keys: Sequence[str], criteria: Sequence[Criterion] = ()) -> pd.Series:
        return self.evaluator.by(kpi, keys, criteria)

    def slice(self, criteria: Sequence[Criterion]) -> pd.DataFrame:
        """The tickets matching ``criteria``."""
        return self.frame[mask_of(self.frame, criteria)] if criteria else self.frame

    def backlog_at(self, boundary: pd.Timestamp, criteria: Sequence[Criterion] = ()) -> int:
        """Tickets in the slice open at ``boundary``: created before it, not resolved before it."""
        return backlog_at(self.slice(criteria), boundary)

    def resolved_between(self, start: pd.Timestamp, end: pd.Timestamp,
                         criteria: Sequence[Criterion] = ()) -> int:
        """Tickets in the slice resolved at or after ``start`` and before ``end``."""
        resolved = self.slice(criteria)["resolved_at"]
        return int(((resolved >= start) & (resolved < end)).sum())

    def step_hours(self, criteria: Sequence[Criterion] = ()) -> pd.DataFrame:
        """Hours in each escalation step of the events in the slice, by activity: the number of
        timed steps, their mean, median, P90 and sum."""
        events = self.events
        if criteria and len(events):
            events = events[mask_of(events, criteria)]
        hours = events.dropna(subset=["hours_in_step"]).groupby("activity")["hours_in_step"]
        return pd.DataFrame({"count": hours.size(), "mean": hours.mean(), "median": hours.median(),
                             "p90": hours.quantile(0.9), "sum": hours.sum()})

    @functools.cached_property
    def forecast(self) -> Forecast:
        """Weekly ticket volumes ahead, with the backtested interval."""
        plan = self.template.plan
        return forecast_volume(self.frame["created_at"], self.as_of, plan.forecast_weeks, plan.interval)

    @functools.cached_property
    def handle_time(self) -> HandleTime:
        """The staffing table's handle time: the template's, else the mean the data tracks."""
        return handle_time(self.frame, self.template.plan.handle_minutes)

    @functools.cached_property
    def staffing(self) -> StaffingPlan:
        """Agents needed by weekday and hour for the forecast volume (Erlang C)."""
        start, end = self.dataset.period
        forecast = self.forecast
        per_week = float(forecast.point.mean()) if forecast.available else None
        plan = self.template.plan
        return staffing_plan(self.frame, start, end, per_week, self.handle_time.minutes, plan.service_level)

    def unavailable(self, kpi: Kpi) -> str | None:
        """Why ``kpi`` cannot be computed from this source, or None when it can."""
        return kpi.unavailable(self.missing_fields)

    def unavailable_kpis(self) -> list[tuple[Kpi, str]]:
        """Every catalogue KPI this source cannot give, with the reason."""
        return [(item, reason) for item in CATALOGUE if (reason := self.unavailable(item))]


def last_complete_month(as_of: pd.Timestamp, maturity_days: int) -> pd.Timestamp:
    """The last month that ended at least ``maturity_days`` before the as-of time: what a
    month-on-month comparison looks at (a younger month still has tickets maturing)."""
    mature = as_of - pd.Timedelta(days=maturity_days)
    return pd.Timestamp(mature.year, mature.month, 1) - pd.DateOffset(months=1)


def plan(dataset: Dataset, template: ReportTemplate) -> ReportModel:
    """The report model of ``dataset`` under ``template``."""
    from supportxl.metrics.derive import derive, missing_status_fields

    frame, events, as_of = derive(dataset, template)
    return ReportModel(dataset, template, frame, events, as_of,
                       (*dataset.manifest.get("missing_fields", ()), *missing_status_fields(dataset)))
