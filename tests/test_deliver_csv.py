"""--csv-dir: the KPI tables as CSV files, with the workbook's numbers, safe to open in Excel."""

from __future__ import annotations

import csv
import dataclasses
import io

import pandas as pd
import pytest
from typer.testing import CliRunner

from supportxl.cli import app
from supportxl.dataset import write_dataset
from supportxl.deliver.csv_reports import format_value, kpi_tables, safe_text, write_kpi_csvs
from supportxl.metrics.kpis import CATALOGUE, kpi
from supportxl.model import plan
from supportxl.template import load_template

from conftest import load_book

runner = CliRunner()
FILES = ["by_month.csv", "by_channel.csv", "by_priority.csv", "by_industry.csv", "by_country.csv",
         "by_account.csv", "by_agent.csv", "by_week.csv", "by_weekday_hour.csv",
         "by_team.csv", "by_sla_risk.csv", "by_iso_week.csv"]
FORMATS = {item.name: item.fmt for item in CATALOGUE} | {"Backlog at month end": "int"}
# Half a unit of the last decimal written, in the workbook's units (percent are written x 100).
TOLERANCE = {"int": 0, "hours": 0.0005, "percent": 0.00005, "score": 0.005, "currency": 0.005}
CARD_CELLS = ["A8", "D8", "G8", "J8", "M8", "A14", "D14", "G14", "J14", "M14"]


@pytest.fixture(scope="module")
def csv_dir(small_dataset, tmp_path_factory):
    folder = tmp_path_factory.mktemp("kpis")
    written = write_kpi_csvs(small_dataset, load_template(), folder)
    assert [p.name for p in written] == FILES
    return folder


def read_csv(path) -> tuple[list[str], list[list[str]]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return rows[0], rows[1:]


def read_grid(ws, label: str, total: str) -> tuple[list[str], list[list]]:
    """The grid whose label column header (column A) is ``label``: its headers and its rows up to
    and including the row labelled ``total``."""
    rows = iter(ws.iter_rows(values_only=True))
    for row in rows:
        if row[0] == label:
            headers = [h for h in row if h is not None]
            break
    else:
        raise AssertionError(f"{ws.title} has no grid labelled {label}")
    body = []
    for row in rows:
        body.append(list(row[:len(headers)]))
        if row[0] == total:
            return headers, body
    raise AssertionError(f"{ws.title}: no {total} row under {label}")


def label_text(value) -> str:
    return f"{value:%Y-%m}" if hasattr(value, "strftime") else str(value)


def assert_same_numbers(path, ws, grid_label: str, total: str = "Total", rows: int | None = None) -> int:
    """Every cell of the CSV whose column the workbook's grid also has equals the cached value
    (to the decimals written); returns how many cells were compared."""
    header, body = read_csv(path)
    grid_header, grid_rows = read_grid(ws, grid_label, total)
    assert header[0] == grid_header[0]
    if rows is None:
        assert len(body) == len(grid_rows)
    else:  # the grid shows the first rows of the CSV, and the total
        assert len(grid_rows) == rows + 1
        body = body[:rows] + body[-1:]
    compared = 0
    for line, cached in zip(body, grid_rows):
        assert line[0] == label_text(cached[0])
        for j, name in enumerate(grid_header[1:], start=1):
            if name not in header:
                continue
            text, value = line[header.index(name)], cached[j]
            fmt = FORMATS.get(name, "text")
            if fmt == "text" or value in (None, ""):
                assert text == ("" if value is None else str(value)), (path.name, line[0], name)
                continue
            written = float(text) / (100 if fmt == "percent" else 1)
            assert written == pytest.approx(value, abs=TOLERANCE[fmt] + 1e-9), (path.name, line[0], name)
            compared += 1
    return compared


def test_files_with_human_headers(csv_dir):
    header, body = read_csv(csv_dir / "by_month.csv")
    assert header == ["Month", "Tickets", "Mean first response (h)", "Median first response (h)",
                      "P90 first response (h)", "Mean resolution (h)", "Median resolution (h)",
                      "P90 resolution (h)", "Response breach %", "Resolution breach %", "CSAT %", "Escalation %",
                      "Reopen %", "FCR %", "One-touch %", "Backlog at month end"]
    assert [row[0] for row in body] == [f"2025-{m:02d}" for m in range(1, 13)] + ["Total"]
    assert read_csv(csv_dir / "by_account.csv")[0][:4] == ["Account ID", "Account", "Industry", "Tickets"]
    assert read_csv(csv_dir / "by_agent.csv")[0][:3] == ["Agent", "Team", "Tickets"]
    assert read_csv(csv_dir / "by_priority.csv")[1][-1][0] == "Total"


def test_numbers_are_the_workbooks_cached_values(csv_dir, values):
    compared = assert_same_numbers(csv_dir / "by_month.csv", values["Trend"], "Month")
    compared += assert_same_numbers(csv_dir / "by_priority.csv", values["SLA"], "Priority")
    compared += assert_same_numbers(csv_dir / "by_industry.csv", values["Segments"], "Industry")
    compared += assert_same_numbers(csv_dir / "by_country.csv", values["Segments"], "Country")
    compared += assert_same_numbers(csv_dir / "by_account.csv", values["Top Accounts"], "Account ID",
                                    "All accounts", rows=25)
    compared += assert_same_numbers(csv_dir / "by_agent.csv", values["Agent Performance"], "Agent", "All agents")
    assert compared > 800


def test_channel_volumes_are_the_channels_sheet_and_the_total_the_dashboard_cards(csv_dir, values):
    header, body = read_csv(csv_dir / "by_channel.csv")
    grid_header, grid_rows = read_grid(values["Channels"], "Channel \\ Issue type", "Total")
    assert [row[0] for row in body] == [row[0] for row in grid_rows]
    total_col = grid_header.index("Total")
    assert [int(row[1]) for row in body] == [row[total_col] for row in grid_rows]
    # The total row is what the Dashboard's cards show with every filter at "(All)".
    dash = values["Dashboard"]
    cards = {dash[ref].offset(row=-1).value: dash[ref].value for ref in CARD_CELLS}
    assert header[1:] == list(cards)
    for name, text in zip(header[1:], body[-1][1:]):
        scale = 100 if FORMATS[name] == "percent" else 1
        assert float(text) / scale == pytest.approx(cards[name], abs=TOLERANCE[FORMATS[name]] + 1e-9), name


def test_unrounded_values_equal_the_cached_values(small_dataset, values):
    """Before formatting, each table holds exactly the numbers the workbook caches."""
    tables = {t.name: t for t in kpi_tables(plan(small_dataset, load_template()))}
    for name, sheet, label, total in (("month", "Trend", "Month", "Total"), ("priority", "SLA", "Priority", "Total"),
                                      ("agent", "Agent Performance", "Agent", "All agents")):
        table = tables[name]
        headers = [c.header for c in table.columns]
        grid_header, grid_rows = read_grid(values[sheet], label, total)
        for row, cached in zip(table.rows, grid_rows, strict=True):
            for j, header in enumerate(grid_header[1:], start=1):
                if header in headers and FORMATS.get(header):
                    got = row[headers.index(header)]
                    assert got == pytest.approx(cached[j], rel=1e-13) if got is not None else cached[j] in ("", None)


def test_numbers_match_an_independent_computation(csv_dir, small_dataset):
    tickets = small_dataset.tickets
    header, body = read_csv(csv_dir / "by_channel.csv")
    counts = tickets["channel"].value_counts()
    assert {row[0]: int(row[1]) for row in body[:-1]} == counts.to_dict()
    assert body[-1][:2] == ["Total", str(len(tickets))]

    industry = tickets["account_id"].map(small_dataset.accounts.set_index("account_id")["industry"])
    hours = (tickets["resolved_at"] - tickets["created_at"]).dt.total_seconds() / 3600
    medians = hours.groupby(industry).median()
    header, body = read_csv(csv_dir / "by_industry.csv")
    column = header.index("Median resolution (h)")
    for row in body[:-1]:
        assert float(row[column]) == pytest.approx(medians[row[0]], abs=0.0005 + 1e-6), row[0]
    assert float(body[-1][column]) == pytest.approx(hours.median(), abs=0.0005 + 1e-6)
    by_month = tickets["created_at"].dt.strftime("%Y-%m").value_counts()
    header, body = read_csv(csv_dir / "by_month.csv")
    assert {row[0]: int(row[1]) for row in body[:-1]} == by_month.to_dict()


def test_rows_are_in_the_workbooks_order_and_accounts_all_listed(csv_dir, small_dataset):
    header, body = read_csv(csv_dir / "by_account.csv")
    assert len(body) == small_dataset.tickets["account_id"].nunique() + 1
    tickets = [int(row[3]) for row in body[:-1]]
    assert tickets == sorted(tickets, reverse=True)
    assert sum(tickets) == int(body[-1][3]) == 2_000
    assert body[-1][:3] == ["All accounts", "", ""]
    header, body = read_csv(csv_dir / "by_priority.csv")
    assert [row[0] for row in body] == ["Critical", "High", "Medium", "Low", "Total"]


def test_formula_like_text_is_neutralised(small_dataset, tmp_path):
    tickets = small_dataset.tickets.copy()
    accounts = small_dataset.accounts.copy()
    tickets.loc[tickets["agent"] == tickets["agent"].iloc[0], "agent"] = "=HYPERLINK(\"http://x\",\"y\")"
    first = tickets["account_id"].iloc[0]
    accounts.loc[accounts["account_id"] == first, ["name", "industry", "country"]] = \
        ["+44 20 7946 0000", "@SUM(A1:A9)", "-Nowhere"]
    dataset = dataclasses.replace(small_dataset, tickets=tickets, accounts=accounts)
    write_kpi_csvs(dataset, load_template(), tmp_path)
    agents = {row[0] for row in read_csv(tmp_path / "by_agent.csv")[1]}
    assert "'=HYPERLINK(\"http://x\",\"y\")" in agents
    account = next(row for row in read_csv(tmp_path / "by_account.csv")[1] if row[0] == first)
    assert account[1:3] == ["'+44 20 7946 0000", "'@SUM(A1:A9)"]
    assert "'@SUM(A1:A9)" in {row[0] for row in read_csv(tmp_path / "by_industry.csv")[1]}
    assert "'-Nowhere" in {row[0] for row in read_csv(tmp_path / "by_country.csv")[1]}
    assert not any(line.startswith(("=", "+", "-", "@")) for name in FILES
                   for line in (tmp_path / name).read_text(encoding="utf-8-sig").splitlines())


def test_safe_text_and_number_formats():
    for text in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert safe_text(text) == "'" + text
    for text in ("Email", "1+1", "", "a=b", "'=quoted already"):
        assert safe_text(text) == text
    assert format_value(0.734512, "percent") == "73.45"
    assert format_value(12.3456789, "hours") == "12.346"
    assert format_value(4.0, "score") == "4.00"
    assert format_value(1234567.891, "currency") == "1234567.89"
    assert format_value(50_000, "int") == "50000"
    assert format_value(None, "percent") == format_value("", "hours") == ""
    assert format_value(-1e-9, "percent") == "0.00"
    assert format_value(-0.25, "hours") == "-0.250"
    assert format_value(pd.Timestamp("2025-03-01"), "month") == "2025-03"


def test_same_data_same_bytes(small_dataset, csv_dir, tmp_path):
    again = write_kpi_csvs(small_dataset, load_template(), tmp_path / "again")
    for path in again:
        assert path.read_bytes() == (csv_dir / path.name).read_bytes(), path.name


def test_channel_columns_follow_the_templates_cards(small_dataset):
    template = load_template("agent_review")
    assert template.cards != load_template().cards
    channel = next(t for t in kpi_tables(plan(small_dataset, template)) if t.name == "channel")
    assert [c.header for c in channel.columns][1:] == [kpi(key).name for key in template.cards]


def test_cli_writes_the_csv_files(small_dataset, tmp_path):
    write_dataset(small_dataset, tmp_path / "data")
    out, kpis = tmp_path / "report.xlsx", tmp_path / "kpis"
    result = runner.invoke(app, ["build", str(tmp_path / "data"), "-o", str(out), "--csv-dir", str(kpis)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"Wrote {out} (")
    assert lines[1] == f"Wrote {len(FILES)} CSV files to {kpis}/."
    assert sorted(p.name for p in kpis.iterdir()) == sorted(FILES)
    about = load_book(out)["About"]
    command = {r[0].value: r[1].value for r in about.iter_rows() if r[0].value}["Regenerate with"]
    assert command == f"supportxl build {tmp_path / 'data'} --output {out} --csv-dir {kpis}"

    quiet = runner.invoke(app, ["report", "--tickets", "300", "-o", str(tmp_path / "r.xlsx"),
                                "--csv-dir", str(tmp_path / "r"), "-q"])
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert len(list((tmp_path / "r").glob("by_*.csv"))) == len(FILES)


def test_team_and_risk_files_match_their_sheets(csv_dir, values):
    compared = assert_same_numbers(csv_dir / "by_team.csv", values["Handling"], "Team")
    compared += assert_same_numbers(csv_dir / "by_team.csv", values["SLA at Risk"], "Team")
    compared += assert_same_numbers(csv_dir / "by_sla_risk.csv", values["SLA at Risk"], "Priority")
    assert compared > 60


def test_week_file_matches_the_weekly_sheet(csv_dir, values):
    header, body = read_csv(csv_dir / "by_iso_week.csv")
    ws = values["Weekly"]
    sheet_header = [c.value for c in ws[4] if c.value is not None]
    assert header == sheet_header
    sheet_rows = [row for row in ws.iter_rows(min_row=5, values_only=True) if row[0] is not None]
    assert len(body) == len(sheet_rows) > 50
    for line, cached in zip(body, sheet_rows):
        assert line[0] == f"{cached[0]:%Y-%m-%d}" and line[1] == cached[1]
        assert [int(x) for x in line[2:5]] == list(cached[2:5])
