"""The status history (the canonical ``status_changes`` table) of an audit-style export: one
row per update, each with the ticket's state at that moment.

A mapping's ``[history]`` table says which status of ``schema.HISTORY_STATUSES`` each raw state
stands for. Read in time order, a ticket changes status where the mapped status differs from
the one before; a row whose state does not change adds nothing. Rows written at the same moment
count as one: the last of them in the file holds the state from then on. A ticket that goes
back from Solved to New or Open is Reopened, until it next becomes Pending, On-hold or Solved.
A state the table does not list is not guessed: its row adds no change, and the caller reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from supportxl.dataset import empty_status_changes
from supportxl.schema import STATUS_CHANGE_COLUMNS

SOLVED, REOPENED = "Solved", "Reopened"
WORKING = ("New", "Open")  # the statuses a return from Solved turns into Reopened


@dataclass(frozen=True)
class History:
    changes: pd.DataFrame  # ticket_id, timestamp, from_status, to_status
    unknown: np.ndarray  # rows whose state the [history] table does not list


def status_history(ids: np.ndarray, times: pd.Series, states: pd.Series, table: dict[str, str]) -> History:
    """The status changes of update rows sorted by ticket and time: ``ids`` the ticket of each
    row, ``times`` its moment, ``states`` its raw state as matched (normalised; None when
    blank) and ``table`` the mapping's [history] with normalised keys."""
    states = pd.Series(states.to_numpy(dtype=object))
    mapped = states.map(table)
    unknown = (states.notna() & mapped.isna()).to_numpy()
    rows = pd.DataFrame({"ticket": pd.factorize(ids)[0], "id": ids, "t": times.to_numpy(dtype="datetime64[ns]"),
                         "status": mapped.to_numpy(dtype=object)})
    rows = rows[rows["status"].notna() & rows["t"].notna()]
    rows = rows.drop_duplicates(["ticket", "t"], keep="last")
    if rows.empty:
        return History(empty_status_changes().astype({"ticket_id": np.asarray(ids).dtype}), unknown)
    ticket = rows["ticket"]
    # The last status before each row that is not New or Open decides whether New or Open is a reopen.
    anchor = rows["status"].where(~rows["status"].isin(WORKING))
    before = anchor.groupby(ticket).ffill().groupby(ticket).shift()
    reopened = rows["status"].isin(WORKING) & before.isin((SOLVED, REOPENED))
    status = rows["status"].where(~reopened, REOPENED)
    previous = status.groupby(ticket).shift()
    changed = status.ne(previous)  # the first row of a ticket too: nothing before it
    changes = pd.DataFrame({
        STATUS_CHANGE_COLUMNS[0]: rows["id"][changed].to_numpy(),
        STATUS_CHANGE_COLUMNS[1]: rows["t"][changed].to_numpy(dtype="datetime64[ns]"),
        STATUS_CHANGE_COLUMNS[2]: previous[changed].to_numpy(dtype=object),  # missing for the first
        STATUS_CHANGE_COLUMNS[3]: status[changed].to_numpy(dtype=object),
    })
    return History(changes, unknown)
