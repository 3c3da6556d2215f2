"""Findings computed from the data: each a sentence with its numbers, the evidence, and a
recommendation with its expected effect. No number is written by hand.

The findings read the report model: its KPI values (the same the workbook caches) and its
derived ticket table and escalation log. No finding is drawn from an "Unknown" value. The
Insights sheet turns ``evidence`` (a sheet and a grid on it) into links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from supportxl.config import from_data, read_toml
from supportxl.metrics.kpis import Kpi, Single, kpi
from supportxl.model import ReportModel
from supportxl.paths import TEMPLATES_DIR
from supportxl.schema import MONTHS, PRIORITIES, UNKNOWN, WEEKDAYS
from supportxl.workbook.theme import NUMBER_FORMATS

MIN_SLICE = 30  # tickets a slice needs before a rate of it is worth reporting
MIN_RATINGS = 20  # CSAT ratings an agent needs before their CSAT is compared
MIN_AGENT_TICKETS = 30  # tickets an agent needs before their workload is compared
QUICK_SHARE_OF_MEDIAN = 0.5  # an automation candidate's median resolution, against all tickets
HOT_SPOT_MIN_TICKETS = 0.02  # a breach hot spot holds at least this share of all tickets...
HOT_SPOT_MIN_COST_SHARE = 0.05  # ...and of the breach cost
BACKLOG_OLD_DAYS = 30


@dataclass(frozen=True)
class Action:
    action: str
    effect: str


@dataclass(frozen=True)
class Actions:
    default: Action = field(default_factory=lambda: Action("Write a help-centre article and a macro",
                                                            "deflects a share of these tickets"))
    issue_type: dict[str, Action] = field(default_factory=dict)

    def for_issue(self, issue: str) -> Action:
        return self.issue_type.get(issue, self.default)


def load_actions(path: Path | None = None) -> Actions:
    path = path or TEMPLATES_DIR / "actions.toml"
    return from_data(Actions, read_toml(path), source=str(path))


@dataclass(frozen=True)
class Finding:
    key: str
    title: str
    sentence: str
    recommendation: str
    effect: str
    evidence: tuple[str, str]  # (sheet, grid key on that sheet)
    score: float  # how much it matters, 0..1; findings are listed by it
    numbers: dict[str, object] = field(default_factory=dict)


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _hours(x: float) -> str:
    """Hours for people: 5.2 h, 36,460 h."""
    return f"{x:,.1f} h" if abs(x) < 100 else f"{x:,.0f} h"


def money(x: float, currency_format: str) -> str:
    """Money for people, in the workbook's currency: $950, $12,400, $1.2 M."""
    symbol = currency_format.split("#")[0].strip('"') or "$"
    if abs(x) >= 1_000_000:
        return f"{symbol}{x / 1_000_000:,.1f} M"
    if abs(x) >= 10_000:
        return f"{symbol}{round(x, -2):,.0f}"
    return f"{symbol}{x:,.0f}"


def _money(x: float, model: ReportModel) -> str:
    theme = model.template.theme
    return money(x, theme.number_formats.get("currency", NUMBER_FORMATS["currency"]))


def _signed_pct(x: float) -> str:
    return f"{x:+.0%}"


def findings(model: ReportModel, actions: Actions | None = None) -> list[Finding]:
    """Every finding the data supports, most important first."""
    actions = actions or load_actions()
    makers = (_targets_missed, _account_concentration, _industries, _priority_misalignment, _breach_hot_spot,
              _workload, _low_csat_agents, _peak_times, _automation, _trend, _backlog_risk,
              _escalation_stage)
    found = []
    for make in makers:
        result = make(model, actions)
        if result is not None:
            found.append(result)
    return sorted(found, key=lambda f: (-f.score, f.key))


def _known(values: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    """``values`` indexed by a dimension, without its "Unknown" entry."""
    return values.loc[np.array([str(v) != UNKNOWN for v in values.index], dtype=bool)]


# Team-level targets, in the order a director reads them: what each miss means, in tickets.
TARGET_KPIS = ("resolution_compliance", "response_compliance", "csat", "fcr", "escalation_rate", "reopen_rate")
TARGET_EFFECTS = {"resolution_compliance": "more tickets resolved within target",
                  "response_compliance": "more tickets answered within target", "csat": "more good ratings",
                  "fcr": "more tickets solved at first contact", "escalation_rate": "fewer escalations",
                  "reopen_rate": "fewer reopened tickets"}


def _targets_missed(model: ReportModel, actions: Actions) -> Finding | None:
    """The team's targets it misses over the period, first of all findings."""
    missed = []
    for key in TARGET_KPIS:
        item = kpi(key)
        value = model.value(item)
        if item.target is None or value is None:
            continue
        target = getattr(model.template.targets, item.target)
        gap = (target - value) if item.better == "higher" else (value - target)
        if gap > 0:
            base = model.value(kpi_of_measure(item.expression.measures[1]))
            missed.append((item, value, target, gap, int(np.ceil(gap * base - 1e-9))))
    if not missed:
        return None
    listed = "; ".join(f"{item.name} {_pct(value)} (target {_pct(target)})" for item, value, target, _, _ in missed)
    worst = max(missed, key=lambda m: m[3] / max(m[2], 1e-9))
    item, value, target, gap, tickets = worst
    effects = "; ".join(f"{n:,} {TARGET_EFFECTS[i.key]}" for i, _, _, _, n in missed)
    return Finding(
        "targets_missed", "Team targets missed",
        f"Over the period the team misses {len(missed)} of its targets: {listed}.",
        f"Start with {item.name}: it is furthest from its target ({_pct(value)} against {_pct(target)}). "
        f"Review the tickets behind it weekly with the team leads until it is back on target.",
        f"meeting every missed target means about {effects} over the period",
        ("Dashboard", "cards"), 1.0 + min(1.0, sum(m[3] for m in missed)),
        {"missed": [m[0].key for m in missed], "values": [m[1] for m in missed],
         "targets": [m[2] for m in missed], "tickets": [m[4] for m in missed]})


def kpi_of_measure(measure) -> Kpi:
    """A KPI counting one measure (a rate's denominator), to read it from the model."""
    return Kpi("_count", "Count", "A count.", "int", Single(measure))


def _account_concentration(model: ReportModel, actions: Actions) -> Finding | None:
    frame = model.frame
    counts = _known(frame["account_id"].value_counts())
    counts = counts.sort_values(ascending=False, kind="stable")
    if len(counts) < 5:
        return None
    top_n = max(1, math.ceil(0.2 * len(counts)))
    share = counts.iloc[:top_n].sum() / counts.sum()
    names = frame.drop_duplicates("account_id").set_index("account_id")["account"]
    five = [str(names[a]) for a in counts.index[:5]]
    five_share = counts.iloc[:5].sum() / counts.sum()
    return Finding(
        "account_concentration", "Account concentration",
        f"The top 20 % of accounts ({top_n:,} of {len(counts):,}) raised {_pct(share)} of all tickets; "
        f"the five busiest ({'; '.join(five)}) raised {_pct(five_share)}.",
        f"Manage {'; '.join(five[:3])} and the rest of the top five proactively: a named contact, "
        f"quarterly reviews of their ticket themes and a health check before renewals.",
        "fewer repeat tickets from the accounts that drive the most volume",
        ("Top Accounts", "grid"), min(1.0, share),
        {"share": share, "top_accounts": top_n, "accounts": len(counts), "five": five,
         "five_share": five_share})


def _industries(model: ReportModel, actions: Actions) -> Finding | None:
    if model.unavailable(kpi("ttr_mean")):
        return None
    resolved = model.frame[model.frame["ttr_hours"].notna()]
    by_industry = _known(resolved.groupby("industry")["ttr_hours"].agg(["mean", "size"]))
    by_industry = by_industry[by_industry["size"] >= MIN_SLICE]
    if len(by_industry) < 2:
        return None
    average = resolved["ttr_hours"].mean()
    slow, fast = by_industry["mean"].idxmax(), by_industry["mean"].idxmin()
    slow_gap = by_industry.at[slow, "mean"] / average - 1
    fast_gap = by_industry.at[fast, "mean"] / average - 1
    return Finding(
        "industries", "Slowest and fastest industries",
        f"{slow} tickets take the longest to resolve: {_hours(by_industry.at[slow, 'mean'])} on average, "
        f"{_signed_pct(slow_gap)} against the {_hours(average)} average; {fast} is fastest at "
        f"{_hours(by_industry.at[fast, 'mean'])} ({_signed_pct(fast_gap)}).",
        f"Review {slow} tickets for missing information at submission and for hand-offs; route them "
        f"to agents who know the industry.",
        f"closing half the gap saves about {_hours(by_industry.at[slow, 'size'] * (by_industry.at[slow, 'mean'] - average) / 2)} "
        f"of resolution time over the period",
        ("Segments", "industry"), min(1.0, max(0.0, slow_gap)),
        {"slowest": slow, "slowest_mean": by_industry.at[slow, "mean"], "slowest_gap": slow_gap,
         "fastest": fast, "fastest_mean": by_industry.at[fast, "mean"], "fastest_gap": fast_gap,
         "average": average})


def _priority_misalignment(model: ReportModel, actions: Actions) -> Finding | None:
    if model.unavailable(kpi("ttr_median")):
        return None
    medians = model.by(kpi("ttr_median"), ["priority"]).dropna().astype(float)
    present = [p for p in PRIORITIES if p in medians.index and pd.notna(medians[p])]
    pairs = [(hi, lo) for i, hi in enumerate(present) for lo in present[i + 1:]
             if medians[lo] < medians[hi]]
    if not pairs:
        return None
    hi, lo = max(pairs, key=lambda pair: medians[pair[0]] - medians[pair[1]])
    return Finding(
        "priority_misalignment", "Priority misalignment",
        f"{lo} priority tickets are resolved faster than {hi} ones: median {_hours(medians[lo])} "
        f"against {_hours(medians[hi])}.",
        f"Check the queue order: {hi} tickets should be picked before {lo}; review how priorities "
        f"are assigned at intake.",
        f"{hi} tickets resolved at least as fast as {lo} ones",
        ("SLA", "grid"), 0.6, {"higher": hi, "lower": lo, "higher_median": medians[hi],
                               "lower_median": medians[lo]})


def _breach_hot_spot(model: ReportModel, actions: Actions) -> Finding | None:
    rate = kpi("resolution_breach_rate")
    if model.unavailable(rate):
        return None
    keys = ["priority", "channel"]
    cells = pd.DataFrame({"tickets": model.by(kpi("tickets"), keys), "breach": model.by(rate, keys),
                          "cost": model.by(kpi("breach_cost"), keys)})
    known = np.array([UNKNOWN not in (str(p), str(c)) for p, c in cells.index], dtype=bool)
    total_cost = model.value(kpi("breach_cost"))
    # A hot spot worth its own queue: enough tickets, and a share of the cost that matters.
    big = (cells["tickets"] >= max(MIN_SLICE, HOT_SPOT_MIN_TICKETS * len(model.frame)))
    costly = cells["cost"] >= HOT_SPOT_MIN_COST_SHARE * (total_cost or 0)
    cells = cells[known & big.to_numpy(dtype=bool) & costly.to_numpy(dtype=bool) & cells["breach"].notna()]
    if cells.empty:
        return None
    priority, channel = cells["breach"].astype(float).idxmax()
    row = cells.loc[(priority, channel)]
    overall = model.value(rate)
    cost_share = row["cost"] / total_cost if total_cost else 0.0
    return Finding(
        "breach_hot_spot", "SLA breach hot spot",
        f"{priority} tickets from {channel} breach their resolution target most often: "
        f"{_pct(row['breach'])} of {int(row['tickets']):,} tickets against {_pct(overall)} overall, "
        f"costing an estimated {_money(row['cost'], model)} ({_pct(cost_share)} of the breach cost).",
        f"Give {priority} {channel} tickets their own queue with an alert at 75 % of the target.",
        f"halving the breach rate there saves about {_money(row['cost'] / 2, model)} of the estimated breach cost",
        ("SLA", "grid"), min(1.0, float(row["breach"])),
        {"priority": priority, "channel": channel, "breach_rate": float(row["breach"]),
         "tickets": int(row["tickets"]), "cost": float(row["cost"]), "overall": overall})


def _workload(model: ReportModel, actions: Actions) -> Finding | None:
    """The most uneven team: agents compared with the other agents of their own team only."""
    load = _agent_loads(model)
    teams = load[load["tickets"] >= MIN_AGENT_TICKETS].groupby("team")["tickets"]
    spread = (teams.std(ddof=0) / teams.mean())[teams.size() >= 3].dropna()
    spread = _known(spread)
    if spread.empty:
        return None
    team = spread.sort_index().idxmax()
    cv = float(spread[team])
    members = load[(load["team"] == team) & (load["tickets"] >= MIN_AGENT_TICKETS)].sort_values(
        ["tickets", "agent"], ascending=[False, True], kind="stable")
    busiest, quietest = members.iloc[0], members.iloc[-1]
    mean = float(members["tickets"].mean())
    return Finding(
        "workload", "Workload imbalance within a team",
        f"In {team}, tickets per agent vary with a coefficient of variation of {cv:.2f}: "
        f"{busiest['agent']} handled {int(busiest['tickets']):,} tickets, {quietest['agent']} "
        f"{int(quietest['tickets']):,} (team mean {mean:,.0f}).",
        f"Balance assignment within {team} (round-robin or capacity-based routing) and check "
        "whether the busiest agents carry a specialist queue alone.",
        f"moving {int(busiest['tickets'] - mean):,} tickets from {busiest['agent']} to quieter "
        f"colleagues brings them to the team mean",
        ("Agent Performance", "grid"), min(1.0, cv),
        {"team": team, "cv": cv, "busiest": busiest["agent"], "busiest_tickets": int(busiest["tickets"]),
         "quietest": quietest["agent"], "quietest_tickets": int(quietest["tickets"]), "mean": mean})


def _agent_loads(model: ReportModel) -> pd.DataFrame:
    """Tickets per agent with the agent's team (the team of most of their tickets)."""
    frame = model.frame[model.frame["agent"].astype(str) != UNKNOWN]
    counts = frame.groupby(["agent", "team"]).size().rename("tickets").reset_index()
    team = counts.sort_values(["agent", "tickets", "team"], ascending=[True, False, True],
                              kind="stable").drop_duplicates("agent").set_index("agent")["team"]
    totals = frame["agent"].value_counts()
    return pd.DataFrame({"agent": totals.index, "team": team.reindex(totals.index).to_numpy(),
                         "tickets": totals.to_numpy()})


def _low_csat_agents(model: ReportModel, actions: Actions) -> Finding | None:
    csat = kpi("csat")
    if model.unavailable(csat):
        return None
    """Agents whose CSAT is furthest below their own team's, with enough ratings to say so."""
    ratings = _known(model.frame[model.frame["csat"].notna()]["agent"].value_counts())
    team_of = _agent_loads(model).set_index("agent")["team"]
    team_csat = model.by(csat, ["team"])
    stats = pd.DataFrame({"ratings": ratings, "good": model.by(csat, ["agent"]).reindex(ratings.index),
                          "team": team_of.reindex(ratings.index)})
    stats = stats[stats["ratings"] >= MIN_RATINGS].dropna()
    if len(stats) < 3:
        return None
    stats["team_good"] = [float(team_csat.get(t)) for t in stats["team"]]
    stats["gap"] = stats["team_good"] - stats["good"].astype(float)
    stats = stats.sort_values(["gap", "ratings"], ascending=[False, False], kind="stable")
    lowest = stats[stats["gap"] > 0].head(3)
    if lowest.empty:
        return None
    names = ", ".join(f"{name} ({_pct(row.good)} against {row.team}'s {_pct(row.team_good)})"
                      for name, row in lowest.iterrows())
    first = lowest.iloc[0]
    gap = float(first["gap"])
    return Finding(
        "low_csat_agents", "Agents furthest below their team's CSAT",
        f"Among agents with at least {MIN_RATINGS} ratings, the largest CSAT gaps to their own team: {names}.",
        f"Review recent low-rated tickets of {lowest.index[0]} with the {first['team']} lead and pair them "
        f"with a high-CSAT colleague.",
        f"raising {lowest.index[0]} to the {first['team']} level means about "
        f"{int(np.ceil(gap * first['ratings'])):,} more good ratings of their {int(first['ratings']):,}",
        ("Agent Performance", "grid"), min(0.9, gap * 3),
        {"agents": list(lowest.index), "csat": [float(v) for v in lowest["good"]],
         "teams": list(lowest["team"]), "gaps": list(lowest["gap"])})


def _peak_times(model: ReportModel, actions: Actions) -> Finding | None:
    created = model.frame["created_at"]
    if (created.dt.hour == 0).all() or created.dt.hour.nunique() < 2:  # day-only dates: no hours
        return None
    weekday = created.dt.day_of_week.value_counts(normalize=True)
    hours = created.dt.hour.value_counts(normalize=True).sort_values(ascending=False, kind="stable")
    day = int(weekday.idxmax())
    top_hours = sorted(int(h) for h in hours.index[:3])
    return Finding(
        "peak_times", "Peak weekday and hours",
        f"{WEEKDAYS[day]} brings {_pct(weekday[day])} of the week's tickets; the busiest hours are "
        f"{', '.join(f'{h:02d}:00' for h in top_hours)}, with {_pct(hours.iloc[:3].sum())} of the day's volume.",
        f"Staff {WEEKDAYS[day]} mornings more heavily and keep breaks out of "
        f"{top_hours[0]:02d}:00-{top_hours[-1] + 1:02d}:00.",
        "shorter first-response times at the peak",
        ("Heatmap", "grid"), min(1.0, float(weekday[day]) * 2),
        {"weekday": WEEKDAYS[day], "weekday_share": float(weekday[day]), "hours": top_hours,
         "hours_share": float(hours.iloc[:3].sum())})


def _automation(model: ReportModel, actions: Actions) -> Finding | None:
    median, escalation = kpi("ttr_median"), kpi("escalation_rate")
    if model.unavailable(median) or model.unavailable(escalation):
        return None
    frame = model.frame
    by_issue = _known(pd.DataFrame({
        "tickets": model.by(kpi("tickets"), ["issue_type"]), "median": model.by(median, ["issue_type"]),
        "escalation": model.by(escalation, ["issue_type"])}).dropna().astype(float))
    overall_median = model.value(median)
    overall_escalation = model.value(escalation)
    quick = QUICK_SHARE_OF_MEDIAN * overall_median  # clearly quicker than a typical ticket
    candidates = by_issue[(by_issue["tickets"] >= by_issue["tickets"].median())
                          & (by_issue["median"] <= quick)
                          & (by_issue["escalation"] < overall_escalation)]
    if candidates.empty:
        return None
    candidates = candidates.sort_values("tickets", ascending=False, kind="stable")
    share = candidates["tickets"].sum() / len(frame)
    first = candidates.index[0]
    action = actions.for_issue(first)
    listed = ", ".join(f"{i} ({int(r.tickets):,})" for i, r in candidates.iterrows())
    return Finding(
        "automation", "Automation and self-service candidates",
        f"{listed} are high-volume, quick to resolve (median at most {_hours(quick)}, half the "
        f"{_hours(overall_median)} of all tickets) and rarely escalated: together {_pct(share)} of tickets.",
        f"{action.action} (for {first}).",
        action.effect, ("Channels", "by_issue"), min(1.0, share * 2),
        {"issue_types": list(candidates.index), "share": share, "overall_median": overall_median})


def _trend(model: ReportModel, actions: Actions) -> Finding | None:
    # Volume: a month's created tickets are all there once it has ended (unlike its outcomes).
    monthly = model.frame.groupby("month").size().sort_index()
    monthly = monthly[monthly.index + pd.DateOffset(months=1) <= model.as_of]
    if len(monthly) < 2:
        return None
    change = monthly.iloc[-1] / monthly.iloc[-2] - 1
    peak = monthly.idxmax()
    above = monthly.max() / monthly.mean() - 1
    last, before = monthly.index[-1], monthly.index[-2]
    return Finding(
        "trend", "Month-over-month trend and seasonal peak",
        f"{MONTHS[last.month - 1]} {last.year} had {monthly.iloc[-1]:,} tickets, {_signed_pct(change)} "
        f"against {MONTHS[before.month - 1]}; the peak was {MONTHS[peak.month - 1]} {peak.year} with "
        f"{monthly.max():,}, {_signed_pct(above)} above the monthly average.",
        f"Plan extra capacity and seasonal help-centre content ahead of {MONTHS[peak.month - 1]}.",
        "the peak month handled without a rise in breaches",
        ("Trend", "grid"), min(1.0, abs(above)),
        {"last_month_change": change, "peak_month": int(peak.month), "peak_above_average": above,
         "last_month_tickets": int(monthly.iloc[-1])})


def _backlog_risk(model: ReportModel, actions: Actions) -> Finding | None:
    if model.unavailable(kpi("backlog")):
        return None
    age = model.frame["age_days"].dropna()
    if age.empty:
        return None
    old = int((age > BACKLOG_OLD_DAYS).sum())
    share = old / len(age)
    return Finding(
        "backlog_risk", "Backlog risk",
        f"{len(age):,} tickets were still open at the end of the period; {old:,} of them "
        f"({_pct(share)}) are older than {BACKLOG_OLD_DAYS} days.",
        f"Run a weekly review of tickets older than {BACKLOG_OLD_DAYS} days: close, escalate or "
        f"agree a plan with the customer.",
        "an aged backlog that shrinks instead of hiding breaches",
        ("Backlog", "grid"), min(1.0, share),
        {"open": len(age), "old": old, "share": share})


def _escalation_stage(model: ReportModel, actions: Actions) -> Finding | None:
    by_stage = model.step_hours()
    if by_stage.empty:
        return None
    slowest = by_stage["mean"].idxmax()
    share = by_stage.at[slowest, "sum"] / by_stage["sum"].sum()
    return Finding(
        "escalation_stage", "Slowest escalation stage",
        f"In escalations, '{slowest}' is the slowest stage: {_hours(by_stage.at[slowest, 'mean'])} on "
        f"average, {_pct(share)} of all time spent in escalation steps.",
        f"Set a service level for '{slowest}' between tiers and update the customer proactively "
        f"while it runs.",
        "shorter escalations and higher CSAT on escalated tickets",
        ("Escalations", "stages"), min(1.0, share * 2),
        {"stage": slowest, "mean_hours": by_stage.at[slowest, "mean"], "share": share})
