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
    about = {r[0]: r[1] for r in values["About"].iter_rows(values_only=True) if r and r[1]}
    written_as_values = next(v for v in about.values() if str(v).startswith("Written as values"))
    assert "Median resolution (h)" in written_as_values


def test_every_card_is_live(executive):
    assert all(cube_formula(kpi(key), []) is not None for key in TEMPLATE.cards)


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
    for ref, key in zip(CARD_CELLS, TEMPLATE.cards):
        expected = Evaluator(subset, Policy(TEMPLATE.csat_good_threshold)).value(kpi(key))
        assert values[ref].value == pytest.approx(expected, rel=1e-9), key
