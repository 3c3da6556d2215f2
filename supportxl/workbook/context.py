"""What every sheet builder gets: the workbook, the formats, the report model and the template."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from supportxl.dataset import Dataset
from supportxl.metrics.cube import cube_backlog_at_formula, cube_formula, cube_resolved_in_month_formula
from supportxl.metrics.kpis import (NOT_AVAILABLE, Criterion, Kpi, Value, backlog_at_formula,
                                    resolved_between_formula)
from supportxl.model import ReportModel
from supportxl.template import ReportTemplate
from supportxl.workbook.ranges import cell
from supportxl.workbook.theme import Formats


@dataclass
class BuildContext:
    workbook: Workbook
    formats: Formats
    model: ReportModel
    sheets: dict[str, Worksheet] = field(default_factory=dict)
    grids: dict[str, dict[str, Any]] = field(default_factory=dict)  # sheet -> grid key -> Grid
    values_only: set[str] = field(default_factory=set)  # KPIs written as values (compact workbooks)
    warnings: list[str] = field(default_factory=list)
    # (sheet, column key) -> the column as its cells hold it, made ahead of its sheet (the pivot
    # cache reads the Tickets columns before that sheet is written, which then takes them)
    cells: dict[tuple[str, str], tuple[str, Any]] = field(default_factory=dict)

    @property
    def dataset(self) -> Dataset:
        return self.model.dataset

    @property
    def template(self) -> ReportTemplate:
        return self.model.template

    @property
    def frame(self) -> pd.DataFrame:
        """The derived ticket table."""
        return self.model.frame

    @property
    def events(self) -> pd.DataFrame:
        """The escalation log with step durations and ticket fields."""
        return self.model.events

    @property
    def as_of(self) -> pd.Timestamp:
        return self.model.as_of

    def value(self, kpi: Kpi, criteria: Sequence[Criterion] = ()) -> Value:
        """``kpi`` over the slice, from the report model."""
        return self.model.value(kpi, criteria)

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
        formula = cube_formula(kpi, criteria)
        if formula is None:
            self.values_only.add(kpi.name)
        return formula

    def backlog_at_formula(self, boundary_ref: str, criteria: Sequence[Criterion] = ()) -> str:
        """Tickets in the slice open at the moment in ``boundary_ref``, live in every workbook."""
        make = cube_backlog_at_formula if self.compact else backlog_at_formula
        return make(boundary_ref, criteria)

    def resolved_in_month_formula(self, month_ref: str, criteria: Sequence[Criterion] = ()) -> str:
        """Tickets in the slice resolved in the month starting at ``month_ref``, whenever created."""
        if self.compact:
            return cube_resolved_in_month_formula(month_ref, criteria)
        return resolved_between_formula(month_ref, f"EDATE({month_ref},1)", criteria)

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
                  criteria: Sequence[Criterion] = (), fmt=None) -> Value:
        """Write ``kpi`` over the slice ``criteria`` as a live formula with the model's value;
        "n/a" where the source lacks what the KPI needs."""
        fmt = fmt if fmt is not None else self.formats.get("cell", kpi.fmt)
        if self.model.unavailable(kpi):
            ws.write_string(row, col, NOT_AVAILABLE, fmt)
            return None
        value = self.value(kpi, criteria)
        self.write_live(ws, row, col, self.kpi_formula(kpi, criteria), value, fmt,
                        array=kpi.array and not self.compact)
        return value
