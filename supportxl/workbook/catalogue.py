"""The names a report template may use for sheets and Dashboard charts, in default order.

Kept free of imports so the template parser can validate against them.
"""

SHEET_NAMES = (
    "Dashboard", "Trend", "Channels", "SLA", "Segments", "Top Accounts", "Agent Performance",
    "Heatmap", "Backlog", "Escalations", "Insights", "Settings", "About", "Tickets", "Accounts",
    "Agents", "Escalation Log",
)
# A compact workbook's formulas read the Aggregates sheet's Cube table instead of Tickets.
COMPACT_DATA_SHEET = "Aggregates"
# An imported export's data-quality report; added by itself, before About, when there is one.
QUALITY_SHEET = "Data Quality"
SHEET_CHOICES = SHEET_NAMES + (COMPACT_DATA_SHEET, QUALITY_SHEET)
# Every formula reads the Tickets table, and its SLA flags read Settings.
REQUIRED_SHEETS = ("Settings", "Tickets")
# What a compact workbook can hold: sheets and charts that need no ticket rows.
COMPACT_SHEETS = ("Dashboard", "Trend", "Insights", "Settings", "About", COMPACT_DATA_SHEET, QUALITY_SHEET)
COMPACT_REQUIRED_SHEETS = ("Settings", COMPACT_DATA_SHEET)
# Sheets whose formulas also read the EscalationLog table.
READS_ESCALATION_LOG = ("Dashboard", "Escalations")

CHART_NAMES = (
    "volume_and_breach_rate", "tickets_by_month_and_channel", "issue_types", "channel_share",
    "sla_outcome_by_priority", "csat_trend", "agents_resolution_vs_csat", "account_pareto",
    "escalation_stages",
)
COMPACT_CHARTS = ("volume_and_breach_rate", "tickets_by_month_and_channel", "channel_share",
                  "sla_outcome_by_priority", "csat_trend")
DEFAULT_CARDS = ("tickets", "frt_median", "ttr_median", "resolution_compliance", "csat",
                 "escalation_rate", "reopen_rate", "fcr", "backlog", "breach_cost")
MAX_CARDS = 10  # two bands of five
# The defined name of the About cell that holds a split workbook's slice value ("Tier 2").
SLICE_NAME = "ReportSlice"
