"""Operations sheets: time in status and touches (Handling), open tickets against their SLA
(SLA at Risk), and the week-by-week and year-by-year views (Weekly)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from supportxl.metrics.kpis import (NOT_AVAILABLE, RISK_BUCKETS, Criterion, Kpi, Value, backlog_at_formula, compare,
                                    kpi)
from supportxl.model import ReportModel
from supportxl.schema import PRIORITIES, column
from supportxl.workbook.context import BuildContext
from supportxl.workbook.grids import dimension, kpi_grid, write_label, write_title
from supportxl.workbook.ranges import cell
from supportxl.workbook.sheets.data import excel_serial
from supportxl.workbook.sheets.summaries import _kpis, _rate_formats, _widths, colour_scale

STATUS_KPIS = ("tickets", *(f"{prefix}_{stat}" for prefix in ("status_new", "status_open", "agent_wait", "on_hold")
                            for stat in ("mean", "median", "p90")))
WAIT_KPIS = ("tickets", "requester_wait_mean", "requester_wait_median", "requester_wait_p90",
             "agent_wait_mean", "ttr_mean", "ttr_median", "ttr_net_mean", "ttr_net_median", "ttr_net_p90")
TOUCH_KPIS = ("tickets", "one_touch", "two_touch", "multi_touch", "fcr")
RISK_KPIS = ("open_targeted", *(bucket[0] for bucket in RISK_BUCKETS), "open_past_target", "sla_at_risk")
NEAREST_TO_BREACH = 25
WEEK_DAYS = 7
LAST_YEAR_DAYS = 364  # 52 weeks back: the same ISO weekday a year earlier


# --- weeks and years -----------------------------------------------------------------

def weeks_of(model: ReportModel) -> list[pd.Timestamp]:
    """The Monday of every ISO week from the first ticket's to the as-of time's, oldest first."""
    created = model.frame["created_at"]
    if created.empty:
        return []
    first = created.min().normalize() - pd.Timedelta(days=created.min().day_of_week)
    last_moment = model.as_of - pd.Timedelta(seconds=1)
    last = last_moment.normalize() - pd.Timedelta(days=last_moment.day_of_week)
    return list(pd.date_range(first, last, freq="7D"))


def iso_week(monday: pd.Timestamp) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def spans_years(model: ReportModel) -> bool:
    """Whether the data holds more than twelve months, so year-over-year views mean something."""
    return model.frame["month"].nunique() > 12


def within(key: str, start_ref: str, start: pd.Timestamp, days: int, offset_days: int = 0) -> list[Criterion]:
    """``key`` in the ``days`` from the date in ``start_ref`` (shifted back ``offset_days``)."""
    shift = f"-{offset_days}" if offset_days else ""
    begin = start - pd.Timedelta(days=offset_days)
    return [compare(key, ">=", f"{start_ref}{shift}", begin),
            compare(key, "<", f"{start_ref}{shift}+{days}", begin + pd.Timedelta(days=days))]


@dataclass(frozen=True)
class WeekColumn:
    key: str
    header: str
    fmt: str


WEEK_COLUMNS = (WeekColumn("created", "Created", "int"), WeekColumn("resolved", "Resolved", "int"),
                WeekColumn("backlog", "Backlog at week end", "int"),
                WeekColumn("resolution_compliance", "Resolution SLA %", "percent"),
                WeekColumn("csat", "CSAT %", "percent"))
CHANGE_KEYS = ("created", "resolved", "backlog")  # with a week-over-week change column each


def week_values(model: ReportModel, monday: pd.Timestamp, ref: str = "") -> dict[str, tuple[str | None, Value]]:
    """One week's cells as (formula or None, value): tickets created and resolved in it, the
    backlog at its end, and the SLA % and CSAT of the tickets created in it. ``ref`` is the
    cell holding the week's Monday."""
    created = within("created_at", ref, monday, WEEK_DAYS)
    resolved = within("resolved_at", ref, monday, WEEK_DAYS)
    end = monday + pd.Timedelta(days=WEEK_DAYS)
    cells = {"created": (kpi("tickets"), created), "resolved": (kpi("tickets"), resolved),
             "resolution_compliance": (kpi("resolution_compliance"), created), "csat": (kpi("csat"), created)}
    values = {key: _live(model, item, criteria) for key, (item, criteria) in cells.items()}
    values["backlog"] = _backlog(model, f"{ref}+{WEEK_DAYS}", end)
    values["last_year"] = _live(model, kpi("tickets"), within("created_at", ref, monday, WEEK_DAYS, LAST_YEAR_DAYS))
    return values


def _live(model: ReportModel, item: Kpi, criteria: list[Criterion]) -> tuple[str | None, Value]:
    """A KPI's formula and value over the slice; no formula and "n/a" where the source lacks it."""
    if model.unavailable(item):
        return None, NOT_AVAILABLE
    return item.formula(criteria), model.value(item, criteria)


def _backlog(model: ReportModel, boundary_ref: str, boundary: pd.Timestamp) -> tuple[str | None, Value]:
    if model.unavailable(kpi("backlog")):
        return None, NOT_AVAILABLE
    return backlog_at_formula(boundary_ref), model.backlog_at(boundary)


def change(current: Value, previous: Value) -> float | None:
    """``current / previous - 1``, as the workbook's IFERROR formula gives it."""
    if not isinstance(current, (int, float)) or not isinstance(previous, (int, float)) or not previous:
        return None
    return current / previous - 1


# --- sheets --------------------------------------------------------------------------

def write_handling(ctx: BuildContext, ws: Worksheet) -> dict:
    """Time in each status and the waits by team and priority; touches to resolution."""
    note = ("From each ticket's status history (or the waits the export states); n/a where the "
            "source has neither. Agent wait is time Pending on the customer.")
    row = write_title(ctx, ws, 0, 0, "Time in each status, by team", note)
    grids = {}
    sections = (("status", "team", "Team", STATUS_KPIS, None),
                ("waits", "priority", "Priority", WAIT_KPIS, PRIORITIES),
                ("touches_by_channel", "channel", "Channel", TOUCH_KPIS, None),
                ("touches_by_team", "team", "Team", TOUCH_KPIS, None))
    titles = {"waits": "Waits and resolution less customer wait, by priority",
              "touches_by_channel": "Touches to resolution (agent replies), by channel",
              "touches_by_team": "Touches to resolution, by team"}
    for key, dim_key, label, keys, order in sections:
        if key in titles:
            row = write_title(ctx, ws, row, 0, titles[key])
        kpis = _kpis(keys)
        grid = kpi_grid(ctx, ws, row, 0, dimension(ctx.frame, dim_key, label, order=order), kpis)
        _rate_formats(ctx, ws, grid, kpis)
        ws.set_row(grid.header_row, 42)
        grids[key] = grid
        row = grid.total_row + 3
    _widths(ws, 16, 11, len(STATUS_KPIS))
    return grids


def write_sla_at_risk(ctx: BuildContext, ws: Worksheet) -> dict:
    """Open tickets by the share of their resolution target used, by priority and team, and
    the open tickets nearest to breach."""
    row = write_title(ctx, ws, 0, 0, "SLA at risk: open tickets by share of the resolution target used",
                      "Live: each open ticket's 'SLA used' on Tickets divides its clock by the "
                      "target on Settings; past 100 % it is breached.")
    kpis = _kpis(RISK_KPIS)
    grids = {}
    for key, label, order in (("priority", "Priority", PRIORITIES), ("team", "Team", None)):
        grid = kpi_grid(ctx, ws, row, 0, dimension(ctx.frame, key, label, order=order), kpis)
        colour_scale(ctx, ws, grid.first_row, grid.columns["risk_75_90"], grid.last_row,
                     grid.columns["open_past_target"], "lower")
        ws.set_row(grid.header_row, 42)
        grids[key] = grid
        row = grid.total_row + 3
    grids["nearest"] = _nearest_to_breach(ctx, ws, row)
    _widths(ws, 14, 12, len(RISK_KPIS))
    return grids


def nearest_to_breach(model: ReportModel, limit: int = NEAREST_TO_BREACH) -> pd.DataFrame:
    """The open tickets not yet past their target that have used most of it."""
    f = model.frame
    open_ = f[f["sla_used"].notna() & (f["sla_used"] <= 1)]
    return open_.sort_values(["sla_used", "ticket_id"], ascending=[False, True], kind="stable").head(limit)


def _nearest_to_breach(ctx: BuildContext, ws: Worksheet, top: int) -> int:
    f = ctx.formats
    row = write_title(ctx, ws, top, 0, f"The {NEAREST_TO_BREACH} open tickets nearest to breach",
                      "Chosen at the as-of time; the clock, target, share used and hours left "
                      "follow the Tickets table and Settings.")
    shown = ("ticket_id", "priority", "team", "agent", "created_at")
    live = (("resolution_clock", "hours"), ("resolution_target", "hours"), ("sla_used", "percent"))
    headers = [column(k).header for k in shown] + [column(k).header for k, _ in live] + ["Hours left"]
    for j, text in enumerate(headers):
        ws.write_string(row, j, text, f.get("header"))
    first = row + 1
    tickets = nearest_to_breach(ctx.model)
    for i, (_, ticket) in enumerate(tickets.iterrows(), start=first):
        for j, key in enumerate(shown):
            if key == "created_at":
                ws.write_number(i, j, excel_serial(ticket[key]), f.get("cell", "datetime"))
            else:
                write_label(ctx, ws, i, j, ticket[key], "text" if isinstance(ticket[key], str) else "id",
                            style="cell")
        match = f"MATCH({cell(i, 0, abs_col=True)},{column('ticket_id').ref},0)"
        for j, (key, fmt) in enumerate(live, start=len(shown)):
            ctx.write_formula(ws, i, j, f"=INDEX({column(key).ref},{match})", float(ticket[key]),
                              f.get("cell", fmt))
        clock, target = cell(i, len(shown)), cell(i, len(shown) + 1)
        ctx.write_formula(ws, i, len(headers) - 1, f"={target}-{clock}",
                          float(ticket["resolution_target"] - ticket["resolution_clock"]), f.get("cell", "hours"))
    if len(tickets):
        used = len(shown) + 2
        colour_scale(ctx, ws, first, used, first + len(tickets) - 1, used, "lower")
    ws.set_column(4, 4, 16)
    return first


def write_weekly(ctx: BuildContext, ws: Worksheet) -> dict:
    """ISO weeks: created, resolved, backlog at week end, SLA % and CSAT, week-over-week change;
    the same week a year earlier and year-by-year totals when the data spans more than a year."""
    f = ctx.formats
    yearly = spans_years(ctx.model)
    row = write_title(ctx, ws, 0, 0, "Week by week (ISO weeks, Monday to Sunday)",
                      "Created and resolved count the tickets in the week; SLA % and CSAT are of the "
                      "tickets created in it; changes are against the week before.")
    header = row + 1
    headers = ["Week of", "ISO week", *(c.header for c in WEEK_COLUMNS),
               *(f"{c.header} vs last week" for c in WEEK_COLUMNS if c.key in CHANGE_KEYS)]
    if yearly:
        headers += ["Created, same week last year", "Created vs last year"]
    for j, text in enumerate(headers):
        ws.write_string(header, j, text, f.get("header"))
    col = {c.key: 2 + j for j, c in enumerate(WEEK_COLUMNS)}
    change_col = {key: 2 + len(WEEK_COLUMNS) + j for j, key in enumerate(CHANGE_KEYS)}
    last_year_col = 2 + len(WEEK_COLUMNS) + len(CHANGE_KEYS)
    weeks = weeks_of(ctx.model)
    previous: dict[str, Value] = {}
    for i, monday in enumerate(weeks, start=header + 1):
        ws.write_number(i, 0, excel_serial(monday), f.get("label", "date"))
        ws.write_string(i, 1, iso_week(monday), f.get("cell"))
        values = week_values(ctx.model, monday, cell(i, 0, abs_col=True))
        for spec in WEEK_COLUMNS:
            formula, value = values[spec.key]
            ctx.write_live(ws, i, col[spec.key], formula, value, f.get("cell", spec.fmt))
        for key in CHANGE_KEYS:
            now = cell(i, col[key])
            if previous:
                ctx.write_formula(ws, i, change_col[key], f'=IFERROR({now}/{cell(i - 1, col[key])}-1,"")',
                                  change(values[key][1], previous[key]), f.get("cell", "percent"))
            else:
                ws.write_blank(i, change_col[key], None, f.get("cell", "percent"))
        if yearly:
            formula, value = values["last_year"]
            ctx.write_live(ws, i, last_year_col, formula, value, f.get("cell", "int"))
            ctx.write_formula(ws, i, last_year_col + 1,
                              f'=IFERROR({cell(i, col["created"])}/{cell(i, last_year_col)}-1,"")',
                              change(values["created"][1], value), f.get("cell", "percent"))
        previous = {key: values[key][1] for key in CHANGE_KEYS}
    last = header + max(len(weeks), 1)
    ws.conditional_format(header + 1, col["created"], last, col["created"],
                          {"type": "data_bar", "bar_color": f.theme.series[2], "bar_solid": True})
    colour_scale(ctx, ws, header + 1, col["resolution_compliance"], last, col["resolution_compliance"], "higher")
    ws.set_column(0, 1, 11)
    ws.set_column(2, len(headers), 12)
    ws.set_row(header, 42)
    ws.freeze_panes(header + 1, 2)
    grids = {"weeks": header}
    if yearly:
        grids["years"] = _write_years(ctx, ws, last + 3)
    return grids


YEAR_KPIS = ("tickets", "ttr_median", "resolution_compliance", "csat", "fcr", "one_touch", "backlog_at_year_end")


def year_values(model: ReportModel, year: int, ref: str = "") -> dict[str, tuple[str | None, Value]]:
    """One calendar year's tickets (by creation) with their KPIs, and the backlog at its end."""
    start = pd.Timestamp(year=year, month=1, day=1)
    criteria = [compare("created_at", ">=", f"DATE({ref},1,1)", start),
                compare("created_at", "<", f"DATE({ref}+1,1,1)", pd.Timestamp(year=year + 1, month=1, day=1))]
    values = {key: _live(model, kpi(key), criteria) for key in YEAR_KPIS[:-1]}
    values["backlog_at_year_end"] = _backlog(model, f"DATE({ref}+1,1,1)", pd.Timestamp(year=year + 1, month=1, day=1))
    return values


def years_of(model: ReportModel) -> list[int]:
    return sorted({int(m.year) for m in model.frame["month"].unique()})


def _write_years(ctx: BuildContext, ws: Worksheet, top: int) -> int:
    f = ctx.formats
    row = write_title(ctx, ws, top, 0, "Year by year", "Tickets by the year they were created; "
                      "changes are against the year before.")
    headers = ["Year", *(kpi(k).name if k != "backlog_at_year_end" else "Backlog at year end"
                         for k in YEAR_KPIS), "Tickets vs last year"]
    for j, text in enumerate(headers):
        ws.write_string(row, j, text, f.get("header"))
    previous = None
    for i, year in enumerate(years_of(ctx.model), start=row + 1):
        ws.write_number(i, 0, year, f.get("label", "int"))
        values = year_values(ctx.model, year, cell(i, 0, abs_col=True))
        for j, key in enumerate(YEAR_KPIS, start=1):
            formula, value = values[key]
            fmt = "int" if key == "backlog_at_year_end" else kpi(key).fmt
            item = None if key == "backlog_at_year_end" else kpi(key)
            ctx.write_live(ws, i, j, formula, value, f.get("cell", fmt),
                           array=bool(item and item.array))
        tickets = values["tickets"][1]
        if previous is None:
            ws.write_blank(i, len(headers) - 1, None, f.get("cell", "percent"))
        else:
            ctx.write_formula(ws, i, len(headers) - 1, f'=IFERROR({cell(i, 1)}/{cell(i - 1, 1)}-1,"")',
                              change(tickets, previous), f.get("cell", "percent"))
        previous = tickets
    ws.set_row(row, 42)
    return row


__all__ = ["RISK_KPIS", "STATUS_KPIS", "TOUCH_KPIS", "WAIT_KPIS", "iso_week", "nearest_to_breach", "spans_years",
           "week_values", "weeks_of", "write_handling", "write_sla_at_risk", "write_weekly", "year_values",
           "years_of"]
