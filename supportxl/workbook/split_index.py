"""The index of a split: one row per slice workbook with its headline KPIs and a link to it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from supportxl.fileio import atomic_write
from supportxl.metrics.kpis import Criterion, kpi
from supportxl.model import ReportModel
from supportxl.workbook.builder import WORKBOOK_OPTIONS, print_setup
from supportxl.workbook.package import PackagedWorkbook
from supportxl.workbook.sheets.data import clean_value
from supportxl.workbook.theme import Formats

INDEX_KPIS = ("tickets", "frt_median", "ttr_median", "resolution_compliance", "csat", "escalation_rate",
              "backlog", "breach_cost")
INDEX_TABLE = "Slices"


def write_index(model: ReportModel, by: str, column: str, slices: list[tuple[str, Path]], out: Path) -> Path:
    """``out``: a table of the slices (value, link to its workbook, headline KPIs) and the total.
    The KPIs are the report model's values over each slice (``column`` equal to its value)."""
    dataset, template = model.dataset, model.template
    start, end = dataset.period
    kpis = [kpi(k) for k in INDEX_KPIS]
    total_tickets = len(model.frame)

    def write(path: str) -> None:
        workbook = PackagedWorkbook(path, WORKBOOK_OPTIONS)
        workbook.set_properties({"title": f"{template.title}: one workbook per {by}", "author": "supportxl",
                                 "created": dt.datetime.combine(dataset.as_of.date(), dt.time())})
        f = Formats(workbook, template.theme)
        ws = workbook.add_worksheet("Index")
        ws.write_string(0, 0, f"{template.title}: one workbook per {by}", f.get("title"))
        ws.write_string(1, 0, f"Period {start:%d %b %Y} to {end:%d %b %Y}. Each workbook holds only its "
                              f"{by}'s tickets; the figures here are the values its Dashboard opens with.",
                        f.get("subtitle"))
        headers = [by.capitalize(), "Workbook", "Share of tickets", *(k.name for k in kpis)]
        top = 3
        last = top + len(slices) + 1
        ws.add_table(top, 0, last, len(headers) - 1, {
            "name": INDEX_TABLE, "style": f.theme.table_style, "total_row": False,
            "columns": [{"header": h, "header_format": f.get("header")} for h in headers],
        })
        rows = [(value, path.name, [Criterion(column, "", "", "==", value)]) for value, path in slices]
        rows.append(("All", None, []))
        for i, (value, link, part) in enumerate(rows, start=top + 1):
            style = "total" if link is None else "plain"
            ws.write_string(i, 0, clean_value(value, "Index", []), f.get(style))
            if link is None:
                ws.write_blank(i, 1, None, f.get(style))
            else:
                ws.write_url(i, 1, f"external:{link}", f.get(style, font_color="primary", underline=1), link)
            share = model.value(kpi("tickets"), part) / total_tickets if total_tickets else 0
            ws.write_number(i, 2, share, f.get(style, "percent"))
            for j, item in enumerate(kpis, start=3):
                value = model.value(item, part)
                if value is None:
                    ws.write_blank(i, j, None, f.get(style, item.fmt))
                else:
                    ws.write_number(i, j, float(value), f.get(style, item.fmt))
        ws.set_column(0, 0, 28)
        ws.set_column(1, 1, 30)
        ws.set_column(2, len(headers) - 1, 14)
        ws.set_row(top, 30)
        ws.freeze_panes(top + 1, 1)
        print_setup(ws, template.title, repeat_header=False)
        workbook.close()

    return atomic_write(out, write)
