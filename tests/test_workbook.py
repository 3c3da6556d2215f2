"""The built workbook read back with openpyxl: sheets, tables, formulas, cached values, formats."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from supportxl.dataset import Dataset
from supportxl.errors import SupportxlError
from supportxl.template import load_template
from supportxl.workbook.builder import build_workbook
from supportxl.workbook.catalogue import SHEET_NAMES
from supportxl.workbook.sheets.data import clean_text, clean_value

from conftest import load_book as load

EXPECTED_SHEETS = ["Dashboard", "Trend", "Channels", "SLA", "Segments", "Top Accounts", "Agent Performance",
                   "Heatmap", "Backlog", "Handling", "SLA at Risk", "Weekly", "Escalations", "Plan", "Pivots",
                   "Insights", "Settings", "About", "Tickets", "Accounts", "Agents", "Escalation Log", "Lists"]


def header_index(ws, header_row, text):
    for c in ws[header_row]:
        if c.value == text:
            return c.column
    raise KeyError(text)


def test_sheets_in_order(book):
    assert book.sheetnames == EXPECTED_SHEETS == [*SHEET_NAMES, "Lists"]  # and the hidden Lists sheet


def test_tickets_table(book, small_dataset):
    ws = book["Tickets"]
    table = ws.tables["Tickets"]
    assert table.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{len(small_dataset.tickets) + 1}"
    headers = [c.value for c in ws[1]]
    assert headers[:4] == ["Ticket ID", "Created", "First response", "Resolved"]
    assert "Resolution breached" in headers and "Breach cost (est.)" in headers
    assert "Resolution (bh)" not in headers  # no business calendar in the default template
    assert ws.freeze_panes == "A2"
    assert ws["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert {"Accounts": "AccountList", "Agents": "AgentList", "Escalation Log": "EscalationLog"} == {
        name: next(iter(book[name].tables)) for name in ("Accounts", "Agents", "Escalation Log")}


def test_breach_flags_are_formulas_with_cached_values(book, values, small_dataset):
    ws, wv = book["Tickets"], values["Tickets"]
    headers = [c.value for c in ws[1]]
    col = headers.index("Resolution breached") + 1
    target_col = headers.index("Resolution target (h)") + 1
    clock_col = headers.index("Resolution clock (h)") + 1
    prio_col = headers.index("Priority") + 1
    letter = ws.cell(1, target_col).column_letter
    clock = ws.cell(1, clock_col).column_letter
    assert ws.cell(2, col).value == f'=IF(${letter}2="","",IF(${clock}2>${letter}2,1,0))'
    prio_letter = ws.cell(1, prio_col).column_letter
    assert ws.cell(2, target_col).value == (
        f'=IFERROR(INDEX(SLA[Resolution target (h)],MATCH(${prio_letter}2,SLA[Priority],0)),"")')
    targets = {"Critical": 4, "High": 12, "Medium": 24, "Low": 48}
    t = small_dataset.tickets
    age = (small_dataset.as_of - t["created_at"]).dt.total_seconds() / 3600
    clock_h = ((t["resolved_at"] - t["created_at"]).dt.total_seconds() / 3600).fillna(age)
    expected = (clock_h > t["priority"].map(targets)).astype(int).tolist()
    cached = [wv.cell(r, col).value for r in range(2, len(t) + 2)]
    assert cached == expected


def test_settings_drive_the_formulas(book):
    ws = book["Settings"]
    assert "SLA" in ws.tables and "Targets" in ws.tables
    names = book.defined_names
    assert names["CsatGood"].attr_text == "Settings!$B$13"
    assert ws["B13"].value == 4
    assert ws["A6"].value == "Critical" and ws["C6"].value == 4
    assert names["Target_csat"].attr_text.startswith("Settings!$B$")
    assert names["ReportAsOf"].attr_text.startswith("Settings!$B$")


def test_trend_formulas_and_values(book, values, small_dataset):
    ws, wv = book["Trend"], values["Trend"]
    assert ws["A4"].value == "Month" and ws["B4"].value == "Tickets"
    assert ws["B5"].value == "=COUNTIFS(Tickets[Month],$A5)"
    t = small_dataset.tickets
    by_month = t.groupby(t["created_at"].dt.month).size()
    assert [wv.cell(r, 2).value for r in range(5, 17)] == by_month.tolist()
    assert wv["A17"].value == "Total" and wv["B17"].value == len(t)
    median_col = header_index(ws, 4, "Median resolution (h)")
    formula = ws.cell(5, median_col).value
    assert type(formula).__name__ == "ArrayFormula"
    assert formula.text.startswith("=IFERROR(MEDIAN(IF((Tickets[Month]=$A5)*")
    january = t[t["created_at"].dt.month == 1]
    ttr = (january["resolved_at"] - january["created_at"]).dt.total_seconds() / 3600
    assert wv.cell(5, median_col).value == pytest.approx(ttr.median(), rel=1e-9)
    backlog_col = header_index(ws, 4, "Backlog at month end")
    assert ws.cell(5, backlog_col).value == (
        '=COUNTIFS(Tickets[Created],"<"&EDATE($A5,1))-COUNTIFS(Tickets[Resolved],"<"&EDATE($A5,1))')
    end_jan = pd.Timestamp("2025-02-01")
    open_then = ((t["created_at"] < end_jan) & ~(t["resolved_at"] < end_jan)).sum()
    assert wv.cell(5, backlog_col).value == open_then


def test_summaries_have_totals(values, small_dataset):
    t = small_dataset.tickets
    channels = values["Channels"]
    assert channels["A3"].value == "Month \\ Channel"
    total_row = 3 + t["created_at"].dt.month.nunique() + 1
    assert channels.cell(total_row, 1).value == "Total"
    last = max(c.column for c in channels[3] if c.value is not None)
    assert channels.cell(total_row, last).value == len(t)
    heat = values["Heatmap"]
    counts = t.groupby([t["created_at"].dt.day_of_week, t["created_at"].dt.hour]).size()
    assert heat["A4"].value == "Weekday \\ Hour"
    assert heat.cell(5, 2 + 9).value == counts.get((0, 9), 0)  # Monday 09:00
    backlog = values["Backlog"]
    open_tickets = int(t["resolved_at"].isna().sum())
    total_col = 3 + 4 + 1
    assert backlog.cell(11, total_col).value == open_tickets


def test_agents_and_accounts(values, small_dataset):
    t = small_dataset.tickets
    agents = values["Agent Performance"]
    assert agents["A4"].value == "Agent"
    rows = {agents.cell(r, 1).value: agents.cell(r, 2).value for r in range(5, 5 + t["agent"].nunique())}
    assert rows == t["agent"].value_counts().to_dict()
    accounts = values["Top Accounts"]
    top = t["account_id"].value_counts()
    assert accounts["A5"].value == top.index[0] and accounts["B5"].value == top.iloc[0]
    headers = [c.value for c in accounts[4]]
    cumulative = headers.index("Cumulative share") + 1
    assert accounts.cell(5 + 24, cumulative).value == pytest.approx(top.iloc[:25].sum() / len(t))


def test_conditional_formats(book):
    def kinds(ws):
        return {rule.type for rng in ws.conditional_formatting for rule in rng.rules}
    assert "expression" in kinds(book["Tickets"])
    assert {"dataBar", "expression", "colorScale"} <= kinds(book["Trend"])
    assert "colorScale" in kinds(book["Heatmap"])


def test_about_records_provenance(values, small_dataset):
    about = values["About"]
    rows = {about.cell(r, 1).value: about.cell(r, 2).value for r in range(1, about.max_row + 1)}
    assert rows["Seed"] == "7"
    assert rows["Period"] == "01 Jan 2025 to 31 Dec 2025"
    assert rows["Template"] == "dashboard (shipped template templates/dashboard.toml)"
    assert rows["Data as of"] == "2026-01-01 00:00"
    assert "Resolution SLA %" in rows


def test_same_inputs_same_bytes(small_dataset, tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    build_workbook(small_dataset, a)
    build_workbook(small_dataset, b)
    assert a.read_bytes() == b.read_bytes()


def _with_text(dataset: Dataset, subjects: list[str]) -> Dataset:
    tickets = dataset.tickets.head(len(subjects)).copy()
    tickets["subject"] = subjects
    tickets["agent"] = ["=cmd|' /C calc'!A0", "A*B", "+1-2", "@SUM(A1)", "plain"][: len(subjects)]
    events = dataset.escalation_events[dataset.escalation_events["ticket_id"].isin(tickets["ticket_id"])]
    return Dataset(tickets, dataset.accounts, dataset.agents, events, dataset.manifest)


def test_user_text_stays_text(small_dataset, tmp_path):
    subjects = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "http://example.com", "00123",
                "bell\x07 and\x00 nul"]
    path = tmp_path / "unsafe.xlsx"
    build_workbook(_with_text(small_dataset, subjects), path)
    ws = load(path)["Tickets"]
    headers = [c.value for c in ws[1]]
    subject_col = headers.index("Subject") + 1
    cells = [ws.cell(r, subject_col) for r in range(2, 7)]
    assert [c.value for c in cells] == ['=HYPERLINK("http://x","y")', "@SUM(A1)", "http://example.com",
                                        "00123", "bell and nul"]
    assert all(c.data_type == "s" for c in cells)
    assert not ws._hyperlinks
    agents = load(path, data_only=True)["Agent Performance"]
    names = {agents.cell(r, 1).value: agents.cell(r, 2).value for r in range(5, 10)}
    assert names == {"=cmd|' /C calc'!A0": 1, "A*B": 1, "+1-2": 1, "@SUM(A1)": 1, "plain": 1}


def test_over_long_text_is_truncated_with_a_warning(small_dataset, tmp_path):
    path = tmp_path / "long.xlsx"
    result = build_workbook(_with_text(small_dataset, ["x" * 40_000]), path)
    assert result.warnings == ["Tickets!Subject: 1 text value(s) longer than Excel's 32,767 "
                               "characters per cell were truncated."]
    ws = load(path)["Tickets"]
    headers = [c.value for c in ws[1]]
    assert len(ws.cell(2, headers.index("Subject") + 1).value) == 32_767


@pytest.mark.parametrize("mixed", [False, True])
def test_clean_text_counts_every_truncated_cell_and_keeps_blanks_blank(mixed):
    long = "y" * 33_000
    values = pd.Series([long, "a\x07b", None, long, "a\x07b", float("nan"), "", long] + ([7] if mixed else []),
                       dtype=object)
    warnings: list[str] = []
    cleaned = clean_text(values, "Tickets!Subject", warnings)
    assert cleaned.tolist() == ["y" * 32_767, "ab", "", "y" * 32_767, "ab", "", "", "y" * 32_767] + (
        ["7"] if mixed else [])
    assert warnings == ["Tickets!Subject: 3 text value(s) longer than Excel's 32,767 characters per cell "
                        "were truncated."]


@pytest.mark.parametrize("text", ["y" * 33_000 + "\x07", "a\x07b\x1f", "plain", ""])
def test_clean_value_cleans_one_text_as_clean_text_cleans_a_column(text):
    one: list[str] = []
    column: list[str] = []
    assert clean_value(text, "Channels", one) == clean_text(pd.Series([text]), "Channels", column)[0]
    assert one == column
    assert one == (["Channels: 1 text value(s) longer than Excel's 32,767 characters per cell were truncated."]
                   if len(text) > 32_767 else [])


def test_too_many_rows_is_a_clear_error_and_no_file(small_dataset, tmp_path, monkeypatch):
    import supportxl.workbook.sheets.data as data

    monkeypatch.setattr(data, "MAX_DATA_ROWS", 1_000)
    path = tmp_path / "big.xlsx"
    with pytest.raises(SupportxlError) as info:
        build_workbook(small_dataset, path)
    assert str(info.value) == ("Tickets: 2,000 rows exceed Excel's limit of 1,000 data rows per sheet; "
                               "build the workbook from a shorter period (generate or export fewer months), "
                               "or with a template whose sheets leave it out (--template executive has no "
                               "data sheets).")
    assert list(tmp_path.iterdir()) == []


def test_a_template_without_the_data_sheets_takes_more_rows_than_a_sheet_holds(small_dataset, tmp_path,
                                                                               monkeypatch):
    import dataclasses

    import supportxl.workbook.sheets.data as data

    monkeypatch.setattr(data, "MAX_DATA_ROWS", 8_000)  # above the executive's Aggregates rows
    events = pd.concat([small_dataset.escalation_events] * 20, ignore_index=True)
    assert len(events) > 8_000
    long_log = dataclasses.replace(small_dataset, escalation_events=events)
    with pytest.raises(SupportxlError, match=rf"^Escalation Log: {len(events):,} rows exceed"):
        build_workbook(long_log, tmp_path / "default.xlsx")
    result = build_workbook(long_log, tmp_path / "executive.xlsx", load_template("executive"))
    assert (tmp_path / "executive.xlsx").is_file() and "Escalation Log" not in result.sheets


def test_a_failed_build_keeps_the_previous_file(small_dataset, tmp_path, monkeypatch):
    import supportxl.workbook.builder as builder

    path = tmp_path / "report.xlsx"
    path.write_bytes(b"previous")

    def broken(ctx, ws):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(builder, "SHEETS", (("Dashboard", broken),) + builder.SHEETS[1:])
    with pytest.raises(RuntimeError):
        build_workbook(small_dataset, path)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


def test_workbook_has_no_macros_or_external_links(small_workbook):
    names = zipfile.ZipFile(small_workbook).namelist()
    assert not [n for n in names if "vbaProject" in n or "externalLink" in n]
