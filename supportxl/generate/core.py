"""Generate a realistic, seeded year of support data, vectorised with numpy.

Arrivals are an inhomogeneous Poisson process conditioned on the ticket count: given N
events, their times are independent draws from the normalised intensity, here
weekday x hour x month weights over every hour of the period.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from supportxl import __version__
from supportxl.dataset import Dataset
from supportxl.generate.events import escalation_events
from supportxl.generate.status import current_status, status_history
from supportxl.generate.params import COUNTRY_REGIONS, GeneratorParams, params_to_data
from supportxl.schema import PRIORITIES, STATUSES, TIERS
from supportxl.generate.pools import CITIES, Pools, build_pools, make_faker
from supportxl.progress import NoProgress, Progress

HOUR = np.timedelta64(3600, "s")
CLOSE_AFTER_DAYS = 4  # a solved ticket closes automatically after this many days
SEGMENTS = ("Enterprise", "Mid-Market", "SMB")
SEGMENT_REVENUE_MEDIAN = {"Enterprise": 800e6, "Mid-Market": 60e6, "SMB": 6e6}
GENERATION_STEPS = 6


def generate(params: GeneratorParams, progress: Progress | None = None) -> Dataset:
    """All four canonical tables and the manifest for ``params`` (already validated)."""
    progress = progress or NoProgress()
    # A new stream goes last: the first ones, and so every earlier draw, stay as they were.
    streams = np.random.SeedSequence(params.seed).spawn(9)
    (rng_accounts, rng_agents, rng_arrivals, rng_mix, rng_times, rng_quality, rng_events, rng_pools,
     rng_status) = (np.random.default_rng(s) for s in streams)
    issue_types = list(params.issue_mix)
    fake = make_faker(params.locale, params.seed)
    pools = build_pools(fake, rng_pools, accounts=params.accounts,
                        contacts_per_account=params.contacts_per_account, agents=params.agents,
                        issue_types=issue_types)
    progress.step("Drawing name pools")

    accounts, account_weight = _accounts(params, pools, rng_accounts)
    agents, agent_tier, agent_speed, agent_quality, agent_load = _agents(params, pools, rng_agents)
    progress.step("Accounts and agents")

    start = np.datetime64(params.period_start, "s")
    as_of = np.datetime64(params.period_end + dt.timedelta(days=1), "s")
    created = arrival_times(rng_arrivals, params, start, as_of)
    n = len(created)
    progress.step("Arrivals")

    priority = _draw(rng_mix, params.priority_mix, n)
    channel = _draw(rng_mix, params.channel_mix, n)
    issue = _draw(rng_mix, params.issue_mix, n)
    account = rng_mix.choice(len(account_weight), size=n, p=account_weight)
    contact = account * params.contacts_per_account + rng_mix.integers(0, params.contacts_per_account, n)
    subject = pools.subjects[issue, rng_mix.integers(0, pools.subjects.shape[1], n)]

    priority_names = np.array(list(params.priority_mix), dtype=object)
    channel_names = np.array(list(params.channel_mix), dtype=object)
    issue_names = np.array(issue_types, dtype=object)
    industry_of_account = accounts["industry"].to_numpy(dtype=object)

    esc = params.escalation
    propensity = _lookup(esc.issue_propensity, issue_names, default=1.0)[issue]
    escalate_p = np.clip(esc.rate * propensity / propensity.mean(), 0, 0.95) if esc.rate > 0 else np.zeros(n)
    escalated = rng_mix.random(n) < escalate_p
    tier = np.where(escalated, np.where(rng_mix.random(n) < esc.tier3_share, 2, 1), 0)
    agent = _assign_agents(rng_mix, tier, agent_tier, agent_load)
    progress.step("Ticket attributes")

    d = params.durations
    frt_median = (_lookup(d.first_response_median_hours, priority_names)[priority]
                  * _lookup(d.channel_response_factor, channel_names, default=1.0)[channel]
                  * agent_speed[agent])
    frt_hours = frt_median * np.exp(d.first_response_sigma * rng_times.standard_normal(n))
    industry_factor = np.array([params.planted.slow_industry_factor
                                if ind == params.planted.slow_industry else 1.0
                                for ind in industry_of_account])[account]
    tier_factor = np.array([1.0, esc.tier2_resolution_factor, esc.tier3_resolution_factor])
    tier_factor = 1.0 + (tier_factor - 1.0) * esc.wait_factor
    body_median = (_lookup(d.resolution_median_hours, priority_names)[priority]
                   * _lookup(d.channel_resolution_factor, channel_names, default=1.0)[channel]
                   * _lookup(d.issue_factor, issue_names, default=1.0)[issue]
                   * industry_factor * agent_speed[agent] * tier_factor[tier])
    body_hours = body_median * np.exp(d.resolution_sigma * rng_times.standard_normal(n))
    quick = (rng_times.random(n) < d.quick_fix_share) & ~escalated
    # Stalled tickets wait on the customer or on engineering for days: they make the backlog age.
    stalled = ~quick & (rng_times.random(n) < d.stalled_share)
    stall_hours = 24 * d.stalled_median_days * np.exp(rng_times.standard_normal(n))
    body_hours = body_hours + np.where(stalled, stall_hours, 0.0)
    body_hours = np.where(quick, rng_times.uniform(2, d.quick_fix_max_minutes, n) / 60, body_hours)

    q = params.quality
    reopened = rng_quality.random(n) < q.reopen_rate
    reopen_count = np.where(reopened, 1 + (rng_quality.random(n) < 0.15), 0)
    reopen_hours = np.where(reopened, 24 * np.exp(0.8 * rng_quality.standard_normal(n)), 0.0)
    total_hours = frt_hours + body_hours + reopen_hours

    first_response = created + _hours(frt_hours)
    latent_resolved = created + _hours(total_hours)
    responded = first_response <= as_of
    resolved = latent_resolved <= as_of
    progress.step("Response and resolution times")

    reopen_count = np.where(resolved, reopen_count, 0)
    breached = ((frt_hours > _lookup(params.sla.first_response_hours, priority_names)[priority])
                | (total_hours > _lookup(params.sla.resolution_hours, priority_names)[priority]))
    low_csat_agent = params.planted.low_csat_agent - 1
    good_p = (q.csat_good_rate + agent_quality[agent]
              - q.breach_penalty * breached - q.reopen_penalty * (reopen_count > 0)
              - (q.escalation_penalty - esc.csat_bonus) * escalated
              - np.where(agent == low_csat_agent, params.planted.low_csat_penalty, 0.0))
    rated = resolved & (rng_quality.random(n) < q.csat_response_rate)
    good = rng_quality.random(n) < np.clip(good_p, 0.02, 0.99)
    good_score = np.where(rng_quality.random(n) < 0.62, 5, 4)
    bad_score = rng_quality.choice([1, 2, 3], size=n, p=[0.3, 0.3, 0.4])
    csat = pd.array(np.where(good, good_score, bad_score), dtype="Int64")
    csat[~rated] = pd.NA

    replies_mean = 0.6 + 0.35 * np.log1p(body_hours) + 1.5 * escalated + reopen_count
    replies = np.where(quick, 1, 1 + rng_quality.poisson(replies_mean))
    replies = np.where(resolved, replies, np.where(responded, np.maximum(1, replies // 2), 0))

    tier_names = np.array(TIERS, dtype=object)
    ticket_ids = np.arange(100_001, 100_001 + n)
    changes = status_history(
        rng_status, ticket_ids=ticket_ids, created=created, frt_hours=frt_hours, body_hours=body_hours,
        reopen_hours=reopen_hours, reopened=reopened, quick=quick, stalled=stalled,
        stall_hours=stall_hours, long_hold=tier_names[tier] == params.planted.long_hold_team,
        long_hold_share=params.planted.long_hold_share, as_of=as_of)
    recently_solved = latent_resolved > as_of - np.timedelta64(CLOSE_AFTER_DAYS, "D")
    waiting = np.isin(current_status(changes, ticket_ids), ("Pending", "On-hold"))
    # Indices into STATUSES (Open, Pending, Resolved, Closed): numbers are cheaper than strings.
    status = np.where(resolved, np.where(recently_solved, 2, 3), np.where(waiting, 1, 0))
    tickets = pd.DataFrame({
        "ticket_id": ticket_ids,
        "created_at": created,
        "first_response_at": np.where(responded, first_response, np.datetime64("NaT", "ns")),
        "resolved_at": np.where(resolved, latent_resolved, np.datetime64("NaT", "ns")),
        "status": np.array(STATUSES, dtype=object)[status],
        "priority": priority_names[priority],
        "channel": channel_names[channel],
        "issue_type": issue_names[issue],
        "team": tier_names[tier],
        "agent": pools.agent_names[agent],
        "account_id": accounts["account_id"].to_numpy(dtype=object)[account],
        "requester_name": pools.contact_names[contact],
        "requester_email": pools.contact_emails[contact],
        "subject": subject,
        "csat": csat,
        "escalated": escalated,
        "escalation_tier": tier_names[tier],
        "reopen_count": reopen_count.astype(np.int64),
        "agent_replies": replies.astype(np.int64),
    })
    for column in ("created_at", "first_response_at", "resolved_at"):
        tickets[column] = tickets[column].astype("datetime64[ns]")
    progress.step("Satisfaction, reopens and status")

    events = escalation_events(
        rng_events, ticket_ids=ticket_ids[escalated], tier=tier[escalated],
        priority=priority_names[priority][escalated], created=created[escalated],
        first_response=first_response[escalated], resolved=latent_resolved[escalated],
        as_of=as_of, communications_mean=esc.communications_mean,
    )
    progress.step("Escalation log")

    manifest = {
        "source": "generator",
        "supportxl_version": __version__,
        "seed": params.seed,
        "parameters": params_to_data(params),
        "period": {"start": params.period_start.isoformat(), "end": params.period_end.isoformat(),
                   "as_of": str(as_of).replace("T", " ")},
        "planted_effects": _planted_effects(params, pools),
        "missing_fields": [],  # the generator fills every canonical field
        "rows": {"tickets": n, "accounts": len(accounts), "agents": len(agents),
                 "escalation_events": len(events), "status_changes": len(changes)},
    }
    return Dataset(tickets=tickets, accounts=accounts, agents=agents,
                   escalation_events=events, manifest=manifest, status_changes=changes)


def arrival_times(rng: np.random.Generator, params: GeneratorParams,
                  start: np.datetime64, end: np.datetime64) -> np.ndarray:
    """Sorted creation times (datetime64[s]) of ``params.tickets`` tickets in [start, end)."""
    hours = np.arange(start.astype("datetime64[h]"), end.astype("datetime64[h]"))
    days = hours.astype("datetime64[D]").astype(np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    hour = hours.astype(np.int64) % 24
    month = hours.astype("datetime64[M]").astype(np.int64) % 12
    a = params.arrivals
    intensity = (np.asarray(a.weekday)[weekday] * np.asarray(a.hour)[hour]
                 * np.asarray(a.month)[month])
    if intensity.sum() <= 0:  # weights that exclude every hour of this period: fall back to flat
        intensity = np.ones(len(hours))
    counts = rng.multinomial(params.tickets, intensity / intensity.sum())
    slots = np.repeat(hours.astype("datetime64[s]"), counts)
    seconds = rng.integers(0, 3600, params.tickets).astype("timedelta64[s]")
    return np.sort(slots + seconds)


def _accounts(params: GeneratorParams, pools: Pools, rng: np.random.Generator):
    n = params.accounts
    # Pareto-shaped volume: weight ~ rank^-alpha, ranks shuffled over the accounts.
    weight = np.arange(1, n + 1, dtype=float) ** -params.account_concentration
    weight /= weight.sum()
    rank = rng.permutation(n)
    weight_by_account = weight[rank]
    segment = np.where(rank < max(1, round(n * 0.1)), 0, np.where(rank < round(n * 0.4), 1, 2))
    segment_names = np.array(SEGMENTS, dtype=object)[segment]
    revenue_median = np.array([SEGMENT_REVENUE_MEDIAN[s] for s in segment_names])
    revenue = np.round(revenue_median * np.exp(0.6 * rng.standard_normal(n)), -3)
    industry = np.array(list(params.industry_mix), dtype=object)[_draw(rng, params.industry_mix, n)]
    country = np.array(list(params.country_mix), dtype=object)[_draw(rng, params.country_mix, n)]
    accounts = pd.DataFrame({
        "account_id": [f"AC-{i + 1:04d}" for i in range(n)],
        "name": pools.company_names,
        "industry": industry,
        "country": country,
        "region": [COUNTRY_REGIONS.get(c, "Other") for c in country],
        "segment": segment_names,
        "annual_revenue": revenue.astype(np.int64),
    })
    return accounts, weight_by_account


def _agents(params: GeneratorParams, pools: Pools, rng: np.random.Generator):
    n = params.agents
    shares = np.array([params.tier_mix[t] for t in TIERS])
    per_tier = np.maximum(1, np.floor(shares / shares.sum() * n).astype(int))
    per_tier[0] += n - per_tier.sum()  # the remainder goes to the front line
    tier = np.repeat(np.arange(len(TIERS)), per_tier)
    speed = np.exp(params.durations.agent_speed_sigma * rng.standard_normal(n))
    quality = params.quality.agent_quality_sigma * rng.standard_normal(n)
    load = np.exp(0.35 * rng.standard_normal(n))
    hire_days = rng.integers(30, 6 * 365, n)
    start = np.datetime64(params.period_start, "D")
    agents = pd.DataFrame({
        "agent_id": [f"AG-{i + 1:03d}" for i in range(n)],
        "name": pools.agent_names,
        "team": np.array(TIERS, dtype=object)[tier],
        "location": np.array(CITIES, dtype=object)[rng.integers(0, len(CITIES), n)],
        "hire_date": (start - hire_days.astype("timedelta64[D]")).astype("datetime64[ns]"),
    })
    return agents, tier, speed, quality, load


def _assign_agents(rng: np.random.Generator, tier: np.ndarray, agent_tier: np.ndarray,
                   agent_load: np.ndarray) -> np.ndarray:
    agent = np.empty(len(tier), dtype=np.int64)
    for t in range(len(TIERS)):
        members = np.flatnonzero(agent_tier == t)
        rows = np.flatnonzero(tier == t)
        weights = agent_load[members] / agent_load[members].sum()
        agent[rows] = members[rng.choice(len(members), size=len(rows), p=weights)]
    return agent


def _draw(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    """Indices into ``mix`` drawn with its shares."""
    shares = np.array(list(mix.values()), dtype=float)
    return rng.choice(len(shares), size=n, p=shares / shares.sum())


def _lookup(table: dict[str, float], names: np.ndarray, default: float | None = None) -> np.ndarray:
    return np.array([table[name] if default is None else table.get(name, default) for name in names],
                    dtype=float)


def _hours(hours: np.ndarray) -> np.ndarray:
    return np.round(hours * 3600).astype("timedelta64[s]")


def _planted_effects(params: GeneratorParams, pools: Pools) -> dict[str, object]:
    planted = params.planted
    month_weights = params.arrivals.month
    effects: dict[str, object] = {
        "peak_month": int(np.argmax(month_weights)) + 1,
    }
    if planted.slow_industry:
        effects["slow_industry"] = planted.slow_industry
        effects["slow_industry_factor"] = planted.slow_industry_factor
    if 0 < planted.low_csat_agent <= params.agents:
        effects["low_csat_agent"] = str(pools.agent_names[planted.low_csat_agent - 1])
        effects["low_csat_agent_id"] = f"AG-{planted.low_csat_agent:03d}"
    if planted.long_hold_team:
        effects["long_hold_team"] = planted.long_hold_team
    return effects


__all__ = ["generate", "arrival_times", "PRIORITIES"]
