"""A comparison workbook: two datasets' KPIs side by side, their monthly trends, and the
escalation flow before and after — the pre/post evaluation of a process change.

Each side's numbers are computed once with the KPI catalogue's pandas side and written as
values; the changes are live formulas over them, with their cached values.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from supportxl import __version__
from supportxl.dataset import Dataset
from supportxl.fileio import atomic_write
from supportxl.model import ReportModel, plan
from supportxl.metrics.kpis import CATALOGUE, Criterion, Kpi, kpi
from supportxl.template import ReportTemplate, load_template
from supportxl.workbook.builder import WORKBOOK_OPTIONS, BuildResult, print_setup
from supportxl.workbook.charts import _axes, _new
from supportxl.workbook.context import BuildContext
from supportxl.workbook.package import PackagedWorkbook
from supportxl.workbook.ranges import cell
from supportxl.workbook.theme import Formats
from supportxl.workbook.worksheet import FastWorksheet

TREND_KPIS = ("tickets", "ttr_median", "resolution_breach_rate", "csat", "escalation_rate")
FLOW_KPIS = ("escalation_rate", "escalate_median", "tier3_median", "handoffs_mean")


@dataclass(frozen=True)
class Side:
    label: str
    model: ReportModel


def _side(label: str, dataset: Dataset, template: ReportTemplate) -> Side:
    return Side(label, plan(dataset, template))


def build_comparison(before: Dataset, after: Dataset, out: Path, *, labels: tuple[str, str] = ("A", "B"),
                     template: ReportTemplate | None = None, command: str | None = None) -> BuildResult:
    """Write the comparison workbook of ``before`` (A) and ``after`` (B) to ``out``."""
    began = time.perf_counter()
    template = template or load_template()
    a, b = _side(labels[0], before, template), _side(labels[1], after, template)
    sheets = ["Comparison", "Monthly", "Escalation flow", "About"]

    def write(path: str) -> None:
        workbook = PackagedWorkbook(path, WORKBOOK_OPTIONS)
        workbook.set_properties({"title": f"{template.title}: {a.label} vs {b.label}",
                                 "author": "supportxl",
                                 "created": dt.datetime.combine(b.model.as_of.date(), dt.time())})
        ctx = BuildContext(workbook, Formats(workbook, template.theme), b.model)
        ws = {name: workbook.add_worksheet(name, worksheet_class=FastWorksheet) for name in sheets}
        _kpi_sheet(ctx, ws["Comparison"], a, b)
        _monthly_sheet(ctx, ws["Monthly"], a, b)
        _flow_sheet(ctx, ws["Escalation flow"], a, b)
        _about_sheet(ctx, ws["About"], a, b, command)
        for sheet in ws.values():
            print_setup(sheet, f"{template.title}: {a.label} vs {b.label}", repeat_header=False)
        workbook.close()

    atomic_write(Path(out), write)
    return BuildResult(Path(out), sheets, len(a.model.frame) + len(b.model.frame), time.perf_counter() - began)


Row = tuple[str, str, str | None]  # what is measured, its number format, which way is better


def _rows(items: list[Kpi]) -> list[Row]:
    return [(item.name, item.fmt, item.better) for item in items]


def _pair_table(ctx: BuildContext, ws, top: int, title: str, items: list[Row], a: Side, b: Side,
                values_a: list, values_b: list) -> int:
    """Measure | A | B | change | change %: the change columns are live formulas. Returns the next row."""
    f = ctx.formats
    ws.write_string(top, 0, title, f.get("section"))
    headers = ("Measure", a.label, b.label, "Change", "Change %")
    for j, text in enumerate(headers):
        ws.write_string(top + 1, j, text, f.get("header"))
    for i, ((name, fmt, better), va, vb) in enumerate(zip(items, values_a, values_b), start=top + 2):
        ws.write_string(i, 0, name, f.get("label"))
        for j, value in ((1, va), (2, vb)):
            _number(ws, i, j, value, f.get("cell", fmt))
        change = None if va is None or vb is None else vb - va
        relative = None if change is None or not va else vb / va - 1
        ctx.write_formula(ws, i, 3, f'=IFERROR({cell(i, 2)}-{cell(i, 1)},"")', change, f.get("cell", fmt))
        ctx.write_formula(ws, i, 4, f'=IFERROR({cell(i, 2)}/{cell(i, 1)}-1,"")', relative,
                          f.get("cell", "percent"))
        if better:
            good, bad = (">", "<") if better == "higher" else ("<", ">")
            ref = cell(i, 3)
            for op, style in ((good, "good"), (bad, "bad")):
                ws.conditional_format(i, 3, i, 4, {"type": "formula", "format": f.get(style),
                                                   "criteria": f"=AND(ISNUMBER(${ref}),${ref}{op}0)"})
    return top + 2 + len(items) + 2


def _number(ws, row: int, col: int, value, fmt) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _kpi_sheet(ctx: BuildContext, ws, a: Side, b: Side) -> None:
    f = ctx.formats
    ws.set_column(0, 0, 34)
    ws.set_column(1, 4, 14)
    ws.write_string(0, 0, f"{ctx.template.title}: {a.label} vs {b.label}", f.get("title"))
    ws.write_string(1, 0, "Green: the change goes the way the KPI should; red: the other way.", f.get("subtitle"))
    items = list(CATALOGUE)
    _pair_table(ctx, ws, 3, "Every KPI", _rows(items), a, b,
                [a.model.value(k) for k in items], [b.model.value(k) for k in items])
    ws.freeze_panes(5, 1)


def _monthly_sheet(ctx: BuildContext, ws, a: Side, b: Side) -> None:
    """Month by month (aligned by position, so two different years compare), both sides."""
    f = ctx.formats
    months_a = sorted(a.model.frame["month"].unique())
    months_b = sorted(b.model.frame["month"].unique())
    rows = max(len(months_a), len(months_b))
    ws.write_string(0, 0, "Monthly trends", f.get("title"))
    ws.write_string(1, 0, f"Month n of {a.label} beside month n of {b.label}.", f.get("subtitle"))
    headers = ["Month", f"{a.label} month", f"{b.label} month"]
    for key in TREND_KPIS:
        headers += [f"{kpi(key).name} {a.label}", f"{kpi(key).name} {b.label}"]
    for j, text in enumerate(headers):
        ws.write_string(3, j, text, f.get("header"))
    ws.set_row(3, 42)
    ws.set_column(0, 2, 11)
    ws.set_column(3, len(headers), 13)
    for i in range(rows):
        row = 4 + i
        ws.write_number(row, 0, i + 1, f.get("label", "int"))
        for j, (side, months) in enumerate(((a, months_a), (b, months_b))):
            if i < len(months):
                month = pd.Timestamp(months[i])
                ws.write_string(row, 1 + j, f"{month:%b %Y}", f.get("cell"))
                in_month = [Criterion("month", "", "", "==", month)]
                for k, key in enumerate(TREND_KPIS):
                    _number(ws, row, 3 + 2 * k + j, side.model.value(kpi(key), in_month),
                            f.get("cell", kpi(key).fmt))
    colours = ctx.formats.theme.series
    for k, key in enumerate(TREND_KPIS[:4]):
        chart = _new(ctx, "line", f"{kpi(key).name}: {a.label} and {b.label}")
        for j, colour in ((0, colours[2]), (1, colours[4])):
            col = 3 + 2 * k + j
            chart.add_series({"name": ["Monthly", 3, col], "categories": ["Monthly", 4, 0, 3 + rows, 0],
                              "values": ["Monthly", 4, col, 3 + rows, col],
                              "line": {"color": colour, "width": 2.25}, "marker": {"type": "circle", "size": 4}})
        _axes(chart, "Month of the period", kpi(key).name, "0%" if kpi(key).fmt == "percent" else "#,##0")
        ws.insert_chart(6 + rows + (k // 2) * 17, (k % 2) * 6, chart)


def _flow_sheet(ctx: BuildContext, ws, a: Side, b: Side) -> None:
    """Escalation flow before and after: stage times, time to escalate, hand-offs, CSAT."""
    f = ctx.formats
    ws.set_column(0, 0, 34)
    ws.set_column(1, 4, 14)
    ws.write_string(0, 0, "Escalation flow", f.get("title"))
    ws.write_string(1, 0, "Escalated tickets only, except the escalation rate.", f.get("subtitle"))

    escalated = [Criterion("escalated", "", "", "==", "Yes")]
    items = [kpi(k) for k in FLOW_KPIS] + [kpi("ttr_median"), kpi("csat"), kpi("csat_mean")]
    values = {}
    for side in (a, b):
        values[side.label] = [side.model.value(kpi("escalation_rate"))] + [
            side.model.value(item, escalated) for item in items[1:]]
    row = _pair_table(ctx, ws, 3, "Escalated tickets", _rows(items), a, b, values[a.label], values[b.label])

    stages = [s for s in dict.fromkeys([*a.model.events["activity"], *b.model.events["activity"]])
              if s != "Resolution Confirmation"]
    means = {side.label: side.model.step_hours()["mean"] for side in (a, b)}
    _pair_table(ctx, ws, row, "Mean hours in each escalation step", [(s, "hours", "lower") for s in stages], a, b,
                [_mean(means[a.label], s) for s in stages], [_mean(means[b.label], s) for s in stages])


def _mean(series: pd.Series, key: str):
    value = series.get(key)
    return None if value is None or pd.isna(value) else float(value)


def _about_sheet(ctx: BuildContext, ws, a: Side, b: Side, command: str | None) -> None:
    f = ctx.formats
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 100)
    ws.write_string(0, 0, "About this comparison", f.get("title"))
    rows = [("Produced by", f"supportxl {__version__}"), ("Regenerate with", command or "not recorded")]
    for side in (a, b):
        start, end = side.model.dataset.period
        source = side.model.dataset.manifest.get("source", "unknown")
        name = side.model.dataset.manifest.get("parameters", {}).get("name")
        rows.append((side.label, f"{source}{f' scenario {name!r}' if name else ''}, "
                                 f"{len(side.model.frame):,} tickets, {start:%Y-%m-%d} to {end:%Y-%m-%d}, "
                                 f"seed {side.model.dataset.manifest.get('seed', 'n/a')}"))
    rows.append(("Template", f"{ctx.template.name} ({ctx.template.source})"))
    for i, (label, text) in enumerate(rows, start=2):
        ws.write_string(i, 0, label, f.get("label"))
        ws.write_string(i, 1, text, f.get("wrap"))
