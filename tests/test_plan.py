"""The Plan sheet: Erlang C staffing, the volume forecast, and their workbook formulas."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from conftest import load_book, make_dataset, soffice_or_skip
from supportxl.errors import ParameterError
from supportxl.generate import generate, load_params
from supportxl.metrics.forecast import forecast_volume, weekly_volumes
from supportxl.metrics.staffing import agents_needed, erlang_c, service_level
from supportxl.template import load_template
from supportxl.verify import compare_with_recalculated, recalculate, set_cell_values
from supportxl.workbook.builder import build_workbook


def textbook_erlang_c(load: float, agents: int) -> float:
    """Erlang C in its textbook form: (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! * N/(N-A))."""
    top = load ** agents / math.factorial(agents) * agents / (agents - load)
    return top / (sum(load ** k / math.factorial(k) for k in range(agents)) + top)


def textbook_agents(rate: float, handle_minutes: float, answer_hours: float, target: float) -> int:
    load = rate * handle_minutes / 60
    if load == 0:
        return 0
    agents = math.floor(load) + 1
    def level(agents: int) -> float:
        return 1 - textbook_erlang_c(load, agents) * math.exp(-(agents - load) * answer_hours * 60 / handle_minutes)

    while level(agents) < target:
        agents += 1
    return agents


@pytest.mark.parametrize("rate, handle_minutes, agents", [(20, 6, 3), (120, 4, 10), (7.5, 30, 6), (300, 3, 17)])
def test_erlang_c_equals_the_textbook_formula(rate, handle_minutes, agents):
    load = rate * handle_minutes / 60
    assert erlang_c(load, agents) == pytest.approx(textbook_erlang_c(load, agents), rel=1e-12)
    assert agents_needed(rate, handle_minutes, 0.05, 0.8) == textbook_agents(rate, handle_minutes, 0.05, 0.8)


def test_erlang_c_worked_example():
    # Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example": 100 calls
    # in 30 minutes (200 per hour), 3-minute average handle time (10 Erlangs), 80 % answered
    # within 20 seconds. Probability of waiting with 11..14 agents: 68.21 %, 44.94 %, 28.53 %,
    # 17.41 %; 14 agents are needed.
    for agents, waits in ((11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)):
        assert erlang_c(10, agents) == pytest.approx(waits, abs=5e-5)
    assert service_level(10, 13, 3, 20 / 3600) < 0.8 <= service_level(10, 14, 3, 20 / 3600)
    assert agents_needed(200, 3, 20 / 3600, 0.8) == 14
    assert agents_needed(0, 3, 20 / 3600, 0.8) == 0


# --- forecast --------------------------------------------------------------------------

PLANTED_SEASON = [0.8, 0.8, 0.9, 1.0, 1.0, 1.1, 1.2, 1.2, 1.0, 1.0, 1.6, 0.9]  # a strong November


@pytest.fixture(scope="module")
def three_years():
    params = load_params(overrides={"tickets": 30_000, "seed": 3, "start": dt.date(2022, 1, 1),
                                    "end": dt.date(2024, 12, 31), "arrivals": {"month": PLANTED_SEASON}})
    return generate(params).tickets["created_at"]


def test_forecast_of_a_held_back_quarter(three_years):
    cut = pd.Timestamp("2024-10-01")
    forecast = forecast_volume(three_years[three_years < cut], cut)
    actual = weekly_volumes(three_years, pd.Timestamp("2025-01-01")).reindex(forecast.weeks).to_numpy()
    assert forecast.seasonal and len(forecast.weeks) == 13
    mape = float(np.mean(np.abs(actual - forecast.point) / actual))
    # Without the season: the mean of the last 13 weeks, carried forward.
    history = weekly_volumes(three_years[three_years < cut], cut)
    flat = float(np.mean(np.abs(actual - history.iloc[-13:].mean()) / actual))
    print(f"held-back quarter: MAPE {mape:.1%} (flat forecast {flat:.1%}); backtest MAPE "
          f"{forecast.backtest_mape:.1%} over {forecast.backtests} backtests")
    assert mape < 0.12  # measured 8.5 %
    assert mape < 0.6 * flat  # the season is what makes it good
    # The November peak is forecast: the week of 11 November against the first October week.
    weeks = list(forecast.weeks)
    assert forecast.point[weeks.index(pd.Timestamp("2024-11-11"))] > 1.4 * forecast.point[1]
    inside = (forecast.low <= actual) & (actual <= forecast.high)
    assert inside.mean() >= 0.6  # an 80 % range


def test_one_year_has_no_season_and_says_so(small_dataset):
    created = small_dataset.tickets["created_at"]
    forecast = forecast_volume(created, small_dataset.as_of)
    assert not forecast.seasonal and forecast.backtests > 0 and len(forecast.point) == 13
    assert forecast.history.sum() == ((created >= forecast.history.index[0])
                                      & (created < forecast.history.index[-1] + pd.Timedelta(days=7))).sum()


def test_too_little_history_gives_no_forecast():
    created = pd.Series(pd.to_datetime(["2025-01-06 10:00", "2025-01-07 11:00"]))
    forecast = forecast_volume(created, pd.Timestamp("2025-01-10"))
    assert not forecast.available and forecast.low is None


@pytest.mark.parametrize("key, value, message", [
    ("plan.service_level", "1", "plan.service_level must be between 0 and 1 (exclusive), found 1.0."),
    ("plan.handle_minutes", "0", "plan.handle_minutes must be above 0, found 0.0."),
    ("plan.forecast_weeks", "60", "plan.forecast_weeks must be between 1 and 52, found 60."),
])
def test_bad_plan_assumptions_are_refused(key, value, message):
    with pytest.raises(ParameterError) as error:
        load_template("dashboard", [f"{key}={value}"])
    assert str(error.value) == f"--set: {message}"


# --- the workbook ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def plan_workbook(tmp_path_factory):
    dataset = make_dataset(400, seed=11)
    path = tmp_path_factory.mktemp("plan") / "plan.xlsx"
    result = build_workbook(dataset, path)
    return dataset, path, result.model


def _find(ws, text):
    return next(c for row in ws.iter_rows() for c in row if c.value == text)


def _staffing_rows(ws, title):
    """{weekday: [24 values]} of the weekday x hour table under ``title``."""
    header = _find(ws, title).row + 1
    return {ws.cell(r, 1).value: [ws.cell(r, 3 + h).value for h in range(24)] for r in range(header + 1, header + 8)}


def test_plan_sheet_formulas_and_values(plan_workbook):
    dataset, path, model = plan_workbook
    book, values = load_book(path), load_book(path, data_only=True)
    sheet, cached = book["Plan"], values["Plan"]
    assert book.sheetnames.index("Plan") == book.sheetnames.index("Escalations") + 1
    # Arrivals: the test's own count of tickets by weekday and hour, per such weekday, times the factor.
    frame = model.frame
    start, end = dataset.period
    days = pd.Series(pd.date_range(start, end)).dt.day_of_week.value_counts()
    forecast_mean = model.forecast.point.mean()
    history_per_week = len(frame) / (len(pd.date_range(start, end)) / 7)
    rates = _staffing_rows(cached, "Tickets per hour")
    monday_nine = ((frame["weekday"] == "Mon") & (frame["hour"] == 9)).sum()
    assert rates["Mon"][9] == pytest.approx(monday_nine / days[0] * forecast_mean / history_per_week)
    # Agents: the textbook computation for every cell, with the mean first-response target.
    answer = frame["priority"].map(load_template().sla.first_response_hours).mean()
    agents = _staffing_rows(cached, "Agents needed")
    for day, row in rates.items():
        assert agents[day] == [textbook_agents(r, 12.0, answer, 0.8) for r in row], day
    formula = sheet.cell(_find(sheet, "Agents needed").row + 2, 3 + 9).value
    assert "_xlfn.POISSON.DIST" in formula.text and "PlanServiceLevel" in formula.text
    assert max(max(v) for v in agents.values()) >= 1


@pytest.mark.libreoffice
def test_plan_recalculates_and_follows_the_handle_time(plan_workbook, tmp_path):
    soffice_or_skip()
    dataset, path, model = plan_workbook
    comparison = compare_with_recalculated(path, recalculate(path, tmp_path / "same"))
    assert comparison.ok, comparison.summary()
    settings = load_book(path)["Settings"]
    handle = _find(settings, "Handle time per ticket (min)")
    edited = set_cell_values(path, "Settings", {f"B{handle.row}": 600}, tmp_path / "edited.xlsx")
    book = load_book(recalculate(edited, tmp_path / "out"), data_only=True)
    rates = _staffing_rows(book["Plan"], "Tickets per hour")
    agents = _staffing_rows(book["Plan"], "Agents needed")
    answer = model.staffing.answer_hours
    expected = {day: [textbook_agents(r, 600.0, answer, 0.8) for r in row] for day, row in rates.items()}
    assert agents == expected
    assert agents != _staffing_rows(load_book(path, data_only=True)["Plan"], "Agents needed")


def test_weeks_without_tickets_give_a_forecast_without_a_range():
    # Six tickets in the first week of a year, then none: every backtest forecasts nothing.
    created = pd.Series(pd.date_range("2025-01-06 09:00", periods=6, freq="h"))
    forecast = forecast_volume(created, pd.Timestamp("2026-01-01"))
    assert forecast.available and forecast.low is None and forecast.backtests == 0
    assert (forecast.point >= 0).all()


def test_settings_about_and_csv_say_the_same(plan_workbook, tmp_path):
    from supportxl.deliver.csv_reports import write_kpi_csvs

    dataset, path, model = plan_workbook
    book, values = load_book(path), load_book(path, data_only=True)
    answer = _find(book["Settings"], "Answer-time target (h)")
    assert book["Settings"].cell(answer.row, 2).value == '=IFERROR(AVERAGE(Tickets[Response target (h)]),"")'
    expected = model.frame["priority"].map(load_template().sla.first_response_hours).mean()
    assert values["Settings"].cell(answer.row, 2).value == pytest.approx(expected)
    about = [row[0].value for row in book["About"].iter_rows()]
    assert {"Forecast tickets per week", "Agents needed (Erlang C)"} <= set(about)

    write_kpi_csvs(dataset, load_template(), tmp_path, model=model)
    by_hour = pd.read_csv(tmp_path / "by_weekday_hour.csv", encoding="utf-8-sig")
    agents = _staffing_rows(values["Plan"], "Agents needed")
    assert by_hour["Agents needed"].tolist() == [agents[d][h] for d in agents for h in range(24)]
    by_week = pd.read_csv(tmp_path / "by_week.csv", encoding="utf-8-sig")
    assert by_week["Forecast"].dropna().tolist() == pytest.approx(model.forecast.point.tolist(), abs=0.005)
    recent = by_week["Tickets"].dropna().astype(int).tolist()
    created = model.frame["created_at"]
    weeks = pd.to_datetime(by_week["Week starting"][by_week["Tickets"].notna()])
    assert recent == [int(((created >= w) & (created < w + pd.Timedelta(days=7))).sum()) for w in weeks]
