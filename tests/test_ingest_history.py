"""The status history of an update log: a ServiceNow audit export read into status_changes by
the mapping's [history] table, the time-in-status KPIs counted from it, and a user mapping's
[history] checked like the rest of the mapping.

The fixture is written here with odd text (mixed case, numeric state codes, a state the
mapping does not know, a reopen, rows written at the same moment, a ticket with one row); the
expected changes are listed by hand and the hours summed from them in plain Python."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import load_book
from supportxl.cli import app
from supportxl.errors import ParameterError
from supportxl.ingest import load_export
from supportxl.ingest.mapping import load_mapping
from supportxl.metrics.kpis import kpi
from supportxl.model import plan
from supportxl.template import load_template
from test_ingest_helpers import write_rows

HEADER = ["number", "opened_at", "incident_state", "priority", "assignment_group", "short_description",
          "resolved_at", "closed_at", "sys_updated_on"]
OPENED = {"INC001": "2025-03-03 09:00:00", "INC002": "2025-03-05 08:00:00", "INC003": "2025-03-06 10:00:00"}
UPDATES = [  # number, state as the file writes it, update time, resolved, closed
    ("INC001", "New", "2025-03-03 09:00:00", "", ""),
    ("INC001", "in progress", "2025-03-03 10:00:00", "", ""),
    ("INC001", "On Hold", "2025-03-03 12:00:00", "", ""),
    ("INC001", "IN PROGRESS", "2025-03-03 15:00:00", "", ""),  # same moment as the next row,
    ("INC001", "Awaiting Vendor", "2025-03-03 15:00:00", "", ""),  # which holds the state from then on
    ("INC001", "2", "2025-03-04 09:00:00", "", ""),
    ("INC001", "Resolved", "2025-03-04 11:00:00", "2025-03-04 11:00:00", ""),
    ("INC001", "Active", "2025-03-04 13:00:00", "", ""),  # back from Resolved: Reopened
    ("INC001", "Awaiting Approval", "2025-03-04 14:00:00", "", ""),  # not in [history]: no change
    ("INC001", "6", "2025-03-04 16:00:00", "2025-03-04 16:00:00", ""),
    ("INC001", "Closed", "2025-03-06 18:00:00", "2025-03-04 16:00:00", "2025-03-06 18:00:00"),
    ("INC002", "1", "2025-03-05 08:00:00", "", ""),
    ("INC002", "1", "2025-03-05 08:00:00", "", ""),  # a repeated row
    ("INC002", "2", "2025-03-05 09:30:00", "", ""),
    ("INC002", "3", "2025-03-05 11:00:00", "", ""),
    ("INC002", "  on hold ", "2025-03-05 12:00:00", "", ""),  # the same state: no change
    ("INC002", "in progress", "2025-03-06 08:00:00", "", ""),
    ("INC003", "New", "2025-03-06 10:00:00", "", ""),  # a ticket with a single row
]
EXPECTED = [  # ticket, time, from, to
    ("INC001", "2025-03-03 09:00", None, "New"),
    ("INC001", "2025-03-03 10:00", "New", "Open"),
    ("INC001", "2025-03-03 12:00", "Open", "Pending"),
    ("INC001", "2025-03-03 15:00", "Pending", "On-hold"),
    ("INC001", "2025-03-04 09:00", "On-hold", "Open"),
    ("INC001", "2025-03-04 11:00", "Open", "Solved"),
    ("INC001", "2025-03-04 13:00", "Solved", "Reopened"),
    ("INC001", "2025-03-04 16:00", "Reopened", "Solved"),
    ("INC002", "2025-03-05 08:00", None, "New"),
    ("INC002", "2025-03-05 09:30", "New", "Open"),
    ("INC002", "2025-03-05 11:00", "Open", "Pending"),
    ("INC002", "2025-03-06 08:00", "Pending", "Open"),
    ("INC003", "2025-03-06 10:00", None, "New"),
]
AS_OF = pd.Timestamp("2025-03-06 18:00")  # the latest time in the file: INC001's closing


def audit_csv(folder) -> object:
    rows = [[number, OPENED[number], state, "3 - Moderate", "Service Desk", "Printer jam", resolved, closed, updated]
            for number, state, updated, resolved, closed in UPDATES]
    return write_rows(folder / "incident_updates.csv", HEADER, rows)


def expected_hours() -> pd.DataFrame:
    """Hours in each status per ticket, summed from EXPECTED: a status lasts until the next change."""
    totals: dict[str, dict[str, float]] = {}
    for i, (ticket, at, _, to) in enumerate(EXPECTED):
        following = EXPECTED[i + 1] if i + 1 < len(EXPECTED) else None
        end = pd.Timestamp(following[1]) if following and following[0] == ticket else AS_OF
        hours = (end - pd.Timestamp(at)).total_seconds() / 3600
        row = totals.setdefault(ticket, {s: 0.0 for s in ("New", "Open", "Reopened", "Pending", "On-hold", "Solved")})
        row[to] += hours
    frame = pd.DataFrame(totals).T
    return pd.DataFrame({"new": frame["New"], "open": frame["Open"] + frame["Reopened"],
                         "agent_wait": frame["Pending"], "on_hold": frame["On-hold"],
                         "requester_wait": frame["New"] + frame["Open"] + frame["Reopened"] + frame["On-hold"]})


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    return load_export(audit_csv(tmp_path_factory.mktemp("history")))


def test_update_rows_become_the_status_history(imported):
    changes = imported.dataset.status_changes
    got = [(t, s.strftime("%Y-%m-%d %H:%M"), None if pd.isna(f) else f, to)
           for t, s, f, to in changes.itertuples(index=False)]
    assert got == EXPECTED
    assert list(changes.columns) == ["ticket_id", "timestamp", "from_status", "to_status"]
    assert imported.dataset.manifest["rows"]["status_changes"] == len(EXPECTED)


def test_an_unknown_state_is_reported_and_skipped(imported):
    (unknown,) = [f for f in imported.report.findings if f.kind == "unknown history state"]
    assert unknown.line() == (
        "warning: unknown history state in column 'incident_state': 1 row (not in the servicenow mapping's "
        "[history] table: the row adds no status change); e.g. row 10, incident_state: 'Awaiting Approval'")
    (history,) = [f for f in imported.report.findings if f.kind == "status history"]
    assert history.line() == ("info: status history: 13 changes (of 3 tickets, read from the update rows; time in "
                              "status is counted from them)")


def test_time_in_status_comes_from_the_history(imported):
    expected = expected_hours()
    assert expected.loc["INC001"].tolist() == [1.0, 7.0, 3.0, 18.0, 26.0]  # the hand count, as a check
    model = plan(imported.dataset, load_template())
    frame = model.frame.set_index("ticket_id")
    for key, column in (("hours_new", "new"), ("hours_open", "open"), ("hours_pending", "agent_wait"),
                        ("hours_on_hold", "on_hold"), ("requester_wait_hours", "requester_wait")):
        assert frame[key].to_dict() == pytest.approx(expected[column].to_dict()), key
    assert model.value(kpi("on_hold_mean")) == pytest.approx(expected["on_hold"].mean())
    assert model.value(kpi("agent_wait_mean")) == pytest.approx(expected["agent_wait"].mean())
    assert model.value(kpi("requester_wait_mean")) == pytest.approx(expected["requester_wait"].mean())
    # Resolution less customer wait: INC001, resolved 31 h after it opened, waited 3 h on the caller.
    assert model.value(kpi("ttr_net_mean")) == pytest.approx(31.0 - 3.0)
    assert not model.unavailable(kpi("status_new_mean"))


def test_stated_waits_count_only_for_tickets_without_a_history(imported):
    dataset = imported.dataset
    tickets = dataset.tickets.assign(agent_wait_hours_source=[50.0, 60.0, 70.0])
    changes = dataset.status_changes[dataset.status_changes["ticket_id"] != "INC003"]
    mixed = dataclasses.replace(dataset, tickets=tickets, status_changes=changes)
    frame = plan(mixed, load_template()).frame.set_index("ticket_id")
    expected = expected_hours()
    assert frame.loc["INC001", "hours_pending"] == pytest.approx(expected.loc["INC001", "agent_wait"])
    assert frame.loc["INC003", "hours_pending"] == 70.0  # no history: the stated wait
    assert pd.isna(frame.loc["INC003", "hours_new"])


def test_the_built_workbook_shows_time_in_status(tmp_path):
    path = audit_csv(tmp_path)
    out = tmp_path / "incidents.xlsx"
    result = CliRunner().invoke(app, ["build", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: unknown history state in column 'incident_state': 1 row" in result.output
    values = load_book(out, data_only=True)["Handling"]
    labels = [r for r in range(1, values.max_row + 1) if values.cell(r, 1).value == "Team"]
    header = labels[0]
    cols = {values.cell(header, c).value: c for c in range(1, values.max_column + 1) if values.cell(header, c).value}
    row = next(r for r in range(header + 1, header + 4) if values.cell(r, 1).value == "Service Desk")
    expected = expected_hours()
    assert values.cell(row, cols["Mean on-hold time (h)"]).value == pytest.approx(expected["on_hold"].mean())
    assert values.cell(row, cols["Mean agent wait (h)"]).value == pytest.approx(expected["agent_wait"].mean())
    texts = [c.value for r in values.iter_rows() for c in r if isinstance(c.value, str)]
    assert not any("no status history" in t for t in texts)


COLUMNS = '[columns]\nticket_id = ["id"]\ncreated_at = ["created"]\nupdated_at = ["at"]\nstatus = ["state"]\n'


@pytest.mark.parametrize("text, message", [
    ('group_by = "ticket_id"\norder_by = "updated_at"\n' + COLUMNS + '[history]\nnew = "Fresh"\n',
     "history.new: 'Fresh' is not a status-history status (valid: New, Open, Pending, On-hold, Solved, Reopened)."),
    (COLUMNS + '[history]\nnew = "New"\n',
     "history: a status history is read from update rows: set group_by and order_by (the field grouping a "
     "ticket's rows and the field ordering them)."),
])
def test_a_bad_history_table_names_the_key(tmp_path, text, message):
    path = tmp_path / "log.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError) as error:
        load_mapping(path)
    assert str(error.value) == f"{path}: {message}"


def test_a_user_mapping_reads_any_update_log(tmp_path):
    mapping = tmp_path / "log.toml"
    mapping.write_text('name = "log"\ngroup_by = "ticket_id"\norder_by = "updated_at"\n'
                       '[columns]\nticket_id = ["Case"]\ncreated_at = ["Opened"]\nupdated_at = ["Changed"]\n'
                       'status = ["Stage"]\n'
                       '[history]\nlogged = "New"\nworking = "Open"\n"waiting on customer" = "Pending"\n'
                       'done = "Solved"\n', encoding="utf-8")
    log = write_rows(tmp_path / "log.csv", ["Case", "Opened", "Changed", "Stage"], [
        ["7", "2025-05-01 08:00", "2025-05-01 08:00", "Logged"],
        ["7", "2025-05-01 08:00", "2025-05-01 09:00", "Working"],
        ["7", "2025-05-01 08:00", "2025-05-01 10:00", "Waiting on customer"],
        ["7", "2025-05-01 08:00", "2025-05-01 16:00", "Working"],
        ["7", "2025-05-01 08:00", "2025-05-01 17:00", "Done"],
    ])
    dataset = load_export(log, mapping).dataset
    assert dataset.status_changes["to_status"].tolist() == ["New", "Open", "Pending", "Open", "Solved"]
    assert dataset.status_changes["ticket_id"].tolist() == [7] * 5
    frame = plan(dataset, load_template()).frame
    assert frame["hours_pending"].tolist() == [6.0] and frame["requester_wait_hours"].tolist() == [3.0]
