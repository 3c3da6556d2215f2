"""Round trip: generated tickets written as Zendesk and ServiceNow exports read back the same."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_ingest_helpers import (assert_valid_dataset, derive_ok, write_servicenow_audit_csv,
                                 write_zendesk_csv)

from supportxl.generate import generate, load_params
from supportxl.ingest import load_export

MINUTE = pd.Timedelta(minutes=1)


@pytest.fixture(scope="module")
def generated():
    return generate(load_params(overrides={"tickets": 2000, "seed": 5}, year=2025))


@pytest.fixture(scope="module")
def zendesk(generated, tmp_path_factory):
    path = write_zendesk_csv(generated, tmp_path_factory.mktemp("zendesk") / "zendesk_export.csv")
    return load_export(path, as_of="2025-12-31")  # as of the end of the generated year


@pytest.fixture(scope="module")
def servicenow(generated, tmp_path_factory):
    path = write_servicenow_audit_csv(generated, tmp_path_factory.mktemp("servicenow") / "incidents.csv")
    return load_export(path)


def kpis(t: pd.DataFrame) -> dict[str, float]:
    resolved = t[t["resolved_at"].notna()]
    hours = (resolved["resolved_at"] - resolved["created_at"]).dt.total_seconds() / 3600
    frt = (t["first_response_at"] - t["created_at"]).dt.total_seconds().dropna() / 3600
    rated = t["csat"].dropna()
    return {
        "tickets": len(t),
        "median_resolution_hours": float(hours.median()),
        "p90_resolution_hours": float(hours.quantile(0.9)),
        "median_first_response_hours": float(frt.median()),
        "escalation_rate": float(t["escalated"].mean()),
        "csat_share": float((rated >= 4).mean()) if len(rated) else float("nan"),
        "rated": len(rated),
        "backlog": int(t["status"].isin(("Open", "Pending")).sum()),
    }


def test_zendesk_round_trip(generated, zendesk):
    g, t = generated.tickets, zendesk.dataset.tickets
    assert zendesk.mapping == "zendesk"
    assert_valid_dataset(zendesk.dataset)
    assert len(t) == len(g) == 2000
    assert list(t["ticket_id"]) == list(g["ticket_id"])
    # Zendesk keeps timestamps to the second...
    pd.testing.assert_series_equal(t["created_at"], g["created_at"])
    pd.testing.assert_series_equal(t["resolved_at"], g["resolved_at"])
    # ... and states the first reply as whole minutes after creation
    offset = (t["first_response_at"] - g["first_response_at"]).abs()
    assert (offset.dropna() <= pd.Timedelta(seconds=30)).all()
    assert (t["first_response_at"].isna() == g["first_response_at"].isna()).all()
    for column in ("status", "priority", "channel", "issue_type", "team", "agent", "requester_name",
                   "requester_email", "subject", "escalated", "reopen_count", "agent_replies"):
        assert list(t[column]) == list(g[column]), column
    # CSAT is good / bad in Zendesk: good is 5, bad is 1; who rated and the good share survive
    assert (t["csat"].isna() == g["csat"].isna()).all()
    assert ((t["csat"] >= 4) == (g["csat"] >= 4)).fillna(True).all()
    assert list(t["escalation_tier"]) == list(np.where(g["escalated"], "Tier 2", "Tier 1"))
    ours, theirs = kpis(t), kpis(g)
    for key in ("tickets", "median_resolution_hours", "p90_resolution_hours", "escalation_rate",
                "csat_share", "rated", "backlog"):
        assert ours[key] == pytest.approx(theirs[key], abs=1e-9), key
    assert ours["median_first_response_hours"] == pytest.approx(theirs["median_first_response_hours"], abs=1 / 120)
    names = generated.accounts.set_index("account_id")["name"]
    assert set(zendesk.dataset.accounts["name"]) == set(g["account_id"].map(names))
    assert set(zendesk.dataset.agents["name"]) == set(g["agent"])
    assert zendesk.dataset.manifest["period"] == {"start": "2025-01-01", "end": "2025-12-31",
                                                  "as_of": "2026-01-01 00:00:00", "as_of_given": True}
    assert zendesk.dataset.as_of == generated.as_of
    frame = derive_ok(zendesk.dataset)
    assert frame["resolution_breached"].sum() > 0
    warnings = [f for f in zendesk.report.findings if f.severity != "info"]
    assert warnings == []


def test_servicenow_audit_round_trip(generated, servicenow):
    g = generated.tickets
    t = servicenow.dataset.tickets
    assert servicenow.mapping == "servicenow"
    assert servicenow.dataset.manifest["audit_export"] is True
    assert_valid_dataset(servicenow.dataset)
    assert len(t) == len(g)
    assert list(t["ticket_id"]) == list("INC" + g["ticket_id"].astype(str).str.zfill(7))
    # "%d-%m-%Y %H:%M" holds minutes: timestamps equal the generated ones to the minute
    for column in ("created_at", "first_response_at", "resolved_at"):
        pd.testing.assert_series_equal(t[column], g[column].dt.floor("min"), check_names=False)
    for column in ("status", "priority", "channel", "issue_type", "agent", "escalated", "reopen_count"):
        assert list(t[column]) == list(g[column]), column
    assert set(t.loc[t["escalated"], "team"]) <= {"Tier 2 Support", "Tier 3 Engineering"}
    ours, theirs = kpis(t), kpis(g)
    assert ours["tickets"] == theirs["tickets"]
    assert ours["escalation_rate"] == theirs["escalation_rate"]
    assert ours["backlog"] == theirs["backlog"]
    assert ours["median_resolution_hours"] == pytest.approx(theirs["median_resolution_hours"], abs=1 / 60)
    assert ours["p90_resolution_hours"] == pytest.approx(theirs["p90_resolution_hours"], abs=1 / 60)
    assert ours["median_first_response_hours"] == pytest.approx(theirs["median_first_response_hours"], abs=1 / 60)
    # every update is an event; each escalated ticket has one escalation step to Tier 2
    events = servicenow.dataset.escalation_events
    escalations = events[events["activity"] == "Escalation"]
    assert set(escalations["ticket_id"]) == set(t.loc[t["escalated"], "ticket_id"])
    assert (escalations["counterpart"] == "Tier 2").all()
    assert (events.groupby("ticket_id")["timestamp"].is_monotonic_increasing).all()
    assert set(events.loc[events["step"] == 1, "activity"]) == {"Initial Submission"}
    frame = derive_ok(servicenow.dataset)
    assert frame.loc[frame["escalated"] == "Yes", "hours_to_escalate"].notna().all()
    assert [f for f in servicenow.report.findings if f.severity != "info"] == []
