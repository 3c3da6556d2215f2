"""Invariants of the generator for arbitrary small parameter sets, and determinism."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportxl.dataset import read_dataset, write_dataset
from supportxl.generate import generate, load_params

from conftest import make_dataset


@st.composite
def parameter_sets(draw):
    start = draw(st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2027, 12, 1)))
    days = draw(st.integers(min_value=0, max_value=120))
    return {
        "tickets": draw(st.integers(min_value=1, max_value=600)),
        "seed": draw(st.integers(min_value=0, max_value=2**32 - 1)),
        "accounts": draw(st.integers(min_value=1, max_value=30)),
        "agents": draw(st.integers(min_value=3, max_value=12)),
        "start": start,
        "end": start + dt.timedelta(days=days),
        "escalation": {"rate": draw(st.floats(min_value=0, max_value=0.6)),
                       "tier3_share": draw(st.floats(min_value=0, max_value=1))},
        "planted": {"low_csat_agent": 0},
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parameter_sets())
def test_invariants_hold_for_any_parameters(overrides):
    params = load_params(overrides=overrides)
    data = generate(params)
    t = data.tickets
    start = pd.Timestamp(params.period_start)
    as_of = pd.Timestamp(params.period_end) + pd.Timedelta(days=1)
    assert len(t) == overrides["tickets"]
    assert t["ticket_id"].is_unique and t["ticket_id"].is_monotonic_increasing
    assert t["created_at"].is_monotonic_increasing
    assert ((t["created_at"] >= start) & (t["created_at"] < as_of)).all()
    responded, resolved = t["first_response_at"].notna(), t["resolved_at"].notna()
    assert (t.loc[responded, "first_response_at"] >= t.loc[responded, "created_at"]).all()
    assert (t.loc[resolved, "resolved_at"] >= t.loc[resolved, "first_response_at"]).all()
    assert (t[["first_response_at", "resolved_at"]].max(axis=1).fillna(start) <= as_of).all()
    assert (resolved == t["status"].isin(["Resolved", "Closed"])).all()
    assert (t.loc[~responded, "status"] == "Open").all()
    assert t.loc[~resolved, "csat"].isna().all() and (t.loc[~resolved, "reopen_count"] == 0).all()
    assert t["csat"].dropna().isin([1, 2, 3, 4, 5]).all()
    assert (t.loc[~responded, "agent_replies"] == 0).all()
    assert (t.loc[resolved, "agent_replies"] >= 1).all()
    assert set(t["account_id"]) <= set(data.accounts["account_id"])
    assert set(t["agent"]) <= set(data.agents["name"])
    events = data.escalation_events
    assert set(events["ticket_id"]) <= set(t.loc[t["escalated"], "ticket_id"])
    assert (events["timestamp"] <= as_of).all()
    assert (events.groupby("ticket_id")["timestamp"].diff().dropna() >= pd.Timedelta(0)).all()


def test_same_parameters_same_files(tmp_path):
    write_dataset(make_dataset(3_000, seed=11), tmp_path / "a")
    write_dataset(make_dataset(3_000, seed=11), tmp_path / "b")
    for name in ("tickets.csv", "accounts.csv", "agents.csv", "escalation_events.csv", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_another_seed_gives_other_data():
    a, b = make_dataset(500, seed=1), make_dataset(500, seed=2)
    assert not a.tickets["created_at"].equals(b.tickets["created_at"])


def test_dataset_round_trips_through_csv(tmp_path, small_dataset):
    write_dataset(small_dataset, tmp_path)
    back = read_dataset(tmp_path)
    pd.testing.assert_frame_equal(back.tickets, small_dataset.tickets, check_dtype=False)
    pd.testing.assert_frame_equal(back.escalation_events, small_dataset.escalation_events,
                                  check_dtype=False)
    assert back.manifest == small_dataset.manifest
    assert back.tickets["created_at"].dtype == np.dtype("datetime64[ns]")


def test_csv_leaves_unreached_timestamps_empty(tmp_path, small_dataset):
    write_dataset(small_dataset, tmp_path)
    lines = (tmp_path / "tickets.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[:4] == ["ticket_id", "created_at", "first_response_at", "resolved_at"]
    open_ticket = small_dataset.tickets.index[small_dataset.tickets["resolved_at"].isna()][0]
    row = lines[open_ticket + 1].split(",")
    assert row[3] == ""
    assert row[1] == small_dataset.tickets.loc[open_ticket, "created_at"].strftime("%Y-%m-%dT%H:%M:%S")
