"""`supportxl report --keep-data` and `--calendar`: the generated folder kept, the calendar applied."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from supportxl.cli import app
from supportxl.dataset import read_dataset
from supportxl.generate import generate, load_params
from supportxl.metrics.calendar import BusinessCalendar, business_hours_reference

from conftest import load_book

runner = CliRunner()


def test_keep_data_writes_the_generated_folder_that_builds_the_same_workbook(tmp_path):
    out, kept = tmp_path / "r.xlsx", tmp_path / "kept"
    result = runner.invoke(app, ["report", "-n", "300", "--seed", "4", "--year", "2024", "-o", str(out),
                                 "--keep-data", str(kept), "-t", "executive"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (f"Wrote the generated data to {kept}/ (build it again with: "
                                             f"supportxl build {kept}).")
    expected = generate(load_params(overrides={"tickets": 300, "seed": 4}, year=2024))
    pd.testing.assert_frame_equal(read_dataset(kept).tickets, expected.tickets, check_dtype=False)
    again = tmp_path / "again.xlsx"
    assert runner.invoke(app, ["build", str(kept), "-o", str(again), "-t", "executive", "-q"]).exit_code == 0
    cached = lambda path: [[c for c in row] for row in load_book(path, data_only=True)["Dashboard"].values]
    assert cached(again) == cached(out)


def test_report_calendar_counts_sla_clocks_in_business_hours(tmp_path):
    out = tmp_path / "cal.xlsx"
    result = runner.invoke(app, ["report", "-n", "200", "--seed", "5", "--year", "2024", "-o", str(out), "-q",
                                 "--calendar", "Mon-Fri 09:00-17:00"])
    assert result.exit_code == 0, result.output
    book = load_book(out, data_only=True)
    about = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True) if r and r[0]}
    assert "--calendar 'Mon-Fri 09:00-17:00'" in about["Regenerate with"]
    tickets = generate(load_params(overrides={"tickets": 200, "seed": 5}, year=2024)).tickets
    calendar = BusinessCalendar(working_days=(0, 1, 2, 3, 4), start_hour=9.0, end_hour=17.0)
    rows = list(book["Tickets"].iter_rows(values_only=True))
    column = rows[0].index("First response (bh)")
    by_id = {r[0]: r[column] for r in rows[1:]}
    answered = tickets.dropna(subset=["first_response_at"]).head(50)
    for ticket in answered.itertuples():
        expected = business_hours_reference(ticket.created_at, ticket.first_response_at, calendar)
        assert abs(by_id[ticket.ticket_id] - expected) < 1e-6, ticket.ticket_id
    assert any(by_id[t] > 0 for t in answered["ticket_id"])
