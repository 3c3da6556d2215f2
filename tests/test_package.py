"""The zip package written with its parts deflated while they are written: the same parts as
XlsxWriter's own packaging, fixed entry metadata, images included."""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
import zlib

import pytest
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from supportxl.workbook import package
from supportxl.workbook.package import ENTRY_ATTRIBUTES, ENTRY_DATE, PackagedWorkbook

# A 1x1 PNG, so that the package also has a binary part.
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
                         "AAAABJRU5ErkJggg==")


def fill(workbook) -> None:
    workbook.set_properties({"created": dt.datetime(2025, 1, 1)})  # else the time it runs
    sheet = workbook.add_worksheet("Data")
    for row in range(3_000):  # several chunks of text for the workers
        sheet.write_row(row, 0, [row, f"text {row % 97}", row / 7])
        sheet.write_formula(row, 3, f"=A{row + 1}*2", None, row * 2)
    sheet.insert_image("F2", "pixel.png", {"image_data": io.BytesIO(PIXEL)})
    chart = workbook.add_chart({"type": "line"})
    chart.add_series({"values": "=Data!$A$1:$A$10"})
    sheet.insert_chart("F10", chart)


def test_the_parts_are_xlsxwriters_with_fixed_entry_metadata(tmp_path, monkeypatch):
    monkeypatch.setattr(package, "_CHUNK_CHARS", 4096)  # many chunks, deflated apart and joined
    monkeypatch.setattr(package, "BULK_AFTER", 50_000)  # the large sheet's end at the bulk level
    ours, stock = tmp_path / "ours.xlsx", tmp_path / "stock.xlsx"
    for path, cls in ((ours, PackagedWorkbook), (stock, xlsxwriter.Workbook)):
        workbook = cls(str(path))
        fill(workbook)
        workbook.close()
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(stock) as b:
        assert a.testzip() is None
        assert a.namelist() == b.namelist()
        assert "xl/media/image1.png" in a.namelist()
        assert all(a.read(name) == b.read(name) for name in b.namelist())
        assert {(i.date_time, i.external_attr, i.create_system, i.compress_type) for i in a.infolist()} == {
            (ENTRY_DATE, ENTRY_ATTRIBUTES, 3, zipfile.ZIP_DEFLATED)}
    again = tmp_path / "again.xlsx"
    workbook = PackagedWorkbook(str(again))
    fill(workbook)
    workbook.close()
    assert again.read_bytes() == ours.read_bytes()


def test_a_failing_part_stops_the_package_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    monkeypatch.setattr(package, "_CHUNK_CHARS", 4096)
    monkeypatch.setattr(package.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    def broken(data, window, last, level):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(package, "_deflate", broken)
    workbook = PackagedWorkbook(str(tmp_path / "book.xlsx"))
    fill(workbook)
    with pytest.raises(FileCreateError, match="No space left on device"):  # XlsxWriter wraps the OSError
        workbook.close()
    assert list((tmp_path / "tmp").iterdir()) == []


class _Ready:
    """A part deflated beforehand, as the pivot records are."""

    def __init__(self, text: bytes) -> None:
        deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        self._done = (deflate.compress(text) + deflate.flush(), zlib.crc32(text), len(text))

    def result(self):
        return self._done


def test_parts_added_and_replaced_before_the_zip_is_assembled(tmp_path, monkeypatch):
    monkeypatch.setattr(package, "_CHUNK_CHARS", 4096)  # the sheet read back from several chunks
    stock = tmp_path / "stock.xlsx"
    workbook = xlsxwriter.Workbook(str(stock))
    fill(workbook)
    workbook.close()
    with zipfile.ZipFile(stock) as b:
        sheet = b.read("xl/worksheets/sheet1.xml").decode("utf-8")
        order = b.namelist()
    seen = {}

    def finish(parts: package.PackageParts) -> None:
        seen["sheet"] = parts.text("xl/worksheets/sheet1.xml")
        seen["has"] = ("xl/workbook.xml" in parts, "xl/extra.xml" in parts)
        parts.put("xl/workbook.xml", parts.text("xl/workbook.xml").replace("</workbook>", "<!--x--></workbook>"))
        parts.put("xl/extra.xml", "<extra/>")
        parts.put("xl/ready.xml", _Ready(b"<ready>" + b"r" * 50_000 + b"</ready>"))
        seen["after"] = ("xl/extra.xml" in parts, parts.text("xl/extra.xml"))
        with pytest.raises(TypeError, match="xl/styles.xml: a written part is replaced by text"):
            parts.put("xl/styles.xml", _Ready(b""))

    ours = tmp_path / "ours.xlsx"
    workbook = PackagedWorkbook(str(ours))
    fill(workbook)
    workbook.before_zip(finish)
    workbook.close()
    assert seen == {"sheet": sheet, "has": (True, False), "after": (True, "<extra/>")}
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(stock) as b:
        assert a.testzip() is None
        assert a.namelist() == order + ["xl/extra.xml", "xl/ready.xml"]  # written parts in place, then added
        assert a.read("xl/workbook.xml") == b.read("xl/workbook.xml").replace(b"</workbook>", b"<!--x--></workbook>")
        assert a.read("xl/ready.xml") == b"<ready>" + b"r" * 50_000 + b"</ready>"
        assert all(a.read(name) == b.read(name) for name in order if name != "xl/workbook.xml")
        assert {(i.date_time, i.external_attr, i.create_system) for i in a.infolist()} == {
            (ENTRY_DATE, ENTRY_ATTRIBUTES, 3)}
