"""Benchmark: what opening a workbook costs in a real spreadsheet engine (LibreOffice).

What it measures
    For each workbook, two runs of headless LibreOffice, each with a fresh profile:
      1. load: open the file keeping the values cached in it (what a viewer that does not
         recalculate does), then write the first sheet as CSV (a tiny save);
      2. load + recalculation: the same with every formula recalculated on load, as Excel
         does with a file that asks for a full calculation.
    The difference is the cost of recalculating the workbook's formulas. Wall time of the
    whole LibreOffice process, start-up included (about 1-2 s on its own).

How to run
    python benchmarks/bench_open.py                          # builds the default 50,000-ticket workbook
    python benchmarks/bench_open.py --tickets 5000
    python benchmarks/bench_open.py --workbook before.xlsx --workbook after.xlsx

Target (issue 14)
    * load + recalculation of the 50,000-ticket default workbook at least 2x faster than
      before the work on that issue; run this script on both files to compare.

Needs LibreOffice (``soffice``). It is a report, not a test: the exit code is 0 whatever the
numbers are (2 if LibreOffice is missing).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _harness import print_table

YEAR = 2025


def build(tickets: int, seed: int, folder: Path) -> Path:
    from supportxl.generate import generate, load_params
    from supportxl.workbook.builder import build_workbook

    path = folder / f"dashboard-{tickets}.xlsx"
    build_workbook(generate(load_params(overrides={"tickets": tickets, "seed": seed}, year=YEAR)), path)
    return path


def open_seconds(path: Path, recalculate: bool) -> float:
    """Wall time of LibreOffice opening ``path`` (recalculating or not) and saving its first sheet as CSV."""
    from supportxl.verify import run_libreoffice

    with tempfile.TemporaryDirectory(prefix="bench-open-") as out:
        started = time.perf_counter()
        run_libreoffice(["--convert-to", "csv", "--outdir", out, str(path)], recalculate=recalculate)
        seconds = time.perf_counter() - started
        if not any(Path(out).iterdir()):
            raise RuntimeError(f"LibreOffice wrote nothing for {path}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workbook", type=Path, action="append",
                        help="an existing workbook to time (repeatable); default: build one")
    parser.add_argument("--tickets", type=int, default=50_000, help="tickets of the built workbook (default 50,000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = parser.parse_args(argv)

    from supportxl.verify import LIBREOFFICE_MISSING, find_soffice

    if find_soffice() is None:
        print(LIBREOFFICE_MISSING, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-open-books-") as folder:
        if args.workbook:
            books = args.workbook
        else:
            print(f"building the default workbook of {args.tickets:,} tickets (seed {args.seed}) ...", flush=True)
            books = [build(args.tickets, args.seed, Path(folder))]
        rows = [("workbook", "size (MB)", "load (s)", "load + recalculation (s)", "recalculation (s)")]
        for path in books:
            print(f"  opening {path.name} in LibreOffice ...", flush=True)
            load, recalc = open_seconds(path, False), open_seconds(path, True)
            rows.append((path.name, f"{path.stat().st_size / 1e6:,.1f}", f"{load:,.1f}", f"{recalc:,.1f}",
                         f"{recalc - load:,.1f}"))
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
