"""FastWorksheet's column writers produce exactly the XML of XlsxWriter's public methods."""

from __future__ import annotations

import datetime
import zipfile

import pytest
import xlsxwriter
from xlsxwriter.exceptions import OverlappingRange

from supportxl.workbook.worksheet import FastWorksheet

NUMBERS = [1.0, 2.5, float("nan"), 45678.123456789, 7, -0.0, 2.5, 0.0]  # -0 written as XlsxWriter does
STRINGS = ["a", "", "=HYPERLINK(1)", "x & <y>", "a"]
FORMULAS = ['IF($A2>1,1,0)', 'IFERROR(INDEX(SLA[X],MATCH($B3,SLA[P],0)),"")', "MAX(0,$A4-1)",
            'IF($A5<>"",1,0)', "A6&B6"]
CACHED = [1, "", 0.25, 0, ""]


def sheet_xml(path) -> bytes:
    with zipfile.ZipFile(path) as book:
        return book.read("xl/worksheets/sheet1.xml") + book.read("xl/sharedStrings.xml")


def test_column_writers_match_public_methods(tmp_path):
    plain, fast = tmp_path / "plain.xlsx", tmp_path / "fast.xlsx"
    for path, worksheet_class in ((plain, None), (fast, FastWorksheet)):
        workbook = xlsxwriter.Workbook(path, {"strings_to_formulas": False})
        fmt = workbook.add_format({"num_format": "0.0"})
        ws = workbook.add_worksheet("S", worksheet_class=worksheet_class)
        if worksheet_class is None:
            for row, value in enumerate(NUMBERS, start=1):
                if value == value:
                    ws.write_number(row, 0, value, fmt)
            for row, value in enumerate(STRINGS, start=1):
                if value:
                    ws.write_string(row, 1, value, fmt)
            for row, (formula, value) in enumerate(zip(FORMULAS, CACHED), start=1):
                ws.write_formula(row, 2, "=" + formula, fmt, value)
        else:
            ws.write_numbers(1, 0, NUMBERS, fmt)
            ws.write_strings(1, 1, STRINGS, fmt)
            ws.write_formulas(1, 2, lambda row: FORMULAS[row - 1], CACHED, fmt)
        # Rows in later blocks of 16 with other first and last columns, for the row spans.
        ws.write_number(20, 4, 1.5, fmt)
        ws.write_string(40, 1, "late", fmt)
        ws.write_number(41, 7, 2, None)
        workbook.close()
    assert sheet_xml(plain) == sheet_xml(fast)


def test_a_tall_table_of_stored_columns_matches_public_methods(tmp_path):
    """A table over the add_table shortcut's threshold, empty cells, a column empty in its first
    rows (its format is first met late), a single cell inside a stored row, row formats, a
    formula with a text cached value, a column without a format: every part of the file equal."""
    n = 200
    nums = [float(i) * 1.5 if i % 7 else float("nan") for i in range(n)]
    strs = ["" if i % 5 == 0 else f"s{i % 13} & <x>" for i in range(n)]
    forms = [f"IF($A{i + 2}>1,1,0)" for i in range(n)]
    cached = [1 if i % 3 else ("" if i % 2 else "text") for i in range(n)]
    late = [float("nan")] * 20 + [3.0] * (n - 20)

    def build(path, fast: bool):
        workbook = xlsxwriter.Workbook(path, {"strings_to_formulas": False})
        workbook.set_properties({"created": datetime.datetime(2025, 1, 1)})
        f1, f2, f3 = (workbook.add_format(o) for o in ({"num_format": "0.0"}, {"bold": True}, {"italic": True}))
        f4, f5, f6 = (workbook.add_format(o) for o in ({"font_color": "red"}, {"font_color": "blue"},
                                                       {"underline": 1}))
        ws = workbook.add_worksheet("S", worksheet_class=FastWorksheet if fast else None)
        ws.add_table(0, 0, n, 4, {"name": "T", "columns": [{"header": h} for h in "ABCDE"]})
        columns = [(0, nums, f1), (3, late, f2), (4, nums, None), (5, late, f5)]
        if fast:
            for col, values, fmt in columns:
                ws.write_numbers(1, col, values, fmt)
            ws.write_strings(1, 1, strs, f2)
            ws.write_formulas(1, 2, lambda row: forms[row - 1], cached, f3)
        else:
            for i in range(n):
                for col, values, fmt in columns:
                    if values[i] == values[i]:
                        ws.write_number(i + 1, col, values[i], fmt)
                if strs[i]:
                    ws.write_string(i + 1, 1, strs[i], f2)
                ws.write_formula(i + 1, 2, "=" + forms[i], f3, cached[i])
        ws.set_row(3, 15, f4)
        ws.write_string(10, 8, "ordinary", f6)
        ws.write_string(5, 7, "extra", f1)
        ws.set_row(9, 30)
        ws.set_row(n + 5, 20)
        ws.write_number(n + 10, 2, 7, f3)
        workbook.close()

    plain, fast = tmp_path / "plain.xlsx", tmp_path / "fast.xlsx"
    build(plain, False)
    build(fast, True)
    with zipfile.ZipFile(plain) as a, zipfile.ZipFile(fast) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), name


def test_a_tall_table_still_refuses_an_overlap(tmp_path):
    workbook = xlsxwriter.Workbook(tmp_path / "x.xlsx")
    ws = workbook.add_worksheet("S", worksheet_class=FastWorksheet)
    ws.add_table(0, 0, 500, 3, {"name": "A"})
    with pytest.raises(OverlappingRange, match=r"Table range 'C400:E410' overlaps previous table range 'A1:D501'"):
        ws.add_table(399, 2, 409, 4, {"name": "B"})
    workbook.close()


PREPARED = [
    "=COUNTIFS(Tickets[Channel],$A5,Tickets[Created],\">=\"&B$3)", "{=MEDIAN(IF(T[X]=1,T[Y]))}",
    "=XLOOKUP(A1,B:B,C:C)", "=SUM(FILTER(A:A,B:B=1))", "=IFERROR(SORT(A1:A9),0)", "=SINGLE(A1)",
    "=(INGLE(A1))", "=XINGLE(2)", "=A.XLOOKUP(1)", "=_xlfn.XLOOKUP(1,A:A,B:B)", "=LEN(\"SORT(\")",
    "=sort(A1:A3)", "=ANCHORARRAY(A1)+1", "=XLOOKUPS(1)", "=MYSORT(1)", "=1+2", "=T.TEST(A:A,B:B,2,1)",
]


@pytest.mark.parametrize("future", [False, True])
def test_formula_preparation_equals_xlsxwriters(future):
    """The shortcut around XlsxWriter's newer-function scan prepares every formula as it does."""
    workbook = xlsxwriter.Workbook(None, {"in_memory": True, "use_future_functions": future})
    fast, plain = workbook.add_worksheet("F", worksheet_class=FastWorksheet), workbook.add_worksheet("P")
    for formula in PREPARED:
        for expand in (False, True):
            assert fast._prepare_formula(formula, expand) == plain._prepare_formula(formula, expand), formula
    assert fast._prepare_formula("=XLOOKUP(1)") == "_xlfn.XLOOKUP(1)"  # the scan still runs where it must
    assert fast._prepare_formula("=(INGLE(A1))") == "_xlfn.SINGLE(A1))"  # XlsxWriter's own quirk, kept
