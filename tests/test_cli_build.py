"""`supportxl build` and `supportxl report` through the CLI runner: files, messages, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from supportxl.cli import app
from supportxl.dataset import write_dataset
from supportxl.template import load_template

from conftest import soffice_or_skip

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_build_from_a_generated_folder(tmp_path, small_dataset):
    write_dataset(small_dataset, tmp_path / "data")
    out = tmp_path / "report.xlsx"
    result = run("build", str(tmp_path / "data"), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Wrote {out} (")
    assert f"{len(load_template().sheets)} sheets, 2,000 tickets) in " in result.stdout
    assert out.is_file()


def test_build_script_is_the_same_command(tmp_path, small_dataset):
    write_dataset(small_dataset, tmp_path / "data")
    done = subprocess.run([sys.executable, "build_workbook.py", str(tmp_path / "data"), "-o",
                           str(tmp_path / "a.xlsx"), "-q"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert (tmp_path / "a.xlsx").stat().st_size > 100_000


def test_report_generates_and_builds(tmp_path):
    out = tmp_path / "r.xlsx"
    result = run("report", "--tickets", "600", "--seed", "3", "--year", "2024", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    import openpyxl
    about = openpyxl.load_workbook(out, read_only=True)["About"]
    rows = {r[0]: r[1] for r in about.iter_rows(values_only=True) if r and r[0]}
    assert rows["Regenerate with"] == (
        f"supportxl report --tickets 600 --seed 3 --start 2024-01-01 --end 2024-12-31 --output {out}")
    assert rows["Period"] == "01 Jan 2024 to 31 Dec 2024"


def test_build_errors(tmp_path, small_dataset):
    missing = tmp_path / "nope"
    result = run("build", str(missing), "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {missing}: no such file or folder (expected a helpdesk export "
                             f"file, or a folder written by 'supportxl generate').\n")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "tickets.csv").write_text("ticket_id\n1\n")
    result = run("build", str(tmp_path / "half"), "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {tmp_path / 'half'}: missing accounts.csv, agents.csv, "
                             f"escalation_events.csv, manifest.json (a dataset folder holds tickets.csv, "
                             f"accounts.csv, agents.csv, escalation_events.csv, manifest.json).\n")
    write_dataset(small_dataset, tmp_path / "data")
    result = run("build", str(tmp_path / "data"), "--template", "fancy", "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2
    assert result.stderr == ("Error: unknown template 'fancy' (shipped templates: agent_review, dashboard, executive; "
                             "or give a path to a .toml file).\n")
    bad = tmp_path / "bad.toml"
    bad.write_text("[sla.resolution_hours]\nCritical = 4\nHigh = 12\nMedium = 24\nUrgent = 1\n")
    result = run("build", str(tmp_path / "data"), "--template", str(bad), "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {bad}: sla.resolution_hours needs exactly the priorities "
                             f"Critical, High, Medium, Low (found: Critical, High, Medium, Urgent).\n")
    assert not (tmp_path / "x.xlsx").exists()


def test_corrupt_timestamp_names_row_and_column(tmp_path, small_dataset):
    write_dataset(small_dataset, tmp_path / "data")
    path = tmp_path / "data" / "tickets.csv"
    lines = path.read_text().splitlines()
    first = lines[3].split(",")
    first[1] = "yesterday"
    lines[3] = ",".join(first)
    path.write_text("\n".join(lines) + "\n")
    manifest = tmp_path / "data" / "manifest.json"  # edited on purpose: the checksums let go
    manifest.write_text(json.dumps({k: v for k, v in json.loads(manifest.read_text()).items() if k != "files"}))
    result = run("build", str(tmp_path / "data"), "-o", str(tmp_path / "x.xlsx"), "--strict")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {path}: row 4, column created_at: 'yesterday' is not an "
                             f"ISO 8601 timestamp.\n")
    assert not (tmp_path / "x.xlsx").exists()
    # without --strict the row is dropped and reported, as in an export
    result = run("build", str(tmp_path / "data"), "-o", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 0, result.output
    assert ("  warning: unparseable date in column 'tickets.csv: created_at': 1 row (not an ISO 8601 timestamp; "
            "the row is dropped: a ticket needs its created time); e.g. row 4, created_at: 'yesterday'"
            in result.stderr.splitlines())


def test_every_command_has_help_with_examples():
    for command in ("generate", "build", "report", "verify", "compare"):
        result = run(command, "--help")
        assert result.exit_code == 0
        assert "Examples:" in result.stdout, command


def test_verify_missing_file(tmp_path):
    result = run("verify", str(tmp_path / "none.xlsx"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path / 'none.xlsx'}: no such file.\n"


@pytest.mark.libreoffice
def test_verify_a_built_workbook(small_workbook):
    soffice_or_skip()
    result = run("verify", str(small_workbook))
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(" formula cells, 0 mismatches, 0 error values\n")
