"""`supportxl generate` through typer's CliRunner: files, summary and exact errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
from typer.testing import CliRunner

from supportxl import __version__
from supportxl.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_generate_writes_the_contract_files(tmp_path):
    result = run("generate", "--tickets", "300", "--seed", "5", "--year", "2024", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Generated 300 tickets from 2024-01-01 to 2024-12-31 (400 accounts, 60 agents, ")
    assert f"seed 5) in {tmp_path} in " in result.stdout
    for name in ("tickets.csv", "accounts.csv", "agents.csv", "escalation_events.csv", "manifest.json"):
        assert (tmp_path / name).is_file()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] == 5
    assert manifest["supportxl_version"] == __version__
    assert manifest["parameters"]["tickets"] == 300
    assert manifest["parameters"]["start"] == "2024-01-01"
    tickets = pd.read_csv(tmp_path / "tickets.csv")
    assert len(tickets) == 300
    assert list(tickets.columns[:4]) == ["ticket_id", "created_at", "first_response_at", "resolved_at"]


def test_quiet_prints_nothing(tmp_path):
    result = run("generate", "-n", "50", "--quiet", "--out", str(tmp_path))
    assert result.exit_code == 0
    assert result.output == ""


def test_scenario_and_flags(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text("tickets = 80\naccounts = 12\n[escalation]\nrate = 0.4\n")
    result = run("generate", "--scenario", str(scenario), "--accounts", "9", "-q", "-o", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["parameters"]["tickets"] == 80
    assert manifest["parameters"]["accounts"] == 9
    assert manifest["parameters"]["escalation"]["rate"] == 0.4


def test_start_end_and_agents(tmp_path):
    result = run("generate", "-n", "100", "--start", "2025-03-01", "--end", "2025-03-31",
                 "--agents", "5", "--accounts", "20", "--locale", "de_DE", "-q", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    tickets = pd.read_csv(tmp_path / "tickets.csv", parse_dates=["created_at"])
    assert tickets["created_at"].dt.month.eq(3).all()
    assert len(pd.read_csv(tmp_path / "agents.csv")) == 5


def test_bad_parameters_exit_2_with_one_sentence(tmp_path):
    cases = {
        ("--tickets", "-5"): "Error: tickets must be at least 1, found -5.\n",
        ("--start", "2025-05-01", "--end", "2025-01-01"):
            "Error: end date 2025-01-01 is before start date 2025-05-01.\n",
        ("--scenario", str(tmp_path / "none.toml")): f"Error: {tmp_path / 'none.toml'}: no such file.\n",
        ("--locale", "xx_YY", "-n", "5"):
            "Error: locale 'xx_YY' is not one faker knows (for example en_US, en_GB, de_DE, fr_FR).\n",
    }
    for args, message in cases.items():
        result = run("generate", *args, "-o", str(tmp_path / "out"))
        assert result.exit_code == 2, args
        assert result.stderr == message
    assert not (tmp_path / "out").exists()


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("generate", "-n", "5", "-o", str(blocker / "sub"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: --out {blocker / 'sub'}: {blocker} is not a folder.\n"


def test_generate_data_script_is_the_same_command(tmp_path):
    done = subprocess.run([sys.executable, "generate_data.py", "-n", "40", "-q", "-o", str(tmp_path / "a")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run("generate", "-n", "40", "-q", "-o", str(tmp_path / "b"))
    assert (tmp_path / "a" / "tickets.csv").read_bytes() == (tmp_path / "b" / "tickets.csv").read_bytes()


def test_version():
    result = run("--version")
    assert result.stdout == f"supportxl {__version__}\n"
