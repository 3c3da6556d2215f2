"""Native PivotTables and slicers: the rendered cells against pandas, the cache and its records
against the Tickets table, the package parts, the template section, schema validation and
LibreOffice as an independent pivot engine."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
import zipfile
import zlib
from pathlib import Path

import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.cell import coordinate_to_tuple

from supportxl.errors import ParameterError
from supportxl.schema import TICKET_COLUMN_BY_KEY, ticket_columns
from supportxl.metrics.derive import derive
from supportxl.template import load_template
from supportxl.workbook.builder import build_workbook

from conftest import load_book, make_dataset, soffice_or_skip

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "x14": "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main",
      "x15": "http://schemas.microsoft.com/office/spreadsheetml/2010/11/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
KEY_OF = {c.header: c.key for c in TICKET_COLUMN_BY_KEY.values()}
EPOCH = pd.Timestamp("1899-12-30")
LO_PIVOT = Path("/work/shared/tools/lo_pivot.py")
SYSTEM_PYTHON = "/usr/bin/python3"

# The attributes Excel needs to open a pivot without a repair prompt (ECMA-376 Part 1 18.10,
# MS-XLSX 2.6 for the x14 slicer and x15 timeline parts), by element; counts must equal the children.
REQUIRED_ATTRIBUTES = {
    "pivotCacheDefinition": ("{%s}id" % NS["r"], "recordCount", "createdVersion", "refreshedVersion",
                             "minRefreshableVersion"),
    "cacheSource": ("type",),
    "worksheetSource": ("ref", "sheet"),
    "cacheField": ("name", "numFmtId"),
    "rangePr": ("groupBy", "startDate", "endDate"),
    "fieldGroup": ("base",),
    "pivotCacheRecords": ("count",),
    "pivotTableDefinition": ("name", "cacheId", "dataCaption", "applyNumberFormats", "applyBorderFormats",
                             "applyFontFormats", "applyPatternFormats", "applyAlignmentFormats",
                             "applyWidthHeightFormats", "updatedVersion", "minRefreshableVersion",
                             "createdVersion", "outline", "outlineData"),
    "location": ("ref", "firstHeaderRow", "firstDataRow", "firstDataCol"),
    "dataField": ("name", "fld", "subtotal", "baseField", "baseItem", "numFmtId"),
    "pageField": ("fld", "hier"),
    "pivotTableStyleInfo": ("name", "showRowHeaders", "showColHeaders"),
    "x14:slicer": ("name", "cache", "caption", "rowHeight"),
    "x14:slicerCacheDefinition": ("name", "sourceName"),
    "x14:pivotTable": ("tabId", "name"),
    "x14:tabular": ("pivotCacheId",),
    "x14:pivotCacheDefinition": ("pivotCacheId",),
    "x15:timelineCacheDefinition": ("name", "sourceName"),
    "x15:pivotTable": ("tabId", "name"),
    "x15:state": ("minimalRefreshVersion", "lastRefreshVersion", "pivotCacheId", "filterType"),
    "x15:bounds": ("startDate", "endDate"),
    "x15:timeline": ("name", "cache", "caption", "level", "selectionLevel"),
}
COUNTED = ("cacheFields", "sharedItems", "groupItems", "pivotFields", "items", "rowFields", "rowItems",
           "colFields", "colItems", "pageFields", "dataFields")


# --- reading pivots back ---------------------------------------------------------------

def pivot_parts(path) -> dict[str, ET.Element]:
    with zipfile.ZipFile(path) as z:
        return {n: ET.fromstring(z.read(n)) for n in z.namelist()
                if re.fullmatch(r"xl/(pivotTables/pivotTable\d+|pivotCache/pivotCache\w+\d+|slicers/slicer\d+|"
                                r"slicerCaches/slicerCache\d+|timelines/timeline\d+|timelineCaches/timelineCache\d+)"
                                r"\.xml", n)}


def pivot_tables(path) -> dict[str, ET.Element]:
    return {e.get("name"): e for n, e in pivot_parts(path).items() if n.startswith("xl/pivotTables/")}


def label(value, date_field: bool):
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return pd.Timestamp(value)
    if date_field and isinstance(value, float):
        return EPOCH + pd.Timedelta(days=value)
    return float(value) if isinstance(value, (int, float)) else value


def cells_by_label(matrix: list[list], has_columns: bool, date_field: bool) -> dict:
    """{(row item, column item): value} of a compact pivot's cells (totals named 'Grand Total')."""
    total = lambda v: "Grand Total" if v == "Total Result" else v  # noqa: E731 (LibreOffice's name)
    header = [total(v) for v in matrix[1][1:]] if has_columns else ["value"]
    out = {}
    for row in matrix[2 if has_columns else 1:]:
        for j, col in enumerate(header, start=1):
            if row[j] not in (None, ""):
                out[(total(label(row[0], date_field)), col)] = float(row[j])
    return out


def pivots_sheet(path):
    """The Pivots sheet's cached values (read-only: openpyxl then leaves the pivot cache alone)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        return {(c.row, c.column): c.value for row in book["Pivots"].iter_rows() for c in row
                if getattr(c, "row", None) is not None}


def rendered(path, name: str) -> dict:
    """A pivot's cells as the workbook stores them (what a viewer that never refreshes shows)."""
    table = pivot_tables(path)[name]
    (top, left), (bottom, right) = (coordinate_to_tuple(c) for c in table.find("m:location", NS).get("ref").split(":"))
    cells = pivots_sheet(path)
    matrix = [[cells.get((r, c)) for c in range(left, right + 1)] for r in range(top, bottom + 1)]
    return cells_by_label(matrix, table.find("m:colFields", NS) is not None,
                          table.get("rowHeaderCaption") == "Month")


def pandas_pivot(frame: pd.DataFrame, rows: str, columns: str | None, values: str, how: str) -> dict:
    """The same pivot computed by pandas from the derived ticket frame."""
    aggfunc = {"average": "mean"}.get(how, how)
    data = frame.assign(_all="value")
    table = data.pivot_table(index=KEY_OF[rows], columns=KEY_OF[columns] if columns else "_all",
                             values=KEY_OF[values], aggfunc=aggfunc, margins=bool(columns),
                             margins_name="Grand Total", observed=True)
    if not columns:
        table.loc["Grand Total"] = data[KEY_OF[values]].agg(aggfunc)
    out = {}
    for row_item, series in table.iterrows():
        for col_item, value in series.items():
            if value == value:
                key = pd.Timestamp(row_item) if rows == "Month" and row_item != "Grand Total" else row_item
                col = float(col_item) if isinstance(col_item, (int, float, np.number)) else col_item
                out[(float(key) if isinstance(key, (int, float, np.number)) else key, col)] = float(value)
    return out


# --- fixtures --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_workbook(small_dataset, tmp_path_factory):
    """The default workbook of the 2,000-ticket dataset (its Pivots sheet included)."""
    path = tmp_path_factory.mktemp("pivots") / "small.xlsx"
    build_workbook(small_dataset, path, load_template("dashboard"))
    return path

@pytest.fixture(scope="module")
def frame(small_dataset):
    return derive(small_dataset, load_template())[0]


@pytest.fixture(scope="module")
def custom_workbook(small_dataset, tmp_path_factory):
    """Pivots without a column field, with sum, min and max, and refresh on open."""
    template = load_template("dashboard", [
        'pivots=[{name="Hours by channel", rows="Channel", values="Resolution (h)", aggregation="sum"},'
        '{name="Fastest by agent", rows="Agent", columns="Priority", values="First response (h)", aggregation="min"},'
        '{name="Longest by country", rows="Country", values="Resolution (h)", aggregation="max", '
        'filters=["Segment", "Industry"]}]', "slicers=[\"Issue type\"]", "refresh_on_open=true"])
    path = tmp_path_factory.mktemp("custom") / "custom.xlsx"
    build_workbook(small_dataset, path, template)
    return path


# --- values ----------------------------------------------------------------------------

@pytest.mark.parametrize("name,rows,columns,values,how", [
    ("Tickets by month and channel", "Month", "Channel", "Ticket ID", "count"),
    ("Tickets by issue type and status", "Issue type", "Status", "Ticket ID", "count"),
    ("Resolution SLA breaches by priority", "Priority", "Resolution breached", "Ticket ID", "count"),
    ("Mean resolution hours by team and priority", "Team", "Priority", "Resolution (h)", "average"),
])
def test_default_pivots_equal_pandas(small_workbook, frame, name, rows, columns, values, how):
    ours = rendered(small_workbook, name)
    theirs = pandas_pivot(frame, rows, columns, values, how)
    assert ours.keys() == theirs.keys()
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert ours[("Grand Total", "Grand Total")] == pytest.approx(
        len(frame) if how == "count" else frame["ttr_hours"].mean(), rel=1e-12)


@pytest.mark.parametrize("name,rows,columns,values,how", [
    ("Hours by channel", "Channel", None, "Resolution (h)", "sum"),
    ("Fastest by agent", "Agent", "Priority", "First response (h)", "min"),
    ("Longest by country", "Country", None, "Resolution (h)", "max"),
])
def test_template_pivots_equal_pandas(custom_workbook, frame, name, rows, columns, values, how):
    assert rendered(custom_workbook, name) == pytest.approx(pandas_pivot(frame, rows, columns, values, how),
                                                            rel=1e-12)


def test_pivot_cells_have_theme_formats_and_page_fields(small_workbook):
    ws = load_book(small_workbook)["Pivots"]
    table = pivot_tables(small_workbook)["Mean resolution hours by team and priority"]
    first = ws[table.find("m:location", NS).get("ref").split(":")[0]]
    assert first.value == "Average of Resolution (h)"
    assert ws.cell(first.row + 1, first.column).value == "Team"
    assert ws.cell(first.row + 2, first.column + 1).number_format == "#,##0.0"  # the theme's hours
    month = pivot_tables(small_workbook)["Tickets by month and channel"]
    top = ws[month.find("m:location", NS).get("ref").split(":")[0]]
    assert [ws.cell(top.row - 2, top.column + k).value for k in (0, 1)] == ["Region", "(All)"]
    assert ws.cell(top.row + 2, top.column).number_format == "mmm yyyy"
    assert month.find("m:location", NS).get("rowPageCount") == "1"


# --- the cache -------------------------------------------------------------------------

def test_cache_fields_and_records_are_the_tickets_table(small_workbook, small_dataset, frame):
    parts = pivot_parts(small_workbook)
    definition = parts["xl/pivotCache/pivotCacheDefinition1.xml"]
    records = parts["xl/pivotCache/pivotCacheRecords1.xml"]
    headers = [c.header for c in ticket_columns(False, dashboard=True)]
    fields = definition.findall("m:cacheFields/m:cacheField", NS)
    assert [f.get("name") for f in fields] == headers + ["Years"]
    rows = len(small_dataset.tickets)
    source = definition.find("m:cacheSource/m:worksheetSource", NS)
    assert (source.get("sheet"), source.get("ref")) == ("Tickets", f"A1:{_column(len(headers))}{rows + 1}")
    assert definition.get("recordCount") == records.get("count") == str(rows)
    assert definition.get("refreshOnLoad") is None  # off by default: the cells are exact
    rs = records.findall("m:r", NS)
    assert len(rs) == rows and all(len(r) == len(headers) for r in rs[:50])
    channel = headers.index("Channel")
    items = [s.get("v") for s in fields[channel].find("m:sharedItems", NS)]
    assert items == sorted(frame["channel"].unique())
    assert [items[int(r[channel].get("v"))] for r in rs] == frame["channel"].tolist()
    ttr = headers.index("Resolution (h)")
    got = [float(r[ttr].get("v")) if r[ttr].tag.endswith("}n") else np.nan for r in rs]
    np.testing.assert_array_equal(got, frame["ttr_hours"].to_numpy(dtype=float))
    created = headers.index("Created")
    assert [r[created].get("v") for r in rs[:5]] == [
        t.strftime("%Y-%m-%dT%H:%M:%S") for t in frame["created_at"].iloc[:5]]
    priority = fields[headers.index("Priority")].find("m:sharedItems", NS)
    assert [s.get("v") for s in priority] == [p for p in ("Critical", "High", "Medium", "Low")
                                              if p in set(frame["priority"])]


def test_created_is_grouped_by_month_and_year(small_workbook, frame):
    fields = pivot_parts(small_workbook)["xl/pivotCache/pivotCacheDefinition1.xml"].findall(
        "m:cacheFields/m:cacheField", NS)
    created = next(f for f in fields if f.get("name") == "Created")
    group = created.find("m:fieldGroup", NS)
    assert group.get("base") == "1" and group.get("par") == str(len(fields) - 1)
    assert group.find("m:rangePr", NS).get("groupBy") == "months"
    assert [s.get("v") for s in group.find("m:groupItems", NS)][1:13] == [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    years = fields[-1]
    assert years.get("databaseField") == "0"
    assert years.find("m:fieldGroup/m:rangePr", NS).get("groupBy") == "years"
    assert [s.get("v") for s in years.find("m:fieldGroup/m:groupItems", NS)][1:-1] == [
        str(y) for y in sorted(frame["created_at"].dt.year.unique())]


def test_refresh_on_open_is_an_option(custom_workbook):
    definition = pivot_parts(custom_workbook)["xl/pivotCache/pivotCacheDefinition1.xml"]
    assert definition.get("refreshOnLoad") == "1"


def _column(n: int) -> str:
    from supportxl.workbook.ranges import column_letter
    return column_letter(n - 1)


# --- the package -----------------------------------------------------------------------

def test_package_declares_and_links_every_part(small_workbook):
    with zipfile.ZipFile(small_workbook) as z:
        types = z.read("[Content_Types].xml").decode()
        workbook = z.read("xl/workbook.xml").decode()
        workbook_rels = z.read("xl/_rels/workbook.xml.rels").decode()
        names = z.namelist()
        sheet_id, sheet_part = _pivots_sheet(z)
        sheet = z.read(sheet_part).decode()
        sheet_rels = z.read(sheet_part.replace("worksheets/", "worksheets/_rels/") + ".rels").decode()
        assert len(names) == len(set(names))
        for part, kind in [("pivotCache/pivotCacheDefinition1", "spreadsheetml.pivotCacheDefinition"),
                           ("pivotCache/pivotCacheRecords1", "spreadsheetml.pivotCacheRecords"),
                           *((f"pivotTables/pivotTable{n}", "spreadsheetml.pivotTable") for n in range(1, 5)),
                           *((f"slicerCaches/slicerCache{n}", "ms-excel.slicerCache") for n in range(1, 4)),
                           ("slicers/slicer1", "ms-excel.slicer"),
                           ("timelineCaches/timelineCache1", "ms-excel.timelineCache"),
                           ("timelines/timeline1", "ms-excel.timeline")]:
            assert f"xl/{part}.xml" in names
            assert f'PartName="/xl/{part}.xml" ContentType="application/vnd.{"openxmlformats-officedocument." if "spreadsheetml" in kind else ""}{kind}+xml"' in types
        cache_rel = re.search(r'<pivotCache cacheId="1" r:id="(rId\d+)"/>', workbook).group(1)
        assert f'Id="{cache_rel}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/' \
               f'pivotCacheDefinition" Target="pivotCache/pivotCacheDefinition1.xml"' in workbook_rels
        assert workbook_rels.count("relationships/slicerCache") == 3
        assert workbook.count("<x14:slicerCache r:id=") == 3
        for name in ("Slicer_Channel", "Slicer_Priority", "Slicer_Team"):
            assert f'<definedName name="{name}">#N/A</definedName>' in workbook
        assert sheet_rels.count("relationships/pivotTable") == 4
        assert re.search(r'<drawing r:id="rId\d+"/>', sheet)
        assert re.search(r'<x14:slicerList><x14:slicer r:id="rId\d+"/></x14:slicerList>', sheet)
        # the timeline: the workbook lists its cache, the sheet its part, each through a relationship
        timeline_cache_rel = re.search(r'<ext uri="\{D0CA8CA8-9F24-4464-BF8E-62219DCF47F9\}" xmlns:x15="[^"]+">'
                                       r'<x15:timelineCacheRefs><x15:timelineCacheRef r:id="(rId\d+)"/>', workbook).group(1)
        assert f'Id="{timeline_cache_rel}" Type="http://schemas.microsoft.com/office/2011/relationships/' \
               f'timelineCache" Target="timelineCaches/timelineCache1.xml"' in workbook_rels
        timeline_rel = re.search(r'<ext uri="\{7E03D99C-DC04-49d9-9315-930204A7B6E9\}" xmlns:x15="[^"]+">'
                                 r'<x15:timelineRefs><x15:timelineRef r:id="(rId\d+)"/>', sheet).group(1)
        assert f'Id="{timeline_rel}" Type="http://schemas.microsoft.com/office/2011/relationships/timeline" ' \
               f'Target="../timelines/timeline1.xml"' in sheet_rels
        assert '<definedName name="NativeTimeline_Created">#N/A</definedName>' in workbook
    parts = pivot_parts(small_workbook)
    names = [t.get("name") for t in pivot_tables(small_workbook).values()]
    for n in range(1, 4):
        cache = parts[f"xl/slicerCaches/slicerCache{n}.xml"]
        linked = cache.findall("x14:pivotTables/x14:pivotTable", NS)
        assert [p.get("name") for p in linked] == names  # every slicer filters every pivot
        assert {p.get("tabId") for p in linked} == {sheet_id}
        assert cache.find("x14:data/x14:tabular", NS).get("pivotCacheId") == "1"
    x14 = parts["xl/pivotCache/pivotCacheDefinition1.xml"].find(".//x14:pivotCacheDefinition", NS)
    assert x14.get("pivotCacheId") == "1"


def test_the_timeline_filters_every_pivot_over_the_years_of_created(small_workbook, frame):
    parts = pivot_parts(small_workbook)
    cache = parts["xl/timelineCaches/timelineCache1.xml"]
    timeline = parts["xl/timelines/timeline1.xml"].find("x15:timeline", NS)
    assert (cache.get("name"), cache.get("sourceName")) == ("NativeTimeline_Created", "Created")
    with zipfile.ZipFile(small_workbook) as z:
        sheet_id, _ = _pivots_sheet(z)
    linked = cache.findall("x15:pivotTables/x15:pivotTable", NS)
    assert [(p.get("tabId"), p.get("name")) for p in linked] == [
        (sheet_id, t.get("name")) for t in pivot_tables(small_workbook).values()]
    state = cache.find("x15:state", NS)
    assert state.get("pivotCacheId") == parts["xl/pivotCache/pivotCacheDefinition1.xml"].find(
        ".//x14:pivotCacheDefinition", NS).get("pivotCacheId") == "1"
    assert state.get("filterType") == "unknown" and state.find("x15:selection", NS) is None  # nothing selected
    years = frame["created_at"].dt.year
    bounds = state.find("x15:bounds", NS)
    assert (bounds.get("startDate"), bounds.get("endDate")) == (f"{years.min()}-01-01T00:00:00",
                                                                f"{years.max() + 1}-01-01T00:00:00")
    assert dict(timeline.attrib) == {"name": "Created", "cache": "NativeTimeline_Created", "caption": "Created",
                                     "level": "2", "selectionLevel": "2",  # months
                                     "scrollPosition": f"{years.min()}-01-01T00:00:00"}
    with zipfile.ZipFile(small_workbook) as z:
        drawing = next(z.read(n).decode() for n in z.namelist() if n.startswith("xl/drawings/drawing")
                       and "timeslicer" in z.read(n).decode())
    assert drawing.count("<xdr:twoCellAnchor") == 4  # three slicers and the timeline
    assert '<mc:Choice xmlns:tsle="http://schemas.microsoft.com/office/drawing/2012/timeslicer" Requires="tsle">' \
           in drawing
    assert '<tsle:timeslicer xmlns:tsle="http://schemas.microsoft.com/office/drawing/2012/timeslicer" ' \
           'name="Created"/>' in drawing


def test_a_template_without_a_timeline_has_no_timeline_parts(tiny_dataset, tmp_path):
    path = tmp_path / "no-timeline.xlsx"
    build_workbook(tiny_dataset, path, load_template("dashboard", ['timeline=""']))
    with zipfile.ZipFile(path) as z:
        assert not [n for n in z.namelist() if "timeline" in n.lower()]
        assert "timeline" not in z.read("xl/workbook.xml").decode().lower()
        assert "slicerCache1.xml" in " ".join(z.namelist())  # the slicers stay


def _pivots_sheet(z: zipfile.ZipFile) -> tuple[str, str]:
    workbook = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    sheet_id, rel = re.search(r'<sheet name="Pivots" sheetId="(\d+)" r:id="(rId\d+)"/>', workbook).groups()
    target = re.search(rf'Id="{rel}" Type="[^"]*" Target="([^"]*)"', rels).group(1)
    return sheet_id, "xl/" + target


def test_parts_carry_the_attributes_excel_relies_on(small_workbook):
    for name, root in pivot_parts(small_workbook).items():
        for element in root.iter():
            namespace, tag = element.tag[1:].split("}")
            tag = next((f"{prefix}:{tag}" for prefix in ("x14", "x15") if namespace == NS[prefix]), tag)
            for attribute in REQUIRED_ATTRIBUTES.get(tag, ()):
                assert element.get(attribute) is not None, (name, tag, attribute)
            if tag in COUNTED and element.get("count") is not None:
                assert int(element.get("count")) == len(element), (name, tag)
        if root.tag.endswith("pivotTableDefinition"):
            cache = pivot_parts(small_workbook)["xl/pivotCache/pivotCacheDefinition1.xml"]
            fields = cache.findall("m:cacheFields/m:cacheField", NS)
            assert len(root.find("m:pivotFields", NS)) == len(fields)
            for pf, cf in zip(root.find("m:pivotFields", NS), fields):
                if pf.get("axis"):  # an axis field lists every shared item, then its subtotal
                    shared = len(cf.find("m:sharedItems", NS))
                    assert [i.get("x") for i in pf.find("m:items", NS)] == [*map(str, range(shared)), None]


def test_same_inputs_same_bytes_in_any_time_zone(tmp_path):
    dataset = make_dataset(300, seed=5)
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    template = load_template("dashboard")
    build_workbook(dataset, first, template)
    zone = os.environ.get("TZ")
    try:
        os.environ["TZ"] = "Pacific/Kiritimati"
        time.tzset()
        build_workbook(dataset, second, template)
    finally:
        os.environ.pop("TZ") if zone is None else os.environ.__setitem__("TZ", zone)
        time.tzset()
    assert first.read_bytes() == second.read_bytes()


def test_a_template_without_pivots_has_no_pivot_parts(small_dataset, tmp_path):
    sheets = [s for s in load_template().sheets if s != "Pivots"]
    path = tmp_path / "plain.xlsx"
    build_workbook(small_dataset, path, load_template("dashboard", [f"sheets={json.dumps(sheets)}"]))
    with zipfile.ZipFile(path) as z:
        assert not [n for n in z.namelist() if any(k in n.lower() for k in ("pivot", "slicer", "timeline"))]
        assert "<pivotCaches>" not in z.read("xl/workbook.xml").decode()


# --- the template section ----------------------------------------------------------------

HEADERS = ", ".join(c.header for c in ticket_columns(False))


@pytest.mark.parametrize("override,message", [
    ('pivots=[{name="A", rows="Chanel"}]',
     f"--set: pivots[0].rows has unknown field 'Chanel' (valid: the Tickets headers {HEADERS})."),
    ('pivots=[{name="A", rows="Channel", filters=["Team", "Regin"]}]',
     f"--set: pivots[0].filters[1] has unknown field 'Regin' (valid: the Tickets headers {HEADERS})."),
    ('pivots=[{name="A"}]', "--set: pivots[0].rows is required."),
    ('pivots=[{rows="Channel"}]', "--set: pivots[0].name is required."),
    ('pivots=[{name="A", rows="Channel"}, {name="A", rows="Team"}]',
     "--set: pivots[1].name 'A' is the name of another pivot."),
    ('pivots=[{name="A", rows="Channel", colums="Team"}]',
     "--set: unknown key 'pivots[0].colums' (valid keys: aggregation, columns, filters, name, rows, values)."),
    ('pivots=[{name="A", rows="Channel", aggregation="median", values="Resolution (h)"}]',
     "--set: pivots[0].aggregation has unknown name 'median' (valid: count, sum, average, min, max)."),
    ('pivots=[{name="A", rows="Channel", aggregation="sum", values="Agent"}]',
     "--set: pivots[0].values 'Agent' is text: its aggregation can only be count, found 'sum'."),
    ('pivots=[{name="A", rows="Channel", columns="Team", filters=["Channel"]}]',
     "--set: pivots[0] uses 'Channel' twice among rows, columns and filters."),
    ("pivots=[]", "--set: sheets lists 'Pivots' but pivots declares none (add a [[pivots]] table, "
                  "or drop 'Pivots' from sheets)."),
    ('slicers=["Channel", "Tem"]', f"--set: slicers[1] has unknown field 'Tem' (valid: the Tickets headers "
                                   f"{HEADERS})."),
    ('slicers=["Team", "Team"]', "--set: slicers lists 'Team' twice."),
    ("refresh_on_open=yes", "--set: refresh_on_open should be true or false, found 'yes'."),
    ('timeline="Resolution (h)"', "--set: timeline has unknown date field 'Resolution (h)' (valid: the Tickets "
                                  "date headers Created, First response, Resolved, or \"\" for none)."),
    ('timeline="Channel"', "--set: timeline has unknown date field 'Channel' (valid: the Tickets date headers "
                           "Created, First response, Resolved, or \"\" for none)."),
    ('slicers=["Channel", "Created"]', "--set: 'Created' is both the timeline and a slicer; drop it from one of them."),
    ("timeline=3", "--set: timeline should be a text, found 3."),
    ('pivots=[{name="A", rows=3}]', "--set: pivots[0].rows should be a text, found 3."),
])
def test_bad_pivot_declarations(override, message):
    with pytest.raises(ParameterError) as info:
        load_template("dashboard", [override])
    assert str(info.value) == message


def test_the_default_template_declares_the_four_pivots_three_slicers_and_a_timeline():
    template = load_template()
    assert [p.name for p in template.pivots] == [
        "Tickets by month and channel", "Tickets by issue type and status",
        "Resolution SLA breaches by priority", "Mean resolution hours by team and priority"]
    assert template.slicers == ("Channel", "Priority", "Team")
    assert template.timeline == "Created"
    assert template.refresh_on_open is False
    assert "Pivots" in template.sheets


# --- schema validation -------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_dataset():
    return make_dataset(300, seed=11)


@pytest.mark.parametrize("template,overrides", [
    ("dashboard", []),
    ("dashboard", ["slicers=[]"]),
    ("dashboard", ['timeline=""']),
    ("dashboard", ["sheets=" + json.dumps([s for s in load_template().sheets if s != "Pivots"])]),
    ("agent_review", []),
    ("executive", []),
])
def test_openxml_audit_finds_no_errors(tiny_dataset, tmp_path, template, overrides):
    from openxml_audit import OpenXmlValidator

    path = tmp_path / "book.xlsx"
    build_workbook(tiny_dataset, path, load_template(template, overrides))
    result = OpenXmlValidator().validate(str(path))
    assert result.error_count == 0, [str(e) for e in result.errors[:10]]


# --- LibreOffice -------------------------------------------------------------------------

def lo_pivot_or_skip():
    soffice_or_skip()
    if not LO_PIVOT.is_file() or not shutil.which(SYSTEM_PYTHON):
        pytest.skip(f"{LO_PIVOT} or {SYSTEM_PYTHON} is missing")
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("python3-uno is not installed: apt-get install -y python3-uno")


@pytest.mark.libreoffice
def test_libreoffice_round_trip_keeps_the_pivots(small_workbook, tmp_path):
    from supportxl.verify import recalculate

    soffice_or_skip()
    saved = recalculate(small_workbook, tmp_path)
    ours, theirs = pivot_tables(small_workbook), pivot_tables(saved)
    assert sorted(theirs) == sorted(ours)
    cache = lambda p: [f.get("name") for f in pivot_parts(p)["xl/pivotCache/pivotCacheDefinition1.xml"]  # noqa: E731
                       .findall("m:cacheFields/m:cacheField", NS)]
    assert cache(saved)[:len(ticket_columns(False))] == cache(small_workbook)[:len(ticket_columns(False))]
    for name, table in ours.items():
        for tag in ("rowFields", "colFields", "pageFields", "dataFields"):
            fields = lambda t: [(f.get("x") or f.get("fld"), f.get("subtotal"))  # noqa: E731
                                for f in (t.find(f"m:{tag}", NS) if t.find(f"m:{tag}", NS) is not None else [])]
            assert fields(theirs[name]) == fields(table), (name, tag)


@pytest.mark.libreoffice
def test_libreoffice_refreshes_the_pivots_to_our_values(small_workbook, tmp_path):
    lo_pivot_or_skip()
    out = tmp_path / "lo.json"
    subprocess.run([SYSTEM_PYTHON, str(LO_PIVOT), "refresh", str(small_workbook), str(out)],
                   check=True, capture_output=True, timeout=600)
    found = {t["name"]: t["cells"] for t in json.loads(out.read_text())}
    tables = pivot_tables(small_workbook)
    assert sorted(found) == sorted(tables)
    for name, table in tables.items():
        has_columns = table.find("m:colFields", NS) is not None
        cells = found[name]
        caption = table.find("m:dataFields/m:dataField", NS).get("name") if has_columns \
            else table.get("rowHeaderCaption")
        start = next(i for i, row in enumerate(cells) if row[0] == caption)  # below the page fields
        theirs = cells_by_label(cells[start:], has_columns, table.get("rowHeaderCaption") == "Month")
        assert theirs == pytest.approx(rendered(small_workbook, name), rel=1e-9), name


# --- the cache of a small table ----------------------------------------------------------

def test_cache_items_ignore_case_and_blanks_are_their_own_item():
    from supportxl.schema import Column
    from supportxl.workbook.pivots import build_cache, cache_definition_xml, cache_records_xml

    columns = (Column("team", "Team"), Column("hours", "Hours", "hours"), Column("when", "When", "datetime"))
    cells = {"team": ("text", np.array(["b", "A", "", "a", "=SUM(A1)"], dtype=object)),
             "hours": ("number", np.array([1.5, np.nan, 2.0, 1.5, 3.0])),
             "when": ("date", np.array([45658.5, 45659.0, np.nan, 45658.5, 45700.25]))}
    cache = build_cache("Data", columns, cells, {"Team"}, group_by_month="When")
    team = cache.field("Team")
    assert team.items == ("=SUM(A1)", "A", "b")  # "a" shares "A"'s item, as in Excel
    assert team.item_codes().tolist() == [2, 1, 3, 1, 0] and team.labels()[-1] == "(blank)"
    definition = ET.fromstring(cache_definition_xml(cache))
    shared = definition.find("m:cacheFields/m:cacheField/m:sharedItems", NS)
    assert (shared.get("containsBlank"), shared.get("count")) == ("1", "4")
    assert [e.tag.split("}")[1] for e in shared] == ["s", "s", "s", "m"]
    hours = definition.findall("m:cacheFields/m:cacheField", NS)[1].find("m:sharedItems", NS)
    assert dict(hours.attrib) == {"containsString": "0", "containsBlank": "1", "containsNumber": "1",
                                  "minValue": "1.5", "maxValue": "3"}
    records = ET.fromstring(cache_records_xml(cache))
    assert [[(e.tag.split("}")[1], e.get("v")) for e in r] for r in records] == [
        [("x", "2"), ("n", "1.5"), ("d", "2025-01-01T12:00:00")],
        [("x", "1"), ("m", None), ("d", "2025-01-02T00:00:00")],
        [("x", "3"), ("n", "2.0"), ("m", None)],
        [("x", "1"), ("n", "1.5"), ("d", "2025-01-01T12:00:00")],
        [("x", "0"), ("n", "3.0"), ("d", "2025-02-12T06:00:00")]]
    assert definition.find("m:cacheSource/m:worksheetSource", NS).attrib == {"ref": "A1:C6", "sheet": "Data"}


def test_a_pivot_too_wide_for_a_sheet_is_a_clear_error(tiny_dataset, tmp_path, monkeypatch):
    from supportxl.errors import SupportxlError
    from supportxl.workbook.sheets import pivots

    monkeypatch.setattr(pivots, "MAX_COLUMNS", 10)
    template = load_template("dashboard", ['pivots=[{name="Per agent", rows="Team", columns="Agent"}]'])
    agents = tiny_dataset.tickets["agent"].nunique()
    with pytest.raises(SupportxlError) as info:
        build_workbook(tiny_dataset, tmp_path / "wide.xlsx", template)
    assert str(info.value) == (f"pivot 'Per agent': 3 row and {agents:,} column items do not fit on the Pivots "
                               f"sheet (Excel's limit is 1,048,576 rows and 10 columns); choose fields with "
                               f"fewer distinct values.")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_a_failure_while_the_records_are_deflated_leaves_no_file(tiny_dataset, tmp_path, monkeypatch):
    from supportxl.workbook import pivots

    def failing(cache):
        yield b"<pivotCacheRecords>"
        raise MemoryError("no room for the records")

    monkeypatch.setattr(pivots, "cache_records_chunks", failing)
    with pytest.raises(MemoryError, match="no room for the records"):
        build_workbook(tiny_dataset, tmp_path / "book.xlsx", load_template())
    assert not list(tmp_path.iterdir())  # the records' thread handed its error over; nothing half-written


# --- the records built beside the writer ------------------------------------------------

def _records_cache(rows: int = 12_000):
    from supportxl.schema import Column
    from supportxl.workbook.pivots import build_cache

    rng = np.random.default_rng(7)
    columns = (Column("team", "Team"), Column("hours", "Hours", "hours"))
    cells = {"team": ("text", rng.choice(np.array(["Tier 1", "Tier 2", ""], dtype=object), rows)),
             "hours": ("number", np.round(rng.exponential(9, rows), 6))}
    return build_cache("Data", columns, cells, {"Team"})


def _inflated(result) -> bytes:
    data, crc, size = result
    text = zlib.decompressobj(-zlib.MAX_WBITS).decompress(data)
    assert (zlib.crc32(text), len(text)) == (crc, size)
    return text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
def test_forked_and_threaded_records_are_the_records():
    from supportxl.workbook.pivots import DeflatedRecords, ForkedRecords, cache_records_xml, deflated_records

    cache = _records_cache()
    expected = cache_records_xml(cache)
    assert _inflated(deflated_records(cache)) == expected
    forked, threaded = ForkedRecords(cache), DeflatedRecords(cache)
    assert forked.result() == threaded.result() == deflated_records(cache)
    forked.cancel()  # after the result: nothing left to stop


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
def test_a_failing_records_child_leaves_the_records_to_the_parent(monkeypatch):
    from supportxl.workbook import pivots

    cache, parent, real = _records_cache(), os.getpid(), pivots.deflated_records

    def fails_in_the_child(*args):
        if os.getpid() != parent:
            raise MemoryError
        return real(*args)

    monkeypatch.setattr(pivots, "deflated_records", fails_in_the_child)
    records = pivots.ForkedRecords(cache)
    assert records.result() == real(cache)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
def test_cancelled_records_end_their_child_at_once():
    from supportxl.workbook.pivots import ForkedRecords

    records = ForkedRecords(_records_cache(400_000))  # seconds of work for the child
    child = records._pid
    records.cancel()
    with pytest.raises(ChildProcessError):  # already reaped: no zombie left behind
        os.waitpid(child, os.WNOHANG)
    assert records._file.closed
