"""Shared fixtures: generated datasets are made once per test session."""

from __future__ import annotations

import warnings

import openpyxl
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


@pytest.fixture(scope="session")
def small_workbook(small_dataset, tmp_path_factory):
    """The default workbook of the 2,000-ticket dataset."""
    from supportxl.workbook.builder import build_workbook

    path = tmp_path_factory.mktemp("small") / "small.xlsx"
    build_workbook(small_dataset, path)
    return path


def soffice_or_skip():
    from supportxl.verify import find_soffice

    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install -y libreoffice-calc-nogui")


def load_book(path, data_only=False):
    """A workbook read with openpyxl, without its notes about extensions it does not read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path, data_only=data_only)


@pytest.fixture(scope="session")
def book(small_workbook):
    """The small workbook's formulas."""
    return load_book(small_workbook)


@pytest.fixture(scope="session")
def values(small_workbook):
    """The small workbook's cached values."""
    return load_book(small_workbook, data_only=True)


def kpi_value(key, frame, template=None, criteria=()):
    """A catalogue KPI over a derived ticket table, as the report model computes it."""
    from supportxl.metrics.kpis import Policy, kpi
    from supportxl.model import Evaluator

    threshold = (template.csat_good_threshold if template is not None else 4)
    return Evaluator(frame, Policy(threshold)).value(kpi(key), criteria)
