"""Durations an export states per ticket that no timestamp gives: the waits (Zendesk's agent
wait, requester wait and on-hold minutes), used where there is no status history to count them
from, and the agent work time (time-tracking fields), which the Plan's handle time is measured from.

A mapping names them as durations that measure ``agent_wait``, ``requester_wait``, ``on_hold``
or ``work_time``; the calendar-hour column is used (a business-hour variant is ignored, as the
time-in-status KPIs are in calendar hours).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from supportxl.dataset import STATED_WAITS, WORK_HOURS
from supportxl.ingest.mapping import DurationSpec

STATED_COLUMNS = {**STATED_WAITS, "work_time": WORK_HOURS}  # measure -> optional tickets column


def stated_durations(durations: dict[str, DurationSpec], work: pd.DataFrame,
                     columns: dict[str, str] = STATED_COLUMNS, *, business_hours: bool = False,
                     ) -> dict[str, np.ndarray]:
    """Hours of each measure of ``columns`` (by default the stated waits and the work time) found
    in ``work`` (parsed durations are its ``_duration_<name>`` columns): the first duration of
    the mapping that measures it in calendar hours (business hours with ``business_hours``),
    keyed by the optional tickets column it fills."""
    found = {}
    for measure, column in columns.items():
        for name, spec in durations.items():
            if spec.measures == measure and spec.business_hours == business_hours and f"_duration_{name}" in work:
                found[column] = work[f"_duration_{name}"].to_numpy(dtype=float)
                break
    return found
