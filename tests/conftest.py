"""Shared fixtures: generated datasets are made once per test session."""

from __future__ import annotations

import pytest

from supportxl.generate import generate, load_params

YEAR = 2025


def make_dataset(tickets: int, seed: int = 42, **overrides):
    return generate(load_params(overrides={"tickets": tickets, "seed": seed, **overrides}, year=YEAR))


@pytest.fixture(scope="session")
def year_dataset():
    """A full-size default year: 50,000 tickets, seed 42."""
    return make_dataset(50_000)


@pytest.fixture(scope="session")
def small_dataset():
    """2,000 tickets, for tests that need real data but not a full year's volume."""
    return make_dataset(2_000, seed=7)
