"""Native Excel charts over the dashboard's grids: they follow edits and filters."""

from __future__ import annotations

from xlsxwriter.chart import Chart

from supportxl.metrics.kpis import kpi
from supportxl.workbook.catalogue import CHART_NAMES
from supportxl.workbook.context import BuildContext
from supportxl.workbook.grids import Grid, dimension

CHART_SIZE = {"width": 5 * 78 - 6, "height": 16 * 20 - 8}
NUMBER_FORMATS = {"int": "#,##0", "percent": "0%", "hours": "#,##0", "currency": "$#,##0"}


def _ref(grid: Grid, key: str) -> list:
    col = grid.columns[key]
    return [grid.sheet, grid.first_row, col, grid.last_row, col]


def _labels(grid: Grid) -> list:
    return [grid.sheet, grid.first_row, grid.label_col, grid.last_row, grid.label_col]


def _name(grid: Grid, key: str) -> list:
    return [grid.sheet, grid.header_row, grid.columns[key]]


def _new(ctx: BuildContext, kind: str, title: str, subtype: str | None = None) -> Chart:
    options = {"type": kind}
    if subtype:
        options["subtype"] = subtype
    chart = ctx.workbook.add_chart(options)
    chart.set_title({"name": title, "name_font": {"size": 11, "bold": True}})
    chart.set_size(CHART_SIZE)
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_chartarea({"border": {"color": "#D9D9D9"}})
    return chart


def _axes(chart: Chart, x_title: str, y_title: str, y_format: str, x_format: str | None = None) -> None:
    x = {"name": x_title, "name_font": {"size": 9}, "num_font": {"size": 8}}
    if x_format:
        x["num_format"] = NUMBER_FORMATS.get(x_format, x_format)
    chart.set_x_axis(x)
    chart.set_y_axis({"name": y_title, "name_font": {"size": 9}, "num_font": {"size": 8},
                      "num_format": NUMBER_FORMATS.get(y_format, y_format),
                      "major_gridlines": {"visible": True, "line": {"color": "#EDEDED"}}})


MONTH_AXIS = {"name": "Month", "num_format": "mmm yy", "name_font": {"size": 9}, "num_font": {"size": 8}}


def _columns_and_share_line(ctx: BuildContext, title: str, grid: Grid, line_key: str, line_name: str,
                            x_title: str, y2: dict, label_key: str | None = None) -> tuple[Chart, Chart]:
    """Ticket columns with a percentage line on a secondary axis; categories from the grid's
    labels or its ``label_key`` column."""
    colours = ctx.formats.theme.series
    labels = _labels(grid) if label_key is None else _ref(grid, label_key)
    columns = _new(ctx, "column", title)
    columns.add_series({"name": "Tickets", "categories": labels, "values": _ref(grid, "tickets"),
                        "fill": {"color": colours[1]}, "gap": 50})
    line = ctx.workbook.add_chart({"type": "line"})
    line.add_series({"name": line_name, "categories": labels, "values": _ref(grid, line_key),
                     "y2_axis": True, "line": {"color": colours[4], "width": 2.25},
                     "marker": {"type": "circle", "size": 4}})
    columns.combine(line)
    _axes(columns, x_title, "Tickets", "int")
    line.set_y2_axis({"num_format": "0%", "name_font": {"size": 9}, "num_font": {"size": 8}, **y2})
    return columns, line


RATE_AXIS = {"min": 0, "max": 1}  # rates on their whole scale: a 3-point move looks like one


def _volume_breach(ctx: BuildContext, grids: dict[str, Grid]) -> Chart:
    volume, _ = _columns_and_share_line(ctx, "Tickets per month and resolution breach rate", grids["monthly"],
                                        "resolution_breach_rate", "Resolution breach %", "Month",
                                        {"name": "Breach rate", **RATE_AXIS})
    volume.set_x_axis(MONTH_AXIS)
    return volume


def _created_resolved(ctx: BuildContext, grids: dict[str, Grid]) -> Chart:
    """Created and resolved per month, with the backlog at each month's end."""
    colours, monthly = ctx.formats.theme.series, grids["monthly"]
    flow = _new(ctx, "column", "Created vs resolved, and the month-end backlog")
    for key, name, colour in (("tickets", "Created", colours[1]), ("resolved_in_month", "Resolved", colours[5])):
        flow.add_series({"name": name, "categories": _labels(monthly), "values": _ref(monthly, key),
                         "fill": {"color": colour}, "gap": 60})
    line = ctx.workbook.add_chart({"type": "line"})
    line.add_series({"name": "Backlog at month end", "categories": _labels(monthly),
                     "values": _ref(monthly, "backlog_at_month_end"), "y2_axis": True,
                     "line": {"color": colours[4], "width": 2.25}, "marker": {"type": "circle", "size": 4}})
    flow.combine(line)
    _axes(flow, "Month", "Tickets", "int")
    flow.set_x_axis(MONTH_AXIS)
    line.set_y2_axis({"name": "Backlog", "num_format": "#,##0", "min": 0, "name_font": {"size": 9},
                      "num_font": {"size": 8}})
    return flow


def _month_channel(ctx: BuildContext, grids: dict[str, Grid]) -> Chart:
    colours, by_channel = ctx.formats.theme.series, grids["month_channel"]
    stacked = _new(ctx, "column", "Tickets per month by channel", "stacked")
    for i, key in enumerate(k for k in by_channel.columns if k != "Total"):
        stacked.add_series({"name": _name(by_channel, key), "categories": _labels(by_channel),
                            "values": _ref(by_channel, key), "fill": {"color": colours[i % len(colours)]},
                            "gap": 50})
    _axes(stacked, "Month", "Tickets", "int")
    stacked.set_x_axis(MONTH_AXIS)
    return stacked


def _ranked_bars(ctx: BuildContext, title: str, grid: Grid, key: str, name: str, colour: str,
                 value_title: str, label_title: str) -> Chart:
    """One series of horizontal bars, the grid's first row at the top."""
    bars = _new(ctx, "bar", title)
    bars.add_series({"name": name, "categories": _labels(grid), "values": _ref(grid, key),
                     "fill": {"color": colour}, "gap": 40})
    bars.set_x_axis({"name": value_title, "num_format": "#,##0", "name_font": {"size": 9},
                     "num_font": {"size": 8}})
    bars.set_y_axis({"name": label_title, "reverse": True, "name_font": {"size": 9}, "num_font": {"size": 8}})
    bars.set_legend({"none": True})
    return bars


def _issue_types(ctx: BuildContext, grids: dict[str, Grid]) -> Chart:
    return _ranked_bars(ctx, "Tickets by issue type", grids["issues"], "tickets", "Tickets",
                        ctx.formats.theme.series[0], "Tickets", "Issue type")


def _channel_share(ctx: BuildContext, grids: dict[str, Grid]) -> Chart:
    colours, channels = ctx.formats.theme.series, grids["channels"]
    doughnut = _new(ctx, "doughnut", "Channel share of tickets")
    doughnut.add_series({"name": "Tickets", "categories": _labels(channels), "values": _ref(channels, "tickets"),
                         "data_labels": {"percentage": True, "font": {"size": 8}},
                         "points": [{"fill": {"color": colours[i % len(colours)]}}
                                    for i in range(channels.rows)]})
    doughnut.set_hole_size(55)
    doughnut.set_legend({"position": "right", "font": {"size": 8}})
    return doughnut


def _sla_outcome(ctx: BuildContext, grids: dict[str, Grid]) -> Chart:
    colours, sla = ctx.formats.theme.series, grids["sla"]
    # 100 % stacked: every priority's outcome mix on one scale, so Critical's few tickets show.
    outcome = _new(ctx, "column", "SLA outcome by priority (share of tickets)", "percent_stacked")
    keys = ("resolved_within_target", "resolved_late", "open_within_target", "open_past_target")
    for key, colour in zip(keys, (colours[6], colours[4], colours[2], colours[3])):
        outcome.add_series({"name": _name(sla, key), "categories": _labels(sla), "values": _ref(sla, key),
                            "fill": {"color": colour}, "gap": 60})
    _axes(outcome, "Priority", "Share of tickets", "0%")
    return outcome


def _csat_trend(ctx: BuildContext, grids: dict[str, Grid]) -> Chart:
    monthly = grids["monthly"]
    csat = _new(ctx, "line", "CSAT % by month")
    csat.add_series({"name": "CSAT %", "categories": _labels(monthly), "values": _ref(monthly, "csat"),
                     "line": {"color": ctx.formats.theme.series[6], "width": 2.25},
                     "marker": {"type": "circle", "size": 4}})
    _axes(csat, "Month", "Share of ratings 4-5", "0%")
    csat.set_y_axis({"name": "Share of ratings 4-5", "num_format": "0%", **RATE_AXIS,
                     "name_font": {"size": 9}, "num_font": {"size": 8},
                     "major_gridlines": {"visible": True, "line": {"color": "#EDEDED"}}})
    csat.set_x_axis(MONTH_AXIS)
    csat.set_legend({"none": True})
    return csat


def _agent_scatter(ctx: BuildContext, grids: dict[str, Grid]) -> Chart:
    """Every agent's mean resolution time against CSAT; the slowest and the lowest-CSAT agents
    are drawn again as series of one point each, labelled with the series name: the agent's
    name, read live from the grid's label cell (Excel and LibreOffice both draw series names,
    where LibreOffice leaves out labels read from cells)."""
    colours, agents = ctx.formats.theme.series, grids["agents"]
    scatter = _new(ctx, "scatter", "Agents: mean resolution time vs CSAT")
    scatter.add_series({"name": "Agents", "categories": _ref(agents, "ttr_mean"),
                        "values": _ref(agents, "csat"),
                        "marker": {"type": "circle", "size": 5, "fill": {"color": colours[1]},
                                   "border": {"color": colours[0]}}})
    ttr_col, csat_col = agents.columns["ttr_mean"], agents.columns["csat"]
    for row in _outlier_rows(ctx, agents):
        scatter.add_series({"name": [agents.sheet, row, agents.label_col],
                            "categories": [agents.sheet, row, ttr_col, row, ttr_col],
                            "values": [agents.sheet, row, csat_col, row, csat_col],
                            "marker": {"type": "circle", "size": 6, "fill": {"color": colours[3]},
                                       "border": {"color": colours[0]}},
                            "data_labels": {"series_name": True, "position": "right", "font": {"size": 7}}})
    _axes(scatter, "Mean resolution (h)", "CSAT %", "0%", "#,##0")
    scatter.set_y_axis({"name": "CSAT %", "num_format": "0%", **RATE_AXIS, "name_font": {"size": 9},
                        "num_font": {"size": 8}, "major_gridlines": {"visible": True, "line": {"color": "#EDEDED"}}})
    scatter.set_legend({"none": True})
    return scatter


OUTLIERS = 3  # the slowest agents and the lowest CSATs named on the scatter


def _outlier_rows(ctx: BuildContext, agents: Grid) -> list[int]:
    """The grid rows of the slowest and the lowest-CSAT agents, top to bottom."""
    names = list(dimension(ctx.frame, "agent", "Agent").values)[:agents.rows]
    ttr = ctx.model.by(kpi("ttr_mean"), ["agent"]).reindex(names).astype(float)
    csat = ctx.model.by(kpi("csat"), ["agent"]).reindex(names).astype(float)
    # Ties go to the first name in alphabetical order, so the choice is stable.
    picked = set(ttr.sort_index().nlargest(OUTLIERS).index) | set(csat.sort_index().nsmallest(OUTLIERS).index)
    return [agents.first_row + i for i, name in enumerate(names) if name in picked]


def _account_pareto(ctx: BuildContext, grids: dict[str, Grid]) -> Chart:
    pareto, _ = _columns_and_share_line(ctx, "Top accounts: tickets and cumulative share", grids["accounts"],
                                        "cumulative", "Cumulative share", "Account",
                                        {"name": "Cumulative share", **RATE_AXIS}, label_key="name")
    return pareto


def _escalation_stages(ctx: BuildContext, grids: dict[str, Grid]) -> Chart:
    return _ranked_bars(ctx, "Escalations: mean hours per activity", grids["stages"], "hours", "Mean hours",
                        ctx.formats.theme.series[3], "Hours", "Activity")


# The Dashboard's charts by the name a template uses for them, in the catalogue's order.
DASHBOARD_CHARTS = {
    "volume_and_breach_rate": _volume_breach,
    "created_vs_resolved": _created_resolved,
    "issue_types": _issue_types,
    "channel_share": _channel_share,
    "sla_outcome_by_priority": _sla_outcome,
    "csat_trend": _csat_trend,
    "agents_resolution_vs_csat": _agent_scatter,
    "account_pareto": _account_pareto,
    "tickets_by_month_and_channel": _month_channel,
    "escalation_stages": _escalation_stages,
}


assert tuple(DASHBOARD_CHARTS) == CHART_NAMES


def dashboard_charts(ctx: BuildContext, grids: dict[str, Grid], names) -> list[Chart]:
    """The named Dashboard charts, in the order given."""
    return [DASHBOARD_CHARTS[name](ctx, grids) for name in names]


def escalation_charts(ctx: BuildContext, grids: dict[str, Grid]) -> dict[str, Chart]:
    """Charts for the Escalations sheet, keyed by the grid each one draws (the log's two only
    when there were escalations)."""
    colours = ctx.formats.theme.series
    charts: dict[str, Chart] = {}
    if ctx.events.empty:
        return charts | {"quartiles": _box_plot(ctx, grids["quartiles"])}

    bars = _ranked_bars(ctx, "Hours in each escalation step (mean)", grids["stages"], "mean", "Mean hours",
                        colours[3], "Hours", "Activity")
    charts["stages"] = bars

    timeline = grids["timeline"]
    gantt = _new(ctx, "bar", "The longest escalations: hours per activity", "stacked")
    for i, key in enumerate(timeline.columns):
        gantt.add_series({"name": _name(timeline, key), "categories": _labels(timeline),
                          "values": _ref(timeline, key), "fill": {"color": colours[i % len(colours)]},
                          "gap": 40})
    gantt.set_x_axis({"name": "Hours from submission", "num_format": "#,##0", "name_font": {"size": 9},
                      "num_font": {"size": 8}})
    gantt.set_y_axis({"name": "Ticket", "reverse": True, "name_font": {"size": 9}, "num_font": {"size": 8}})
    gantt.set_size({"width": 620, "height": 320})
    charts["timeline"] = gantt

    charts["quartiles"] = _box_plot(ctx, grids["quartiles"])
    return charts


def _box_plot(ctx: BuildContext, quartiles: Grid) -> Chart:
    """Stacked bars drawn as box plots: an invisible base to Q1, two boxes, a whisker to P90."""
    colours = ctx.formats.theme.series
    box = _new(ctx, "bar", "Resolution time: Q1-median-Q3 box, whisker to P90", "stacked")
    styles = ({"fill": {"none": True}, "border": {"none": True}},
              {"fill": {"color": colours[2]}, "border": {"color": colours[0]}},
              {"fill": {"color": colours[1]}, "border": {"color": colours[0]}},
              {"fill": {"color": "#D9D9D9"}, "border": {"none": True}})
    for key, style in zip(quartiles.columns, styles):
        box.add_series({"name": _name(quartiles, key), "categories": _labels(quartiles),
                        "values": _ref(quartiles, key), "gap": 60, **style})
    box.set_x_axis({"name": "Resolution hours", "num_format": "#,##0", "name_font": {"size": 9},
                    "num_font": {"size": 8}})
    box.set_y_axis({"name": "Issue type / tier", "reverse": True, "name_font": {"size": 9},
                    "num_font": {"size": 8}})
    box.set_legend({"position": "bottom", "delete_series": [0], "font": {"size": 8}})
    box.set_size({"width": 620, "height": 420})
    return box
