"""What every sheet builder gets: the workbook, the formats, the data and the template."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from supportxl.dataset import Dataset
from supportxl.metrics.kpis import Criterion, Kpi, mask_of
from supportxl.template import ReportTemplate
from supportxl.workbook.ranges import cell
from supportxl.workbook.theme import Formats


@dataclass
class BuildContext:
    workbook: Workbook
    formats: Formats
    dataset: Dataset
    frame: pd.DataFrame  # the derived ticket table
    template: ReportTemplate
    events: pd.DataFrame  # the escalation log with step durations and ticket fields
    sheets: dict[str, Worksheet] = field(default_factory=dict)
    grids: dict[str, dict[str, Any]] = field(default_factory=dict)  # sheet -> grid key -> Grid
    warnings: list[str] = field(default_factory=list)
    _slices: dict[tuple, pd.DataFrame] = field(default_factory=dict, repr=False)

    def slice(self, criteria: Sequence[Criterion]) -> pd.DataFrame:
        """The tickets matching ``criteria``; each distinct slice is cut once per build."""
        key = tuple(c.token for c in criteria)
        if key not in self._slices:
            self._slices[key] = self.frame[mask_of(self.frame, criteria)] if criteria else self.frame
        return self._slices[key]

    def write_formula(self, ws: Worksheet, row: int, col: int, formula: str, value: Any,
                      fmt=None, *, array: bool = False) -> None:
        """A formula with its cached value (None is written as an empty result)."""
        cached = "" if value is None else value
        if array:
            ref = cell(row, col)
            ws.write_array_formula(f"{ref}:{ref}", "{" + formula + "}", fmt, cached)
        else:
            ws.write_formula(row, col, formula, fmt, cached)

    def write_kpi(self, ws: Worksheet, row: int, col: int, kpi: Kpi,
                  criteria: Sequence[Criterion] = (), fmt=None) -> Any:
        """Write ``kpi`` over the slice ``criteria`` as a live formula with its pandas value."""
        value = kpi.compute(self.slice(criteria), self.template)
        self.write_formula(ws, row, col, kpi.excel(criteria), value,
                           fmt if fmt is not None else self.formats.get("cell", kpi.fmt),
                           array=kpi.array)
        return value
