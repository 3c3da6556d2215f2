"""The numbers are right on data shaped like real exports, not only consistent.

Each test builds a small dataset with one pattern real exports have (priorities without an SLA
target, values COUNTIFS would read as operators or wildcards, tickets resolved after the as-of
time, fields the source lacks, daylight-saving changes) and checks the report model, the
workbook's cached values and the CSV files against a computation written here, from the raw
tickets.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportxl.dataset import Dataset
from supportxl.deliver.csv_reports import kpi_tables
from supportxl.metrics.cube import cube_formula, cube_frame, percentile_frame, percentile_name
from supportxl.metrics.kpis import (CATALOGUE, NOT_AVAILABLE, Count, Criterion, Mean, Policy, Quantile, Sum,
                                    equals, kpi, needs_literal)
from supportxl.model import plan
from supportxl.schema import DEFAULT_RESOLUTION_HOURS, PRIORITIES
from supportxl.template import load_template
from supportxl.verify import compare_with_recalculated, recalculate
from supportxl.workbook.builder import build_workbook

from conftest import load_book, make_dataset, soffice_or_skip

TEMPLATE = load_template()
TRICKY_TEAMS = ("=Ops", ">Tier", "Tier*", "+1", "-", "@x", "007", "a?b", "~t")


def odd_dataset() -> Dataset:
    """400 generated tickets with real-export oddities: every 7th ticket has an unknown
    priority, teams are named like operators, wildcards and numbers, and five tickets were
    resolved only after the data's as-of time."""
    ds = make_dataset(400, seed=5)
    t = ds.tickets.copy()
    t["team"] = [TRICKY_TEAMS[i % len(TRICKY_TEAMS)] for i in range(len(t))]
    t.loc[t.index % 7 == 0, "priority"] = "Unknown"
    late = t.index[t["resolved_at"].notna()][:5]
    t.loc[late, "resolved_at"] = ds.as_of + pd.Timedelta(hours=30)
    return dataclasses.replace(ds, tickets=t)


@pytest.fixture(scope="module")
def odd():
    return odd_dataset()


@pytest.fixture(scope="module")
def odd_workbook(odd, tmp_path_factory):
    path = tmp_path_factory.mktemp("odd") / "odd.xlsx"
    build_workbook(odd, path)
    return path


def independent(ds: Dataset) -> pd.DataFrame:
    """Clocks and SLA flags computed here from the raw tickets, at the as-of time."""
    t = ds.tickets.copy()
    as_of = ds.as_of
    resolved = t["resolved_at"].where(t["resolved_at"] <= as_of)
    responded = t["first_response_at"].where(t["first_response_at"] <= as_of)
    t["open"] = resolved.isna()
    t["res_clock"] = ((resolved.fillna(as_of) - t["created_at"]).dt.total_seconds() / 3600)
    target = t["priority"].map(DEFAULT_RESOLUTION_HOURS)
    t["has_target"] = target.notna()
    t["breached"] = t["res_clock"] > target
    t["resp_clock"] = (responded.fillna(as_of) - t["created_at"]).dt.total_seconds() / 3600
    return t


def test_sla_percentages_leave_out_tickets_without_a_target(odd, odd_workbook):
    t = independent(odd)
    with_target = t[t["has_target"]]
    compliance = 1 - with_target["breached"].mean()
    model = plan(odd, TEMPLATE)
    assert model.value(kpi("resolution_compliance")) == pytest.approx(compliance, abs=1e-12)
    assert model.value(kpi("no_target")) == int((~t["has_target"]).sum()) == 58
    # All-unknown slices have no SLA %: empty, not 100 %.
    unknown = [Criterion("priority", "", "", "==", "Unknown")]
    assert model.value(kpi("resolution_compliance"), unknown) is None

    sla = load_book(odd_workbook, data_only=True)["SLA"]
    header = next(r for r in range(1, 10) if sla.cell(r, 1).value == "Priority")
    columns = {sla.cell(header, c).value: c for c in range(1, 14)}
    rows = {sla.cell(r, 1).value: r for r in range(header + 1, header + 8)}
    assert list(rows)[:5] == [*PRIORITIES, "Unknown"]
    assert sla.cell(rows["Unknown"], columns["No SLA target"]).value == 58
    assert sla.cell(rows["Unknown"], columns["Resolution SLA %"]).value in (None, "")
    assert sla.cell(rows["Total"], columns["Resolution SLA %"]).value == pytest.approx(compliance, abs=1e-12)


def test_one_open_rule_everywhere(odd, odd_workbook):
    t = independent(odd)
    open_ = int(t["open"].sum())
    assert open_ == int(odd.tickets["resolved_at"].isna().sum()) + 5  # resolved after as-of: open
    values = load_book(odd_workbook, data_only=True)
    dashboard = values["Dashboard"]
    cards = {dashboard.cell(r, c).value: dashboard.cell(r + 1, c).value for r in (7, 13) for c in (1, 4, 7, 10, 13)}
    assert cards["Backlog"] == open_
    trend = values["Trend"]
    header = [c.value for c in trend[4]]
    total_row = next(r for r in range(5, 30) if trend.cell(r, 1).value == "Total")
    month_end = header.index("Backlog at month end") + 1
    assert trend.cell(total_row, month_end).value == open_
    assert trend.cell(total_row - 1, month_end).value == open_  # the last month ends at the as-of time
    backlog = values["Backlog"]
    total = next(r for r in range(3, 20) if backlog.cell(r, 1).value == "Total")
    assert backlog.cell(total, 8).value == open_
    tickets = load_book(odd_workbook, data_only=True)["Tickets"]
    status_col = [c.value for c in tickets[1]].index("Status") + 1
    statuses = [tickets.cell(r, status_col).value for r in range(2, len(t) + 2)]
    assert sum(s in ("Open", "Pending") for s in statuses) == open_


def test_tricky_category_values_match_literally():
    for text in TRICKY_TEAMS + ("", " padded", "TRUE", "1,5"):
        assert needs_literal(text), text
    for text in ("Tier 2", "Email", "Europe/Berlin", "Ann O'Neil"):
        assert not needs_literal(text), text
    criterion = equals("team", "$A5", "=Ops", texts=TRICKY_TEAMS)
    assert criterion.countifs == '"="&SUBSTITUTE(SUBSTITUTE(SUBSTITUTE($A5,"~","~~"),"*","~*"),"?","~?")'


@pytest.mark.libreoffice
def test_odd_workbook_recalculates_to_its_cached_values(odd_workbook, tmp_path):
    soffice_or_skip()
    comparison = compare_with_recalculated(odd_workbook, recalculate(odd_workbook, tmp_path))
    assert comparison.ok, comparison.summary()


def test_kpis_without_their_input_are_not_available(tmp_path):
    ds = make_dataset(300, seed=11)
    ds = dataclasses.replace(ds, manifest={**ds.manifest, "missing_fields": ["first_response_at", "csat"]})
    model = plan(ds, TEMPLATE)
    assert model.unavailable(kpi("frt_median")) == "the source has no first-response times."
    assert model.unavailable(kpi("csat")) == "the source has no satisfaction ratings."
    assert model.value(kpi("csat")) is None and model.unavailable(kpi("tickets")) is None
    path = tmp_path / "na.xlsx"
    build_workbook(ds, path)
    book = load_book(path)
    dashboard = book["Dashboard"]
    cards = {dashboard.cell(7, c).value: dashboard.cell(8, c) for c in (1, 4, 7, 10, 13)}
    assert cards["Median first response (h)"].value == NOT_AVAILABLE
    assert cards["Median first response (h)"].comment.text == (
        "Not available: the source has no first-response times.")
    assert cards["CSAT %"].value == NOT_AVAILABLE
    assert cards["Tickets"].value.startswith("=COUNTIFS(")
    about = [(r[0], r[1]) for r in book["About"].iter_rows(values_only=True) if r and r[0]]
    assert ("CSAT %", "n/a: the source has no satisfaction ratings.") in about
    channel = next(t for t in kpi_tables(model) if t.name == "channel")
    csat_col = [c.header for c in channel.columns].index("CSAT %")
    assert {row[csat_col] for row in channel.rows} == {NOT_AVAILABLE}


def test_durations_across_a_dst_change_are_exact(tmp_path):
    """Berlin moves to summer time on 30 March 2025: 12:00 on the 29th to 12:00 on the 30th is 23 h."""
    ds = make_dataset(50, seed=2)
    t = ds.tickets.iloc[:2].copy()
    t["created_at"] = pd.to_datetime(["2025-03-29 11:00", "2025-10-25 10:00"])  # UTC
    t["first_response_at"] = pd.to_datetime(["2025-03-29 12:00", "2025-10-25 11:00"])
    t["resolved_at"] = pd.to_datetime(["2025-03-30 10:00", "2025-10-26 11:00"])  # 12:00 local both
    t["status"] = "Resolved"
    manifest = {**ds.manifest, "timestamps": "utc", "timezone": "Europe/Berlin",
                "period": {"start": "2025-03-01", "end": "2025-10-31", "as_of": "2025-10-31 00:00:00"}}
    ds = dataclasses.replace(ds, tickets=t.reset_index(drop=True),
                             escalation_events=ds.escalation_events.iloc[:0], manifest=manifest)
    model = plan(ds, TEMPLATE)
    assert list(model.frame["ttr_hours"]) == [23.0, 25.0]
    assert list(model.frame["created_at"]) == [pd.Timestamp("2025-03-29 12:00"), pd.Timestamp("2025-10-25 12:00")]
    assert list(model.frame["hour"]) == [12, 12]


# --- property: the model, a plain pandas computation and the compact cube agree ----------

def _reference(item, frame: pd.DataFrame, policy: Policy):
    """``item`` over ``frame`` by the plainest pandas, one measure at a time."""
    def measure(m):
        if isinstance(m, Count):
            mask = np.ones(len(frame), dtype=bool)
            for cond in m.conds:
                mask &= cond.test(frame, policy)
            return int(mask.sum())
        if isinstance(m, Sum):
            return float(frame[m.key].fillna(0).sum())
        values = frame[m.key].dropna().astype(float)
        if values.empty:
            return None
        return float(values.mean()) if isinstance(m, Mean) else float(values.quantile(m.p))

    return item.expression.combine(*(measure(m) for m in item.expression.measures))


def _from_cube(item, cube: pd.DataFrame, keep: np.ndarray, percentiles: pd.DataFrame, channel):
    """``item`` from the compact workbook's tables as its formulas read them: SUMIFS over the
    cube's rows ``keep``, a percentile looked up by the selection's key."""
    rows = cube[keep]
    looked_up = dict(zip(percentiles["Selection"], percentiles["Hours"]))

    def measure(m):
        if isinstance(m, Quantile):
            return looked_up.get(f"(All)|{channel or '(All)'}|(All)|(All)|{percentile_name(m)}")
        if isinstance(m, Mean):
            count = rows[m.count.label].sum()
            return float(rows[m.total.label].sum() / count) if count else None
        return m.finish(rows[m.label].sum())

    return item.expression.combine(*(measure(m) for m in item.expression.measures))


rows = st.lists(st.tuples(
    st.sampled_from([*PRIORITIES, "Unknown"]), st.sampled_from(["Email", "=Web", "Chat*", "+1"]),
    st.integers(0, 60 * 24 * 60), st.one_of(st.none(), st.integers(0, 24 * 90)),
    st.one_of(st.none(), st.integers(0, 24 * 10)), st.one_of(st.none(), st.integers(1, 5)),
    st.booleans(), st.integers(0, 2), st.integers(0, 3)), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, threshold=st.integers(2, 5))
def test_model_equals_plain_pandas_and_the_cube(rows, threshold):
    base = make_dataset(20, seed=1)
    start = pd.Timestamp("2025-01-01")
    created = [start + pd.Timedelta(minutes=r[2]) for r in rows]
    tickets = pd.DataFrame({
        "ticket_id": range(1, len(rows) + 1), "created_at": created,
        "first_response_at": [c + pd.Timedelta(hours=r[4]) if r[4] is not None else pd.NaT
                              for c, r in zip(created, rows)],
        "resolved_at": [c + pd.Timedelta(hours=r[3]) if r[3] is not None else pd.NaT
                        for c, r in zip(created, rows)],
        "status": ["Resolved" if r[3] is not None else "Open" for r in rows],
        "priority": [r[0] for r in rows], "channel": [r[1] for r in rows], "issue_type": "Login",
        "team": "Tier 1", "agent": "Ann", "account_id": base.accounts["account_id"].iloc[0],
        "requester_name": "", "requester_email": "", "subject": "",
        "csat": pd.array([r[5] for r in rows], dtype="Int64"), "escalated": [r[6] for r in rows],
        "escalation_tier": ["Tier 2" if r[6] else "Tier 1" for r in rows],
        "reopen_count": [r[7] for r in rows], "agent_replies": [r[8] for r in rows]})
    manifest = {"period": {"start": "2025-01-01", "end": "2025-04-30"}}
    ds = Dataset(tickets, base.accounts, base.agents, base.escalation_events.iloc[:0], manifest)
    template = dataclasses.replace(TEMPLATE, csat_good_threshold=threshold)
    model = plan(ds, template)
    policy = Policy(threshold)
    cube = cube_frame(model.frame, policy)
    percentiles = percentile_frame(model.frame)
    frame = model.frame
    for channel in ("Email", "=Web", None):
        criteria = [] if channel is None else [Criterion("channel", "", "", "==", channel, "$A$1")]
        part = frame if channel is None else frame[frame["channel"] == channel]
        keep = np.ones(len(cube), dtype=bool) if channel is None else (cube["channel"] == channel).to_numpy()
        for item in CATALOGUE:
            expected = _reference(item, part, policy)
            got = model.value(item, criteria)
            assert (got is None) == (expected is None), (item.key, channel)
            if expected is not None:
                assert got == pytest.approx(expected, rel=1e-9, abs=1e-9), (item.key, channel)
            if cube_formula(item, criteria) is not None:
                compact = _from_cube(item, cube, keep, percentiles, channel)
                assert (compact is None) == (expected is None), (item.key, channel)
                if expected is not None:
                    assert compact == pytest.approx(expected, rel=1e-9, abs=1e-9), (item.key, channel)
    # The derived flags themselves, from the raw rows: no target is neither met nor breached.
    targets = frame["priority"].map(template.sla.resolution_hours)
    clock = frame["resolution_clock"]
    expected_flag = np.where(targets.isna(), np.nan, (clock > targets).astype(float))
    np.testing.assert_array_equal(frame["resolution_breached"].to_numpy(dtype=float), expected_flag)
