"""Generator parameters: defaults, scenario files, command-line overrides and validation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supportxl.config import from_data, merge, read_toml, to_data
from supportxl.errors import ParameterError
from supportxl.schema import PRIORITIES, TIERS, SlaPolicy

# Countries the generator knows, with the reporting region each belongs to.
COUNTRY_REGIONS = {
    "United States": "North America", "Canada": "North America",
    "United Kingdom": "EMEA", "Germany": "EMEA", "France": "EMEA", "Netherlands": "EMEA",
    "Spain": "EMEA", "Sweden": "EMEA", "South Africa": "EMEA",
    "India": "APAC", "Australia": "APAC", "Japan": "APAC", "Singapore": "APAC",
    "Brazil": "LATAM", "Mexico": "LATAM",
}


def _shares(**kwargs: float) -> dict[str, float]:
    return dict(kwargs)


@dataclass(frozen=True)
class Arrivals:
    """Relative arrival intensity by weekday (Mon..Sun), hour of day (0..23) and month (Jan..Dec)."""

    weekday: tuple[float, ...] = (0.24, 0.20, 0.19, 0.18, 0.14, 0.025, 0.025)
    hour: tuple[float, ...] = (
        1.0, 0.8, 0.7, 0.7, 0.8, 1.1, 2.0, 4.0, 8.0, 9.5, 9.5, 8.5,
        5.0, 6.5, 7.5, 7.5, 7.0, 5.0, 3.0, 2.0, 1.5, 1.2, 1.1, 1.0,
    )
    month: tuple[float, ...] = (1.0, 0.96, 1.0, 0.95, 0.95, 0.9, 0.85, 0.9, 1.05, 1.1, 1.4, 1.0)


@dataclass(frozen=True)
class Durations:
    """First response and resolution: a quick-fix share plus a log-normal body."""

    quick_fix_share: float = 0.25
    quick_fix_max_minutes: float = 45.0
    first_response_median_hours: dict[str, float] = field(default_factory=lambda: _shares(
        Critical=0.25, High=0.75, Medium=2.0, Low=4.0))
    resolution_median_hours: dict[str, float] = field(default_factory=lambda: _shares(
        Critical=1.5, High=4.5, Medium=9.0, Low=18.0))
    first_response_sigma: float = 0.9
    resolution_sigma: float = 1.0
    channel_response_factor: dict[str, float] = field(default_factory=lambda: _shares(
        Email=1.3, Web=1.1, Chat=0.15, Phone=0.1, Social=1.6))
    channel_resolution_factor: dict[str, float] = field(default_factory=lambda: _shares(
        Email=1.15, Web=1.0, Chat=0.7, Phone=0.65, Social=1.25))
    issue_factor: dict[str, float] = field(default_factory=lambda: _shares(**{
        "Billing": 0.8, "Login": 0.45, "Data Import": 1.5, "API": 1.4, "UI Bug": 1.6,
        "Feature Request": 2.4, "Report Generation": 1.1, "Refund": 1.0, "Card Block": 0.35,
        "Limit Change": 0.6, "Technical": 1.3}))
    agent_speed_sigma: float = 0.2
    stalled_share: float = 0.04
    stalled_median_days: float = 10.0


@dataclass(frozen=True)
class Escalation:
    """Escalations from Tier 1 to Tier 2 and Tier 3, and the activity log they leave."""

    rate: float = 0.18
    tier3_share: float = 0.3
    issue_propensity: dict[str, float] = field(default_factory=lambda: _shares(**{
        "Billing": 0.6, "Login": 0.4, "Data Import": 1.6, "API": 1.9, "UI Bug": 1.4,
        "Feature Request": 1.2, "Report Generation": 1.0, "Refund": 0.8, "Card Block": 0.5,
        "Limit Change": 0.7, "Technical": 1.8}))
    tier2_resolution_factor: float = 2.0
    tier3_resolution_factor: float = 3.5
    wait_factor: float = 1.0
    communications_mean: float = 2.0
    csat_bonus: float = 0.0


@dataclass(frozen=True)
class Quality:
    """Reopens and customer satisfaction."""

    reopen_rate: float = 0.03
    csat_response_rate: float = 0.2
    csat_good_rate: float = 0.95
    breach_penalty: float = 0.2
    reopen_penalty: float = 0.3
    escalation_penalty: float = 0.05
    agent_quality_sigma: float = 0.03


@dataclass(frozen=True)
class Planted:
    """Effects a good dashboard should reveal. An empty industry or agent 0 turns one off;
    an agent number beyond the team's size plants nothing."""

    slow_industry: str = "Healthcare"
    slow_industry_factor: float = 1.8
    low_csat_agent: int = 7
    low_csat_penalty: float = 0.3
    long_hold_team: str = "Tier 2"  # puts many tickets on hold for most of their handling
    long_hold_share: float = 0.5


@dataclass(frozen=True)
class GeneratorParams:
    """Everything that shapes a generated year. Same parameters and seed, same files."""

    name: str = "baseline"
    description: str = "A typical support year: Monday-heavy weekdays, a November peak, 18 % escalations."
    tickets: int = 50_000
    seed: int = 42
    start: dt.date | None = None
    end: dt.date | None = None
    accounts: int = 400
    agents: int = 60
    locale: str = "en_US"
    account_concentration: float = 0.85
    contacts_per_account: int = 6
    priority_mix: dict[str, float] = field(default_factory=lambda: _shares(
        Critical=0.05, High=0.2, Medium=0.45, Low=0.3))
    channel_mix: dict[str, float] = field(default_factory=lambda: _shares(
        Email=0.38, Web=0.27, Chat=0.2, Phone=0.12, Social=0.03))
    issue_mix: dict[str, float] = field(default_factory=lambda: _shares(**{
        "Billing": 0.14, "Login": 0.13, "Data Import": 0.08, "API": 0.08, "UI Bug": 0.1,
        "Feature Request": 0.06, "Report Generation": 0.08, "Refund": 0.07, "Card Block": 0.09,
        "Limit Change": 0.07, "Technical": 0.1}))
    industry_mix: dict[str, float] = field(default_factory=lambda: _shares(**{
        "Financial Services": 0.18, "Healthcare": 0.12, "Retail": 0.14, "Manufacturing": 0.12,
        "Technology": 0.16, "Education": 0.08, "Government": 0.06, "Logistics": 0.08,
        "Media": 0.06}))
    country_mix: dict[str, float] = field(default_factory=lambda: _shares(**{
        "United States": 0.34, "Canada": 0.05, "United Kingdom": 0.1, "Germany": 0.08,
        "France": 0.06, "Netherlands": 0.04, "Spain": 0.03, "Sweden": 0.02, "South Africa": 0.02,
        "India": 0.07, "Australia": 0.05, "Japan": 0.04, "Singapore": 0.03, "Brazil": 0.04,
        "Mexico": 0.03}))
    tier_mix: dict[str, float] = field(default_factory=lambda: _shares(**{
        "Tier 1": 0.6, "Tier 2": 0.28, "Tier 3": 0.12}))
    arrivals: Arrivals = field(default_factory=Arrivals)
    durations: Durations = field(default_factory=Durations)
    escalation: Escalation = field(default_factory=Escalation)
    quality: Quality = field(default_factory=Quality)
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    planted: Planted = field(default_factory=Planted)

    @property
    def period_start(self) -> dt.date:
        assert self.start is not None, "call resolve_params() first"
        return self.start

    @property
    def period_end(self) -> dt.date:
        assert self.end is not None, "call resolve_params() first"
        return self.end


def default_year(today: dt.date | None = None) -> int:
    """The previous calendar year (by today's date in UTC, not the machine's zone): the usual
    period of an annual report."""
    return (today or dt.datetime.now(dt.timezone.utc).date()).year - 1


def load_params(
    scenario: Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    year: int | None = None,
) -> GeneratorParams:
    """Defaults, then the scenario file, then explicit overrides; resolved and validated.

    ``year`` sets the period to that calendar year unless start/end are given explicitly.
    """
    data: dict[str, Any] = {}
    source = "parameters"
    if scenario is not None:
        data = read_toml(Path(scenario))
        source = str(scenario)
    # Check the scenario on its own first, so its errors name the file.
    from_data(GeneratorParams, data, source=source)
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    if overrides:
        from_data(GeneratorParams, overrides, source="command-line options")
    params = from_data(GeneratorParams, merge(data, overrides), source=source)
    params = resolve_params(params, year=year)
    validate_params(params)
    return params


def resolve_params(params: GeneratorParams, *, year: int | None = None) -> GeneratorParams:
    """Fill in the period: explicit start/end win, then ``year``, then the previous calendar year."""
    if year is not None and not 1900 <= year <= 9998:
        raise ParameterError(f"year must be between 1900 and 9998, found {year}.")
    if year is not None:
        y = year
    elif params.start or params.end:
        y = (params.start or params.end).year
    else:
        y = default_year()
    start = params.start or dt.date(y, 1, 1)
    end = params.end or dt.date(y, 12, 31)
    return dataclasses.replace(params, start=start, end=end)


def validate_params(params: GeneratorParams) -> None:
    """Raise ParameterError with one clear sentence for the first problem found."""
    for name, minimum in (("tickets", 1), ("accounts", 1), ("agents", len(TIERS)),
                          ("contacts_per_account", 1)):
        value = getattr(params, name)
        if value < minimum:
            raise ParameterError(f"{name} must be at least {minimum}, found {value}.")
    for name, maximum, reason in MAXIMA:
        value = getattr(params, name)
        if value > maximum:
            raise ParameterError(f"{name} must be at most {maximum:,}, found {value:,} ({reason}).")
    if params.seed < 0:
        raise ParameterError(f"seed must be zero or positive, found {params.seed}.")
    if params.period_end < params.period_start:
        raise ParameterError(
            f"end date {params.period_end} is before start date {params.period_start}."
        )
    if params.account_concentration < 0:
        raise ParameterError(
            f"account_concentration must be zero or positive, found {params.account_concentration}."
        )
    for mix_name in ("priority_mix", "channel_mix", "issue_mix", "industry_mix",
                     "country_mix", "tier_mix"):
        _check_mix(mix_name, getattr(params, mix_name))
    _check_keys("priority_mix", params.priority_mix, PRIORITIES)
    _check_keys("tier_mix", params.tier_mix, TIERS)
    if min(params.tier_mix.get(t, 0.0) for t in TIERS) <= 0:
        raise ParameterError("tier_mix must give every tier (Tier 1, Tier 2, Tier 3) a share above 0.")
    for name, weights, length in (("arrivals.weekday", params.arrivals.weekday, 7),
                                  ("arrivals.hour", params.arrivals.hour, 24),
                                  ("arrivals.month", params.arrivals.month, 12)):
        if len(weights) != length:
            raise ParameterError(f"{name} needs {length} weights, found {len(weights)}.")
        if min(weights) < 0 or sum(weights) <= 0:
            raise ParameterError(f"{name} weights must be zero or positive and not all zero.")
    d, e, q = params.durations, params.escalation, params.quality
    for name, value in (("durations.quick_fix_share", d.quick_fix_share),
                        ("durations.stalled_share", d.stalled_share),
                        ("escalation.rate", e.rate), ("escalation.tier3_share", e.tier3_share),
                        ("quality.reopen_rate", q.reopen_rate),
                        ("quality.csat_response_rate", q.csat_response_rate),
                        ("quality.csat_good_rate", q.csat_good_rate)):
        _check_share(name, value)
    for name, table in (("durations.first_response_median_hours", d.first_response_median_hours),
                        ("durations.resolution_median_hours", d.resolution_median_hours),
                        ("sla.first_response_hours", params.sla.first_response_hours),
                        ("sla.resolution_hours", params.sla.resolution_hours)):
        _check_keys(name, table, PRIORITIES, require_all=True)
        _check_positive(name, table)
    for name, table in (("durations.channel_response_factor", d.channel_response_factor),
                        ("durations.channel_resolution_factor", d.channel_resolution_factor),
                        ("durations.issue_factor", d.issue_factor),
                        ("escalation.issue_propensity", e.issue_propensity)):
        _check_positive(name, table)
    for name, value in (("durations.quick_fix_max_minutes", d.quick_fix_max_minutes),
                        ("durations.first_response_sigma", d.first_response_sigma),
                        ("durations.resolution_sigma", d.resolution_sigma),
                        ("durations.stalled_median_days", d.stalled_median_days),
                        ("escalation.tier2_resolution_factor", e.tier2_resolution_factor),
                        ("escalation.tier3_resolution_factor", e.tier3_resolution_factor),
                        ("escalation.wait_factor", e.wait_factor),
                        ("planted.slow_industry_factor", params.planted.slow_industry_factor)):
        if not value > 0:
            raise ParameterError(f"{name} must be above 0, found {value}.")
    for name, value in (("durations.agent_speed_sigma", d.agent_speed_sigma),
                        ("escalation.communications_mean", e.communications_mean),
                        ("quality.agent_quality_sigma", q.agent_quality_sigma)):
        if value < 0:
            raise ParameterError(f"{name} must be zero or positive, found {value}.")
    planted = params.planted
    if planted.slow_industry and planted.slow_industry not in params.industry_mix:
        raise ParameterError(
            f"planted.slow_industry '{planted.slow_industry}' is not in industry_mix "
            f"(choose from: {', '.join(params.industry_mix)}, or \"\" for none)."
        )
    if planted.low_csat_agent < 0:
        raise ParameterError(
            f"planted.low_csat_agent must be an agent number (or 0 for none), "
            f"found {planted.low_csat_agent}."
        )
    if planted.long_hold_team and planted.long_hold_team not in TIERS:
        raise ParameterError(
            f"planted.long_hold_team '{planted.long_hold_team}' is not a team "
            f"(choose from: {', '.join(TIERS)}, or \"\" for none)."
        )
    _check_share("planted.long_hold_share", planted.long_hold_share)


# Upper bounds, so that a typo cannot make the generator run for hours.
MAXIMA = (
    ("tickets", 20_000_000, "20 times the largest year the benchmarks time"),
    ("accounts", 20_000, "each account is given a company name and contacts one by one; a year of "
                         "tickets rarely comes from more"),
    ("agents", 2_000, "each agent is named one by one and gets a row on Agent Performance"),
    ("contacts_per_account", 1_000, "each contact is named one by one"),
)


def _check_mix(name: str, mix: dict[str, float]) -> None:
    if not mix:
        raise ParameterError(f"{name} must name at least one value.")
    for key, share in mix.items():
        _check_share(f"{name}.{key}", share)
    total = sum(mix.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ParameterError(f"{name} shares sum to {total:.6g}; they must sum to 1.")


def _check_share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ParameterError(f"{name} must be a share between 0 and 1, found {value}.")


def _check_keys(name: str, table: dict[str, float], allowed: tuple[str, ...],
                require_all: bool = False) -> None:
    unknown = [k for k in table if k not in allowed]
    if unknown:
        raise ParameterError(
            f"{name} has unknown key '{unknown[0]}' (valid keys: {', '.join(allowed)})."
        )
    missing = [k for k in allowed if k not in table]
    if require_all and missing:
        raise ParameterError(f"{name} is missing '{missing[0]}' (it needs: {', '.join(allowed)}).")


def _check_positive(name: str, table: dict[str, float]) -> None:
    for key, value in table.items():
        if not value > 0:
            raise ParameterError(f"{name}.{key} must be above 0, found {value}.")


def params_to_data(params: GeneratorParams) -> dict[str, Any]:
    """Plain data for the manifest: every parameter, the period spelled out."""
    return to_data(params)
