"""The Dashboard's period filter: a year, a quarter or a month, each compared with the period
of the same kind before it, in the default and the executive template."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from supportxl.generate import generate, load_params
from supportxl.metrics.derive import derive_tickets
from supportxl.metrics.periods import MONTH, QUARTER, YEAR, Period, period_options
from supportxl.template import load_template
from supportxl.verify import compare_with_recalculated, run_libreoffice, set_cell_values

from conftest import build_templates, kpi_value, load_book, soffice_or_skip

CARDS = dict(zip(["A8", "D8", "G8", "J8", "M8", "A14", "D14", "G14", "J14", "M14"], load_template().cards))
TEMPLATES = ("dashboard", "executive")
# Each selection: the filter's text, the months it covers, the months it is compared with,
# and the comparison label the cards show.
SELECTIONS = {
    "quarter": ("2025 Q3", ("2025-07-01", "2025-09-01"), ("2025-04-01", "2025-06-01"), "Q3 vs Q2"),
    "year": ("2025", ("2025-01-01", "2025-12-01"), ("2024-01-01", "2024-12-01"), "2025 vs 2024 (maturing)"),
}


@pytest.fixture(scope="module")
def two_years():
    """3,000 tickets over 2024 and 2025, so a year has a year before it."""
    params = load_params(overrides={"tickets": 3_000, "seed": 11, "start": dt.date(2024, 1, 1),
                                    "end": dt.date(2025, 12, 31)})
    return generate(params)


@pytest.fixture(scope="module")
def frame(two_years):
    return derive_tickets(two_years, load_template())


@pytest.fixture(scope="module")
def workbooks(two_years, tmp_path_factory):
    return build_templates(two_years, tmp_path_factory.mktemp("periods"), TEMPLATES)


@pytest.fixture(scope="module")
def recalculated(workbooks, tmp_path_factory):
    """Each workbook as it is and with each selection, recalculated by LibreOffice in one run."""
    soffice_or_skip()
    folder = tmp_path_factory.mktemp("selected")
    edited = {(name, "all"): path for name, path in workbooks.items()}
    for name, path in workbooks.items():
        for kind, (text, *_rest) in SELECTIONS.items():
            edited[name, kind] = set_cell_values(path, "Dashboard", {"B5": text}, folder / f"{name}-{kind}.xlsx")
        edited[name, "first year"] = set_cell_values(path, "Dashboard", {"B5": "2024"},
                                                     folder / f"{name}-first-year.xlsx")
    out = folder / "out"
    run_libreoffice(["--convert-to", "xlsx", "--outdir", str(out), *map(str, edited.values())])
    return {key: (path, out / path.name) for key, path in edited.items()}


def _between(frame, first, last):
    return frame[(frame["month"] >= pd.Timestamp(first)) & (frame["month"] <= pd.Timestamp(last))]


def _open_at(frame, moment):
    moment = pd.Timestamp(moment)
    return int(((frame["created_at"] < moment) & ~(frame["resolved_at"] < moment)).sum())


def test_periods_name_themselves_and_what_they_compare():
    as_of = pd.Timestamp("2026-01-01")
    q1 = Period(pd.Timestamp("2025-01-01"), QUARTER)
    assert (q1.option, q1.short, q1.key, q1.previous.start) == ("2025 Q1", "Q1", "2025-Q1", pd.Timestamp("2024-10-01"))
    assert q1.comparison(as_of, 7) == "Q1 vs Q4"
    year = Period(pd.Timestamp("2025-01-01"), YEAR)
    assert (year.option, year.key, year.comparison(as_of, 7)) == ("2025", "2025", "2025 vs 2024 (maturing)")
    november = Period(pd.Timestamp("2025-11-01"), MONTH)
    assert november.comparison(as_of, 7) == "Nov vs Oct"
    assert november.comparison(pd.Timestamp("2025-12-05"), 7) == "Nov vs Oct (maturing)"
    options = [p.option for p in period_options(pd.to_datetime(["2024-12-01", "2025-01-01", "2025-02-01"]))]
    assert options == ["2024", "2025", "2024 Q4", "2025 Q1", pd.Timestamp("2024-12-01"),
                       pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")]


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_filter_lists_both_years_and_all_quarters(workbooks, name):
    lists = load_book(workbooks[name], data_only=True)["Lists"]
    options = [c.value for c in lists["A"][1:] if c.value is not None]
    assert options[:11] == ["(All)", "2024", "2025", "2024 Q1", "2024 Q2", "2024 Q3", "2024 Q4",
                            "2025 Q1", "2025 Q2", "2025 Q3", "2025 Q4"]
    assert options[11:] == list(pd.date_range("2024-01-01", "2025-12-01", freq="MS"))


def test_the_executive_percentiles_have_every_quarter_and_year(workbooks, frame):
    aggregates = load_book(workbooks["executive"], data_only=True)["Aggregates"]
    table = aggregates.tables["Percentiles"]
    rows = aggregates[table.ref][1:]
    looked_up = {key.value: hours.value for key, hours in rows}
    q3 = _between(frame, "2025-07-01", "2025-09-01")
    assert looked_up["2025-Q3|(All)|(All)|(All)|Median Resolution (h)"] == pytest.approx(q3["ttr_hours"].median())
    email_2024 = frame[(frame["month"].dt.year == 2024) & (frame["channel"] == "Email")]
    assert looked_up["2024|Email|(All)|(All)|P90 First response (h)"] == pytest.approx(
        email_2024["frt_hours"].quantile(0.9))


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", TEMPLATES)
def test_the_default_selection_recalculates_to_its_cached_values(recalculated, name):
    original, result = recalculated[name, "all"]
    comparison = compare_with_recalculated(original, result)
    assert comparison.formula_cells > 500 and comparison.ok, comparison.summary()


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("kind", SELECTIONS)
def test_a_quarter_or_a_year_sets_every_card_and_change(recalculated, frame, name, kind):
    text, (first, last), (before_first, before_last), label = SELECTIONS[kind]
    wv = load_book(recalculated[name, kind][1], data_only=True)["Dashboard"]
    template = load_template()
    now, before = _between(frame, first, last), _between(frame, before_first, before_last)
    end = pd.Timestamp(last) + pd.DateOffset(months=1)
    assert 300 < len(now) < len(frame) - 300
    # Independent computations of five cards over the period's tickets.
    rated = now[now["csat"].notna()]
    plain = {"tickets": len(now), "ttr_median": now["ttr_hours"].median(),
             "resolution_compliance": 1 - now["resolution_breached"].sum() / now["resolution_target"].notna().sum(),
             "csat": (rated["csat"] >= 4).mean(), "backlog": _open_at(frame, end)}
    for ref, key in CARDS.items():
        expected = plain.get(key, kpi_value(key, now, template))
        assert wv[ref].value == pytest.approx(expected, rel=1e-9), (key, ref)
        row, col = wv[ref].row, wv[ref].column
        assert wv.cell(row + 2, col + 2).value == label, key
    # The changes: against the period of the same kind before it.
    assert wv["A10"].value == pytest.approx(len(now) / len(before) - 1, rel=1e-9)
    before_sla = 1 - before["resolution_breached"].sum() / before["resolution_target"].notna().sum()
    assert wv["J10"].value == pytest.approx((plain["resolution_compliance"] - before_sla) * 100, rel=1e-9)
    assert wv["G10"].value == pytest.approx(plain["ttr_median"] / before["ttr_hours"].median() - 1, rel=1e-9)
    assert wv["D16"].value == pytest.approx(plain["backlog"] / _open_at(frame, first) - 1, rel=1e-9)


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", TEMPLATES)
def test_a_year_without_a_year_before_says_so(recalculated, frame, name):
    wv = load_book(recalculated[name, "first year"][1], data_only=True)["Dashboard"]
    assert wv["A8"].value == (frame["month"].dt.year == 2024).sum()
    for ref in CARDS:
        row, col = wv[ref].row, wv[ref].column
        assert wv.cell(row + 2, col).value == "no 2023 data", ref
        assert wv.cell(row + 2, col + 2).value == "2024 vs 2023"
