"""What an .xlsx file is before a reader opens it: a password-protected workbook, an old .xls,
not a workbook at all, or one whose declared sizes no export reaches.

An Excel file saved with a password is not a ZIP package but an OLE compound file (like an
old .xls) holding an ``EncryptedPackage`` stream; that name tells the two apart. Sizes come
from the ZIP directory and the shared-strings header, read without unpacking anything.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from supportxl.errors import SupportxlError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_SCAN_BYTES = 1 << 20
# Far beyond any helpdesk export (Excel's 1,048,576 rows of text), well before a reader
# would spend minutes and gigabytes on the file.
MAX_SHARED_STRINGS_BYTES = 256_000_000
MAX_SHARED_STRINGS = 4_000_000
MAX_PART_BYTES = 2_000_000_000
_UNIQUE_COUNT = re.compile(rb'<(?:\w+:)?sst\b[^>]*\buniqueCount="(\d+)"')


def is_encrypted(path: Path) -> bool:
    """An OLE compound file with an EncryptedPackage stream: an .xlsx saved with a password."""
    with open(path, "rb") as handle:
        if handle.read(len(OLE_MAGIC)) != OLE_MAGIC:
            return False
        tail = b""
        while chunk := handle.read(_SCAN_BYTES):
            if _ENCRYPTED_STREAM in tail + chunk:
                return True
            tail = chunk[-len(_ENCRYPTED_STREAM):]
    return False


def check_xlsx(path: Path, *, what: str = "workbook") -> None:
    """Refuse, with the reason, a file that no .xlsx reader should be handed."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(OLE_MAGIC))
        if head.startswith(OLE_MAGIC[:4]):
            if is_encrypted(path):
                raise SupportxlError(f"{path}: the workbook is password-protected (encrypted), so it cannot "
                                     f"be read; open it in Excel, remove the password (File > Info > Protect "
                                     f"Workbook > Encrypt with Password) and save it again.")
            raise SupportxlError(f"{path}: is an old-style .xls workbook, which cannot be read; save it as "
                                 f".xlsx or CSV and use that.")
        if not head.startswith(ZIP_MAGIC):
            raise SupportxlError(f"{path}: is not an .xlsx {what} (an .xlsx file is a ZIP package; this file "
                                 f"is not one).")
        with zipfile.ZipFile(path) as package:
            parts = {info.filename: info for info in package.infolist()}
            if "xl/workbook.xml" not in parts:
                raise SupportxlError(f"{path}: is a ZIP file but not an Excel workbook (it has no "
                                     f"xl/workbook.xml).")
            _check_sizes(path, package, parts)
    except OSError as exc:
        raise SupportxlError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    except zipfile.BadZipFile as exc:
        raise SupportxlError(f"{path}: is not a readable .xlsx {what} (a damaged ZIP package: {exc}).") from None


def _check_sizes(path: Path, package: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo]) -> None:
    for name, info in parts.items():
        if info.file_size > MAX_PART_BYTES:
            raise SupportxlError(f"{path}: {name} declares {info.file_size / 1e9:,.1f} GB unpacked, more than "
                                 f"the {MAX_PART_BYTES / 1e9:g} GB an export of Excel's largest sheet needs; "
                                 f"export the data as CSV instead.")
    strings = parts.get("xl/sharedStrings.xml")
    if strings is None:
        return
    if strings.file_size > MAX_SHARED_STRINGS_BYTES:
        raise SupportxlError(f"{path}: its shared text is {strings.file_size / 1e6:,.0f} MB unpacked (at most "
                             f"{MAX_SHARED_STRINGS_BYTES / 1e6:,.0f} MB); export the data as CSV instead.")
    with package.open(strings) as handle:
        match = _UNIQUE_COUNT.search(handle.read(4096))
    if match and int(match.group(1)) > MAX_SHARED_STRINGS:
        raise SupportxlError(f"{path}: declares {int(match.group(1)):,} distinct texts (at most "
                             f"{MAX_SHARED_STRINGS:,}); export the data as CSV instead.")
