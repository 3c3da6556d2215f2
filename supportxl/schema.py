"""The domain vocabulary: statuses and the open rule, priorities, tiers, weekdays, SLA defaults,
sheet names, and the column schemas of the workbook's tables.

A leaf module: it imports nothing from the package, and every other module takes its words
from here, so a header written in one place is read through the same schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- tickets ---------------------------------------------------------------------------

STATUSES = ("Open", "Pending", "Resolved", "Closed")
OPEN_STATUSES = ("Open", "Pending")
CLOSED_STATUSES = ("Resolved", "Closed")
PRIORITIES = ("Critical", "High", "Medium", "Low")
TIERS = ("Tier 1", "Tier 2", "Tier 3")
STAKEHOLDERS = ("Customer", "Tier 1", "Tier 2", "Tier 3", "Project Manager", "C-Level Executive")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAY_LABELS = tuple(day[:3] for day in WEEKDAYS)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UNKNOWN = "Unknown"  # a category the source leaves blank or does not have

# A ticket's status history (the status_changes table) speaks the helpdesks' finer words:
# Pending is waiting on the customer, On-hold waiting on a third party or engineering.
HISTORY_STATUSES = ("New", "Open", "Pending", "On-hold", "Solved", "Reopened")
# Time in Pending is what the agent waits for (Zendesk's "agent wait time"); time in every other
# status before Solved is what the requester waits for ("requester wait time").
AGENT_WAIT_STATUS = "Pending"
ON_HOLD_STATUS = "On-hold"
STATUS_CHANGE_COLUMNS = ("ticket_id", "timestamp", "from_status", "to_status")

OPEN_RULE = ("A ticket is open at a moment when it was created at or before it and has no "
             "resolved time at or before it. The backlog, its aging, the SLA clocks of open "
             "tickets and every open count use this one rule, at the data's as-of time.")

# --- SLA policy ------------------------------------------------------------------------

DEFAULT_FIRST_RESPONSE_HOURS = {"Critical": 1.0, "High": 4.0, "Medium": 8.0, "Low": 24.0}
DEFAULT_RESOLUTION_HOURS = {"Critical": 4.0, "High": 12.0, "Medium": 24.0, "Low": 48.0}
# The breach cost estimate: a cost per breached ticket, plus a cost per hour over the target
# for at most BREACH_HOURS_CAP hours a ticket (so a stalled ticket does not count forever).
DEFAULT_COST_PER_BREACH = {"Critical": 400.0, "High": 150.0, "Medium": 60.0, "Low": 25.0}
DEFAULT_COST_PER_BREACH_HOUR = {"Critical": 40.0, "High": 15.0, "Medium": 5.0, "Low": 2.0}
DEFAULT_BREACH_HOURS_CAP = 24.0


@dataclass(frozen=True)
class SlaPolicy:
    """Targets in hours per priority, and what breaching the resolution target costs.

    A ticket whose priority has no target is "no target": it is left out of SLA percentages.
    """

    first_response_hours: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FIRST_RESPONSE_HOURS))
    resolution_hours: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RESOLUTION_HOURS))
    cost_per_breach: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_COST_PER_BREACH))
    cost_per_breach_hour: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_COST_PER_BREACH_HOUR))
    breach_hours_cap: float = DEFAULT_BREACH_HOURS_CAP  # hours over target charged per ticket, at most


# --- fields a source may lack ----------------------------------------------------------

# Canonical ticket fields an export may not have at all (listed in the manifest's
# "missing_fields"), and what their absence means for the report.
OPTIONAL_FIELDS = {
    "first_response_at": "the source has no first-response times",
    "resolved_at": "the source has no resolution times",
    "csat": "the source has no satisfaction ratings",
    "reopen_count": "the source does not say whether tickets were reopened",
    "agent_replies": "the source does not count agent replies",
    "escalated": "the source has no escalation signal",
    "priority": "the source has no priorities",
    "channel": "the source has no channels",
    "issue_type": "the source has no issue types",
    "team": "the source has no teams",
    "agent": "the source has no assignees",
    "account_id": "the source has no accounts",
    "subject": "the source has no subjects",
}
# What the time-in-status KPIs need: a status history, or the waits an export states per ticket
# (Zendesk's metrics). Found from the dataset itself when the report is planned.
STATUS_FIELDS = {
    "status_history": "the source has no status history (when each ticket changed status)",
    "agent_wait": "the source has neither a status history nor an agent wait time per ticket",
    "requester_wait": "the source has neither a status history nor a requester wait time per ticket",
    "on_hold": "the source has neither a status history nor an on-hold time per ticket",
}

# --- sheets ----------------------------------------------------------------------------

SHEET_NAMES = (
    "Dashboard", "Trend", "Channels", "SLA", "Segments", "Top Accounts", "Agent Performance",
    "Heatmap", "Backlog", "Handling", "SLA at Risk", "Weekly", "Escalations", "Plan", "Pivots", "Insights",
    "Settings", "About", "Tickets", "Accounts", "Agents", "Escalation Log",
)
COMPACT_DATA_SHEET = "Aggregates"  # a compact workbook's formulas read its Cube table
QUALITY_SHEET = "Data Quality"  # an imported export's data-quality report
SHEET_CHOICES = SHEET_NAMES + (COMPACT_DATA_SHEET, QUALITY_SHEET)

# --- table schemas ---------------------------------------------------------------------

TICKETS_TABLE = "Tickets"
EVENTS_TABLE = "EscalationLog"
SLA_TABLE = "SLA"


@dataclass(frozen=True)
class Column:
    """A column of a workbook table: the key of its pandas column, the header Excel shows
    (and structured references use), a number-format name of the theme, a width, and
    whether it is a live per-row formula."""

    key: str
    header: str
    fmt: str = "text"  # text, int, id, datetime, date, month, hours, percent, currency, ...
    width: float | None = None  # None: fitted to the content
    formula: bool = False
    table: str = TICKETS_TABLE

    @property
    def ref(self) -> str:
        """Structured reference to the whole column, e.g. ``Tickets[Resolution (h)]``."""
        return f"{self.table}[{self.header}]"


TICKET_SHEET_COLUMNS: tuple[Column, ...] = (
    Column("ticket_id", "Ticket ID", "id", 11),
    Column("created_at", "Created", "datetime", 17),
    Column("first_response_at", "First response", "datetime", 17),
    Column("resolved_at", "Resolved", "datetime", 17),
    Column("status", "Status"),
    Column("priority", "Priority"),
    Column("channel", "Channel"),
    Column("issue_type", "Issue type"),
    Column("issue_type_rule", "Issue type rule"),  # only for an import that classified untyped tickets
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
    Column("hours_new", "Time New (h)", "hours", 11),
    Column("hours_open", "Time Open (h)", "hours", 11),
    Column("hours_pending", "Time Pending (h)", "hours", 11),
    Column("hours_on_hold", "Time On-hold (h)", "hours", 11),
    Column("requester_wait_hours", "Requester wait (h)", "hours", 11),
    Column("ttr_net_hours", "Resolution less customer wait (h)", "hours", 13),
    Column("response_target", "Response target (h)", "hours", 11, formula=True),
    Column("resolution_target", "Resolution target (h)", "hours", 11, formula=True),
    Column("response_breached", "Response breached", "int", 10, formula=True),
    Column("resolution_breached", "Resolution breached", "int", 10, formula=True),
    Column("hours_over_target", "Hours over target", "hours", 10, formula=True),
    Column("breach_cost", "Breach cost (est.)", "currency", 11, formula=True),
    # Share of the resolution target an open ticket has used at the as-of time (blank when resolved).
    Column("sla_used", "SLA used", "percent", 9, formula=True),
    # How far the Dashboard's filters let the ticket through (only with a Dashboard): 2 into the
    # selection, 1 through the channel, priority and team filters but not the period, 0 not.
    Column("dashboard_selection", "Dashboard selection", "int", 11, formula=True),
)
BUSINESS_HOUR_KEYS = ("frt_business_hours", "ttr_business_hours")
TICKET_COLUMN_BY_KEY = {c.key: c for c in TICKET_SHEET_COLUMNS}

EVENT_SHEET_COLUMNS: tuple[Column, ...] = tuple(Column(*spec, table=EVENTS_TABLE) for spec in (
    ("ticket_id", "Ticket ID", "id", 11), ("step", "Step", "int", 6),
    ("timestamp", "Timestamp", "datetime", 17), ("stakeholder", "Stakeholder"),
    ("counterpart", "Counterpart"), ("activity", "Activity"),
    ("hours_in_step", "Hours in step", "hours", 11), ("month", "Month", "month", 10),
    ("channel", "Channel"), ("priority", "Priority"), ("team", "Team"),
))
EVENT_COLUMN_BY_KEY = {c.key: c for c in EVENT_SHEET_COLUMNS}

# The Settings sheet's SLA table: one row per priority.
SLA_COLUMNS: tuple[Column, ...] = tuple(Column(*spec, table=SLA_TABLE) for spec in (
    ("priority", "Priority"), ("first_response_hours", "First response target (h)", "hours"),
    ("resolution_hours", "Resolution target (h)", "hours"),
    ("cost_per_breach", "Cost per breached ticket", "currency"),
    ("cost_per_breach_hour", "Cost per hour over target", "currency"),
))
SLA_COLUMN_BY_KEY = {c.key: c for c in SLA_COLUMNS}


def column(key: str) -> Column:
    """A column of the Tickets table by key."""
    return TICKET_COLUMN_BY_KEY[key]


def event_column(key: str) -> Column:
    return EVENT_COLUMN_BY_KEY[key]


def ticket_columns(business_hours: bool, classified: bool = False, dashboard: bool = False) -> tuple[Column, ...]:
    """The Tickets sheet's columns; the business-hour durations only when a calendar is set,
    the issue-type rule only when the import classified untyped tickets, the Dashboard
    selection only in a workbook with a Dashboard."""
    return tuple(c for c in TICKET_SHEET_COLUMNS if (business_hours or c.key not in BUSINESS_HOUR_KEYS)
                 and (classified or c.key != "issue_type_rule")
                 and (dashboard or c.key != "dashboard_selection"))
