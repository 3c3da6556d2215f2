"""Insights: ranked findings with their numbers, evidence links and recommendations."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from supportxl.metrics.insights import findings
from supportxl.workbook.context import BuildContext
from supportxl.workbook.catalogue import FINDINGS_NAME
from supportxl.workbook.ranges import area, cell, on_sheet

HEADERS = (("Rank", 6), ("Finding", 22), ("What the data shows", 60), ("Evidence", 18),
           ("Recommendation", 50), ("Expected effect", 34))


def write_insights(ctx: BuildContext, ws: Worksheet) -> list:
    f = ctx.formats
    found = findings(ctx.model)
    ws.write_string(0, 0, "Insights", f.get("title"))
    ws.write_string(1, 0, "Computed from this workbook's data, most important first. Every number "
                          "comes from the data; the evidence links to the grid it is read from.",
                    f.get("subtitle"))
    for j, (header, width) in enumerate(HEADERS):
        ws.write_string(3, j, header, f.get("header"))
        ws.set_column(j, j, width)
    wrap = f.get("wrap", border=1, border_color="#D9D9D9")
    for rank, finding in enumerate(found, start=1):
        row = 3 + rank
        ws.set_row(row, 64)
        ws.write_number(row, 0, rank, f.get("label", "int", valign="top", align="center"))
        ws.write_string(row, 1, finding.title, f.get("label", text_wrap=True, valign="top"))
        ws.write_string(row, 2, finding.sentence, wrap)
        sheet, key = finding.evidence
        grid = ctx.grids.get(sheet, {}).get(key)
        target = None if grid is None else on_sheet(sheet, cell(grid.header_row, grid.label_col))
        if target is None and "Dashboard" in ctx.sheets:
            # The cards, or a grid this (compact) workbook does not have: the Dashboard's cards.
            sheet, target = "Dashboard", on_sheet("Dashboard", "A1")
        if target is not None:
            ws.write_url(row, 3, f"internal:{target}", f.get("plain", font_color="accent", underline=1,
                                                              valign="top", text_wrap=True),
                         string=f"{sheet} ›", tip=f"Go to the grid on {sheet}")
        else:
            ws.write_string(row, 3, "", wrap)
        ws.write_string(row, 4, finding.recommendation, wrap)
        ws.write_string(row, 5, finding.effect[0].upper() + finding.effect[1:] + ".", wrap)
    if found:
        ctx.workbook.define_name(FINDINGS_NAME, "=" + on_sheet(ws.get_name(), area(4, 1, 3 + len(found), 2)))
    ws.freeze_panes(4, 0)
    return found
