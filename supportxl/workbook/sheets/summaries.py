"""Summary sheets: pivot-style grids of live formulas with totals and conditional formats."""

from __future__ import annotations

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from supportxl.schema import PRIORITIES, WEEKDAY_LABELS
from supportxl.metrics.kpis import Kpi, compare, kpi, literal_criterion, needs_literal
from supportxl.workbook.context import BuildContext
from supportxl.workbook.grids import Dimension, Grid, crosstab, dimension, kpi_grid, write_title
from supportxl.workbook.ranges import absolute, area, cell
from supportxl.workbook.sheets.settings import target_name

AGING_BUCKETS = ((0, 2), (3, 5), (6, 10), (11, 20), (21, 30), (31, None))
OPEN_ENDED_DAYS = 100_000  # upper bound of the last aging bucket
TREND_KPIS = ("tickets", "frt_mean", "frt_median", "frt_p90", "ttr_mean", "ttr_median", "ttr_p90",
              "response_breach_rate", "resolution_breach_rate", "csat", "escalation_rate",
              "reopen_rate", "fcr", "one_touch")
SEGMENT_KPIS = ("tickets", "ttr_mean", "ttr_median", "resolution_compliance", "csat",
                "escalation_rate", "breach_cost")
SLA_KPIS = ("tickets", "resolved_within_target", "resolved_late", "open_within_target",
            "open_past_target", "no_target", "response_compliance", "resolution_compliance",
            "hours_over_target", "breach_cost")
ACCOUNT_KPIS = ("tickets", "ttr_mean", "resolution_compliance", "csat", "escalation_rate", "breach_cost")
AGENT_KPIS = ("tickets", "frt_mean", "ttr_mean", "csat", "resolution_breach_rate")


def _kpis(keys) -> list[Kpi]:
    return [kpi(k) for k in keys]


def month_dimension(ctx: BuildContext) -> Dimension:
    return months_of(ctx.frame)


def months_of(frame: pd.DataFrame) -> Dimension:
    """Every month with tickets, oldest first: the rows of the Trend grid."""
    months = sorted(frame["month"].unique())
    return Dimension("month", "Month", tuple(pd.Timestamp(m) for m in months), "month")


def agents_of(frame: pd.DataFrame) -> Dimension:
    """Agents by team, busiest first within a team: the rows of the Agent Performance grid."""
    team_of = frame.drop_duplicates("agent").set_index("agent")["team"]
    volume = frame["agent"].value_counts()
    order = sorted(volume.index, key=lambda a: (str(team_of[a]), -volume[a], str(a)))
    return Dimension("agent", "Agent", tuple(order))


# --- conditional formats -------------------------------------------------------------

def data_bars(ctx: BuildContext, ws: Worksheet, grid: Grid, key: str) -> None:
    col = grid.columns[key]
    ws.conditional_format(grid.first_row, col, grid.last_row, col,
                          {"type": "data_bar", "bar_color": ctx.formats.theme.series[2], "bar_solid": True})


def colour_scale(ctx: BuildContext, ws: Worksheet, first_row: int, first_col: int, last_row: int,
                 last_col: int, better: str | None) -> None:
    """Green-to-red by what is better; a plain white-to-blue scale for volumes."""
    theme = ctx.formats.theme
    if better is None:
        options = {"type": "2_color_scale", "min_color": "#FFFFFF", "max_color": theme.accent}
    else:
        good, bad = "#63BE7B", "#F8696B"
        low, high = (good, bad) if better == "lower" else (bad, good)
        options = {"type": "3_color_scale", "min_color": low, "mid_color": "#FFEB84", "max_color": high}
    ws.conditional_format(first_row, first_col, last_row, last_col, options)


def target_colours(ctx: BuildContext, ws: Worksheet, grid: Grid, item: Kpi) -> None:
    """Green where the KPI meets its target on Settings, red where it misses it (live)."""
    col = grid.columns[item.key]
    name = target_name(item.target)
    first = cell(grid.first_row, col)
    ok = f">={name}" if item.better == "higher" else f"<={name}"
    for rule, style in ((ok, "good"), (f"{'<' if item.better == 'higher' else '>'}{name}", "bad")):
        ws.conditional_format(grid.first_row, col, grid.total_row or grid.last_row, col, {
            "type": "formula", "criteria": f'=AND(ISNUMBER({first}),{first}{rule})',
            "format": ctx.formats.get(style)})


def _rate_formats(ctx: BuildContext, ws: Worksheet, grid: Grid, kpis: list[Kpi]) -> None:
    for item in kpis:
        if item.key == "tickets":
            data_bars(ctx, ws, grid, item.key)
        elif item.target:
            target_colours(ctx, ws, grid, item)
        elif item.fmt == "percent" and item.better:
            col = grid.columns[item.key]
            colour_scale(ctx, ws, grid.first_row, col, grid.last_row, col, item.better)


def _widths(ws: Worksheet, label_width: float, value_width: float = 12, count: int = 16) -> None:
    ws.set_column(0, 0, label_width)
    ws.set_column(1, count, value_width)


# --- sheets --------------------------------------------------------------------------

def write_trend(ctx: BuildContext, ws: Worksheet) -> Grid:
    """Monthly trend: volume, speed, SLA, satisfaction, escalation and month-end backlog."""
    row = write_title(ctx, ws, 0, 0, "Monthly trend",
                      "Every cell is a live formula over the Tickets table; SLA targets come from Settings.")
    kpis = _kpis(TREND_KPIS)
    months = month_dimension(ctx)
    grid = kpi_grid(ctx, ws, row + 1, 0, months, kpis)
    backlog_col = grid.label_col + len(kpis) + 1
    ws.write_string(grid.header_row, backlog_col, "Backlog at month end", ctx.formats.get("header"))
    grid.columns["backlog_at_month_end"] = backlog_col
    fmt = ctx.formats.get("cell", "int")
    for i, month in enumerate(months.values, start=grid.first_row):
        boundary = month + pd.offsets.MonthBegin(1)
        formula = ctx.backlog_at_formula(f"EDATE({cell(i, 0, abs_col=True)},1)")
        ctx.write_live(ws, i, backlog_col, formula, ctx.model.backlog_at(boundary), fmt)
    # The total is the backlog itself: open at the as-of moment, by the one open rule.
    ctx.write_kpi(ws, grid.total_row, backlog_col, kpi("backlog"), (), ctx.formats.get("total", "int"))
    _rate_formats(ctx, ws, grid, kpis)
    _widths(ws, 12)
    ws.set_row(grid.header_row, 42)
    ws.freeze_panes(grid.first_row, 1)
    return grid


def write_channels(ctx: BuildContext, ws: Worksheet) -> dict[str, Grid]:
    """Month x channel and channel x issue type volumes."""
    f = ctx.frame
    channels = dimension(f, "channel", "Channel")
    row = write_title(ctx, ws, 0, 0, "Tickets by month and channel")
    by_month = crosstab(ctx, ws, row + 1, 0, month_dimension(ctx), channels)
    colour_scale(ctx, ws, by_month.first_row, 1, by_month.last_row, len(channels.values), None)
    row = write_title(ctx, ws, by_month.total_row + 3, 0, "Tickets by channel and issue type")
    by_issue = crosstab(ctx, ws, row + 1, 0, channels, dimension(f, "issue_type", "Issue type"))
    colour_scale(ctx, ws, by_issue.first_row, 1, by_issue.last_row, by_issue.columns["Total"] - 1, None)
    _widths(ws, 16, 12, 14)
    ws.set_row(by_issue.header_row, 30)
    return {"by_month": by_month, "by_issue": by_issue}


def write_sla(ctx: BuildContext, ws: Worksheet) -> Grid:
    """Priority x SLA outcome, with breach hours and the breach cost proxy."""
    row = write_title(ctx, ws, 0, 0, "SLA outcome by priority",
                      "Open tickets past their target count as breached; tickets without a target "
                      "are left out of the SLA %. Targets and costs: Settings.")
    kpis = _kpis(SLA_KPIS)
    grid = kpi_grid(ctx, ws, row + 1, 0, dimension(ctx.frame, "priority", "Priority", order=PRIORITIES), kpis)
    _rate_formats(ctx, ws, grid, kpis)
    _widths(ws, 14, 13)
    ws.set_row(grid.header_row, 30)
    return grid


def write_segments(ctx: BuildContext, ws: Worksheet) -> dict[str, Grid]:
    """Industry, region and country: volume, speed, SLA, satisfaction, escalation, cost."""
    kpis = _kpis(SEGMENT_KPIS)
    grids = {}
    row = 0
    for key, label in (("industry", "Industry"), ("region", "Region"), ("country", "Country")):
        row = write_title(ctx, ws, row, 0, f"By {label.lower()}")
        grid = kpi_grid(ctx, ws, row, 0, dimension(ctx.frame, key, label), kpis)
        _rate_formats(ctx, ws, grid, kpis)
        ws.set_row(grid.header_row, 30)
        grids[key] = grid
        row = grid.total_row + 3
    _widths(ws, 20, 13)
    return grids


def write_top_accounts(ctx: BuildContext, ws: Worksheet) -> Grid:
    """The busiest accounts with their share and cumulative share of all tickets (Pareto)."""
    f = ctx.formats
    limit = ctx.template.top_accounts
    accounts = dimension(ctx.frame, "account_id", "Account ID", limit=limit)
    row = write_title(ctx, ws, 0, 0, f"Top {len(accounts.values)} accounts by tickets",
                      "Share and cumulative share are of all tickets in the period.")
    kpis = _kpis(ACCOUNT_KPIS)
    grid = kpi_grid(ctx, ws, row + 1, 0, accounts, kpis, total_label="All accounts")
    info = ctx.frame.drop_duplicates("account_id").set_index("account_id")
    extra = {"account": "Account", "industry": "Industry", "share": "Share", "cumulative": "Cumulative share"}
    next_col = grid.label_col + len(kpis) + 1
    for key, header in extra.items():
        grid.columns[key] = next_col
        ws.write_string(grid.header_row, next_col, header, f.get("header"))
        next_col += 1
    tickets_col, total_row = grid.columns["tickets"], grid.total_row
    total_ref = absolute(total_row, tickets_col)
    counts = ctx.frame["account_id"].value_counts()
    total = int(len(ctx.frame))
    running = 0
    for i, account_id in enumerate(accounts.values, start=grid.first_row):
        ws.write_string(i, grid.columns["account"], str(info.at[account_id, "account"]), f.get("cell"))
        ws.write_string(i, grid.columns["industry"], str(info.at[account_id, "industry"]), f.get("cell"))
        running += int(counts[account_id])
        ctx.write_formula(ws, i, grid.columns["share"], f"={cell(i, tickets_col)}/{total_ref}",
                          int(counts[account_id]) / total, f.get("cell", "percent"))
        cumulative = f"=SUM({absolute(grid.first_row, tickets_col)}:{cell(i, tickets_col)})/{total_ref}"
        ctx.write_formula(ws, i, grid.columns["cumulative"], cumulative, running / total,
                          f.get("cell", "percent"))
    _rate_formats(ctx, ws, grid, kpis)
    colour_scale(ctx, ws, grid.first_row, grid.columns["cumulative"], grid.last_row,
                 grid.columns["cumulative"], None)
    _widths(ws, 12, 13)
    ws.set_column(grid.columns["account"], grid.columns["account"], 34)
    ws.set_column(grid.columns["industry"], grid.columns["industry"], 18)
    ws.set_row(grid.header_row, 30)
    ws.freeze_panes(grid.first_row, 1)
    return grid


def write_agents_summary(ctx: BuildContext, ws: Worksheet) -> Grid:
    """Per agent: volume, speed, satisfaction, breaches, and workload against the team mean."""
    f = ctx.formats
    frame = ctx.frame
    team_of = frame.drop_duplicates("agent").set_index("agent")["team"]
    volume = frame["agent"].value_counts()
    agents = agents_of(frame)
    row = write_title(ctx, ws, 0, 0, "Agent performance",
                      "Workload is the agent's tickets against the mean of agents in the same team.")
    kpis = _kpis(AGENT_KPIS)
    grid = kpi_grid(ctx, ws, row + 1, 0, agents, kpis, total_label="All agents")
    team_col = grid.label_col + len(kpis) + 1
    load_col = team_col + 1
    grid.columns.update(team=team_col, workload=load_col)
    ws.write_string(grid.header_row, team_col, "Team", f.get("header"))
    ws.write_string(grid.header_row, load_col, "Workload vs team mean", f.get("header"))
    tickets_col = grid.columns["tickets"]
    team_means = volume.groupby(team_of.reindex(volume.index)).mean()
    teams = area(grid.first_row, team_col, grid.last_row, team_col)
    tickets = area(grid.first_row, tickets_col, grid.last_row, tickets_col)
    literal = any(needs_literal(team) for team in team_means.index)
    for i, agent in enumerate(agents.values, start=grid.first_row):
        team = str(team_of[agent])
        ws.write_string(i, team_col, team, f.get("cell"))
        same_team = literal_criterion(cell(i, team_col)) if literal else cell(i, team_col)
        ctx.write_formula(ws, i, load_col,
                          f"=IFERROR({cell(i, tickets_col)}/AVERAGEIFS({tickets},{teams},{same_team}),\"\")",
                          float(volume[agent] / team_means[team]), f.get("cell", "share"))
    _rate_formats(ctx, ws, grid, kpis)
    colour_scale(ctx, ws, grid.first_row, load_col, grid.last_row, load_col, None)
    _widths(ws, 24, 12)
    ws.set_row(grid.header_row, 30)
    ws.freeze_panes(grid.first_row, 1)
    return grid


def write_heatmap(ctx: BuildContext, ws: Worksheet) -> Grid:
    """Tickets by weekday and hour of creation, coloured by volume."""
    row = write_title(ctx, ws, 0, 0, "When tickets arrive",
                      "Tickets created per weekday and hour of day (time zone of the data).")
    weekdays = Dimension("weekday", "Weekday", WEEKDAY_LABELS)
    hours = Dimension("hour", "Hour", tuple(range(24)), "int")
    grid = crosstab(ctx, ws, row + 1, 0, weekdays, hours)
    colour_scale(ctx, ws, grid.first_row, 1, grid.last_row, 24, None)
    ws.set_column(0, 0, 12)
    ws.set_column(1, 24, 5.5)
    ws.set_column(25, 25, 8)
    return grid


def write_backlog(ctx: BuildContext, ws: Worksheet) -> Grid:
    """Open tickets at the end of the period by age bucket and priority."""
    f = ctx.formats
    row = write_title(ctx, ws, 0, 0, "Backlog aging",
                      "Tickets open or pending at the end of the period, by days since creation.")
    header = row + 1
    priorities = list(PRIORITIES)
    priority_dim = Dimension("priority", "Priority", PRIORITIES)
    headers = ["Age (days)", "From", "To", *priorities, "Total", "Share"]
    for j, text in enumerate(headers):
        ws.write_string(header, j, text, f.get("header"))
    grid = Grid(ws.get_name(), header, header + 1, header + len(AGING_BUCKETS), 0,
                {"from": 1, "to": 2, **{p: 3 + k for k, p in enumerate(priorities)},
                 "Total": 3 + len(priorities), "share": 4 + len(priorities)})
    count = kpi("tickets")
    grid.total_row = grid.last_row + 1
    total_ref = absolute(grid.total_row, grid.columns["Total"])
    open_total = int(ctx.frame["age_days"].notna().sum())
    for i, (low, high) in enumerate(AGING_BUCKETS, start=grid.first_row):
        ws.write_string(i, 0, f"{low}+" if high is None else f"{low}-{high}", f.get("label"))
        ws.write_number(i, 1, low, f.get("cell", "int"))
        ws.write_number(i, 2, high if high is not None else OPEN_ENDED_DAYS,
                        f.get("cell", num_format=f'[>={OPEN_ENDED_DAYS}]"";#,##0'))  # a criterion, not shown
        age = [compare("age_days", ">=", cell(i, 1, abs_col=True), low),
               compare("age_days", "<=", cell(i, 2, abs_col=True), high or OPEN_ENDED_DAYS)]
        for priority in priorities:
            col = grid.columns[priority]
            head = cell(header, col, abs_row=True)
            criteria = age + [priority_dim.criterion(head, priority)]
            ctx.write_kpi(ws, i, col, count, criteria)
        value = ctx.write_kpi(ws, i, grid.columns["Total"], count, age, f.get("total", "int"))
        ctx.write_formula(ws, i, grid.columns["share"],
                          f'=IFERROR({cell(i, grid.columns["Total"])}/{total_ref},"")',
                          value / open_total if open_total else None, f.get("cell", "percent"))
    ws.write_string(grid.total_row, 0, "Total", f.get("total"))
    for key in (*priorities, "Total"):
        col = grid.columns[key]
        column_range = area(grid.first_row, col, grid.last_row, col, absolute_ref=False)
        ctx.write_formula(ws, grid.total_row, col, f"=SUM({column_range})",
                          _bucket_total(ctx, key), f.get("total", "int"))
    colour_scale(ctx, ws, grid.first_row, 3, grid.last_row, 2 + len(priorities), "lower")
    ws.set_column(0, 0, 12)
    ws.set_column(1, 2, 8)
    ws.set_column(3, 5 + len(priorities), 11)
    return grid


def _bucket_total(ctx: BuildContext, priority: str) -> int:
    open_ = ctx.frame["age_days"].notna()
    if priority != "Total":
        open_ &= ctx.frame["priority"] == priority
    return int(open_.sum())
