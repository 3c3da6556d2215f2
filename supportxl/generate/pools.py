"""Pools of names, companies and subject lines, drawn once with faker.

Rows are later drawn from these pools with numpy; faker is never called per ticket. Faker
calls cost tens of microseconds each, so the pools are built with as few as possible:
contact names pair first and last names from two small faker pools (numpy draws the pairs),
and a subject template asks faker only for the fields it uses.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass

import numpy as np
from faker import Faker

from supportxl.errors import ParameterError

# Subject templates per issue type; fields are filled from faker when the pool is built.
SUBJECT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Billing": ("Invoice {num} shows the wrong amount", "Charged twice for {month} subscription",
                "Question about VAT on invoice {num}", "Billing address on account is wrong",
                "Unexpected charge of {amount}", "Need a copy of invoice {num}"),
    "Login": ("Cannot log in after password reset", "Two-factor code not arriving",
              "Account locked for {name}", "SSO login fails with error {code}",
              "Password reset link expired", "Session keeps timing out"),
    "Data Import": ("CSV import fails at row {num}", "Imported {word} records are missing",
                    "Import stuck at {pct}%", "Date column parsed wrongly on import",
                    "Duplicate records after import", "Excel upload rejected"),
    "API": ("API returns {code} on /{word} endpoint", "Rate limit reached unexpectedly",
            "Webhook not firing for {word} events", "API token rejected",
            "Pagination skips records on /{word}", "Timeout calling the {word} API"),
    "UI Bug": ("Button on {word} page does nothing", "Dashboard widgets overlap on {word} view",
               "Dropdown empty on {word} form", "Page freezes when opening {word}",
               "Wrong translation on {word} screen", "Chart labels cut off"),
    "Feature Request": ("Please add export to {word}", "Request: bulk edit for {word}",
                        "Dark mode for the {word} view", "Allow custom fields on {word}",
                        "Scheduled {word} reports", "Integration with {company}"),
    "Report Generation": ("Monthly report is empty for {month}", "Report totals do not match",
                          "PDF report missing {word} section", "Scheduled report not delivered",
                          "Report takes too long to generate", "Filters ignored in {word} report"),
    "Refund": ("Refund request for order {num}", "Refund of {amount} not received",
               "Cancel and refund {month} renewal", "Partial refund for {word} plan",
               "Where is my refund?", "Refund issued to the wrong card"),
    "Card Block": ("Card blocked after payment to {company}", "Please block lost card ending {last4}",
                   "Card declined abroad", "Unblock card ending {last4}",
                   "Suspicious transaction on card {last4}", "Card frozen without notice"),
    "Limit Change": ("Increase card limit to {amount}", "Raise API limit for {word}",
                     "Temporary limit increase for {month}", "Lower daily spending limit",
                     "Seat limit reached on plan", "Change transfer limit"),
    "Technical": ("Sync with {company} stopped", "Error {code} when saving {word}",
                  "Performance degraded since {month}", "Mobile app crashes on start",
                  "Notifications not sent", "Data not refreshing on {word} page"),
}
GENERIC_TEMPLATES = ("Question about {word}", "Problem with {word}", "Help needed: {word}",
                     "Issue with {company} account", "Follow-up on ticket {num}", "{word} not working")

CITIES = ("Austin", "Dublin", "Lisbon", "Manila", "Krakow", "Toronto", "Bangalore", "Sydney")
SUBJECTS_PER_TYPE = 48
NAME_POOL = 300  # first names and last names drawn from faker for the contacts (each)


@dataclass(frozen=True)
class Pools:
    company_names: np.ndarray  # one per account
    company_domains: np.ndarray
    contact_names: np.ndarray  # accounts x contacts, flattened
    contact_emails: np.ndarray
    agent_names: np.ndarray
    subjects: np.ndarray  # issue types x SUBJECTS_PER_TYPE


def make_faker(locale: str, seed: int) -> Faker:
    try:
        fake = Faker(locale)
    except AttributeError:
        raise ParameterError(
            f"locale '{locale}' is not one faker knows (for example en_US, en_GB, de_DE, fr_FR)."
        ) from None
    fake.seed_instance(seed)
    return fake


def build_pools(fake: Faker, rng: np.random.Generator, *, accounts: int, contacts_per_account: int,
                agents: int, issue_types: list[str]) -> Pools:
    """Faker supplies every name, company and subject; ``rng`` pairs first and last names."""
    companies = _unique([fake.company() for _ in range(accounts)])
    domains = _unique([_slug(name) or f"account{i + 1}" for i, name in enumerate(companies)],
                      pattern="{}{}")
    domains = np.array([f"{d}.example" for d in domains], dtype=object)

    contacts = accounts * contacts_per_account
    pool = min(contacts, NAME_POOL)
    first_pool = [fake.first_name() for _ in range(pool)]
    last_pool = [fake.last_name() for _ in range(pool)]
    first = rng.integers(0, pool, contacts)
    last = rng.integers(0, pool, contacts)
    names = (np.array([f + " " for f in first_pool], dtype=object)[first]
             + np.array(last_pool, dtype=object)[last])
    first_slug = np.array([_slug(f) for f in first_pool], dtype=object)[first]
    last_slug = np.array([_slug(l) for l in last_pool], dtype=object)[last]
    locals_ = np.where((first_slug != "") & (last_slug != ""), first_slug + "." + last_slug,
                       first_slug + last_slug)
    for i in np.flatnonzero(locals_ == "").tolist():  # names with no ASCII letters or digits
        locals_[i] = f"contact{i + 1}"
    emails = locals_ + "@" + domains[np.arange(contacts) // contacts_per_account]

    agent_names = _unique([fake.name() for _ in range(agents)])
    subjects = [[_fill(fake, template) for template in _templates_for(issue, SUBJECTS_PER_TYPE, fake)]
                for issue in issue_types]
    return Pools(
        company_names=np.array(companies, dtype=object),
        company_domains=domains,
        contact_names=names,
        contact_emails=emails,
        agent_names=np.array(agent_names, dtype=object),
        subjects=np.array(subjects, dtype=object),
    )


def _templates_for(issue: str, count: int, fake: Faker) -> list[str]:
    templates = SUBJECT_TEMPLATES.get(issue, GENERIC_TEMPLATES)
    return [templates[fake.random_int(0, len(templates) - 1)] for _ in range(count)]


# Month names for subjects. Faker's month_name() draws a date up to *now* and formats it with
# the machine's locale and time zone, so the same seed would give other subjects another day.
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")

# How each placeholder of a subject template is filled.
FIELDS = {
    "num": lambda fake: fake.random_int(10_000, 99_999),
    "month": lambda fake: fake.random_element(MONTH_NAMES),
    "amount": lambda fake: f"${fake.random_int(20, 5_000):,}",
    "name": lambda fake: fake.user_name(),
    "code": lambda fake: fake.random_element((400, 401, 403, 404, 409, 422, 429, 500, 502, 503)),
    "word": lambda fake: fake.word(),
    "pct": lambda fake: fake.random_int(5, 95),
    "company": lambda fake: fake.company(),
    "last4": lambda fake: f"{fake.random_int(0, 9999):04d}",
}


def _fill(fake: Faker, template: str) -> str:
    """The template with its placeholders (and only those) filled from faker."""
    return template.format(**{field: FIELDS[field](fake) for field in _fields(template)})


def _fields(template: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(field for _, field, _, _ in string.Formatter().parse(template) if field))


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower())


def _unique(values: list[str], pattern: str = "{} ({})") -> list[str]:
    """Make repeated names distinct by numbering the repeats: 'Acme', 'Acme (2)'."""
    seen: dict[str, int] = {}
    result = []
    for value in values:
        seen[value] = seen.get(value, 0) + 1
        result.append(value if seen[value] == 1 else pattern.format(value, seen[value]))
    return result
