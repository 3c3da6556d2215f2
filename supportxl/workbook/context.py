"""What every sheet builder gets: the workbook, the formats, the data and the template."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from supportxl.dataset import Dataset
from supportxl.metrics.cube import CUBE_FORMULAS
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
    values_only: set[str] = field(default_factory=set)  # KPIs written as values (compact workbooks)
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

    @property
    def compact(self) -> bool:
        """Formulas read the aggregate Cube table instead of the ticket rows."""
        return self.template.compact

    def kpi_formula(self, kpi: Kpi, criteria: Sequence[Criterion] = ()) -> str | None:
        """``kpi``'s formula over the slice (without '='), or None where it can only be a value."""
        if not self.compact:
            return kpi.formula(criteria)
        make = CUBE_FORMULAS.get(kpi.key)
        if make is None:
            self.values_only.add(kpi.name)
            return None
        return make(criteria)

    def write_live(self, ws: Worksheet, row: int, col: int, formula: str | None, value: Any,
                   fmt=None, *, array: bool = False) -> None:
        """A formula with its cached value, or the value alone where no formula can be live."""
        if formula is not None:
            self.write_formula(ws, row, col, "=" + formula.removeprefix("="), value, fmt, array=array)
        elif value is None:
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, str):
            ws.write_string(row, col, value, fmt)
        else:
            ws.write_number(row, col, value, fmt)

    def write_kpi(self, ws: Worksheet, row: int, col: int, kpi: Kpi,
                  criteria: Sequence[Criterion] = (), fmt=None) -> Any:
        """Write ``kpi`` over the slice ``criteria`` as a live formula with its pandas value."""
        value = kpi.compute(self.slice(criteria), self.template)
        self.write_live(ws, row, col, self.kpi_formula(kpi, criteria), value,
                        fmt if fmt is not None else self.formats.get("cell", kpi.fmt),
                        array=kpi.array and not self.compact)
        return value
