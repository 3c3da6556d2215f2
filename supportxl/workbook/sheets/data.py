"""Data sheets: the canonical tables written as Excel tables with frozen headers and filters."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from xlsxwriter.worksheet import Worksheet

from supportxl.errors import SupportxlError
from supportxl.metrics.cube import (CUBE_COLUMNS, CUBE_TABLE, PERCENTILE_COLUMNS, PERCENTILES_TABLE, cube_frame,
                                   percentile_frame)
from supportxl.metrics.kpis import BREACH_HOURS_CAP_NAME, SELECTION_KEY, selection_formula
from supportxl.schema import EVENT_SHEET_COLUMNS, SLA_COLUMN_BY_KEY, Column, ticket_columns
from supportxl.workbook.context import BuildContext
from supportxl.workbook.ranges import MAX_CELL_CHARS, MAX_DATA_ROWS, column_letter

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")
_WIDTH_SAMPLE = 2_000

ACCOUNT_SHEET_COLUMNS = (
    Column("account_id", "Account ID"), Column("name", "Account"), Column("industry", "Industry"),
    Column("country", "Country"), Column("region", "Region"), Column("segment", "Segment"),
    Column("annual_revenue", "Annual revenue", "currency", 15),
)
AGENT_SHEET_COLUMNS = (
    Column("agent_id", "Agent ID"), Column("name", "Agent"), Column("team", "Team"),
    Column("location", "Location"), Column("hire_date", "Hire date", "date", 11),
)

FormulaFn = Callable[[int], str]  # sheet row (0-based) -> formula


def clean_text(values: pd.Series, where: str, warnings: list[str]) -> np.ndarray:
    """User text made safe to store: control characters removed, over-long text truncated."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if all(type(value) is str for value in uniques):  # each distinct text cleaned once
        distinct = _clean(pd.Series(uniques, dtype=object), where, warnings, counts=np.bincount(
            codes[codes >= 0], minlength=len(uniques)))
        return np.append(distinct, "")[codes]  # a code of -1 (a missing value) takes the last entry
    return _clean(values.fillna("").astype(str), where, warnings)


def clean_value(text: str, where: str, warnings: list[str]) -> str:
    """One user text made safe to store, as ``clean_text`` makes a column's."""
    text = _CONTROL.sub("", text)
    if len(text) > MAX_CELL_CHARS:
        _warn_truncated(where, 1, warnings)
        text = text[:MAX_CELL_CHARS]
    return text


def _clean(text: pd.Series, where: str, warnings: list[str], counts: np.ndarray | None = None) -> np.ndarray:
    """``text`` without control characters and within the cell limit; ``counts``: how many cells
    hold each value (one each by default), for the warning."""
    if _CONTROL.search("\n".join(text.tolist())):  # one scan of all the text; most data has none
        text = text.str.replace(_CONTROL, "", regex=True)
    too_long = text.str.len() > MAX_CELL_CHARS
    if too_long.any():
        _warn_truncated(where, int(too_long.sum()) if counts is None else int(counts[too_long.to_numpy()].sum()),
                        warnings)
        text = text.str.slice(0, MAX_CELL_CHARS)
    return text.to_numpy(dtype=object)


def _warn_truncated(where: str, cells: int, warnings: list[str]) -> None:
    warnings.append(f"{where}: {cells:,} text value(s) longer than Excel's "
                    f"{MAX_CELL_CHARS:,} characters per cell were truncated.")


def check_rows(sheet: str, rows: int) -> None:
    if rows > MAX_DATA_ROWS:
        raise SupportxlError(
            f"{sheet}: {rows:,} rows exceed Excel's limit of {MAX_DATA_ROWS:,} data rows per sheet; "
            f"build the workbook from a shorter period (generate or export fewer months), or with a "
            f"template whose sheets leave it out (--template executive has no data sheets)."
        )


def write_table(ctx: BuildContext, ws: Worksheet, frame: pd.DataFrame, columns: Sequence[Column],
                name: str, formulas: dict[str, FormulaFn] | None = None, *, first_col: int = 0) -> None:
    """``frame`` as the Excel table ``name`` at row 1 from ``first_col`` (A1 by default), one cell
    type per column, widths fitted."""
    formulas = formulas or {}
    check_rows(ws.get_name(), len(frame))
    last_row = max(len(frame), 1)
    ws.compact_cells()
    ws.add_table(0, first_col, last_row, first_col + len(columns) - 1, {
        "name": name, "style": ctx.formats.theme.table_style,
        "columns": [{"header": c.header, "header_format": ctx.formats.get("header")} for c in columns],
    })
    for col, spec in enumerate(columns, start=first_col):
        fmt = ctx.formats.get("plain", spec.fmt)
        values = frame[spec.key]
        if spec.key in formulas:
            _write_formulas(ctx, ws, col, formulas[spec.key], values, fmt)
        else:
            kind, cells = column_cells(ctx, ws.get_name(), spec, values)
            (ws.write_strings if kind == "text" else ws.write_numbers)(1, col, cells, fmt)
        ws.set_column(col, col, spec.width or _fitted_width(spec, values))
    ws.freeze_panes(1, 0)


def column_cells(ctx: BuildContext, sheet: str, spec: Column, values: pd.Series, *,
                 keep: bool = False) -> tuple[str, np.ndarray]:
    """``values`` as the cells of column ``spec`` of ``sheet`` hold them, made once per build:
    taken from ``ctx.cells`` when made ahead, and left there with ``keep``."""
    key = (sheet, spec.key)
    cells = ctx.cells.pop(key, None) or cell_values(values, f"{sheet}!{spec.header}", ctx.warnings)
    if keep:
        ctx.cells[key] = cells
    return cells


def cell_values(values: pd.Series, where: str, warnings: list[str]) -> tuple[str, np.ndarray]:
    """A column as its cells hold it: ("date", Excel serials), ("number", floats, NaN for an
    empty cell) or ("text", safe strings, "" for an empty cell)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date", excel_serials(values)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "number", values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return "text", clean_text(values, where, warnings)


def _write_formulas(ctx: BuildContext, ws: Worksheet, col: int, formula: FormulaFn,
                    values: pd.Series, fmt) -> None:
    """Per-row formulas built from classic functions only (see FastWorksheet.write_formulas)."""
    cached = ["" if v is None or v != v else v for v in values.astype(object).tolist()]
    ws.write_formulas(1, col, lambda row: formula(row)[1:], cached, fmt)


def excel_serial(timestamp: pd.Timestamp) -> float:
    """A timestamp as an Excel date serial (days since 1899-12-30)."""
    return float(excel_serials(pd.Series([timestamp]))[0])


def excel_serials(values: pd.Series) -> np.ndarray:
    ns = values.to_numpy(dtype="datetime64[ns]")
    days = (ns - _EXCEL_EPOCH).astype("timedelta64[ns]").astype(np.int64) / 86_400e9
    return np.where(np.isnat(ns), np.nan, days)


def _fitted_width(spec: Column, values: pd.Series) -> float:
    sample = values.iloc[:_WIDTH_SAMPLE].astype(str)
    longest = max([len(spec.header)] + sample.str.len().tolist())
    return float(min(max(longest + 2, 8), 50))


def tickets_sheet_columns(ctx: BuildContext) -> tuple[Column, ...]:
    """The Tickets table's columns in this build (the pivot cache must list them in this order)."""
    return ticket_columns(ctx.template.business_hours, "issue_type_rule" in ctx.frame,
                          dashboard="Dashboard" in ctx.template.sheets)


def write_tickets(ctx: BuildContext, ws: Worksheet) -> None:
    """The Tickets table; SLA targets and breach flags are formulas over the Settings sheet."""
    columns = tickets_sheet_columns(ctx)
    letters = {c.key: column_letter(i) for i, c in enumerate(columns)}

    def ref(key: str, row: int) -> str:
        return f"${letters[key]}{row + 1}"

    def lookup(field: str, row: int, missing: str) -> str:
        return (f'IFERROR(INDEX({SLA_COLUMN_BY_KEY[field].ref},MATCH({ref("priority", row)},'
                f'{SLA_COLUMN_BY_KEY["priority"].ref},0)),{missing})')

    def breached(clock: str, target: str) -> FormulaFn:
        # No target (a priority the SLA table does not list): neither breached nor met.
        return lambda r: f'=IF({ref(target, r)}="","",IF({ref(clock, r)}>{ref(target, r)},1,0))'

    formulas: dict[str, FormulaFn] = {
        "response_target": lambda r: "=" + lookup("first_response_hours", r, '""'),
        "resolution_target": lambda r: "=" + lookup("resolution_hours", r, '""'),
        "response_breached": breached("response_clock", "response_target"),
        "resolution_breached": breached("resolution_clock", "resolution_target"),
        "hours_over_target": lambda r: (f'=IF({ref("resolution_target", r)}="",0,'
                                        f'MAX(0,{ref("resolution_clock", r)}-{ref("resolution_target", r)}))'),
        "breach_cost": lambda r: (f'=IF({ref("resolution_breached", r)}=1,' + lookup("cost_per_breach", r, "0")
                                  + "+" + lookup("cost_per_breach_hour", r, "0")
                                  + f'*MIN({ref("hours_over_target", r)},{BREACH_HOURS_CAP_NAME}),0)'),
        # Open tickets only (no resolved time): the share of the target their clock has used.
        "sla_used": lambda r: (f'=IF(OR({ref("resolution_target", r)}="",{ref("resolved_at", r)}<>""),"",'
                               f'{ref("resolution_clock", r)}/{ref("resolution_target", r)})'),
        SELECTION_KEY: lambda r: "=" + selection_formula(lambda key: ref(key, r)),
    }
    write_table(ctx, ws, ctx.frame, columns, "Tickets", formulas)
    # Rows whose resolution SLA is breached are tinted, live: the rule reads the formula column.
    flag = letters["resolution_breached"]
    ws.conditional_format(1, 0, max(len(ctx.frame), 1), len(columns) - 1, {
        "type": "formula", "criteria": f"=${flag}2=1", "format": ctx.formats.get("breach_row")})


def write_accounts(ctx: BuildContext, ws: Worksheet) -> None:
    write_table(ctx, ws, ctx.dataset.accounts, ACCOUNT_SHEET_COLUMNS, "AccountList")


def write_agents(ctx: BuildContext, ws: Worksheet) -> None:
    write_table(ctx, ws, ctx.dataset.agents, AGENT_SHEET_COLUMNS, "AgentList")


def write_escalation_log(ctx: BuildContext, ws: Worksheet) -> None:
    write_table(ctx, ws, ctx.events, EVENT_SHEET_COLUMNS, "EscalationLog")


def write_aggregates(ctx: BuildContext, ws: Worksheet) -> None:
    """The Cube table a compact workbook's formulas read: tickets summed by month, channel,
    priority and team."""
    write_table(ctx, ws, cube_frame(ctx.frame, ctx.model.evaluator.policy), CUBE_COLUMNS, CUBE_TABLE)
    # Medians and P90s per filter selection, which the compact formulas look up.
    write_table(ctx, ws, percentile_frame(ctx.frame), PERCENTILE_COLUMNS, PERCENTILES_TABLE,
                first_col=len(CUBE_COLUMNS) + 1)
