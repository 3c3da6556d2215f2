"""Benchmark: supportxl's whole workbook against pandas writing the raw ticket table alone.

What it measures
    1. ours: ``build_workbook(dataset, path)``, the whole dashboard workbook (every summary
       sheet, the Dashboard, Settings, About and the four data sheets).
    2. pandas: ``dataset.tickets.to_excel(path, engine="xlsxwriter", index=False)``, only the
       raw Tickets table, unformatted: the least a spreadsheet of this data costs.

    Both cases use the same dataset, ``generate(load_params(overrides={"tickets": N, "seed":
    S}, year=2025))``, made in the child before the clock starts (not timed). Each case runs
    in a fresh child process (this script again, with a hidden ``--case`` option), so that
    peak memory belongs to that case alone. The child reports the wall time around the work
    only (imports and the dataset excluded), its peak resident memory,
    ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which includes the interpreter, the
    imported libraries and the generated dataset, and the size of the file written. Files
    go to a temporary directory that is deleted afterwards.

How to run
    python benchmarks/bench_build.py                        # 50,000 tickets, seed 42
    python benchmarks/bench_build.py --tickets 200000 --seed 7

Target
    * the whole workbook in no more than the time pandas needs for the raw table alone
      (ours / pandas <= 1).

The script prints a table, the ratio ours / pandas and MET / NOT MET for the target. It is
a report, not a test: the exit code is 0 whatever the numbers are.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _harness import (argument_parser, measure, peak_mib, print_baseline, print_table, print_targets,
                      report_result)

YEAR = 2025
RATIO_TARGET = 1.0

CASES = {
    "ours": "ours (whole workbook)",
    "pandas": "pandas to_excel (Tickets only)",
}


# --------------------------------------------------------------------------- child side

def _dataset(tickets: int, seed: int):
    from supportxl.generate import generate, load_params

    return generate(load_params(overrides={"tickets": tickets, "seed": seed}, year=YEAR))


def run_case(case: str, tickets: int, seed: int) -> dict:
    """Run one case in this (fresh) process and return its measurements."""
    if case == "ours":
        from supportxl.workbook.builder import build_workbook

        def work(dataset, path: Path) -> None:
            build_workbook(dataset, path)
    else:
        import xlsxwriter  # noqa: F401  (imported before measuring, like build_workbook's imports)

        def work(dataset, path: Path) -> None:
            dataset.tickets.to_excel(path, engine="xlsxwriter", index=False)

    dataset = _dataset(tickets, seed)
    before_mib = peak_mib()
    with tempfile.TemporaryDirectory(prefix=f"bench-build-{case}-") as tmp:
        path = Path(tmp) / "dashboard.xlsx"
        started = time.perf_counter()
        work(dataset, path)
        seconds = time.perf_counter() - started
        size = path.stat().st_size
    return {"case": case, "tickets": len(dataset.tickets), "seconds": seconds,
            "peak_mib": peak_mib(), "baseline_mib": before_mib, "bytes": size}


# -------------------------------------------------------------------------- parent side

def report(results: dict[str, dict | None]) -> None:
    rows = [("case", "wall time (s)", "peak memory (MiB)", "file size (MB)")]
    for case, result in results.items():
        if result is None:
            rows.append((CASES[case], "failed", "failed", "failed"))
        else:
            rows.append((CASES[case], f"{result['seconds']:,.1f}", f"{result['peak_mib']:,.1f}",
                         f"{result['bytes'] / 1e6:,.1f}"))
    print_table(rows)
    print_baseline(list(results.values()), "the interpreter, imports and the generated dataset")

    ours, pandas = results.get("ours"), results.get("pandas")
    print()
    if ours is not None and pandas is not None:
        ratio = ours["seconds"] / pandas["seconds"]
        ok = ratio <= RATIO_TARGET
        print(f"Time ratio ours / pandas: {ratio:,.2f}"
              f" (the whole workbook takes {ratio:,.2f}x the time of the raw Tickets table)")
    else:
        ok = False
        print("Time ratio ours / pandas: n/a (a case failed)")
    print_targets([
        ("whole workbook in no more than the time pandas needs for the raw table alone", ok),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser(__doc__, CASES, 50_000, "tickets in the generated dataset")
    args = parser.parse_args(argv)

    if args.case:  # child process: run one case, print its result as one JSON line
        report_result(run_case(args.case, args.tickets, args.seed))
        return 0

    print(f"supportxl workbook benchmark ({args.tickets:,} tickets, seed {args.seed}, year {YEAR};"
          f" each case in a fresh process)")
    child_args = ["--tickets", str(args.tickets), "--seed", str(args.seed)]
    results = {case: measure(__file__, case, f"{label}, {args.tickets:,} tickets", child_args)
               for case, label in CASES.items()}
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
