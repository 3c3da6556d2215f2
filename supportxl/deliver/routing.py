"""Who gets which split workbook: the recipients map and the file naming rule.

A split build writes one workbook per slice value into a folder, named by the slug of the
value (``Tier 1`` -> ``tier-1.xlsx``), plus ``index.xlsx``, which is never routed. A
recipients map is a CSV file of two columns, slice value and e-mail address, one row per
address; a value may appear on several rows (each address receives that slice) and an
address under several values (it receives each of them). A header row is optional; the
delimiter is a comma or a semicolon.

A workbook is matched to a value by the value recorded in it (the cell named
``ReportSlice``) when it has one, else by its file stem being the slug of the value.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from supportxl.errors import SupportxlError

INDEX_STEM = "index"  # the split build's overview workbook, never routed to a slice's managers


MAX_SLUG = 60  # long account names still make short file names


def slug(value: str) -> str:
    """The file stem of a slice value's workbook: ``slug("Tier 1") == "tier-1"``.

    Accents are dropped (``Zürich`` -> ``zurich``), letters are lower-cased, every run of
    other characters becomes one hyphen and hyphens at either end are removed; at most
    ``MAX_SLUG`` characters are kept. A value with no letter or digit left becomes ``blank``.
    """
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:MAX_SLUG].rstrip("-") or "blank"


@dataclass(frozen=True)
class RecipientMap:
    """Slice value -> addresses, in the order the file first names each value."""

    source: Path
    addresses: dict[str, tuple[str, ...]]


def read_recipients(path: Path, check_address: Callable[[str, str], str]) -> RecipientMap:
    """Read a recipients map; ``check_address(text, where)`` validates one address."""
    path = Path(path)
    if not path.is_file():
        raise SupportxlError(f"{path}: no such file (expected a recipients map: slice value, e-mail).")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SupportxlError(f"{path}: not UTF-8 text; save the recipients map as CSV UTF-8.") from None
    except OSError as exc:
        raise SupportxlError(f"cannot read {path}: {exc.strerror}.") from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in first and "," not in first else ","
    addresses: dict[str, list[str]] = {}
    first_row = True
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), start=1):
        cells = [c.strip() for c in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if first_row:
            first_row = False
            if len(cells) == 2 and _is_header(cells[1]):
                continue
        if len(cells) != 2 or not cells[0]:
            raise SupportxlError(f"{path}, row {number}: expected two columns (slice value, e-mail), "
                                 f"found {delimiter.join(row)!r}.")
        address = check_address(cells[1], f"{path}, row {number}, column 2")
        known = addresses.setdefault(cells[0], [])
        if address not in known:
            known.append(address)
    if not addresses:
        raise SupportxlError(f"{path}: no recipients (expected rows of slice value, e-mail).")
    return RecipientMap(path, {value: tuple(found) for value, found in addresses.items()})


def _is_header(cell: str) -> bool:
    """``email``, ``E-mail address``, ``Recipient``...: a column name, not an address."""
    name = cell.casefold()
    return "@" not in name and any(word in name for word in ("mail", "address", "recipient"))


@dataclass(frozen=True)
class Route:
    value: str
    workbook: Path
    addresses: tuple[str, ...]


def split_workbooks(folder: Path) -> list[Path]:
    """The slice workbooks of a split folder: every .xlsx but index.xlsx and Excel's lock files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SupportxlError(f"{folder}: no such folder (with --recipients, give the folder of split "
                             f"workbooks, one .xlsx per slice value).")
    books = sorted(p for p in folder.glob("*.xlsx")
                   if p.is_file() and not p.name.startswith(("~$", ".")) and p.stem != INDEX_STEM)
    if not books:
        raise SupportxlError(f"{folder}: no workbooks (.xlsx) to route in the folder.")
    return books


def route(recipients: RecipientMap, books: list[Path],
          recorded: Mapping[Path, str | None]) -> tuple[list[Route], list[str]]:
    """Match every value of the map to exactly one workbook.

    ``recorded`` holds the slice value each workbook records, if any. A value without a
    workbook is an error (before anything is sent); a workbook without a value is returned
    as a warning and not sent.
    """
    def key(value: str) -> str:
        return value.strip().casefold()

    routes, missing, taken = [], [], {}
    for value, addresses in recipients.addresses.items():
        matches = [p for p in books if recorded.get(p) is not None and key(recorded[p]) == key(value)]
        if not matches:
            matches = [p for p in books if recorded.get(p) is None and p.stem == slug(value)]
        if not matches:
            missing.append(value)
            continue
        if len(matches) > 1:
            raise SupportxlError(f"{recipients.source}: more than one workbook for {value!r} "
                                 f"({', '.join(p.name for p in matches)}); nothing was sent.")
        book = matches[0]
        if book in taken:
            raise SupportxlError(f"{recipients.source}: {taken[book]!r} and {value!r} both match "
                                 f"{book}; nothing was sent.")
        taken[book] = value
        routes.append(Route(value, book, addresses))
    if missing:
        folder = books[0].parent
        expected = ", ".join(f"{v!r} ({slug(v)}.xlsx)" for v in missing)
        raise SupportxlError(f"{recipients.source}: no workbook in {folder} for {expected}; "
                             f"nothing was sent.")
    warnings = [f"{p}: no recipient in {recipients.source} for this workbook; it is not sent."
                for p in books if p not in taken]
    return routes, warnings
