"""Dataset folders (and CSVs in the canonical column names) get the checks an export gets:
findings with the file's row numbers instead of a fatal error, unless --strict."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import load_book
from supportxl.cli import app
from supportxl.dataset import read_dataset, write_dataset
from supportxl.errors import SupportxlError
from supportxl.generate import generate, load_params
from supportxl.ingest import load_dataset, load_export

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def generated():
    return generate(load_params(overrides={"tickets": 300, "seed": 11, "accounts": 20, "agents": 6}, year=2025))


@pytest.fixture
def clean_folder(generated, tmp_path):
    write_dataset(generated, tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def broken_folder(clean_folder):
    """The generated folder edited by hand: a bad date, a repeated id, a team in two spellings
    (in tickets and agents), a resolved ticket marked open, an event of a ticket that does not exist."""
    tickets = pd.read_csv(clean_folder / "tickets.csv", keep_default_na=False, dtype=str)
    resolved = tickets.index[tickets["resolved_at"] != ""]
    tickets.loc[3, "created_at"] = "31/02/2025"
    tickets.loc[10, "ticket_id"] = tickets.loc[11, "ticket_id"]
    tickets.loc[resolved[5], "status"] = "open"
    tickets.loc[tickets["team"] == "Tier 2", "team"] = tickets.loc[tickets["team"] == "Tier 2", "team"].where(
        tickets.index[tickets["team"] == "Tier 2"] % 7 != 0, "tier 2")
    tickets.to_csv(clean_folder / "tickets.csv", index=False)
    events = pd.read_csv(clean_folder / "escalation_events.csv", keep_default_na=False, dtype=str)
    events.loc[0, "ticket_id"] = "99999999"
    events.to_csv(clean_folder / "escalation_events.csv", index=False)
    manifest = json.loads((clean_folder / "manifest.json").read_text())
    manifest["source"] = "edited by hand"
    del manifest["period"]["as_of"]
    del manifest["files"]  # the checksums of the files as written: edited on purpose, let go
    (clean_folder / "manifest.json").write_text(json.dumps(manifest))
    return clean_folder, tickets, events, resolved[5]


def by_kind(result):
    return {(f.kind, f.column): f for f in result.report.findings}


def test_a_clean_generated_folder_reads_unchanged(clean_folder):
    plain = read_dataset(clean_folder)
    result = load_dataset(clean_folder)
    assert len(result.report) == 0 and "data_quality" not in result.dataset.manifest
    for name in ("tickets", "accounts", "agents", "escalation_events"):
        pd.testing.assert_frame_equal(getattr(result.dataset, name), getattr(plain, name))
    assert result.dataset.as_of == plain.as_of == pd.Timestamp("2026-01-01")


def test_a_broken_folder_is_reported_not_refused(broken_folder):
    folder, tickets, events, marked_open = broken_folder
    result = load_dataset(folder)
    found = by_kind(result)
    t = result.dataset.tickets

    bad_date = found[("unparseable date", "tickets.csv: created_at")]
    assert (bad_date.count, bad_date.examples) == (1, ((5, "created_at", "31/02/2025"),))
    repeated = found[("duplicate ticket id", "tickets.csv: ticket_id")]
    assert repeated.examples == ((12, "ticket_id", tickets.loc[10, "ticket_id"]),)
    status = found[("open status with a resolved time", "tickets.csv: status")]
    assert status.examples == ((marked_open + 2, "status", "open"),)
    # independent expectations from the edited files
    expected_ids = tickets.drop(index=[3, 10])["ticket_id"].astype("int64")
    assert sorted(t["ticket_id"]) == sorted(expected_ids)
    orphans = ~events["ticket_id"].astype("int64").isin(expected_ids)  # the made-up id, and the events
    unknown_event = found[("event of an unknown ticket", "escalation_events.csv: ticket_id")]  # of dropped rows
    assert unknown_event.count == orphans.sum() > 1
    assert unknown_event.examples[0] == (2, "ticket_id", "99999999")
    assert len(result.dataset.escalation_events) == len(events) - orphans.sum()
    lower = int((tickets.drop(index=[3, 10])["team"] == "tier 2").sum())
    upper = int((tickets.drop(index=[3, 10])["team"] == "Tier 2").sum())
    assert lower > 0 and upper > lower
    assert (t["team"] == "Tier 2").sum() == lower + upper and "tier 2" not in set(t["team"])
    assert set(result.dataset.agents["team"]) <= set(t["team"])
    fold = found[("spelling variants", "tickets.csv: team")]
    assert fold.count == lower and fold.examples[0][2] == "tier 2"
    assert (t["status"].isin(["Open", "Pending"]) == t["resolved_at"].isna()).all()
    manifest = result.dataset.manifest
    assert manifest["data_quality"] == result.report.to_data()
    assert manifest["rows"]["source"] == len(tickets) and manifest["rows"]["dropped"] == 2
    latest = max(pd.to_datetime(tickets.drop(index=[3, 10])[c], errors="coerce").max()
                 for c in ("created_at", "first_response_at", "resolved_at"))
    latest = max(latest, pd.to_datetime(events.loc[~orphans, "timestamp"]).max())
    assert result.dataset.as_of == latest  # no recorded as-of: the latest timestamp that survived the checks
    assert manifest["period"]["as_of"] == latest.strftime("%Y-%m-%d %H:%M:%S")


def test_strict_keeps_a_broken_folder_fatal(broken_folder):
    folder, *_ = broken_folder
    with pytest.raises(SupportxlError) as info:
        load_dataset(folder, strict=True)
    assert str(info.value) == (f"{folder / 'tickets.csv'}: row 5, column created_at: '31/02/2025' is not an "
                               f"ISO 8601 timestamp.")


def test_build_and_validate_report_a_folder_on_data_quality(broken_folder, tmp_path):
    folder, *_ = broken_folder
    checked = run("validate", folder)
    assert checked.exit_code == 0, checked.output
    assert "warning: duplicate ticket id in column 'tickets.csv: ticket_id': 1 row" in checked.stderr
    assert checked.stdout.strip() == f"{folder} can be imported: 298 tickets."
    strict = run("validate", folder, "--strict")
    assert strict.exit_code == 1 and strict.stderr.startswith("Fatal: ")

    out = tmp_path / "w.xlsx"
    built = run("build", folder, "-o", out, "--as-of", "2025-12-31 12:00", "-q")
    assert built.exit_code == 0, built.output
    book = load_book(out)
    quality = book["Data Quality"]
    summary = {row[0]: row[1] for row in quality.iter_rows(values_only=True) if row and row[0]}
    assert summary["Mapping"] == ("a dataset folder (tickets.csv, accounts.csv, agents.csv, escalation_events.csv, "
                                  "status_changes.csv and manifest.json)")
    assert summary["Rows read"] == "300" and summary["Rows dropped or merged"] == "2"
    problems = [row[1] for row in quality.iter_rows(values_only=True) if row and row[0] in ("warning", "info")]
    assert "event of an unknown ticket" in problems and "spelling variants" in problems
    assert book["About"]  # the build went through with the as-of moment given


def test_a_bad_as_of_is_one_sentence(clean_folder):
    result = run("build", clean_folder, "--as-of", "next week")
    assert result.exit_code == 2
    assert result.stderr == ("Error: --as-of: 'next week' is not a date or a date and time (expected "
                             "YYYY-MM-DD or 'YYYY-MM-DD HH:MM', in the report's time zone, UTC).\n")


def test_a_csv_in_canonical_names_is_imported_like_an_export(generated, tmp_path):
    write_dataset(generated, tmp_path / "data")
    result = load_export(tmp_path / "data" / "tickets.csv")
    assert result.mapping == "canonical"
    g, t = generated.tickets, result.dataset.tickets
    for column in ("ticket_id", "created_at", "resolved_at", "status", "priority", "team", "csat", "escalated"):
        assert list(t[column].astype(object)) == list(g[column].astype(object)), column
    assert result.dataset.manifest["missing_fields"] == []
