"""--pdf: the Dashboard and Insights sheets, and nothing else, rendered by LibreOffice."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import pytest
from typer.testing import CliRunner

from supportxl.cli import app
from supportxl.dataset import write_dataset
from supportxl.deliver.pdf import only_sheets, pdf_pages, pdf_sheets, write_pdf
from supportxl.errors import SupportxlError
from supportxl.template import load_template
from supportxl.verify import LIBREOFFICE_MISSING
from supportxl.workbook.builder import build_workbook

from conftest import load_book, soffice_or_skip

runner = CliRunner()
NO_DASHBOARD_NOR_INSIGHTS = 'sheets=["Trend","Settings","Tickets"]'
NO_INSIGHTS = 'sheets=["Dashboard","Trend","Settings","Tickets","Escalation Log"]'
TICKETS_HEADER = "Requester email"  # a column of the Tickets sheet, shown nowhere else


def poppler_or_skip():
    if any(shutil.which(tool) is None for tool in ("pdfinfo", "pdftotext", "pdftoppm")):
        pytest.skip("poppler-utils (pdfinfo, pdftotext, pdftoppm) is not installed: apt-get install -y poppler-utils")


def pdfinfo_pages(pdf) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def page_text(pdf, n: int | None = None) -> str:
    pages = ["-f", str(n), "-l", str(n)] if n else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def dark_share_of_first_page(pdf, tmp_path) -> float:
    subprocess.run(["pdftoppm", "-gray", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True)
    image = next(tmp_path.glob("p*.pgm")).read_bytes()
    pixels = image[image.index(b"255\n") + 4:]
    return sum(1 for b in pixels[::7] if b < 200) / len(pixels[::7])


# --- without LibreOffice --------------------------------------------------------------

def test_copy_hides_every_other_sheet_and_keeps_the_rest_byte_for_byte(small_workbook, tmp_path):
    copy = tmp_path / "copy.xlsx"
    assert only_sheets(small_workbook, ("Dashboard", "Insights"), copy) == ("Dashboard", "Insights")
    book = load_book(copy)
    states = {ws.title: ws.sheet_state for ws in book.worksheets}
    assert [name for name, state in states.items() if state == "visible"] == ["Dashboard", "Insights"]
    assert len(states) == len(load_template().sheets) + 1  # and the hidden Lists sheet
    assert states["Tickets"] == states["Lists"] == "hidden"
    assert book.active.title == "Dashboard"
    with zipfile.ZipFile(small_workbook) as a, zipfile.ZipFile(copy) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name != "xl/workbook.xml":
                assert a.read(name) == b.read(name), name
        before, after = a.read("xl/workbook.xml").decode(), b.read("xl/workbook.xml").decode()
    assert re.sub(r' state="hidden"| (?:firstSheet|activeTab)="\d+"', "", before) == \
        re.sub(r' state="hidden"| (?:firstSheet|activeTab)="\d+"', "", after)


def test_the_active_tab_is_the_first_sheet_shown(small_dataset, tmp_path):
    template = load_template(None, ['sheets=["Trend","Insights","Settings","Tickets"]'])
    build_workbook(small_dataset, tmp_path / "w.xlsx", template)
    assert only_sheets(tmp_path / "w.xlsx", ("Dashboard", "Insights"), tmp_path / "c.xlsx") == ("Insights",)
    book = load_book(tmp_path / "c.xlsx")
    assert book.active.title == "Insights"
    assert [ws.title for ws in book.worksheets if ws.sheet_state == "visible"] == ["Insights"]


def test_sheets_a_pdf_shows():
    assert pdf_sheets(["Dashboard", "Trend", "Insights", "Settings"]) == ("Dashboard", "Insights")
    assert pdf_sheets(["Insights", "Dashboard"]) == ("Dashboard", "Insights")
    assert pdf_sheets(["Dashboard", "Settings"]) == ("Dashboard",)
    with pytest.raises(SupportxlError) as caught:
        pdf_sheets(["Trend", "Settings", "Tickets"])
    assert str(caught.value) == ("a PDF shows the Dashboard and Insights sheets, and the template has neither "
                                 "(its sheets: Trend, Settings, Tickets).")


def test_page_count_of_a_pdf_without_poppler(tmp_path):
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Pages/Kids[2 0 R 3 0 R]/Count 2>>endobj\n"
                    b"2 0 obj<</Type/Page/Parent 1 0 R>>endobj\n3 0 obj<</Type /Page /Parent 1 0 R>>endobj\n")
    assert pdf_pages(pdf) == 2


def test_without_libreoffice_the_workbook_is_still_written(small_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr("supportxl.verify.find_soffice", lambda: None)
    write_dataset(small_dataset, tmp_path / "data")
    out = tmp_path / "report.xlsx"
    result = runner.invoke(app, ["build", str(tmp_path / "data"), "-o", str(out), "--pdf"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote {out} (") and result.stdout.count("\n") == 1
    assert result.stderr == (
        "Warning: no PDF written. LibreOffice is not installed: on Debian/Ubuntu, apt-get install -y "
        "libreoffice-calc-nogui; on macOS or Windows, install LibreOffice from https://www.libreoffice.org.\n")
    assert LIBREOFFICE_MISSING in result.stderr
    assert out.is_file() and not out.with_suffix(".pdf").exists()
    about = load_book(out)["About"]
    command = {r[0].value: r[1].value for r in about.iter_rows() if r[0].value}["Regenerate with"]
    assert command.endswith(f"--output {out} --pdf")


def test_without_libreoffice_quiet_still_warns(tmp_path, monkeypatch):
    monkeypatch.setattr("supportxl.verify.find_soffice", lambda: None)
    out = tmp_path / "r.xlsx"
    result = runner.invoke(app, ["report", "--tickets", "300", "-o", str(out), "--pdf", "-q"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.startswith("Warning: no PDF written. LibreOffice is not installed")
    assert out.is_file() and not out.with_suffix(".pdf").exists()


def test_a_template_without_dashboard_and_insights_is_an_error_before_building(small_dataset, tmp_path):
    write_dataset(small_dataset, tmp_path / "data")
    out = tmp_path / "report.xlsx"
    for command in (["build", str(tmp_path / "data")], ["report", "--tickets", "300"]):
        result = runner.invoke(app, [*command, "-o", str(out), "--pdf", "--set", NO_DASHBOARD_NOR_INSIGHTS])
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr == ("Error: a PDF shows the Dashboard and Insights sheets, and template 'dashboard' "
                                 "has neither (its sheets: Trend, Settings, Tickets).\n")
        assert not out.exists()


def test_a_libreoffice_failure_is_one_clear_error(small_workbook, tmp_path, monkeypatch):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr("supportxl.verify.find_soffice", lambda: str(fake))
    with pytest.raises(SupportxlError) as caught:
        write_pdf(small_workbook, tmp_path / "x.pdf")
    assert str(caught.value) == "LibreOffice failed (exit code 1): Error: source file could not be loaded"
    assert not (tmp_path / "x.pdf").exists()

    fake.write_text("#!/bin/sh\nexit 0\n")  # says nothing, writes nothing
    with pytest.raises(SupportxlError) as caught:
        write_pdf(small_workbook, tmp_path / "x.pdf")
    assert str(caught.value) == f"LibreOffice did not convert {small_workbook} to PDF."
    assert list(tmp_path.glob("*.pdf")) == [] and list(tmp_path.glob(".x.pdf*")) == []


# --- with LibreOffice -----------------------------------------------------------------

@pytest.mark.libreoffice
def test_pdf_holds_the_dashboard_and_insights_only(small_workbook, tmp_path):
    soffice_or_skip()
    poppler_or_skip()
    result = write_pdf(small_workbook, tmp_path / "dashboard.pdf")
    pdf = tmp_path / "dashboard.pdf"
    assert result.path == pdf and result.sheets == ("Dashboard", "Insights")
    # The Dashboard prints on one page; the ten Insights of 2,000 tickets fit on one page more.
    assert pdfinfo_pages(pdf) == result.pages == 2
    assert result.size == pdf.stat().st_size
    first, second = page_text(pdf, 1), page_text(pdf, 2)
    assert "Support Performance Dashboard" in first and "Resolution SLA %" in first and "Page 1 of 2" in first
    assert "Insights" in second and "Recommendation" in second and "Page 2 of 2" in second
    whole = page_text(pdf)
    assert TICKETS_HEADER not in whole and "Monthly trend" not in whole and "Backlog aging" not in whole
    assert dark_share_of_first_page(pdf, tmp_path) > 0.05  # text, cards and charts, not a blank page


@pytest.mark.libreoffice
def test_without_insights_the_pdf_is_the_dashboard(small_dataset, tmp_path):
    soffice_or_skip()
    poppler_or_skip()
    build_workbook(small_dataset, tmp_path / "w.xlsx", load_template(None, [NO_INSIGHTS]))
    result = write_pdf(tmp_path / "w.xlsx")
    assert result.path == tmp_path / "w.pdf" and result.sheets == ("Dashboard",)
    assert pdfinfo_pages(result.path) == result.pages == 1
    text = page_text(result.path)
    assert "Support Performance Dashboard" in text and "Page 1 of 1" in text
    assert "Insights" not in text and TICKETS_HEADER not in text


@pytest.mark.libreoffice
def test_cli_writes_the_pdf_beside_the_workbook(tmp_path):
    soffice_or_skip()
    poppler_or_skip()
    out = tmp_path / "exec.xlsx"
    result = runner.invoke(app, ["report", "--tickets", "1500", "--template", "executive", "-o", str(out), "--pdf"])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "exec.pdf"
    size = pdf.stat().st_size
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"Wrote {out} (")
    assert lines[1] == f"Wrote {pdf} (2 pages, {size / 1e3:,.0f} KB)."
    assert pdfinfo_pages(pdf) == 2
    assert "Support Performance: Executive Summary" in page_text(pdf, 1)
    assert "Insights" in page_text(pdf, 2)
