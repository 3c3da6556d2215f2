"""Every A1-range computation of the workbook, in one place (rows and columns are 0-based)."""

from __future__ import annotations

from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_rowcol_to_cell

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_DATA_ROWS = MAX_ROWS - 1  # one row for the table header
MAX_CELL_CHARS = 32_767
MAX_SHEET_NAME = 31


def cell(row: int, col: int, *, abs_row: bool = False, abs_col: bool = False) -> str:
    """``cell(4, 0, abs_col=True)`` -> ``$A5``."""
    return xl_rowcol_to_cell(row, col, row_abs=abs_row, col_abs=abs_col)


def absolute(row: int, col: int) -> str:
    return cell(row, col, abs_row=True, abs_col=True)


def area(first_row: int, first_col: int, last_row: int, last_col: int, *, absolute_ref: bool = True) -> str:
    """``area(4, 1, 15, 1)`` -> ``$B$5:$B$16``."""
    first = cell(first_row, first_col, abs_row=absolute_ref, abs_col=absolute_ref)
    last = cell(last_row, last_col, abs_row=absolute_ref, abs_col=absolute_ref)
    return f"{first}:{last}"


def on_sheet(sheet: str, reference: str) -> str:
    """``on_sheet("Top Accounts", "$B$5:$B$9")`` -> ``'Top Accounts'!$B$5:$B$9``."""
    return f"{quote_sheetname(sheet)}!{reference}"


def column_letter(col: int) -> str:
    return xl_col_to_name(col)
