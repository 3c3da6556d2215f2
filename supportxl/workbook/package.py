"""The .xlsx zip package, each XML part deflated by worker threads while XlsxWriter writes it.

XlsxWriter writes every part to a temporary file and, once all are written, deflates them one
after the other into the zip. ``PackagedWorkbook`` hands XlsxWriter's packager a text stream
per XML part instead: its text is encoded in chunks and the chunks are deflated by two worker
threads (zlib releases the GIL), so compressing the large data sheets overlaps with rendering
them. The zip is then assembled from the parts' deflated bytes, in XlsxWriter's order of parts,
with fixed dates and attributes: identical workbooks, identical bytes, on any machine.

Parts XlsxWriter knows nothing of (the pivot tables) join the package before it is assembled:
``PackagedWorkbook.before_zip`` registers a function that reads and replaces the text of the
parts written (``PackageParts``) and adds its own, some already deflated.
"""

from __future__ import annotations

import collections
import io
import os
import tempfile
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable
from typing import BinaryIO, Protocol

import xlsxwriter
from xlsxwriter.packager import Packager

# Deflate levels. On the 50,000-ticket workbook's two large parts (106 MB of XML), CPU time and
# deflated size: level 6 1.4 s, 8.2 MB; level 7 1.7 s, 7.9 MB; level 8 3.9 s, 7.6 MB. Level 8
# saves 4 % of the file for more than twice the CPU, and on two cores that CPU is build time.
# The first BULK_AFTER bytes of a part are deflated at COMPRESS_LEVEL; the rest, only in far
# larger workbooks (a million tickets make 1.6 GB of XML), at BULK_LEVEL.
COMPRESS_LEVEL = 7
BULK_LEVEL = 6
BULK_AFTER = 128 << 20
ENTRY_DATE = (1980, 1, 31, 0, 0, 0)  # the date XlsxWriter gives its parts
ENTRY_ATTRIBUTES = 0o100600 << 16  # a regular file, read-write for its owner (as XlsxWriter's temporary files)
_CHUNK_CHARS = 1 << 20  # text handed to the worker at a time
_QUEUED_CHUNKS = 4  # chunks waiting for the workers before the writer waits: bounds the memory
_WINDOW = 1 << 15  # deflate's window: how far back a chunk's text can be matched
_WORKERS = 2
_COPY_BYTES = 1 << 20


class PackagedWorkbook(xlsxwriter.Workbook):
    """An XlsxWriter workbook whose parts are deflated while they are written (see the module)."""

    def __init__(self, filename, options: dict | None = None) -> None:
        super().__init__(filename, options)
        self._before_zip: list[Callable[[PackageParts], None]] = []

    def before_zip(self, finish: Callable[["PackageParts"], None]) -> None:
        """Have ``finish`` edit and extend the parts once XlsxWriter has written them all."""
        self._before_zip.append(finish)

    def _get_packager(self) -> Packager:
        self._packager = _Packager(self._worker)
        return self._packager

    def close(self) -> None:
        with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="deflate") as self._worker:
            try:
                super().close()  # writes the parts through the packager and an empty zip
                parts = PackageParts(self._packager.parts)
                for finish in self._before_zip:
                    finish(parts)
                parts.write_zip(self.filename)
            finally:
                for source, _, _ in getattr(getattr(self, "_packager", None), "parts", ()):
                    if isinstance(source, _DeflatedPart):
                        source.discard()
                    elif isinstance(source, str) and os.path.exists(source):
                        os.remove(source)


class _Packager(Packager):
    """XlsxWriter's packager with a deflating stream for every XML part; it keeps the parts
    (and gives XlsxWriter none to zip)."""

    def __init__(self, worker: ThreadPoolExecutor) -> None:
        super().__init__()
        self._worker = worker
        self.parts: list[tuple[object, str, bool]] = []

    def _filename(self, xml_filename: str):
        if not xml_filename.endswith((".xml", ".rels")):  # an image: XlsxWriter copies it to a path
            return super()._filename(xml_filename)
        part = _DeflatedPart(xml_filename, self._worker, self.tmpdir)
        self.filenames.append((part, xml_filename, False))
        return part

    def _create_package(self) -> list:
        self.parts = super()._create_package()
        return []


class _DeflatedPart(io.StringIO):
    """One part's XML text, deflated in chunks by the workers into a temporary file.

    Each chunk is deflated on its own, primed with the 32 KiB of text before it (as pigz does):
    the chunks' outputs, each ending on a sync flush and the last on the end of the stream,
    make one deflate stream, compressed as well as in one piece. XlsxWriter writes to a
    StringIO it is given and leaves it open; only ``write`` is used."""

    def __init__(self, name: str, worker: ThreadPoolExecutor, folder: str | None) -> None:
        super().__init__()
        self.name = name
        self._worker = worker
        self._file = tempfile.TemporaryFile(dir=folder)
        self._text: list[str] = []
        self._chars = 0
        self._window = b""  # the text before the next chunk, up to the deflate window
        self._queued: collections.deque[Future] = collections.deque()
        self._crc = self._size = 0
        self._info: zipfile.ZipInfo | None = None  # once finished

    def write(self, text: str) -> int:
        self._text.append(text)
        self._chars += len(text)
        if self._chars >= _CHUNK_CHARS:
            self._send()
        return len(text)

    def _send(self, last: bool = False) -> None:
        data = "".join(self._text).encode("utf-8")
        self._text, self._chars = [], 0
        level = COMPRESS_LEVEL if self._size < BULK_AFTER else BULK_LEVEL
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        while len(self._queued) >= _QUEUED_CHUNKS:
            self._file.write(self._queued.popleft().result())
        self._queued.append(self._worker.submit(_deflate, data, self._window, last, level))
        self._window = (self._window + data)[-_WINDOW:]

    def finish(self) -> tuple[zipfile.ZipInfo, BinaryIO]:
        """The part's zip entry and its deflated bytes, once the workers are done with it."""
        if self._info is None:
            self._send(last=True)
            while self._queued:
                self._file.write(self._queued.popleft().result())
            self._info = entry(self.name)
            self._info.CRC, self._info.file_size, self._info.compress_size = self._crc, self._size, self._file.tell()
        self._file.seek(0)
        return self._info, self._file

    def text(self) -> str:
        """The part's whole text (inflated again: only small parts are ever read back)."""
        self.finish()
        text = zlib.decompressobj(-zlib.MAX_WBITS).decompress(self._file.read())
        self._file.seek(0)
        return text.decode("utf-8")

    def discard(self) -> None:
        while self._queued:  # let the workers finish before the file is closed
            self._queued.popleft().exception()
        self._file.close()


def _deflate(data: bytes, window: bytes, last: bool, level: int) -> bytes:
    """``data`` deflated as the continuation of a stream whose text so far ended with ``window``."""
    if window:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=window)
    else:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return deflate.compress(data) + deflate.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def entry(name: str) -> zipfile.ZipInfo:
    """A deflated zip entry named ``name`` with the package's fixed date and attributes."""
    info = zipfile.ZipInfo(name, date_time=ENTRY_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, whatever the machine (ZipInfo's default depends on it)
    info.external_attr = ENTRY_ATTRIBUTES
    return info


def add_deflated(package: zipfile.ZipFile, info: zipfile.ZipInfo, source: BinaryIO) -> None:
    """Append the entry ``info`` (CRC and both sizes set) to ``package``, its ``info.compress_size``
    deflated bytes read from ``source`` as they are."""
    info.flag_bits &= ~0x08  # sizes in the local header, no data descriptor
    info.header_offset = package.fp.tell()
    package.fp.write(info.FileHeader())
    left = info.compress_size
    while left:
        chunk = source.read(min(left, _COPY_BYTES))
        if not chunk:
            raise zipfile.BadZipFile(f"{info.filename}: {left:,} deflated bytes missing")
        package.fp.write(chunk)
        left -= len(chunk)
    package.filelist.append(info)
    package.NameToInfo[info.filename] = info
    package.start_dir = package.fp.tell()


class Deflated(Protocol):
    """A part deflated elsewhere (raw deflate, as a zip entry holds it)."""

    def result(self) -> tuple[bytes, int, int]:
        """The deflated bytes, the CRC-32 and the size of the text (waiting for them if need be)."""


class PackageParts:
    """The package's parts, by name, before the zip is assembled: XlsxWriter's (in its order),
    those whose text was replaced, then those added."""

    def __init__(self, written: list[tuple[object, str, bool]]) -> None:
        self._written = {name: source for source, name, _ in written}
        self._replaced: dict[str, str] = {}
        self._added: dict[str, str | Deflated] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._written or name in self._added

    def text(self, name: str) -> str:
        """The part's XML as it stands (KeyError for a part the package does not have)."""
        text = self._replaced.get(name, self._added.get(name))
        if isinstance(text, str):
            return text
        source = self._written[name]
        if isinstance(source, _DeflatedPart):
            return source.text()
        with open(source, "rb") as handle:
            return handle.read().decode("utf-8")

    def put(self, name: str, content: str | Deflated) -> None:
        """Replace the text of part ``name``, or add the part (its text, or its deflated bytes)."""
        if name in self._written:
            if not isinstance(content, str):
                raise TypeError(f"{name}: a written part is replaced by text")
            self._replaced[name] = content
        else:
            self._added[name] = content

    def write_zip(self, path) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
            for name, source in self._written.items():
                if name in self._replaced:
                    package.writestr(entry(name), self._replaced[name], compresslevel=COMPRESS_LEVEL)
                elif isinstance(source, _DeflatedPart):
                    info, data = source.finish()
                    add_deflated(package, info, data)
                else:
                    with open(source, "rb") as handle:
                        package.writestr(entry(name), handle.read(), compresslevel=COMPRESS_LEVEL)
            for name, content in self._added.items():
                if isinstance(content, str):
                    package.writestr(entry(name), content, compresslevel=COMPRESS_LEVEL)
                else:
                    data, crc, size = content.result()
                    info = entry(name)
                    info.CRC, info.compress_size, info.file_size = crc, len(data), size
                    add_deflated(package, info, io.BytesIO(data))
