"""Plan: next quarter's weekly volume forecast, and the agents needed by weekday and hour.

The recent weeks' volumes, the arrival rates, the offered load and the staffing table are live
formulas over the Tickets table and the Settings assumptions (service level, handle time, and
the first-response targets); the forecast itself is written as values, from the report model.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from supportxl.metrics.forecast import RECENT_WEEKS
from supportxl.metrics.kpis import compare, kpi
from supportxl.metrics.staffing import (ANSWER_HOURS_NAME, HANDLE_MINUTES_NAME, MAX_EXTRA_AGENTS,
                                        SERVICE_LEVEL_NAME, agents_formula)
from supportxl.schema import WEEKDAY_LABELS
from supportxl.workbook.context import BuildContext
from supportxl.workbook.grids import Dimension, write_title
from supportxl.workbook.ranges import absolute, area, cell
from supportxl.workbook.sheets.data import excel_serial
from supportxl.workbook.sheets.summaries import colour_scale

# What the Plan sheet's numbers mean, for the About sheet: name, definition, formula.
PLAN_DEFINITIONS: tuple[tuple[str, str, str], ...] = (
    ("Forecast tickets per week",
     "A straight-line trend through the last year of weekly volumes with the month-of-year "
     "pattern taken out, extended and multiplied by the month-of-year index (each month's "
     "tickets per day against the trend, averaged over the years; measured with two years of "
     "history or more). The range holds the stated share of the errors the same method made "
     "forecasting the weeks after earlier points of the history.", "written as values"),
    ("Tickets per hour (forecast)",
     "Tickets created in that weekday and hour over the period, per such weekday in it, times "
     "the forecast's mean week over the period's mean week.",
     "=COUNTIFS(Tickets[Weekday],day,Tickets[Hour],hour)/days*factor"),
    ("Offered load (Erlangs)", "Tickets per hour x handle time in hours: agents busy on average.",
     f"=rate*{HANDLE_MINUTES_NAME}/60"),
    ("Agents needed (Erlang C)",
     "The fewest agents c (above the load A) for which the share of tickets answered within the "
     "answer-time target t meets the service level: 1 - C(c,A) exp(-(c-A) t/h) >= target, with "
     "C(c,A) = P(N=c) / (P(N=c) + (1-A/c) P(N<c)) for N ~ Poisson(A) and h the handle time. "
     f"Blank when more than {MAX_EXTRA_AGENTS} agents above the load would be needed.",
     f"POISSON.DIST over candidate levels INT(A)+1 .. INT(A)+{MAX_EXTRA_AGENTS}, the smallest that "
     "meets the target"),
)


def write_plan(ctx: BuildContext, ws: Worksheet) -> None:
    f = ctx.formats
    forecast = ctx.model.forecast
    row = write_title(ctx, ws, 0, 0, "Plan: next quarter's volume and staffing",
                      "Change the service level or the handle time on Settings and the staffing "
                      "tables follow; the forecast is written as values.")
    ws.set_column(0, 0, 26)

    row = write_title(ctx, ws, row + 1, 0, f"Tickets per week: the last {RECENT_WEEKS} weeks and "
                                         f"the next {len(forecast.weeks)}")
    header = row
    share = f"{forecast.coverage:.0%}"
    for j, text in enumerate(("Week starting", "Tickets", "Forecast", f"Low ({share})", f"High ({share})")):
        ws.write_string(header, j, text, f.get("header"))
    row = header + 1
    tickets = kpi("tickets")
    for week in forecast.history.index[-RECENT_WEEKS:]:
        ws.write_number(row, 0, excel_serial(week), f.get("label", "date"))
        start = cell(row, 0, abs_col=True)
        ctx.write_kpi(ws, row, 1, tickets, [compare("created_at", ">=", start, week),
                                            compare("created_at", "<", f"{start}+7", week + pd.Timedelta(days=7))])
        row += 1
    first_forecast = row
    for i, week in enumerate(forecast.weeks):
        ws.write_number(row, 0, excel_serial(week), f.get("label", "date"))
        ws.write_number(row, 2, float(forecast.point[i]), f.get("cell", "int"))
        if forecast.low is not None:
            ws.write_number(row, 3, float(forecast.low[i]), f.get("cell", "int"))
            ws.write_number(row, 4, float(forecast.high[i]), f.get("cell", "int"))
        row += 1
    if not forecast.available:
        ws.write_string(row, 0, "Too little history for a forecast: it needs two complete weeks.", f.get("note"))
    forecast_range = area(first_forecast, 2, max(row - 1, first_forecast), 2)

    notes = [("Method", "Trend x month-of-year index" if forecast.seasonal else
              "Trend only (the season needs two years of history)")]
    notes.append(("Backtests", f"{forecast.backtests}" if forecast.backtests else
                  "none (too little history: no interval)"))
    if forecast.backtest_mape is not None:
        notes.append(("Backtest error (MAPE)", f"{forecast.backtest_mape:.1%}"))
    for i, (label, text) in enumerate(notes):
        ws.write_string(header + i, 7, label, f.get("label"))
        ws.write_string(header + i, 12, text)

    _write_staffing(ctx, ws, row + 2, forecast_range if forecast.available else None)


WEEKDAYS = Dimension("weekday", "Weekday", WEEKDAY_LABELS)
HOURS = Dimension("hour", "Hour", tuple(range(24)), "int")
GRID_HEIGHT = len(WEEKDAY_LABELS) + 1  # the header row and one row per weekday
ASSUMPTION_ROWS = 7
CellFormula = Callable[[int, int, str, int], str]  # (sheet row, column, weekday, hour) -> formula


def _write_staffing(ctx: BuildContext, ws: Worksheet, row: int, forecast_range: str | None) -> None:
    """The assumptions, then three weekday x hour tables: tickets per hour, offered load and
    agents needed, each reading the one before it."""
    f = ctx.formats
    staffing = ctx.model.staffing
    row = write_title(ctx, ws, row, 0, "Staffing by weekday and hour (Erlang C)",
                      "Agents needed to answer the target share of tickets within the answer-time "
                      "target, for the forecast volume.")
    top = row + ASSUMPTION_ROWS + 2  # the first table's header row: below the assumptions and its title
    days_range = area(top + 1, 1, top + len(WEEKDAY_LABELS), 1)
    agents_top = top + 2 * (GRID_HEIGHT + 2)
    agents_range = area(agents_top + 1, 2, agents_top + len(WEEKDAY_LABELS), 25)
    tickets = ctx.kpi_formula(kpi("tickets"))
    per_week = f"={tickets}/(SUM({days_range})/7)"
    forecast = f'=IFERROR(AVERAGE({forecast_range}),"")' if forecast_range else None
    assumptions = [
        ("Service level target", f"={SERVICE_LEVEL_NAME}", staffing.service_level, "percent"),
        ("Answer-time target (h)", f"={ANSWER_HOURS_NAME}", staffing.answer_hours, "hours"),
        ("Handle time per ticket (min)", f"={HANDLE_MINUTES_NAME}", staffing.handle_minutes, "score"),
        ("Tickets per week, period", per_week, staffing.history_per_week, "score"),
        ("Tickets per week, forecast", forecast, staffing.forecast_per_week, "score"),
        ("Volume factor", None, staffing.factor, "score"),
        ("Agent-hours per week", f"=SUM({agents_range})", staffing.agent_hours_per_week, "int"),
    ]
    assert len(assumptions) == ASSUMPTION_ROWS
    refs = {}
    for i, (label, formula, value, fmt) in enumerate(assumptions):
        ws.write_string(row + i, 0, label, f.get("label"))
        refs[label] = absolute(row + i, 2)
        if label == "Volume factor":
            history, ahead = refs["Tickets per week, period"], refs["Tickets per week, forecast"]
            formula = f"=IFERROR({ahead}/{history},1)" if forecast_range else "=1"
        ctx.write_live(ws, row + i, 2, formula, value, f.get("cell", fmt))
        if label == "Handle time per ticket (min)":
            ws.write_string(row + i, 4, ctx.model.handle_time.sentence() + " Edit it on Settings.", f.get("note"))
    factor = refs["Volume factor"]

    def rate(r: int, c: int, day: str, hour: int) -> str:
        count = ctx.kpi_formula(kpi("tickets"), [WEEKDAYS.criterion(cell(r, 0, abs_col=True), day),
                                                 HOURS.criterion(cell(top, c, abs_row=True), hour)])
        return f"=IF({cell(r, 1, abs_col=True)}=0,0,{count}/{cell(r, 1, abs_col=True)}*{factor})"

    _grid(ctx, ws, top, "Tickets per hour", staffing.rates, "score", rate)
    load_top = top + GRID_HEIGHT + 2
    _grid(ctx, ws, load_top, "Offered load (Erlangs)", staffing.load, "score",
          lambda r, c, day, hour: f"={cell(r - (load_top - top), c)}*{HANDLE_MINUTES_NAME}/60")
    _grid(ctx, ws, agents_top, "Agents needed", staffing.agents, "int",
          lambda r, c, day, hour: "=" + agents_formula(cell(r - (agents_top - load_top), c), HANDLE_MINUTES_NAME,
                                                      ANSWER_HOURS_NAME, SERVICE_LEVEL_NAME), array=True)
    ws.set_column(1, 25, 5.5)
    ws.set_column(1, 4, 9)  # the forecast's columns


def _grid(ctx: BuildContext, ws: Worksheet, top: int, title: str, values: pd.DataFrame, fmt: str,
          formula: CellFormula, *, array: bool = False) -> None:
    """A weekday x hour table of formulas with the model's values; its header row at ``top``."""
    f = ctx.formats
    staffing = ctx.model.staffing
    ws.write_string(top - 1, 0, title, f.get("label"))
    ws.write_string(top, 0, "Weekday", f.get("header"))
    ws.write_string(top, 1, "Days", f.get("header"))
    for hour in HOURS.values:
        ws.write_number(top, 2 + hour, hour, f.get("header", "int"))
    for i, day in enumerate(WEEKDAY_LABELS, start=top + 1):
        ws.write_string(i, 0, day, f.get("label"))
        ws.write_number(i, 1, staffing.days[day], f.get("cell", "int"))
        for hour in HOURS.values:
            value = values.at[day, hour]
            ctx.write_formula(ws, i, 2 + hour, formula(i, 2 + hour, day, hour),
                              None if value is None else float(value), f.get("cell", fmt), array=array)
    colour_scale(ctx, ws, top + 1, 2, top + len(WEEKDAY_LABELS), 25, None)
