"""The workbook's KPI tables as CSV files: by month, channel, priority, industry, country,
account, agent, team, SLA risk and week.

Each file has one row per value, in the order of the workbook's grid, the KPIs the workbook
shows for that dimension, and the grid's total row. The numbers are the report model's, the
same that the workbook caches, so the two agree by construction:

    by_month.csv     the Trend grid, with the backlog at each month's end
    by_channel.csv   the Dashboard's card KPIs per channel (what the cards show with that
                     channel picked in its filter; the Channels sheet shows the volumes)
    by_priority.csv  the SLA grid
    by_industry.csv, by_country.csv   the Segments grids
    by_account.csv   every account, ranked like Top Accounts (whose rows are the first ones)
    by_agent.csv     the Agent Performance grid
    by_week.csv      the Plan sheet's recent weeks and the forecast with its range
    by_weekday_hour.csv   the Plan sheet's tickets per hour, offered load and agents needed
    by_team.csv      per team: time in each status, waits, touches (Handling) and the SLA-at-risk
                     buckets of its open tickets (SLA at Risk)
    by_sla_risk.csv  the SLA-at-risk buckets by priority (SLA at Risk)
    by_iso_week.csv  the Weekly grid: ISO weeks with created, resolved, backlog, SLA %, CSAT

Format, for spreadsheets and scripts alike: UTF-8 with a byte-order mark (so that Excel
reads accented names right; pandas and LibreOffice skip it), commas, '\\n' line ends, one
header row of the workbook's column names, units in the name. Hours have three decimals,
percentages are written as percent with two decimals (73.45 under "Resolution SLA %" is the
workbook's 0.7345), money and scores two decimals, counts whole numbers; a value that does
not exist (the CSAT of a slice without ratings) is empty. Text that a spreadsheet would run
as a formula (starting with = + - @, a tab or a carriage return) gets a leading single
quote. Same data and template, same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from supportxl.dataset import Dataset
from supportxl.fileio import atomic_write
from supportxl.metrics.forecast import RECENT_WEEKS
from supportxl.metrics.kpis import NOT_AVAILABLE, Criterion, Value, kpi
from supportxl.model import ReportModel, plan
from supportxl.schema import PRIORITIES
from supportxl.template import ReportTemplate
from supportxl.workbook.grids import Dimension, dimension
from supportxl.workbook.sheets.operations import (CHANGE_KEYS, RISK_KPIS, STATUS_KPIS, TOUCH_KPIS, WAIT_KPIS,
                                                  WEEK_COLUMNS, change, iso_week, week_values, weeks_of)
from supportxl.workbook.sheets.summaries import (ACCOUNT_KPIS, AGENT_KPIS, SEGMENT_KPIS, SLA_KPIS, TREND_KPIS,
                                                 agents_of, months_of)

DECIMALS = {"hours": 3, "percent": 2, "score": 2, "currency": 2}  # other formats: 2
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ENCODING = "utf-8-sig"
TABLE_NAMES = ("month", "channel", "priority", "industry", "country", "account", "agent", "week", "weekday_hour",
               "team", "sla_risk", "iso_week")
FILENAMES = tuple(f"by_{name}.csv" for name in TABLE_NAMES)


@dataclass(frozen=True)
class Column:
    header: str
    fmt: str  # "text", "month" or a number format of the theme ("int", "hours", "percent"...)


@dataclass(frozen=True)
class KpiTable:
    """One CSV file's content, with the values as the workbook caches them (not yet rounded)."""

    name: str  # the file is by_<name>.csv
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]  # the total row, if any, is the last

    @property
    def filename(self) -> str:
        return f"by_{self.name}.csv"


Info = tuple[str, Callable[[object], Value]]  # a text column beside the label: header, value of a row


def _table(name: str, model: ReportModel, dim: Dimension, keys: Sequence[str],
           *, total_label: str = "Total", info: Sequence[Info] = (),
           extra: tuple[Column, Callable[[object], Value], Value] | None = None) -> KpiTable:
    """Rows: the values of ``dim``, then the total; columns: label, ``info``, the KPIs, ``extra``."""
    kpis = [kpi(k) for k in keys]
    columns = [Column(dim.label, dim.fmt), *(Column(header, "text") for header, _ in info),
               *(Column(item.name, item.fmt) for item in kpis)]
    if extra:
        columns.append(extra[0])

    def values(criteria: list[Criterion]) -> list[Value]:
        return [NOT_AVAILABLE if model.unavailable(item) else model.value(item, criteria) for item in kpis]

    rows = []
    for value in dim.values:
        # The slice of the workbook's grid row (dim.key == value): the same cached values.
        row = [value, *(get(value) for _, get in info), *values([Criterion(dim.key, "", "", "==", value)])]
        rows.append(row + ([extra[1](value)] if extra else []))
    total = [total_label, *("" for _ in info), *values([])]
    rows.append(total + ([extra[2]] if extra else []))
    return KpiTable(name, tuple(columns), tuple(tuple(r) for r in rows))


def kpi_tables(model: ReportModel) -> list[KpiTable]:
    """The KPI and plan tables of the report model (see the module's docstring)."""
    frame, template = model.frame, model.template
    accounts = frame.drop_duplicates("account_id").set_index("account_id")
    team_of = frame.drop_duplicates("agent").set_index("agent")["team"]
    month_end = (Column("Backlog at month end", "int"),
                 lambda month: model.backlog_at(month + pd.offsets.MonthBegin(1)), model.value(kpi("backlog")))
    return [
        _table("month", model, months_of(frame), TREND_KPIS, extra=month_end),
        _table("channel", model, dimension(frame, "channel", "Channel"), template.cards),
        _table("priority", model, dimension(frame, "priority", "Priority", order=PRIORITIES), SLA_KPIS),
        _table("industry", model, dimension(frame, "industry", "Industry"), SEGMENT_KPIS),
        _table("country", model, dimension(frame, "country", "Country"), SEGMENT_KPIS),
        _table("account", model, dimension(frame, "account_id", "Account ID"), ACCOUNT_KPIS,
               total_label="All accounts", info=(("Account", lambda a: accounts.at[a, "account"]),
                                                 ("Industry", lambda a: accounts.at[a, "industry"]))),
        _table("agent", model, agents_of(frame), AGENT_KPIS, total_label="All agents",
               info=(("Team", lambda a: team_of[a]),)),
        *plan_tables(model),
        _table("team", model, dimension(frame, "team", "Team"),
               tuple(dict.fromkeys((*STATUS_KPIS, *WAIT_KPIS[1:], *TOUCH_KPIS[1:], *RISK_KPIS)))),
        _table("sla_risk", model, dimension(frame, "priority", "Priority", order=PRIORITIES), RISK_KPIS),
        _weekly_table(model),
    ]


def plan_tables(model: ReportModel) -> list[KpiTable]:
    """The Plan sheet's numbers: the weekly forecast (by_week.csv: recent actual weeks, then the
    forecast weeks with their range) and the staffing table (by_weekday_hour.csv)."""
    forecast, staffing = model.forecast, model.staffing
    share = f"{forecast.coverage:.0%}"
    weekly = [(f"{week:%Y-%m-%d}", int(tickets), None, None, None)
              for week, tickets in forecast.history.iloc[-RECENT_WEEKS:].items()]
    for i, week in enumerate(forecast.weeks):
        low, high = ((None, None) if forecast.low is None else (float(forecast.low[i]), float(forecast.high[i])))
        weekly.append((f"{week:%Y-%m-%d}", None, float(forecast.point[i]), low, high))
    by_week = KpiTable("week", (Column("Week starting", "text"), Column("Tickets", "int"),
                                Column("Forecast", "score"), Column(f"Low ({share})", "score"),
                                Column(f"High ({share})", "score")), tuple(weekly))
    cells = tuple((day, hour, float(staffing.rates.at[day, hour]), float(staffing.load.at[day, hour]),
                   staffing.agents.at[day, hour])
                  for day in staffing.rates.index for hour in staffing.rates.columns)
    by_hour = KpiTable("weekday_hour", (Column("Weekday", "text"), Column("Hour", "int"),
                                        Column("Tickets per hour", "score"),
                                        Column("Offered load (Erlangs)", "score"),
                                        Column("Agents needed", "int")), cells)
    return [by_week, by_hour]


def _weekly_table(model: ReportModel) -> KpiTable:
    """The Weekly grid: one row per ISO week, no total row."""
    columns = (Column("Week of", "text"), Column("ISO week", "text"),
               *(Column(c.header, c.fmt) for c in WEEK_COLUMNS),
               *(Column(f"{c.header} vs last week", "percent") for c in WEEK_COLUMNS if c.key in CHANGE_KEYS))
    rows, previous = [], None
    for monday in weeks_of(model):
        values = {key: value for key, (_, value) in week_values(model, monday).items()}
        changes = [change(values[key], previous[key]) if previous else None for key in CHANGE_KEYS]
        rows.append((f"{monday:%Y-%m-%d}", iso_week(monday), *(values[c.key] for c in WEEK_COLUMNS), *changes))
        previous = values
    return KpiTable("iso_week", columns, tuple(rows))


def write_kpi_csvs(dataset: Dataset, template: ReportTemplate, folder: Path, *,
                   model: ReportModel | None = None) -> list[Path]:
    """Write the KPI tables of ``dataset`` under ``template`` as CSV files into ``folder``.

    ``model`` is the report model when the caller has it already (the workbook's build made
    it). Each file is written to a temporary name, then renamed; other files in ``folder``
    are left alone.
    """
    model = plan(dataset, template) if model is None else model
    written = []
    tables = kpi_tables(model)
    assert tuple(t.filename for t in tables) == FILENAMES
    for table in tables:
        data = csv_bytes(table)
        written.append(atomic_write(Path(folder) / table.filename, lambda path, d=data: Path(path).write_bytes(d)))
    return written


def csv_bytes(table: KpiTable) -> bytes:
    lines = [[safe_text(c.header) for c in table.columns]]
    lines += [[format_value(value, column.fmt) for value, column in zip(row, table.columns)]
              for row in table.rows]
    return "".join(",".join(map(csv_field, line)) + "\n" for line in lines).encode(ENCODING)


def csv_field(text: str) -> str:
    """One field quoted as RFC 4180 says: in double quotes (doubled inside) when it holds a comma,
    a quote or a line break, a bare carriage return included (Python's csv module, writing
    '\\n' line ends, leaves that unquoted, which splits the row for every reader)."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def format_value(value: Value, fmt: str) -> str:
    """A cell as CSV text: fixed decimals per number format, percent for rates, '' for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m}" if fmt == "month" else value.isoformat()
    if isinstance(value, str):
        return safe_text(value)
    if fmt == "int":
        return str(int(value))
    number = float(value) * (100 if fmt == "percent" else 1)
    text = f"{number:.{DECIMALS.get(fmt, 2)}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # no "-0.00"


def safe_text(text: str) -> str:
    """``text``, with a leading single quote when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


__all__ = ["KpiTable", "csv_bytes", "csv_field", "format_value", "kpi_tables", "safe_text", "write_kpi_csvs"]
