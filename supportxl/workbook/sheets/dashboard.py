"""The Dashboard: filters, KPI cards with targets, trends and sparklines, and native charts.

Everything on it is live. Four drop-down filters (period: a year, quarter or month; channel,
priority, team) feed every card and every grid behind the charts; the cached values are those
of the default "(All)" selection. The grids sit below the printed page, under "Data behind the charts".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from supportxl.metrics.cube import cube_column
from supportxl.metrics.kpis import (AS_OF_NAME, FILTER_NAME, KPIS, MATURITY_NAME, PERIOD_FROM_NAME, PERIOD_TO_NAME,
                                    RATED_TICKETS, RESOLVED_TICKETS, Criterion, Kpi, Single, compare, in_selection,
                                    kpi, selected)
from supportxl.metrics.periods import MONTH, QUARTER, YEAR, Period, key_formula, period_options, short_formula
from supportxl.model import last_complete_month
from supportxl.schema import EVENT_COLUMN_BY_KEY, PRIORITIES, column
from supportxl.workbook.charts import dashboard_charts
from supportxl.workbook.context import BuildContext
from supportxl.workbook.grids import Dimension, Grid, crosstab, dimension, kpi_grid, write_label, write_title
from supportxl.workbook.ranges import absolute, area, cell, on_sheet
from supportxl.workbook.sheets.about import describe_source
from supportxl.workbook.sheets.data import excel_serial
from supportxl.workbook.sheets.settings import target_name
from supportxl.workbook.sheets.summaries import month_dimension

ALL = "(All)"
LISTS_SHEET = "Lists"
PAGE_COLUMNS = 15  # A..O: five cards of three columns, three charts of five columns
FILTER_ROW = 4
CARD_TOP = (6, 12)
CHART_TOP = 18
CHART_ROWS = 16
DATA_TOP = CHART_TOP + 3 * CHART_ROWS + 2
HELPER_COL = 5  # F: the filter helper cells on the Lists sheet, beside the drop-down lists
HELPERS = ("Months", "From month", "To month", "Period key", "Focus from", "Focus to", "Focus key", "Previous from",
           "Previous to", "Previous key", "Previous name", "Previous in data", "Comparison", "Backlog at")
BACKLOG_EPSILON = pd.Timedelta(seconds=1)  # "open at the as-of time" counts what happened at it
# Defined names that let readers (e-mail summaries, scripts) find a card's value or a
# filter cell (FILTER_NAME) without knowing the layout: Card_tickets, Card_csat, ...; Filter_period, ...
CARD_NAME = "Card_{}"
FAR_PAST, FAR_FUTURE = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")
MAX_DATE_SERIAL = 2_958_465  # 9999-12-31
CHART_KPIS = ("tickets", "resolution_breach_rate", "csat")  # monthly columns the charts draw
SLA_OUTCOMES = ("resolved_within_target", "resolved_late", "open_within_target", "open_past_target")
PARETO_ACCOUNTS = 15
# Counts a card's detail line shows, as KPIs of one measure.
COUNTS = {"rated": Kpi("rated", "Rated tickets", "Tickets with a rating.", "int", Single(RATED_TICKETS)),
          "resolved": Kpi("resolved", "Resolved tickets", "Tickets resolved.", "int", Single(RESOLVED_TICKETS))}


@dataclass(frozen=True)
class Filters:
    """Where the filter cells and their helpers are, and what the cached values assume."""

    period: str  # the drop-down cells (absolute references)
    channel: str
    priority: str
    team: str
    helpers: dict[str, str]  # helper cells on the hidden Lists sheet, by HELPERS label
    focus: Period  # what the cards' change compares under the cached "(All)": the last complete month
    first_month: pd.Timestamp  # the data's first month: a previous period before it is not compared
    backlog_moment: pd.Timestamp  # when the Backlog card counts open tickets under "(All)"
    options: dict[str, tuple] = field(default_factory=dict)  # each filter's values
    per_ticket: bool = True  # the Tickets table tests the filters once per ticket (its selection column)

    def dimensions(self) -> list[Criterion]:
        """The channel, priority and team filters, each on its own column."""
        return [selected(key, getattr(self, key), ALL, texts=self.options.get(key, ()))
                for key in ("channel", "priority", "team")]

    def criteria(self, *, months: bool = True) -> list[Criterion]:
        """The tickets every filter lets through (``months=False``: all but the period)."""
        if self.per_ticket:
            return [in_selection(period=months)]
        return self.by_column(months=months)

    def by_column(self, *, months: bool = True) -> list[Criterion]:
        """The same tickets as ``criteria``, one criterion per filter on its own column: for a
        table without the selection column (the escalation log, a compact workbook's cube)."""
        if not months:
            return self.dimensions()
        return [*self._bounds("From month", "To month", "Period key", FAR_PAST, FAR_FUTURE), *self.dimensions()]

    def focus_criteria(self, previous: bool = False) -> list[Criterion]:
        """The tickets of the period the change compares (or of the one before it)."""
        period = self.focus.previous if previous else self.focus
        side = "Previous" if previous else "Focus"
        bounds = self._bounds(f"{side} from", f"{side} to", f"{side} key", period.start, period.last_month)
        return [*bounds, *self.criteria(months=False)]

    def _bounds(self, first: str, last: str, key: str, start: pd.Timestamp, end: pd.Timestamp) -> list[Criterion]:
        """The months from the helper cell ``first`` to ``last``, in the period keyed by ``key``."""
        h = self.helpers
        return [compare("month", ">=", h[first], start, period=h[key]),
                compare("month", "<=", h[last], end, period=h[key])]

    @property
    def previous_in_data(self) -> bool:
        return self.focus.previous.start >= self.first_month


def write_dashboard(ctx: BuildContext, ws: Worksheet) -> dict[str, Grid]:
    lists = ctx.sheets[LISTS_SHEET]
    ws.hide_gridlines(2)
    ws.set_column(0, PAGE_COLUMNS - 1, 10.5)
    ws.set_column(PAGE_COLUMNS, PAGE_COLUMNS + 1, 3)
    _header(ctx, ws)
    filters = _filters(ctx, ws, lists)
    grids = _grids(ctx, ws, filters)
    cards = ctx.template.cards
    for band, top in enumerate(CARD_TOP):
        for i, key in enumerate(cards[band * 5:(band + 1) * 5]):
            _card(ctx, ws, top, i * 3, kpi(key), filters, grids["monthly"])
    _charts(ctx, ws, grids)
    ws.print_area(0, 0, DATA_TOP - 2, PAGE_COLUMNS - 1)
    ws.activate()
    return grids


def _header(ctx: BuildContext, ws: Worksheet) -> None:
    f = ctx.formats
    start, end = ctx.dataset.period
    ws.set_row(0, 26)
    ws.write_string(0, 0, ctx.template.title, f.get("title", font_size=20))
    source = describe_source(ctx.dataset.manifest)
    ws.write_string(1, 0, f"Period {start:%d %b %Y} to {end:%d %b %Y}  ·  Source: {source}  ·  "
                          f"Data as of {ctx.as_of:%d %b %Y %H:%M}", f.get("subtitle"))
    ws.write_string(2, 0, "Pick a year, quarter or month, a channel, priority or team in the yellow cells: "
                          "every card and chart follows. Green meets the target on Settings, red misses it.",
                    f.get("note", text_wrap=False))


def _filters(ctx: BuildContext, ws: Worksheet, lists: Worksheet) -> Filters:
    f = ctx.formats
    frame = ctx.frame
    months = sorted(pd.Timestamp(m) for m in frame["month"].unique())
    options = {
        "Period": [ALL, *(p.option for p in period_options(months))],
        "Channel": [ALL, *dimension(frame, "channel", "Channel").values],
        "Priority": [ALL, *dimension(frame, "priority", "Priority", order=PRIORITIES).values],
        "Team": [ALL, *sorted(frame["team"].unique())],
    }
    refs = {}
    for j, (label, values) in enumerate(options.items()):
        lists.write_string(0, j, label, f.get("header"))
        for i, value in enumerate(values, start=1):
            write_label(ctx, lists, i, j, value, "month" if isinstance(value, pd.Timestamp) else "text",
                        style="plain")
        col = j * 3
        ws.write_string(FILTER_ROW, col, label, f.get("label", align="right"))
        ws.write_string(FILTER_ROW, col + 1, ALL, f.get("input", "month", bold=True))
        source = on_sheet(LISTS_SHEET, area(1, j, len(values), j))
        what = "year, quarter or month" if label == "Period" else label.lower()
        ws.data_validation(FILTER_ROW, col + 1, FILTER_ROW, col + 1, {
            "validate": "list", "source": "=" + source, "input_title": label,
            "input_message": f"Pick a {what}, or {ALL}.",
            "error_title": "Not in the list", "error_message": f"Pick a {what} from the list."})
        refs[label] = absolute(FILTER_ROW, col + 1)
        ctx.workbook.define_name(FILTER_NAME.format(label.lower()), "=" + on_sheet(ws.get_name(), refs[label]))
    lists.set_column(0, 3, 16)
    lists.set_column(HELPER_COL, HELPER_COL + len(HELPERS) - 1, 14)
    sheet = ws.get_name()
    helpers = _period_helpers(ctx, lists, on_sheet(sheet, refs["Period"]), months[0])
    complete = last_complete_month(ctx.as_of, ctx.template.maturity_days)
    return Filters(*(on_sheet(sheet, refs[label]) for label in ("Period", "Channel", "Priority", "Team")),
                   helpers, Period(complete, MONTH), months[0], ctx.as_of + BACKLOG_EPSILON,
                   {key.lower(): tuple(v for v in values_ if v != ALL) for key, values_ in options.items()},
                   per_ticket=not ctx.compact)


def _period_helpers(ctx: BuildContext, lists: Worksheet, sel: str, first_month: pd.Timestamp) -> dict[str, str]:
    """Helper cells, out of sight on the hidden Lists sheet, that turn the period filter into
    month bounds: the months it lets through, the period the cards' change compares with the
    one before it of the same kind (the selected one, or with "(All)" the last complete month),
    and the moment the Backlog card counts at. Returns each helper's cell by label."""
    f = ctx.formats
    cells = {label: on_sheet(LISTS_SHEET, absolute(1, HELPER_COL + k)) for k, label in enumerate(HELPERS)}
    c = cells
    as_of, maturity = ctx.as_of, ctx.template.maturity_days
    mature = f"{AS_OF_NAME}-{MATURITY_NAME}"
    focus = Period(last_complete_month(as_of, maturity), MONTH)  # what "(All)" compares
    months_col = cube_column("month") if ctx.compact else column("month").ref
    # A month is listed as its date; a quarter as text "2025 Q4", a year as text "2025".
    start_of_text = f'DATE(VALUE(LEFT({sel},4)),IF({c["Months"]}={QUARTER},3*VALUE(RIGHT({sel},1))-2,1),1)'
    formulas = {
        "Months": f'IF(ISNUMBER({sel}),{MONTH},IF({sel}="{ALL}",{MONTH},IF(ISNUMBER(SEARCH("Q",{sel})),'
                  f'{QUARTER},{YEAR})))',
        "From month": f'IF(ISNUMBER({sel}),DATE(YEAR({sel}),MONTH({sel}),1),IF({sel}="{ALL}",0,{start_of_text}))',
        "To month": f'IF({sel}="{ALL}",{MAX_DATE_SERIAL},EDATE({c["From month"]},{c["Months"]}-1))',
        "Period key": f'IF({sel}="{ALL}","{ALL}",{key_formula(c["From month"], c["Months"])})',
        "Focus from": f'IF({sel}="{ALL}",EDATE(DATE(YEAR({mature}),MONTH({mature}),1),-1),{c["From month"]})',
        "Focus to": f'EDATE({c["Focus from"]},{c["Months"]}-1)',
        "Focus key": key_formula(c["Focus from"], c["Months"]),
        "Previous from": f'EDATE({c["Focus from"]},-{c["Months"]})',
        "Previous to": f'EDATE({c["Focus from"]},-1)',
        "Previous key": key_formula(c["Previous from"], c["Months"]),
        "Previous name": short_formula(c["Previous from"], c["Months"]),
        "Previous in data": f'{c["Previous from"]}>=MIN({months_col})',
        "Comparison": (f'{short_formula(c["Focus from"], c["Months"])}&" vs "&{c["Previous name"]}'
                       f'&IF(EDATE({c["Focus from"]},{c["Months"]})>{mature}," (maturing)","")'),
        "Backlog at": f'IF({sel}="{ALL}",{AS_OF_NAME}+1/86400,EDATE({c["From month"]},{c["Months"]}))',
    }
    previous = focus.previous
    values = {"Months": MONTH, "From month": 0.0, "To month": float(MAX_DATE_SERIAL), "Period key": ALL,
              "Focus from": excel_serial(focus.start), "Focus to": excel_serial(focus.last_month),
              "Focus key": focus.key, "Previous from": excel_serial(previous.start),
              "Previous to": excel_serial(previous.last_month), "Previous key": previous.key,
              "Previous name": previous.short, "Previous in data": previous.start >= first_month,
              "Comparison": focus.comparison(as_of, maturity),
              "Backlog at": excel_serial(as_of + BACKLOG_EPSILON)}
    assert set(formulas) == set(values) == set(HELPERS)
    for k, label in enumerate(HELPERS):
        lists.write_string(0, HELPER_COL + k, label, f.get("header"))
        value = values[label]
        fmt = f.get("plain", "datetime") if isinstance(value, float) else f.get("plain")
        ctx.write_formula(lists, 1, HELPER_COL + k, "=" + formulas[label], value, fmt)
    for name, label in ((PERIOD_FROM_NAME, "From month"), (PERIOD_TO_NAME, "To month")):
        ctx.workbook.define_name(name, "=" + cells[label])  # what the Tickets' selection column reads
    return cells


# --- cards ---------------------------------------------------------------------------

def _card(ctx: BuildContext, ws: Worksheet, top: int, left: int, item: Kpi, filters: Filters,
          monthly: Grid) -> None:
    f = ctx.formats
    right = left + 2
    box = {"bg_color": "light", "align": "center", "valign": "vcenter"}
    ws.merge_range(top, left, top, right, item.name, f.get("label", **box, font_color="primary"))
    criteria = filters.criteria()
    value_fmt = f.get("plain", item.fmt, **box, bold=True, font_size=18)
    ws.merge_range(top + 1, left, top + 1, right, "", value_fmt)
    if item.key == "backlog" and not ctx.model.unavailable(item):
        # Open at the end of the selected period: its end, or with "(All)" the as-of time.
        base = filters.criteria(months=False)
        value = ctx.model.backlog_at(filters.backlog_moment, base)
        ctx.write_live(ws, top + 1, left, ctx.backlog_at_formula(filters.helpers["Backlog at"], base), value,
                       value_fmt)
    else:
        value = ctx.write_kpi(ws, top + 1, left, item, criteria, value_fmt)
    reason = ctx.model.unavailable(item)
    if reason:
        ws.write_comment(top + 1, left, f"Not available: {reason}")
    value_ref = cell(top + 1, left)
    ctx.workbook.define_name(CARD_NAME.format(item.key), "=" + on_sheet(ws.get_name(), absolute(top + 1, left)))
    ws.set_row(top + 1, 30)

    target_fmt = f.get("plain", **box, font_color="muted_text")
    if item.target:
        target = getattr(ctx.template.targets, item.target)
        name = target_name(item.target)
        meets = (value >= target if item.better == "higher" else value <= target) if value is not None else None
        if item.fmt == "percent":
            shown, text = f'TEXT({name},"0.0%")', f"{target:.1%}"
        else:
            shown, text = f'TEXT({name},"0.0")&" h"', f"{target:.1f} h"
        op = ">=" if item.better == "higher" else "<="
        verdict = f'IF(ISNUMBER({value_ref}),IF({value_ref}{op}{name},"  ✔ on target","  ✘ off target"),"")'
        cached = f"Target {text}" + ("" if meets is None else ("  ✔ on target" if meets else "  ✘ off target"))
        ws.merge_range(top + 2, left, top + 2, right, "", target_fmt)
        ctx.write_formula(ws, top + 2, left, f'="Target "&{shown}&{verdict}', cached, target_fmt)
        for rule, style in ((f"{op}{name}", "good"), (f"{'<' if op == '>=' else '>'}{name}", "bad")):
            ws.conditional_format(top + 1, left, top + 1, left, {
                "type": "formula", "criteria": f"=AND(ISNUMBER({value_ref}),{value_ref}{rule})",
                "format": f.get(style)})
    else:
        ws.merge_range(top + 2, left, top + 2, right, "No target set", target_fmt)

    _change(ctx, ws, top + 3, left, item, filters)
    _sparkline(ws, top + 4, left, item, monthly)
    _detail(ctx, ws, top + 5, left, item, criteria)


def _change(ctx: BuildContext, ws: Worksheet, row: int, left: int, item: Kpi, filters: Filters) -> None:
    """The KPI in the focus period against the one before it of the same kind (for the backlog:
    at their ends), green where it moved the good way, red the other, with what it compares
    ("Nov vs Oct", "Q4 vs Q3", "2025 vs 2024"); "no Oct data" where the data starts later."""
    f = ctx.formats
    if ctx.model.unavailable(item):  # nothing to compare: the card says n/a
        ws.merge_range(row, left, row, left + 2, "", f.get("plain", align="center", font_color="muted_text"))
        return
    h, focus = filters.helpers, filters.focus
    if item.key == "backlog":
        base = filters.criteria(months=False)
        now_f = ctx.backlog_at_formula(f'EDATE({h["Focus from"]},{h["Months"]})', base)[1:]
        before_f = ctx.backlog_at_formula(h["Focus from"], base)[1:]
        now, before = ctx.model.backlog_at(focus.end, base), ctx.model.backlog_at(focus.start, base)
    else:
        now_c, before_c = filters.focus_criteria(), filters.focus_criteria(previous=True)
        now, before = ctx.value(item, now_c), ctx.value(item, before_c)
        now_f, before_f = ctx.kpi_formula(item, now_c), ctx.kpi_formula(item, before_c)
    live = now_f is not None and before_f is not None
    if item.fmt == "percent":
        change = f'IFERROR((({now_f})-({before_f}))*100,"")'
        value = None if now is None or before is None else (now - before) * 100
        number = '▲ +0.0" pts";▼ -0.0" pts";"= 0.0 pts"'
    else:
        change = f'IFERROR(({now_f})/({before_f})-1,"")'
        value = None if now is None or not before else now / before - 1
        number = '▲ +0.0%;▼ -0.0%;"= 0.0%"'
    formula = f'=IF({h["Previous in data"]},{change},"no "&{h["Previous name"]}&" data")' if live else None
    if not filters.previous_in_data:
        value = f"no {focus.previous.short} data"
    fmt = f.get("plain", align="right", font_color="muted_text", num_format=number)
    ws.merge_range(row, left, row, left + 1, "", fmt)
    ctx.write_live(ws, row, left, formula, value, fmt, array=item.array and not ctx.compact)
    # Shrunk to fit, so a longer label ("Q4 vs Q3 (maturing)") is not cut by the next card.
    label_fmt = f.get("plain", align="left", font_color="muted_text", font_size=8, shrink=True)
    ctx.write_formula(ws, row, left + 2, f'={h["Comparison"]}',
                      focus.comparison(ctx.as_of, ctx.template.maturity_days), label_fmt)
    if item.better:
        ref = cell(row, left)
        good, bad = (">0", "<0") if item.better == "higher" else ("<0", ">0")
        for rule, colour in ((good, "good_text"), (bad, "bad_text")):
            ws.conditional_format(row, left, row, left, {
                "type": "formula", "criteria": f"=AND(ISNUMBER({ref}),{ref}{rule})",
                "format": f.get("plain", font_color=colour, bold=True)})


# What a card's detail line adds, by KPI: the tail beside a median, the sample behind a rate.
DETAILS = {
    "ttr_median": (("P90 ", "ttr_p90", " h"), (" · mean ", "ttr_mean", " h")),
    "frt_median": (("P90 ", "frt_p90", " h"), (" · mean ", "frt_mean", " h")),
    "csat": (("from ", "rated", " ratings"), (" of ", "resolved", " resolved")),
}


def _detail(ctx: BuildContext, ws: Worksheet, row: int, left: int, item: Kpi,
            criteria: Sequence[Criterion]) -> None:
    """A small line under a card: P90 and mean beside a median, the ratings behind CSAT."""
    parts = DETAILS.get(item.key)
    if parts is None or ctx.model.unavailable(item):
        return
    fmt = ctx.formats.get("plain", align="center", font_color="muted_text", font_size=8)
    formulas, texts = [], []
    for prefix, key, suffix in parts:
        measure = kpi(key) if key in KPIS else COUNTS[key]
        value = ctx.value(measure, criteria)
        number = "#,##0" if measure.fmt == "int" else "0.0"
        formula = ctx.kpi_formula(measure, criteria)
        formulas.append(f'"{prefix}"&IFERROR(TEXT({formula},"{number}"),"-")&"{suffix}"' if formula else None)
        texts.append(f"{prefix}{'-' if value is None else format(value, ',.0f' if number == '#,##0' else '.1f')}"
                     f"{suffix}")
    ws.merge_range(row, left, row, left + 2, "", fmt)
    if all(formulas):
        ctx.write_formula(ws, row, left, "=" + "&".join(formulas), "".join(texts), fmt,
                          array=any(kpi(k).array for _, k, _ in parts if k in KPIS) and not ctx.compact)
    else:
        ws.write_string(row, left, "".join(texts), fmt)


def _sparkline(ws: Worksheet, row: int, left: int, item: Kpi, monthly: Grid) -> None:
    key = "backlog_at_month_end" if item.key == "backlog" else item.key
    ws.merge_range(row, left, row, left + 2, "")
    ws.add_sparkline(row, left, {
        "range": monthly.data_range(key, sheet_qualified=True), "weight": 1.5,
        "series_color": "#2E75B6", "high_point": True, "low_point": True, "show_hidden": True})
    ws.set_row(row, 24)


# --- the grids behind the charts -----------------------------------------------------

def _grids(ctx: BuildContext, ws: Worksheet, filters: Filters) -> dict[str, Grid]:
    frame = ctx.frame
    all_filters, no_month = filters.criteria(), filters.criteria(months=False)
    row = write_title(ctx, ws, DATA_TOP, 0, "Data behind the charts",
                      "Live formulas that follow the filters above (the monthly grids show every month).")
    grids: dict[str, Grid] = {}
    months = month_dimension(ctx)
    # Every card's KPI by month (for its sparkline), and what the monthly charts draw.
    monthly = [kpi(k) for k in dict.fromkeys((*ctx.template.cards, *CHART_KPIS)) if k != "backlog"]
    grids["monthly"] = kpi_grid(ctx, ws, row + 1, 0, months, monthly, base=no_month)
    _month_end_backlog(ctx, ws, grids["monthly"], months, no_month)
    row = grids["monthly"].total_row + 3
    charts = set(ctx.template.charts)
    channels = dimension(frame, "channel", "Channel")
    if "tickets_by_month_and_channel" in charts:
        grids["month_channel"] = crosstab(ctx, ws, row, 0, months, channels, base=no_month)
        row = grids["month_channel"].total_row + 3
    # Small grids side by side, one band after another.
    small = [("issues", "issue_types", 3, lambda top, left: kpi_grid(
                 ctx, ws, top, left, dimension(frame, "issue_type", "Issue type"), [kpi("tickets")],
                 base=all_filters)),
             ("channels", "channel_share", 3, lambda top, left: kpi_grid(
                 ctx, ws, top, left, channels, [kpi("tickets")], base=all_filters)),
             ("sla", "sla_outcome_by_priority", 6, lambda top, left: kpi_grid(
                 ctx, ws, top, left, dimension(frame, "priority", "Priority", order=PRIORITIES),
                 [kpi(k) for k in SLA_OUTCOMES], base=all_filters)),
             ("agents", "agents_resolution_vs_csat", 4, lambda top, left: kpi_grid(
                 ctx, ws, top, left, dimension(frame, "agent", "Agent"), [kpi("ttr_mean"), kpi("csat")],
                 base=all_filters)),
             ("accounts", "account_pareto", 5, lambda top, left: _pareto(ctx, ws, top, left, all_filters)),
             ("stages", "escalation_stages", 3, lambda top, left: _stages(ctx, ws, top, left,
                                                                             filters.by_column()))]
    left, band_end = 0, row
    for key, chart, width, make in small:
        if chart not in charts:
            continue
        if left + width > PAGE_COLUMNS:
            left, row = 0, band_end + 3
        grids[key] = make(row, left)
        band_end = max(band_end, grids[key].total_row or grids[key].last_row)
        left += width
    return grids


def _month_end_backlog(ctx: BuildContext, ws: Worksheet, grid: Grid, months: Dimension,
                       base: Sequence[Criterion]) -> None:
    """Per month: the backlog at its end and the tickets resolved in it (whenever created)."""
    col = max(grid.columns.values()) + 1
    grid.columns.update(backlog_at_month_end=col, resolved_in_month=col + 1)
    ws.write_string(grid.header_row, col, "Backlog at month end", ctx.formats.get("header"))
    ws.write_string(grid.header_row, col + 1, "Resolved in month", ctx.formats.get("header"))
    fmt = ctx.formats.get("cell", "int")
    for i, month in enumerate(months.values, start=grid.first_row):
        end = month + pd.offsets.MonthBegin(1)
        month_ref = cell(i, 0, abs_col=True)
        ctx.write_live(ws, i, col, ctx.backlog_at_formula(f"EDATE({month_ref},1)", base),
                       ctx.model.backlog_at(end, base), fmt)
        ctx.write_live(ws, i, col + 1, ctx.resolved_in_month_formula(month_ref, base),
                       ctx.model.resolved_between(month, end, base), fmt)


def _pareto(ctx: BuildContext, ws: Worksheet, top: int, left: int, base: list[Criterion]) -> Grid:
    f = ctx.formats
    accounts = dimension(ctx.frame, "account_id", "Account ID", limit=PARETO_ACCOUNTS)
    grid = kpi_grid(ctx, ws, top, left, accounts, [kpi("tickets")], total_label="All accounts", base=base)
    tickets_col = grid.columns["tickets"]
    col = tickets_col + 1
    grid.columns["cumulative"] = col
    ws.write_string(top, col, "Cumulative share", f.get("header"))
    total = absolute(grid.total_row, tickets_col)
    subset = ctx.model.slice(base)
    counts = subset["account_id"].value_counts()
    grid.columns["name"] = col + 1
    ws.write_string(top, col + 1, "Account", f.get("header"))
    names = ctx.frame.drop_duplicates("account_id").set_index("account_id")["account"]
    running = 0
    for i, account in enumerate(accounts.values, start=grid.first_row):
        running += int(counts.get(account, 0))
        ctx.write_formula(ws, i, col, f'=IFERROR(SUM({absolute(grid.first_row, tickets_col)}:'
                                      f'{cell(i, tickets_col)})/{total},"")',
                          running / len(subset) if len(subset) else None, f.get("cell", "percent"))
        write_label(ctx, ws, i, col + 1, str(names.get(account, account)), "text", style="cell")
    return grid


def _stages(ctx: BuildContext, ws: Worksheet, top: int, left: int, base: list[Criterion]) -> Grid:
    """Mean hours spent in each escalation activity, from the escalation log."""
    f = ctx.formats
    events = ctx.events
    means = ctx.model.step_hours(base)["mean"]
    stages = [a for a in dimension(events, "activity", "Activity").values if a != "Resolution Confirmation"]
    stages.sort(key=lambda a: -means.get(a, 0.0))  # the longest step at the top of the bars
    ws.write_string(top, left, "Escalation activity", f.get("header"))
    ws.write_string(top, left + 1, "Mean hours in step", f.get("header"))
    grid = Grid(ws.get_name(), top, top + 1, top + max(len(stages), 1), left, {"hours": left + 1})
    filters = "".join(f",{EVENT_COLUMN_BY_KEY[c.key].ref},{c.countifs}" for c in base)
    for i, stage in enumerate(stages, start=top + 1):
        write_label(ctx, ws, i, left, stage, "text")
        mean = means.get(stage)
        ctx.write_formula(ws, i, left + 1,
                          f'=IFERROR(AVERAGEIFS({EVENT_COLUMN_BY_KEY["hours_in_step"].ref},'
                          f'{EVENT_COLUMN_BY_KEY["activity"].ref},'
                          f'{cell(i, left, abs_col=True)}{filters}),"")',
                          None if mean is None or pd.isna(mean) else float(mean), f.get("cell", "hours"))
    return grid


# --- charts --------------------------------------------------------------------------

def _charts(ctx: BuildContext, ws: Worksheet, grids: dict[str, Grid]) -> None:
    for position, chart in enumerate(dashboard_charts(ctx, grids, ctx.template.charts)):
        row = CHART_TOP + (position // 3) * CHART_ROWS
        col = (position % 3) * 5
        chart.show_hidden_data()  # the grids behind the charts sit in hidden rows
        ws.insert_chart(row, col, chart, {"x_offset": 4, "y_offset": 4})
    # The grids are live helpers, out of sight: their rows are hidden (unhide them to read them).
    last = max((g.total_row or g.last_row) for g in grids.values())
    for row in range(DATA_TOP, last + 1):
        ws.set_row(row, None, None, {"hidden": True})
