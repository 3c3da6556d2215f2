"""Native PivotTables, slicers and a timeline: the pivot cache (with its records), the pivot
table parts, the x14 slicer parts and the x15 timeline parts, added to the package XlsxWriter wrote.

XlsxWriter has no pivot tables, so the pivot parts join the package before its zip is assembled
(``PackagedWorkbook.before_zip``): the few parts XlsxWriter wrote that must know about them
(content types, the workbook, its relationships, the Pivots sheet) are edited, and the pivot
parts are added, the records deflated by a process of their own while the rest is written. The
layout of each pivot (which cells hold which item) is decided by the Pivots sheet writer, which
also writes the same cells as values, so a viewer that never refreshes a pivot shows the numbers.

Attributes Excel relies on (ECMA-376 Part 1, 18.10 PivotTable; MS-XLSX 2.3 for slicers and
timelines): the cache definition's r:id to its records and recordCount; one cacheField per
source column, in order (LibreOffice matches them to the source by position), with sharedItems
listing every item of a field used on an axis or by a slicer (the records then give the item
index, <x v=.../>); each pivotField of an axis field lists all its items plus a default
subtotal item; location's firstHeaderRow/firstDataRow/firstDataCol and
rowPageCount/colPageCount; rowItems/colItems including the grand total; the slicer and
timeline caches' pivotCacheId equal to the cache definition's x14 pivotCacheId, and tabId the
sheetId of the pivots' sheet; the timeline's level and selectionLevel, its state's refresh
versions and filterType, and its bounds; a defined name per slicer and timeline cache.
"""

from __future__ import annotations

import os
import posixpath
import re
import signal
import struct
import sys
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NoReturn
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from supportxl.children import interrupts_held, leave_interrupts_to_parent
from supportxl.schema import Column
from supportxl.workbook.package import PackageParts
from supportxl.workbook.ranges import area

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
X14_NS = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
X15_NS = "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_TYPES = {
    "cache": f"{REL_NS}/pivotCacheDefinition",
    "records": f"{REL_NS}/pivotCacheRecords",
    "table": f"{REL_NS}/pivotTable",
    "drawing": f"{REL_NS}/drawing",
    "slicer": "http://schemas.microsoft.com/office/2007/relationships/slicer",
    "slicer_cache": "http://schemas.microsoft.com/office/2007/relationships/slicerCache",
    "timeline": "http://schemas.microsoft.com/office/2011/relationships/timeline",
    "timeline_cache": "http://schemas.microsoft.com/office/2011/relationships/timelineCache",
}
CONTENT_TYPES = {
    "cache": "application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheDefinition+xml",
    "records": "application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheRecords+xml",
    "table": "application/vnd.openxmlformats-officedocument.spreadsheetml.pivotTable+xml",
    "drawing": "application/vnd.openxmlformats-officedocument.drawing+xml",
    "slicer": "application/vnd.ms-excel.slicer+xml",
    "slicer_cache": "application/vnd.ms-excel.slicerCache+xml",
    "timeline": "application/vnd.ms-excel.timeline+xml",
    "timeline_cache": "application/vnd.ms-excel.timelineCache+xml",
}
CACHE_ID = 1  # the workbook's only pivot cache
RECORDS_PART = "xl/pivotCache/pivotCacheRecords1.xml"
AGGREGATIONS = {"count": "Count", "sum": "Sum", "average": "Average", "min": "Min", "max": "Max"}
YEARS_FIELD = "Years"  # the field a month grouping adds
MONTH_LABELS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BLANK_LABEL = "(blank)"  # what Excel shows for the item of empty cells
SHORT_TEXT = 255  # longer shared-item text needs longText="1"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")


# --- the cache -------------------------------------------------------------------------

@dataclass
class CacheField:
    """One column of the source range as the cache holds it.

    ``kind`` is text, number or date. A field with ``items`` (every text field, and any field
    on an axis or a slicer) stores per record the index of its item in ``codes`` (-1: blank);
    the others store the value itself in ``values`` (NaN: blank)."""

    name: str
    kind: str
    items: tuple | None
    codes: np.ndarray | None = None
    values: np.ndarray | None = None
    grouping: str | None = None  # "months" on a date field, "years" on the field added for it
    group_base: int = 0  # the date field a grouping reads
    group_parent: int | None = None  # the years field of a field grouped by months

    @property
    def blank(self) -> bool:
        data = self.codes if self.items is not None else self.values
        return bool((data < 0).any()) if self.items is not None else bool(np.isnan(data).any())

    @property
    def item_count(self) -> int:
        """Shared items including the blank one (listed last)."""
        return len(self.items) + (1 if self.blank else 0)

    def labels(self) -> list:
        """The cell value of each item (dates as Excel serials), the blank item last."""
        labels = [_cell_value(self.kind, v) for v in self.items]
        return labels + ([BLANK_LABEL] if self.blank else [])

    def item_codes(self) -> np.ndarray:
        """Per record, the index of its item, the blank item being the last one."""
        return np.where(self.codes < 0, len(self.items), self.codes)


@dataclass
class PivotCache:
    sheet: str  # the sheet of the source table
    ref: str  # the source range, header row included
    fields: list[CacheField]
    records: int
    refresh_on_open: bool = False

    def index(self, name: str) -> int:
        return next(i for i, f in enumerate(self.fields) if f.name == name)

    def field(self, name: str) -> CacheField:
        return self.fields[self.index(name)]


def build_cache(sheet: str, columns: Sequence[Column], cells: dict[str, tuple[str, np.ndarray]],
                axis_fields: set[str], *, order: dict[str, Sequence] | None = None,
                group_by_month: str | None = None, refresh_on_open: bool = False) -> PivotCache:
    """The cache of a table whose ``columns`` start at A1; ``cells[key]`` is a column as its
    cells hold it: ("text", strings, "" for empty), ("number", floats, NaN for empty) or
    ("date", Excel serials). Items are sorted (``order`` gives a field's own order); the date
    field ``group_by_month`` is grouped by month and year."""
    order = order or {}
    fields = []
    records = 0
    for column in columns:
        kind, data = cells[column.key]
        records = len(data)
        if kind == "text" or column.header in axis_fields:
            fields.append(_shared_field(column.header, kind, data, order.get(column.header)))
        else:
            fields.append(CacheField(column.header, kind, None, values=np.asarray(data, dtype=float)))
    ref = area(0, 0, max(records, 1), len(columns) - 1, absolute_ref=False)
    if group_by_month:
        _group_by_month(fields, next(i for i, c in enumerate(columns) if c.header == group_by_month))
    return PivotCache(sheet, ref, fields, records, refresh_on_open)


def _group_by_month(fields: list[CacheField], base: int) -> None:
    """Group a date field by months and add the Years field over it, as Excel groups a date
    field dragged onto an axis (the months of two years stay apart under their year)."""
    date = fields[base]
    if date.items is not None or np.isnan(date.values).all():
        return  # a date field on an axis keeps its dates; an empty one has nothing to group
    date.grouping, date.group_base, date.group_parent = "months", base, len(fields)
    fields.append(CacheField(YEARS_FIELD, "date", None, values=date.values, grouping="years", group_base=base))


def _shared_field(name: str, kind: str, data: np.ndarray, order: Sequence | None) -> CacheField:
    if kind == "text":
        codes, found = pd.factorize(np.asarray(data, dtype=object))
        empty = next((k for k, v in enumerate(found) if v == ""), None)
        first = {v: k for k, v in enumerate(order or ())}
        keys = [(first.get(v, len(first)), v.casefold(), v) for v in found]
    else:
        codes, found = pd.factorize(np.asarray(data, dtype=float), use_na_sentinel=True)
        empty = None
        keys = list(found)
    ranked = sorted(k for k in range(len(found)) if k != empty)
    ranked.sort(key=keys.__getitem__)
    position = np.full(len(found) + 1, -1, dtype=np.int64)  # the last slot: codes of -1 stay -1
    items, seen = [], {}
    for k in ranked:
        # Excel's items ignore case: spellings that differ only in case share the first one's item
        same = found[k].casefold() if kind == "text" else found[k]
        if same not in seen:
            seen[same] = len(items)
            items.append(found[k])
        position[k] = seen[same]
    return CacheField(name, kind, tuple(items), codes=position[codes])


def _cell_value(kind: str, value):
    return value if kind == "text" else float(value)


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _dates(serials: np.ndarray) -> np.ndarray:
    """Excel serials as xsd:dateTime text, to the second (as the cells show them)."""
    ns = _EXCEL_EPOCH + np.round(np.asarray(serials, dtype=float) * 86_400).astype("timedelta64[s]")
    return np.datetime_as_string(ns, unit="s")


def cache_definition_xml(cache: PivotCache) -> str:
    refresh = ' refreshOnLoad="1"' if cache.refresh_on_open else ""
    fields = "".join(_cache_field_xml(f) for f in cache.fields)
    return (f'{_DECLARATION}<pivotCacheDefinition xmlns="{MAIN_NS}" xmlns:r="{REL_NS}" r:id="rId1"{refresh}'
            f' createdVersion="6" refreshedVersion="6" minRefreshableVersion="3"'
            f' recordCount="{cache.records}">'
            f'<cacheSource type="worksheet"><worksheetSource ref="{cache.ref}" sheet={quoteattr(cache.sheet)}/>'
            f'</cacheSource><cacheFields count="{len(cache.fields)}">{fields}</cacheFields>'
            f'<extLst><ext uri="{{725AE2AE-9491-48be-B2B4-4EB974FC3084}}" xmlns:x14="{X14_NS}">'
            f'<x14:pivotCacheDefinition pivotCacheId="{CACHE_ID}"/></ext></extLst></pivotCacheDefinition>')


def _cache_field_xml(f: CacheField) -> str:
    num_fmt = 22 if f.kind == "date" else 0
    if f.items is not None:
        blank = f.blank
        attrs = _type_attrs(f.kind, np.asarray(f.items, dtype=object if f.kind == "text" else float), blank)
        if f.kind == "text" and any(len(v) > SHORT_TEXT for v in f.items):
            attrs += ' longText="1"'
        items = "".join(_item_xml(f.kind, v) for v in f.items) + ("<m/>" if blank else "")
        return (f'<cacheField name={quoteattr(f.name)} numFmtId="{num_fmt}">'
                f'<sharedItems{attrs} count="{f.item_count}">{items}</sharedItems></cacheField>')
    values = f.values
    present = values[~np.isnan(values)]
    if f.grouping == "years":
        return (f'<cacheField name={quoteattr(f.name)} numFmtId="0" databaseField="0">'
                f'{_field_group_xml(f, present)}</cacheField>')
    attrs = _type_attrs(f.kind, present, bool(np.isnan(values).any()))
    group = _field_group_xml(f, present) if f.grouping else ""
    return (f'<cacheField name={quoteattr(f.name)} numFmtId="{num_fmt}"><sharedItems{attrs}/>'
            f'{group}</cacheField>')


def _field_group_xml(f: CacheField, present: np.ndarray) -> str:
    """The date grouping: its range, and its items between the before and after items."""
    start, end = _dates(np.array([present.min(), present.max()]))
    if f.grouping == "months":
        labels = MONTH_LABELS
    else:
        labels = tuple(str(y) for y in range(int(start[:4]), int(end[:4]) + 1))
    items = [f"<{start[:10]}", *labels, f">{end[:10]}"]
    parent = f' par="{f.group_parent}"' if f.group_parent is not None else ""
    return (f'<fieldGroup{parent} base="{f.group_base}"><rangePr groupBy="{f.grouping}" '
            f'startDate="{start}" endDate="{end}"/><groupItems count="{len(items)}">'
            + "".join(f"<s v={quoteattr(v)}/>" for v in items) + "</groupItems></fieldGroup>")


def _type_attrs(kind: str, values: np.ndarray, blank: bool) -> str:
    """The sharedItems attributes that describe the field's types and range."""
    if kind == "text":
        return ' containsBlank="1"' if blank else ""
    if len(values) == 0:  # only empty cells
        return ' containsNonDate="0" containsString="0" containsBlank="1"'
    mixed = "" if blank else ' containsSemiMixedTypes="0"'
    empty = ' containsBlank="1"' if blank else ""
    low, high = float(values.min()), float(values.max())
    if kind == "date":
        first, last = _dates(np.array([low, high]))
        return f'{mixed} containsNonDate="0" containsDate="1" containsString="0"{empty} minDate="{first}" maxDate="{last}"'
    integer = ' containsInteger="1"' if _whole(values) else ""
    return (f'{mixed} containsString="0"{empty} containsNumber="1"{integer}'
            f' minValue="{_number(low)}" maxValue="{_number(high)}"')


def _whole(values: np.ndarray) -> bool:
    """Every value a whole number (within the integers a double holds exactly)."""
    return bool(np.all(np.mod(values, 1) == 0) and np.all(np.abs(values) < 2 ** 53))


def _item_xml(kind: str, value) -> str:
    if kind == "text":
        return f"<s v={quoteattr(value)}/>"
    if kind == "date":
        return f'<d v="{_dates(np.array([value]))[0]}"/>'
    return f'<n v="{_number(value)}"/>'


RECORDS_PER_CHUNK = 5_000  # the records are built and deflated in chunks of this many rows


def cache_records_xml(cache: PivotCache) -> bytes:
    """Every record of the cache, one <r> per source row."""
    return b"".join(cache_records_chunks(cache))


def cache_records_chunks(cache: PivotCache) -> Iterator[bytes]:
    """The records part in pieces of RECORDS_PER_CHUNK rows, so a million rows never sit in
    memory as one text nor as one text per value. Built column by column: in each piece, each
    distinct value of a field is formatted once, and the <r> tags ride on the first and last
    field's elements."""
    fields = [f for f in cache.fields if f.grouping != "years"]  # a grouping has no values of its own
    columns = [_RecordColumn(f, first=j == 0, last=j == len(fields) - 1) for j, f in enumerate(fields)]
    yield (f'{_DECLARATION}<pivotCacheRecords xmlns="{MAIN_NS}" xmlns:r="{REL_NS}" '
           f'count="{cache.records}">').encode("utf-8")
    for start in range(0, cache.records, RECORDS_PER_CHUNK):
        rows = slice(start, start + RECORDS_PER_CHUNK)
        grid = np.column_stack([column.tags(rows) for column in columns])
        yield "".join(grid.ravel().tolist()).encode("utf-8")
    yield b"</pivotCacheRecords>"


class _RecordColumn:
    """One field's record elements: the index of its item (<x>), or its value (<n>, <d>; <m/>
    for an empty cell), wrapped in the record's <r> tags as the first or last field."""

    def __init__(self, f: CacheField, *, first: bool, last: bool) -> None:
        self._wrap = ("<r>" if first else "", "</r>" if last else "")
        self._field = f
        if f.items is not None:
            self._items = self._wrapped([f'<x v="{i}"/>' for i in range(f.item_count)])
            self._codes = f.item_codes()
        else:
            present = f.values[~np.isnan(f.values)]
            self._whole = f.kind != "date" and _whole(present)  # then written without a fraction

    def _wrapped(self, tags: list[str]) -> np.ndarray:
        before, after = self._wrap
        return np.array([before + tag + after for tag in tags] if before or after else tags, dtype=object)

    def tags(self, rows: slice) -> np.ndarray:
        """The elements of the records in ``rows``."""
        if self._field.items is not None:
            return self._items[self._codes[rows]]
        codes, unique = pd.factorize(self._field.values[rows], use_na_sentinel=True)
        if self._field.kind == "date":
            texts = [f'<d v="{d}"/>' for d in _dates(unique).tolist()]
        elif self._whole:
            texts = [f'<n v="{n}"/>' for n in unique.astype(np.int64).tolist()]
        else:
            texts = [f'<n v="{n!r}"/>' for n in unique.tolist()]
        return self._wrapped(texts + ["<m/>"])[codes]  # code -1 (the last tag): an empty cell


# --- pivot tables ----------------------------------------------------------------------

@dataclass
class PivotLayout:
    """Where one pivot table sits and which items its rows and columns show, in order.

    Rows and columns are 0-based sheet positions; ``row_items``/``col_items`` are indexes
    into the axis field's items (``labels()``)."""

    name: str
    top: int  # the first row of the pivot body (its page fields sit above it)
    left: int
    row_field: str
    col_field: str | None
    value_field: str
    aggregation: str
    filters: tuple[str, ...]
    row_items: list[int]
    col_items: list[int]
    value_format: object = None  # the XlsxWriter Format of the value cells (its number format id)
    label_formats: dict[str, object] = field(default_factory=dict)  # axis field -> Format of its labels

    @property
    def caption(self) -> str:
        return f"{AGGREGATIONS[self.aggregation]} of {self.value_field}"

    @property
    def first_data_row(self) -> int:
        """Rows of the body above the first value: the captions (and the column items)."""
        return 2 if self.col_field else 1

    @property
    def bottom(self) -> int:
        return self.top + self.first_data_row + len(self.row_items)

    @property
    def right(self) -> int:
        return self.left + 1 + (len(self.col_items) if self.col_field else 0)

    @property
    def ref(self) -> str:
        return area(self.top, self.left, self.bottom, self.right, absolute_ref=False)


def pivot_table_xml(layout: PivotLayout, cache: PivotCache) -> str:
    axes = {layout.row_field: "axisRow", **({layout.col_field: "axisCol"} if layout.col_field else {}),
            **{name: "axisPage" for name in layout.filters}}
    value_index = cache.index(layout.value_field)
    fields = []
    for i, f in enumerate(cache.fields):
        attrs = f' axis="{axes[f.name]}"' if f.name in axes else ""
        attrs += ' dataField="1"' if i == value_index else ""
        label_format = layout.label_formats.get(f.name)
        if f.name in axes and f.kind != "text" and label_format is not None:
            attrs += f' numFmtId="{label_format.num_format_index}"'
        if f.name in axes:
            items = "".join(f'<item x="{k}"/>' for k in range(f.item_count))
            fields.append(f'<pivotField{attrs} showAll="0"><items count="{f.item_count + 1}">{items}'
                          f'<item t="default"/></items></pivotField>')
        else:
            fields.append(f'<pivotField{attrs} showAll="0"/>')
    pages = (f' rowPageCount="{len(layout.filters)}" colPageCount="1"' if layout.filters else "")
    xml = [f'{_DECLARATION}<pivotTableDefinition xmlns="{MAIN_NS}" name={quoteattr(layout.name)} '
           f'cacheId="{CACHE_ID}" applyNumberFormats="0" applyBorderFormats="0" applyFontFormats="0" '
           f'applyPatternFormats="0" applyAlignmentFormats="0" applyWidthHeightFormats="1" '
           f'dataCaption="Values" updatedVersion="6" minRefreshableVersion="3" useAutoFormatting="1" '
           f'itemPrintTitles="1" createdVersion="6" indent="0" outline="1" outlineData="1" '
           f'multipleFieldFilters="0" rowHeaderCaption={quoteattr(layout.row_field)}'
           + (f" colHeaderCaption={quoteattr(layout.col_field)}" if layout.col_field else "") + ">",
           f'<location ref="{layout.ref}" firstHeaderRow="1" firstDataRow="{layout.first_data_row}" '
           f'firstDataCol="1"{pages}/>',
           f'<pivotFields count="{len(cache.fields)}">{"".join(fields)}</pivotFields>',
           f'<rowFields count="1"><field x="{cache.index(layout.row_field)}"/></rowFields>',
           _axis_items_xml("rowItems", layout.row_items)]
    if layout.col_field:
        xml.append(f'<colFields count="1"><field x="{cache.index(layout.col_field)}"/></colFields>')
        xml.append(_axis_items_xml("colItems", layout.col_items))
    else:
        xml.append('<colItems count="1"><i/></colItems>')
    if layout.filters:
        pages_xml = "".join(f'<pageField fld="{cache.index(name)}" hier="-1"/>' for name in layout.filters)
        xml.append(f'<pageFields count="{len(layout.filters)}">{pages_xml}</pageFields>')
    num_fmt = layout.value_format.num_format_index if layout.value_format is not None else 0
    xml.append(f'<dataFields count="1"><dataField name={quoteattr(layout.caption)} fld="{value_index}" '
               f'subtotal="{layout.aggregation}" baseField="0" baseItem="0" numFmtId="{num_fmt}"/></dataFields>')
    xml.append('<pivotTableStyleInfo name="PivotStyleLight16" showRowHeaders="1" showColHeaders="1" '
               'showRowStripes="0" showColStripes="0" showLastColumn="1"/></pivotTableDefinition>')
    return "".join(xml)


def _axis_items_xml(tag: str, items: Sequence[int]) -> str:
    rows = "".join("<i><x/></i>" if k == 0 else f'<i><x v="{k}"/></i>' for k in items)
    return f'<{tag} count="{len(items) + 1}">{rows}<i t="grand"><x/></i></{tag}>'


# --- slicers ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SlicerPlace:
    field: str
    top: int  # anchor cell, 0-based
    left: int
    rows: int = 10
    cols: int = 2
    PREFIX: ClassVar[str] = "Slicer_"

    @property
    def cache_name(self) -> str:
        """The cache's (and its defined name's) name, as Excel names it: Slicer_Issue_type."""
        return self.PREFIX + re.sub(r"\W", "_", self.field)


@dataclass(frozen=True)
class TimelinePlace(SlicerPlace):
    """A timeline (Excel 2013+) on a date field: a band of months that filters every pivot."""

    rows: int = 7
    cols: int = 5
    PREFIX: ClassVar[str] = "NativeTimeline_"


def slicers_xml(slicers: Sequence[SlicerPlace]) -> str:
    items = "".join(f'<slicer name={quoteattr(s.field)} cache="{s.cache_name}" caption={quoteattr(s.field)} '
                    f'rowHeight="241300"/>' for s in slicers)
    return (f'{_DECLARATION}<slicers xmlns="{X14_NS}" xmlns:mc="{MC_NS}" mc:Ignorable="x" '
            f'xmlns:x="{MAIN_NS}">{items}</slicers>')


def slicer_cache_xml(slicer: SlicerPlace, cache: PivotCache, tab_id: int, pivots: Sequence[str]) -> str:
    f = cache.field(slicer.field)
    tables = "".join(f'<pivotTable tabId="{tab_id}" name={quoteattr(name)}/>' for name in pivots)
    items = "".join(f'<i x="{k}" s="1"/>' for k in range(f.item_count))
    return (f'{_DECLARATION}<slicerCacheDefinition xmlns="{X14_NS}" xmlns:mc="{MC_NS}" mc:Ignorable="x" '
            f'xmlns:x="{MAIN_NS}" name="{slicer.cache_name}" sourceName={quoteattr(slicer.field)}>'
            f'<pivotTables>{tables}</pivotTables><data><tabular pivotCacheId="{CACHE_ID}">'
            f'<items count="{f.item_count}">{items}</items></tabular></data></slicerCacheDefinition>')


TIMELINE_MONTHS = 2  # the timeline's level: 0 years, 1 quarters, 2 months, 3 days


def timeline_span(cache: PivotCache, field_name: str) -> tuple[str, str] | None:
    """The whole years a timeline scrolls over: January 1 of the first date's year to January 1
    after the last date's (as Excel bounds one); None for a field without dates."""
    f = cache.field(field_name)
    serials = np.asarray(f.items if f.items is not None else f.values, dtype=float)
    serials = serials[~np.isnan(serials)]
    if not len(serials):
        return None
    first, last = _dates(np.array([serials.min(), serials.max()]))
    return f"{first[:4]}-01-01T00:00:00", f"{int(last[:4]) + 1:04d}-01-01T00:00:00"


def timeline_cache_xml(timeline: TimelinePlace, span: tuple[str, str], tab_id: int, pivots: Sequence[str]) -> str:
    """The timeline's cache: the pivots it filters, nothing selected (filterType unknown)."""
    tables = "".join(f'<pivotTable tabId="{tab_id}" name={quoteattr(name)}/>' for name in pivots)
    return (f'{_DECLARATION}<timelineCacheDefinition xmlns="{X15_NS}" xmlns:mc="{MC_NS}" mc:Ignorable="x" '
            f'xmlns:x="{MAIN_NS}" name="{timeline.cache_name}" sourceName={quoteattr(timeline.field)}>'
            f'<pivotTables>{tables}</pivotTables><state minimalRefreshVersion="6" lastRefreshVersion="6" '
            f'pivotCacheId="{CACHE_ID}" filterType="unknown"><bounds startDate="{span[0]}" '
            f'endDate="{span[1]}"/></state></timelineCacheDefinition>')


def timeline_xml(timeline: TimelinePlace, span: tuple[str, str]) -> str:
    return (f'{_DECLARATION}<timelines xmlns="{X15_NS}" xmlns:mc="{MC_NS}" mc:Ignorable="x" xmlns:x="{MAIN_NS}">'
            f'<timeline name={quoteattr(timeline.field)} cache="{timeline.cache_name}" '
            f'caption={quoteattr(timeline.field)} level="{TIMELINE_MONTHS}" selectionLevel="{TIMELINE_MONTHS}" '
            f'scrollPosition="{span[0]}"/></timelines>')


# What each kind of control's shape holds: the markup-compatibility requirement, the graphic
# and its namespace, and the note a viewer without the control shows instead.
_CONTROL_GRAPHICS = {
    SlicerPlace: ("a14", "http://schemas.microsoft.com/office/drawing/2010/main", "sle", "slicer",
                  "http://schemas.microsoft.com/office/drawing/2010/slicer", "slicer: shown by Excel 2010 or later."),
    TimelinePlace: ("tsle", "http://schemas.microsoft.com/office/drawing/2012/timeslicer", "tsle", "timeslicer",
                    "http://schemas.microsoft.com/office/drawing/2012/timeslicer",
                    "timeline: shown by Excel 2013 or later."),
}


def controls_drawing_xml(controls: Sequence[SlicerPlace]) -> str:
    """The shapes of the slicers and the timeline; viewers without them show the fallback's note."""
    anchors = []
    for n, s in enumerate(controls, start=2):
        requires, requires_ns, prefix, tag, uri, note = _CONTROL_GRAPHICS[type(s)]
        name = quoteattr(s.field)
        anchors.append(
            f'<xdr:twoCellAnchor editAs="oneCell">'
            f'<xdr:from><xdr:col>{s.left}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{s.top}</xdr:row>'
            f'<xdr:rowOff>0</xdr:rowOff></xdr:from>'
            f'<xdr:to><xdr:col>{s.left + s.cols}</xdr:col><xdr:colOff>0</xdr:colOff>'
            f'<xdr:row>{s.top + s.rows}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>'
            f'<mc:AlternateContent xmlns:mc="{MC_NS}">'
            f'<mc:Choice xmlns:{requires}="{requires_ns}" Requires="{requires}">'
            f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="{n}" name={name}/>'
            f'<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>'
            f'<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic>'
            f'<a:graphicData uri="{uri}"><{prefix}:{tag} xmlns:{prefix}="{uri}" name={name}/>'
            f'</a:graphicData></a:graphic></xdr:graphicFrame></mc:Choice>'
            f'<mc:Fallback><xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="{n}" name={name}/>'
            f'<xdr:cNvSpPr><a:spLocks noTextEdit="1"/></xdr:cNvSpPr></xdr:nvSpPr><xdr:spPr>'
            f'<a:xfrm><a:off x="0" y="0"/><a:ext cx="1828800" cy="2286000"/></a:xfrm>'
            f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr><xdr:txBody>'
            f'<a:bodyPr vertOverflow="clip" horzOverflow="clip"/><a:lstStyle/><a:p><a:r>'
            f'<a:rPr lang="en-US" sz="1100"/><a:t>{escape(s.field)} {note}'
            f'</a:t></a:r></a:p></xdr:txBody></xdr:sp></mc:Fallback></mc:AlternateContent>'
            f'<xdr:clientData/></xdr:twoCellAnchor>')
    return (f'{_DECLARATION}<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
            f'spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
            f'{"".join(anchors)}</xdr:wsDr>')


# --- the package -----------------------------------------------------------------------

@dataclass
class PivotSheet:
    """What the Pivots sheet writer decided, for the package step."""

    sheet: str
    cache: PivotCache
    layouts: list[PivotLayout]
    slicers: list[SlicerPlace]
    timeline: TimelinePlace | None = None


def deflated_records(cache: PivotCache, stopped: Callable[[], bool] = lambda: False) -> tuple[bytes, int, int] | None:
    """The cache records part deflated (the bytes zipfile writes), its CRC-32 and its size;
    None when ``stopped()`` turns true between two chunks."""
    deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # zipfile's deflate
    pieces, crc, size = [], 0, 0
    for piece in cache_records_chunks(cache):
        if stopped():
            return None
        crc, size = zlib.crc32(piece, crc), size + len(piece)
        pieces.append(deflate.compress(piece))
    pieces.append(deflate.flush())
    return b"".join(pieces), crc, size


class DeflatedRecords:
    """The records part, built and deflated on a second thread while the rest of the workbook
    is written (deflating releases the interpreter lock, building the text does not).
    ``cancel`` stops it between chunks, so an interrupted build ends promptly."""

    def __init__(self, cache: PivotCache) -> None:
        self._cache = cache
        self._stop = threading.Event()
        self._done: tuple[bytes, int, int] | BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pivot-records", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._done = deflated_records(self._cache, self._stop.is_set)
        except BaseException as exc:  # handed to the thread that waits for the part
            self._done = exc

    def result(self) -> tuple[bytes, int, int]:
        """The deflated part, its CRC-32 and its size (waits for the thread)."""
        self._thread.join()
        if isinstance(self._done, BaseException):
            raise self._done
        return self._done

    def cancel(self) -> None:
        self._stop.set()


class ForkedRecords:
    """The records part, built and deflated by a forked child process while the rest of the
    workbook is written, so that building its text does not take the interpreter lock from
    the writer; the child hands the part over in a temporary file. Should the child fail
    (killed, out of memory), ``result`` builds the part itself: the bytes are the same.
    ``cancel`` ends the child at once."""

    def __init__(self, cache: PivotCache) -> None:
        self._cache = cache
        self._file = tempfile.TemporaryFile(prefix="supportxl-records-")
        self._pid: int | None = None
        parent = os.getpid()
        try:
            with interrupts_held():
                self._pid = os.fork()
                if self._pid == 0:
                    _records_child(cache, self._file, parent)
        except BaseException:  # a Ctrl-C noted during the fork, raised before the caller has this object
            self.cancel()
            raise

    def result(self) -> tuple[bytes, int, int]:
        """The deflated part, its CRC-32 and its size (waits for the child)."""
        if self._pid is not None:
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
            if status == 0:
                self._file.seek(0)
                crc, size = struct.unpack("<QQ", self._file.read(16))
                return self._file.read(), crc, size
        return deflated_records(self._cache)

    def cancel(self) -> None:
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            os.waitpid(self._pid, 0)
            self._pid = None
        self._file.close()


def _records_child(cache: PivotCache, file, parent: int) -> NoReturn:
    """In the forked child: write the deflated records to ``file``, then exit without the
    parent's clean-up. Ctrl-C is the parent's to handle (it cancels the child); the child also
    stops should the parent die before it is done."""
    status = 1
    try:
        leave_interrupts_to_parent()
        done = deflated_records(cache, lambda: os.getppid() != parent)
        if done is not None:
            data, crc, size = done
            file.write(struct.pack("<QQ", crc, size))
            file.write(data)  # on its own: a million tickets' part is about 100 MB, not copied again
            file.flush()
            status = 0
    except BaseException:  # the parent builds the part itself
        pass
    finally:
        os._exit(status)


# Forking is the way where the system forks a process cheaply and safely (Linux); elsewhere
# (macOS's system libraries, Windows) the records take the thread.
FORK_RECORDS = sys.platform.startswith("linux") and hasattr(os, "fork")
Records = DeflatedRecords | ForkedRecords


def start_records(pivots: PivotSheet | None) -> Records | None:
    """Start building the records of ``pivots`` (None without pivots)."""
    if pivots is None or not pivots.layouts:
        return None
    return (ForkedRecords if FORK_RECORDS else DeflatedRecords)(pivots.cache)


def add_pivot_parts(parts: PackageParts, pivots: PivotSheet, records: Records) -> None:
    """Add the pivot cache (its records those ``start_records`` began), the pivot tables, the
    slicers and the timeline of ``pivots`` to the parts XlsxWriter wrote."""
    _Package(parts).add(pivots, records)


class _Package:
    """The edits of the package's parts for the pivots, and the pivots' own parts."""

    def __init__(self, parts: PackageParts) -> None:
        self._parts = parts
        self.text = parts.text

    def add(self, pivots: PivotSheet, records: Records) -> None:
        sheet_part, tab_id = self._sheet_part(pivots.sheet)
        cache = pivots.cache
        self._part("xl/pivotCache/pivotCacheDefinition1.xml", "cache", cache_definition_xml(cache))
        self._declare(RECORDS_PART, "records")
        self._relate("xl/pivotCache/pivotCacheDefinition1.xml", "records", RECORDS_PART)
        cache_rel = self._relate("xl/workbook.xml", "cache", "xl/pivotCache/pivotCacheDefinition1.xml")
        workbook = self.text("xl/workbook.xml")
        workbook = _insert_before(workbook, ("<smartTagPr", "<webPublishing", "<fileRecoveryPr",
                                             "<webPublishObjects", "<extLst", "</workbook>"),
                                  f'<pivotCaches><pivotCache cacheId="{CACHE_ID}" r:id="{cache_rel}"/></pivotCaches>')
        for n, layout in enumerate(pivots.layouts, start=1):
            part = f"xl/pivotTables/pivotTable{n}.xml"
            self._part(part, "table", pivot_table_xml(layout, cache))
            self._relate(part, "cache", "xl/pivotCache/pivotCacheDefinition1.xml")
            self._relate(sheet_part, "table", part)
        span = timeline_span(cache, pivots.timeline.field) if pivots.timeline else None
        timeline = pivots.timeline if span else None  # a field without dates has nothing to scroll
        if pivots.slicers or timeline:
            workbook = self._add_controls(workbook, pivots, timeline, span, sheet_part, tab_id)
        self._parts.put("xl/workbook.xml", workbook)
        self._parts.put(RECORDS_PART, records)  # last: the largest, deflated beside the writer

    def _add_controls(self, workbook: str, pivots: PivotSheet, timeline: TimelinePlace | None,
                      span: tuple[str, str] | None, sheet_part: str, tab_id: int) -> str:
        """The slicers and the timeline: their caches (each names every pivot), their parts on
        the sheet, the drawing that shows them and a defined name per cache."""
        names = [layout.name for layout in pivots.layouts]
        sheet = self.text(sheet_part)
        sheet_exts, workbook_exts = [], []
        if pivots.slicers:
            cache_rels = []
            for n, slicer in enumerate(pivots.slicers, start=1):
                part = f"xl/slicerCaches/slicerCache{n}.xml"
                self._part(part, "slicer_cache", slicer_cache_xml(slicer, pivots.cache, tab_id, names))
                cache_rels.append(self._relate("xl/workbook.xml", "slicer_cache", part))
            slicer_part = self._free("xl/slicers/slicer{}.xml")
            self._part(slicer_part, "slicer", slicers_xml(pivots.slicers))
            slicer_rel = self._relate(sheet_part, "slicer", slicer_part)
            sheet_exts.append((X14_NS, "{A8765BA9-456A-4dab-B4F3-ACF838C121DE}",
                               f'<x14:slicerList><x14:slicer r:id="{slicer_rel}"/></x14:slicerList>'))
            workbook_exts.append((X14_NS, "{BBE1A952-AA13-448e-AADC-164F8A28A991}",
                                  "<x14:slicerCaches>" + "".join(f'<x14:slicerCache r:id="{rel}"/>'
                                                                 for rel in cache_rels) + "</x14:slicerCaches>"))
        if timeline:
            self._part("xl/timelineCaches/timelineCache1.xml", "timeline_cache",
                       timeline_cache_xml(timeline, span, tab_id, names))
            cache_rel = self._relate("xl/workbook.xml", "timeline_cache", "xl/timelineCaches/timelineCache1.xml")
            timeline_part = self._free("xl/timelines/timeline{}.xml")
            self._part(timeline_part, "timeline", timeline_xml(timeline, span))
            timeline_rel = self._relate(sheet_part, "timeline", timeline_part)
            sheet_exts.append((X15_NS, "{7E03D99C-DC04-49d9-9315-930204A7B6E9}",
                               f'<x15:timelineRefs><x15:timelineRef r:id="{timeline_rel}"/></x15:timelineRefs>'))
            workbook_exts.append((X15_NS, "{D0CA8CA8-9F24-4464-BF8E-62219DCF47F9}",
                                  f'<x15:timelineCacheRefs><x15:timelineCacheRef r:id="{cache_rel}"/>'
                                  f'</x15:timelineCacheRefs>'))
        controls = [*pivots.slicers, *([timeline] if timeline else [])]
        drawing_part = self._free("xl/drawings/drawing{}.xml")
        self._part(drawing_part, "drawing", controls_drawing_xml(controls))
        drawing_rel = self._relate(sheet_part, "drawing", drawing_part)
        sheet = _insert_before(sheet, ("<legacyDrawing", "<legacyDrawingHF", "<picture", "<oleObjects",
                                       "<controls", "<webPublishItems", "<tableParts", "<extLst",
                                       "</worksheet>"), f'<drawing r:id="{drawing_rel}"/>')
        for namespace, uri, body in sheet_exts:
            sheet = _add_ext(sheet, "</worksheet>", namespace, uri, body)
        self._parts.put(sheet_part, sheet)
        defined = "".join(f'<definedName name="{c.cache_name}">#N/A</definedName>' for c in controls)
        if "<definedNames>" in workbook:
            workbook = workbook.replace("</definedNames>", defined + "</definedNames>", 1)
        else:
            workbook = _insert_before(workbook, ("<calcPr", "<oleSize", "<customWorkbookViews", "<pivotCaches"),
                                      f"<definedNames>{defined}</definedNames>")
        for namespace, uri, body in workbook_exts:
            workbook = _add_ext(workbook, "</workbook>", namespace, uri, body)
        return workbook

    def _sheet_part(self, sheet: str) -> tuple[str, int]:
        """The part name and sheetId of the sheet named ``sheet``."""
        workbook = self.text("xl/workbook.xml")
        for match in re.finditer(r"<sheet ([^>]*)/>", workbook):
            attrs = dict(re.findall(r'([\w:]+)="([^"]*)"', match.group(1)))
            if attrs["name"] == escape(sheet, {'"': "&quot;"}):
                rels = self.text("xl/_rels/workbook.xml.rels")
                target = re.search(rf'<Relationship Id="{attrs["r:id"]}" Type="[^"]*" Target="([^"]*)"', rels)
                return posixpath.normpath(posixpath.join("xl", target.group(1))), int(attrs["sheetId"])
        raise KeyError(sheet)  # the sheet writer names a sheet it wrote

    def _free(self, pattern: str) -> str:
        n = 1
        while pattern.format(n) in self._parts:
            n += 1
        return pattern.format(n)

    def _part(self, name: str, kind: str, xml: str) -> None:
        self._parts.put(name, xml)
        self._declare(name, kind)

    def _declare(self, name: str, kind: str) -> None:
        """The content type of the part ``name``."""
        types = self.text("[Content_Types].xml")
        self._parts.put("[Content_Types].xml", types.replace(
            "</Types>", f'<Override PartName="/{name}" ContentType="{CONTENT_TYPES[kind]}"/></Types>'))

    def _relate(self, source: str, kind: str, target: str) -> str:
        """Add a relationship from part ``source`` to part ``target``; returns its id."""
        folder, base = posixpath.split(source)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if rels_name in self._parts:
            rels = self.text(rels_name)
        else:
            rels = f'{_DECLARATION}<Relationships xmlns="{PKG_REL_NS}"></Relationships>'
        used = [int(n) for n in re.findall(r'Id="rId(\d+)"', rels)]
        rel_id = f"rId{max(used, default=0) + 1}"
        link = posixpath.relpath(target, folder)
        self._parts.put(rels_name, rels.replace(
            "</Relationships>", f'<Relationship Id="{rel_id}" Type="{REL_TYPES[kind]}" Target="{link}"/></Relationships>'))
        return rel_id


def _insert_before(xml: str, markers: Sequence[str], text: str) -> str:
    """``text`` inserted before the first of ``markers`` found (schema order of the children)."""
    for marker in markers:
        at = xml.find(marker)
        if at >= 0:
            return xml[:at] + text + xml[at:]
    raise ValueError(f"none of {markers} found")  # the last marker is the root's closing tag


def _add_ext(xml: str, closing: str, namespace: str, uri: str, body: str) -> str:
    """Add an extension (x14 or x15) to the root element's extLst (made when there is none)."""
    prefix = {X14_NS: "x14", X15_NS: "x15"}[namespace]
    ext = f'<ext uri="{uri}" xmlns:{prefix}="{namespace}">{body}</ext>'
    at = xml.rfind("</extLst>")
    if at >= 0 and at > xml.rfind("</sheetData>"):
        return xml[:at] + ext + xml[at:]
    return xml.replace(closing, f"<extLst>{ext}</extLst>{closing}")
