"""Benchmark: importing a 1,000,000-row Zendesk-style CSV export with ``load_export``.

What it measures
    1. write (set-up, reported but not targeted): the generator makes N tickets (default
       1,000,000, seed 42) and a vectorised writer saves them as a classic Zendesk CSV
       export: all 41 documented columns (Id, Requester, ..., Created at, Solved at,
       Satisfaction Score, Group stations, the "... in minutes" durations and their
       "within business hours" variants, a custom field), UTF-8 with a byte-order mark.
    2. import: ``load_export(path)`` with mapping "auto", in a fresh process: detecting the
       encoding and delimiter, choosing the mapping, reading the mapped columns, parsing
       and validating them and building the canonical tables.

    Each case runs in a fresh child process (this script again, with a hidden ``--case``
    option), so that peak memory belongs to that case alone. The child reports the wall
    time around the work only (imports excluded) and its peak resident memory,
    ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which includes the interpreter and the
    imported libraries. The CSV goes to a temporary directory that is deleted afterwards.

How to run
    python benchmarks/bench_import.py                   # 1,000,000 rows, about a minute
    python benchmarks/bench_import.py --tickets 200000 --seed 7

Targets (on a 2-core machine)
    * 1,000,000 rows are imported in at most 30 s;
    * ... with a peak memory of at most 3 GB (3,072 MiB).

The script prints a table and MET / NOT MET for each target. It is a report, not a test:
the exit code is 0 whatever the numbers are.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _harness import (argument_parser, measure, peak_mib, print_baseline, print_table, print_targets,
                      report_result, timing_rows)

YEAR = 2025
SECONDS_TARGET = 30.0
MIB_TARGET = 3072.0
CASES = {"write": "write Zendesk CSV (set-up)", "import": "load_export (auto)"}
FILE_NAME = "zendesk_export.csv"


# --------------------------------------------------------------------------- child side

def _stamps(values, *, date_only: bool = False):
    """Timestamps as "YYYY-MM-DD HH:MM:SS" text ("" where missing), without a Python loop."""
    import numpy as np

    raw = np.asarray(values, dtype="datetime64[s]")
    text = np.datetime_as_string(raw, unit="D" if date_only else "s").astype("U19")
    if not date_only:
        codes = text.view(np.uint32).reshape(len(text), 19)
        codes[:, 10] = ord(" ")  # the "T" between date and time
    out = text.astype(object)
    out[np.isnat(raw)] = ""
    return out


def write_zendesk_csv(tickets: int, seed: int, path: Path) -> tuple[float, int]:
    import numpy as np
    import pandas as pd

    from supportxl.dataset import write_csv
    from supportxl.generate import generate, load_params

    dataset = generate(load_params(overrides={"tickets": tickets, "seed": seed}, year=YEAR))
    started = time.perf_counter()
    t = dataset.tickets
    n = len(t)
    rng = np.random.default_rng(seed)
    created = t["created_at"]
    minutes = {
        "frt": ((t["first_response_at"] - created).dt.total_seconds() / 60).round().astype("Int64"),
        "ttr": ((t["resolved_at"] - created).dt.total_seconds() / 60).round().astype("Int64"),
    }
    business = {k: (v * 0.6).round().astype("Int64") for k, v in minutes.items()}
    names = dataset.accounts.set_index("account_id")["name"]
    tier = t["escalation_tier"].map({"Tier 1": 0, "Tier 2": 1, "Tier 3": 2}).to_numpy()
    csat = t["csat"].astype("Float64")
    via = {"Email": "Mail", "Web": "Web form", "Chat": "Chat", "Phone": "Phone call (incoming)",
           "Social": "Twitter"}
    updated = t["resolved_at"].fillna(t["first_response_at"]).fillna(created)
    ids = t["ticket_id"].to_numpy()
    frame = pd.DataFrame({
        "Id": ids,
        "Requester": t["requester_name"],
        "Requester id": 9_000_000 + pd.factorize(t["requester_email"])[0],
        "Requester external id": "",
        "Requester email": t["requester_email"],
        "Requester domain": t["requester_email"].str.split("@").str[1],
        "Submitter": t["requester_name"],
        "Assignee": t["agent"],
        "Group": t["team"],
        "Subject": t["subject"],
        "Tags": t["issue_type"].str.lower().str.replace(" ", "_"),
        "Status": t["status"].map({"Open": "Open", "Pending": "Pending", "Resolved": "Solved", "Closed": "Closed"}),
        "Priority": t["priority"].map({"Critical": "Urgent", "High": "High", "Medium": "Normal", "Low": "Low"}),
        "Via": t["channel"].map(via),
        "Ticket type": t["issue_type"],
        "Created at": _stamps(created),
        "Updated at": _stamps(updated),
        "Assigned at": _stamps(t["first_response_at"]),
        "Organization": t["account_id"].map(names),
        "Due date": _stamps(created + pd.Timedelta(days=3), date_only=True),
        "Initially assigned at": _stamps(t["first_response_at"]),
        "Solved at": _stamps(t["resolved_at"]),
        "Resolution time": (minutes["ttr"] // 60),
        "Satisfaction Score": np.where(csat.isna(), "Unoffered", np.where(csat.fillna(0) >= 4, "Good", "Bad")),
        "Group stations": 1 + tier,
        "Assignee stations": 1 + tier + rng.integers(0, 2, n),
        "Reopens": t["reopen_count"],
        "Replies": t["agent_replies"],
        "First reply time in minutes": minutes["frt"],
        "First reply time in minutes within business hours": business["frt"],
        "First resolution time in minutes": minutes["ttr"],
        "First resolution time in minutes within business hours": business["ttr"],
        "Full resolution time in minutes": minutes["ttr"],
        "Full resolution time in minutes within business hours": business["ttr"],
        "Agent wait time in minutes": (minutes["ttr"] // 4),
        "Agent wait time in minutes within business hours": (business["ttr"] // 4),
        "Requester wait time in minutes": (minutes["ttr"] // 2),
        "Requester wait time in minutes within business hours": (business["ttr"] // 2),
        "On hold time in minutes": 0,
        "On hold time in minutes within business hours": 0,
        "Product [list]": np.array(["web", "mobile", "api"], dtype=object)[rng.integers(0, 3, n)],
    })
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.StringDtype):
            frame[column] = frame[column].to_numpy(dtype=object, na_value="")
    write_csv(frame, path)
    with open(path, "r+b") as handle:  # Zendesk writes a UTF-8 byte-order mark
        body = handle.read()
        handle.seek(0)
        handle.write(b"\xef\xbb\xbf" + body)
    elapsed = time.perf_counter() - started
    return elapsed, n


def run_case(case: str, tickets: int, seed: int, path: Path) -> dict:
    import pandas  # noqa: F401  (imported before measuring)

    import supportxl.ingest  # noqa: F401

    before_mib = peak_mib()
    if case == "write":
        seconds, rows = write_zendesk_csv(tickets, seed, path)
        extra = {"megabytes": path.stat().st_size / 1e6}
    else:
        from supportxl.ingest import load_export

        started = time.perf_counter()
        result = load_export(path)
        seconds = time.perf_counter() - started
        rows = len(result.dataset.tickets)
        extra = {"mapping": result.mapping, "findings": len(result.report)}
    return {"case": case, "tickets": rows, "seconds": seconds, "peak_mib": peak_mib(),
            "baseline_mib": before_mib, **extra}


# -------------------------------------------------------------------------- parent side

def main(argv: list[str] | None = None) -> int:
    parser = argument_parser(__doc__, CASES, 1_000_000, "rows in the export")
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.case:  # child process: run one case, print its result as one JSON line
        report_result(run_case(args.case, args.tickets, args.seed, args.path))
        return 0

    print(f"supportxl import benchmark ({args.tickets:,} Zendesk-style rows, seed {args.seed}, year {YEAR}; "
          f"{os.cpu_count()} CPUs; each case in a fresh process)")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        path = Path(tmp) / FILE_NAME
        common = ["--tickets", str(args.tickets), "--seed", str(args.seed), "--path", str(path)]
        written = measure(__file__, "write", f"{CASES['write']}, {args.tickets:,} rows", common)
        imported = measure(__file__, "import", f"{CASES['import']}, {args.tickets:,} rows", common) \
            if written is not None else None

    print_table(timing_rows([(CASES[case], args.tickets, result)
                             for case, result in (("write", written), ("import", imported))], "rows"))
    print_baseline([imported])
    if written is not None:
        print(f"(the CSV file: {written['megabytes']:,.0f} MB)")
    if imported is not None:
        print(f"(mapping chosen: {imported['mapping']}; {imported['findings']} findings)")
    time_ok = memory_ok = False
    if imported is not None:
        time_ok = imported["seconds"] <= SECONDS_TARGET
        memory_ok = imported["peak_mib"] <= MIB_TARGET
    print_targets([
        (f"{args.tickets:,} rows imported in <= {SECONDS_TARGET:,.0f} s", time_ok),
        (f"{args.tickets:,} rows imported in <= {MIB_TARGET:,.0f} MiB peak memory", memory_ok),
    ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
