"""The executive template: a small file whose Dashboard filters still work without ticket rows."""

from __future__ import annotations

import pandas as pd
import pytest

from supportxl.metrics.cube import cube_formula
from supportxl.metrics.derive import derive
from supportxl.metrics.kpis import Policy, kpi
from supportxl.model import Evaluator
from supportxl.template import load_template
from supportxl.verify import compare_with_recalculated, recalculate, set_cell_values
from supportxl.workbook.builder import build_workbook
from supportxl.workbook.sheets.data import excel_serial

from conftest import load_book, soffice_or_skip

TEMPLATE = load_template("executive")
CARD_CELLS = ["A8", "D8", "G8", "J8", "M8", "A14", "D14", "G14", "J14", "M14"]


@pytest.fixture(scope="module")
def executive(year_dataset, tmp_path_factory):
    path = tmp_path_factory.mktemp("exec") / "executive.xlsx"
    build_workbook(year_dataset, path, TEMPLATE)
    return path


def test_a_50000_ticket_year_fits_in_300_kb(executive):
    size = executive.stat().st_size
    print(f"executive workbook of 50,000 tickets: {size:,} bytes")
    assert size < 300_000


def test_no_ticket_rows_and_cards_read_the_cube(executive, year_dataset):
    book = load_book(executive)
    assert book.sheetnames == ["Dashboard", "Insights", "Trend", "Settings", "About", "Aggregates", "Lists"]
    assert "Cube" in book["Aggregates"].tables
    assert book["Dashboard"]["A8"].value.startswith("=SUMIFS(Cube[Tickets],Cube[Month],")
    values = load_book(executive, data_only=True)
    assert values["Dashboard"]["A8"].value == 50_000
    cube_total = sum(r[4] for r in values["Aggregates"].iter_rows(min_row=2, values_only=True) if r[4])
    assert cube_total == 50_000
    # Medians follow the filters too: a look-up of the selection in the Percentiles table.
    assert book["Dashboard"]["G8"].value.startswith("=IFERROR(INDEX(Percentiles[Hours],MATCH(")
    ttr = (year_dataset.tickets["resolved_at"] - year_dataset.tickets["created_at"]).dt.total_seconds() / 3600
    assert values["Dashboard"]["G8"].value == pytest.approx(ttr.median(), abs=1e-6)  # hours to 6 decimals
    assert "Percentiles" in book["Aggregates"].tables
    assert book["Aggregates"].sheet_state == "hidden"


def test_every_card_and_change_is_live(executive):
    assert all(cube_formula(kpi(key), []) is not None for key in TEMPLATE.cards)
    dashboard = load_book(executive)["Dashboard"]
    for ref in CARD_CELLS:
        row, col = dashboard[ref].row, dashboard[ref].column
        for cell in (dashboard.cell(row, col), dashboard.cell(row + 2, col)):  # the value and its change
            text = getattr(cell.value, "text", cell.value)
            assert isinstance(text, str) and text.startswith("="), (cell.coordinate, text)


def test_executive_and_default_show_the_same_headline(executive, year_dataset, tmp_path_factory):
    default = tmp_path_factory.mktemp("default") / "default.xlsx"
    build_workbook(year_dataset, default)
    a, b = load_book(executive, data_only=True)["Dashboard"], load_book(default, data_only=True)["Dashboard"]
    assert TEMPLATE.cards == load_template().cards
    for ref in CARD_CELLS:
        assert a[ref].value == pytest.approx(b[ref].value, rel=1e-12), ref


@pytest.mark.libreoffice
def test_filters_work_on_the_cube(executive, year_dataset, tmp_path):
    soffice_or_skip()
    assert compare_with_recalculated(executive, recalculate(executive, tmp_path / "all")).ok
    may = pd.Timestamp("2025-05-01")
    edited = set_cell_values(executive, "Dashboard", {"B5": excel_serial(may), "H5": "High"},
                             tmp_path / "filtered.xlsx")
    values = load_book(recalculate(edited, tmp_path / "out"), data_only=True)["Dashboard"]
    frame, _, _ = derive(year_dataset, TEMPLATE)
    subset = frame[(frame["month"] == may) & (frame["priority"] == "High")]
    high = frame[frame["priority"] == "High"]
    june = pd.Timestamp("2025-06-01")
    open_at_may_end = int(((high["created_at"] < june) & ~(high["resolved_at"] < june)).sum())
    for ref, key in zip(CARD_CELLS, TEMPLATE.cards):
        expected = (open_at_may_end if key == "backlog"
                    else Evaluator(subset, Policy(TEMPLATE.csat_good_threshold)).value(kpi(key)))
        assert values[ref].value == pytest.approx(expected, rel=1e-9), key
