"""The headline of a workbook for an e-mail: key Dashboard cards, the period, the top findings.

Everything is read from the values cached in the file (openpyxl, ``data_only=True``), which
the builder writes beside every formula, through the workbook's defined names: a card by
``Card_<kpi>`` (see :mod:`supportxl.workbook.sheets.dashboard`), the period by
``ReportPeriod`` and the findings by ``InsightFindings`` (:mod:`supportxl.workbook.catalogue`),
never by a header's text. What cannot be found is listed in ``Headline.missing`` in plain
words, never raised: the file is sent all the same.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.utils import range_boundaries

from supportxl.metrics.kpis import kpi
from supportxl.workbook.catalogue import FINDINGS_NAME, PERIOD_NAME, SLICE_NAME
from supportxl.workbook.sheets.dashboard import ALL, CARD_NAME, FILTER_NAME

# The cards an e-mail summarises: (KPI key, label in the e-mail).
HEADLINE_CARDS = (
    ("tickets", "Tickets"),
    ("resolution_compliance", "Resolution SLA compliance"),
    ("csat", "CSAT"),
    ("backlog", "Backlog"),
)
FILTERS = ("Period", "Channel", "Priority", "Team")
TOP_FINDINGS = 3
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Figure:
    """One headline number: its label, cached value (None when not found) and format."""

    key: str
    label: str
    value: float | None
    fmt: str

    @property
    def text(self) -> str:
        return format_value(self.value, self.fmt)


@dataclass(frozen=True)
class Finding:
    title: str
    sentence: str


@dataclass(frozen=True)
class Headline:
    """What an e-mail says about one attached file."""

    path: Path
    is_workbook: bool
    title: str | None = None
    period: str | None = None
    figures: tuple[Figure, ...] = ()
    findings: tuple[Finding, ...] = ()
    filters: tuple[tuple[str, str], ...] = ()  # Dashboard filters not set to (All) when saved
    slice_value: str | None = None
    missing: tuple[str, ...] = ()  # sentences saying what could not be found

    @property
    def found_figures(self) -> tuple[Figure, ...]:
        return tuple(f for f in self.figures if f.value is not None)


def format_value(value: float | None, fmt: str) -> str:
    """Numbers for people: 12,345; 87.3 %; 5.2 h."""
    if value is None:
        return "not found"
    if fmt == "percent":
        return f"{value * 100:.1f} %"
    if fmt == "hours":
        return f"{value:,.1f} h"
    if fmt == "score":
        return f"{value:.2f}"
    return f"{round(value):,}"


def read_headline(path: Path) -> Headline:
    """The headline of ``path``; a file that is not a supportxl workbook gets one that says so."""
    path = Path(path)
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        return Headline(path, is_workbook=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # not a zip, not a workbook, damaged: the summary is best effort
        return Headline(path, is_workbook=True, missing=(
            f"{path.name} could not be read as a workbook, so no numbers are shown for it.",))
    try:
        return _read(path, book)
    except Exception:  # a damaged sheet inside a readable file
        return Headline(path, is_workbook=True, missing=(
            f"{path.name} could not be read as a workbook, so no numbers are shown for it.",))
    finally:
        book.close()


def _read(path: Path, book) -> Headline:
    figures = tuple(Figure(key, label, _number(_named_value(book, CARD_NAME.format(key))), kpi(key).fmt)
                    for key, label in HEADLINE_CARDS)
    period = _text(_named_value(book, PERIOD_NAME))
    findings = _findings(book)
    title = _text(book.properties.title)

    missing = []
    absent = [f.label for f in figures if f.value is None]
    if absent:
        where = "" if "Dashboard" in book.sheetnames else " (it has no Dashboard sheet)"
        missing.append(f"Not found in {path.name}{where}: {', '.join(absent)}.")
    if period is None:
        missing.append(f"The period of {path.name} was not found.")
    if findings is None:
        missing.append(f"{path.name} has no Insights sheet, so no findings are listed.")
    return Headline(path, True, title=title, period=period, figures=figures, findings=findings or (),
                    filters=_filters(book), slice_value=_text(_named_value(book, SLICE_NAME)),
                    missing=tuple(missing))


def _named_cells(book, name: str) -> tuple[str, str] | None:
    """The sheet and reference (``A1`` or ``B5:C7``) a defined name points at, or None."""
    defined = book.defined_names.get(name)
    if defined is None:
        return None
    try:
        destinations = list(defined.destinations)
    except Exception:  # a name holding a constant or a formula, not a cell
        return None
    if len(destinations) != 1 or destinations[0][0] not in book.sheetnames:
        return None
    sheet, ref = destinations[0]
    return sheet, ref.replace("$", "")


def _named_value(book, name: str):
    """The cached value of the single cell a defined name points at, or None."""
    found = _named_cells(book, name)
    if found is None or ":" in found[1]:
        return None
    return book[found[0]][found[1]].value


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None  # an empty result ("") or an error value
    return value


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _filters(book) -> tuple[tuple[str, str], ...]:
    chosen = []
    for label in FILTERS:
        value = _named_value(book, FILTER_NAME.format(label.lower()))
        if value is None or value == ALL:
            continue
        if isinstance(value, (dt.datetime, dt.date)):
            value = f"{value:%b %Y}"
        chosen.append((label, str(value)))
    return tuple(chosen)


def _findings(book) -> tuple[Finding, ...] | None:
    if "Insights" not in book.sheetnames:
        return None
    found = _named_cells(book, FINDINGS_NAME)
    if found is None:
        return ()
    sheet, ref = found
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    rows = book[sheet].iter_rows(min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col,
                                 values_only=True)
    findings = [Finding(_text(row[0]), (_text(row[1]) if len(row) > 1 else None) or "")
                for row in rows if _text(row[0])]
    return tuple(findings[:TOP_FINDINGS])
