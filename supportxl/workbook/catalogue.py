"""What a report template may choose: sheets, Dashboard charts and cards, in default order.

Imports only the vocabulary, so the template parser can validate against it.
"""

from supportxl.schema import COMPACT_DATA_SHEET, QUALITY_SHEET, SHEET_CHOICES, SHEET_NAMES  # noqa: F401
# Every formula reads the Tickets table, and its SLA flags read Settings.
REQUIRED_SHEETS = ("Settings", "Tickets")
# What a compact workbook can hold: sheets and charts that need no ticket rows.
COMPACT_SHEETS = ("Dashboard", "Trend", "Insights", "Settings", "About", COMPACT_DATA_SHEET, QUALITY_SHEET)
COMPACT_REQUIRED_SHEETS = ("Settings", COMPACT_DATA_SHEET)
# Sheets whose formulas also read the EscalationLog table.
READS_ESCALATION_LOG = ("Dashboard", "Escalations")

CHART_NAMES = (
    "volume_and_breach_rate", "created_vs_resolved", "issue_types", "channel_share",
    "sla_outcome_by_priority", "csat_trend", "agents_resolution_vs_csat", "account_pareto",
    "tickets_by_month_and_channel", "escalation_stages",
)
DEFAULT_CHARTS = CHART_NAMES[:8]  # the month x channel and escalation charts repeat other sheets
COMPACT_CHARTS = ("volume_and_breach_rate", "created_vs_resolved", "tickets_by_month_and_channel",
                  "channel_share", "sla_outcome_by_priority", "csat_trend")
DEFAULT_CARDS = ("tickets", "frt_median", "ttr_median", "resolution_compliance", "csat",
                 "response_compliance", "backlog", "escalation_rate", "fcr", "breach_cost")
MAX_CARDS = 10  # two bands of five
# Defined names that let readers (the e-mail headline, scripts) find what a workbook says
# without knowing its layout: a split workbook's slice value ("Tier 2") and the period on
# About, and the findings (title and sentence columns) on Insights.
SLICE_NAME = "ReportSlice"
PERIOD_NAME = "ReportPeriod"
FINDINGS_NAME = "InsightFindings"
