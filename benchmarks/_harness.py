"""Shared plumbing of the benchmark scripts: one case per fresh child process, and the report.

A benchmark script runs itself again with a hidden ``--case NAME`` option for every case;
the child does the work, then prints one line, ``RESULT_PREFIX`` followed by a JSON object
(at least ``seconds`` and ``peak_mib``, or ``skipped`` with the reason). The parent collects those objects with
``measure`` and prints them with ``print_table`` and ``print_targets``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

RESULT_PREFIX = "BENCH-RESULT "


# --------------------------------------------------------------------------- child side

def peak_mib(children: bool = False) -> float:
    """Peak resident memory of this process so far, in MiB (``ru_maxrss``); with ``children``,
    that of the largest child process it has waited for."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF).ru_maxrss
    # KiB on Linux, bytes on macOS.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def argument_parser(doc: str, cases: Sequence[str], tickets: int, tickets_help: str) -> argparse.ArgumentParser:
    """The options every benchmark has: --tickets, --seed, and the hidden --case of a child."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=tickets, help=f"{tickets_help} (default {tickets:,})")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--case", choices=sorted(cases), help=argparse.SUPPRESS)
    return parser


def report_result(result: dict) -> None:
    """Print a child's result as the one line ``measure`` looks for."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# -------------------------------------------------------------------------- parent side

def measure(script: str | Path, case: str, label: str, args: Sequence[str] = ()) -> dict | None:
    """Run ``script --case CASE ARGS...`` in a child process and return the JSON it reports;
    None (after printing the end of its output) if it failed."""
    print(f"  running {label} ...", end="", flush=True)
    command = [sys.executable, str(Path(script).resolve()), "--case", case, *args]
    proc = subprocess.run(command, capture_output=True, text=True)
    results = [line[len(RESULT_PREFIX):] for line in proc.stdout.splitlines()
               if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not results:
        print(" FAILED")
        for line in (proc.stderr or proc.stdout).strip().splitlines()[-5:]:
            print(f"    {line}")
        return None
    result = json.loads(results[-1])
    print(f" skipped: {result['skipped']}" if "skipped" in result else f" {result['seconds']:,.1f} s")
    return result


def timing_rows(cases: Sequence[tuple[str, int, dict | None]], count_label: str) -> list[tuple[str, ...]]:
    """Table rows of (label, count, result) cases: wall time and peak memory, or "failed"."""
    rows = [("case", count_label, "wall time (s)", "peak memory (MiB)")]
    for label, count, result in cases:
        if result is None:
            rows.append((label, f"{count:,}", "failed", "failed"))
        else:
            rows.append((label, f"{result['tickets']:,}", f"{result['seconds']:,.1f}",
                         f"{result['peak_mib']:,.1f}"))
    return rows


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """A header row, a rule, then the rows; the first column left-aligned, the others right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: Sequence[str]) -> str:
        return "  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])])

    print()
    print(line(rows[0]))
    print("  ".join("-" * w for w in widths))
    for row in rows[1:]:
        print(line(row))


def print_baseline(results: Sequence[dict | None], what: str = "the interpreter and imports") -> None:
    """The smallest ``baseline_mib`` of the results: the part of each peak that is not the work."""
    baselines = [r["baseline_mib"] for r in results if r is not None and "baseline_mib" in r]
    if baselines:
        print(f"(peak memory includes about {min(baselines):,.1f} MiB for {what})")


def verdict(ok: bool | None) -> str:
    return "SKIPPED" if ok is None else ("MET" if ok else "NOT MET")


def print_targets(targets: Sequence[tuple[str, bool | None]]) -> None:
    print()
    print("Targets:")
    width = max(len(text) for text, _ in targets)
    for text, ok in targets:
        print(f"  {text.ljust(width)}  {verdict(ok)}")
