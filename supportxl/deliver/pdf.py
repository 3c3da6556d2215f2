"""A PDF of a workbook's front sheets, the Dashboard and Insights, rendered by LibreOffice.

LibreOffice prints every visible sheet and no hidden one, so it converts a temporary copy
of the workbook in which every other sheet is hidden and the Dashboard is the active tab:
only the <sheet> and <workbookView> elements of xl/workbook.xml change, every other part is
copied byte for byte. LibreOffice does not recalculate (the formulas' cached values are
shown, as in any viewer), which keeps a 50,000-ticket workbook to about 15 s. Each sheet
prints as the workbook's page set-up says: the Dashboard on one landscape page, Insights
one page wide.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import unescape

from supportxl import verify
from supportxl.errors import SupportxlError
from supportxl.fileio import atomic_write

PDF_SHEETS = ("Dashboard", "Insights")
WORKBOOK_PART = "xl/workbook.xml"
_SHEET = re.compile(r"<sheet\b[^>]*?/>")
_VIEW = re.compile(r"<workbookView\b[^>]*?/?>")
_XML_QUOTE = {"&quot;": '"', "&apos;": "'"}


@dataclass(frozen=True)
class PdfResult:
    path: Path
    sheets: tuple[str, ...]  # the sheets it shows, in order
    pages: int
    size: int  # bytes


def pdf_sheets(sheets: Sequence[str], where: str = "the template") -> tuple[str, ...]:
    """The sheets of ``sheets`` that a PDF shows: the Dashboard and Insights, those present."""
    shown = tuple(name for name in PDF_SHEETS if name in sheets)
    if not shown:
        raise SupportxlError(f"a PDF shows the Dashboard and Insights sheets, and {where} has neither "
                             f"(its sheets: {', '.join(sheets)}).")
    return shown


def write_pdf(workbook: Path, out: Path | None = None, sheets: Sequence[str] = PDF_SHEETS) -> PdfResult:
    """Render the ``sheets`` of ``workbook`` that it has to ``out`` (default: the same name with
    .pdf), written atomically. Raises verify.LibreOfficeNotFound when LibreOffice is missing."""
    workbook = Path(workbook)
    out = Path(out) if out is not None else workbook.with_suffix(".pdf")
    if verify.find_soffice() is None:
        raise verify.LibreOfficeNotFound(verify.LIBREOFFICE_MISSING)
    with tempfile.TemporaryDirectory(prefix="supportxl-pdf-") as scratch:
        copy = Path(scratch) / "in" / (out.stem + ".xlsx")  # LibreOffice names the PDF after it
        copy.parent.mkdir()
        shown = only_sheets(workbook, sheets, copy)
        done = verify.run_libreoffice(["--convert-to", "pdf", "--outdir", str(Path(scratch) / "out"),
                                       str(copy)], recalculate=False)
        produced = Path(scratch) / "out" / (out.stem + ".pdf")
        if not produced.is_file():
            said = (done.stderr.strip() or done.stdout.strip()).replace(str(copy), str(workbook))
            raise SupportxlError(f"LibreOffice did not convert {workbook} to PDF"
                                 + (f": {said}" if said else "."))
        atomic_write(out, lambda path: shutil.copyfile(produced, path))
    return PdfResult(out, shown, pdf_pages(out), out.stat().st_size)


def only_sheets(source: Path, sheets: Sequence[str], target: Path) -> tuple[str, ...]:
    """Copy workbook ``source`` to ``target`` with only ``sheets`` visible, the first of them the
    active tab; returns the sheets of ``sheets`` the workbook has, in workbook order."""
    try:
        book = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SupportxlError(f"{source}: cannot read it as an .xlsx workbook ({exc}).") from None
    with book, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy:
        xml = book.read(WORKBOOK_PART).decode("utf-8")
        names = [_sheet_name(tag) for tag in _SHEET.findall(xml)]
        shown = tuple(name for name in names if name in sheets)
        if not shown:
            raise SupportxlError(f"{source} has no sheet to put in the PDF: it has neither "
                                 f"{' nor '.join(sheets)} (its sheets: {', '.join(names)}).")
        xml = _SHEET.sub(lambda m: _with_state(m.group(0), _sheet_name(m.group(0)) in shown), xml)
        first = names.index(shown[0])
        xml = _VIEW.sub(lambda m: _with_active_tab(m.group(0), first), xml, count=1)
        for item in book.infolist():
            if item.filename == WORKBOOK_PART:
                copy.writestr(item, xml.encode("utf-8"))
                continue
            with book.open(item) as part, copy.open(item, "w") as written:
                shutil.copyfileobj(part, written, 1 << 20)
    return shown


def _sheet_name(tag: str) -> str:
    name = re.search(r'\sname="([^"]*)"', tag).group(1)
    return unescape(name, _XML_QUOTE)


def _with_state(tag: str, visible: bool) -> str:
    """A <sheet/> element visible or hidden."""
    tag = re.sub(r'\sstate="[^"]*"', "", tag)
    return tag if visible else tag.replace("<sheet", '<sheet state="hidden"', 1)


def _with_active_tab(tag: str, index: int) -> str:
    """The <workbookView> element with sheet ``index`` active and first in the tab bar."""
    tag = re.sub(r'\s(?:activeTab|firstSheet)="\d*"', "", tag)
    return tag.replace("<workbookView", f'<workbookView firstSheet="{index}" activeTab="{index}"', 1)


def pdf_pages(path: Path) -> int:
    """The number of pages of a PDF written by LibreOffice (its page objects, which it does not
    compress)."""
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", Path(path).read_bytes()))


__all__ = ["PDF_SHEETS", "PdfResult", "only_sheets", "pdf_pages", "pdf_sheets", "write_pdf"]
