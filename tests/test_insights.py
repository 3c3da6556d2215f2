"""Insights follow the data: planted effects are found and every number equals pandas."""

from __future__ import annotations


import numpy as np
import pytest

from supportxl.metrics.derive import derive
from supportxl.metrics.insights import findings, load_actions
from supportxl.model import plan
from supportxl.template import load_template

from conftest import load_book, make_dataset

TEMPLATE = load_template()


def by_key(dataset):
    model = plan(dataset, TEMPLATE)
    return {f.key: f for f in findings(model)}, model.frame, model.events


@pytest.fixture(scope="module")
def year(year_dataset):
    return by_key(year_dataset)


def findings_ranked(year):
    found, _, _ = year
    return sorted(found.values(), key=lambda f: (-f.score, f.key))


def test_planted_effects_of_the_baseline_are_found(year, year_dataset):
    found, _, _ = year
    planted = year_dataset.manifest["planted_effects"]
    assert found["industries"].numbers["slowest"] == planted["slow_industry"] == "Healthcare"
    assert found["low_csat_agents"].numbers["agents"][0] == planted["low_csat_agent"]
    assert found["trend"].numbers["peak_month"] == planted["peak_month"] == 11
    assert "Nov 2025" in found["trend"].sentence


def test_numbers_equal_independent_pandas(year, year_dataset):
    found, _, _ = year
    t = year_dataset.tickets
    counts = t["account_id"].value_counts()
    top = int(np.ceil(0.2 * len(counts)))
    share = counts.iloc[:top].sum() / len(t)
    assert found["account_concentration"].numbers["share"] == pytest.approx(share)
    assert f"raised {share:.1%} of all tickets" in found["account_concentration"].sentence
    ttr = (t["resolved_at"] - t["created_at"]).dt.total_seconds() / 3600
    industry = t["account_id"].map(year_dataset.accounts.set_index("account_id")["industry"])
    means = ttr.groupby(industry).mean()
    gap = means["Healthcare"] / ttr.mean() - 1
    assert found["industries"].numbers["slowest_gap"] == pytest.approx(gap, rel=1e-6)
    assert f"{gap:+.0%} against the {ttr.mean():,.1f} h average" in found["industries"].sentence
    # Workload: agents against their own team only (the team each agent works for).
    team = t.groupby("agent")["team"].agg(lambda s: s.value_counts().index[0])
    load = t["agent"].value_counts()
    per_team = load.groupby(team.reindex(load.index)).agg(lambda s: s.std(ddof=0) / s.mean())
    workload = found["workload"].numbers
    assert workload["team"] == per_team.idxmax()
    assert workload["cv"] == pytest.approx(per_team.max())
    assert team[workload["busiest"]] == team[workload["quietest"]] == workload["team"]
    # Targets: the misses the Dashboard shows in red come first, with their numbers.
    first = findings_ranked(year)[0]
    assert first.key == "targets_missed"
    breached = t["resolved_at"].isna() | ((t["resolved_at"] - t["created_at"]).dt.total_seconds() / 3600
                                          > t["priority"].map(TEMPLATE.sla.resolution_hours))
    open_clock = (year_dataset.as_of - t["created_at"]).dt.total_seconds() / 3600
    breached = np.where(t["resolved_at"].isna(), open_clock > t["priority"].map(TEMPLATE.sla.resolution_hours),
                        breached)
    compliance = 1 - breached.mean()
    assert compliance < TEMPLATE.targets.resolution_compliance
    assert "resolution_compliance" in first.numbers["missed"]
    assert f"Resolution SLA % {compliance:.1%} (target 80.0%)" in first.sentence
    short = int(np.ceil((TEMPLATE.targets.resolution_compliance - compliance) * len(t) - 1e-9))
    assert f"{short:,} more tickets resolved within target" in first.effect
    monday = (t["created_at"].dt.day_of_week == 0).mean()
    assert found["peak_times"].numbers["weekday"] == "Monday"
    assert found["peak_times"].numbers["weekday_share"] == pytest.approx(monday)
    open_ = t[t["resolved_at"].isna()]
    old = ((year_dataset.as_of - open_["created_at"]).dt.days > 30).sum()
    assert found["backlog_risk"].numbers["old"] == old
    assert f"{old:,} of them" in found["backlog_risk"].sentence


def test_findings_are_ranked_and_complete(year, year_model):
    found, _, _ = year
    ranked = findings(year_model)
    assert [f.score for f in ranked] == sorted((f.score for f in ranked), reverse=True)
    assert {"account_concentration", "industries", "breach_hot_spot", "workload", "low_csat_agents",
            "peak_times", "automation", "trend", "backlog_risk", "escalation_stage"} <= set(found)
    for finding in ranked:
        assert finding.sentence.endswith(".") and finding.recommendation.endswith(".")


@pytest.fixture(scope="module")
def year_model(year_dataset):
    return plan(year_dataset, TEMPLATE)


def test_other_planted_effects_are_found_too():
    dataset = make_dataset(20_000, seed=9, planted={"slow_industry": "Retail", "low_csat_agent": 3},
                           arrivals={"month": [1.0, 1.0, 1.6, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]},
                           durations={"resolution_median_hours": {"Critical": 1.5, "High": 4.5,
                                                                  "Medium": 20.0, "Low": 6.0}})
    found, _, _ = by_key(dataset)
    assert found["industries"].numbers["slowest"] == "Retail"
    assert found["low_csat_agents"].numbers["agents"][0] == dataset.manifest["planted_effects"]["low_csat_agent"]
    assert found["trend"].numbers["peak_month"] == 3
    assert (found["priority_misalignment"].numbers["higher"],
            found["priority_misalignment"].numbers["lower"]) == ("Medium", "Low")


def test_automation_candidates_use_the_actions_file():
    actions = load_actions()
    assert actions.for_issue("Login").action.startswith("Offer self-service password reset")
    assert actions.for_issue("Nonexistent").action == actions.default.action


def test_insights_sheet_lists_findings_with_links(small_workbook, small_dataset):
    book = load_book(small_workbook)
    ws = book["Insights"]
    expected = findings(plan(small_dataset, TEMPLATE))
    rows = [(ws.cell(r, 1).value, ws.cell(r, 3).value) for r in range(5, 5 + len(expected))]
    assert rows == [(i, f.sentence) for i, f in enumerate(expected, start=1)]
    for r in range(5, 5 + len(expected)):
        link = ws.cell(r, 4).hyperlink
        assert link is not None and link.location.split("!")[0].strip("'") in book.sheetnames


def test_escalation_sheet_values(small_workbook, small_dataset):
    values = load_book(small_workbook, data_only=True)["Escalations"]
    _, events, _ = derive(small_dataset, TEMPLATE)
    medians = events.dropna(subset=["hours_in_step"]).groupby("activity")["hours_in_step"].median()
    rows = {values.cell(r, 1).value: r for r in range(6, 14)}
    for activity, median in medians.items():
        assert values.cell(rows[activity], 4).value == pytest.approx(median), activity
    matrix_top = next(r for r in range(1, values.max_row) if values.cell(r, 1).value == "From \\ To")
    people = [values.cell(matrix_top, c).value for c in range(2, 8) if values.cell(matrix_top, c).value]
    total = sum(values.cell(r, c).value for r in range(matrix_top + 1, matrix_top + 1 + len(people))
                for c in range(2, 2 + len(people)))
    assert total == len(events)
