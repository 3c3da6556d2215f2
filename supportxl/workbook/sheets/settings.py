"""Settings: the SLA policy, CSAT threshold and targets that drive the workbook's formulas."""

from __future__ import annotations

import dataclasses

from xlsxwriter.worksheet import Worksheet

from supportxl.dataset import STATED_BUSINESS_HOURS
from supportxl.schema import PRIORITIES, SLA_COLUMNS, SLA_TABLE, column
from supportxl.metrics.derive import data_calendar
from supportxl.metrics.kpis import AS_OF_NAME, BREACH_HOURS_CAP_NAME, CSAT_GOOD_NAME, MATURITY_NAME
from supportxl.metrics.staffing import ANSWER_HOURS_NAME, HANDLE_MINUTES_NAME, SERVICE_LEVEL_NAME
from supportxl.workbook.context import BuildContext
from supportxl.workbook.ranges import absolute, on_sheet
from supportxl.workbook.sheets.data import excel_serial

TARGET_LABELS = {
    "resolution_compliance": ("Resolution SLA % target", "percent"),
    "response_compliance": ("Response SLA % target", "percent"),
    "csat": ("CSAT % target", "percent"),
    "escalation_rate": ("Escalation % ceiling", "percent"),
    "reopen_rate": ("Reopen % ceiling", "percent"),
    "fcr": ("FCR % target", "percent"),
    "median_first_response_hours": ("Median first response target (h)", "hours"),
    "median_resolution_hours": ("Median resolution target (h)", "hours"),
}
TARGETS_TABLE = "Targets"


def target_name(field: str) -> str:
    """The defined name of a target cell, e.g. ``Target_csat``."""
    return f"Target_{field}"


def write_settings(ctx: BuildContext, ws: Worksheet) -> None:
    f = ctx.formats
    sheet = ws.get_name()
    ws.set_column(0, 0, 36)
    ws.set_column(1, 4, 22)
    ws.set_column(5, 5, 60)
    ws.write_string(0, 0, "Settings", f.get("title"))
    ws.write_string(1, 0, "Edit the yellow cells: SLA flags on Tickets, every summary and the "
                          "dashboard recalculate from them.", f.get("subtitle"))

    ws.write_string(3, 0, "SLA policy", f.get("section"))
    sla = ctx.template.sla
    top = 4
    ws.add_table(top, 0, top + len(PRIORITIES), len(SLA_COLUMNS) - 1, {
        "name": SLA_TABLE, "style": f.theme.table_style,
        "columns": [{"header": c.header, "header_format": f.get("header")} for c in SLA_COLUMNS],
    })
    for i, priority in enumerate(PRIORITIES, start=top + 1):
        ws.write_string(i, 0, priority, f.get("label"))
        ws.write_number(i, 1, sla.first_response_hours[priority], f.get("input", "hours"))
        ws.write_number(i, 2, sla.resolution_hours[priority], f.get("input", "hours"))
        ws.write_number(i, 3, sla.cost_per_breach[priority], f.get("input", "currency"))
        ws.write_number(i, 4, sla.cost_per_breach_hour[priority], f.get("input", "currency"))

    row = top + len(PRIORITIES) + 2
    ws.write_string(row, 0, "Thresholds and targets", f.get("section"))
    row += 1
    rows = [("CSAT 'good' threshold (1-5)", CSAT_GOOD_NAME, ctx.template.csat_good_threshold, "int"),
            ("Hours over target charged per ticket (cap)", BREACH_HOURS_CAP_NAME, sla.breach_hours_cap, "hours"),
            ("Days before a month counts as complete", MATURITY_NAME, ctx.template.maturity_days, "int")]
    targets = ctx.template.targets
    rows += [(label, target_name(field.name), getattr(targets, field.name), fmt)
             for field in dataclasses.fields(targets)
             for label, fmt in [TARGET_LABELS[field.name]]]
    ws.add_table(row, 0, row + len(rows), 2, {
        "name": TARGETS_TABLE, "style": f.theme.table_style,
        "columns": [{"header": h, "header_format": f.get("header")}
                    for h in ("Setting", "Value", "Defined name")],
    })
    row += 1
    for label, name, value, fmt in rows:
        ws.write_string(row, 0, label, f.get("label"))
        ws.write_number(row, 1, value, f.get("input", fmt))
        ws.write_string(row, 2, name)
        ctx.workbook.define_name(name, "=" + on_sheet(sheet, absolute(row, 1)))
        row += 1

    row += 1
    ws.write_string(row, 0, "Report", f.get("section"))
    row += 1
    ws.write_string(row, 0, "Data as of", f.get("label"))
    ws.write_number(row, 1, excel_serial(ctx.as_of), f.get("plain", "datetime"))
    ctx.workbook.define_name(AS_OF_NAME, "=" + on_sheet(sheet, absolute(row, 1)))
    row += 1
    ws.write_string(row, 0, "SLA clock", f.get("label"))
    ws.write_string(row, 1, _clock_description(ctx))
    if "Plan" in ctx.template.sheets:
        _write_plan_assumptions(ctx, ws, row + 2)


def _write_plan_assumptions(ctx: BuildContext, ws: Worksheet, row: int) -> None:
    """What the Plan sheet's staffing table assumes: two inputs and the answer-time target,
    which follows the first-response targets above."""
    f = ctx.formats
    sheet = ws.get_name()
    plan = ctx.template.plan
    handle = ctx.model.handle_time
    ws.write_string(row, 0, "Planning (the Plan sheet's staffing table)", f.get("section"))
    inputs = (("Service level target (share answered in time)", SERVICE_LEVEL_NAME, plan.service_level,
               "percent", ""),
              ("Handle time per ticket (min)", HANDLE_MINUTES_NAME, handle.minutes, "score",
               handle.sentence()))
    for label, name, value, fmt, note in inputs:
        row += 1
        ws.write_string(row, 0, label, f.get("label"))
        ws.write_number(row, 1, value, f.get("input", fmt))
        ws.write_string(row, 2, name)
        if note:
            ws.write_string(row, 4, note, f.get("note"))
        ctx.workbook.define_name(name, "=" + on_sheet(sheet, absolute(row, 1)))
    row += 1
    ws.write_string(row, 0, "Answer-time target (h)", f.get("label"))
    ctx.write_formula(ws, row, 1, f'=IFERROR(AVERAGE({column("response_target").ref}),"")',
                      ctx.model.staffing.answer_hours, f.get("plain", "hours"))
    ws.write_string(row, 2, ANSWER_HOURS_NAME)
    ws.write_string(row, 4, "The tickets' mean first-response target: follows the SLA table.", f.get("note"))
    ctx.workbook.define_name(ANSWER_HOURS_NAME, "=" + on_sheet(sheet, absolute(row, 1)))


def _clock_description(ctx: BuildContext) -> str:
    cal = data_calendar(ctx.template, ctx.dataset)
    if cal is None:
        return "Calendar hours (no business calendar set)"
    days = ", ".join(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d] for d in cal.working_days)
    text = (f"Business hours: {days} {_clock(cal.start_hour)}-{_clock(cal.end_hour)} {cal.timezone}, "
            f"{len(cal.holidays)} holiday(s)")
    if cal.data_timezone != cal.timezone:
        text += f"; timestamps recorded in {cal.data_timezone}"
    if any(column in ctx.dataset.tickets for column in STATED_BUSINESS_HOURS.values()):
        text += "; durations the export states in business hours are used as stated"
    return text


def _clock(hours: float) -> str:
    minutes = round(hours * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
