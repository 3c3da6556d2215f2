"""Waits an export states per ticket (Zendesk's agent wait, requester wait and on-hold
minutes), carried into the tickets table where there is no status history to count them from.

A mapping names them as durations that measure ``agent_wait``, ``requester_wait`` or
``on_hold``; the calendar-hour column is used (a business-hour variant is ignored, as the
time-in-status KPIs are in calendar hours).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from supportxl.dataset import STATED_WAITS
from supportxl.ingest.mapping import DurationSpec


def stated_waits(durations: dict[str, DurationSpec], work: pd.DataFrame) -> dict[str, np.ndarray]:
    """Hours of each stated wait found in ``work`` (parsed durations are its ``_duration_<name>``
    columns), keyed by the optional tickets column it fills."""
    found = {}
    for measure, column in STATED_WAITS.items():
        for name, spec in durations.items():
            if spec.measures == measure and not spec.business_hours and f"_duration_{name}" in work:
                found[column] = work[f"_duration_{name}"].to_numpy(dtype=float)
                break
    return found
