"""What an import means on messy real data: status reconciled with the timestamps, spellings
folded, absolute time across DST, the as-of moment, implausible dates, missing fields, and
the vocabulary of real exports (days, dotted JSON keys, date formats, text as in the file).

Every fixture is written here, shaped like the export it imitates; expected numbers are
computed in the test from the rows it wrote."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ingest_helpers import write_rows

from supportxl.errors import ParameterError, SupportxlError
from supportxl.ingest import load_export
from supportxl.ingest.checks import fold_spellings, parse_as_of, reconcile_status
from supportxl.ingest.mapping import normalise

SN_HEADER = ["number", "opened_at", "incident_state", "priority", "category", "assignment_group",
             "resolved_at", "closed_at", "sys_updated_on"]


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def servicenow(tmp_path, rows, name="incidents.csv"):
    return write_rows(tmp_path / name, SN_HEADER, rows)


def findings(result, kind):
    return [f for f in result.report.findings if f.kind == kind]


# ------------------------------------------------------------------ status vs timestamps

def test_status_is_reconciled_with_the_timestamps(tmp_path):
    rows = [
        # open-type state with a leftover closed time: the time decides, resolved
        ["INC1", "2025-06-02 09:00:00", "In Progress", "2 - High", "Network", "Desk", "", "2025-06-02 15:00:00",
         "2025-06-02 15:00:00"],
        # resolved, but its resolved time is before it was opened; the update time is usable
        ["INC2", "2025-06-03 09:00:00", "Resolved", "3 - Moderate", "Network", "Desk", "2025-06-01 09:00:00", "",
         "2025-06-03 18:30:00"],
        # closed with no usable time at all (the update is before the opening): open
        ["INC3", "2025-06-04 09:00:00", "Closed", "4 - Low", "Network", "Desk", "?", "?", "2025-06-01 08:00:00"],
        # consistent rows stay as they are
        ["INC4", "2025-06-05 09:00:00", "On Hold", "4 - Low", "Network", "Desk", "", "", "2025-06-05 10:00:00"],
        ["INC5", "2025-06-05 10:00:00", "Closed", "4 - Low", "Network", "Desk", "2025-06-05 12:00:00",
         "2025-06-06 12:00:00", "2025-06-06 12:00:00"],
        # closed before it was opened, nothing else: the closed time is dropped, the ticket is open
        ["INC6", "2025-06-06 09:00:00", "Closed", "4 - Low", "Network", "Desk", "", "01-06-2025 07:00", ""],
    ]
    result = load_export(servicenow(tmp_path, rows))
    t = result.dataset.tickets.set_index("ticket_id")
    assert list(t["status"]) == ["Resolved", "Resolved", "Open", "Pending", "Closed", "Open"]
    assert t.loc["INC1", "resolved_at"] == ts("2025-06-02 15:00")
    assert t.loc["INC2", "resolved_at"] == ts("2025-06-03 18:30")
    assert pd.isna(t.loc["INC3", "resolved_at"]) and pd.isna(t.loc["INC4", "resolved_at"])
    assert t.loc["INC5", "resolved_at"] == ts("2025-06-05 12:00")
    # the one open rule holds after import
    assert (t["status"].isin(["Open", "Pending"]) == t["resolved_at"].isna()).all()

    by_detail = {f.detail: f for f in findings(result, "open status with a resolved time")
                 + findings(result, "closed status without a resolved time")}
    became_resolved = by_detail["status set to Resolved: the timestamps decide"]
    assert (became_resolved.count, became_resolved.examples) == (1, ((2, "incident_state", "In Progress"),))
    from_update = by_detail["resolved time taken from the last update time (sys_updated_on)"]
    assert (from_update.severity, from_update.count, from_update.examples) == (
        "warning", 1, ((3, "incident_state", "Resolved"),))
    reopened = by_detail["no usable resolved, closed or update time: counted as open (status set to Open)"]
    assert (reopened.count, reopened.examples) == (2, ((4, "incident_state", "Closed"), (7, "incident_state", "Closed")))
    early = findings(result, "resolved before created")[0]
    assert early.examples == ((3, "resolved_at", "2025-06-01 09:00:00"),)
    closed_early = findings(result, "closed before created")[0]
    assert closed_early.examples == ((7, "closed_at", "01-06-2025 07:00"),)  # as the file wrote it


def test_reconcile_status_rules_on_their_own():
    created = np.array(["2025-01-01T00:00"] * 5, dtype="datetime64[ns]")
    nat = np.datetime64("NaT", "ns")
    resolved = np.array([nat, "2025-01-02", nat, nat, nat], dtype="datetime64[ns]")
    closed = np.array(["2025-01-03", nat, nat, "2024-12-31", nat], dtype="datetime64[ns]")
    updated = np.array([nat, nat, "2025-01-04", nat, "2025-01-05"], dtype="datetime64[ns]")
    r = reconcile_status(np.array(["Pending", "Open", "Closed", "Resolved", None], dtype=object),
                         created, resolved, closed, updated)
    assert r.status.tolist() == ["Resolved", "Resolved", "Closed", "Open", "Open"]
    assert r.resolved.tolist() == np.array(["2025-01-03", "2025-01-02", "2025-01-04", nat, nat],
                                           dtype="datetime64[ns]").tolist()
    assert r.open_resolved.tolist() == [True, True, False, False, False]
    assert r.from_updated.tolist() == [False, False, True, False, False]
    assert r.reopened.tolist() == [False, False, False, True, False]


HOURS = st.one_of(st.none(), st.integers(-48, 48))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Open", "Pending", "Resolved", "Closed", None]), HOURS, HOURS, HOURS),
                min_size=1, max_size=30))
def test_after_reconciling_open_means_no_resolved_time(rows):
    start = np.datetime64("2025-01-01T12:00", "ns")

    def times(i):
        return np.array([start + np.timedelta64(r[i], "h") if r[i] is not None else np.datetime64("NaT", "ns")
                         for r in rows], dtype="datetime64[ns]")

    created = np.full(len(rows), start)
    r = reconcile_status(np.array([row[0] for row in rows], dtype=object), created, times(1), times(2), times(3))
    assert set(r.status) <= {"Open", "Pending", "Resolved", "Closed"}
    assert (np.isin(r.status, ["Open", "Pending"]) == np.isnat(r.resolved)).all()
    filled = np.isnat(times(1)) & ~np.isnat(r.resolved)  # taken from the closed or update time
    assert (r.resolved[filled] >= created[filled]).all()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Tier 1", "tier 1", "TIER  1", " Tier 1", "Ops", "ops", "OPS", "x"]), max_size=40))
def test_folding_leaves_one_spelling_per_value_and_is_stable(values):
    folded = fold_spellings(values).values.tolist()
    by_key: dict[str, set] = {}
    for value in folded:
        by_key.setdefault(normalise(value), set()).add(value)
    assert all(len(spellings) == 1 for spellings in by_key.values())
    for original, value in zip(values, folded):
        assert normalise(original) == normalise(value)
        assert value in values
    assert fold_spellings(folded).values.tolist() == folded


# --------------------------------------------------------------------------- spellings

def test_spellings_that_differ_by_case_or_spacing_are_one_value(tmp_path):
    categories = ["Hardware"] * 9 + ["hardware", " HARDWARE  "] + ["Software", "software"]
    rows = [[f"INC{i}", f"2025-06-02 {9 + i % 8:02d}:00:00", "New", "4 - Low", c, "Desk", "", "", ""]
            for i, c in enumerate(categories)]
    result = load_export(servicenow(tmp_path, rows))
    counts = result.dataset.tickets["issue_type"].value_counts().to_dict()
    # independent count: case and surrounding spaces ignored, the most frequent spelling kept;
    # Software/software tie at one row each: the first in code-point order (capitals first) wins
    assert counts == {"Hardware": 11, "Software": 2}
    fold = findings(result, "spelling variants")[0]
    assert (fold.severity, fold.column, fold.count) == ("info", "category", 3)
    assert fold.examples == ((11, "category", "hardware"), (12, "category", " HARDWARE  "),
                             (14, "category", "software"))
    assert fold.detail == ("values that differ only in letter case or spacing counted as one, the most "
                           "frequent spelling kept: 'Hardware' (9) for 'HARDWARE' (1), 'hardware' (1); "
                           "'Software' (1) for 'software' (1)")


def test_fold_spellings_keeps_missing_values_and_is_deterministic():
    values = pd.Series(["b", "B", None, "a b", "A  B", "A  B", "c"], dtype=object)
    folded = fold_spellings(values)
    assert folded.values.tolist() == ["B", "B", None, "A  B", "A  B", "A  B", "c"]
    assert folded.changed.tolist() == [True, False, False, True, False, False, False]
    assert fold_spellings(values[::-1]).values.tolist() == folded.values.tolist()[::-1]


# ------------------------------------------------------------------------ absolute time

RFC_MAPPING = '''name = "rfcdesk"
timezone = "Europe/Berlin"
date_formats = ["%a, %d %b %Y %H:%M:%S %z", "%Y-%m-%d %H:%M"]
[columns]
ticket_id = ["Ref"]
created_at = ["Opened"]
resolved_at = ["Solved"]
'''


def test_durations_across_a_dst_change_are_exact(tmp_path):
    mapping = tmp_path / "rfc.toml"
    mapping.write_text(RFC_MAPPING, encoding="utf-8")
    rows = [
        # offsets given: Berlin moves to summer time on 31 March 2024 at 02:00
        ["A", "Sat, 30 Mar 2024 12:00:00 +0100", "Sun, 31 Mar 2024 12:00:00 +0200"],
        # wall-clock times in the mapping's zone (Europe/Berlin), across the same change
        ["B", "2024-03-30 12:00", "2024-03-31 12:00"],
        # and back to winter time on 27 October: a 25-hour day
        ["C", "2024-10-26 12:00", "2024-10-27 12:00"],
    ]
    path = write_rows(tmp_path / "rfc.csv", ["Ref", "Opened", "Solved"], rows)
    dataset = load_export(path, mapping=mapping).dataset
    t = dataset.tickets.set_index("ticket_id")
    hours = (t["resolved_at"] - t["created_at"]).dt.total_seconds() / 3600
    assert hours.to_dict() == {"A": 23.0, "B": 23.0, "C": 25.0}
    assert t.loc["A", "created_at"] == ts("2024-03-30 11:00")  # stored in UTC
    assert dataset.manifest["timezone"] == "Europe/Berlin" and dataset.manifest["timestamps"] == "utc"
    # --timezone names the zone of naive times; times with an offset do not move
    new_york = load_export(path, mapping=mapping, timezone="America/New_York").dataset.tickets.set_index("ticket_id")
    assert new_york.loc["A", "created_at"] == ts("2024-03-30 11:00")
    assert new_york.loc["B", "created_at"] == ts("2024-03-30 16:00")  # EDT, UTC-4


def test_a_repeated_or_skipped_wall_clock_time_is_read_as_documented(tmp_path):
    path = write_rows(tmp_path / "z.csv", ["Id", "Created at"],
                      [[1, "2024-10-27 02:30:00"], [2, "2024-03-31 02:30:00"]])
    t = load_export(path, timezone="Europe/Berlin").dataset.tickets.set_index("ticket_id")
    assert t.loc[1, "created_at"] == ts("2024-10-27 01:30")  # twice in Berlin: the second, CET (UTC+1)
    assert t.loc[2, "created_at"] == ts("2024-03-31 01:00")  # never in Berlin: the moment clocks changed


# ----------------------------------------------------------------------------- as of

def test_as_of_is_the_latest_timestamp_of_any_kind(tmp_path):
    rows = [["INC1", "2025-06-02 09:00:00", "Closed", "4 - Low", "Network", "Desk", "2025-06-02 10:00:00",
             "2025-06-09 17:45:00", "2025-06-10 08:15:00"],
            ["INC2", "2025-06-03 09:00:00", "New", "4 - Low", "Network", "Desk", "", "", ""]]
    dataset = load_export(servicenow(tmp_path, rows)).dataset
    assert dataset.as_of == ts("2025-06-10 08:15")  # the last update, after every created time
    assert dataset.manifest["period"]["as_of"] == "2025-06-10 08:15:00"


def test_as_of_given_is_read_in_the_report_zone(tmp_path):
    rows = [["INC1", "2025-06-02 09:00:00", "New", "4 - Low", "Network", "Desk", "", "", ""]]
    path = servicenow(tmp_path, rows)
    at = load_export(path, as_of="2025-06-30 18:00", timezone="Europe/Berlin").dataset
    assert at.as_of == ts("2025-06-30 16:00") and at.manifest["period"]["as_of_given"] is True
    assert load_export(path, as_of="2025-06-30").dataset.as_of == ts("2025-07-01")  # the end of that day
    with pytest.raises(ParameterError) as info:
        load_export(path, as_of="30/06/2025")
    assert str(info.value) == ("--as-of: '30/06/2025' is not a date or a date and time (expected YYYY-MM-DD "
                               "or 'YYYY-MM-DD HH:MM', in the report's time zone, UTC).")
    assert parse_as_of("2025-03-30 02:30", "Europe/Berlin") == ts("2025-03-30 01:00")  # a skipped hour
    with pytest.raises(ParameterError) as info:
        load_export(path, as_of="2025-06-02 08:00")
    assert str(info.value) == ("--as-of: 2025-06-02 08:00 UTC is before the first ticket was created "
                               "(2025-06-02 09:00 UTC); the report would hold no tickets.")


def test_an_earlier_as_of_ends_the_period_there(tmp_path):
    rows = [["INC1", "2025-06-02 09:00:00", "New", "4 - Low", "Network", "Desk", "", "", ""],
            ["INC2", "2025-08-20 09:00:00", "New", "4 - Low", "Network", "Desk", "", "", ""]]
    period = load_export(servicenow(tmp_path, rows), as_of="2025-07-15").dataset.manifest["period"]
    assert (period["start"], period["end"], period["as_of"]) == ("2025-06-02", "2025-06-02", "2025-07-16 00:00:00")


def test_far_future_and_ancient_dates_are_flagged_and_left_out(tmp_path):
    rows = [["INC1", "2025-06-02 09:00:00", "Closed", "4 - Low", "Network", "Desk", "2099-01-01 00:00:00", "", ""],
            ["INC2", "1985-06-03 09:00:00", "New", "4 - Low", "Network", "Desk", "", "", ""],
            ["INC3", "2025-06-04 09:00:00", "Closed", "4 - Low", "Network", "Desk", "2025-06-04 11:00:00", "", ""]]
    path = servicenow(tmp_path, rows)
    written = pd.Timestamp("2025-06-05 12:00", tz="UTC").timestamp()
    os.utime(path, (written, written))
    result = load_export(path)
    t = result.dataset.tickets.set_index("ticket_id")
    assert list(t.index) == ["INC1", "INC3"]  # a ticket needs a believable created time
    assert pd.isna(t.loc["INC1", "resolved_at"]) and t.loc["INC1", "status"] == "Open"
    assert result.dataset.as_of == ts("2025-06-04 11:00")  # the 2099 time does not move it
    by_column = {f.column: f for f in findings(result, "implausible date")}
    assert by_column["resolved_at"].examples == ((2, "resolved_at", "2099-01-01 00:00:00"),)
    assert by_column["resolved_at"].detail == "before 1990, or more than a day after the file was last written; kept as missing"
    # the limit is the file's time plus a day: a time within it is believed
    recent = servicenow(tmp_path, [rows[2][:6] + ["2025-06-06 11:00:00", "", ""]], name="recent.csv")
    os.utime(recent, (written, written))
    assert not findings(load_export(recent), "implausible date")
    assert by_column["opened_at"].examples == ((3, "opened_at", "1985-06-03 09:00:00"),)


# ---------------------------------------------------------------------- missing fields

def test_missing_fields_are_recorded_with_the_kpis_they_take_away(tmp_path):
    rows = [["INC1", "2025-06-02 09:00:00", "Closed", "4 - Low", "Network", "Desk", "2025-06-02 10:00:00", "", ""]]
    result = load_export(servicenow(tmp_path, rows))
    # the list in this export: no first response, CSAT, reopen count, replies, escalation
    # signal, channel, agent, account or subject
    expected = ["first_response_at", "csat", "reopen_count", "agent_replies", "escalated", "channel", "agent",
                "account_id", "subject"]
    assert result.dataset.manifest["missing_fields"] == expected
    assert result.dataset.missing_fields == tuple(expected)
    notes = findings(result, "missing field")
    assert [(f.column, f.severity, f.count) for f in notes] == [(key, "info", 1) for key in expected]
    assert notes[1].detail == "the source has no satisfaction ratings; the KPIs that need it show n/a"


def test_generated_data_misses_nothing():
    from supportxl.generate import generate, load_params

    dataset = generate(load_params(overrides={"tickets": 50, "seed": 1}, year=2025))
    assert dataset.missing_fields == ()


# ------------------------------------------------------------- the vocabulary of exports

def test_durations_in_days_and_nested_json_keys(tmp_path):
    mapping = tmp_path / "nested.toml"
    mapping.write_text('''name = "nested"
[columns]
ticket_id = ["key"]
created_at = ["fields.created"]
status = ["fields.status.name"]
priority = ["fields.priority.name"]
requester_name = ["fields.reporter.displayName"]
[durations.open_for]
columns = ["fields.days_to_resolve"]
unit = "days"
measures = "resolution"
''', encoding="utf-8")
    records = [
        {"key": "IT-1", "fields": {"created": "2025-04-01T08:00:00Z", "status": {"name": "Done"},
                                   "priority": {"name": "High"}, "reporter": {"displayName": "Ann Lee"},
                                   "days_to_resolve": 1.5}},
        {"key": "IT-2", "fields": {"created": "2025-04-02T08:00:00Z", "status": {"name": "Open"},
                                   "priority": {"name": "low"}, "reporter": {"displayName": "Bo Kim"},
                                   "days_to_resolve": None}},
    ]
    path = tmp_path / "issues.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    t = load_export(path, mapping=mapping).dataset.tickets.set_index("ticket_id")
    assert t.loc["IT-1", "resolved_at"] == ts("2025-04-02 20:00")  # 1.5 days after created
    assert list(t["requester_name"]) == ["Ann Lee", "Bo Kim"]
    assert list(t["priority"]) == ["High", "Low"]
    assert list(t["status"]) == ["Resolved", "Open"]  # "Done" is unknown here: the resolved time decides


def test_an_invalid_date_format_is_one_mapping_error(tmp_path):
    mapping = tmp_path / "bad.toml"
    mapping.write_text('date_formats = ["%d/%m/%Y %H:%M:%S%"]\n[columns]\nticket_id = ["Id"]\n'
                       'created_at = ["Created at"]\n', encoding="utf-8")
    path = write_rows(tmp_path / "t.csv", ["Id", "Created at"], [[i, "01/02/2025 10:00:00"] for i in range(3000)])
    with pytest.raises(SupportxlError) as info:
        load_export(path, mapping=mapping)
    assert str(info.value) == (f"{mapping}: date_formats: '%d/%m/%Y %H:%M:%S%' is not a date format: stray % in "
                               f"format '%d/%m/%Y %H:%M:%S%' (use a strftime pattern like '%d/%m/%Y %H:%M', or "
                               f"one of ISO, excel, epoch_ms, epoch_s).")


def test_examples_quote_the_file_as_it_is(tmp_path):
    header = ["Id", "Created at", "Solved at", "Priority"]
    rows = [[1, "30/12/2024 12:00", "30/12/2024 10:00", "  P9  "], [2, "31/12/2024 12:00", "", "Low"]]
    result = load_export(write_rows(tmp_path / "z.csv", header, rows))
    early = findings(result, "resolved before created")[0]
    assert early.examples == ((2, "Solved at", "30/12/2024 10:00"),)  # not re-formatted
    unknown = findings(result, "unknown value")[0]
    assert unknown.examples == ((2, "Priority", "  P9  "),)  # spaces and all


# ------------------------------------------------------------------- the workbook agrees

@pytest.mark.libreoffice
def test_an_export_with_case_variants_and_contradictions_recalculates_the_same(tmp_path):
    """Teams and issue types in two spellings, "Open" tickets with a solved time and solved
    times before the created time: LibreOffice's recalculation equals every cached value."""
    from typer.testing import CliRunner

    from conftest import soffice_or_skip
    from supportxl.cli import app
    from supportxl.generate import generate, load_params
    from test_ingest_helpers import write_zendesk_csv

    soffice_or_skip()
    generated = generate(load_params(overrides={"tickets": 400, "seed": 3, "accounts": 30, "agents": 8}, year=2025))
    path = write_zendesk_csv(generated, tmp_path / "zendesk.csv")
    f = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    f.loc[f.index % 9 == 0, "Group"] = f.loc[f.index % 9 == 0, "Group"].str.lower()
    f.loc[f.index % 13 == 0, "Ticket type"] = f.loc[f.index % 13 == 0, "Ticket type"].str.upper()
    solved = f.index[f["Status"] == "Solved"]
    f.loc[solved[:10], "Status"] = "Open"
    f.loc[solved[10:20], "Solved at"] = "2024-01-01 00:00:00"
    f.to_csv(path, index=False, encoding="utf-8-sig")

    runner = CliRunner()
    out = tmp_path / "w.xlsx"
    built = runner.invoke(app, ["build", str(path), "-o", str(out), "-q"])
    assert built.exit_code == 0, built.output
    checked = runner.invoke(app, ["verify", str(out)])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.endswith(" 0 mismatches, 0 error values\n")
