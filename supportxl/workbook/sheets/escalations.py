"""Escalations: how escalated tickets flow between tiers, from the escalation log.

Step durations, time to escalate by tier, hand-offs, who talks to whom, a timeline of the
ten longest escalations, resolution-time quartiles by issue type and tier, and CSAT of
escalated against other tickets. Live formulas over the EscalationLog and Tickets tables.
"""

from __future__ import annotations

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from supportxl.schema import TIERS
from supportxl.metrics.kpis import compare, equals, kpi
from supportxl.workbook.charts import escalation_charts
from supportxl.workbook.context import BuildContext
from supportxl.workbook.grids import Dimension, Grid, dimension, kpi_grid, write_label, write_title
from supportxl.workbook.ranges import cell
from supportxl.workbook.sheets.summaries import colour_scale

LOG = "EscalationLog"
HANDOFF_BUCKETS = ((0, 2), (3, 4), (5, 6), (7, 8), (9, None))
OPEN_ENDED = 10_000
OPEN_ENDED_FORMAT = f'[>={OPEN_ENDED}]"";#,##0'  # the open upper bound is a criterion, not shown
LONGEST = 10
CHART_COL = 10  # K: right of the widest grid (the quartiles, A..I)


def _log(header: str) -> str:
    return f"{LOG}[{header}]"


def _stage_formula(stat: str, activity_ref: str) -> tuple[str, bool]:
    hours, activity = _log("Hours in step"), _log("Activity")
    if stat == "count":
        return f'=COUNTIFS({activity},{activity_ref},{hours},">=0")', False
    if stat == "mean":
        return f'=IFERROR(AVERAGEIFS({hours},{activity},{activity_ref}),"")', False
    inner = f'IF(({activity}={activity_ref})*({hours}<>""),{hours})'
    call = f"MEDIAN({inner})" if stat == "median" else f"PERCENTILE({inner},0.9)"
    return f'=IFERROR({call},"")', True


def write_escalations(ctx: BuildContext, ws: Worksheet) -> dict[str, Grid]:
    f = ctx.formats
    events, frame = ctx.events, ctx.frame
    grids: dict[str, Grid] = {}
    ws.set_column(0, 0, 24)
    ws.set_column(1, 12, 12)
    row = write_title(ctx, ws, 0, 0, "Escalations",
                      "How escalated tickets move between tiers; hours in a step run until the "
                      "ticket's next step.")

    # Time in each step.
    row = write_title(ctx, ws, row + 1, 0, "Time in each escalation step")
    stages = [a for a in dimension(events, "activity", "Activity").values if a != "Resolution Confirmation"]
    stats = (("count", "Steps", "int"), ("mean", "Mean hours", "hours"),
             ("median", "Median hours", "hours"), ("p90", "P90 hours", "hours"))
    ws.write_string(row, 0, "Activity", f.get("header"))
    for j, (_, label, _) in enumerate(stats, start=1):
        ws.write_string(row, j, label, f.get("header"))
    grid = Grid(ws.get_name(), row, row + 1, row + max(len(stages), 1), 0,
                {key: j for j, (key, _, _) in enumerate(stats, start=1)})
    values = ctx.model.step_hours()
    for i, stage in enumerate(stages, start=row + 1):
        write_label(ctx, ws, i, 0, stage, "text")
        for j, (key, _, fmt) in enumerate(stats, start=1):
            formula, array = _stage_formula(key, cell(i, 0, abs_col=True))
            value = values[key].get(stage, 0 if key == "count" else None)  # a count of nothing is 0
            ctx.write_formula(ws, i, j, formula, None if value is None or pd.isna(value) else float(value),
                              f.get("cell", fmt), array=array)
    colour_scale(ctx, ws, grid.first_row, 2, grid.last_row, 4, "lower")
    grids["stages"] = grid
    row = grid.last_row + 3

    # Time to escalate and hand-offs by tier reached.
    row = write_title(ctx, ws, row, 0, "Time to escalate and hand-offs, by tier reached")
    reached = set(frame["escalation_tier"].unique())
    tiers = Dimension("escalation_tier", "Tier reached", tuple(t for t in TIERS[1:] if t in reached))
    grids["tiers"] = kpi_grid(ctx, ws, row, 0, tiers, [kpi(k) for k in (
        "tickets", "escalate_mean", "escalate_median", "escalate_p90", "tier3_median", "handoffs_mean")],
        total_label="All escalated", base=[equals("escalated", '"Yes"', "Yes")])
    ws.set_row(grids["tiers"].header_row, 30)
    row = grids["tiers"].total_row + 3

    # Hand-offs per escalated ticket.
    row = write_title(ctx, ws, row, 0, "Hand-offs per escalated ticket")
    for j, text in enumerate(("Hand-offs", "From", "To", "Tickets")):
        ws.write_string(row, j, text, f.get("header"))
    escalated = [equals("escalated", '"Yes"', "Yes")]
    for i, (low, high) in enumerate(HANDOFF_BUCKETS, start=row + 1):
        ws.write_string(i, 0, f"{low}+" if high is None else f"{low}-{high}", f.get("label"))
        ws.write_number(i, 1, low, f.get("cell", "int"))
        ws.write_number(i, 2, high if high is not None else OPEN_ENDED, f.get("cell", num_format=OPEN_ENDED_FORMAT))
        criteria = [*escalated, compare("handoffs", ">=", cell(i, 1, abs_col=True), low),
                    compare("handoffs", "<=", cell(i, 2, abs_col=True), high or OPEN_ENDED)]
        ctx.write_kpi(ws, i, 3, kpi("tickets"), criteria)
    grids["handoffs"] = Grid(ws.get_name(), row, row + 1, row + len(HANDOFF_BUCKETS), 0, {"tickets": 3})
    row += len(HANDOFF_BUCKETS) + 3

    grids["matrix"] = _matrix(ctx, ws, row)
    row = grids["matrix"].last_row + 3
    grids["timeline"] = _timeline(ctx, ws, row)
    row = grids["timeline"].last_row + 3
    grids["quartiles"] = _quartiles(ctx, ws, row)
    row = grids["quartiles"].last_row + 3

    row = write_title(ctx, ws, row, 0, "Satisfaction of escalated and other tickets")
    answers = set(frame["escalated"].unique())
    escalated_dim = Dimension("escalated", "Escalated", tuple(v for v in ("Yes", "No") if v in answers))
    grids["csat"] = kpi_grid(ctx, ws, row, 0, escalated_dim,
                             [kpi(k) for k in ("tickets", "csat", "csat_mean", "csat_response_rate", "ttr_median")])
    ws.set_row(grids["csat"].header_row, 30)
    _charts(ctx, ws, grids)
    return grids


def _matrix(ctx: BuildContext, ws: Worksheet, row: int) -> Grid:
    """Stakeholder x counterpart: how many escalation steps went from one to the other."""
    f = ctx.formats
    events = ctx.events
    row = write_title(ctx, ws, row, 0, "Who talks to whom",
                      "Escalation steps by the stakeholder who acted (rows) and the one addressed (columns).")
    people = sorted(set(events["stakeholder"].unique()) | set(events["counterpart"].unique()), key=_stakeholder_order)
    ws.write_string(row, 0, "From \\ To", f.get("header"))
    for j, person in enumerate(people, start=1):
        write_label(ctx, ws, row, j, person, "text", style="header")
    counts = events.groupby(["stakeholder", "counterpart"]).size()
    for i, source in enumerate(people, start=row + 1):
        write_label(ctx, ws, i, 0, source, "text")
        for j, target in enumerate(people, start=1):
            formula = (f"=COUNTIFS({_log('Stakeholder')},{cell(i, 0, abs_col=True)},"
                       f"{_log('Counterpart')},{cell(row, j, abs_row=True)})")
            ctx.write_formula(ws, i, j, formula, int(counts.get((source, target), 0)), f.get("cell", "int"))
    grid = Grid(ws.get_name(), row, row + 1, row + max(len(people), 1), 0,
                {p: j for j, p in enumerate(people, start=1)})
    colour_scale(ctx, ws, grid.first_row, 1, grid.last_row, max(len(people), 1), None)
    return grid


def _stakeholder_order(name: str) -> tuple[int, str]:
    order = ("Customer", "Tier 1", "Tier 2", "Tier 3", "Project Manager", "C-Level Executive")
    return (order.index(name) if name in order else len(order), name)


def _timeline(ctx: BuildContext, ws: Worksheet, row: int) -> Grid:
    """The ten longest escalations: hours spent in each activity, as stacked bars."""
    f = ctx.formats
    events = ctx.events
    row = write_title(ctx, ws, row, 0, f"Timeline of the {LONGEST} longest escalations",
                      "Hours per activity, first step to last (a Gantt-style view).")
    stamps = events.groupby("ticket_id")["timestamp"]
    span = (stamps.max() - stamps.min()).dt.total_seconds()
    longest = list(span.sort_values(ascending=False, kind="stable").index[:LONGEST])
    activities = [a for a in dict.fromkeys(events.sort_values("step", kind="stable")["activity"])
                  if a != "Resolution Confirmation"]
    ws.write_string(row, 0, "Ticket ID", f.get("header"))
    for j, activity in enumerate(activities, start=1):
        write_label(ctx, ws, row, j, activity, "text", style="header")
    sums = events.groupby(["ticket_id", "activity"])["hours_in_step"].sum()
    for i, ticket in enumerate(longest, start=row + 1):
        write_label(ctx, ws, i, 0, ticket, "id")  # ids are numbers or, from some exports, text
        for j, activity in enumerate(activities, start=1):
            formula = (f"=SUMIFS({_log('Hours in step')},{_log('Ticket ID')},{cell(i, 0, abs_col=True)},"
                       f"{_log('Activity')},{cell(row, j, abs_row=True)})")
            ctx.write_formula(ws, i, j, formula, float(sums.get((ticket, activity), 0.0)), f.get("cell", "hours"))
    ws.set_row(row, 30)
    return Grid(ws.get_name(), row, row + 1, row + max(len(longest), 1), 0,
                {a: j for j, a in enumerate(activities, start=1)})


def _quartiles(ctx: BuildContext, ws: Worksheet, row: int) -> Grid:
    """Resolution-time quartiles per issue type and per tier, with the segments a box plot draws."""
    f = ctx.formats
    row = write_title(ctx, ws, row, 0, "Resolution time quartiles by issue type and tier",
                      "Q1, median, Q3 and P90 in hours; the box chart draws the last four columns.")
    stats = [kpi(k) for k in ("ttr_q1", "ttr_median", "ttr_q3", "ttr_p90")]
    segments = ("Box base", "Q1 to median", "Median to Q3", "Q3 to P90")
    headers = ["Issue type / tier", *(k.name for k in stats), *segments]
    for j, text in enumerate(headers):
        ws.write_string(row, j, text, f.get("header"))
    ws.set_row(row, 30)
    issues = dimension(ctx.frame, "issue_type", "Issue type")
    tiers = dimension(ctx.frame, "escalation_tier", "Tier", order=TIERS)
    rows = [(issues, v) for v in issues.values] + [(tiers, v) for v in tiers.values]
    for i, (dim, value) in enumerate(rows, start=row + 1):
        write_label(ctx, ws, i, 0, value, "text")
        criteria = [dim.criterion(cell(i, 0, abs_col=True), value)]
        values = [ctx.write_kpi(ws, i, 1 + j, item, criteria) for j, item in enumerate(stats)]
        q1, med, q3, p90 = values
        parts = [q1, None if med is None or q1 is None else med - q1,
                 None if q3 is None or med is None else q3 - med,
                 None if p90 is None or q3 is None else p90 - q3]
        refs = [cell(i, 1 + j) for j in range(4)]
        formulas = [f"={refs[0]}", f'=IFERROR({refs[1]}-{refs[0]},"")', f'=IFERROR({refs[2]}-{refs[1]},"")',
                    f'=IFERROR({refs[3]}-{refs[2]},"")']
        for j, (formula, value) in enumerate(zip(formulas, parts), start=5):
            ctx.write_formula(ws, i, j, formula, value, f.get("cell", "hours"))
    return Grid(ws.get_name(), row, row + 1, row + len(rows), 0,
                {name: 5 + j for j, name in enumerate(segments)})


def _charts(ctx: BuildContext, ws: Worksheet, grids: dict[str, Grid]) -> None:
    """Each chart beside the grid it draws, right of the widest grid."""
    for key, chart in escalation_charts(ctx, grids).items():
        ws.insert_chart(grids[key].header_row, CHART_COL, chart, {"x_offset": 10})
