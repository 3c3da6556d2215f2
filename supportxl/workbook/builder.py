"""Build the workbook: sheets in template order, written to a temporary file, then renamed."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

from supportxl.dataset import Dataset
from supportxl.metrics.derive import derive_tickets
from supportxl.fileio import atomic_write
from supportxl.progress import NoProgress, Progress
from supportxl.template import ReportTemplate, load_template
from supportxl.workbook.context import BuildContext
from supportxl.workbook.sheets import data, summaries
from supportxl.workbook.sheets.about import write_about
from supportxl.workbook.sheets.data import check_rows
from supportxl.workbook.sheets.settings import write_settings
from supportxl.workbook.theme import Formats, Theme
from supportxl.workbook.worksheet import FastWorksheet

WORKBOOK_OPTIONS = {
    # User text is always text: never a formula, a number or a hyperlink.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}

SheetWriter = Callable[[BuildContext, object], object]
SHEETS: tuple[tuple[str, SheetWriter], ...] = (
    ("Trend", summaries.write_trend),
    ("Channels", summaries.write_channels),
    ("SLA", summaries.write_sla),
    ("Segments", summaries.write_segments),
    ("Top Accounts", summaries.write_top_accounts),
    ("Agent Performance", summaries.write_agents_summary),
    ("Heatmap", summaries.write_heatmap),
    ("Backlog", summaries.write_backlog),
    ("Settings", write_settings),
    ("About", None),  # written last: it lists what the others warned about
    ("Tickets", data.write_tickets),
    ("Accounts", data.write_accounts),
    ("Agents", data.write_agents),
    ("Escalation Log", data.write_escalation_log),
)
BUILD_STEPS = len(SHEETS) + 2


@dataclass(frozen=True)
class BuildResult:
    path: Path
    sheets: list[str]
    tickets: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


def build_workbook(dataset: Dataset, out: Path, template: ReportTemplate | None = None, *,
                   command: str | None = None, progress: Progress | None = None) -> BuildResult:
    """Write the dashboard workbook for ``dataset`` to ``out``; identical inputs, identical bytes."""
    began = time.perf_counter()
    progress = progress or NoProgress()
    template = template or load_template()
    check_rows("Tickets", len(dataset.tickets))
    check_rows("Escalation Log", len(dataset.escalation_events))
    frame = derive_tickets(dataset, template)
    progress.step("Computing durations and SLA flags")
    warnings: list[str] = []
    names = [name for name, _ in SHEETS]

    def write(path: str) -> None:
        workbook = xlsxwriter.Workbook(path, WORKBOOK_OPTIONS)
        workbook.set_properties({
            "title": template.title, "subject": "Support performance", "author": "supportxl",
            "created": dt.datetime.combine(dataset.as_of.date(), dt.time()),
        })
        ctx = BuildContext(workbook, Formats(workbook, Theme()), dataset, frame, template, warnings)
        sheets = {name: workbook.add_worksheet(name, worksheet_class=FastWorksheet) for name in names}
        for name, writer in SHEETS:
            if writer is not None:
                progress.step(f"Writing {name}")
                writer(ctx, sheets[name])
        write_about(ctx, sheets["About"], command=command, sheets=names)
        progress.step("Saving the workbook")
        workbook.close()

    atomic_write(Path(out), write)
    progress.step("Done")
    return BuildResult(Path(out), names, len(frame), time.perf_counter() - began, warnings)
