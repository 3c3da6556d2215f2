"""Recalculate a workbook with LibreOffice and compare every formula with its cached value.

A viewer that does not recalculate shows the cached values the builder wrote; a real
spreadsheet engine shows what the formulas compute. This module proves the two agree.
LibreOffice keeps cached results unless told otherwise, so it runs with a throw-away
profile that sets OOXMLRecalcMode to 0 ("always recalculate").
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl

from supportxl.errors import SupportxlError
from supportxl.fileio import check_source_file
from supportxl.xlsxfile import check_xlsx

ERROR_VALUES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "Err:")
_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
</oor:items>
"""
_RECALC_ALWAYS, _RECALC_NEVER = 0, 1  # LibreOffice's values for "recalculation on file load"


# Where the LibreOffice installers put soffice when it is not on the PATH.
_SOFFICE_LOCATIONS = (
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    "C:/Program Files/LibreOffice/program/soffice.exe",
)
LIBREOFFICE_MISSING = ("LibreOffice is not installed: on Debian/Ubuntu, apt-get install -y "
                       "libreoffice-calc-nogui; on macOS or Windows, install LibreOffice from "
                       "https://www.libreoffice.org.")


class LibreOfficeNotFound(SupportxlError):
    """LibreOffice is needed for this and is not installed."""


def find_soffice() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in _SOFFICE_LOCATIONS if Path(p).is_file()), None)


def run_libreoffice(args: list[str], timeout: float = 900, *,
                    recalculate: bool = True) -> subprocess.CompletedProcess:
    """Run headless LibreOffice with a throw-away profile; returns what it printed.

    With ``recalculate`` the profile makes it recalculate every formula on load; without,
    it keeps the values cached in the file (faster, and what a viewer that does not
    recalculate shows).
    """
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeNotFound(LIBREOFFICE_MISSING)
    with tempfile.TemporaryDirectory(prefix="supportxl-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        mode = _RECALC_ALWAYS if recalculate else _RECALC_NEVER
        (user / "registrymodifications.xcu").write_text(_PROFILE_SETTINGS.format(mode=mode), encoding="utf-8")
        command = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                   "--norestore", "--nolockcheck", *args]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SupportxlError(f"LibreOffice did not finish within {timeout:.0f} s.") from None
        except OSError as exc:
            raise SupportxlError(f"cannot run LibreOffice ({soffice}): {exc.strerror}.") from None
        if done.returncode != 0:
            said = done.stderr.strip() or done.stdout.strip()
            raise SupportxlError(f"LibreOffice failed (exit code {done.returncode})"
                                 + (f": {said}" if said else "."))
        return done


def check_workbook_file(path: Path) -> Path:
    """``path`` as a workbook LibreOffice can recalculate, or the reason it is not one."""
    check_source_file(path, "a workbook (.xlsx)")
    check_xlsx(path)
    return Path(path)


def recalculate(path: Path, out_dir: Path) -> Path:
    """A copy of ``path`` recalculated and saved by LibreOffice, in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run_libreoffice(["--convert-to", "xlsx", "--outdir", str(out_dir), str(path)])
    result = out_dir / (Path(path).stem + ".xlsx")
    if not result.is_file():
        raise SupportxlError(f"LibreOffice did not write {result}.")
    return result


@dataclass
class Comparison:
    formula_cells: int = 0
    mismatches: list[tuple[str, str, object, object]] = field(default_factory=list)
    errors: list[tuple[str, str, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.formula_cells > 0 and not self.mismatches and not self.errors

    def summary(self, limit: int = 10) -> str:
        lines = [f"{self.formula_cells:,} formula cells, {len(self.mismatches):,} mismatches, "
                 f"{len(self.errors):,} error values"]
        lines += [f"  {s}!{c}: cached {a!r}, recalculated {b!r}" for s, c, a, b in self.mismatches[:limit]]
        lines += [f"  {s}!{c}: {v!r}" for s, c, v in self.errors[:limit]]
        return "\n".join(lines)


def _load(path: Path, data_only: bool):
    return openpyxl.load_workbook(path, read_only=True, data_only=data_only)


def _is_error(value: object) -> bool:
    return isinstance(value, str) and value.startswith(ERROR_VALUES)


def _same(cached: object, computed: object, rel_tol: float) -> bool:
    cached = None if cached == "" else cached
    computed = None if computed == "" else computed
    if isinstance(cached, bool) or isinstance(computed, bool):
        return cached == computed
    if isinstance(cached, (int, float)) and isinstance(computed, (int, float)):
        return math.isclose(cached, computed, rel_tol=rel_tol, abs_tol=1e-9)
    return cached == computed


def compare_with_recalculated(original: Path, recalculated: Path, rel_tol: float = 1e-9) -> Comparison:
    """Every formula cell of ``original``: its cached value against LibreOffice's result."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's notes about extensions it does not read
        return _compare(original, recalculated, rel_tol)


def _compare(original: Path, recalculated: Path, rel_tol: float) -> Comparison:
    formulas, cached, computed = _load(original, False), _load(original, True), _load(recalculated, True)
    result = Comparison()
    for name in formulas.sheetnames:
        rows_f = formulas[name].iter_rows()
        rows_c = cached[name].iter_rows(values_only=True)
        rows_r = computed[name].iter_rows(values_only=True)
        for row_f, row_c, row_r in zip(rows_f, rows_c, rows_r):
            for cell, value_c, value_r in zip(row_f, row_c, _padded(row_r, len(row_f))):
                if not _is_formula(cell.value):
                    continue
                result.formula_cells += 1
                if _is_error(value_r):
                    result.errors.append((name, cell.coordinate, value_r))
                elif not _same(value_c, value_r, rel_tol):
                    result.mismatches.append((name, cell.coordinate, value_c, value_r))
    for book in (formulas, cached, computed):
        book.close()
    return result


def _padded(row: tuple, length: int) -> tuple:
    return row + (None,) * (length - len(row)) if len(row) < length else row


def _is_formula(value: object) -> bool:
    if isinstance(value, str):
        return value.startswith("=")
    return type(value).__name__ in ("ArrayFormula", "DataTableFormula")


def set_cell_values(path: Path, sheet: str, values: dict[str, float | str], out: Path) -> Path:
    """A copy of ``path`` with constant cells of ``sheet`` changed (number or text), for what-if tests.

    Edits the sheet's XML in place, so everything else in the file stays byte for byte.
    """
    with zipfile.ZipFile(path) as source:
        part = _sheet_part(source, sheet)
        xml = source.read(part).decode("utf-8")
        for ref, value in values.items():
            pattern = re.compile(rf'<c r="{ref}"([^>]*?)(?:/>|>.*?</c>)', re.S)
            match = pattern.search(xml)
            if match is None:
                raise KeyError(f"{sheet}!{ref} is not written in {path}")
            style = re.search(r'\ss="\d+"', match.group(1))
            style = style.group(0) if style else ""
            if isinstance(value, str):
                new = f'<c r="{ref}"{style} t="inlineStr"><is><t>{escape(value)}</t></is></c>'
            else:
                new = f'<c r="{ref}"{style}><v>{value!r}</v></c>'
            xml = xml[:match.start()] + new + xml[match.end():]
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                data = xml.encode("utf-8") if item.filename == part else source.read(item.filename)
                target.writestr(item, data)
    return out


def _sheet_part(book: zipfile.ZipFile, sheet: str) -> str:
    workbook = book.read("xl/workbook.xml").decode("utf-8")
    rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    match = re.search(rf'<sheet name="{re.escape(escape(sheet))}" sheetId="\d+" r:id="(rId\d+)"', workbook)
    if match is None:
        raise KeyError(f"no sheet named {sheet}")
    target = re.search(rf'<Relationship Id="{match.group(1)}" Type="[^"]+" Target="([^"]+)"', rels)
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


__all__ = ["LIBREOFFICE_MISSING", "Comparison", "LibreOfficeNotFound", "check_workbook_file",
           "compare_with_recalculated",
           "find_soffice", "recalculate", "run_libreoffice", "set_cell_values"]
