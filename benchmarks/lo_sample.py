#!/usr/bin/python3
"""Check a sample of a workbook's formulas in LibreOffice, for files too large to recalculate whole.

What it does
    Opens the workbook in headless LibreOffice keeping its cached values (no recalculation on
    load), picks formula cells at random (seeded) on every sheet, and has LibreOffice compute
    each one again from the cells it reads: the formula is entered anew (an array formula as an
    array), which makes LibreOffice evaluate that cell, its inputs taken as they stand. The
    result must equal the value the builder cached (numbers within a relative 1e-9, text
    exactly, errors as errors). The per-row formulas of the data sheets are sampled like the
    rest, so the inputs the summaries read are checked too.

How to run (the system python3, which has LibreOffice's UNO bridge: apt-get install -y
libreoffice-calc-nogui python3-uno)
    /usr/bin/python3 benchmarks/lo_sample.py output/support_dashboard.xlsx
    /usr/bin/python3 benchmarks/lo_sample.py big.xlsx --cells 40 --seed 1

It prints the cells checked and every mismatch per sheet; the exit code is 1 when any cell
differs, 0 otherwise (2 when LibreOffice cannot be started).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue

FORMULA_CELLS = 16  # com.sun.star.sheet.CellFlags.FORMULA
NEVER_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""


def _property(name: str, value) -> PropertyValue:
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def start_office(profile: Path):
    """Headless LibreOffice with a fresh profile that keeps cached values on load."""
    user = profile / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(NEVER_RECALCULATE, encoding="utf-8")
    port = 20000 + os.getpid() % 20000
    office = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore", "--nolockcheck",
                               f"-env:UserInstallation={profile.as_uri()}",
                               f"--accept=socket,host=127.0.0.1,port={port};urp;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(120):
        try:
            ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
            return office, ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:  # not listening yet
            time.sleep(1)
    office.kill()
    raise RuntimeError("LibreOffice did not start")


def formula_cells(sheet) -> list[tuple[int, int]]:
    """The ranges of ``sheet``'s formula cells, (first column, first row, last column, last
    row) each, rather than cell by cell (a data sheet has millions)."""
    found = sheet.queryContentCells(FORMULA_CELLS).getRangeAddresses()
    return [(r.StartColumn, r.StartRow, r.EndColumn, r.EndRow) for r in found]


def pick(ranges: list[tuple[int, int, int, int]], count: int, rng: random.Random) -> list[tuple[int, int]]:
    sizes = [(c2 - c1 + 1) * (r2 - r1 + 1) for c1, r1, c2, r2 in ranges]
    total = sum(sizes)
    chosen = []
    for n in sorted(rng.sample(range(total), min(count, total))):
        for (c1, r1, c2, r2), size in zip(ranges, sizes):
            if n < size:
                chosen.append((c1 + n % (c2 - c1 + 1), r1 + n // (c2 - c1 + 1)))
                break
            n -= size
    return chosen


def state(cell) -> tuple:
    """What a cell shows: ("error",), ("number", value) or ("text", string)."""
    if cell.getError():
        return ("error",)
    if cell.FormulaResultType2 == 1:  # com.sun.star.sheet.FormulaResult.VALUE
        return ("number", cell.getValue())
    return ("text", cell.getString())


def same(cached: tuple, computed: tuple) -> bool:
    if cached[0] != computed[0]:
        return False
    if cached[0] == "number":
        return math.isclose(cached[1], computed[1], rel_tol=1e-9, abs_tol=1e-9)
    return cached == computed


def check(sheet, cells: list[tuple[int, int]]) -> list[str]:
    """Recompute each cell; returns the mismatches, described."""
    wrong = []
    for col, row in cells:
        cell = sheet.getCellByPosition(col, row)
        cached = state(cell)
        target = sheet.getCellRangeByPosition(col, row, col, row)
        formula = cell.getFormula()  # an array formula between braces
        if target.getArrayFormula():
            target.setArrayFormula(formula[1:-1] if formula.startswith("{") and formula.endswith("}") else formula)
        else:
            cell.setFormula(formula)
        computed = state(cell)
        if not same(cached, computed):
            wrong.append(f"{cell.AbsoluteName}: cached {cached}, LibreOffice {computed}")
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workbook", type=Path)
    parser.add_argument("--cells", type=int, default=40, help="formula cells per sheet (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the sample (default 0)")
    args = parser.parse_args(argv)
    if shutil.which("soffice") is None:
        print("lo_sample: soffice not found (apt-get install -y libreoffice-calc-nogui)", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="lo-sample-") as profile:
        office, desktop = start_office(Path(profile))
        try:
            began = time.perf_counter()
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(str(args.workbook.resolve())),
                                               "_blank", 0, (_property("Hidden", True),))
            print(f"loaded {args.workbook} in {time.perf_counter() - began:.1f} s", flush=True)
            checked = mismatches = 0
            began = time.perf_counter()
            for i in range(doc.Sheets.Count):
                sheet = doc.Sheets.getByIndex(i)
                cells = pick(formula_cells(sheet), args.cells, rng)
                wrong = check(sheet, cells)
                checked, mismatches = checked + len(cells), mismatches + len(wrong)
                print(f"  {sheet.Name}: {len(cells)} formula cells, {len(wrong)} mismatches", flush=True)
                for line in wrong:
                    print(f"    {line}")
            print(f"{checked} formula cells recomputed in {time.perf_counter() - began:.1f} s: "
                  f"{mismatches} mismatches")
            doc.close(True)
        finally:
            office.terminate()
            office.wait(timeout=60)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
