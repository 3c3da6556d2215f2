"""The shipped scenarios load, and their documented effects show in the data."""

from __future__ import annotations

import pytest

from supportxl.generate import generate, load_params
from supportxl.metrics.insights import findings
from supportxl.model import plan
from supportxl.paths import SCENARIOS_DIR
from supportxl.template import load_template

TEMPLATE = load_template()


def scenario(name, tickets=20_000, seed=21):
    return generate(load_params(SCENARIOS_DIR / f"{name}.toml", {"tickets": tickets, "seed": seed}, year=2025))


@pytest.mark.parametrize("name", ["baseline", "peak_season", "proactive_comms"])
def test_every_scenario_loads_and_names_itself(name):
    params = load_params(SCENARIOS_DIR / f"{name}.toml", year=2025)
    assert params.name == name and params.description


def test_peak_season_puts_a_third_of_the_year_in_november_and_december():
    data = scenario("peak_season")
    months = data.tickets["created_at"].dt.month
    assert months.isin([11, 12]).mean() == pytest.approx(0.33, abs=0.03)
    top = data.tickets["issue_type"].value_counts().index[:3]
    assert set(top) == {"Billing", "Refund", "Card Block"}
    trend = {f.key: f for f in findings(plan(data, TEMPLATE))}["trend"]
    assert trend.numbers["peak_month"] == 12


def test_proactive_comms_shortens_escalations_and_lifts_their_csat():
    before, after = scenario("baseline"), scenario("proactive_comms")

    def escalated(data):
        t = data.tickets[data.tickets["escalated"]]
        ttr = (t["resolved_at"] - t["created_at"]).dt.total_seconds() / 3600
        rated = t["csat"].dropna()
        steps = data.escalation_events.groupby("ticket_id").size().mean()
        return ttr.median(), (rated >= 4).mean(), steps

    ttr_before, csat_before, steps_before = escalated(before)
    ttr_after, csat_after, steps_after = escalated(after)
    assert ttr_after < 0.9 * ttr_before
    assert csat_after > csat_before + 0.05
    assert steps_after > steps_before + 1.5
    # Tickets that were never escalated are unaffected.
    calm_before = before.tickets.loc[~before.tickets["escalated"], "csat"].dropna()
    calm_after = after.tickets.loc[~after.tickets["escalated"], "csat"].dropna()
    assert (calm_after >= 4).mean() == pytest.approx((calm_before >= 4).mean(), abs=0.02)


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["baseline", "peak_season", "proactive_comms"])
def test_every_scenario_builds_and_recalculates(name, tmp_path):
    from conftest import soffice_or_skip
    from supportxl.verify import compare_with_recalculated, recalculate
    from supportxl.workbook.builder import build_workbook

    soffice_or_skip()
    path = tmp_path / f"{name}.xlsx"
    build_workbook(scenario(name, tickets=1_500), path)
    comparison = compare_with_recalculated(path, recalculate(path, tmp_path / "out"))
    assert comparison.ok, comparison.summary()
