"""Shared fixtures: generated datasets are made once per test session."""

from __future__ import annotations

import warnings
from unittest import mock

import openpyxl
import pytest
from openpyxl.packaging.relationship import get_rel
from openpyxl.pivot.cache import CacheDefinition
from openpyxl.reader.workbook import WorkbookParser

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


def build_templates(dataset, folder, names):
    """The workbook of ``dataset`` under each template of ``names``, in ``folder``, by name."""
    from supportxl.template import load_template
    from supportxl.workbook.builder import build_workbook

    paths = {}
    for name in names:
        paths[name] = folder / f"{name}.xlsx"
        build_workbook(dataset, paths[name], load_template(name))
    return paths


def soffice_or_skip():
    from supportxl.verify import find_soffice

    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install -y libreoffice-calc-nogui")


def _pivot_caches_once(parser):
    """openpyxl reads every pivot cache, records included, again for each sheet (minutes for a
    workbook with pivots); the tests read the pivot parts themselves, so once and without records."""
    if not hasattr(parser, "_caches_read_once"):
        parser._caches_read_once = {c.cacheId: get_rel(parser.archive, parser.rels, id=c.id, cls=CacheDefinition)
                                    for c in parser.caches}
    return parser._caches_read_once


def load_book(path, data_only=False):
    """A workbook read with openpyxl, without its notes about extensions it does not read."""
    with warnings.catch_warnings(), mock.patch.object(WorkbookParser, "pivot_caches", property(_pivot_caches_once)):
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
