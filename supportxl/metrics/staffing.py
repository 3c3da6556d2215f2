"""Erlang C staffing: how many agents answer the target share of tickets within the answer time.

Tickets arrive at ``rate`` per hour and take ``handle_minutes`` of agent work each, so the
offered load is A = rate x handle time (in hours): the agents busy on average. With c agents
(c > A) and N ~ Poisson(A),

    C(c, A) = P(N = c) / (P(N = c) + (1 - A / c) P(N < c))      the chance a ticket waits
    SL(c)   = 1 - C(c, A) exp(-(c - A) t / h)                   the share answered within t

(h the handle time, t the answer-time target). The agents needed are the smallest c whose SL
meets the target. The workbook says the same with POISSON.DIST, so the table stays live on the
Settings assumptions; ``agents_formula`` writes it, ``agents_needed`` computes its value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from supportxl.schema import WEEKDAY_LABELS

# Candidate staffing levels: INT(A)+1 .. INT(A)+MAX_EXTRA_AGENTS. A level needing more is
# shown blank (an assumption far outside what one team can staff).
MAX_EXTRA_AGENTS = 60
_STEPS = "{" + ",".join(str(k) for k in range(1, MAX_EXTRA_AGENTS + 1)) + "}"


def _poisson_log_pmf(k: int, mean: float) -> float:
    return -mean + k * math.log(mean) - math.lgamma(k + 1)


def erlang_c(load: float, agents: int) -> float:
    """The probability that a ticket waits, with ``agents`` agents and ``load`` Erlangs offered."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return 1.0
    at_c = math.exp(_poisson_log_pmf(agents, load))
    below_c = sum(math.exp(_poisson_log_pmf(k, load)) for k in range(agents))
    return at_c / (at_c + (1 - load / agents) * below_c)


def service_level(load: float, agents: int, handle_minutes: float, answer_hours: float) -> float:
    """The share of tickets answered within ``answer_hours`` (0 when the queue grows without end)."""
    if load <= 0:
        return 1.0
    if agents <= load:
        return 0.0
    handle_hours = handle_minutes / 60
    return 1 - erlang_c(load, agents) * math.exp(-(agents - load) * answer_hours / handle_hours)


def agents_needed(rate: float, handle_minutes: float, answer_hours: float, target: float) -> int | None:
    """The fewest agents that answer ``target`` of tickets within ``answer_hours``, for ``rate``
    tickets per hour; None beyond the candidate levels the workbook's formula searches."""
    load = rate * handle_minutes / 60
    if load <= 0:
        return 0
    for step in range(1, MAX_EXTRA_AGENTS + 1):
        agents = int(load) + step
        if service_level(load, agents, handle_minutes, answer_hours) >= target:
            return agents
    return None


def agents_formula(load: str, handle_minutes: str, answer_hours: str, target: str) -> str:
    """The array formula (without '=') of ``agents_needed``, for the offered load in the cell
    ``load`` and the assumptions in the cells (or names) given."""
    c = f"(INT({load})+{_STEPS})"
    at_c = f"_xlfn.POISSON.DIST({c},{load},FALSE)"
    below_c = f"_xlfn.POISSON.DIST({c}-1,{load},TRUE)"
    waits = f"{at_c}/({at_c}+(1-{load}/{c})*{below_c})"
    level = f"1-{waits}*EXP(-({c}-{load})*{answer_hours}*60/{handle_minutes})"
    return f'IF({load}<=0,0,IFERROR(SMALL(IF({level}>={target},{c}),1),""))'


def weekday_days(start: pd.Timestamp, end: pd.Timestamp) -> dict[str, int]:
    """How many of each weekday the days ``start`` .. ``end`` (inclusive) hold."""
    days = pd.date_range(start.normalize(), end.normalize(), freq="D")
    counts = np.bincount(days.day_of_week, minlength=7)
    return {label: int(n) for label, n in zip(WEEKDAY_LABELS, counts)}


def arrival_rates(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                  factor: float = 1.0) -> pd.DataFrame:
    """Tickets per hour by weekday (rows, Mon..Sun) and hour of day (columns, 0..23): the
    tickets created in that hour over the period, per such weekday in it, times ``factor``."""
    days = weekday_days(start, end)
    counts = pd.crosstab(frame["weekday"], frame["hour"]).reindex(
        index=list(WEEKDAY_LABELS), columns=range(24), fill_value=0)
    per_day = np.array([days[d] for d in WEEKDAY_LABELS], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(per_day[:, None] > 0, counts.to_numpy(dtype=float) / per_day[:, None], 0.0)
    return pd.DataFrame(rates * factor, index=counts.index, columns=counts.columns)


DEFAULT_HANDLE_MINUTES = 12.0  # the assumption where the data tracks no agent work time


@dataclass(frozen=True)
class HandleTime:
    """The handle time the staffing table assumes, and where it comes from."""

    minutes: float
    measured: int  # resolved tickets with time tracked (0: the data tracks none)
    resolved: int  # resolved tickets in the data
    given: bool  # set in the template (it then wins over a measurement)
    measured_minutes: float | None = None  # the data's mean work time, where it tracks one

    def describe(self) -> str:
        """Where the value comes from, as Settings, Plan and About say it."""
        if self.given:
            text = "assumption set in the template"
            if self.measured_minutes is not None:
                text += f" (the data's mean: {self.measured_minutes:g} min over {self.measured:,} tickets)"
            return text
        if self.measured:
            share = f" of {self.resolved:,} resolved" if self.measured < self.resolved else ""
            return f"measured: mean of {self.measured:,} tickets with time tracked{share}"
        return "assumption: the data tracks no agent work time"

    def sentence(self) -> str:
        text = self.describe()
        return text[0].upper() + text[1:] + "."


def handle_time(frame: pd.DataFrame, given: float | None) -> HandleTime:
    """The handle time in minutes: ``given`` when the template sets it, else the mean agent work
    time of the resolved tickets with time tracked (above zero), else DEFAULT_HANDLE_MINUTES.
    Rounded to the hundredth of a minute, the value the Settings cell holds."""
    resolved = frame["resolved_at"].notna().to_numpy()
    work = frame["work_hours"].to_numpy(dtype=float)[resolved]
    tracked = work[~np.isnan(work) & (work > 0)]
    measured = round(float(tracked.mean()) * 60, 2) if len(tracked) else None
    minutes = given if given is not None else measured if measured is not None else DEFAULT_HANDLE_MINUTES
    return HandleTime(float(minutes), len(tracked), int(resolved.sum()), given is not None, measured)


# Defined names of the planning assumptions on Settings.
SERVICE_LEVEL_NAME = "PlanServiceLevel"
HANDLE_MINUTES_NAME = "PlanHandleMinutes"
ANSWER_HOURS_NAME = "PlanAnswerHours"


@dataclass(frozen=True)
class StaffingPlan:
    """The staffing table and what it is computed from, as the Plan sheet shows it."""

    days: dict[str, int]  # weekdays of each kind in the period
    history_per_week: float  # tickets per week over the period
    forecast_per_week: float | None  # the forecast's mean week
    factor: float  # forecast over history: how much busier next quarter is
    rates: pd.DataFrame  # forecast tickets per hour, weekday x hour
    load: pd.DataFrame  # offered load in Erlangs (agents busy on average)
    agents: pd.DataFrame  # agents needed (None where no candidate level suffices)
    handle_minutes: float
    answer_hours: float | None  # None when no ticket has a first-response target
    service_level: float

    @property
    def agent_hours_per_week(self) -> int:
        return int(sum(v for v in self.agents.to_numpy().ravel() if v is not None))


def staffing_plan(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, forecast_per_week: float | None,
                  handle_minutes: float, service_level: float) -> StaffingPlan:
    """Agents needed by weekday and hour for the forecast volume, answering ``service_level``
    of tickets within the tickets' mean first-response target."""
    days = weekday_days(start, end)
    total_days = sum(days.values())
    history = len(frame) / (total_days / 7) if total_days else 0.0
    factor = forecast_per_week / history if forecast_per_week is not None and history else 1.0
    rates = arrival_rates(frame, start, end, factor)
    load = rates * handle_minutes / 60
    targets = frame["response_target"].dropna()
    answer = float(targets.mean()) if len(targets) else None
    agents = rates.astype(object)
    for weekday in rates.index:
        for hour in rates.columns:
            rate = float(rates.at[weekday, hour])
            agents.at[weekday, hour] = 0 if rate <= 0 else None if answer is None else agents_needed(
                rate, handle_minutes, answer, service_level)
    return StaffingPlan(days, history, forecast_per_week, factor, rates, load, agents,
                        handle_minutes, answer, service_level)
