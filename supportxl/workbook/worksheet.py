"""A worksheet with shortcuts for the large data sheets, same XML as XlsxWriter writes.

1. Whole columns are stored in one call (``write_numbers``, ``write_strings``,
   ``write_formulas``) instead of one checked call per cell. ``write_formulas`` skips
   XlsxWriter's scan of every formula for functions newer than Excel 2007 (about thirty
   regular expressions each): the per-ticket SLA formulas use only IF, IFERROR, INDEX,
   MATCH and MAX, and there are hundreds of thousands of them.
2. Formatted numbers, shared strings and formulas with numeric or empty cached values are
   serialised by one f-string each instead of the general attribute-list path.
3. The rows' "spans" (first and last used column per block of 16 rows) come from each
   row's stored cells instead of a test of every column of every row.
The bytes are exactly those XlsxWriter's public methods would produce (tests compare the two).
"""

from __future__ import annotations

from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellFormulaTuple, CellNumberTuple, CellStringTuple, Worksheet


class FastWorksheet(Worksheet):
    def _claim(self, first_row: int, col: int, count: int) -> None:
        if count and (self._check_dimensions(first_row, col)
                      or self._check_dimensions(first_row + count - 1, col)):
            raise IndexError(f"rows {first_row}-{first_row + count - 1} are outside the worksheet")

    def write_numbers(self, first_row: int, col: int, values: list, cell_format) -> None:
        """A column of numbers from ``first_row`` down; NaN leaves the cell empty."""
        self._claim(first_row, col, len(values))
        table = self.table
        for row, value in enumerate(values, start=first_row):
            if value == value:
                table[row][col] = CellNumberTuple(value, cell_format)

    def write_strings(self, first_row: int, col: int, values: list, cell_format) -> None:
        """A column of text (already within Excel's length limit); empty text leaves the cell empty."""
        self._claim(first_row, col, len(values))
        table, index = self.table, self.str_table._get_shared_string_index
        for row, value in enumerate(values, start=first_row):
            if value:
                table[row][col] = CellStringTuple(index(value), cell_format)

    def write_formulas(self, first_row: int, col: int, formulas: list, values: list, cell_format) -> None:
        """A column of classic-function formulas (without the leading '=') and their cached values."""
        self._claim(first_row, col, len(formulas))
        table = self.table
        for row, (formula, value) in enumerate(zip(formulas, values), start=first_row):
            table[row][col] = CellFormulaTuple(formula, cell_format, value)

    def _calculate_spans(self) -> None:
        if self.comments:
            return super()._calculate_spans()
        spans: dict[int, str] = {}
        for block in range(self.dim_rowmin // 16, self.dim_rowmax // 16 + 1):
            used = [self.table[row] for row in range(max(block * 16, self.dim_rowmin),
                                                      min(block * 16 + 15, self.dim_rowmax) + 1)
                    if row in self.table and self.table[row]]
            if used:
                spans[block] = f"{min(min(r) for r in used) + 1}:{max(max(r) for r in used) + 1}"
        self.row_spans = spans

    def _write_cell(self, row: int, col: int, cell) -> None:
        kind = cell.__class__.__name__
        if cell.format is None or self.constant_memory:
            return super()._write_cell(row, col, cell)
        head = f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{cell.format._get_xf_index()}"'
        if kind == "Number":
            self.fh.write(f"{head}><v>{cell.number:.16G}</v></c>")
        elif kind == "String":
            self.fh.write(f'{head} t="s"><v>{cell.string}</v></c>')
        elif kind == "Formula" and type(cell.value) in (int, float) or (
                kind == "Formula" and cell.value == ""):
            formula = cell.formula
            if "&" in formula or "<" in formula or ">" in formula:
                formula = formula.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            self.fh.write(f"{head}><f>{formula}</f><v>{cell.value}</v></c>")
        else:
            super()._write_cell(row, col, cell)
