"""Measured handle time: each product's time-tracking field read as the ticket's agent work time,
and the Plan's handle time on Settings the mean of the resolved tickets that have it (else the
assumption, said so beside the cell).

Each fixture is written here in the product's own headers; the expected mean is computed in
the test from the values it wrote."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from conftest import load_book
from supportxl.ingest import load_export
from supportxl.template import load_template
from supportxl.workbook.builder import build_workbook
from test_ingest_helpers import write_rows

# Per product: the mapping, the headers, and rows of (resolved?, tracked text, row cells).
# The tracked values: two resolved tickets with time, a resolved one without, an open one with time.
PRODUCTS = {
    "zendesk": (["Id", "Created at", "Solved at", "Status", "Priority", "Total time spent (sec)",
                 "Time spent last update (sec)"], [
        ["1", "2025-04-01 09:00:00", "2025-04-01 12:00:00", "Solved", "High", "600", "60"],
        ["2", "2025-04-02 09:00:00", "2025-04-02 11:00:00", "Solved", "Low", "1500", "1500"],
        ["3", "2025-04-03 09:00:00", "2025-04-03 10:00:00", "Solved", "Low", "", ""],
        ["4", "2025-04-04 09:00:00", "", "Open", "Low", "3000", "30"],
    ], 5, 1 / 60),
    "jira": (["Issue key", "Created", "Resolved", "Status", "Priority", "Time Spent", "Σ Time Spent"], [
        ["SUP-1", "01/Apr/25 9:00 AM", "01/Apr/25 3:00 PM", "Done", "High", "600", "3600"],
        ["SUP-2", "02/Apr/25 9:00 AM", "02/Apr/25 1:00 PM", "Done", "Low", "60", "1800"],
        ["SUP-3", "03/Apr/25 9:00 AM", "03/Apr/25 9:30 AM", "Done", "Low", "", ""],
        ["SUP-4", "04/Apr/25 9:00 AM", "", "In Progress", "Low", "7200", "7200"],
    ], 6, 1 / 60),  # the aggregate column is the one read
    "freshdesk": (["Ticket ID", "Created time", "Resolved time", "Status", "Priority", "Time tracked"], [
        ["11", "2025-04-01 09:00:00", "2025-04-01 12:00:00", "Resolved", "High", "00:30"],
        ["12", "2025-04-02 09:00:00", "2025-04-02 12:00:00", "Closed", "Low", "01:15"],
        ["13", "2025-04-03 09:00:00", "2025-04-03 12:00:00", "Resolved", "Low", "00:00"],  # nothing tracked
        ["14", "2025-04-04 09:00:00", "", "Open", "Low", "02:00"],
    ], 5, None),
    "servicenow": (["number", "opened_at", "resolved_at", "incident_state", "priority", "time_worked"], [
        ["INC1", "2025-04-01 09:00:00", "2025-04-01 12:00:00", "Resolved", "2 - High", "00:20:00"],
        ["INC2", "2025-04-02 09:00:00", "2025-04-02 12:00:00", "Closed", "4 - Low", "01:00:30"],
        ["INC3", "2025-04-03 09:00:00", "2025-04-03 12:00:00", "Resolved", "4 - Low", "?"],
        ["INC4", "2025-04-04 09:00:00", "", "In Progress", "4 - Low", "03:00:00"],
    ], 5, None),
}
SHEETS = ("Plan", "Settings", "About", "Tickets")


def minutes(text: str, per_unit: float | None) -> float:
    """The test's own reading of a tracked value: seconds, or h:mm[:ss]."""
    if text in ("", "?"):
        return float("nan")
    if per_unit is not None:
        return float(text) * per_unit
    parts = [int(p) for p in text.split(":")] + [0]
    return parts[0] * 60 + parts[1] + parts[2] / 60


def expected_mean(name: str) -> tuple[float, int]:
    header, rows, column, per_unit = PRODUCTS[name]
    frame = pd.DataFrame({"resolved": [row[2] != "" for row in rows],
                          "minutes": [minutes(row[column], per_unit) for row in rows]})
    tracked = frame[frame["resolved"] & (frame["minutes"] > 0)]["minutes"]
    return tracked.mean(), len(tracked)


def settings_cell(path, label: str):
    ws = load_book(path, data_only=True)["Settings"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)
    return ws.cell(row, 2).value, ws.cell(row, 5).value


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_tracked_time_is_the_handle_time(tmp_path, name):
    header, rows, _, _ = PRODUCTS[name]
    path = write_rows(tmp_path / f"{name}.csv", header, rows)
    dataset = load_export(path, name).dataset
    template = dataclasses.replace(load_template(), sheets=SHEETS)
    out = tmp_path / "plan.xlsx"
    model = build_workbook(dataset, out, template).model
    mean, count = expected_mean(name)
    value, note = settings_cell(out, "Handle time per ticket (min)")
    assert value == pytest.approx(mean, abs=0.005)
    assert note == f"Measured: mean of {count} tickets with time tracked of 3 resolved."
    assert model.staffing.handle_minutes == value  # the staffing table reads the cell's value
    about = {r[0]: r[1] for r in load_book(out)["About"].iter_rows(values_only=True) if r[0]}
    assert about["Handle time (Plan)"] == f"{value:g} min per ticket: measured: mean of {count} tickets " \
                                          f"with time tracked of 3 resolved"


def test_without_tracked_time_the_assumption_stays(tmp_path):
    header, rows, _, _ = PRODUCTS["zendesk"]
    path = write_rows(tmp_path / "zendesk.csv", header[:5], [row[:5] for row in rows])
    dataset = load_export(path, "zendesk").dataset
    assert "work_hours_source" not in dataset.tickets
    out = tmp_path / "plan.xlsx"
    build_workbook(dataset, out, dataclasses.replace(load_template(), sheets=SHEETS))
    assert settings_cell(out, "Handle time per ticket (min)") == (
        12.0, "Assumption: the data tracks no agent work time.")
    plan = load_book(out)["Plan"]
    row = next(r for r in range(1, plan.max_row + 1) if plan.cell(r, 1).value == "Handle time per ticket (min)")
    assert plan.cell(row, 5).value == "Assumption: the data tracks no agent work time. Edit it on Settings."


def test_a_handle_time_set_in_the_template_wins(tmp_path):
    header, rows, _, _ = PRODUCTS["zendesk"]
    dataset = load_export(write_rows(tmp_path / "zendesk.csv", header, rows), "zendesk").dataset
    template = load_template(overrides=["plan.handle_minutes=20"])
    handle = build_workbook(dataset, tmp_path / "plan.xlsx",
                            dataclasses.replace(template, sheets=SHEETS)).model.handle_time
    assert (handle.minutes, handle.describe()) == (
        20.0, "assumption set in the template (the data's mean: 17.5 min over 2 tickets)")
