"""The generated year looks like a real helpdesk year (50,000 tickets, seed 42)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supportxl.generate.params import GeneratorParams

DEFAULTS = GeneratorParams()


@pytest.fixture(scope="module")
def tickets(year_dataset):
    return year_dataset.tickets


def hours(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() / 3600


def test_weekday_shape(tickets):
    share = tickets["created_at"].dt.day_of_week.value_counts(normalize=True).sort_index()
    assert share.idxmax() == 0  # Monday busiest
    assert share[0] == pytest.approx(0.24, abs=0.015)
    assert share[:5].sum() == pytest.approx(0.95, abs=0.01)
    assert 0.015 < share[5] < 0.035 and 0.015 < share[6] < 0.035


def test_hour_shape(tickets):
    share = tickets["created_at"].dt.hour.value_counts(normalize=True).sort_index()
    peak = share[8:12].mean()
    assert share[8:12].min() > share[12]  # 08-11 peak, then a lunch dip at 12
    assert share[14:17].mean() > share[12] * 1.2  # afternoon hump
    assert share[0:6].max() < 0.015  # overnight trickle, ~1 % per hour
    assert peak > 6 * share[0:6].mean()


def test_seasonality_follows_month_weights(tickets):
    counts = tickets["created_at"].dt.month.value_counts().sort_index()
    assert counts.idxmax() == 11  # the planted November peak
    weights = np.array(DEFAULTS.arrivals.month) * np.array(
        [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    # Weekdays per month vary a little; the month weights dominate.
    expected = weights / weights.sum()
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.006)


@pytest.mark.parametrize("column,mix", [
    ("priority", DEFAULTS.priority_mix), ("channel", DEFAULTS.channel_mix),
    ("issue_type", DEFAULTS.issue_mix)])
def test_mixes_follow_the_scenario(tickets, column, mix):
    share = tickets[column].value_counts(normalize=True)
    assert set(share.index) == set(mix)
    for name, expected in mix.items():
        assert share[name] == pytest.approx(expected, abs=0.01), name


def test_default_issue_types_cover_typical_reports():
    assert set(DEFAULTS.issue_mix) >= {"Billing", "Login", "Data Import", "API", "UI Bug",
                                       "Feature Request", "Report Generation", "Refund",
                                       "Card Block", "Limit Change", "Technical"}


def test_times_are_ordered(tickets):
    responded = tickets["first_response_at"].notna()
    assert (tickets.loc[responded, "first_response_at"] >= tickets.loc[responded, "created_at"]).all()
    resolved = tickets["resolved_at"].notna()
    assert (tickets.loc[resolved, "resolved_at"] >= tickets.loc[resolved, "first_response_at"]).all()
    assert not (resolved & ~responded).any()


def test_resolution_is_quick_fixes_plus_a_long_tail(tickets):
    done = tickets[tickets["resolved_at"].notna()]
    ttr = hours(done["resolved_at"], done["created_at"])
    after_response = hours(done["resolved_at"], done["first_response_at"])
    assert 0.18 < (after_response <= 0.75).mean() < 0.35  # quick fixes: minutes after the reply
    assert ttr.mean() > 2.5 * ttr.median()  # long-tailed: the mean is several times the median
    by_priority = ttr.groupby(done["priority"]).median()
    assert by_priority["Critical"] < by_priority["High"] < by_priority["Medium"] < by_priority["Low"]
    by_channel = hours(done["first_response_at"], done["created_at"]).groupby(done["channel"]).median()
    assert by_channel["Phone"] < by_channel["Email"] / 4


def test_sla_attainment_is_realistic(tickets):
    done = tickets[tickets["resolved_at"].notna()]
    target = done["priority"].map(DEFAULTS.sla.resolution_hours)
    attained = (hours(done["resolved_at"], done["created_at"]) <= target).mean()
    assert 0.65 <= attained <= 0.90


def test_escalation_reopen_and_csat_rates(tickets):
    assert tickets["escalated"].mean() == pytest.approx(DEFAULTS.escalation.rate, abs=0.01)
    escalated = tickets[tickets["escalated"]]
    assert (escalated["escalation_tier"] != "Tier 1").all()
    assert (escalated["escalation_tier"] == "Tier 3").mean() == pytest.approx(0.3, abs=0.02)
    assert (tickets.loc[~tickets["escalated"], "escalation_tier"] == "Tier 1").all()
    assert 0.01 <= (tickets["reopen_count"] > 0).mean() <= 0.05
    resolved = tickets["resolved_at"].notna()
    rated = tickets["csat"].notna()
    assert not (rated & ~resolved).any()
    assert rated[resolved].mean() == pytest.approx(0.2, abs=0.01)
    good = tickets.loc[rated, "csat"] >= 4
    assert 0.85 <= good.mean() <= 0.92


def test_breaches_and_reopens_lower_csat(tickets):
    rated = tickets[tickets["csat"].notna()]
    ttr = hours(rated["resolved_at"], rated["created_at"])
    breached = ttr > rated["priority"].map(DEFAULTS.sla.resolution_hours)
    good = rated["csat"] >= 4
    assert good[breached].mean() < good[~breached].mean() - 0.08
    reopened = rated["reopen_count"] > 0
    assert good[reopened].mean() < good[~reopened].mean() - 0.1


def test_accounts_are_pareto_shaped(year_dataset):
    counts = year_dataset.tickets["account_id"].value_counts()
    top = int(round(len(year_dataset.accounts) * 0.2))
    assert 0.55 <= counts.iloc[:top].sum() / counts.sum() <= 0.75
    accounts = year_dataset.accounts
    assert accounts["account_id"].is_unique and accounts["name"].is_unique
    assert set(accounts["segment"]) == {"Enterprise", "Mid-Market", "SMB"}
    assert (accounts["annual_revenue"] > 0).all()
    assert accounts["region"].notna().all() and (accounts["region"] != "Other").all()


def test_agents_sit_in_tiers_and_handle_their_tier(year_dataset):
    agents = year_dataset.agents
    tickets = year_dataset.tickets
    assert set(agents["team"]) == {"Tier 1", "Tier 2", "Tier 3"}
    team_of = dict(zip(agents["name"], agents["team"]))
    assert (tickets["agent"].map(team_of) == tickets["team"]).all()
    load = tickets["agent"].value_counts()
    assert load.max() > 1.5 * load.min()  # workload is uneven, as in real teams


def test_backlog_remains_at_period_end(year_dataset):
    tickets = year_dataset.tickets
    open_ = tickets["status"].isin(["Open", "Pending"])
    assert (open_ == tickets["resolved_at"].isna()).all()
    assert 100 < open_.sum() < 0.02 * len(tickets)
    age_days = (year_dataset.as_of - tickets.loc[open_, "created_at"]).dt.days
    assert (age_days > 30).sum() > 0  # some of the backlog is old


def test_planted_effects_are_visible(year_dataset):
    tickets = year_dataset.tickets.merge(year_dataset.accounts, on="account_id")
    planted = year_dataset.manifest["planted_effects"]
    ttr = hours(tickets["resolved_at"], tickets["created_at"]).groupby(tickets["industry"]).median()
    assert ttr.idxmax() == planted["slow_industry"] == "Healthcare"
    assert ttr["Healthcare"] > 1.4 * ttr.drop("Healthcare").median()
    rated = tickets[tickets["csat"].notna()]
    good = (rated["csat"] >= 4).groupby(rated["agent"]).mean()
    assert good.idxmin() == planted["low_csat_agent"]
    assert planted["peak_month"] == 11


def test_escalation_log(year_dataset):
    events = year_dataset.escalation_events
    tickets = year_dataset.tickets.set_index("ticket_id")
    assert set(events["ticket_id"]) == set(tickets.index[tickets["escalated"]])
    assert set(events["stakeholder"]) == {"Customer", "Tier 1", "Tier 2", "Tier 3",
                                          "Project Manager", "C-Level Executive"}
    assert {"Initial Submission", "Review & Analysis", "Escalation", "Troubleshooting",
            "Development", "Communication", "Resolution Confirmation"} <= set(events["activity"])
    assert (events.groupby("ticket_id")["timestamp"].diff().dropna() >= pd.Timedelta(0)).all()
    first = events.groupby("ticket_id").first()
    assert (first["activity"] == "Initial Submission").all()
    assert (first["timestamp"] == tickets.loc[first.index, "created_at"]).all()
    last = events.groupby("ticket_id").last()
    resolved = tickets.loc[last.index, "resolved_at"].notna()
    assert (last.loc[resolved, "activity"] == "Resolution Confirmation").all()
    assert (last.loc[resolved, "timestamp"] == tickets.loc[last.index[resolved], "resolved_at"]).all()
    assert (events["timestamp"] <= year_dataset.as_of).all()
