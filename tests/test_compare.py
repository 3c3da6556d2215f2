"""supportxl compare: two scenarios or datasets side by side, numbers equal to pandas."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from supportxl.cli import app
from supportxl.dataset import write_dataset
from supportxl.metrics.derive import derive
from supportxl.metrics.kpis import kpi
from supportxl.template import load_template

from conftest import kpi_value, load_book, make_dataset, soffice_or_skip

runner = CliRunner()
SCENARIOS = ("templates/scenarios/baseline.toml", "templates/scenarios/proactive_comms.toml")


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "cmp.xlsx"
    result = runner.invoke(app, ["compare", *SCENARIOS, "-n", "3000", "--seed", "4", "--year", "2025",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote {out} (") and "4 sheets, 6,000 tickets" in result.stdout
    return out


def test_kpis_side_by_side_equal_pandas(comparison):
    template = load_template()
    before, _, _ = derive(make_dataset(3_000, seed=4), template)
    values = load_book(comparison, data_only=True)["Comparison"]
    assert [values.cell(5, c).value for c in range(1, 6)] == ["Measure", "baseline", "proactive_comms",
                                                               "Change", "Change %"]
    rows = {values.cell(r, 1).value: r for r in range(6, values.max_row + 1)}
    row = rows[kpi("ttr_median").name]
    assert values.cell(row, 2).value == pytest.approx(kpi_value("ttr_median", before, template))
    change = values.cell(row, 3).value - values.cell(row, 2).value
    assert values.cell(row, 4).value == pytest.approx(change)
    assert load_book(comparison)["Comparison"].cell(row, 4).value == f'=IFERROR(C{row}-B{row},"")'


def test_escalation_flow_improves_after_proactive_comms(comparison):
    flow = load_book(comparison, data_only=True)["Escalation flow"]
    rows = {flow.cell(r, 1).value: r for r in range(1, flow.max_row + 1)}
    assert flow.cell(rows["Development"], 4).value < 0  # less time in the slowest step
    assert flow.cell(rows["CSAT %"], 4).value > 0
    about = {r[0]: r[1] for r in load_book(comparison)["About"].iter_rows(values_only=True) if r and r[0]}
    assert about["Regenerate with"].startswith(f"supportxl compare {SCENARIOS[0]} {SCENARIOS[1]} ")


def test_compare_dataset_folders(tmp_path, small_dataset):
    write_dataset(small_dataset, tmp_path / "before")
    write_dataset(make_dataset(1_000, seed=8), tmp_path / "after")
    result = runner.invoke(app, ["compare", str(tmp_path / "before"), str(tmp_path / "after"),
                                 "-o", str(tmp_path / "c.xlsx"), "-q"])
    assert result.exit_code == 0, result.output
    monthly = load_book(tmp_path / "c.xlsx", data_only=True)["Monthly"]
    assert monthly["B5"].value == "Jan 2025" and monthly["D5"].value == \
        int((small_dataset.tickets["created_at"].dt.month == 1).sum())


def test_compare_missing_side(tmp_path):
    result = runner.invoke(app, ["compare", str(tmp_path / "nope"), SCENARIOS[0], "-o", str(tmp_path / "c.xlsx")])
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {tmp_path / 'nope'}: no such folder (expected one written by "
                             f"'supportxl generate').\n")
    assert not (tmp_path / "c.xlsx").exists()


@pytest.mark.libreoffice
def test_comparison_recalculates(comparison, tmp_path):
    from supportxl.verify import compare_with_recalculated, recalculate

    soffice_or_skip()
    result = compare_with_recalculated(comparison, recalculate(comparison, tmp_path))
    assert result.ok, result.summary()
