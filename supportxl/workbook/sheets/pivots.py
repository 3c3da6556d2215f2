"""The Pivots sheet: the template's native PivotTables over the Tickets table, and their slicers.

Each pivot's cells are written here as values, laid out as Excel lays out a compact pivot
(captions, row items down, column items across, grand totals), so every viewer shows the
numbers; the pivot parts added after saving (supportxl.workbook.pivots) describe the same
cells and carry the cache with its records, so Excel can refresh and re-pivot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from xlsxwriter.worksheet import Worksheet

from supportxl.errors import SupportxlError
from supportxl.schema import PRIORITIES, STATUSES, TICKETS_TABLE, column, ticket_columns
from supportxl.template import PivotSpec
from supportxl.workbook.context import BuildContext
from supportxl.workbook.grids import write_title
from supportxl.workbook.pivots import (PivotCache, PivotLayout, PivotSheet, SlicerPlace, TimelinePlace,
                                       build_cache)
from supportxl.workbook.ranges import MAX_COLUMNS, MAX_ROWS
from supportxl.workbook.sheets.data import column_cells, tickets_sheet_columns

SHEET = "Pivots"
ITEM_ORDER = {"Priority": PRIORITIES, "Status": STATUSES}
FIRST_ROW = 3  # below the title and its note
GAP_ROWS = 3  # between two pivots, room for a refreshed pivot to grow a little
SLICER_ROWS = 12
PANDAS_AGGREGATIONS = {"count": "count", "sum": "sum", "average": "mean", "min": "min", "max": "max"}


def write_pivots(ctx: BuildContext, ws: Worksheet) -> dict[str, PivotSheet]:
    template = ctx.template
    cache = ticket_cache(ctx)
    write_title(ctx, ws, 0, 0, "Pivot tables",
                "Native PivotTables over the Tickets table: drag fields to re-pivot in Excel; "
                "the slicers and the timeline filter every pivot. The cells show the whole year as built.")
    layouts = []
    top, widest = FIRST_ROW, 1
    for spec in template.pivots:
        ws.write_string(top, 0, spec.name, ctx.formats.get("section"))
        top += 1 + (len(spec.filters) + 1 if spec.filters else 0)
        layout = pivot_layout(spec, cache, top, 0)
        if layout.bottom >= MAX_ROWS or layout.right >= MAX_COLUMNS:
            raise SupportxlError(
                f"pivot '{spec.name}': {len(layout.row_items):,} row and {len(layout.col_items):,} column "
                f"items do not fit on the {SHEET} sheet (Excel's limit is {MAX_ROWS:,} rows and "
                f"{MAX_COLUMNS:,} columns); choose fields with fewer distinct values.")
        _write_pivot(ctx, ws, layout, cache)
        layouts.append(layout)
        widest = max(widest, layout.right + 1)
        top = layout.bottom + 1 + GAP_ROWS
    ws.set_column(0, 0, max(18, *(len(s.name) * 0.9 for s in template.pivots)))
    ws.set_column(1, widest, 11)
    timeline = TimelinePlace(template.timeline, FIRST_ROW, widest + 1) if template.timeline else None
    first = FIRST_ROW + (timeline.rows + 1 if timeline else 0)  # the slicers below the timeline
    slicers = [SlicerPlace(name, first + k * (SLICER_ROWS + 1), widest + 1, SLICER_ROWS)
               for k, name in enumerate(template.slicers)]
    return {"pivots": PivotSheet(SHEET, cache, layouts, slicers, timeline)}


def ticket_cache(ctx: BuildContext) -> PivotCache:
    """The pivot cache of the Tickets table: its columns as the sheet's cells hold them."""
    columns = tickets_sheet_columns(ctx)
    # The value columns are kept for the Tickets sheet to take; its formula columns it writes itself.
    cells = {c.key: column_cells(ctx, TICKETS_TABLE, c, ctx.frame[c.key], keep=not c.formula) for c in columns}
    axis = {name for spec in ctx.template.pivots for name in spec.fields if name != spec.values}
    axis |= set(ctx.template.slicers)
    return build_cache(TICKETS_TABLE, columns, cells, axis, order=ITEM_ORDER,
                       group_by_month=column("created_at").header,
                       refresh_on_open=ctx.template.refresh_on_open)


def pivot_layout(spec: PivotSpec, cache: PivotCache, top: int, left: int) -> PivotLayout:
    """The items a pivot shows: those with at least one record, in the field's item order."""
    row_items = np.unique(cache.field(spec.rows).item_codes()).tolist()
    col_items = np.unique(cache.field(spec.columns).item_codes()).tolist() if spec.columns else []
    return PivotLayout(spec.name, top, left, spec.rows, spec.columns or None, spec.values,
                       spec.aggregation, spec.filters, row_items, col_items)


def pivot_values(layout: PivotLayout, cache: PivotCache) -> tuple[pd.DataFrame, pd.Series, pd.Series, float]:
    """The body (row items x column items), the row totals, the column totals and the grand
    total, aggregated from the cache's records as Excel aggregates them."""
    value = cache.field(layout.value_field)
    if value.items is not None:  # a field of items: only its count is allowed; blanks are not counted
        values = np.where(value.codes < 0, np.nan, 1.0)
    else:
        values = value.values
    frame = pd.DataFrame({"row": cache.field(layout.row_field).item_codes(), "value": values})
    frame["col"] = cache.field(layout.col_field).item_codes() if layout.col_field else 0
    how = PANDAS_AGGREGATIONS[layout.aggregation]
    body = frame.groupby(["row", "col"])["value"].agg(how).unstack("col")
    body = body.reindex(index=layout.row_items, columns=layout.col_items or [0])
    return (body, frame.groupby("row")["value"].agg(how).reindex(layout.row_items),
            frame.groupby("col")["value"].agg(how).reindex(layout.col_items or [0]),
            frame["value"].agg(how))


def _write_pivot(ctx: BuildContext, ws: Worksheet, layout: PivotLayout, cache: PivotCache) -> None:
    f = ctx.formats
    value_fmt = "int" if layout.aggregation == "count" else _column_fmt(ctx, layout.value_field)
    layout.value_format = f.get("cell", value_fmt)
    total_fmt = f.get("total", value_fmt)
    for k, name in enumerate(layout.filters):  # the page fields, above the body, all items shown
        row = layout.top - 1 - len(layout.filters) + k
        ws.write_string(row, layout.left, name, f.get("label"))
        ws.write_string(row, layout.left + 1, "(All)", f.get("cell"))
    body, row_totals, col_totals, grand = pivot_values(layout, cache)
    top, left = layout.top, layout.left
    if layout.col_field:
        ws.write_string(top, left, layout.caption, f.get("header"))
        ws.write_string(top, left + 1, layout.col_field, f.get("header"))
        for j in range(2, len(layout.col_items) + 2):
            ws.write_blank(top, left + j, None, f.get("header"))
        header_row = top + 1
        labels = cache.field(layout.col_field).labels()
        layout.label_formats[layout.col_field] = _label_format(ctx, layout.col_field, "header")
        for j, item in enumerate(layout.col_items, start=1):
            _write_value(ws, header_row, left + j, labels[item], layout.label_formats[layout.col_field])
        ws.write_string(header_row, layout.right, "Grand Total", f.get("header"))
    else:
        header_row = top
        ws.write_string(header_row, left + 1, layout.caption, f.get("header"))
    ws.write_string(header_row, left, layout.row_field, f.get("header"))
    labels = cache.field(layout.row_field).labels()
    layout.label_formats[layout.row_field] = _label_format(ctx, layout.row_field, "label")
    for i, item in enumerate(layout.row_items, start=header_row + 1):
        _write_value(ws, i, left, labels[item], layout.label_formats[layout.row_field])
        for j, value in enumerate(body.loc[item].tolist(), start=1):
            _write_value(ws, i, left + j, value, layout.value_format)
        if layout.col_field:
            _write_value(ws, i, layout.right, row_totals[item], total_fmt)
    ws.write_string(layout.bottom, left, "Grand Total", f.get("total"))
    for j, value in enumerate(col_totals.tolist(), start=1):
        _write_value(ws, layout.bottom, left + j, value, total_fmt)
    if layout.col_field:
        _write_value(ws, layout.bottom, layout.right, grand, total_fmt)


def _column_fmt(ctx: BuildContext, header: str) -> str:
    return next(c.fmt for c in ticket_columns(ctx.template.business_hours) if c.header == header)


def _label_format(ctx: BuildContext, header: str, style: str):
    fmt = _column_fmt(ctx, header)
    return ctx.formats.get(style, fmt if fmt not in ("text", "id") else "text")


def _write_value(ws: Worksheet, row: int, col: int, value, fmt) -> None:
    """An item label or an aggregate: text as text, a number as a number, nothing for NaN."""
    if isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif value is None or value != value:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, float(value), fmt)
