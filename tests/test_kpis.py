"""Every KPI's pandas side against an independent computation from the raw tickets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supportxl.metrics.derive import derive_tickets
from supportxl.metrics.kpis import CATALOGUE, Policy, compare, equals, kpi, selected
from supportxl.model import Evaluator, _distinct
from supportxl.template import load_template

TEMPLATE = load_template()
RESOLUTION = {"Critical": 4.0, "High": 12.0, "Medium": 24.0, "Low": 48.0}
RESPONSE = {"Critical": 1.0, "High": 4.0, "Medium": 8.0, "Low": 24.0}
PER_BREACH = {"Critical": 400.0, "High": 150.0, "Medium": 60.0, "Low": 25.0}
PER_HOUR_OVER = {"Critical": 40.0, "High": 15.0, "Medium": 5.0, "Low": 2.0}
CHARGED_HOURS_CAP = 24.0


@pytest.fixture(scope="module")
def raw(year_dataset):
    """Raw tickets plus independently computed clocks (hours, open tickets run to as-of)."""
    t = year_dataset.tickets.copy()
    as_of = year_dataset.as_of
    t["ttr"] = (t["resolved_at"] - t["created_at"]).dt.total_seconds() / 3600
    t["frt"] = (t["first_response_at"] - t["created_at"]).dt.total_seconds() / 3600
    age = (as_of - t["created_at"]).dt.total_seconds() / 3600
    t["res_clock"] = t["ttr"].fillna(age)
    t["resp_clock"] = t["frt"].fillna(age)
    return t


@pytest.fixture(scope="module")
def frame(year_dataset):
    return derive_tickets(year_dataset, TEMPLATE)


def value(key, frame, criteria=()):
    return Evaluator(frame, Policy(TEMPLATE.csat_good_threshold)).value(kpi(key), criteria)


def test_catalogue_is_complete_and_unique():
    keys = [k.key for k in CATALOGUE]
    assert len(keys) == len(set(keys))
    assert {"tickets", "frt_mean", "frt_median", "frt_p90", "ttr_mean", "ttr_median", "ttr_p90",
            "response_breach_rate", "resolution_breach_rate", "resolution_compliance", "csat",
            "csat_mean", "csat_response_rate", "escalation_rate", "reopen_rate", "fcr", "backlog",
            "breach_cost"} <= set(keys)
    for item in CATALOGUE:
        assert item.definition.endswith(".") and item.excel().startswith("=")
        assert item.array == ("MEDIAN(" in item.excel() or "PERCENTILE(" in item.excel())


def test_durations(raw, frame):
    assert value("tickets", frame) == 50_000
    assert value("ttr_mean", frame) == pytest.approx(raw["ttr"].mean(), rel=1e-6)
    assert value("ttr_median", frame) == pytest.approx(raw["ttr"].median(), rel=1e-6)
    assert value("ttr_p90", frame) == pytest.approx(np.nanpercentile(raw["ttr"], 90), rel=1e-6)
    assert value("frt_median", frame) == pytest.approx(raw["frt"].median(), rel=1e-6)
    assert value("frt_p90", frame) == pytest.approx(np.nanpercentile(raw["frt"], 90), rel=1e-6)


def test_sla_and_cost(raw, frame):
    res_breach = raw["res_clock"] > raw["priority"].map(RESOLUTION)
    resp_breach = raw["resp_clock"] > raw["priority"].map(RESPONSE)
    assert value("resolution_breach_rate", frame) == pytest.approx(res_breach.mean(), abs=1e-9)
    assert value("resolution_compliance", frame) == pytest.approx(1 - res_breach.mean(), abs=1e-9)
    assert value("response_breach_rate", frame) == pytest.approx(resp_breach.mean(), abs=1e-9)
    over = (raw["res_clock"] - raw["priority"].map(RESOLUTION)).clip(lower=0)
    cost = np.where(res_breach, raw["priority"].map(PER_BREACH)
                    + raw["priority"].map(PER_HOUR_OVER) * np.minimum(over, CHARGED_HOURS_CAP), 0.0)
    assert value("breach_cost", frame) == pytest.approx(cost.sum(), rel=1e-6)
    assert value("breach_cost", frame) < 3_000_000  # an estimate a finance person accepts, not $71 M
    resolved = raw["resolved_at"].notna()
    assert value("resolved_late", frame) == int((resolved & res_breach).sum())
    assert value("open_past_target", frame) == int((~resolved & res_breach).sum())
    assert (value("resolved_within_target", frame) + value("resolved_late", frame)
            + value("open_within_target", frame) + value("open_past_target", frame)) == 50_000


def test_satisfaction_and_flow(raw, frame):
    rated = raw["csat"].dropna()
    assert value("csat", frame) == pytest.approx((rated >= 4).mean())
    assert value("csat_mean", frame) == pytest.approx(rated.mean())
    resolved = raw["resolved_at"].notna()
    assert value("csat_response_rate", frame) == pytest.approx(len(rated) / resolved.sum())
    assert value("escalation_rate", frame) == pytest.approx(raw["escalated"].mean())
    assert value("reopen_rate", frame) == pytest.approx((raw["reopen_count"] > 0).mean())
    fcr = resolved & (raw["agent_replies"] == 1) & ~raw["escalated"] & (raw["reopen_count"] == 0)
    assert value("fcr", frame) == pytest.approx(fcr.sum() / resolved.sum())
    assert value("backlog", frame) == int(raw["resolved_at"].isna().sum())


def test_slices(raw, frame):
    march = pd.Timestamp("2025-03-01")
    in_march = raw["created_at"].dt.month == 3
    criteria = [equals("month", "$A5", march), equals("channel", "B$4", "Chat")]
    subset = raw[in_march & (raw["channel"] == "Chat")]
    assert value("tickets", frame, criteria) == len(subset)
    assert value("ttr_median", frame, criteria) == pytest.approx(subset["ttr"].median(), rel=1e-6)
    assert value("tickets", frame, [selected("channel", "$C$3", "(All)")]) == 50_000
    assert value("tickets", frame, [selected("channel", "$C$3", "Email")]) == int((raw["channel"] == "Email").sum())
    old = [compare("age_days", ">=", "$B5", 31)]
    age = (pd.Timestamp("2026-01-01") - raw["created_at"]).dt.days
    assert value("tickets", frame, old) == int(((age >= 31) & raw["resolved_at"].isna()).sum())
    assert value("ttr_mean", frame, [equals("channel", "$A5", "Carrier pigeon")]) is None


def test_formulas_read_like_excel():
    assert kpi("tickets").excel([equals("channel", "$A5", "Chat")]) == "=COUNTIFS(Tickets[Channel],$A5)"
    assert kpi("ttr_median").excel([equals("month", "$A5", None)]) == (
        '=IFERROR(MEDIAN(IF((Tickets[Month]=$A5)*(Tickets[Resolution (h)]<>""),'
        'Tickets[Resolution (h)])),"")')
    assert kpi("csat").excel() == ('=IFERROR(COUNTIFS(Tickets[CSAT],">="&CsatGood)'
                                   '/COUNTIFS(Tickets[CSAT],">=1"),"")')
    assert kpi("tickets").excel() == '=COUNTIFS(Tickets[Ticket ID],"<>")'


def test_text_criteria_with_wildcards_are_escaped():
    plain = equals("agent", "$A5", "Ann Lee", texts=("Ann Lee", "Bo"))
    assert plain.countifs == "$A5"
    tricky = equals("agent", "$A5", "A*B", texts=("A*B", "Bo"))
    assert tricky.countifs == '"="&SUBSTITUTE(SUBSTITUTE(SUBSTITUTE($A5,"~","~~"),"*","~*"),"?","~?")'
    leading = equals("agent", "$A5", "<none>", texts=("<none>",))
    assert leading.countifs.startswith('"="&')


@pytest.mark.parametrize("size, count", [(1, 0), (1, 5), (10, 1_000), (5_000, 3), (10**7, 100), (300, 200_000)])
def test_distinct_group_numbers_equal_numpys_unique(size, count):
    values = np.random.default_rng(size + count).integers(0, size, count)
    present, codes = _distinct(values, size)
    expected_present, expected_codes = np.unique(values, return_inverse=True)
    assert present.tolist() == expected_present.tolist()
    assert codes.tolist() == expected_codes.tolist()
