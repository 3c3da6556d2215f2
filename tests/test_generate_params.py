"""Parameter loading and validation: each problem gets one exact sentence."""

from __future__ import annotations

import datetime as dt

import pytest

from supportxl.errors import ParameterError
from supportxl.generate.params import default_year, load_params
from supportxl.paths import SCENARIOS_DIR


def error_of(**kwargs) -> str:
    with pytest.raises(ParameterError) as info:
        load_params(**kwargs)
    return str(info.value)


def test_defaults():
    params = load_params(year=2025)
    assert (params.tickets, params.seed, params.accounts, params.agents) == (50_000, 42, 400, 60)
    assert (params.period_start, params.period_end) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_default_period_is_the_previous_calendar_year():
    params = load_params()
    assert params.period_start == dt.date(default_year(), 1, 1)
    assert default_year(dt.date(2026, 11, 23)) == 2025


def test_start_and_end_override_the_year():
    params = load_params(overrides={"start": "2024-03-01", "end": "2024-05-31"}, year=2020)
    assert (params.period_start, params.period_end) == (dt.date(2024, 3, 1), dt.date(2024, 5, 31))


def test_baseline_scenario_equals_the_defaults():
    assert load_params(SCENARIOS_DIR / "baseline.toml", year=2025) == load_params(year=2025)


def test_flags_override_the_scenario(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("tickets = 1000\nseed = 3\n")
    params = load_params(path, {"tickets": 20})
    assert (params.tickets, params.seed) == (20, 3)


@pytest.mark.parametrize("overrides,message", [
    ({"tickets": -5}, "tickets must be at least 1, found -5."),
    ({"accounts": 0}, "accounts must be at least 1, found 0."),
    ({"agents": 2}, "agents must be at least 3, found 2."),
    ({"start": "2025-05-01", "end": "2025-01-01"},
     "end date 2025-01-01 is before start date 2025-05-01."),
    ({"start": "2025-13-01"},
     "command-line options: start should be a date (YYYY-MM-DD), found '2025-13-01'."),
    ({"priority_mix": {"Critical": 0.5, "High": 0.2, "Medium": 0.2, "Low": 0.05}},
     "priority_mix shares sum to 0.95; they must sum to 1."),
    ({"priority_mix": {"Urgent": 1.0}},
     "priority_mix has unknown key 'Urgent' (valid keys: Critical, High, Medium, Low)."),
    ({"escalation": {"rate": 1.5}}, "escalation.rate must be a share between 0 and 1, found 1.5."),
    ({"planted": {"slow_industry": "Mining"}},
     "planted.slow_industry 'Mining' is not in industry_mix (choose from: Financial Services, "
     "Healthcare, Retail, Manufacturing, Technology, Education, Government, Logistics, Media, "
     "or \"\" for none)."),
])
def test_bad_parameters(overrides, message):
    assert error_of(overrides=overrides, year=2025) == message


def test_unknown_locale():
    from supportxl.generate import generate
    params = load_params(overrides={"locale": "xx_YY", "tickets": 1}, year=2025)
    with pytest.raises(ParameterError, match=r"^locale 'xx_YY' is not one faker knows"):
        generate(params)


def test_unknown_scenario_key_names_file_and_choices(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[escalation]\nrte = 0.2\n")
    assert error_of(scenario=path) == (
        f"{path}: unknown key 'escalation.rte' (valid keys: communications_mean, csat_bonus, "
        "issue_propensity, rate, tier2_resolution_factor, tier3_resolution_factor, tier3_share, "
        "wait_factor).")


def test_wrong_type_in_scenario(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('tickets = "many"\n')
    assert error_of(scenario=path) == f"{path}: tickets should be an integer, found 'many'."


def test_invalid_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("tickets = \n")
    assert error_of(scenario=path).startswith(f"{path}: not valid TOML (")


def test_missing_scenario(tmp_path):
    assert error_of(scenario=tmp_path / "nope.toml") == f"{tmp_path / 'nope.toml'}: no such file."
