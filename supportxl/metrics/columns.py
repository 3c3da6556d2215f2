"""The Tickets table of the workbook: one schema shared by the KPI formulas and the sheet writer.

Each column has a key (the pandas column of the derived ticket frame), the header Excel
shows (and structured references use), a number-format name from the theme, a width, and
whether it is a live formula that looks up the SLA policy on the Settings sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

TICKETS_TABLE = "Tickets"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    fmt: str = "text"  # a number-format name of the theme: text, int, datetime, date, month, hours, ...
    width: float | None = None  # None: fitted to the content
    formula: bool = False

    @property
    def ref(self) -> str:
        """Structured reference to the whole column, e.g. ``Tickets[Resolution (h)]``."""
        return f"{TICKETS_TABLE}[{self.header}]"


TICKET_SHEET_COLUMNS: tuple[Column, ...] = (
    Column("ticket_id", "Ticket ID", "id", 11),
    Column("created_at", "Created", "datetime", 17),
    Column("first_response_at", "First response", "datetime", 17),
    Column("resolved_at", "Resolved", "datetime", 17),
    Column("status", "Status"),
    Column("priority", "Priority"),
    Column("channel", "Channel"),
    Column("issue_type", "Issue type"),
    Column("team", "Team"),
    Column("agent", "Agent"),
    Column("account_id", "Account ID"),
    Column("account", "Account"),
    Column("industry", "Industry"),
    Column("country", "Country"),
    Column("region", "Region"),
    Column("segment", "Segment"),
    Column("requester_name", "Requester"),
    Column("requester_email", "Requester email"),
    Column("subject", "Subject", width=48),
    Column("csat", "CSAT", "int", 7),
    Column("escalated", "Escalated", width=10),
    Column("escalation_tier", "Escalation tier"),
    Column("reopen_count", "Reopens", "int", 9),
    Column("agent_replies", "Agent replies", "int", 9),
    Column("month", "Month", "month", 10),
    Column("weekday", "Weekday", width=10),
    Column("hour", "Hour", "int", 7),
    Column("frt_hours", "First response (h)", "hours", 11),
    Column("ttr_hours", "Resolution (h)", "hours", 11),
    Column("frt_business_hours", "First response (bh)", "hours", 11),
    Column("ttr_business_hours", "Resolution (bh)", "hours", 11),
    Column("response_clock", "Response clock (h)", "hours", 11),
    Column("resolution_clock", "Resolution clock (h)", "hours", 11),
    Column("age_days", "Age (days)", "int", 9),
    Column("fcr", "FCR", "int", 6),
    Column("hours_to_escalate", "Hours to escalate", "hours", 11),
    Column("hours_to_tier3", "Hours to Tier 3", "hours", 11),
    Column("handoffs", "Hand-offs", "int", 9),
    Column("response_target", "Response target (h)", "hours", 11, formula=True),
    Column("resolution_target", "Resolution target (h)", "hours", 11, formula=True),
    Column("response_breached", "Response breached", "int", 10, formula=True),
    Column("resolution_breached", "Resolution breached", "int", 10, formula=True),
    Column("hours_over_target", "Hours over target", "hours", 10, formula=True),
    Column("breach_cost", "Breach cost", "currency", 11, formula=True),
)
BUSINESS_HOUR_KEYS = ("frt_business_hours", "ttr_business_hours")

COLUMNS = {column.key: column for column in TICKET_SHEET_COLUMNS}


def column(key: str) -> Column:
    return COLUMNS[key]


def ticket_columns(business_hours: bool) -> tuple[Column, ...]:
    """The Tickets sheet's columns; the business-hour durations only when a calendar is set."""
    return tuple(c for c in TICKET_SHEET_COLUMNS if business_hours or c.key not in BUSINESS_HOUR_KEYS)
