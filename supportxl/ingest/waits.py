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


def stated_durations(durations: dict[str, DurationSpec], work: pd.DataFrame) -> dict[str, np.ndarray]:
    """Hours of each stated wait and of the work time found in ``work`` (parsed durations are its
    ``_duration_<name>`` columns), keyed by the optional tickets column it fills."""
    found = {}
    for measure, column in STATED_COLUMNS.items():
        for name, spec in durations.items():
            if spec.measures == measure and not spec.business_hours and f"_duration_{name}" in work:
                found[column] = work[f"_duration_{name}"].to_numpy(dtype=float)
                break
    return found
