"""Pivot-style grids of live formulas: KPIs by one dimension, or a count by two.

Every value cell is a KPI from the catalogue evaluated over the slice its row (and
column) header names, written as a formula with the pandas result as its cached value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from supportxl.metrics.kpis import Criterion, Kpi, equals, kpi
from supportxl.workbook.context import BuildContext
from supportxl.workbook.ranges import area, cell, on_sheet
from supportxl.workbook.sheets.data import clean_value, excel_serial


@dataclass(frozen=True)
class Dimension:
    """A Tickets column and the values a grid shows for it, in display order."""

    key: str
    label: str
    values: tuple[Any, ...]
    fmt: str = "text"

    @property
    def is_text(self) -> bool:
        return self.fmt == "text"

    def criterion(self, ref: str, value: Any) -> Criterion:
        return equals(self.key, ref, value, texts=self.values if self.is_text else ())


def dimension(frame: pd.DataFrame, key: str, label: str, *, order: Sequence[Any] | None = None,
              fmt: str = "text", limit: int | None = None) -> Dimension:
    """Values of ``key`` in ``order`` (those present), else by volume, largest first."""
    counts = frame[key].value_counts()
    if order is not None:
        values = [v for v in order if v in counts.index]
        values += sorted(v for v in counts.index if v not in set(order))
    else:
        ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
        values = [v for v, _ in ranked]
    return Dimension(key, label, tuple(values[:limit] if limit else values), fmt)


@dataclass
class Grid:
    """Where a grid landed on its sheet, for charts and conditional formats."""

    sheet: str
    header_row: int
    first_row: int
    last_row: int  # last data row (the total row, if any, follows)
    label_col: int
    columns: dict[str, int] = field(default_factory=dict)  # column key -> sheet column
    total_row: int | None = None

    def data_range(self, key: str, *, sheet_qualified: bool = False) -> str:
        col = self.columns[key]
        ref = area(self.first_row, col, self.last_row, col)
        return on_sheet(self.sheet, ref) if sheet_qualified else ref

    def label_range(self, *, sheet_qualified: bool = False) -> str:
        ref = area(self.first_row, self.label_col, self.last_row, self.label_col)
        return on_sheet(self.sheet, ref) if sheet_qualified else ref

    @property
    def rows(self) -> int:
        return self.last_row - self.first_row + 1


def write_label(ctx: BuildContext, ws: Worksheet, row: int, col: int, value: Any, dim_fmt: str,
                style: str = "label") -> None:
    fmt = ctx.formats.get(style, dim_fmt)
    if dim_fmt == "month":
        ws.write_number(row, col, excel_serial(pd.Timestamp(value)), fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, clean_value(value, ws.get_name(), ctx.warnings), fmt)
    else:
        ws.write_number(row, col, float(value), fmt)


def write_title(ctx: BuildContext, ws: Worksheet, row: int, col: int, title: str,
                note: str | None = None) -> int:
    """A section title (and a note under it); returns the next free row."""
    ws.write_string(row, col, title, ctx.formats.get("section"))
    if note:
        ws.write_string(row + 1, col, note, ctx.formats.get("subtitle"))
        return row + 2
    return row + 1


def kpi_grid(ctx: BuildContext, ws: Worksheet, top: int, left: int, dim: Dimension,
             kpis: Sequence[Kpi], *, total_label: str = "Total",
             base: Sequence[Criterion] = ()) -> Grid:
    """Rows: the values of ``dim``; columns: ``kpis``; plus a total row over all values."""
    f = ctx.formats
    ws.write_string(top, left, dim.label, f.get("header"))
    grid = Grid(ws.get_name(), top, top + 1, top + len(dim.values), left)
    for j, item in enumerate(kpis, start=1):
        ws.write_string(top, left + j, item.name, f.get("header"))
        grid.columns[item.key] = left + j
    for i, value in enumerate(dim.values, start=top + 1):
        write_label(ctx, ws, i, left, value, dim.fmt)
        criteria = [*base, dim.criterion(cell(i, left, abs_col=True), value)]
        for j, item in enumerate(kpis, start=1):
            ctx.write_kpi(ws, i, left + j, item, criteria)
    grid.total_row = top + len(dim.values) + 1
    ws.write_string(grid.total_row, left, total_label, f.get("total"))
    for j, item in enumerate(kpis, start=1):
        ctx.write_kpi(ws, grid.total_row, left + j, item, base, f.get("total", item.fmt))
    return grid


def crosstab(ctx: BuildContext, ws: Worksheet, top: int, left: int, rows: Dimension,
             cols: Dimension, measure: Kpi | None = None, base: Sequence[Criterion] = ()) -> Grid:
    """``measure`` (ticket count by default) for every row value x column value, with totals,
    all within the slice ``base``."""
    measure = measure or kpi("tickets")
    f = ctx.formats
    ws.write_string(top, left, f"{rows.label} \\ {cols.label}", f.get("header"))
    grid = Grid(ws.get_name(), top, top + 1, top + len(rows.values), left)
    for j, value in enumerate(cols.values, start=1):
        write_label(ctx, ws, top, left + j, value, cols.fmt, style="header")
        grid.columns[str(value)] = left + j
    total_col = left + len(cols.values) + 1
    ws.write_string(top, total_col, "Total", f.get("header"))
    grid.columns["Total"] = total_col
    for i, row_value in enumerate(rows.values, start=top + 1):
        write_label(ctx, ws, i, left, row_value, rows.fmt)
        row_criterion = rows.criterion(cell(i, left, abs_col=True), row_value)
        for j, col_value in enumerate(cols.values, start=1):
            col_criterion = cols.criterion(cell(top, left + j, abs_row=True), col_value)
            ctx.write_kpi(ws, i, left + j, measure, [*base, row_criterion, col_criterion])
        ctx.write_kpi(ws, i, total_col, measure, [*base, row_criterion], f.get("total", measure.fmt))
    grid.total_row = top + len(rows.values) + 1
    ws.write_string(grid.total_row, left, "Total", f.get("total"))
    for j, col_value in enumerate(cols.values, start=1):
        col_criterion = cols.criterion(cell(top, left + j, abs_row=True), col_value)
        ctx.write_kpi(ws, grid.total_row, left + j, measure, [*base, col_criterion],
                      f.get("total", measure.fmt))
    ctx.write_kpi(ws, grid.total_row, total_col, measure, list(base), f.get("total", measure.fmt))
    return grid
