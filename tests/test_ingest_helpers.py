"""Helpers for the ingest tests: export files written the way each helpdesk writes them,
and a check that a Dataset is what the rest of supportxl expects.

(No tests here; the other test_ingest*.py modules import these.)
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd

from supportxl.dataset import (EVENT_COLUMNS, STAKEHOLDERS, STATED_BUSINESS_HOURS, STATED_WAITS, STATUSES,
                               TICKET_COLUMNS, WORK_HOURS, Dataset)

PRIORITIES = ("Critical", "High", "Medium", "Low")
TIERS = ("Tier 1", "Tier 2", "Tier 3")


def write_rows(path: Path, header: list[str], rows: list[list[object]], *, encoding: str = "utf-8",
               delimiter: str = ",") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


# ------------------------------------------------------------------------- source fixtures

ZENDESK_HEADER = [
    "Id", "Requester", "Requester id", "Requester external id", "Requester email", "Requester domain",
    "Submitter", "Assignee", "Group", "Subject", "Tags", "Status", "Priority", "Via", "Ticket type",
    "Created at", "Updated at", "Assigned at", "Organization", "Due date", "Initially assigned at",
    "Solved at", "Resolution time", "Satisfaction Score", "Group stations", "Assignee stations",
    "Reopens", "Replies", "First reply time in minutes", "First reply time in minutes within business hours",
    "First resolution time in minutes", "First resolution time in minutes within business hours",
    "Full resolution time in minutes", "Full resolution time in minutes within business hours",
    "Agent wait time in minutes", "Agent wait time in minutes within business hours",
    "Requester wait time in minutes", "Requester wait time in minutes within business hours",
    "On hold time in minutes", "On hold time in minutes within business hours", "Product [list]",
]


def zendesk_row(**values: object) -> list[object]:
    row = {h: "" for h in ZENDESK_HEADER}
    row.update(values)
    return [row[h] for h in ZENDESK_HEADER]


def zendesk_fixture(folder: Path) -> Path:
    """Classic Zendesk CSV: UTF-8 with a byte-order mark, a quoted multi-line subject, a
    subject that looks like a formula, "?" for missing values, good/bad CSAT."""
    rows = [
        zendesk_row(**{"Id": 101, "Requester": "Zoë Adams", "Requester email": "zoe@acme.example",
                       "Assignee": "Ben Ortiz", "Group": "Support", "Subject": "Cannot log in\nsince Monday",
                       "Status": "Solved", "Priority": "Urgent", "Via": "Web form", "Ticket type": "Incident",
                       "Created at": "2025-03-03 09:15:00", "Solved at": "2025-03-03 11:45:30",
                       "Organization": "Acme", "Satisfaction Score": "Good", "Group stations": 1,
                       "Reopens": 0, "Replies": 2, "First reply time in minutes": 20,
                       "First reply time in minutes within business hours": 20,
                       "Full resolution time in minutes": 150,
                       "Full resolution time in minutes within business hours": 150,
                       "Product [list]": "web"}),
        zendesk_row(**{"Id": 102, "Requester": "Carl Dunn", "Requester email": "carl@beta.example",
                       "Assignee": "Ana Lima", "Group": "Tier 2", "Subject": "=HYPERLINK(\"x\")",
                       "Status": "Open", "Priority": "Normal", "Via": "Mail", "Ticket type": "Question",
                       "Created at": "2025-03-04 14:00:00", "Solved at": "?", "Organization": "Beta",
                       "Satisfaction Score": "Offered", "Group stations": 2, "Reopens": "?", "Replies": 1,
                       "First reply time in minutes": 45,
                       "First reply time in minutes within business hours": 30}),
        zendesk_row(**{"Id": 103, "Requester": "Zoë Adams", "Requester email": "zoe@acme.example",
                       "Assignee": "Ben Ortiz", "Group": "Support", "Subject": "Invoice copy",
                       "Status": "Closed", "Priority": "Low", "Via": "Chat", "Ticket type": "Task",
                       "Created at": "2025-03-05 08:00:00", "Solved at": "2025-03-06 08:00:00",
                       "Organization": "Acme", "Satisfaction Score": "Bad", "Group stations": 1,
                       "Reopens": 1, "Replies": 4, "First reply time in minutes": 5,
                       "Full resolution time in minutes": 1440}),
    ]
    return write_rows(folder / "zendesk.csv", ZENDESK_HEADER, rows, encoding="utf-8-sig")


EXPLORE_HEADER = ["Ticket ID", "Ticket status", "Ticket group", "Assignee name", "Ticket created - Date",
                  "Ticket solved - Date", "Ticket channel", "Ticket priority", "Ticket subject", "Ticket type",
                  "Requester name", "Ticket organization name", "Tickets"]


def explore_xlsx_fixture(folder: Path) -> Path:
    """Zendesk Explore table in XLSX: created dates as Excel serial numbers (plain number
    cells), solved dates as real date cells, a second sheet to choose."""
    import datetime as dt

    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["Exported from Zendesk Explore"])
    sheet = book.create_sheet("Tickets")
    sheet.append(EXPLORE_HEADER)
    # 45717.5 = 2025-03-01 12:00; 45718.25 = 2025-03-02 06:00
    sheet.append([5001, "Solved", "Billing", "Ana Lima", 45717.5, dt.datetime(2025, 3, 1, 18, 30),
                  "Email", "High", "Refund please", "Question", "Dee Fox", "Gamma", 1])
    sheet.append([5002, "Pending", "Billing", "Ana Lima", 45718.25, None,
                  "Web form", "Normal", "Where is my card", "Incident", "Eli Gray", "Gamma", 1])
    sheet.append([None, None, None, None, None, None, None, None, None, None, None, None, None])
    sheet.append([5003, "Closed", "Tech", None, "2025-03-03", "2025-03-04",
                  "Chat", "Low", "Thanks", None, "Fay Hill", None, 1])
    path = folder / "explore.xlsx"
    book.save(path)
    return path


FRESHDESK_HEADER = [
    "Ticket ID", "Subject", "Description", "Status", "Priority", "Source", "Type", "Company", "Full name",
    "Email", "Agent", "Group", "Created time", "Due by Time", "Resolved time", "Closed time",
    "Last update time", "Initial response time", "Time tracked", "First response time (in hrs)",
    "Resolution time (in hrs)", "Agent interactions", "Customer interactions", "Resolution status",
    "First response status", "Tags", "Survey results", "Product", "cf_region",
]


def freshdesk_fixture(folder: Path) -> Path:
    """Freshdesk export in cp1252 with a semicolon delimiter (a European Excel save):
    é and € in text, "hh:mm" and "hh:mm:ss" business durations, survey text."""
    def row(**values: object) -> list[object]:
        base = {h: "" for h in FRESHDESK_HEADER}
        base.update(values)
        return [base[h] for h in FRESHDESK_HEADER]

    rows = [
        row(**{"Ticket ID": 7, "Subject": "Remboursement de 50 € refusé", "Description": "Bonjour; merci",
               "Status": "Resolved", "Priority": "Urgent", "Source": "Portal", "Type": "Refund",
               "Company": "Société Générale", "Full name": "Amélie Roux", "Email": "amelie@sg.example",
               "Agent": "Léa Martin", "Group": "Billing", "Created time": "2025-05-02 08:00:00",
               "Resolved time": "2025-05-02 17:30:00", "Closed time": "",
               "Initial response time": "2025-05-02 08:45:00", "First response time (in hrs)": "0:45",
               "Resolution time (in hrs)": "9:30:00", "Agent interactions": 3,
               "Survey results": "Extremely satisfied"}),
        row(**{"Ticket ID": 8, "Subject": "Carte bloquée", "Status": "Waiting on Customer", "Priority": "Medium",
               "Source": "Email", "Type": "Card Block", "Company": "Société Générale", "Full name": "Hervé Petit",
               "Email": "herve@sg.example", "Agent": "No Agent", "Group": "Cards",
               "Created time": "2025-05-03 10:00:00", "Initial response time": "",
               "First response time (in hrs)": "-", "Agent interactions": 0}),
        row(**{"Ticket ID": 9, "Subject": "Login", "Status": "Closed", "Priority": "Low", "Source": "Phone",
               "Type": "Login", "Company": "Zeta", "Full name": "Ida Kern", "Email": "ida@zeta.example",
               "Agent": "Léa Martin", "Group": "Billing", "Created time": "04-05-2025 09:00:00",
               "Resolved time": "", "Closed time": "04-05-2025 10:00:00",
               "First response time (in hrs)": "0:10:30", "Resolution time (in hrs)": "1:00",
               "Agent interactions": 1, "Survey results": "Not Good"}),
    ]
    return write_rows(folder / "freshdesk.csv", FRESHDESK_HEADER, rows, encoding="cp1252", delimiter=";")


JIRA_HEADER = [
    "Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key", "Priority", "Resolution",
    "Assignee", "Reporter", "Created", "Updated", "Resolved", "Due date", "Watchers", "Watchers",
    "Custom field (Request Type)", "Satisfaction rating", "Custom field (Satisfaction date)",
    "Custom field (Time to first response)", "Custom field (Time to resolution)", "Status Category",
    "Comment", "Comment", "Comment",
]


def jira_fixture(folder: Path) -> Path:
    """Jira Service Management CSV: repeated headers, "25/Feb/26 10:17 PM" dates, signed SLA
    durations, Jira priorities."""
    rows = [
        ["VPN down", "SUP-1", "10001", "Incident", "Resolved", "SUP", "Highest", "Done", "Kim Lee",
         "Omar Said", "25/Feb/26 10:17 PM", "26/Feb/26 9:00 AM", "26/Feb/26 01:47 AM", "", "kim", "omar",
         "Report an incident", "5", "", "-1:30", "2:15", "Done", "first comment", "second", ""],
        ["Need access", "SUP-2", "10002", "Service Request", "Waiting for customer", "SUP", "Medium", "",
         "", "Pia Novak", "26/Feb/26 08:05 AM", "26/Feb/26 9:00 AM", "", "", "", "", "Get access", "", "",
         "0:45", "", "In Progress", "", "", ""],
        ["Printer", "SUP-3", "10003", "Service Request", "Closed", "SUP", "Lowest", "Done", "Kim Lee",
         "Omar Said", "27/Feb/26 12:00 PM", "", "not a date", "", "", "", "Get help", "3", "", "?",
         "-0:05", "Done", "", "", ""],
    ]
    return write_rows(folder / "jira.csv", JIRA_HEADER, rows)


SERVICENOW_HEADER = [
    "number", "opened_at", "short_description", "caller_id", "priority", "state", "category", "subcategory",
    "assignment_group", "assigned_to", "sys_updated_on", "resolved_at", "closed_at", "made_sla",
    "reassignment_count", "reopen_count", "impact", "urgency", "contact_type", "calendar_stc",
    "business_stc", "close_code", "resolved_by",
]


def servicenow_fixture(folder: Path) -> Path:
    """ServiceNow incident list (field names): "3 - Moderate" priorities, "?" for missing,
    reassignment counts as the escalation signal, resolve time in seconds."""
    rows = [
        ["INC0010001", "2025-06-02 09:00:00", "Email not syncing", "Rae Cole", "3 - Moderate", "Resolved",
         "Software", "Email", "Service Desk", "Tom Wu", "2025-06-02 12:00:00", "2025-06-02 12:00:00", "?",
         "true", "0", "0", "3 - Low", "2 - Medium", "email", "10800", "10800", "Solved", "Tom Wu"],
        ["INC0010002", "2025-06-03 10:00:00", "Server outage", "Sam Poe", "1 - Critical", "Closed",
         "Hardware", "Server", "Network", "Uma Roy", "2025-06-04 10:00:00", "?", "2025-06-03 14:00:00",
         "false", "2", "0", "1 - High", "1 - High", "phone", "?", "?", "Solved", "Uma Roy"],
        ["INC0010003", "2025-06-04 11:00:00", "New laptop", "Rae Cole", "5 - Planning", "On Hold",
         "Hardware", "Laptop", "Service Desk", "?", "2025-06-04 12:00:00", "?", "?", "true", "0", "0",
         "3 - Low", "3 - Low", "self-service", "?", "?", "?", "?"],
    ]
    return write_rows(folder / "servicenow.csv", SERVICENOW_HEADER, rows)


AUDIT_HEADER = ["number", "incident_state", "active", "reassignment_count", "reopen_count", "sys_mod_count",
                "made_sla", "caller_id", "opened_at", "sys_updated_at", "contact_type", "category",
                "priority", "assignment_group", "assigned_to", "resolved_at", "closed_at"]


def servicenow_audit_fixture(folder: Path) -> Path:
    """A ServiceNow audit-style export (one row per update, like the public incident event
    log): day-first dates without seconds, several rows per incident, out of order."""
    def row(number, state, reassigned, updated, group, *, opened, resolved="?", closed="?", priority="3 - Moderate"):
        return [number, state, "true", reassigned, 0, 0, "true", "Caller 1", opened, updated, "Phone",
                "Category 55", priority, group, "Resolver 1", resolved, closed]

    rows = [
        row("INC0000045", "New", 0, "29-02-2016 01:16", "Group 56", opened="29-02-2016 01:16"),
        row("INC0000045", "Resolved", 1, "01-03-2016 09:52", "Group 70", opened="29-02-2016 01:16",
            resolved="01-03-2016 09:52"),
        row("INC0000045", "Active", 0, "29-02-2016 08:53", "Group 56", opened="29-02-2016 01:16"),
        row("INC0000045", "Active", 1, "29-02-2016 11:29", "Group 70", opened="29-02-2016 01:16"),
        row("INC0000045", "Closed", 1, "06-03-2016 10:00", "Group 70", opened="29-02-2016 01:16",
            resolved="01-03-2016 09:52", closed="06-03-2016 10:00"),
        row("INC0000047", "New", 0, "29-02-2016 04:40", "Group 24", opened="29-02-2016 04:40",
            priority="2 - High"),
        row("INC0000047", "Active", 0, "29-02-2016 05:30", "Group 24", opened="29-02-2016 04:40",
            priority="2 - High"),
        row("INC0000047", "Awaiting User Info", 0, "01-03-2016 06:00", "Group 24", opened="29-02-2016 04:40",
            priority="2 - High"),
        row("INC0000050", "New", 0, "02-03-2016 10:00", "Group 24", opened="02-03-2016 10:00",
            priority="1 - Critical"),
    ]
    return write_rows(folder / "incident_event_log.csv", AUDIT_HEADER, rows)


def hubspot_json_fixture(folder: Path) -> Path:
    """HubSpot tickets as the API returns them: {"results": [{"id", "properties": {...}}]},
    dates as ISO 8601 in UTC or epoch milliseconds, durations in milliseconds."""
    results = [
        {"id": "9001", "properties": {
            "hs_object_id": "9001", "subject": "Billing question", "content": "Long text",
            "hs_pipeline_stage": "4", "hs_ticket_priority": "HIGH", "hs_ticket_category": "BILLING_ISSUE",
            "hubspot_owner_id": "555", "source_type": "EMAIL", "createdate": "2025-07-01T08:00:00.000Z",
            "closed_date": "2025-07-01T10:30:00.000Z", "first_agent_reply_date": None,
            "time_to_first_agent_reply": "900000", "time_to_close": "9000000",
            "hs_time_to_first_response_in_operating_hours": 900000,
            "hs_time_to_close_in_operating_hours": 5400000}},
        {"id": "9002", "properties": {
            "hs_object_id": "9002", "subject": "Chat follow-up", "hs_pipeline_stage": "2",
            "hs_ticket_priority": "URGENT", "hubspot_owner_id": "556", "source_type": "CHAT",
            "createdate": "1751367600000", "closed_date": None,
            "first_agent_reply_date": "2025-07-01T11:05:00Z", "time_to_first_agent_reply": None}},
    ]
    path = folder / "hubspot.json"
    path.write_text(json.dumps({"results": results, "paging": {}}), encoding="utf-8")
    return path


# --------------------------------------------------------------------- round-trip writers

ZD_STATUS = {"Open": "Open", "Pending": "Pending", "Resolved": "Solved", "Closed": "Closed"}
ZD_PRIORITY = {"Critical": "Urgent", "High": "High", "Medium": "Normal", "Low": "Low"}
ZD_VIA = {"Email": "Mail", "Web": "Web form", "Chat": "Chat", "Phone": "Phone call (incoming)", "Social": "Twitter"}
SN_PRIORITY = {"Critical": "1 - Critical", "High": "2 - High", "Medium": "3 - Moderate", "Low": "4 - Low"}
SN_CHANNEL = {"Email": "email", "Web": "self-service", "Chat": "chat", "Phone": "phone", "Social": "social"}


def canonical_fixture(folder: Path) -> Path:
    """A ticket table in the canonical column names (as a dataset folder's tickets.csv holds
    it), with a lower-case status and a time with an offset."""
    header = list(TICKET_COLUMNS)
    rows = [
        [1, "2025-05-05T08:00:00", "2025-05-05T08:30:00", "2025-05-05T12:00:00", "Resolved", "High", "Email",
         "Billing", "Tier 1", "Ana Silva", "ACC-1", "Kim Lee", "kim@example.com", "Refund", 5, "False",
         "Tier 1", 0, 1],
        [2, "2025-05-06T09:00:00+02:00", "", "", "open", "Low", "Chat", "Login", "Tier 2", "Bo Chen", "ACC-2",
         "", "", "Locked out", "", "True", "Tier 2", 1, 3],
    ]
    return write_rows(folder / "tickets.csv", header, rows)


def _stamp(values: pd.Series, fmt: str) -> np.ndarray:
    return values.dt.strftime(fmt).fillna("").to_numpy(dtype=object)


def write_zendesk_csv(dataset: Dataset, path: Path) -> Path:
    """The generated tickets as a classic Zendesk CSV export (vectorised)."""
    t = dataset.tickets
    names = dataset.accounts.set_index("account_id")["name"]
    frt = ((t["first_response_at"] - t["created_at"]).dt.total_seconds() / 60).round()
    ttr = ((t["resolved_at"] - t["created_at"]).dt.total_seconds() / 60).round()
    csat = t["csat"].astype("Float64")
    satisfaction = np.where(csat.isna(), "Unoffered", np.where(csat.fillna(0) >= 4, "Good", "Bad"))
    stations = 1 + t["escalation_tier"].map({"Tier 1": 0, "Tier 2": 1, "Tier 3": 2}).to_numpy()
    frame = pd.DataFrame({
        "Id": t["ticket_id"], "Requester": t["requester_name"], "Requester email": t["requester_email"],
        "Assignee": t["agent"], "Group": t["team"], "Subject": t["subject"],
        "Status": t["status"].map(ZD_STATUS), "Priority": t["priority"].map(ZD_PRIORITY),
        "Via": t["channel"].map(ZD_VIA), "Ticket type": t["issue_type"],
        "Created at": _stamp(t["created_at"], "%Y-%m-%d %H:%M:%S"),
        "Solved at": _stamp(t["resolved_at"], "%Y-%m-%d %H:%M:%S"),
        "Organization": t["account_id"].map(names), "Satisfaction Score": satisfaction,
        "Group stations": stations, "Reopens": t["reopen_count"], "Replies": t["agent_replies"],
        "First reply time in minutes": frt.astype("Int64"),
        "Full resolution time in minutes": ttr.astype("Int64"),
        "Custom field [txt]": "x",
    })
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def write_servicenow_audit_csv(dataset: Dataset, path: Path) -> Path:
    """The generated tickets as a ServiceNow audit-style export: one row per update (opened,
    first response, reassignment to a higher tier, waiting, resolved, closed), dates as
    "%d-%m-%Y %H:%M", rows of one incident together but not in time order."""
    t = dataset.tickets.reset_index(drop=True)
    as_of = np.datetime64(dataset.as_of)
    number = "INC" + t["ticket_id"].astype(str).str.zfill(7)
    responded = t["first_response_at"].notna()
    resolved = t["resolved_at"].notna()
    end = t["resolved_at"].fillna(pd.Timestamp(as_of))
    start = t["first_response_at"].fillna(t["created_at"])
    reassigned_at = start + (end - start) / 3
    waiting_at = start + (end - start) * 2 / 3
    escalated = t["escalated"].to_numpy()
    common = pd.DataFrame({
        "number": number, "opened_at": _stamp(t["created_at"], "%d-%m-%Y %H:%M"),
        "priority": t["priority"].map(SN_PRIORITY), "contact_type": t["channel"].map(SN_CHANNEL),
        "category": t["issue_type"], "assigned_to": t["agent"], "caller_id": t["requester_name"],
        "reopen_count": t["reopen_count"],
        "reassignment_count": np.where(escalated, 1, 0),
    })
    parts = []

    def part(mask, state, when, group, order, reassigned=None):
        frame = common[mask].copy()
        frame["incident_state"] = state
        frame["sys_updated_at"] = _stamp(when[mask], "%d-%m-%Y %H:%M")
        frame["assignment_group"] = group[mask] if isinstance(group, pd.Series) else group
        if reassigned is not None:
            frame["reassignment_count"] = reassigned
        frame["_order"] = order
        frame["_index"] = np.flatnonzero(mask)
        parts.append(frame)

    everyone = np.ones(len(t), dtype=bool)
    tier_group = t["escalation_tier"].map({"Tier 1": "Service Desk", "Tier 2": "Tier 2 Support",
                                           "Tier 3": "Tier 3 Engineering"})
    part(everyone, "New", t["created_at"], "Service Desk", 0, reassigned=0)
    part(responded.to_numpy(), "Active", t["first_response_at"], "Service Desk", 1, reassigned=0)
    part(escalated, np.where(responded[escalated], "Active", "New"), reassigned_at, tier_group, 2)
    pending = (t["status"] == "Pending").to_numpy()
    part(pending, "Awaiting User Info", waiting_at, tier_group, 3)
    part(resolved.to_numpy(), "Resolved", t["resolved_at"], tier_group, 4)
    closed = (t["status"] == "Closed").to_numpy()
    part(closed, "Closed", t["resolved_at"] + pd.Timedelta(days=4), tier_group, 5)
    rows = pd.concat(parts, ignore_index=True)
    # Newest update first within an incident, as list views often sort.
    rows = rows.sort_values(["_index", "_order"], ascending=[True, False], kind="stable")
    rows = rows.drop(columns=["_order", "_index"])
    rows["resolved_at"] = "?"
    rows.to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- checking

def assert_valid_dataset(dataset: Dataset) -> None:
    """The Dataset has the canonical shape, and the metrics can be computed from it."""
    t = dataset.tickets
    assert tuple(t.columns[:len(TICKET_COLUMNS)]) == TICKET_COLUMNS
    assert set(t.columns[len(TICKET_COLUMNS):]) <= {*STATED_BUSINESS_HOURS.values(), *STATED_WAITS.values(),
                                                   WORK_HOURS, "issue_type_rule", "description"}
    assert len(t) > 0
    for column in ("created_at", "first_response_at", "resolved_at"):
        assert t[column].dtype == "datetime64[ns]", column
    assert t["created_at"].notna().all()
    assert not (t["resolved_at"] < t["created_at"]).any()
    assert not (t["first_response_at"] < t["created_at"]).any()
    assert t["ticket_id"].is_unique
    assert t["ticket_id"].dtype == np.int64 or t["ticket_id"].dtype == "str"
    for column in ("status", "priority", "channel", "issue_type", "team", "agent", "account_id",
                   "requester_name", "requester_email", "subject", "escalation_tier"):
        assert t[column].dtype == "str", column
        assert t[column].notna().all(), column
    assert set(t["status"]) <= set(STATUSES)
    assert set(t["priority"]) <= {*PRIORITIES, "Unknown"}
    assert set(t["escalation_tier"]) <= set(TIERS)
    assert t["csat"].dtype == "Int64"
    assert t["csat"].dropna().between(1, 5).all()
    assert t["escalated"].dtype == bool
    assert ((t["escalation_tier"] != "Tier 1") == t["escalated"]).all()
    for column in ("reopen_count", "agent_replies"):
        assert t[column].dtype == np.int64 and (t[column] >= 0).all()
    for column in ("frt_business_hours_source", "ttr_business_hours_source"):
        if column in t:
            assert t[column].dtype == float
    accounts, agents, events = dataset.accounts, dataset.agents, dataset.escalation_events
    assert set(t["account_id"]) == set(accounts["account_id"])
    assert accounts["account_id"].is_unique
    assert set(agents["name"]) == set(t["agent"]) - {"Unassigned"}
    assert agents["agent_id"].is_unique
    assert tuple(events.columns) == EVENT_COLUMNS
    assert events["timestamp"].dtype == "datetime64[ns]"
    assert set(events["ticket_id"]) <= set(t["ticket_id"])
    assert set(events["stakeholder"]) <= set(STAKEHOLDERS)
    json.dumps(dataset.manifest)
    period = dataset.manifest["period"]
    assert period["start"] == t["created_at"].min().strftime("%Y-%m-%d")
    assert period["end"] == t["created_at"].max().strftime("%Y-%m-%d")
    latest = max(c.max() for c in (t["created_at"], t["first_response_at"], t["resolved_at"],
                                     events["timestamp"]) if c.notna().any())
    assert dataset.as_of >= latest
    assert not ((t["status"].isin(["Open", "Pending"])) != t["resolved_at"].isna()).any()


def derive_ok(dataset: Dataset) -> pd.DataFrame:
    """The derived ticket table (the metrics' input) of an imported dataset."""
    from supportxl.metrics.derive import derive
    from supportxl.template import ReportTemplate

    frame, _, _ = derive(dataset, ReportTemplate())
    assert len(frame) == len(dataset.tickets)
    return frame
