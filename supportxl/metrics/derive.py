"""The derived ticket table: canonical columns plus everything the KPIs are computed from.

One row per ticket, keyed as in ``columns.TICKET_SHEET_COLUMNS``. The same frame feeds the
pandas side of every KPI and the Tickets sheet, so a formula's cached value and the cells
it reads always come from one computation.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from supportxl.dataset import STATED_BUSINESS_HOURS, STATED_WAITS, WORK_HOURS, Dataset
from supportxl.metrics.calendar import BusinessCalendar, business_hours
from supportxl.metrics.kpis import IN_SELECTION, SELECTION_KEY
from supportxl.schema import AGENT_WAIT_STATUS, CLOSED_STATUSES, ON_HOLD_STATUS, UNKNOWN, WEEKDAY_LABELS

if TYPE_CHECKING:
    from supportxl.template import ReportTemplate

HOURS_DECIMALS = 6  # durations are rounded so the value written equals the value computed
_ACCOUNT_FIELDS = {"name": "account", "industry": "industry", "country": "country",
                   "region": "region", "segment": "segment"}


def derive(dataset: Dataset, template: ReportTemplate) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """The derived ticket table, the escalation log with step durations (made together: each
    ticket's escalation timings come from the log) and the as-of moment, all in the report's
    time zone."""
    frame = _ticket_frame(dataset, template)
    events = derive_events(dataset, frame)
    timings = escalation_timings(events).reindex(frame["ticket_id"].to_numpy())
    for key in ESCALATION_TIMING_KEYS:
        frame[key] = timings[key].to_numpy()
    frame["handoffs"] = frame["handoffs"].fillna(0).astype(np.int64)
    return frame, events, pd.Timestamp(to_report_zone(pd.Series([dataset.as_of]), dataset)[0])


def derive_tickets(dataset: Dataset, template: ReportTemplate) -> pd.DataFrame:
    return derive(dataset, template)[0]


def stored_in_utc(dataset: Dataset) -> bool:
    """Whether the canonical tables hold UTC times (an import that knew each time's offset or
    zone), to be shown in the manifest's zone."""
    return dataset.manifest.get("timestamps") == "utc" and bool(dataset.manifest.get("timezone"))


def to_report_zone(values: pd.Series, dataset: Dataset) -> np.ndarray:
    """Naive timestamps of the canonical tables as wall-clock times of the report's zone."""
    stamps = pd.Series(values).astype("datetime64[ns]")
    if stored_in_utc(dataset):
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(dataset.manifest["timezone"]).dt.tz_localize(None)
    return stamps.to_numpy(dtype="datetime64[ns]")


def _ticket_frame(dataset: Dataset, template: ReportTemplate) -> pd.DataFrame:
    as_of = dataset.as_of
    t = dataset.tickets
    t = t[t["created_at"].to_numpy(dtype="datetime64[ns]") <= as_of.to_datetime64()].reset_index(drop=True)
    accounts = dataset.accounts.drop_duplicates("account_id").set_index("account_id")
    frame = pd.DataFrame({"ticket_id": t["ticket_id"].to_numpy()})
    # Durations are measured on the stored (absolute) times; what has not happened by the
    # as-of moment has not happened: a ticket resolved later is open.
    absolute = {key: pd.Series(t[key].to_numpy(dtype="datetime64[ns]")) for key in
                ("created_at", "first_response_at", "resolved_at")}
    for key in ("first_response_at", "resolved_at"):
        absolute[key] = absolute[key].where(absolute[key] <= as_of)
    for key, values in absolute.items():
        frame[key] = to_report_zone(values, dataset)
    for key in ("status", "priority", "channel", "issue_type", "team", "agent", "account_id"):
        frame[key] = _text(t[key])
    for source, key in _ACCOUNT_FIELDS.items():
        frame[key] = _text(frame["account_id"].map(accounts[source]) if source in accounts else None,
                           len(frame))
    for key in ("requester_name", "requester_email", "subject"):
        frame[key] = t[key].fillna("").astype(str).to_numpy(dtype=object)
    if "issue_type_rule" in t:  # an import classified untyped tickets
        frame["issue_type_rule"] = t["issue_type_rule"].fillna("").astype(str).to_numpy(dtype=object)
    frame["csat"] = pd.array(t["csat"], dtype="Int64")
    escalated = t["escalated"].to_numpy(dtype=bool)
    frame["escalated"] = np.where(escalated, "Yes", "No").astype(object)
    frame["escalation_tier"] = _text(t["escalation_tier"])
    frame["reopen_count"] = t["reopen_count"].fillna(0).to_numpy(dtype=np.int64)
    frame["agent_replies"] = t["agent_replies"].fillna(0).to_numpy(dtype=np.int64)

    local = frame["created_at"]
    frame["month"] = local.dt.to_period("M").dt.to_timestamp()
    frame["weekday"] = np.array(WEEKDAY_LABELS, dtype=object)[local.dt.day_of_week.to_numpy()]
    frame["hour"] = local.dt.hour.to_numpy(dtype=np.int64)

    created = absolute["created_at"]
    responded = absolute["first_response_at"].notna().to_numpy()
    resolved = absolute["resolved_at"].notna().to_numpy()
    frame["is_open"] = ~resolved
    # The status as of that moment: a ticket resolved after it was still open then.
    frame["status"] = np.where(~resolved & frame["status"].isin(CLOSED_STATUSES), "Open", frame["status"])
    frame["frt_hours"] = _hours(absolute["first_response_at"] - created)
    frame["ttr_hours"] = _hours(absolute["resolved_at"] - created)
    open_for = _hours(pd.Series(as_of - created))
    cal = data_calendar(template, dataset)
    if cal is not None:
        for key, end in (("frt_business_hours", "first_response_at"), ("ttr_business_hours", "resolved_at")):
            counted = _round(business_hours(created, absolute[end], cal))
            stated = t.get(STATED_BUSINESS_HOURS[end])  # an export's own business-hour durations win
            frame[key] = counted if stated is None else np.where(
                stated.notna().to_numpy() & absolute[end].notna().to_numpy(),
                _round(stated.to_numpy(dtype=float)), counted)
        as_of_column = pd.Series(np.full(len(frame), as_of.to_datetime64()))
        open_for = pd.Series(_round(business_hours(created, as_of_column, cal)))
        response_clock, resolution_clock = frame["frt_business_hours"], frame["ttr_business_hours"]
    else:
        response_clock, resolution_clock = frame["frt_hours"], frame["ttr_hours"]
    # An open ticket's clock keeps running until the end of the period.
    frame["response_clock"] = np.where(responded, response_clock, open_for)
    frame["resolution_clock"] = np.where(resolved, resolution_clock, open_for)
    age = np.floor((as_of - created).dt.total_seconds() / 86_400)
    frame["age_days"] = pd.array(np.where(resolved, np.nan, age), dtype="Int64")
    frame["fcr"] = (resolved & (frame["agent_replies"] == 1) & ~escalated
                    & (frame["reopen_count"] == 0)).astype(np.int64)
    waits = status_times(dataset, t)
    for key in STATUS_TIME_KEYS:
        frame[key] = waits[key].to_numpy(dtype=float)
    frame["ttr_net_hours"] = _round(np.where(resolved, frame["ttr_hours"] - frame["hours_pending"], np.nan))
    # The agent work time an export tracks (blank where it does not): what the Plan's handle time measures.
    frame["work_hours"] = t[WORK_HOURS].to_numpy(dtype=float) if WORK_HOURS in t else np.full(len(frame), np.nan)

    sla = template.sla
    frame["response_target"] = frame["priority"].map(sla.first_response_hours).astype(float)
    frame["resolution_target"] = frame["priority"].map(sla.resolution_hours).astype(float)
    # A ticket whose priority has no target is neither breached nor met: its flag is blank.
    for flag, clock, target in (("response_breached", "response_clock", "response_target"),
                                ("resolution_breached", "resolution_clock", "resolution_target")):
        frame[flag] = np.where(frame[target].isna(), np.nan, (frame[clock] > frame[target]).astype(float))
    over = (frame["resolution_clock"] - frame["resolution_target"]).clip(lower=0).fillna(0.0)
    frame["hours_over_target"] = over
    # The estimate: a cost per breached ticket plus the cost of its hours over the target, capped.
    per_ticket = frame["priority"].map(sla.cost_per_breach).astype(float).fillna(0.0)
    per_hour = frame["priority"].map(sla.cost_per_breach_hour).astype(float).fillna(0.0)
    charged = np.minimum(over, sla.breach_hours_cap)
    frame["breach_cost"] = np.where(frame["resolution_breached"] == 1, per_ticket + per_hour * charged, 0.0)
    # The Tickets sheet's formula divides the same two cells, so the cached value is its result.
    frame["sla_used"] = np.where(~resolved & frame["resolution_target"].notna(),
                                 frame["resolution_clock"] / frame["resolution_target"], np.nan)
    # The Dashboard's filters read "(All)" in the file as written: every ticket is in the selection.
    frame[SELECTION_KEY] = np.full(len(frame), IN_SELECTION, dtype=np.int64)
    return frame


STATUS_TIME_KEYS = ("hours_new", "hours_open", "hours_pending", "hours_on_hold", "requester_wait_hours")
_HISTORY_KEYS = {"New": "hours_new", "Open": "hours_open", "Reopened": "hours_open",
                 AGENT_WAIT_STATUS: "hours_pending", ON_HOLD_STATUS: "hours_on_hold"}


def status_times(dataset: Dataset, tickets: pd.DataFrame) -> pd.DataFrame:
    """Hours each ticket of ``tickets`` spent in New, Open (and Reopened), Pending and On-hold,
    and its requester wait (New, Open, Reopened and On-hold), in the rows' order.

    One rule per ticket: from its status history where it has one (each change lasts until the
    ticket's next change, the current status until the as-of moment; changes after it have not
    happened yet), else from the waits the export states for it (time in New and Open stay
    blank), else blank.
    """
    ids = tickets["ticket_id"].to_numpy()
    stated = {"hours_pending": "agent_wait", "hours_on_hold": "on_hold", "requester_wait_hours": "requester_wait"}
    times = pd.DataFrame({key: tickets[STATED_WAITS[stated[key]]].to_numpy(dtype=float)
                          if key in stated and STATED_WAITS[stated[key]] in tickets
                          else np.full(len(ids), np.nan) for key in STATUS_TIME_KEYS})
    as_of = dataset.as_of.to_datetime64()
    changes = dataset.status_changes
    stamps = changes["timestamp"].to_numpy(dtype="datetime64[ns]")
    changes = changes[(stamps <= as_of) & changes["ticket_id"].isin(ids)]
    if not changes.empty:
        changes = changes.sort_values(["ticket_id", "timestamp"], kind="stable")
        following = changes.groupby("ticket_id")["timestamp"].shift(-1).fillna(pd.Timestamp(as_of))
        hours = (following - changes["timestamp"]).dt.total_seconds() / 3600
        status = changes["to_status"].map(_HISTORY_KEYS)
        summed = hours.groupby([changes["ticket_id"], status]).sum().unstack(fill_value=0.0)
        summed = summed.reindex(columns=list(STATUS_TIME_KEYS[:-1]), fill_value=0.0)
        summed = summed.reindex(pd.Index(changes["ticket_id"].unique()), fill_value=0.0)
        summed["requester_wait_hours"] = summed[["hours_new", "hours_open", "hours_on_hold"]].sum(axis=1)
        has_history = pd.Series(ids).isin(summed.index).to_numpy()
        from_history = summed.reindex(ids)
        for key in STATUS_TIME_KEYS:
            times[key] = np.where(has_history, from_history[key].to_numpy(dtype=float), times[key])
    return pd.DataFrame({key: _round(times[key].to_numpy(dtype=float)) for key in STATUS_TIME_KEYS})


def missing_status_fields(dataset: Dataset) -> tuple[str, ...]:
    """The fields of ``schema.STATUS_FIELDS`` this dataset cannot give."""
    if len(dataset.status_changes):
        return ()
    tickets = dataset.tickets
    return ("status_history", *(name for name, column in STATED_WAITS.items()
                                if column not in tickets or tickets[column].isna().all()))


def data_calendar(template: ReportTemplate, dataset: Dataset) -> BusinessCalendar | None:
    """The template's business calendar, reading naive timestamps in the zone an imported
    export recorded them in (the generator's data has no zone and keeps the template's)."""
    zone = dataset.manifest.get("timezone")
    if template.calendar is None or not zone:
        return template.calendar
    return dataclasses.replace(template.calendar, data_timezone="UTC" if stored_in_utc(dataset) else zone)


def _text(values, length: int | None = None) -> np.ndarray:
    """Categorical text with blanks as 'Unknown'."""
    if values is None:
        return np.full(length, UNKNOWN, dtype=object)
    series = pd.Series(values).astype(object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if all(type(value) is str for value in uniques):  # each distinct text tested once
        names = np.array([value if value.strip() else UNKNOWN for value in uniques] + [UNKNOWN], dtype=object)
        return names[codes]  # a code of -1 (a missing value) takes the last entry
    series = series.where(series.notna() & (series.astype(str).str.strip() != ""), UNKNOWN)
    return series.astype(str).to_numpy(dtype=object)


def _hours(delta: pd.Series) -> np.ndarray:
    return _round(delta.dt.total_seconds().to_numpy(dtype=float) / 3600)


def _round(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=float), HOURS_DECIMALS)


EVENT_TICKET_FIELDS = ("month", "channel", "priority", "team")
ESCALATION_TIMING_KEYS = ("hours_to_escalate", "hours_to_tier3", "handoffs")


def derive_events(dataset: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    """The escalation log with the hours each step lasted (until the ticket's next step; the
    last step has none) and the ticket fields the dashboard filters on."""
    events = dataset.escalation_events.sort_values(["ticket_id", "step"], kind="stable").reset_index(drop=True)
    following = events.groupby("ticket_id")["timestamp"].shift(-1)
    events["hours_in_step"] = _hours(following - events["timestamp"])
    fields = frame.drop_duplicates("ticket_id").set_index("ticket_id")[list(EVENT_TICKET_FIELDS)]
    joined = fields.reindex(events["ticket_id"].to_numpy())
    for key in EVENT_TICKET_FIELDS:
        events[key] = joined[key].to_numpy()
    for key in EVENT_TICKET_FIELDS[1:]:
        events[key] = _text(events[key])
    return events


def escalation_timings(events: pd.DataFrame) -> pd.DataFrame:
    """Per ticket: hours from submission to the first escalation and to Tier 3, and the
    number of hand-offs (consecutive steps taken by a different stakeholder)."""
    if events.empty:
        return pd.DataFrame(columns=list(ESCALATION_TIMING_KEYS), dtype=float)
    by_ticket = events.groupby("ticket_id", sort=True)
    start = by_ticket["timestamp"].first()
    escalations = events[events["activity"] == "Escalation"]
    first_escalation = escalations.groupby("ticket_id")["timestamp"].first()
    tier3 = escalations[escalations["counterpart"] == "Tier 3"].groupby("ticket_id")["timestamp"].first()
    changed = events["stakeholder"].ne(by_ticket["stakeholder"].shift()) & \
        events["ticket_id"].eq(events["ticket_id"].shift())
    return pd.DataFrame({
        "hours_to_escalate": _hours(first_escalation.reindex(start.index) - start),
        "hours_to_tier3": _hours(tier3.reindex(start.index) - start),
        "handoffs": changed.groupby(events["ticket_id"]).sum().reindex(start.index).to_numpy(),
    }, index=start.index)
