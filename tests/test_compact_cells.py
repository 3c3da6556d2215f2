"""The data sheets' compact cells (shared formulas, implicit references): same cells, smaller file,
read alike by openpyxl and LibreOffice, and valid OOXML for every template."""

from __future__ import annotations

import re
import zipfile

import pytest

from supportxl.schema import ticket_columns
from supportxl.template import load_template
from supportxl.verify import compare_with_recalculated, recalculate
from supportxl.workbook.builder import build_workbook
from supportxl.workbook.ranges import column_letter
from supportxl.workbook.worksheet import FastWorksheet

from conftest import load_book, make_dataset, soffice_or_skip

TEMPLATES = ("dashboard", "executive", "agent_review")
# The Tickets sheet's part in the default template (XlsxWriter numbers the parts in sheet order).
TICKETS_PART = f"xl/worksheets/sheet{load_template().sheets.index('Tickets') + 1}.xml"


@pytest.fixture(scope="module")
def dataset():
    return make_dataset(300, seed=11)


@pytest.fixture(scope="module")
def workbooks(dataset, tmp_path_factory):
    """The default workbook written compactly, and as before (every cell's reference and formula)."""
    folder = tmp_path_factory.mktemp("compact")
    compact, previous = folder / "compact.xlsx", folder / "previous.xlsx"
    build_workbook(dataset, compact)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FastWorksheet, "compact_cells", lambda self: None)
        build_workbook(dataset, previous)
    return compact, previous


@pytest.fixture(scope="module")
def template_workbooks(dataset, workbooks, tmp_path_factory):
    folder = tmp_path_factory.mktemp("templates")
    paths = {"dashboard": workbooks[0]}
    for name in TEMPLATES[1:]:
        paths[name] = folder / f"{name}.xlsx"
        build_workbook(dataset, paths[name], load_template(name))
    return paths


def sheet_xml(path, part: str = TICKETS_PART) -> str:
    with zipfile.ZipFile(path) as book:
        return book.read(part).decode("utf-8")


def all_cells(path, data_only: bool) -> dict[tuple[str, str], object]:
    """Every written cell's value, or its formula's text (an array formula's with its range)."""
    book = load_book(path, data_only=data_only)
    return {(ws.title, cell.coordinate): _text(cell.value)
            for ws in book.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None}


def _text(value):
    return (value.ref, value.text) if type(value).__name__ == "ArrayFormula" else value


def test_the_tickets_sheet_shares_its_formulas_and_leaves_out_references(workbooks):
    compact, previous = sheet_xml(workbooks[0]), sheet_xml(workbooks[1])
    masters = re.findall(r'<c r="([A-Z]+)2" s="\d+"><f t="shared" ref="([A-Z]+\d+:[A-Z]+\d+)" si="(\d+)">', compact)
    columns = ticket_columns(business_hours=False, dashboard=True)
    letters = [column_letter(i) for i, c in enumerate(columns) if c.formula]  # every per-row formula
    assert len(letters) >= 6
    assert masters == [(col, f"{col}2:{col}301", str(si)) for si, col in enumerate(letters)]
    assert compact.count('<f t="shared" si="0"/>') == 299
    assert f'<row r="2" spans="1:{len(columns)}"><c s="' in compact  # column A of a data row: no reference
    # The rows below the first of a chunk follow the one before: no row number either.
    assert compact.count("<row ") == 301 and compact.count('<row r="') == 2  # the header and row 2
    assert f'</row><row spans="1:{len(columns)}"><c s="' in compact
    assert '<f t="shared"' not in previous and '<c s="' not in previous
    assert len(compact) < 0.75 * len(previous)
    packed = [zipfile.ZipFile(path).getinfo(TICKETS_PART).compress_size for path in workbooks]
    assert packed[0] < 0.6 * packed[1]


def test_every_cell_keeps_its_formula_and_value(workbooks):
    compact, previous = workbooks
    for data_only in (False, True):
        before, after = all_cells(previous, data_only), all_cells(compact, data_only)
        assert len(after) > 20_000
        assert after == before
    tickets = load_book(compact)["Tickets"]
    target = column_letter([c.key for c in ticket_columns(business_hours=False, dashboard=True)].index("resolution_target"))
    assert tickets[f"{target}301"].value == '=IFERROR(INDEX(SLA[Resolution target (h)],MATCH($F301,SLA[Priority],0)),"")'


@pytest.mark.libreoffice
def test_libreoffice_reads_every_formula_and_recalculates_the_cached_values(workbooks, tmp_path):
    soffice_or_skip()
    compact, previous = workbooks
    recalculated = recalculate(compact, tmp_path)
    comparison = compare_with_recalculated(compact, recalculated)
    assert comparison.ok, comparison.summary()
    formulas = {key: value for key, value in all_cells(previous, False).items()
                if isinstance(value, tuple) or isinstance(value, str) and value.startswith("=")}
    assert comparison.formula_cells == len(formulas)
    saved = load_book(recalculated)["Tickets"]
    tickets = {ref: formula for (sheet, ref), formula in formulas.items() if sheet == "Tickets"}
    assert len(tickets) == sum(c.formula for c in ticket_columns(business_hours=False, dashboard=True)) * 300
    assert {ref: saved[ref].value for ref in tickets} == tickets
    assert saved["E300"].value == load_book(previous)["Tickets"]["E300"].value  # implicit references placed right


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_passes_the_ooxml_schema_validation(template_workbooks, template):
    from openxml_audit import OpenXmlValidator

    result = OpenXmlValidator().validate(template_workbooks[template])
    assert result.is_valid, [str(error) for error in result.errors[:10]]


def test_the_schema_validation_finds_a_broken_shared_formula(workbooks, tmp_path):
    from openxml_audit import OpenXmlValidator

    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(workbooks[0]) as source, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == TICKETS_PART:
                data = data.replace(b'<f t="shared" si="0"/>', b'<f t="shared" si="first"/>', 1)
            target.writestr(item, data)
    result = OpenXmlValidator().validate(broken)
    assert not result.is_valid
    assert "Invalid integer value: 'first'" in str(result.errors[0])
