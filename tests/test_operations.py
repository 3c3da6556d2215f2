"""Status history, time in status, SLA at risk, touches and the weekly and yearly views:
each number against an independent pandas computation on generated data with planted effects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from supportxl.dataset import FILES, empty_status_changes, read_dataset, write_dataset
from supportxl.generate import generate, load_params
from supportxl.metrics.kpis import NOT_AVAILABLE, Criterion, kpi
from supportxl.model import plan
from supportxl.template import load_template
from supportxl.workbook.builder import build_workbook

from conftest import load_book
from test_ingest_helpers import write_rows, zendesk_row

TEMPLATE = load_template()
SPIKE_WEEK = pd.Timestamp("2025-06-09")  # a Monday
SPIKE_TICKETS = 400


@pytest.fixture(scope="module")
def ds():
    return generate(load_params(overrides={"tickets": 3_000, "seed": 5}, year=2025))


@pytest.fixture(scope="module")
def model(ds):
    return plan(ds, TEMPLATE)


@pytest.fixture(scope="module")
def spiky(ds):
    """The dataset with a spike planted in one week: extra tickets copied into its Monday."""
    extra = ds.tickets.sample(SPIKE_TICKETS, random_state=1).copy()
    extra["ticket_id"] = np.arange(900_001, 900_001 + SPIKE_TICKETS)
    shift = SPIKE_WEEK + pd.Timedelta(hours=10) - extra["created_at"]
    for key in ("created_at", "first_response_at", "resolved_at"):
        extra[key] = extra[key] + shift
    tickets = pd.concat([ds.tickets, extra], ignore_index=True).sort_values("created_at", kind="stable")
    return dataclasses.replace(ds, tickets=tickets.reset_index(drop=True))


@pytest.fixture(scope="module")
def dense():
    """A busy month: enough tickets open at its end for every SLA-at-risk bucket."""
    return generate(load_params(overrides={"tickets": 5_000, "seed": 6, "start": dt.date(2025, 12, 1),
                                           "end": dt.date(2025, 12, 31)}))


@pytest.fixture(scope="module")
def dense_workbook(dense, tmp_path_factory):
    path = tmp_path_factory.mktemp("dense") / "dense.xlsx"
    build_workbook(dense, path, TEMPLATE)
    return load_book(path), load_book(path, data_only=True)


@pytest.fixture(scope="module")
def workbook(spiky, tmp_path_factory):
    path = tmp_path_factory.mktemp("ops") / "ops.xlsx"
    build_workbook(spiky, path, TEMPLATE)
    return load_book(path), load_book(path, data_only=True)


def hours(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 3600


def history_hours(ds) -> pd.DataFrame:
    """Hours per ticket in each status, walked ticket by ticket through the status history."""
    as_of = ds.as_of
    rows = {}
    for ticket, changes in ds.status_changes.groupby("ticket_id"):
        spent = {"New": 0.0, "Open": 0.0, "Pending": 0.0, "On-hold": 0.0}
        stamps, statuses = list(changes["timestamp"]), list(changes["to_status"])
        for i, (stamp, status) in enumerate(zip(stamps, statuses)):
            end = stamps[i + 1] if i + 1 < len(stamps) else as_of
            status = "Open" if status == "Reopened" else status
            if status in spent:
                spent[status] += (end - stamp).total_seconds() / 3600
        rows[ticket] = spent
    return pd.DataFrame.from_dict(rows, orient="index")


def expected_frame(ds) -> pd.DataFrame:
    """The tickets with independently computed waits, SLA clocks and risk buckets."""
    t = ds.tickets.set_index("ticket_id")
    spent = history_hours(ds).reindex(t.index)
    t = t.join(spent)
    t["requester_wait"] = t["New"] + t["Open"] + t["On-hold"]
    t["ttr"] = hours(t["resolved_at"] - t["created_at"])
    t["ttr_net"] = t["ttr"] - t["Pending"]
    open_ = t["resolved_at"].isna() | (t["resolved_at"] > ds.as_of)
    target = t["priority"].map(TEMPLATE.sla.resolution_hours)
    t["used"] = np.where(open_, hours(ds.as_of - t["created_at"]) / target, np.nan)
    return t


def bucket(used: pd.Series) -> pd.Series:
    return pd.cut(used, [0, 0.5, 0.75, 0.9, 1, np.inf], right=False,
                  labels=["risk_under_50", "risk_50_75", "risk_75_90", "risk_90_100", "past"]).where(
        used != 1, "risk_90_100")  # 100 % used is not past the target yet


# --- the status history ---------------------------------------------------------------

def test_status_history_is_a_consistent_timeline(ds):
    changes = ds.status_changes
    assert list(changes.columns) == ["ticket_id", "timestamp", "from_status", "to_status"]
    by_ticket = changes.groupby("ticket_id", sort=False)
    assert (by_ticket["to_status"].first() == "New").all() and len(by_ticket) == len(ds.tickets)
    assert by_ticket["timestamp"].apply(lambda s: s.is_monotonic_increasing).all()
    assert changes["timestamp"].max() <= ds.as_of
    # Each change starts from the status the previous one reached.
    previous = by_ticket["to_status"].shift()
    assert (changes["from_status"][previous.notna()] == previous[previous.notna()]).all()
    t = ds.tickets.set_index("ticket_id")
    last = by_ticket.last()
    resolved = t["resolved_at"].notna()
    assert (last.loc[resolved[resolved].index, "to_status"] == "Solved").all()
    assert (last.loc[resolved[resolved].index, "timestamp"] == t.loc[resolved, "resolved_at"]).all()
    responded = t["first_response_at"].notna()
    opened = changes[changes["to_status"] == "Open"].groupby("ticket_id")["timestamp"].first()
    assert (opened.reindex(t.index[responded]) == t.loc[responded, "first_response_at"]).all()
    waiting = last.loc[t.index[~resolved], "to_status"].isin(["Pending", "On-hold"])
    assert (t.loc[~resolved, "status"] == np.where(waiting, "Pending", "Open")).all()
    assert set(changes["to_status"]) == {"New", "Open", "Pending", "On-hold", "Solved", "Reopened"}


def test_dataset_folder_keeps_the_status_history(ds, tmp_path):
    write_dataset(ds, tmp_path / "data")
    assert FILES["status_changes"] == "status_changes.csv"
    back = read_dataset(tmp_path / "data")
    pd.testing.assert_frame_equal(back.status_changes.fillna(""), ds.status_changes.fillna(""),
                                  check_dtype=False)
    # A folder written before the file existed: neither the file nor its manifest record.
    (tmp_path / "data" / "status_changes.csv").unlink()
    manifest = json.loads((tmp_path / "data" / "manifest.json").read_text())
    del manifest["files"]["status_changes.csv"]
    (tmp_path / "data" / "manifest.json").write_text(json.dumps(manifest))
    older = read_dataset(tmp_path / "data")
    assert older.status_changes.empty
    assert plan(older, TEMPLATE).value(kpi("on_hold_mean")) is None


# --- time in status -------------------------------------------------------------------

@pytest.mark.parametrize("key, column, stat", [
    ("status_new_mean", "New", "mean"), ("status_open_median", "Open", "median"),
    ("agent_wait_p90", "Pending", 0.9), ("on_hold_mean", "On-hold", "mean"),
    ("requester_wait_mean", "requester_wait", "mean"), ("ttr_net_median", "ttr_net", "median"),
])
def test_time_in_status_kpis_equal_pandas(ds, model, key, column, stat):
    t = expected_frame(ds)
    for team in ("Tier 1", "Tier 2", None):
        values = (t if team is None else t[t["team"] == team])[column].dropna()
        expected = values.quantile(stat) if isinstance(stat, float) else getattr(values, stat)()
        criteria = [] if team is None else [Criterion("team", "", "", "==", team)]
        assert model.value(kpi(key), criteria) == pytest.approx(expected, abs=1e-5), (key, team)


def test_the_planted_team_keeps_tickets_on_hold(model):
    on_hold = model.by(kpi("on_hold_mean"), ["team"])
    assert on_hold["Tier 2"] > 4 * on_hold["Tier 1"] and on_hold["Tier 2"] > 4 * on_hold["Tier 3"]
    assert model.by(kpi("on_hold_p90"), ["team"])["Tier 2"] > 24


def test_without_a_history_the_waits_are_not_available(ds):
    bare = dataclasses.replace(ds, status_changes=empty_status_changes())
    model = plan(bare, TEMPLATE)
    assert model.value(kpi("status_new_mean")) is None
    assert "the source has no status history" in model.unavailable(kpi("status_open_p90"))
    assert "nor an on-hold time" in model.unavailable(kpi("on_hold_mean"))
    # An export that states the waits (Zendesk's metrics) gives those, not time New or Open.
    tickets = bare.tickets.assign(agent_wait_hours_source=2.5, on_hold_hours_source=np.nan)  # a blank column
    stated = plan(dataclasses.replace(bare, tickets=tickets), TEMPLATE)
    assert stated.value(kpi("agent_wait_mean")) == 2.5 and stated.unavailable(kpi("on_hold_mean"))
    assert stated.unavailable(kpi("status_new_mean"))
    resolved = stated.frame["resolved_at"].notna()
    assert stated.value(kpi("ttr_net_mean")) == pytest.approx(stated.frame["ttr_hours"][resolved].mean() - 2.5)


def test_zendesk_wait_minutes_become_the_wait_kpis(tmp_path):
    from supportxl.ingest import load_export

    rows = [zendesk_row(**{"Id": 1, "Status": "Solved", "Priority": "High", "Created at": "2025-03-03 09:00:00",
                           "Solved at": "2025-03-04 09:00:00", "Agent wait time in minutes": 120,
                           "Requester wait time in minutes": 600, "On hold time in minutes": 30,
                           "Agent wait time in minutes within business hours": 1}),
            zendesk_row(**{"Id": 2, "Status": "Open", "Priority": "Low", "Created at": "2025-03-05 09:00:00",
                           "Agent wait time in minutes": 0, "Requester wait time in minutes": 60,
                           "On hold time in minutes": 90})]
    from test_ingest_helpers import ZENDESK_HEADER

    path = write_rows(tmp_path / "zendesk.csv", ZENDESK_HEADER, rows)
    model = plan(load_export(path).dataset, TEMPLATE)
    assert model.value(kpi("agent_wait_mean")) == pytest.approx(1.0)  # (120 + 0) / 2 minutes
    assert model.value(kpi("requester_wait_median")) == pytest.approx(5.5)
    assert model.value(kpi("on_hold_mean")) == pytest.approx(1.0)
    assert model.value(kpi("ttr_net_mean")) == pytest.approx(22.0)  # 24 h less 2 h pending
    assert model.unavailable(kpi("status_new_mean"))


# --- touches and SLA at risk -----------------------------------------------------------

def test_touch_rates_equal_pandas(ds, model):
    t = ds.tickets[ds.tickets["resolved_at"].notna()]
    for channel, rows in t.groupby("channel"):
        criteria = [Criterion("channel", "", "", "==", channel)]
        replies = rows["agent_replies"]
        assert model.value(kpi("one_touch"), criteria) == pytest.approx((replies == 1).mean())
        assert model.value(kpi("two_touch"), criteria) == pytest.approx((replies == 2).mean())
        assert model.value(kpi("multi_touch"), criteria) == pytest.approx((replies >= 3).mean())
    assert model.value(kpi("one_touch")) >= model.value(kpi("fcr"))  # FCR asks for more


def test_sla_risk_buckets_equal_pandas(dense):
    model = plan(dense, TEMPLATE)
    t = expected_frame(dense)
    t["bucket"] = bucket(t["used"])
    assert t["bucket"].value_counts().min() >= 3  # every bucket holds tickets
    for priority, rows in t.groupby("priority"):
        criteria = [Criterion("priority", "", "", "==", priority)]
        counts = rows["bucket"].value_counts()
        for key in ("risk_under_50", "risk_50_75", "risk_75_90", "risk_90_100"):
            assert model.value(kpi(key), criteria) == counts.get(key, 0), (priority, key)
        assert model.value(kpi("open_past_target"), criteria) == counts.get("past", 0)
        assert model.value(kpi("open_targeted"), criteria) == rows["used"].notna().sum()


# --- the workbook -------------------------------------------------------------------

def grid(ws, label: str, occurrence: int = 0) -> tuple[int, dict[str, int]]:
    """The header row of the ``occurrence``-th grid labelled ``label`` and its columns."""
    rows = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label]
    row = rows[occurrence]
    return row, {ws.cell(row, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(row, c).value}


def test_handling_sheet_writes_formulas_with_pandas_values(spiky, workbook):
    formulas, values = workbook
    t = expected_frame(spiky)
    ws, cached = formulas["Handling"], values["Handling"]
    header, cols = grid(ws, "Team")
    row = next(r for r in range(header + 1, header + 5) if ws.cell(r, 1).value == "Tier 2")
    on_hold = ws.cell(row, cols["Mean on-hold time (h)"])
    assert on_hold.value == "=IFERROR(AVERAGEIFS(Tickets[Time On-hold (h)],Tickets[Team],$A%d),\"\")" % row
    assert cached.cell(row, cols["Mean on-hold time (h)"]).value == pytest.approx(
        t.loc[t["team"] == "Tier 2", "On-hold"].mean(), abs=1e-6)
    assert cached.cell(row, cols["P90 time Open (h)"]).value == pytest.approx(
        t.loc[t["team"] == "Tier 2", "Open"].quantile(0.9), abs=1e-6)
    header, cols = grid(ws, "Channel")
    resolved = spiky.tickets[spiky.tickets["resolved_at"].notna()]
    total = next(r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value == "Total")
    assert cached.cell(total, cols["Multi-touch %"]).value == pytest.approx((resolved["agent_replies"] >= 3).mean())
    assert ws.cell(total, cols["One-touch %"]).value.startswith(
        '=IFERROR(COUNTIFS(Tickets[Resolved],">0",Tickets[Agent replies],1)/')


def test_sla_at_risk_sheet(dense, dense_workbook):
    formulas, values = dense_workbook
    t = expected_frame(dense)
    t["bucket"] = bucket(t["used"])
    ws, cached = formulas["SLA at Risk"], values["SLA at Risk"]
    header, cols = grid(ws, "Team")
    for r in range(header + 1, header + 4):
        team = ws.cell(r, 1).value
        counts = t.loc[t["team"] == team, "bucket"].value_counts()
        assert cached.cell(r, cols["Open, 75-90 % used"]).value == counts.get("risk_75_90", 0)
        assert cached.cell(r, cols["Open, under 50 % used"]).value == counts.get("risk_under_50", 0)
    assert ws.cell(header + 1, cols["Open, 90-100 % used"]).value == \
        f'=COUNTIFS(Tickets[Team],$A{header + 1},Tickets[SLA used],">=0.9",Tickets[SLA used],"<=1")'
    # The nearest to breach: open, not past the target, most of it used first.
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Ticket ID")
    listed = [ws.cell(r, 1).value for r in range(header + 1, header + 26)]
    within = t[t["used"] <= 1].sort_values("used", ascending=False)
    assert listed == list(within.index[:25])
    assert ws.cell(header + 1, 8).value == f"=INDEX(Tickets[SLA used],MATCH($A{header + 1},Tickets[Ticket ID],0))"
    assert cached.cell(header + 1, 8).value == pytest.approx(within["used"].iloc[0])
    assert cached.cell(header + 1, 9).value == pytest.approx(
        TEMPLATE.sla.resolution_hours[within["priority"].iloc[0]] * (1 - within["used"].iloc[0]), abs=1e-5)
    # The Tickets column behind it is a live formula over the Settings targets.
    tickets = formulas["Tickets"]
    used_col = next(c.column_letter for c in tickets[1] if c.value == "SLA used")
    assert tickets[f"{used_col}2"].value.startswith('=IF(OR($')


def test_weekly_sheet_counts_iso_weeks(spiky, workbook):
    formulas, values = workbook
    t = spiky.tickets
    ws, cached = formulas["Weekly"], values["Weekly"]
    header, cols = grid(ws, "Week of")
    rows = {cached.cell(r, 2).value: r for r in range(header + 1, ws.max_row + 1) if cached.cell(r, 2).value}
    iso = t["created_at"].dt.isocalendar()
    created = (iso["year"].astype(str) + "-W" + iso["week"].map("{:02d}".format)).value_counts()
    assert {week: cached.cell(r, cols["Created"]).value for week, r in rows.items()} == created.to_dict()
    resolved = t["resolved_at"].dropna()
    iso = resolved.dt.isocalendar()
    by_week = (iso["year"].astype(str) + "-W" + iso["week"].map("{:02d}".format)).value_counts()
    assert all(cached.cell(r, cols["Resolved"]).value == by_week.get(week, 0) for week, r in rows.items())
    spike = rows["2025-W24"]
    assert ws.cell(spike, cols["Created"]).value == \
        f'=COUNTIFS(Tickets[Created],">="&$A{spike},Tickets[Created],"<"&$A{spike}+7)'
    end = SPIKE_WEEK + pd.Timedelta(days=7)
    backlog = int(((t["created_at"] < end) & ~(t["resolved_at"] < end)).sum())
    assert cached.cell(spike, cols["Backlog at week end"]).value == backlog
    before, now = cached.cell(spike - 1, cols["Created"]).value, cached.cell(spike, cols["Created"]).value
    assert now > before + SPIKE_TICKETS - 50
    assert cached.cell(spike, cols["Created vs last week"]).value == pytest.approx(now / before - 1)
    week = t[(t["created_at"] >= SPIKE_WEEK) & (t["created_at"] < end)]
    rated = week["csat"].dropna()
    assert cached.cell(spike, cols["CSAT %"]).value == pytest.approx((rated >= 4).mean())
    # The season: November's weeks carry more tickets than the year's average week.
    november = [cached.cell(r, cols["Created"]).value for w, r in rows.items() if w in ("2025-W46", "2025-W47")]
    assert min(november) > np.mean(list(created.drop("2025-W24").values))
    assert "Created, same week last year" not in cols  # one year of data: no year-over-year columns


def test_about_lists_the_new_definitions(workbook):
    _, values = workbook
    about = {r[0] for r in values["About"].iter_rows(values_only=True) if r[0]}
    for key in ("on_hold_p90", "ttr_net_mean", "risk_90_100", "multi_touch", "requester_wait_median"):
        assert kpi(key).name in about


@pytest.fixture(scope="module")
def two_years():
    return generate(load_params(overrides={"tickets": 2_000, "seed": 9, "start": dt.date(2024, 1, 1),
                                           "end": dt.date(2025, 12, 31)}))


def test_two_years_get_year_over_year_views(two_years, tmp_path):
    path = tmp_path / "years.xlsx"
    build_workbook(two_years, path, TEMPLATE)
    ws, cached = load_book(path)["Weekly"], load_book(path, data_only=True)["Weekly"]
    header, cols = grid(ws, "Week of")
    t = two_years.tickets
    row = next(r for r in range(header + 1, ws.max_row) if cached.cell(r, 2).value == "2025-W10")
    monday = pd.Timestamp(cached.cell(row, 1).value)
    last_year = ((t["created_at"] >= monday - pd.Timedelta(days=364))
                 & (t["created_at"] < monday - pd.Timedelta(days=357))).sum()
    assert cached.cell(row, cols["Created, same week last year"]).value == last_year
    assert ws.cell(row, cols["Created vs last year"]).value == \
        f'=IFERROR(C{row}/{ws.cell(row, cols["Created, same week last year"]).column_letter}{row}-1,"")'
    header, cols = grid(ws, "Year")
    years = {cached.cell(r, 1).value: r for r in (header + 1, header + 2)}
    per_year = t["created_at"].dt.year.value_counts()
    assert {y: cached.cell(r, cols["Tickets"]).value for y, r in years.items()} == per_year.to_dict()
    assert cached.cell(years[2025], cols["Tickets vs last year"]).value == pytest.approx(
        per_year[2025] / per_year[2024] - 1)
    assert ws.cell(years[2024], cols["Tickets"]).value == \
        f'=COUNTIFS(Tickets[Created],">="&DATE($A{years[2024]},1,1),Tickets[Created],"<"&DATE($A{years[2024]}+1,1,1))'
    assert NOT_AVAILABLE not in {cached.cell(r, c).value for r in years.values() for c in cols.values()}


# --- a real spreadsheet engine ----------------------------------------------------------

OPS_TEMPLATE = 'name = "ops"\nsheets = ["Handling", "SLA at Risk", "Weekly", "Settings", "About", "Tickets"]\n'


@pytest.fixture(scope="module")
def small_ops_workbook(tmp_path_factory):
    """A few hundred tickets over two years (so the yearly views are there too), busiest at the
    end so that open tickets fill the SLA-at-risk buckets, with the operations sheets only."""
    from conftest import soffice_or_skip

    soffice_or_skip()
    folder = tmp_path_factory.mktemp("ops_lo")
    (folder / "ops.toml").write_text(OPS_TEMPLATE)
    template = load_template(folder / "ops.toml")
    params = load_params(overrides={"tickets": 500, "seed": 12, "start": dt.date(2024, 12, 1),
                                    "end": dt.date(2025, 12, 31)})
    params = dataclasses.replace(params, arrivals=dataclasses.replace(
        params.arrivals, month=(1,) * 11 + (12,)))
    dataset = generate(params)
    path = folder / "ops.xlsx"
    build_workbook(dataset, path, template)
    return dataset, template, path


@pytest.mark.libreoffice
def test_operations_sheets_recalculate_to_their_cached_values(small_ops_workbook, tmp_path):
    from supportxl.verify import compare_with_recalculated, recalculate

    _, _, path = small_ops_workbook
    comparison = compare_with_recalculated(path, recalculate(path, tmp_path))
    assert comparison.formula_cells > 3_000
    assert comparison.ok, comparison.summary()


@pytest.mark.libreoffice
def test_what_if_resolution_targets_move_the_risk_buckets(small_ops_workbook, tmp_path):
    from supportxl.verify import recalculate, set_cell_values

    dataset, template, path = small_ops_workbook
    # Settings!C6:C9 hold the resolution targets of Critical, High, Medium and Low.
    targets = {"Critical": 8.0, "High": 2.0, "Medium": 72.0, "Low": 12.0}
    edited = set_cell_values(path, "Settings", {"C6": 8, "C7": 2, "C8": 72, "C9": 12}, tmp_path / "edited.xlsx")
    before = load_book(path, data_only=True)["SLA at Risk"]
    after = load_book(recalculate(edited, tmp_path / "out"), data_only=True)["SLA at Risk"]
    t = expected_frame(dataset)
    t["used"] = t["used"] * t["priority"].map(template.sla.resolution_hours) / t["priority"].map(targets)
    t["bucket"] = bucket(t["used"])
    header, cols = grid(after, "Priority")
    names = {"Open, under 50 % used": "risk_under_50", "Open, 50-75 % used": "risk_50_75",
             "Open, 75-90 % used": "risk_75_90", "Open, 90-100 % used": "risk_90_100",
             "Open, past target": "past"}
    changed = 0
    for r in range(header + 1, header + 5):
        counts = t.loc[t["priority"] == after.cell(r, 1).value, "bucket"].value_counts()
        for name, key in names.items():
            assert after.cell(r, cols[name]).value == counts.get(key, 0), (after.cell(r, 1).value, name)
            changed += after.cell(r, cols[name]).value != before.cell(r, cols[name]).value
    assert changed >= 4  # the edit really moved tickets between buckets


def test_a_team_slice_keeps_its_tickets_status_history(ds, model):
    from supportxl.deliver.split import split_dataset

    for part in split_dataset(ds, model.frame, "team"):
        ids = set(part.dataset.tickets["ticket_id"])
        assert set(part.dataset.status_changes["ticket_id"]) == ids
        sliced = plan(part.dataset, TEMPLATE).value(kpi("on_hold_mean"))
        assert sliced == pytest.approx(model.value(kpi("on_hold_mean"), [Criterion("team", "", "", "==", part.value)]))


def test_the_executive_trend_shows_one_touch_from_the_cube(ds, model, tmp_path):
    path = tmp_path / "executive.xlsx"
    build_workbook(ds, path, load_template("executive"))
    ws, cached = load_book(path)["Trend"], load_book(path, data_only=True)["Trend"]
    header, cols = grid(ws, "Month")
    total = next(r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value == "Total")
    assert ws.cell(total, cols["One-touch %"]).value == \
        '=IFERROR(SUM(Cube[One-touch])/SUM(Cube[Resolved]),"")'
    resolved = ds.tickets[ds.tickets["resolved_at"].notna()]
    assert cached.cell(total, cols["One-touch %"]).value == pytest.approx((resolved["agent_replies"] == 1).mean())
