"""What a reader of the workbook meets: live cards, links that lead somewhere, no helper values
on a printed page, and insights that speak only of what the data holds."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import pytest

from supportxl.deliver.pdf import write_pdf
from supportxl.metrics.insights import findings
from supportxl.model import plan
from supportxl.schema import UNKNOWN
from supportxl.template import load_template
from supportxl.workbook.builder import build_workbook

from conftest import load_book, make_dataset, soffice_or_skip

CARD_CELLS = ["A8", "D8", "G8", "J8", "M8", "A14", "D14", "G14", "J14", "M14"]
TEMPLATES = ("dashboard", "executive", "agent_review")


@pytest.fixture(scope="module")
def workbooks(small_dataset, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reader")
    paths = {}
    for name in TEMPLATES:
        paths[name] = folder / f"{name}.xlsx"
        build_workbook(small_dataset, paths[name], load_template(name))
    return paths


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_card_and_its_change_is_a_formula(workbooks, name):
    dashboard = load_book(workbooks[name])["Dashboard"]
    cards = load_template(name).cards
    for ref in CARD_CELLS[:len(cards)]:
        row, col = dashboard[ref].row, dashboard[ref].column
        for cell in (dashboard.cell(row, col), dashboard.cell(row + 2, col)):
            text = getattr(cell.value, "text", cell.value)
            assert isinstance(text, str) and text.startswith("="), (name, cell.coordinate, text)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_internal_link_leads_to_a_sheet_of_the_file(workbooks, name):
    book = load_book(workbooks[name])
    links = [(ws.title, cell.hyperlink.location) for ws in book.worksheets if ws.title not in ("Tickets",)
             for row in ws.iter_rows() for cell in row if cell.hyperlink is not None and cell.hyperlink.location]
    assert links, name
    for sheet, location in links:
        target = location.split("!")[0].strip("'")
        assert target in book.sheetnames, (name, sheet, location)


def test_no_finding_about_unknown_or_missing_fields():
    ds = make_dataset(3_000, seed=8)
    t = ds.tickets.copy()
    t["channel"] = UNKNOWN  # the export had no channel column
    t.loc[t.index % 2 == 0, "priority"] = UNKNOWN
    t.loc[t.index % 3 == 0, "agent"] = UNKNOWN
    manifest = {**ds.manifest, "missing_fields": ["channel", "csat"]}
    found = findings(plan(dataclasses.replace(ds, tickets=t, manifest=manifest), load_template()))
    assert found, "the data still supports findings"
    for finding in found:
        assert UNKNOWN not in finding.sentence + finding.recommendation + finding.effect, finding.key
        assert "CSAT" not in finding.sentence or finding.key == "targets_missed", finding.key
    assert "low_csat_agents" not in {f.key for f in found}  # no ratings: nothing to compare


@pytest.mark.libreoffice
def test_no_helper_value_shows_on_a_printed_page(workbooks, tmp_path):
    """Open-ended buckets hold 100,000 days and 10,000 hand-offs as criteria: never printed."""
    soffice_or_skip()
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) is not installed: apt-get install -y poppler-utils")
    pdf = write_pdf(workbooks["dashboard"], tmp_path / "helpers.pdf",
                    sheets=("Dashboard", "Backlog", "Escalations")).path
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Backlog aging" in text and "Hand-offs per escalated ticket" in text
    for sentinel in ("100,000", "10,000", "Filter helpers", "(formulas, do not edit)"):
        assert sentinel not in text, sentinel
