"""A real spreadsheet engine recalculates the workbook: every formula equals its cached value."""

from __future__ import annotations


import pytest

from supportxl.metrics.derive import derive_tickets
from supportxl.template import load_template
from supportxl.verify import compare_with_recalculated, recalculate, set_cell_values
from supportxl.workbook.builder import build_workbook

from conftest import load_book, make_dataset, soffice_or_skip
from test_workbook import _with_text

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def year_workbook(year_dataset, tmp_path_factory):
    soffice_or_skip()
    path = tmp_path_factory.mktemp("year") / "year.xlsx"
    build_workbook(year_dataset, path)
    return path


def test_full_year_recalculates_to_the_cached_values(year_workbook, tmp_path):
    comparison = compare_with_recalculated(year_workbook, recalculate(year_workbook, tmp_path))
    assert comparison.formula_cells > 300_000
    assert comparison.ok, comparison.summary()


def test_what_if_a_resolution_target_changes(small_dataset, small_workbook, tmp_path):
    soffice_or_skip()
    # Settings!C7 holds the High priority resolution target (12 h by default).
    edited = set_cell_values(small_workbook, "Settings", {"C7": 2}, tmp_path / "edited.xlsx")
    recalculated = recalculate(edited, tmp_path / "out")
    book = load_book(recalculated, data_only=True)
    template = load_template()
    frame = derive_tickets(small_dataset, template)
    targets = dict(template.sla.resolution_hours, High=2.0)
    expected = frame["resolution_clock"] > frame["priority"].map(targets)
    sla = book["SLA"]
    rows = {sla.cell(r, 1).value: r for r in range(5, 10)}
    late_col = next(c.column for c in sla[4] if c.value == "Resolved late")
    past_col = next(c.column for c in sla[4] if c.value == "Open, past target")
    high = frame["priority"] == "High"
    assert (sla.cell(rows["High"], late_col).value + sla.cell(rows["High"], past_col).value
            == int((expected & high).sum()))
    trend = book["Trend"]
    breach_col = next(c.column for c in trend[4] if c.value == "Resolution breach %")
    assert trend.cell(17, breach_col).value == pytest.approx(expected.mean())
    assert expected.mean() > frame["resolution_breached"].mean()  # the edit really changed something


def test_tricky_user_text_recalculates_too(small_dataset, tmp_path):
    soffice_or_skip()
    path = tmp_path / "unsafe.xlsx"
    build_workbook(_with_text(small_dataset, ["=1+1", "A*B?", "~x", "<5", ">=3"]), path)
    comparison = compare_with_recalculated(path, recalculate(path, tmp_path / "out"))
    assert comparison.ok, comparison.summary()


def test_business_hours_template_recalculates(tmp_path):
    soffice_or_skip()
    template_path = tmp_path / "bh.toml"
    template_path.write_text(
        'name = "bh"\n[calendar]\nworking_days = [0, 1, 2, 3, 4]\nstart_hour = 8.0\n'
        'end_hour = 18.0\nholidays = [2025-12-25]\ntimezone = "Europe/Berlin"\n')
    template = load_template(template_path)
    path = tmp_path / "bh.xlsx"
    build_workbook(make_dataset(1_500, seed=3), path, template)
    comparison = compare_with_recalculated(path, recalculate(path, tmp_path / "out"))
    assert comparison.ok, comparison.summary()
