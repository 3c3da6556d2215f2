"""About: what produced the file, how to regenerate it, and what every KPI means."""

from __future__ import annotations

import json

from xlsxwriter.worksheet import Worksheet

from supportxl import __version__
from supportxl.metrics.kpis import CATALOGUE
from supportxl.model import RULES
from supportxl.workbook.catalogue import PERIOD_NAME, SLICE_NAME
from supportxl.workbook.context import BuildContext
from supportxl.workbook.ranges import absolute, on_sheet
from supportxl.workbook.sheets.plan import PLAN_DEFINITIONS

SHEET_GUIDE = {
    "Dashboard": "KPI cards against targets, trends and charts; filter by month, channel, "
                 "priority and team.",
    "Trend": "Monthly volume, response and resolution times (mean, median, P90), SLA breaches, "
             "CSAT, escalation, reopen, FCR and month-end backlog.",
    "Channels": "Tickets by month x channel and channel x issue type.",
    "SLA": "Priority x SLA outcome, hours over target and the breach cost proxy.",
    "Segments": "Industry, region and country compared.",
    "Top Accounts": "The busiest accounts and their cumulative share of tickets.",
    "Agent Performance": "Per agent volume, speed, CSAT, breaches and workload vs team mean.",
    "Heatmap": "When tickets arrive: weekday x hour of day.",
    "Backlog": "Open tickets at period end by age and priority.",
    "Escalations": "Time in each escalation step, time to escalate, hand-offs, who talks to whom, "
                   "the longest escalations and resolution-time quartiles.",
    "Plan": "Next quarter: the weekly volume forecast with its range, and the agents needed by "
            "weekday and hour (Erlang C) for the service level and handle time on Settings.",
    "Pivots": "Native PivotTables over the Tickets table with slicers: re-pivot them in Excel.",
    "Insights": "Ranked findings with their numbers, evidence and recommended actions.",
    "Data Quality": "What importing the helpdesk export found (unparseable dates, unknown values, "
                    "duplicates, dropped rows) and what was done about it.",
    "Settings": "SLA targets, costs, thresholds and targets; edit them and the workbook follows.",
    "About": "This page.",
    "Tickets": "One row per ticket with derived durations and live SLA flags.",
    "Accounts": "Customer accounts.",
    "Agents": "Support agents and their teams.",
    "Aggregates": "Tickets summed by month, channel, priority and team: what this compact "
                  "workbook's formulas read.",
    "Escalation Log": "Every activity on escalated tickets, with the hours until the next one.",
}


def write_about(ctx: BuildContext, ws: Worksheet, *, command: str | None, sheets: list[str]) -> None:
    f = ctx.formats
    manifest = ctx.dataset.manifest
    start, end = ctx.dataset.period
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 90)
    ws.set_column(2, 2, 60)
    ws.write_string(0, 0, "About this workbook", f.get("title"))
    rows = [
        ("Report", ctx.template.title),
        ("Produced by", f"supportxl {__version__}"),
        ("Data source", describe_source(manifest)),
        ("Period", f"{start:%d %b %Y} to {end:%d %b %Y}"),
        ("Data as of", f"{ctx.as_of:%Y-%m-%d %H:%M}"),
        ("Tickets", f"{len(ctx.frame):,}"),
        ("Template", f"{ctx.template.name} ({ctx.template.source})"),
        ("Seed", str(manifest.get("seed", "not applicable"))),
        ("Regenerate with", command or "not recorded"),
    ]
    if "mapping" in manifest:
        rows.append(("Import", f"{manifest.get('reason') or manifest['mapping']}; timestamps in "
                               f"{manifest.get('timezone', 'UTC')}"
                               + ("; names and e-mails pseudonymised" if manifest.get("redacted") else "")
                               + "; findings on the Data Quality sheet"))
    if "Plan" in sheets:
        handle = ctx.model.handle_time
        rows.append(("Handle time (Plan)", f"{handle.minutes:g} min per ticket: {handle.describe()}"))
    if "parameters" in manifest:
        rows.append(("Generator parameters", json.dumps(manifest["parameters"], sort_keys=True)))
    part = manifest.get("slice")
    if part:
        rows.append((f"Slice ({part['by']})", str(part["value"])))
    row = 2
    for label, value in rows:
        ws.write_string(row, 0, label, f.get("label"))
        ws.write_string(row, 1, value, f.get("wrap"))
        if label == "Period":
            ctx.workbook.define_name(PERIOD_NAME, "=" + on_sheet(ws.get_name(), absolute(row, 1)))
        row += 1
    if part:  # where 'supportxl send' finds which slice this workbook holds
        ctx.workbook.define_name(SLICE_NAME, "=" + on_sheet(ws.get_name(), absolute(row - 1, 1)))

    row += 1
    ws.write_string(row, 0, "Sheets", f.get("section"))
    row += 1
    for name in sheets:
        ws.write_string(row, 0, name, f.get("label"))
        ws.write_string(row, 1, SHEET_GUIDE.get(name, ""), f.get("wrap"))
        row += 1

    row += 1
    ws.write_string(row, 0, "KPI definitions", f.get("section"))
    row += 1
    for j, header in enumerate(("KPI", "Definition", "Formula over the whole Tickets table")):
        ws.write_string(row, j, header, f.get("header"))
    row += 1
    for item in CATALOGUE:
        ws.write_string(row, 0, item.name, f.get("label"))
        ws.write_string(row, 1, item.definition, f.get("wrap"))
        ws.write_string(row, 2, item.excel(), f.get("note"))
        row += 1
    for name, definition, formula in PLAN_DEFINITIONS if "Plan" in sheets else ():
        ws.write_string(row, 0, name, f.get("label"))
        ws.write_string(row, 1, definition, f.get("wrap"))
        ws.write_string(row, 2, formula, f.get("note"))
        row += 1

    row = write_rules(ctx, ws, row + 1)

    if ctx.compact:
        row += 1
        ws.write_string(row, 0, "Compact workbook", f.get("section"))
        notes = ["Formulas read the Aggregates sheet instead of ticket rows, so the file stays small "
                 "and the Dashboard filters keep working.",
                 "SLA flags and the CSAT threshold were applied when the aggregates were made: "
                 "editing Settings changes target colours, not breach counts."]
        if ctx.values_only:
            notes.append("Written as values, not live (they need every ticket): "
                         + ", ".join(sorted(ctx.values_only)) + ", and month-end backlogs.")
        for note in notes:
            row += 1
            ws.write_string(row, 1, note, f.get("wrap"))
        row += 1

    if ctx.warnings:
        row += 1
        ws.write_string(row, 0, "Warnings", f.get("section"))
        for warning in ctx.warnings:
            row += 1
            ws.write_string(row, 1, warning, f.get("wrap"))


def write_rules(ctx: BuildContext, ws: Worksheet, row: int) -> int:
    """How the numbers are counted, and the KPIs this source cannot give; returns the next row."""
    f = ctx.formats
    ws.write_string(row, 0, "How the numbers are counted", f.get("section"))
    for label, text in RULES:
        row += 1
        ws.write_string(row, 0, label, f.get("label"))
        ws.write_string(row, 1, text, f.get("wrap"))
    row = write_unavailable(ctx, ws, row + 2)
    return row


def write_unavailable(ctx: BuildContext, ws: Worksheet, row: int) -> int:
    """The KPIs shown as n/a, with why; returns the next free row."""
    missing = ctx.model.unavailable_kpis()
    if not missing:
        return row
    f = ctx.formats
    ws.write_string(row, 0, "KPIs not available from this source", f.get("section"))
    for item, reason in missing:
        row += 1
        ws.write_string(row, 0, item.name, f.get("label"))
        ws.write_string(row, 1, f"n/a: {reason}", f.get("wrap"))
    return row + 1


def describe_source(manifest: dict) -> str:
    """Where the data came from, in a few words, with the slice of a split workbook."""
    if manifest.get("source") == "generator":
        text = (f"supportxl generator, scenario '{manifest.get('parameters', {}).get('name', '?')}' "
                f"(synthetic data)")
    else:
        text = str(manifest.get("source", "unknown"))
    part = manifest.get("slice")
    return text + (f"; only {part['by']} {part['value']}" if part else "")
