"""The escalation event log: who did what, and when, on every escalated ticket.

Each escalated ticket follows a script for the tier it reached, with a random number of
extra communication steps before the final resolution confirmation. Times run from
creation to first response to (latent) resolution; steps after the end of the period
have not happened yet and are left out.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

# (stakeholder, counterpart, activity, relative time spent in the step until the next one;
# the submission's time is the first response time, fixed by the ticket)
Step = tuple[str, str, str, float]
TIER2_SCRIPT: tuple[Step, ...] = (
    ("Customer", "Tier 1", "Initial Submission", 0.0),
    ("Tier 1", "Customer", "Review & Analysis", 1.0),
    ("Tier 1", "Tier 2", "Escalation", 0.3),
    ("Tier 2", "Tier 1", "Review & Analysis", 0.8),
    ("Tier 2", "Customer", "Troubleshooting", 1.5),
)
TIER3_SCRIPT: tuple[Step, ...] = TIER2_SCRIPT + (
    ("Tier 2", "Tier 3", "Escalation", 0.3),
    ("Tier 3", "Tier 2", "Review & Analysis", 0.8),
    ("Tier 3", "Project Manager", "Development", 3.0),
    ("Project Manager", "Customer", "Communication", 0.6),
)
# Extra communication steps, by tier reached; Critical tier-3 tickets also involve executives.
COMMUNICATIONS = {
    1: (("Tier 2", "Customer"), ("Customer", "Tier 2")),
    2: (("Tier 3", "Customer"), ("Customer", "Tier 3"), ("Project Manager", "Customer"),
        ("Project Manager", "Tier 3")),
}
EXECUTIVE_COMMUNICATIONS = (("C-Level Executive", "Customer"), ("Project Manager", "C-Level Executive"))
COMMUNICATION_WAIT = 0.6
CONFIRMATION_WAIT = 0.0  # the last step: nothing follows it
FINAL_STAKEHOLDER = {1: "Tier 2", 2: "Tier 3"}

# Every stakeholder and activity name, and each one's index in that table.
_SCRIPT_NAMES = {name for step in TIER2_SCRIPT + TIER3_SCRIPT for name in step[:3]}
_PAIR_NAMES = {name for pairs in (*COMMUNICATIONS.values(), EXECUTIVE_COMMUNICATIONS)
               for pair in pairs for name in pair}
_OTHER_NAMES = {"Communication", "Resolution Confirmation", "Customer", *FINAL_STAKEHOLDER.values()}
LABELS = np.array(sorted(_SCRIPT_NAMES | _PAIR_NAMES | _OTHER_NAMES), dtype=object)
CODE = {name: i for i, name in enumerate(LABELS)}


class _Script(NamedTuple):
    """A script as columns: stakeholder, counterpart and activity codes, and waits, by step."""

    stakeholder: np.ndarray
    counterpart: np.ndarray
    activity: np.ndarray
    wait: np.ndarray


def _script(steps: tuple[Step, ...]) -> _Script:
    return _Script(*(np.array([CODE[step[i]] for step in steps], dtype=np.int8) for i in range(3)),
                   np.array([step[3] for step in steps], dtype=float))


def _codes(pairs: tuple[tuple[str, str], ...]) -> np.ndarray:
    return np.array([[CODE[a], CODE[b]] for a, b in pairs], dtype=np.int8)


SCRIPTS = {1: _script(TIER2_SCRIPT), 2: _script(TIER3_SCRIPT)}


def escalation_events(rng: np.random.Generator, *, ticket_ids: np.ndarray, tier: np.ndarray,
                      priority: np.ndarray, created: np.ndarray, first_response: np.ndarray,
                      resolved: np.ndarray, as_of: np.datetime64,
                      communications_mean: float) -> pd.DataFrame:
    """One row per activity on an escalated ticket (``tier`` is 1 or 2 for Tier 2 or Tier 3)."""
    m = len(ticket_ids)
    if m == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
            ("ticket_id", np.int64), ("step", np.int64), ("timestamp", "datetime64[ns]"),
            ("stakeholder", object), ("counterpart", object), ("activity", object))})
    script_len = np.where(tier == 2, len(TIER3_SCRIPT), len(TIER2_SCRIPT))
    extra = rng.poisson(communications_mean, m)
    length = script_len + extra + 1  # + the resolution confirmation
    owner = np.repeat(np.arange(m), length)
    first_row = np.repeat(np.cumsum(length) - length, length)
    step = np.arange(len(owner)) - first_row

    # Who, with whom and what, as indices into LABELS: integers move faster than strings.
    stakeholder = np.empty(len(owner), dtype=np.int8)
    counterpart = np.empty(len(owner), dtype=np.int8)
    activity = np.empty(len(owner), dtype=np.int8)
    wait = np.empty(len(owner), dtype=float)
    row_tier = tier[owner]
    is_last = step == length[owner] - 1
    in_script = step < script_len[owner]
    for t, script in SCRIPTS.items():
        rows = np.flatnonzero((row_tier == t) & in_script)
        at = step[rows]
        stakeholder[rows], counterpart[rows], activity[rows] = (
            script.stakeholder[at], script.counterpart[at], script.activity[at])
        wait[rows] = script.wait[at]
        comm_rows = np.flatnonzero((row_tier == t) & ~in_script & ~is_last)
        pairs = _codes(COMMUNICATIONS[t])
        if t == 2:
            critical = priority[owner[comm_rows]] == "Critical"
            pairs_all = _codes(COMMUNICATIONS[t] + EXECUTIVE_COMMUNICATIONS)
            choice = np.where(critical, rng.integers(0, len(pairs_all), len(comm_rows)),
                              rng.integers(0, len(pairs), len(comm_rows)))
            chosen = pairs_all[choice]
        else:
            chosen = pairs[rng.integers(0, len(pairs), len(comm_rows))]
        stakeholder[comm_rows], counterpart[comm_rows] = chosen[:, 0], chosen[:, 1]
        activity[comm_rows] = CODE["Communication"]
        wait[comm_rows] = COMMUNICATION_WAIT
        last_rows = np.flatnonzero((row_tier == t) & is_last)
        stakeholder[last_rows], counterpart[last_rows] = CODE[FINAL_STAKEHOLDER[t]], CODE["Customer"]
        activity[last_rows] = CODE["Resolution Confirmation"]
        wait[last_rows] = CONFIRMATION_WAIT

    # Steps 0 and 1 sit at creation and first response; later steps split the time from
    # first response to resolution: the gap before a step is a random share, by kind, of the
    # time spent in the step before it (the same ticket's, as step >= 2).
    gap = np.where(step >= 2, np.roll(wait, 1) * rng.exponential(1.0, len(owner)), 0.0)
    cumulative = np.cumsum(gap)
    before_ticket = np.repeat(np.concatenate(([0.0], cumulative[np.cumsum(length)[:-1] - 1])), length)
    within = cumulative - before_ticket
    total = np.repeat(within[np.cumsum(length) - 1], length)
    span = (resolved - first_response).astype("timedelta64[s]").astype(np.int64)[owner]
    offset = np.where(total > 0, np.floor(span * within / np.where(total > 0, total, 1.0)), 0)
    timestamp = first_response[owner] + offset.astype(np.int64).astype("timedelta64[s]")
    timestamp = np.where(step == 0, created[owner], timestamp)
    timestamp = np.where(is_last, resolved[owner], timestamp)

    keep = timestamp <= as_of
    return pd.DataFrame({
        "ticket_id": ticket_ids[owner][keep],
        "step": (step[keep] + 1).astype(np.int64),
        "timestamp": timestamp[keep].astype("datetime64[ns]"),
        "stakeholder": LABELS[stakeholder[keep]],
        "counterpart": LABELS[counterpart[keep]],
        "activity": LABELS[activity[keep]],
    })
