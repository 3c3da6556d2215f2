"""A worksheet with shortcuts for the large data sheets, same XML as XlsxWriter writes.

1. Whole columns are stored in one call (``write_numbers``, ``write_strings``,
   ``write_formulas``) as numpy arrays (numbers, shared-string indices) or a list (formulas),
   not as one checked cell object per value, and rendered straight to XML, in chunks of
   rows joined column-wise, when the workbook is saved. Each distinct text of a column is
   looked up once in the shared-string table.
   ``write_formulas`` skips XlsxWriter's scan of every formula for functions newer than
   Excel 2007 (about thirty regular expressions each): the per-ticket SLA formulas use only
   IF, IFERROR, INDEX, MATCH and MAX, and there are hundreds of thousands of them.
2. Formatted numbers, shared strings and formulas with numeric or empty cached values are
   serialised by one f-string each instead of the general attribute-list path.
3. The rows' "spans" (first and last used column per block of 16 rows) come from the
   stored columns' presence arrays instead of a test of every column of every row.
4. ``add_table`` registers a tall table's cells for XlsxWriter's overlap check as one
   rectangle instead of one dictionary entry per cell.
5. Every other formula (the summaries' few thousand) goes through XlsxWriter's scan for
   dynamic-array functions only when a function name it calls is one the scan changes;
   each distinct name is put to the scan once.
The bytes are exactly those XlsxWriter's public methods would produce (tests compare the two):
format and shared-string indices are assigned in the same order as there.

``compact_cells()`` makes a sheet's stored columns smaller, as Excel itself saves large sheets:
a formula column is written once, as a shared formula (``<f t="shared" ref=".." si="n">`` on
its first cell, ``<f t="shared" si="n"/>`` on the others), and a value cell that directly
follows its left neighbour in the row leaves out its reference (``r``, optional in the
schema: readers take the next column; formula cells keep it, openpyxl needs it to place a
shared formula), and so does a row right below the row before it (readers take the next row).
The repeated references and formulas are most of a data sheet's XML and, being different on
every row, most of its compressed size.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import OverlappingRange
from xlsxwriter.utility import xl_col_to_name, xl_range, xl_rowcol_to_cell_fast

# The XlsxWriter versions whose private cell tuples and _write_* methods this module was
# checked against; pyproject.toml pins the same range.
SUPPORTED_XLSXWRITER = ((3, 3), (3, 4))  # from, up to (excluded)


def check_xlsxwriter_version(version: str) -> None:
    """Refuse an XlsxWriter whose internals FastWorksheet was not checked against."""
    low, high = SUPPORTED_XLSXWRITER
    try:
        found = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        found = None
    if found is None or not low <= found < high:
        raise ImportError(
            f"supportxl needs XlsxWriter >= {low[0]}.{low[1]}, < {high[0]}.{high[1]} (found {version}): "
            f"its fast worksheet relies "
            f"on XlsxWriter internals that change between versions; install a supported one with "
            f"pip install 'xlsxwriter>={low[0]}.{low[1]},<{high[0]}.{high[1]}'.")


check_xlsxwriter_version(xlsxwriter.__version__)

from xlsxwriter.worksheet import CellFormulaTuple, CellNumberTuple, CellStringTuple, Worksheet  # noqa: E402

NUMBER, STRING, FORMULA = "number", "string", "formula"
_CHUNK_ROWS = 4096  # stored rows rendered at a time: fast column-wise, without all the XML in memory
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ERROR_CODES = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")
_CALLED_NAME = re.compile(r"[\w.]+(?=\()")  # what comes before each "(": a function's name


@dataclass
class _Column:
    """One column written in one call: a value per row from ``first_row``."""

    col: int
    first_row: int
    kind: str
    # numbers (float array, NaN: no cell), shared-string indices (int array, -1: no cell) or
    # formulas (a list of texts, None: no cell)
    values: np.ndarray | list
    cached: list | None  # a formula column's cached values
    cell_format: object
    letter: str = ""
    formula_at: Callable[[int], str] | None = None  # a shared formula's text in a sheet row
    shared_index: int | None = None  # the si of a shared formula

    def present(self, i: int) -> bool:
        return bool(self.presence(i, i + 1)[0])

    def presence(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Whether rows ``lo`` to ``hi - 1`` (of the column's own) hold a cell."""
        values = self.values[lo:hi]
        if self.kind == NUMBER:
            return ~np.isnan(values)
        if self.kind == STRING:
            return values >= 0
        return np.array([v is not None for v in values], dtype=bool)

    def cell(self, i: int):
        """The XlsxWriter cell tuple of row ``first_row + i``."""
        if self.kind == NUMBER:
            return CellNumberTuple(float(self.values[i]), self.cell_format)
        if self.kind == STRING:
            return CellStringTuple(int(self.values[i]), self.cell_format)
        formula = self.values[i] if self.formula_at is None else self.formula_at(self.first_row + i)
        return CellFormulaTuple(formula, self.cell_format, self.cached[i])


class FastWorksheet(Worksheet):
    def __init__(self) -> None:
        super().__init__()
        self._columns: dict[int, list[_Column]] = {}  # first row -> the columns stored from there
        self._table_blocks: list[tuple[int, int, int, int, str]] = []
        self._compact = False
        self._shared_formulas = 0

    def compact_cells(self) -> None:
        """Write the stored columns with shared formulas and implicit cell references."""
        self._compact = True

    def _prepare_formula(self, formula, expand_future_functions=False):
        """XlsxWriter's preparation of ``formula``, skipping its thirty-odd regular expressions
        when no name called in the formula is one they change (most formulas)."""
        if self.use_future_functions or expand_future_functions:
            return super()._prepare_formula(formula, expand_future_functions)
        text = formula[1:] if formula.startswith("{") else formula  # as XlsxWriter strips it
        text = text[1:] if text.startswith("=") else text
        text = text[:-1] if text.endswith("}") else text
        if "_xlfn." in text or all(_unchanged_name(name) for name in _CALLED_NAME.findall(text)):
            return text
        return super()._prepare_formula(formula, expand_future_functions)

    # ------------------------------------------------------------------ storing columns
    def _store(self, first_row: int, col: int, kind: str, values: np.ndarray | list, cached: list | None,
               cell_format, formula_at: Callable[[int], str] | None = None) -> None:
        if not len(values):
            return
        last = first_row + len(values) - 1
        if self._check_dimensions(first_row, col) or self._check_dimensions(last, col):
            raise IndexError(f"rows {first_row}-{last} are outside the worksheet")
        column = _Column(col, first_row, kind, values, cached, cell_format, xl_col_to_name(col), formula_at)
        if formula_at is not None:
            column.shared_index = self._shared_formulas
            self._shared_formulas += 1
        self._columns.setdefault(first_row, []).append(column)

    def write_numbers(self, first_row: int, col: int, values: Sequence[float], cell_format) -> None:
        """A column of numbers from ``first_row`` down; NaN leaves the cell empty."""
        self._store(first_row, col, NUMBER, np.array(values, dtype=float), None, cell_format)

    def write_strings(self, first_row: int, col: int, values: Sequence[str], cell_format) -> None:
        """A column of text (already within Excel's length limit); empty text leaves the cell empty."""
        codes, uniques = pd.factorize(np.asarray(values, dtype=object))
        # Each distinct text looked up once, in the order of its first row: the shared-string
        # indices come out as one lookup per cell would assign them, and the table counts every cell.
        index = self.str_table._get_shared_string_index
        lookup = np.array([index(text) if text else -1 for text in uniques] + [-1], dtype=np.int64)
        indices = lookup[codes]  # codes of -1 (a missing value) take the last entry
        self.str_table.count += int(np.count_nonzero(indices >= 0)) - int(np.count_nonzero(lookup >= 0))
        self._store(first_row, col, STRING, indices, None, cell_format)

    def write_formulas(self, first_row: int, col: int, formula_at: Callable[[int], str], values: Sequence,
                       cell_format) -> None:
        """A column of one classic-function formula (without the leading '='), one cell per cached
        value: ``formula_at(row)`` is its text in sheet row ``row`` (0-based), the first row's with
        the relative row references moved down, so that it can be shared."""
        rows = range(first_row, first_row + len(values))
        if self._compact and len(values) > 1:
            first = formula_at(first_row)
            self._store(first_row, col, FORMULA, [first] * len(values), list(values), cell_format, formula_at)
        else:
            self._store(first_row, col, FORMULA, [formula_at(row) for row in rows], list(values), cell_format)

    def _materialise(self) -> None:
        """Move the stored columns into XlsxWriter's own cell table (for its general paths)."""
        for columns in self._columns.values():
            for column in columns:
                for i in np.flatnonzero(column.presence()).tolist():
                    self.table[column.first_row + i][column.col] = column.cell(i)
        self._columns = {}

    def _get_range_data(self, *args, **kwargs):  # chart caches read cells back
        self._materialise()
        return super()._get_range_data(*args, **kwargs)

    # ------------------------------------------------------------------ tables
    def add_table(self, first_row: int, first_col: int, last_row: int, last_col: int, options=None):
        """As XlsxWriter's, with the overlap check of a tall table done on its rectangle."""
        options = options or {}
        top, bottom = min(first_row, last_row), max(first_row, last_row)
        left, right = min(first_col, last_col), max(first_col, last_col)
        cell_range = xl_range(top, left, bottom, right)
        for r0, c0, r1, c1, previous in self._table_blocks:
            if top <= r1 and r0 <= bottom and left <= c1 and c0 <= right:
                raise OverlappingRange(f"Table range '{cell_range}' overlaps previous table range '{previous}'.")
        if (bottom - top < 64 or "data" in options or options.get("total_row")
                or options.get("header_row") is False
                or any("formula" in column for column in options.get("columns", ()))
                or self._check_dimensions(bottom, right, True, True)):
            result = super().add_table(first_row, first_col, last_row, last_col, options)
        else:
            for row, col in self.merged_cells:
                if top <= row <= bottom and left <= col <= right:
                    raise OverlappingRange(f"Table range '{cell_range}' overlaps previous merge range "
                                           f"'{self.merged_cells[(row, col)]}'.")
            # XlsxWriter registers every cell: let it register the header and the first data
            # row, then widen the table to its real height.
            result = super().add_table(top, left, top + 1, right, options)
            table = self.tables[-1]
            table["range"] = table["a_range"] = cell_range
            if table.get("autofilter"):
                table["autofilter"] = cell_range
        if result != -1:
            self._table_blocks.append((top, left, bottom, right, cell_range))
        return result

    # ------------------------------------------------------------------ writing XML
    def _calculate_spans(self) -> None:
        if self.comments:
            self._materialise()
            return super()._calculate_spans()
        used: dict[int, list[int]] = {}  # block of 16 rows -> [first col, last col]

        def note(block: int, first: int, last: int) -> None:
            span = used.get(block)
            if span is None:
                used[block] = [first, last]
            else:
                span[0], span[1] = min(span[0], first), max(span[1], last)

        for row, cells in self.table.items():
            if cells:
                note(row // 16, min(cells), max(cells))
        for first_row, columns in self._columns.items():
            offset = first_row % 16  # rows of the first block above first_row
            blocks = (offset + max(len(c.values) for c in columns) + 15) // 16
            first, last = np.full(blocks, np.iinfo(np.int64).max), np.full(blocks, -1)
            for column in columns:
                present = np.zeros(blocks * 16, dtype=bool)
                present[offset:offset + len(column.values)] = column.presence()
                filled = present.reshape(blocks, 16).any(axis=1)
                first[filled] = np.minimum(first[filled], column.col)
                last[filled] = np.maximum(last[filled], column.col)
            for block in np.flatnonzero(last >= 0).tolist():
                note(first_row // 16 + block, int(first[block]), int(last[block]))
        self.row_spans = {block: f"{first + 1}:{last + 1}" for block, (first, last) in used.items()}

    def _write_rows(self) -> None:
        if not self._columns:
            return super()._write_rows()
        self._calculate_spans()
        if self.comments:  # _calculate_spans moved the columns into the cell table
            return super()._write_rows()
        stored = self._stored_rows()
        self._assign_format_indices(stored)
        row_num = self.dim_rowmin
        while row_num <= self.dim_rowmax:
            group = stored.get(row_num)
            if group is None:
                if self.table.get(row_num) or row_num in self.row_info:
                    self._write_stock_row(row_num)
                row_num += 1
                continue
            columns, stop = group  # rows row_num .. stop - 1 hold stored columns
            for chunk in range(row_num, stop, _CHUNK_ROWS):
                self._write_stored_rows(columns, chunk, min(chunk + _CHUNK_ROWS, stop))
            row_num = stop

    def _stored_rows(self) -> dict[int, tuple[list[_Column], int]]:
        """First row -> (the columns stored from there, in column order; the row after the last)."""
        groups = {}
        for first_row, columns in sorted(self._columns.items()):
            stop = first_row + max(len(c.values) for c in columns)
            if groups and any(first_row < end for _, end in groups.values()):
                self._materialise()  # overlapping groups: the general path keeps the order right
                return {}
            groups[first_row] = (sorted(columns, key=lambda c: c.col), stop)
        return groups

    def _assign_format_indices(self, stored: dict[int, tuple[list[_Column], int]]) -> None:
        """Give formats their index in the order XlsxWriter would meet them, row by row."""
        first_use: dict[int, list[tuple[int, object]]] = {}
        for first_row, (columns, _) in stored.items():
            for column in columns:
                if column.cell_format is None:
                    continue
                present = np.flatnonzero(column.presence())
                if present.size:
                    first_use.setdefault(first_row + int(present[0]), []).append((column.col, column.cell_format))
        for row_num in sorted(set(first_use) | set(self.table) | set(self.row_info)):
            info = self.row_info.get(row_num)
            if info is not None and info.row_format is not None:
                info.row_format._get_xf_index()
            cells = [(col, cell.format) for col, cell in (self.table.get(row_num) or {}).items()
                     if getattr(cell, "format", None) is not None]
            for _, cell_format in sorted(cells + first_use.get(row_num, []), key=lambda c: c[0]):
                cell_format._get_xf_index()

    def _write_stored_rows(self, columns: list[_Column], start: int, stop: int) -> None:
        follows = self._follows_left(columns, start, stop) if self._compact else [None] * len(columns)
        rendered = [self._render(column, start, stop, after) for column, after in zip(columns, follows)]
        # Rows with single cells or row attributes go by the general path; the others are joined here.
        special = {row for rows in (self.table, self.row_info) for row in rows if start <= row < stop}
        tail = self._row_tag_tail()
        ready: list[str] = []
        written = None  # the row written last by this loop
        for row_num, xml in enumerate(map("".join, zip(*rendered)), start):
            if row_num in special or not xml:
                self.fh.write("".join(ready))
                ready, written = [], None
                self._write_special_row(columns, row_num, xml)
                continue
            # A compact row right below the one before leaves out its number, as its cells do.
            ref = "" if self._compact and written == row_num - 1 else f' r="{row_num + 1}"'
            spans = self.row_spans.get(row_num // 16)
            ready.append(f'<row{ref} spans="{spans}"{tail}>{xml}</row>' if spans else f"<row{ref}{tail}>{xml}</row>")
            written = row_num
        self.fh.write("".join(ready))

    def _row_tag_tail(self) -> str:
        """What XlsxWriter writes in a ``<row>`` tag after ``r`` for a row without attributes of its own."""
        tag = self._captured(lambda: self._write_row(0, None, None))
        return tag[len('<row r="1"'):-1]

    def _write_special_row(self, columns: list[_Column], row_num: int, xml: str) -> None:
        cells = self.table.get(row_num)
        if cells:  # stored columns and single cells in one row: merge them in column order
            for column in columns:
                j = row_num - column.first_row
                if j < len(column.values) and column.present(j):
                    cells[column.col] = column.cell(j)
            self._write_stock_row(row_num)
        elif not xml:
            if row_num in self.row_info:
                self._write_stock_row(row_num)
        else:
            self._write_row(row_num, self.row_spans.get(row_num // 16), self.row_info.get(row_num))
            self.fh.write(xml)
            self._xml_end_tag("row")

    @staticmethod
    def _follows_left(columns: list[_Column], start: int, stop: int) -> list[np.ndarray | None]:
        """Per column (in column order), per row from ``start`` to ``stop - 1``: whether its cell
        is the first of the row in column A or has its left neighbour written, so that its
        reference can be left out; None where no cell of the column can (formula cells keep
        theirs)."""
        follows, left = [], None  # left: (column, its cells' presence in these rows)
        for column in columns:
            lo, hi = start - column.first_row, stop - column.first_row
            present = np.zeros(hi - lo, dtype=bool)
            found = column.presence(lo, hi)
            present[:len(found)] = found
            if column.kind == FORMULA:  # openpyxl places a shared formula by its cell's reference
                follows.append(None)
            elif column.col == 0:
                follows.append(np.ones(hi - lo, dtype=bool))
            else:
                follows.append(left[1] if left and left[0].col == column.col - 1 else None)
            left = (column, present)
        return follows

    def _render(self, column: _Column, start: int, stop: int, follows: np.ndarray | None) -> list[str]:
        """The XML of ``column``'s cells in rows ``start`` to ``stop - 1`` ("" for no cell); the
        reference left out where ``follows`` says the cell follows its left neighbour."""
        lo, hi = start - column.first_row, stop - column.first_row
        values = column.values[lo:hi]  # an array of numbers or indices, or a list of formulas
        padding = [""] * (hi - lo - len(values))  # rows below a column shorter than its group
        if column.cell_format is None:
            return [self._render_stock(column, lo + i) if column.present(lo + i) else ""
                    for i in range(len(values))] + padding
        style = f's="{column.cell_format._get_xf_index()}"'
        letter, first = column.letter, start + 1
        if column.kind in (NUMBER, STRING):
            # Every cell rendered without its reference, each distinct value once, then the few
            # cells that do not follow their left neighbour given theirs.
            out = _cells_by_value(values, column.kind, style)
            explicit = range(len(values)) if follows is None else np.flatnonzero(~follows[:len(values)]).tolist()
            for i in explicit:
                if out[i]:
                    out[i] = f'<c r="{letter}{first + i}" {out[i][3:]}'
            return out + padding
        cached = column.cached[lo:hi]
        if column.formula_at is not None:
            return self._render_shared(column, lo, first, style, cached) + padding
        heads = [f'<c r="{letter}{r}" {style}' for r in range(first, first + len(values))]
        out = []
        for i, (h, formula, value) in enumerate(zip(heads, values, cached)):
            if formula is None:
                out.append("")
            elif value == "" or type(value) in (int, float) and math.isfinite(value):
                out.append(f"{h}><f>{_escaped(formula)}</f><v>{value}</v></c>")
            else:
                out.append(self._render_stock(column, lo + i))
        return out + padding

    @staticmethod
    def _render_shared(column: _Column, lo: int, first: int, style: str, cached: list) -> list[str]:
        """A shared formula's cells from sheet row ``first`` (1-based): the formula on the column's
        first cell, a reference to it on the others; each with its cached value."""
        si, letter = column.shared_index, column.letter
        follower = f'<f t="shared" si="{si}"/>'
        # Most cached values are finite numbers or "" (no value): one f-string each; the others below.
        out = [f'<c r="{letter}{r}" {style}>{follower}<v>{v}</v></c>'
               if (type(v) is float or type(v) is int) and v - v == 0 or v == "" else None
               for r, v in zip(range(first, first + len(cached)), cached)]
        for i in [i for i, cell in enumerate(out) if cell is None or i + lo == 0]:
            h, value = f'<c r="{letter}{first + i}" {style}', cached[i]
            if i + lo == 0:
                ref = f"{letter}{column.first_row + 1}:{letter}{column.first_row + len(column.values)}"
                formula = f'<f t="shared" ref="{ref}" si="{si}">{_escaped(column.values[0])}</f>'
            else:
                formula = follower
            if type(value) is bool:
                out[i] = f'{h} t="b">{formula}<v>{int(value)}</v></c>'
            elif type(value) is str and value:
                out[i] = (f'{h} t="{"e" if value in _ERROR_CODES else "str"}">{formula}'
                          f"<v>{value.translate(_ESCAPES)}</v></c>")
            elif type(value) in (int, float) and math.isfinite(value):
                out[i] = f"{h}>{formula}<v>{value}</v></c>"
            else:  # "" or no finite number: no cached value, as XlsxWriter writes ""
                out[i] = f"{h}>{formula}<v></v></c>"
        return out

    def _write_stock_row(self, row_num: int) -> None:
        """One row by XlsxWriter's own path (cells, or an empty row with attributes)."""
        span = self.row_spans.get(row_num // 16)
        cells = self.table.get(row_num)
        if cells:
            self._write_row(row_num, span, self.row_info.get(row_num))
            for col_num in sorted(cells):
                self._write_cell(row_num, col_num, cells[col_num])
            self._xml_end_tag("row")
        else:
            self._write_empty_row(row_num, span, self.row_info.get(row_num))

    def _render_stock(self, column: _Column, i: int) -> str:
        """Cell ``i`` of ``column`` by XlsxWriter's general path, captured as text."""
        return self._captured(lambda: self._write_cell(column.first_row + i, column.col, column.cell(i)))

    def _captured(self, write: Callable[[], None]) -> str:
        """What ``write`` writes to the sheet's XML, as text instead."""
        out = self.fh
        parts: list[str] = []
        self.fh = _Capture(parts)
        try:
            write()
        finally:
            self.fh = out
        return "".join(parts)

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
            self.fh.write(f"{head}><f>{_escaped(cell.formula)}</f><v>{cell.value}</v></c>")
        else:
            super()._write_cell(row, col, cell)


@functools.lru_cache(maxsize=4096)
def _unchanged_name(name: str) -> bool:
    """Whether XlsxWriter's preparation (without its newer-function option) leaves a call of
    ``name`` as it is, wherever the call stands: each of its patterns is a word-bounded name
    followed by "(", except SINGLE's, which takes any character before "INGLE(" (so a name
    ending in INGLE is never taken as unchanged)."""
    call = name + "("
    return not name.endswith("INGLE") and Worksheet._prepare_formula(_PLAIN_SHEET, call) == call


class _PlainSheet:
    use_future_functions = False  # all the preparation reads of its worksheet


_PLAIN_SHEET = _PlainSheet()


def _cells_by_value(values: np.ndarray, kind: str, style: str) -> list[str]:
    """The cells of ``values`` (numbers, or shared-string indices) without references, "" for
    no cell: each distinct value formatted once and gathered, most columns having few."""
    if kind == NUMBER and np.any(np.signbit(values) & (values == 0)):  # -0 and 0 are one value to np.unique
        return [f"<c {style}><v>{v:.16G}</v></c>" if v == v else "" for v in values.tolist()]
    distinct, which = np.unique(values, return_inverse=True)
    if kind == NUMBER:
        texts = [f"<c {style}><v>{v:.16G}</v></c>" if v == v else "" for v in distinct.tolist()]
    else:
        texts = [f'<c {style} t="s"><v>{v}</v></c>' if v >= 0 else "" for v in distinct.tolist()]
    return np.array(texts, dtype=object)[which.ravel()].tolist()


def _escaped(formula: str) -> str:
    """A formula as XML text (most have nothing to escape, and the test is cheaper)."""
    if "&" in formula or "<" in formula or ">" in formula:
        return formula.translate(_ESCAPES)
    return formula


class _Capture:
    """A file-like object that collects what is written."""

    def __init__(self, parts: list[str]) -> None:
        self.write = parts.append
