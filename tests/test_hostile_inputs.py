"""Every command on hostile inputs: the exit code, one line on stderr naming the problem, no
traceback, no new file, and the previous output intact. The inputs are made in the test."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supportxl import xlsxfile
from supportxl.cli import app
from supportxl.dataset import write_dataset

from conftest import make_dataset

runner = CliRunner()
PREVIOUS = b"the previous workbook, which no failed run may touch"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A folder of hostile inputs beside a dataset and a previous output."""
    root = tmp_path_factory.mktemp("hostile")
    write_dataset(make_dataset(200, seed=5), root / "data")
    (root / "prev.xlsx").write_bytes(PREVIOUS)
    (root / "export.csv").write_text("Id,Created at,Status\n1,2025-01-01 10:00,Open\n")
    (root / "export.xlsx").write_bytes(PREVIOUS)
    os.mkfifo(root / "fifo.xlsx")
    os.mkfifo(root / "pipe.csv")
    (root / "loop.csv").symlink_to(root / "loop.csv")
    (root / "garbage.xlsx").write_bytes(bytes(range(256)) * 4)
    (root / "damaged.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    # An .xlsx saved with a password: an OLE compound file holding an EncryptedPackage stream.
    (root / "encrypted.xlsx").write_bytes(xlsxfile.OLE_MAGIC + bytes(500) + "EncryptedPackage".encode("utf-16-le")
                                          + bytes(500))
    (root / "old.xls").write_bytes(xlsxfile.OLE_MAGIC + bytes(1000))
    with zipfile.ZipFile(root / "many_strings.xlsx", "w") as package:
        package.writestr("xl/workbook.xml", "<workbook/>")
        package.writestr("xl/sharedStrings.xml", '<?xml version="1.0"?><sst xmlns="x" count="5000000" '
                                                 'uniqueCount="5000000"><si><t>a</t></si></sst>')
    for name, manifest in (("list_manifest", "[]"), ("text_files", '{"files": "x"}')):
        shutil.copytree(root / "data", root / name)
        (root / name / "manifest.json").write_text(manifest)
    shutil.copytree(root / "data", root / "mixed")  # tickets from another run beside the old manifest
    write_dataset(make_dataset(150, seed=6), root / "other")
    shutil.copy(root / "other" / "tickets.csv", root / "mixed" / "tickets.csv")
    (root / "foreign").mkdir()
    (root / "foreign" / "notes.txt").write_text("mine")
    (root / "template_dir").mkdir()
    (root / "books").mkdir()  # workbooks, but no split's index: not to be replaced
    (root / "books" / "a.xlsx").write_bytes(PREVIOUS)
    return root


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in root.rglob("*")}


D, P = "{d}", "{d}/prev.xlsx"
SEND = ["send", P, "--to", "ana@example.com", "-s", "x"]
# (arguments, exit code, the one line on stderr); {d} is the work folder.
CASES = [
    (["build", "{d}/export.xlsx", "-o", "{d}/export.xlsx"], 2,
     "Error: -o {d}/export.xlsx: is the input {d}/export.xlsx; writing it would replace the input. Give another name."),
    (["build", "{d}/export.csv", "-o", "{d}/export.csv"], 2, "Error: -o {d}/export.csv: the file name must end in .xlsx."),
    (["build", "{d}/data", "-o", ""], 2, "Error: -o needs a file name ending in .xlsx, found an empty name or '.'."),
    (["build", "{d}/data", "-o", "{d}/out.csv"], 2, "Error: -o {d}/out.csv: the file name must end in .xlsx."),
    (["build", "{d}/data", "-o", "{d}/newdir/"], 2, "Error: -o {d}/newdir: the file name must end in .xlsx."),
    (["build", "{d}/data", "-o", "{d}/data"], 2, "Error: -o {d}/data: the file name must end in .xlsx."),
    (["build", "{d}/data", "-o", "{d}/fifo.xlsx"], 2,
     "Error: -o {d}/fifo.xlsx: exists and is not a regular file (a device, pipe or socket); give a file name."),
    (["build", "{d}/data", "-o", "{d}/prev.xlsx/x.xlsx"], 2, "Error: -o {d}/prev.xlsx/x.xlsx: {d}/prev.xlsx is not a folder."),
    (["build", "{d}/data", "-o", P, "--csv-dir", P], 2, "Error: --csv-dir {d}/prev.xlsx: exists and is not a folder."),
    (["build", "/dev/zero", "-o", P], 2, "Error: /dev/zero: is not a regular file (a device, pipe or socket); "
                                         "expected a helpdesk export (.csv, .xlsx or .json) or a dataset folder."),
    (["build", "{d}/pipe.csv", "-o", P], 2, "Error: {d}/pipe.csv: is not a regular file (a device, pipe or socket); "
                                            "expected a helpdesk export (.csv, .xlsx or .json) or a dataset folder."),
    (["build", "{d}/loop.csv", "-o", P], 2, "Error: {d}/loop.csv: cannot be read (Too many levels of symbolic links)."),
    (["build", "{d}/encrypted.xlsx", "-o", P], 2,
     "Error: {d}/encrypted.xlsx: the workbook is password-protected (encrypted), so it cannot be read; open it in "
     "Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password) and save it again."),
    (["build", "{d}/many_strings.xlsx", "-o", P], 2,
     "Error: {d}/many_strings.xlsx: declares 5,000,000 distinct texts (at most 4,000,000); export the data as CSV instead."),
    (["build", "{d}/list_manifest", "-o", P], 2,
     "Error: {d}/list_manifest/manifest.json: should hold a JSON object (what produced the data), found a list."),
    (["build", "{d}/text_files", "-o", P], 2,
     "Error: {d}/text_files/manifest.json: 'files' should be a table of file names."),
    (["build", "{d}/mixed", "-o", P], 2,
     "Error: {d}/mixed: tickets.csv is not the file manifest.json was written with (its checksum differs): the "
     "folder mixes files of different runs, or one was edited. Generate the folder again (or, to use a file "
     "edited on purpose, delete the \"files\" entry of manifest.json)."),
    (["build", "{d}/data", "-o", P, "--set", "sla.resolution_hours.High=nan"], 2,
     "Error: --set: sla.resolution_hours.High must be a finite number above 0, found nan."),
    (["build", "{d}/data", "-o", P, "--set", "sla.resolution_hours.High=1e309"], 2,
     "Error: --set: sla.resolution_hours.High must be a finite number above 0, found inf."),
    (["build", "{d}/data", "-o", P, "--set", "sla.cost_per_breach_hour.Low=-1"], 2,
     "Error: --set: sla.cost_per_breach_hour.Low must be a finite number zero or more, found -1.0."),
    (["build", "{d}/data", "-o", P, "--set", "theme.primary=notacolor"], 2,
     "Error: --set: theme.primary must be a colour written #RRGGBB (like #1F4E79), found 'notacolor'."),
    (["build", "{d}/data", "-o", P, "--set", "targets.csat=95"], 2,
     "Error: --set: targets.csat is a share from 0 to 1, found 95 (for 95 %, write 0.95)."),
    (["build", "{d}/data", "-o", P, "--set", "targets.csat=2"], 2,
     "Error: --set: targets.csat is a share from 0 to 1, found 2 (for 2 %, write 0.02)."),
    (["build", "{d}/data", "-o", P, "--set", "targets.csat=-0.1"], 2,
     "Error: --set: targets.csat is a share from 0 to 1, found -0.1."),
    (["build", "{d}/data", "-o", P, "--set", "targets.median_resolution_hours=0"], 2,
     "Error: --set: targets.median_resolution_hours is a number of hours above 0, found 0."),
    (["build", "{d}/data", "-o", P, "--set", "theme.font_size=-4"], 2,
     "Error: --set: theme.font_size must be between 1 and 409, found -4."),
    (["build", "{d}/data", "-o", P, "-t", "{d}/template_dir"], 2,
     "Error: --template {d}/template_dir: is a folder; give a shipped template name (agent_review, dashboard, "
     "executive) or a .toml file."),
    (["build", "{d}/data", "--split-by", "foo"], 2,
     "Error: --split-by 'foo': choose one of team, region, industry, account, agent."),
    (["build", "{d}/data", "--split-by", "team", "-o", "{d}/data"], 2,
     "Error: -o {d}/data: holds the source {d}/data, which replacing the folder would delete; give another folder."),
    (["build", "{d}/data", "--split-by", "team", "-o", "{d}/foreign"], 2,
     "Error: -o {d}/foreign: holds notes.txt, not an earlier split (workbooks and index.xlsx); the split "
     "replaces the whole folder, so give a new one."),
    (["build", "{d}/data", "--split-by", "team", "-o", "{d}/books"], 2,
     "Error: -o {d}/books: holds a.xlsx, not an earlier split (workbooks and index.xlsx); the split replaces the "
     "whole folder, so give a new one."),
    (["templates", "show", "nope"], 2, None),
    (["compare", "{d}/data", "{d}/missing", "-o", "{d}/c.xlsx"], 2, None),
    (["build", "{d}/data", "--split-by", "team", "-j", "0"], 2, "Error: --jobs must be at least 1, found 0."),
    (["validate", "{d}/loop.csv"], 1, "Fatal: {d}/loop.csv: cannot be read (Too many levels of symbolic links)."),
    (["validate", "/dev/zero"], 1, "Fatal: /dev/zero: is not a regular file (a device, pipe or socket); expected a "
                                   "helpdesk export (.csv, .xlsx or .json) or a dataset folder."),
    (["validate", "{d}/nothing.csv"], 1, "Fatal: {d}/nothing.csv: no such file or folder (expected a helpdesk "
                                         "export file, or a folder written by 'supportxl generate')."),
    (["validate", "{d}/mixed"], 1,
     "Fatal: {d}/mixed: tickets.csv is not the file manifest.json was written with (its checksum differs): the "
     "folder mixes files of different runs, or one was edited. Generate the folder again (or, to use a file "
     "edited on purpose, delete the \"files\" entry of manifest.json)."),
    (["validate", "{d}/old.xls"], 1, "Fatal: {d}/old.xls: is an old-style .xls workbook, which cannot be read; save "
                                     "it as .xlsx or CSV and use that."),
    (["validate", "{d}/damaged.xlsx"], 1,
     "Fatal: {d}/damaged.xlsx: is not a readable .xlsx export (a damaged ZIP package: File is not a zip file)."),
    (["verify", "{d}/export.csv"], 2,
     "Error: {d}/export.csv: is not an .xlsx workbook (an .xlsx file is a ZIP package; this file is not one)."),
    (["verify", "{d}/garbage.xlsx"], 2,
     "Error: {d}/garbage.xlsx: is not an .xlsx workbook (an .xlsx file is a ZIP package; this file is not one)."),
    (["verify", "{d}/encrypted.xlsx"], 2,
     "Error: {d}/encrypted.xlsx: the workbook is password-protected (encrypted), so it cannot be read; open it in "
     "Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password) and save it again."),
    (["verify", "{d}/data"], 2, "Error: {d}/data: is a folder; expected a workbook (.xlsx)."),
    (["generate", "-n", "10", "--accounts", "1000000000", "-o", "{d}/new"], 2,
     "Error: accounts must be at most 20,000, found 1,000,000,000 (each account is given a company name and "
     "contacts one by one; a year of tickets rarely comes from more)."),
    (["generate", "-n", "10", "--agents", "1000000", "-o", "{d}/new"], 2,
     "Error: agents must be at most 2,000, found 1,000,000 (each agent is named one by one and gets a row on "
     "Agent Performance)."),
    (["generate", "-n", "10", "-o", P], 2, "Error: --out {d}/prev.xlsx: exists and is not a folder."),
    (["generate", "-n", "10", "-o", "{d}/foreign"], 2,
     "Error: {d}/foreign holds files that are not part of a dataset (notes.txt), which replacing it would delete; "
     "give a new folder or a dataset folder."),
    (["report", "-n", "10", "-o", "{d}/out.csv"], 2, "Error: -o {d}/out.csv: the file name must end in .xlsx."),
    (["report", "-n", "10", "-o", "{d}/r.xlsx", "--keep-data", P], 2,
     "Error: --keep-data {d}/prev.xlsx: exists and is not a folder."),
    (["report", "-n", "10", "-o", "{d}/r.xlsx", "--keep-data", "{d}/foreign"], 2,
     "Error: {d}/foreign holds files that are not part of a dataset (notes.txt), which replacing it would delete; "
     "give a new folder or a dataset folder."),
    (["report", "-n", "10", "-o", "{d}/r.xlsx", "--calendar", "Mon-Fri 25:00-17:00"], 2, None),
    (["compare", "{d}/data", "{d}/other", "-o", "{d}/c.csv"], 2, "Error: -o {d}/c.csv: the file name must end in .xlsx."),
    ([*SEND, "--dry-run", P], 2,
     "Error: --dry-run {d}/prev.xlsx: is the input {d}/prev.xlsx; writing it would replace the input. Give another name."),
    ([*SEND, "--dry-run", "{d}/data"], 2, "Error: --dry-run {d}/data: is a folder; give a file name ending in its extension."),
    ([*SEND, "--timeout", "nan"], 2, "Error: --timeout must be above 0 and at most 3600 seconds, found nan."),
    ([*SEND, "--timeout", "inf"], 2, "Error: --timeout must be above 0 and at most 3600 seconds, found inf."),
]


@pytest.mark.parametrize("args, code, line", CASES, ids=[" ".join(c[0][:4]) for c in CASES])
def test_hostile_input_is_refused_in_one_line_and_writes_nothing(work, args, code, line):
    before = snapshot(work)
    result = runner.invoke(app, [a.format(d=work) for a in args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    if line is None:
        assert lines[0].startswith("Error: ")
    else:
        assert lines[0] == line.format(d=work)
    assert snapshot(work) == before
    assert (work / "prev.xlsx").read_bytes() == PREVIOUS


def test_oversized_shared_text_is_refused_by_its_declared_size(work, tmp_path, monkeypatch):
    path = tmp_path / "big_text.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/workbook.xml", "<workbook/>")
        package.writestr("xl/sharedStrings.xml", '<sst uniqueCount="1"><si><t>' + "x" * 5_000 + "</t></si></sst>")
    monkeypatch.setattr(xlsxfile, "MAX_SHARED_STRINGS_BYTES", 4_000)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr == (f"Fatal: {path}: its shared text is 0 MB unpacked (at most 0 MB); export the data "
                             f"as CSV instead.\n")


def test_a_chartsheet_is_skipped_for_the_first_table_and_named_when_asked_for(tmp_path):
    import xlsxwriter

    path = tmp_path / "charts_first.xlsx"
    book = xlsxwriter.Workbook(path)
    charts, data = book.add_chartsheet("Chart1"), book.add_worksheet("Data")
    data.write_row(0, 0, ["Id", "Created at", "Status", "Priority"])
    data.write_row(1, 0, [1, "2025-01-01 10:00", "Open", "High"])
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=Data!$A$2:$A$2"})
    charts.set_chart(chart)
    book.close()
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path} can be imported: 1 tickets.\n"
    named = runner.invoke(app, ["validate", str(path), "--sheet", "Chart1"])
    assert named.exit_code == 1
    assert named.stderr == f"Fatal: {path}: sheet 'Chart1' is a chart, not a table (sheets with cells: Data).\n"


def test_a_lone_surrogate_in_json_becomes_a_replacement_character(tmp_path):
    from openpyxl import load_workbook

    source = tmp_path / "tickets.json"
    source.write_text('[{"Id": 1, "Created at": "2025-01-01 10:00", "Status": "Open", "Priority": "High", '
                      '"Subject": "broken \\udfff text"}]', encoding="ascii")
    out = tmp_path / "s.xlsx"
    result = runner.invoke(app, ["build", str(source), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    tickets = load_workbook(out, read_only=True)["Tickets"]
    header, row = list(tickets.iter_rows(min_row=1, max_row=2, values_only=True))
    assert row[header.index("Subject")] == "broken \ufffd text"


def test_stale_temporaries_of_our_pattern_are_removed_and_named(work, tmp_path):
    out = tmp_path / "report.xlsx"
    out.write_bytes(PREVIOUS)
    gone = 99_999_999  # above Linux's largest process id: no such process
    stale_file, stale_folder = tmp_path / f".report.xlsx.{gone}-k2j4_x9a.tmp", tmp_path / f".report.xlsx.{gone}-a1b2.tmp"
    stale_file.write_bytes(b"half a workbook")
    stale_folder.mkdir()
    (stale_folder / "x").write_text("x")
    keep = [tmp_path / f".report.xlsx.{gone}-not.ours.tmp", tmp_path / f".other.xlsx.{gone}-k2j4.tmp",
            tmp_path / "report.xlsx.tmp", tmp_path / f".report.xlsx.{os.getpid()}-running.tmp",
            tmp_path / ".report.xlsx.k2j4_x9a.tmp"]
    for path in keep:
        path.write_text("someone else's")
    result = runner.invoke(app, ["build", str(work / "data"), "-o", str(out), "-t", "executive"])
    assert result.exit_code == 0, result.output
    assert sorted(result.stderr.splitlines()) == sorted(
        f"Removed {p}, left by an interrupted run." for p in (stale_file, stale_folder))
    assert not stale_file.exists() and not stale_folder.exists()
    assert all(p.exists() for p in keep)
    assert out.read_bytes() != PREVIOUS


def test_send_shows_the_address_it_uses_and_writes_safe_attachment_names(tmp_path, small_workbook):
    odd = tmp_path / "q4\r\nBcc: x@example.com.xlsx"
    shutil.copy(small_workbook, odd)
    eml = tmp_path / "m.eml"
    result = runner.invoke(app, ["send", str(odd), "--to", '"evil@x.com" <a@example.com>', "-s", "Q4",
                                 "--from", "r@example.com", "--dry-run", str(eml)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote {eml}: 'Q4' to a@example.com (1 attachment, ")
    text = eml.read_bytes().decode("ascii")
    assert 'To: "evil@x.com" <a@example.com>\r\n' in text
    headers = text.split("\r\n\r\n", 1)[0]
    assert "\r\nBcc:" not in headers and "\r\nBcc:" not in text
    assert 'filename="q4  Bcc: x@example.com.xlsx"' in text


def test_kpi_csv_fields_are_quoted_per_rfc_4180():
    import csv
    import io

    from supportxl.deliver.csv_reports import Column, KpiTable, csv_bytes, csv_field

    assert [csv_field(t) for t in ("a\rb", "a\nb", 'say "x"', "a,b", "plain")] == [
        '"a\rb"', '"a\nb"', '"say ""x"""', '"a,b"', "plain"]
    table = KpiTable("agent", (Column("Agent", "text"), Column("Tickets", "int")),
                     (("Ana\rSilva", 3), ("Total", 3)))
    rows = list(csv.reader(io.StringIO(csv_bytes(table).decode("utf-8-sig"), newline="")))
    assert rows == [["Agent", "Tickets"], ["Ana\rSilva", "3"], ["Total", "3"]]


def test_help_texts_show_no_python_types():
    import re

    commands = ["generate", "build", "validate", "report", "compare", "verify", "send", "templates show"]
    for command in commands:
        text = runner.invoke(app, [*command.split(), "--help"]).stdout
        found = re.findall(r"<(?:int|str|float|path|bool|list\[[^\]]*\]|[a-z]+ range)>|\{[A-Za-z_.]+\}",
                           text.replace("{slice}", ""))
        assert found == [], (command, found)
