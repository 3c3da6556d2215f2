"""The Dashboard as a person meets it: filters, cards, charts, sparklines, print and render."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from supportxl.metrics.derive import derive_tickets
from supportxl.metrics.kpis import kpi
from supportxl.template import load_template
from supportxl.verify import compare_with_recalculated, recalculate, run_libreoffice, set_cell_values
from supportxl.workbook.builder import build_workbook
from supportxl.workbook.catalogue import DEFAULT_CARDS as CARD_KPIS
from supportxl.workbook.sheets.data import excel_serial

from conftest import kpi_value, load_book as load, make_dataset, soffice_or_skip

CARD_CELLS = ["A8", "D8", "G8", "J8", "M8", "A14", "D14", "G14", "J14", "M14"]
FILTER_CELLS = {"Period": "B5", "Channel": "E5", "Priority": "H5", "Team": "K5"}


def test_dashboard_is_first_and_active(book):
    assert book.sheetnames[0] == "Dashboard"
    assert book.active.title == "Dashboard"
    assert book["Lists"].sheet_state == "hidden"


def test_filters_are_drop_downs_defaulting_to_all(book):
    ws = book["Dashboard"]
    validations = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    assert set(validations) == set(FILTER_CELLS.values())
    for label, ref in FILTER_CELLS.items():
        assert ws[ref].value == "(All)"
        assert validations[ref].type == "list"
        column = "ABCD"[list(FILTER_CELLS).index(label)]
        assert validations[ref].formula1.startswith(f"Lists!${column}$2:${column}$")
        assert ws[ref.replace("B", "A").replace("E", "D").replace("H", "G").replace("K", "J")].value == label


def test_cards_show_kpis_with_cached_values_of_all(book, values, small_dataset):
    ws, wv = book["Dashboard"], values["Dashboard"]
    template = load_template()
    frame = derive_tickets(small_dataset, template)
    for ref, key in zip(CARD_CELLS, CARD_KPIS):
        row, col = ws[ref].row, ws[ref].column
        assert ws.cell(row - 1, col).value == kpi(key).name
        formula = ws[ref].value
        text = formula.text if hasattr(formula, "text") else formula
        # Every filter is read through the Tickets table's selection column, tested once per ticket.
        assert "Tickets[Dashboard selection]" in text
        assert "Tickets[Channel]" not in text and "Dashboard!" not in text and '"*"' not in text
        expected = kpi_value(key, frame, template)
        assert wv[ref].value == pytest.approx(expected), key
    assert wv["A9"].value == "No target set"
    assert wv["J9"].value.startswith("Target 80.0%  ")


def test_the_tickets_table_tests_the_filters_once_per_ticket(book, values):
    tickets, cached = book["Tickets"], values["Tickets"]
    headers = [c.value for c in tickets[1]]
    assert headers[-1] == "Dashboard selection"
    letter = {h: get_column_letter(i) for i, h in enumerate(headers, start=1)}
    channel, priority, team, month = (letter[h] for h in ("Channel", "Priority", "Team", "Month"))
    assert tickets[f"{letter['Dashboard selection']}37"].value == (
        f'=IF(AND(OR(Filter_channel="(All)",${channel}37=Filter_channel&""),'
        f'OR(Filter_priority="(All)",${priority}37=Filter_priority&""),'
        f'OR(Filter_team="(All)",${team}37=Filter_team&"")),'
        f"IF(AND(${month}37>=PeriodFromMonth,${month}37<=PeriodToMonth),2,1),0)")
    column = [row[0].value for row in cached.iter_rows(min_row=2, min_col=len(headers), max_col=len(headers))]
    assert len(column) == tickets.max_row - 1 and set(column) == {2}  # under "(All)" every ticket is in
    names = book.defined_names
    assert (names["PeriodFromMonth"].attr_text, names["PeriodToMonth"].attr_text) == ("Lists!$G$2", "Lists!$H$2")
    assert (book["Lists"]["G1"].value, book["Lists"]["H1"].value) == ("From month", "To month")


def test_cards_and_filters_have_defined_names(book):
    names = book.defined_names
    for ref, key in zip(CARD_CELLS, CARD_KPIS):
        assert names[f"Card_{key}"].attr_text == "Dashboard!$" + ref[0] + "$" + ref[1:]
    for label, ref in FILTER_CELLS.items():
        assert names[f"Filter_{label.lower()}"].attr_text == "Dashboard!$" + ref[0] + "$" + ref[1:]


def test_cards_are_coloured_against_targets(book):
    ws = book["Dashboard"]
    rules = {str(rng.sqref): [r.formula[0] for r in rng.rules] for rng in ws.conditional_formatting}
    assert rules["J8"] == ["AND(ISNUMBER(J8),J8>=Target_resolution_compliance)",
                           "AND(ISNUMBER(J8),J8<Target_resolution_compliance)"]
    assert rules["A14"] == ["AND(ISNUMBER(A14),A14>=Target_response_compliance)",
                            "AND(ISNUMBER(A14),A14<Target_response_compliance)"]
    assert rules["G14"] == ["AND(ISNUMBER(G14),G14<=Target_escalation_rate)",
                            "AND(ISNUMBER(G14),G14>Target_escalation_rate)"]


def _chart_parts(path):
    with zipfile.ZipFile(path) as book:
        rels = book.read("xl/drawings/_rels/drawing1.xml.rels").decode()
        charts = re.findall(r'Target="\.\./charts/(chart\d+\.xml)"', rels)
        return {name: book.read(f"xl/charts/{name}").decode() for name in charts}


def test_eight_native_charts_over_non_empty_ranges(small_workbook, values):
    charts = _chart_parts(small_workbook)
    assert len(charts) == 8
    for name, xml in charts.items():
        assert xml.count("<c:title>") >= 1, name
        refs = re.findall(r"<c:f>(.*?)</c:f>", xml)
        assert refs, name
        for ref in refs:
            sheet, cells = ref.rsplit("!", 1)
            sheet = sheet.strip("'")
            assert sheet in values.sheetnames, ref
            cells = cells.replace("$", "")
            rows = values[sheet][cells]
            flat = [c for row in (rows if isinstance(rows, tuple) else ((rows,),)) for c in
                    (row if isinstance(row, tuple) else (row,))]
            assert any(c.value not in (None, "") for c in flat), ref
    kinds = " ".join(charts.values())
    for element in ("<c:barChart>", "<c:lineChart>", "<c:doughnutChart>", "<c:scatterChart>"):
        assert element in kinds
    assert kinds.count("<c:valAx>") >= 8  # every chart has a value axis with a title
    assert 'c:grouping val="percentStacked"' in kinds  # SLA outcome: every priority on one scale


def test_rate_axes_run_from_0_to_100_percent(small_workbook):
    """A rate axis that starts at 83 % makes a 3-point move look huge: every one is 0-100 %."""
    rate_axes = 0
    for name, xml in _chart_parts(small_workbook).items():
        for axis in re.findall(r"<c:valAx>.*?</c:valAx>", xml, re.S):
            code = re.search(r'<c:numFmt formatCode="([^"]*)"', axis)
            if code is None or "%" not in code.group(1) or "percentStacked" in xml:
                continue
            rate_axes += 1
            assert '<c:max val="1"/>' in axis and '<c:min val="0"/>' in axis, name
    assert rate_axes >= 4  # breach rate, CSAT trend, agent CSAT, cumulative share


def test_changes_say_what_they_compare(values, small_dataset):
    """With Month = (All), the cards compare the last complete month with the one before."""
    wv = values["Dashboard"]
    assert small_dataset.as_of == pd.Timestamp("2026-01-01")  # December is still maturing
    labels = {wv.cell(r, c).value for r in (10, 16) for c in (3, 6, 9, 12, 15)}
    assert labels == {"Nov vs Oct"}
    lists = values["Lists"]
    helpers = {lists.cell(1, c).value: lists.cell(2, c).value for c in range(6, 20)}
    assert helpers["Focus from"] == helpers["Focus to"] == pd.Timestamp("2025-11-01")
    assert helpers["Previous from"] == helpers["Previous to"] == pd.Timestamp("2025-10-01")
    assert helpers["Comparison"] == "Nov vs Oct"


def test_the_period_filter_lists_years_quarters_then_months(values):
    lists = values["Lists"]
    options = [lists.cell(r, 1).value for r in range(2, 20)]
    assert options == ["(All)", "2025", "2025 Q1", "2025 Q2", "2025 Q3", "2025 Q4",
                       *(pd.Timestamp(2025, m, 1) for m in range(1, 13))]
    assert lists.cell(20, 1).value is None


def test_sparklines_on_every_card(small_workbook):
    with zipfile.ZipFile(small_workbook) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    groups = re.findall(r"<x14:sparklineGroup .*?</x14:sparklineGroup>", sheet, re.S)
    assert len(groups) == 10
    for group in groups:
        ref = re.search(r"<xm:f>(.*?)</xm:f>", group).group(1)
        assert re.fullmatch(r"Dashboard![A-Z]+7\d:[A-Z]+8\d", ref), ref


def test_print_setup(book):
    dash = book["Dashboard"]
    assert dash.page_setup.orientation == "landscape"
    assert dash.sheet_properties.pageSetUpPr.fitToPage
    assert dash.page_setup.fitToWidth in (None, 1) and dash.page_setup.fitToHeight in (None, 1)
    assert dash.print_area == "'Dashboard'!$A$1:$O$67"
    assert "&A" in dash.oddHeader.right.text
    assert "Page &P of &N" in dash.oddFooter.right.text
    tickets = book["Tickets"]
    assert tickets.print_title_rows == "$1:$1"
    assert tickets.sheet_properties.pageSetUpPr.fitToPage
    assert tickets.page_setup.fitToWidth in (None, 1) and tickets.page_setup.fitToHeight == 0


@pytest.mark.libreoffice
def test_filters_recalculate_to_pandas_on_the_filtered_tickets(small_dataset, small_workbook, tmp_path):
    soffice_or_skip()
    march = pd.Timestamp("2025-03-01")
    edited = set_cell_values(small_workbook, "Dashboard",
                             {"B5": excel_serial(march), "E5": "Email", "K5": "Tier 1"},
                             tmp_path / "filtered.xlsx")
    recalculated = recalculate(edited, tmp_path / "out")
    wv = load(recalculated, data_only=True)["Dashboard"]
    template = load_template()
    frame = derive_tickets(small_dataset, template)
    subset = frame[(frame["month"] == march) & (frame["channel"] == "Email") & (frame["team"] == "Tier 1")]
    assert 20 < len(subset) < len(frame) / 10
    # The Backlog card counts what was open at the end of March, whenever it was created.
    filtered = frame[(frame["channel"] == "Email") & (frame["team"] == "Tier 1")]
    april = pd.Timestamp("2025-04-01")
    open_at_march_end = int(((filtered["created_at"] < april)
                             & ~(filtered["resolved_at"] < april)).sum())
    for ref, key in zip(CARD_CELLS, CARD_KPIS):
        expected = open_at_march_end if key == "backlog" else kpi_value(key, subset, template)
        got = wv[ref].value
        if expected is None:
            assert got in (None, ""), key
        else:
            assert got == pytest.approx(expected, rel=1e-9), key
    comparison = compare_with_recalculated(edited, recalculated)
    assert comparison.formula_cells > 1_000 and not comparison.errors, comparison.summary()


@pytest.fixture(scope="module")
def second_quarter_high(tmp_path_factory):
    """A few hundred tickets' workbook with the Dashboard set to 2025 Q2 and High priority, as
    written and as LibreOffice recalculated it, with the derived tickets."""
    soffice_or_skip()
    dataset = make_dataset(400, seed=5)
    folder = tmp_path_factory.mktemp("selection")
    build_workbook(dataset, folder / "book.xlsx")
    edited = set_cell_values(folder / "book.xlsx", "Dashboard", {"B5": "2025 Q2", "H5": "High"},
                             folder / "q2-high.xlsx")
    return derive_tickets(dataset, load_template()), edited, recalculate(edited, folder / "out")


def _grid(ws, header: str, value_header: str) -> dict:
    """A Dashboard grid below the charts as {row label: value}: the grid whose label column is
    headed ``header``, its column headed ``value_header``, down to the total row."""
    top = next(c for row in ws.iter_rows(min_row=60) for c in row if c.value == header)
    col = next(c.column for c in ws[top.row] if c.column > top.column and c.value == value_header)
    values = {}
    for row in range(top.row + 1, ws.max_row + 1):
        label = ws.cell(row, top.column).value
        if label in (None, "Total"):
            return values
        values[label] = ws.cell(row, col).value
    return values


@pytest.mark.libreoffice
def test_a_selection_recalculates_to_pandas_through_the_selection_column(second_quarter_high):
    frame, edited, recalculated = second_quarter_high
    book = load(recalculated, data_only=True)
    tickets, ws = book["Tickets"], book["Dashboard"]
    high = frame["priority"] == "High"
    quarter = frame["month"].between(pd.Timestamp("2025-04-01"), pd.Timestamp("2025-06-01"))
    headers = [c.value for c in tickets[1]]
    selection = [row[0] for row in tickets.iter_rows(min_row=2, min_col=len(headers), values_only=True)]
    assert headers[-1] == "Dashboard selection"
    assert selection == np.where(high, np.where(quarter, 2, 1), 0).tolist()
    subset, high_tickets = frame[high & quarter], frame[high]
    assert 20 < len(subset) < len(high_tickets) < len(frame)
    # The cards: the quarter's High tickets.
    cards = dict(zip(CARD_KPIS, CARD_CELLS))
    assert ws[cards["tickets"]].value == len(subset)
    assert ws[cards["ttr_median"]].value == pytest.approx(subset["ttr_hours"].median(), rel=1e-9)
    # The grids by issue type and channel: the quarter's High tickets; by month: every month's.
    for header, key in (("Issue type", "issue_type"), ("Channel", "channel")):
        counts = subset[key].value_counts()
        assert {k: v for k, v in _grid(ws, header, "Tickets").items() if v} == counts.to_dict()
    months = {pd.Timestamp(m): n for m, n in high_tickets["month"].value_counts().items()}
    by_month = _grid(ws, "Month", "Tickets")
    assert {pd.Timestamp(m): n for m, n in by_month.items() if n} == months
    medians = high_tickets.groupby("month")["ttr_hours"].median()
    for month, value in _grid(ws, "Month", "Median resolution (h)").items():
        assert value == pytest.approx(medians[pd.Timestamp(month)], rel=1e-9)
    late = subset["resolved_at"].notna() & (subset["resolution_breached"] == 1)
    assert _grid(ws, "Priority", "Resolved late") == {"Critical": 0, "High": int(late.sum()), "Medium": 0, "Low": 0}
    means = subset.groupby("agent")["ttr_hours"].mean()
    agents = {k: v for k, v in _grid(ws, "Agent", "Mean resolution (h)").items() if v not in (None, "")}
    assert agents.keys() == set(means.dropna().index)
    assert all(agents[a] == pytest.approx(means[a], rel=1e-9) for a in agents)
    comparison = compare_with_recalculated(edited, recalculated)
    assert not comparison.errors, comparison.summary()


@pytest.mark.libreoffice
def test_dashboard_renders_to_one_non_blank_pdf_page(small_workbook, tmp_path):
    soffice_or_skip()
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftoppm, pdftotext) is not installed: apt-get install -y poppler-utils")
    run_libreoffice(["--convert-to", "pdf", "--outdir", str(tmp_path), str(small_workbook)])
    pdf = tmp_path / (small_workbook.stem + ".pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages > 2

    def page_text(n):
        return subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
                              capture_output=True, text=True).stdout

    first, second = page_text(1), page_text(2)
    assert "Support Performance Dashboard" in first and "Resolution SLA %" in first
    assert "Page 1 of" in first
    assert "Monthly trend" in second  # the Dashboard took exactly one page
    subprocess.run(["pdftoppm", "-gray", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True)
    image = next(tmp_path.glob("p*.pgm")).read_bytes()
    header_end = image.index(b"255\n") + 4
    pixels = image[header_end:]
    dark = sum(1 for b in pixels[::7] if b < 200) / len(pixels[::7])
    assert dark > 0.05  # text, cards and charts, not a blank page


def test_the_agent_scatter_names_its_outliers(small_workbook, values, small_dataset):
    """The three slowest agents and the three lowest CSATs are series of one point each, labelled
    with the series name, which is the agent's name cell (Excel and LibreOffice draw both)."""
    scatter = next(xml for xml in _chart_parts(small_workbook).values() if "<c:scatterChart>" in xml)
    series = re.findall(r"<c:ser>.*?</c:ser>", scatter, re.S)
    assert "<c:dLbls>" not in series[0]  # every agent, unlabelled
    wv = values["Dashboard"]
    names = set()
    for ser in series[1:]:
        name_ref = re.search(r"<c:tx><c:strRef><c:f>(Dashboard!\$A\$(\d+))</c:f>", ser)
        x_ref, y_ref = re.findall(r"<c:f>(Dashboard!\$[A-Z]+\$\d+)</c:f>", ser)[1:3]
        assert '<c:showSerName val="1"/>' in ser
        row = name_ref.group(2)
        assert x_ref.endswith(f"${row}") and y_ref.endswith(f"${row}")  # the point of that agent's row
        names.add(wv[f"A{row}"].value)
    frame = derive_tickets(small_dataset, load_template())
    ttr = frame.groupby("agent")["ttr_hours"].mean()
    rated = frame[frame["csat"].notna()]
    csat = (rated["csat"] >= 4).groupby(rated["agent"]).mean()
    expected = set(ttr.nlargest(3).index) | set(csat.nsmallest(3).index)
    assert names == expected and len(series) - 1 == len(names) and 3 <= len(names) <= 6
