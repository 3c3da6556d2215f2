"""FastWorksheet's column writers produce exactly the XML of XlsxWriter's public methods."""

from __future__ import annotations

import zipfile

import xlsxwriter

from supportxl.workbook.worksheet import FastWorksheet

NUMBERS = [1.0, 2.5, float("nan"), 45678.123456789, 7]
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
            ws.write_formulas(1, 2, FORMULAS, CACHED, fmt)
        # Rows in later blocks of 16 with other first and last columns, for the row spans.
        ws.write_number(20, 4, 1.5, fmt)
        ws.write_string(40, 1, "late", fmt)
        ws.write_number(41, 7, 2, None)
        workbook.close()
    assert sheet_xml(plain) == sheet_xml(fast)
