"""Benchmark: supportxl's vectorised generator against a per-row faker loop.

What it measures
    1. ours, N tickets (default 50,000): ``generate(params)`` then ``write_dataset(...)``;
       that is tickets.csv plus accounts.csv, agents.csv, escalation_events.csv and
       manifest.json.
    2. per-row loop, the same N: the usual way such data is written by hand, a Python
       ``for`` loop that calls faker and ``random`` for every ticket, builds one dict per
       row, then ``pd.DataFrame(rows).to_csv(...)``. It produces the same 19 ticket
       columns (tickets.csv only, so it does less work than case 1).
    3. ours, 1,000,000 tickets (``--big``), generate + write, unless ``--skip-big``.

    Each case runs in a fresh child process (this script again, with a hidden ``--case``
    option), so that peak memory belongs to that case alone. The child reports the wall
    time around the work only (imports and parameter loading excluded) and its peak
    resident memory, ``resource.getrusage(RUSAGE_SELF).ru_maxrss``; the peak includes the
    interpreter and the imported libraries. Outputs go to a temporary directory that is
    deleted afterwards.

How to run
    python benchmarks/bench_generate.py                    # the full run, a few minutes
    python benchmarks/bench_generate.py --skip-big         # only the 50,000-ticket cases
    python benchmarks/bench_generate.py --tickets 20000 --big 500000 --seed 7

Targets
    * ours is at least 10x faster than the per-row loop at 50,000 tickets;
    * 1,000,000 tickets are generated and written in at most 15 s;
    * ... with a peak memory of at most 2 GB (2,048 MiB).

The script prints a table and MET / NOT MET for each target. It is a report, not a test:
the exit code is 0 whatever the numbers are.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _harness import (argument_parser, measure, peak_mib, print_baseline, print_table, print_targets,
                      report_result, timing_rows)

YEAR = 2025
SPEEDUP_TARGET = 10.0
BIG_SECONDS_TARGET = 15.0
BIG_MIB_TARGET = 2048.0

CASES = {
    "ours": "ours (vectorised)",
    "loop": "per-row faker loop",
    "ours-big": "ours (vectorised)",
}


# --------------------------------------------------------------------------- child side

def _run_ours(tickets: int, seed: int, out: Path) -> tuple[float, int]:
    from supportxl.dataset import write_dataset
    from supportxl.generate import generate, load_params

    params = load_params(overrides={"tickets": tickets, "seed": seed}, year=YEAR)
    started = time.perf_counter()
    dataset = generate(params)
    write_dataset(dataset, out)
    elapsed = time.perf_counter() - started
    return elapsed, len(dataset.tickets)


def _run_loop(tickets: int, seed: int, out: Path) -> tuple[float, int]:
    import datetime as dt
    import math
    import random

    import pandas as pd
    from faker import Faker

    from supportxl.dataset import TICKET_COLUMNS

    priorities = ["Critical", "High", "Medium", "Low"]
    priority_weights = [0.05, 0.20, 0.45, 0.30]
    channels = ["Email", "Web", "Chat", "Phone", "Social"]
    channel_weights = [0.38, 0.27, 0.20, 0.12, 0.03]
    issue_types = ["Billing", "Login", "Data Import", "API", "UI Bug", "Feature Request",
                   "Report Generation", "Refund", "Card Block", "Limit Change", "Technical"]
    issue_weights = [0.14, 0.13, 0.08, 0.08, 0.10, 0.06, 0.08, 0.07, 0.09, 0.07, 0.10]
    response_median_hours = {"Critical": 0.25, "High": 0.75, "Medium": 2.0, "Low": 4.0}
    resolution_median_hours = {"Critical": 1.5, "High": 4.5, "Medium": 9.0, "Low": 18.0}
    start = dt.datetime(YEAR, 1, 1)
    end = dt.datetime(YEAR, 12, 31, 23, 59, 59)
    as_of = dt.datetime(YEAR + 1, 1, 1)

    started = time.perf_counter()
    Faker.seed(seed)
    random.seed(seed)
    fake = Faker("en_US")
    # A fixed team and customer base, drawn once; everything else is drawn per ticket.
    agents = {team: [fake.name() for _ in range(count)]
              for team, count in (("Tier 1", 36), ("Tier 2", 17), ("Tier 3", 7))}
    account_ids = [f"ACC-{i:04d}" for i in range(1, 401)]

    rows = []
    for i in range(tickets):
        created = fake.date_time_between(start_date=start, end_date=end)
        priority = random.choices(priorities, weights=priority_weights)[0]
        channel = random.choices(channels, weights=channel_weights)[0]
        issue_type = random.choices(issue_types, weights=issue_weights)[0]
        escalated = random.random() < 0.18
        if escalated:
            team = "Tier 3" if random.random() < 0.3 else "Tier 2"
        else:
            team = "Tier 1"
        agent = random.choice(agents[team])

        response_hours = random.lognormvariate(math.log(response_median_hours[priority]), 0.9)
        resolution_hours = random.lognormvariate(math.log(resolution_median_hours[priority]), 1.0)
        if escalated:
            resolution_hours *= 2.0 if team == "Tier 2" else 3.5
        first_response_at = created + dt.timedelta(hours=response_hours)
        resolved_at = first_response_at + dt.timedelta(hours=resolution_hours)
        if first_response_at > as_of:
            first_response_at = None
        if resolved_at > as_of:
            resolved_at = None

        if resolved_at is not None:
            status = "Resolved" if as_of - resolved_at < dt.timedelta(days=4) else "Closed"
            reopen_count = random.choices([0, 1, 2], weights=[0.97, 0.025, 0.005])[0]
            csat = random.choice([1, 2, 3, 4, 5]) if random.random() < 0.2 else None
            agent_replies = random.randint(1, 6)
        else:
            status = random.choice(["Open", "Pending"]) if first_response_at else "Open"
            reopen_count = 0
            csat = None
            agent_replies = random.randint(1, 3) if first_response_at else 0

        rows.append({
            "ticket_id": 100_001 + i,
            "created_at": created,
            "first_response_at": first_response_at,
            "resolved_at": resolved_at,
            "status": status,
            "priority": priority,
            "channel": channel,
            "issue_type": issue_type,
            "team": team,
            "agent": agent,
            "account_id": random.choice(account_ids),
            "requester_name": fake.name(),
            "requester_email": fake.email(),
            "subject": fake.sentence(nb_words=6),
            "csat": csat,
            "escalated": escalated,
            "escalation_tier": team,
            "reopen_count": reopen_count,
            "agent_replies": agent_replies,
        })

    df = pd.DataFrame(rows)
    df.to_csv(out / "tickets.csv", index=False)
    elapsed = time.perf_counter() - started

    if tuple(df.columns) != TICKET_COLUMNS:
        raise RuntimeError(f"per-row loop produced columns {list(df.columns)}, not {TICKET_COLUMNS}")
    return elapsed, len(df)


def run_case(case: str, tickets: int, seed: int) -> dict:
    """Run one case in this (fresh) process and return its measurements."""
    import pandas  # noqa: F401  (imported before measuring, like the generator's own imports)

    import supportxl.generate  # noqa: F401

    before_mib = peak_mib()
    runner = _run_loop if case == "loop" else _run_ours
    with tempfile.TemporaryDirectory(prefix=f"bench-{case}-") as tmp:
        seconds, rows = runner(tickets, seed, Path(tmp))
        peak = peak_mib()
    return {"case": case, "tickets": rows, "seconds": seconds, "peak_mib": peak,
            "baseline_mib": before_mib}


# -------------------------------------------------------------------------- parent side

def report(results: list[tuple[str, int, dict | None]], args: argparse.Namespace) -> None:
    print_table(timing_rows([(CASES[case], tickets, result) for case, tickets, result in results], "tickets"))
    print_baseline([result for _, _, result in results])

    by_case = {case: result for case, _, result in results}
    ours, loop, big = by_case.get("ours"), by_case.get("loop"), by_case.get("ours-big")
    print()
    speedup_ok = None
    if ours is not None and loop is not None:
        ratio = loop["seconds"] / ours["seconds"]
        speedup_ok = ratio >= SPEEDUP_TARGET
        print(f"Speed ratio per-row loop / ours at {args.tickets:,} tickets: {ratio:,.1f}x")
    else:
        print(f"Speed ratio per-row loop / ours at {args.tickets:,} tickets: n/a (a case failed)")
        speedup_ok = False

    if args.skip_big:
        time_ok = memory_ok = None
    elif big is None:
        time_ok = memory_ok = False
    else:
        time_ok = big["seconds"] <= BIG_SECONDS_TARGET
        memory_ok = big["peak_mib"] <= BIG_MIB_TARGET

    print_targets([
        (f"ours >= {SPEEDUP_TARGET:,.0f}x faster than the per-row loop at {args.tickets:,} tickets",
         speedup_ok),
        (f"{args.big:,} tickets in <= {BIG_SECONDS_TARGET:,.0f} s", time_ok),
        (f"{args.big:,} tickets in <= {BIG_MIB_TARGET:,.0f} MiB peak memory", memory_ok),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser(__doc__, CASES, 50_000, "tickets for the ours vs per-row loop comparison")
    parser.add_argument("--big", type=int, default=1_000_000,
                        help="tickets for the large run of ours (default 1,000,000)")
    parser.add_argument("--skip-big", action="store_true", help="skip the large run")
    args = parser.parse_args(argv)

    if args.case:  # child process: run one case, print its result as one JSON line
        report_result(run_case(args.case, args.tickets, args.seed))
        return 0

    print(f"supportxl generator benchmark (seed {args.seed}, year {YEAR}; each case in a fresh process)")
    plan = [("ours", args.tickets), ("loop", args.tickets)]
    if not args.skip_big:
        plan.append(("ours-big", args.big))
    results = [(case, tickets, measure(__file__, case, f"{CASES[case]}, {tickets:,} tickets",
                                       ["--tickets", str(tickets), "--seed", str(args.seed)]))
               for case, tickets in plan]
    report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
