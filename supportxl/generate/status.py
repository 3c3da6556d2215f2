"""Each generated ticket's status history: New, Open, a wait (Pending on the customer or
On-hold on a third party), Solved, and Reopened when the customer comes back.

The history is laid over the ticket's existing timeline (created, first response, the body of
work, the reopen), so it never moves a ticket's times: a wait is a stretch of the body. The
stalls the generator adds to the body become the long waits; one team (the planted
``long_hold_team``) puts many of its tickets on hold for most of their body.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from supportxl.schema import STATUS_CHANGE_COLUMNS

PENDING, ON_HOLD = 1, 2
_WAIT_NAMES = np.array([None, "Pending", "On-hold"], dtype=object)
CUSTOMER_WAIT_SHARE = 0.3  # tickets without a stall that still wait on the customer once
OTHER_STALL_ON_HOLD_SHARE = 0.15  # stalls put on hold outside the planted team (the rest wait on the customer)


def status_history(rng: np.random.Generator, *, ticket_ids: np.ndarray, created: np.ndarray,
                   frt_hours: np.ndarray, body_hours: np.ndarray, reopen_hours: np.ndarray,
                   reopened: np.ndarray, quick: np.ndarray, stalled: np.ndarray,
                   stall_hours: np.ndarray, long_hold: np.ndarray, long_hold_share: float,
                   as_of: np.datetime64) -> pd.DataFrame:
    """The status_changes table (ticket_id, timestamp, from_status, to_status), in ticket and
    time order, holding only the changes made by ``as_of``.

    ``long_hold`` marks the tickets of the team that puts tickets on hold; ``stall_hours`` is
    the stall already inside ``body_hours`` of the ``stalled`` tickets.
    """
    n = len(ticket_ids)
    on_hold_draw = rng.random(n)
    customer_draw = rng.random(n)
    length_draw = rng.uniform(0.2, 0.5, n)
    hold_length_draw = rng.uniform(0.5, 0.8, n)
    start_draw = rng.uniform(0.1, 0.9, n)
    reopen_draw = rng.uniform(0.2, 0.6, n)

    kind = np.zeros(n, dtype=np.int64)
    wait = np.zeros(n)
    worked = ~quick & ~stalled
    customer = worked & (customer_draw < CUSTOMER_WAIT_SHARE)
    kind[customer], wait[customer] = PENDING, body_hours[customer] * length_draw[customer]
    held = worked & long_hold & (on_hold_draw < long_hold_share)
    kind[held], wait[held] = ON_HOLD, body_hours[held] * hold_length_draw[held]
    # A stall is a long wait: on the customer mostly, on hold in the team that holds tickets.
    stall_kind = np.where(long_hold | (on_hold_draw < OTHER_STALL_ON_HOLD_SHARE), ON_HOLD, PENDING)
    kind[stalled], wait[stalled] = stall_kind[stalled], stall_hours[stalled]

    wait_start = frt_hours + start_draw * (body_hours - wait)
    solved = frt_hours + body_hours
    waits = _WAIT_NAMES[kind]
    # One column per possible change, in time order; hours after creation.
    offsets = np.column_stack([np.zeros(n), frt_hours, wait_start, wait_start + wait, solved,
                               solved + reopen_hours * reopen_draw, solved + reopen_hours])
    has = np.column_stack([np.ones(n, dtype=bool), np.ones(n, dtype=bool), kind > 0, kind > 0,
                           np.ones(n, dtype=bool), reopened, reopened])
    froms = np.column_stack([np.full(n, None, dtype=object), np.full(n, "New", dtype=object), np.full(n, "Open", dtype=object),
                             waits, np.full(n, "Open", dtype=object), np.full(n, "Solved", dtype=object),
                             np.full(n, "Reopened", dtype=object)])
    tos = np.column_stack([np.full(n, "New", dtype=object), np.full(n, "Open", dtype=object), waits,
                           np.full(n, "Open", dtype=object), np.full(n, "Solved", dtype=object),
                           np.full(n, "Reopened", dtype=object), np.full(n, "Solved", dtype=object)])
    times = created[:, None] + np.round(offsets * 3600).astype("timedelta64[s]")
    keep = has & (times <= as_of)
    return pd.DataFrame({
        STATUS_CHANGE_COLUMNS[0]: np.broadcast_to(ticket_ids[:, None], keep.shape)[keep],
        STATUS_CHANGE_COLUMNS[1]: times[keep].astype("datetime64[ns]"),
        STATUS_CHANGE_COLUMNS[2]: froms[keep],
        STATUS_CHANGE_COLUMNS[3]: tos[keep],
    })


def current_status(changes: pd.DataFrame, ticket_ids: np.ndarray) -> np.ndarray:
    """Each ticket's last status in ``changes`` (every ticket has at least its New)."""
    last = changes.groupby("ticket_id", sort=False)["to_status"].last()
    return last.reindex(ticket_ids).to_numpy(dtype=object)
