"""Fatal problems: one clear paragraph naming the file, never a traceback."""

from __future__ import annotations

import pytest
from test_ingest_helpers import jira_fixture, write_rows, zendesk_fixture

from supportxl.errors import ParameterError, SupportxlError
from supportxl.ingest import load_export, load_mapping

JIRA_HEADERS = (
    "Summary, Issue key, Issue id, Issue Type, Status, Project key, Priority, Resolution, Assignee, "
    "Reporter, Created, Updated, Resolved, Due date, Watchers, Watchers, Custom field (Request Type), "
    "Satisfaction rating, Custom field (Satisfaction date), Custom field (Time to first response), "
    "Custom field (Time to resolution), Status Category, Comment, Comment, Comment"
)


def message(path, **kwargs) -> str:
    with pytest.raises(SupportxlError) as info:
        load_export(path, **kwargs)
    return str(info.value)


def test_missing_required_columns_lists_expected_and_found_and_suggests_a_mapping(tmp_path):
    path = jira_fixture(tmp_path)
    assert message(path, mapping="zendesk") == (
        f"{path}: missing required columns for the zendesk mapping: "
        f"ticket id (expected header: Id or Ticket ID), created time (expected header: Created at). "
        f"Found headers: {JIRA_HEADERS}. "
        f"The closest built-in mapping by header overlap is jira (13 of 19 columns found), "
        f"which finds every column it needs."
    )


def test_missing_required_columns_without_any_close_mapping(tmp_path):
    path = write_rows(tmp_path / "odd.csv", ["foo", "bar"], [["1", "2"]])
    assert message(path, mapping="freshdesk") == (
        f"{path}: missing required columns for the freshdesk mapping: "
        f"ticket id (expected header: Ticket ID or Ticket Id), created time (expected header: Created time). "
        f"Found headers: foo, bar. No built-in mapping recognises these headers; write a mapping file "
        f"(TOML, like the built-in ones) that names the columns."
    )
    assert message(path) == (
        f"{path}: cannot tell which helpdesk this export comes from: no built-in mapping "
        f"(zendesk, zendesk_explore, freshdesk, jira, servicenow, hubspot, canonical) recognises any of its headers. "
        f"Found headers: foo, bar. Write a mapping file (TOML, like the built-in ones) that names the columns."
    )


def test_auto_names_the_closest_mapping_and_what_it_misses(tmp_path):
    path = write_rows(tmp_path / "part.csv", ["Id", "Subject", "Status"], [["1", "x", "Open"]])
    assert message(path) == (
        f"{path}: cannot tell which helpdesk this export comes from: no built-in mapping finds all its "
        f"required columns. The closest by header overlap is zendesk (3 of 34 columns found), which is "
        f"missing created time (expected header: Created at). Found headers: Id, Subject, Status. "
        f"Name the mapping, or write a mapping file that names the columns."
    )


def test_long_header_rows_are_shortened_in_messages(tmp_path):
    headers = [f"Column {i}" for i in range(40)]
    path = write_rows(tmp_path / "wide.csv", headers, [["x"] * 40])
    text = message(path)
    assert "Column 29 and 10 more." in text and "Column 30" not in text


def test_strict_makes_unknown_values_fatal(tmp_path):
    path = write_rows(tmp_path / "strict.csv", ["Id", "Created at", "Priority", "Status"],
                      [["1", "2025-01-01", "P9", "Open"], ["2", "2025-01-01", "High", "Weird"],
                       ["3", "2025-01-02", "P9", "open"]])
    assert message(path, strict=True) == (
        f"{path}: unknown values in a strict import: "
        f"row 2, column Priority: 'P9' is not a priority the zendesk mapping knows (2 rows in all; "
        f"known: Critical, High, Medium, Low, urgent, normal); "
        f"row 3, column Status: 'Weird' is not a status the zendesk mapping knows (1 row in all; "
        f"known: Open, Pending, Resolved, Closed, new, hold, on-hold, on hold, solved). "
        f"Add them to the [values] table of a mapping file, or import without strict mode "
        f"(they become findings)."
    )
    relaxed = load_export(path)
    assert list(relaxed.dataset.tickets["priority"]) == ["Unknown", "High", "Unknown"]
    assert list(relaxed.dataset.tickets["status"]) == ["Open", "Open", "Open"]  # derived: not resolved
    findings = {f.column: f for f in relaxed.report.findings if f.kind == "unknown value"}
    assert findings["Priority"].count == 2 and findings["Priority"].severity == "warning"
    assert findings["Priority"].examples == ((2, "Priority", "P9"), (4, "Priority", "P9"))
    assert not relaxed.report.fatal


@pytest.mark.parametrize("content, expected", [
    (None, "{path}: no such file."),
    (b"", "{path}: the file is empty; expected a table with a header row."),
    (b"Id,Created at\r\n", "{path}: has a header row but no ticket rows."),
    (b"Id,Created at\n,\n\n", "{path}: holds no tickets: all 2 rows are empty in the columns the "
                               "zendesk mapping reads."),
    (b"Id,Created at\n1,soon\n2,\n", "{path}: no usable tickets: every row lacks a ticket id or a readable "
                                     "created time (warning: unparseable date in column 'Created at': 1 row "
                                     "(the row is dropped: a ticket needs its created time); e.g. row 2, "
                                     "Created at: 'soon'; warning: missing created date in column 'Created at': "
                                     "1 row (the row is dropped); e.g. row 3, Created at)."),
    (b'Id,Created at\n1,"2025-01-01\n', "{path}: cannot be read as CSV (C error: EOF inside string "
                                        "starting at row 1)."),
])
def test_unusable_csv_files(tmp_path, content, expected):
    path = tmp_path / "export.csv"
    if content is not None:
        path.write_bytes(content)
    assert message(path) == expected.format(path=path)


def test_unusable_files_of_other_kinds(tmp_path):
    assert message(tmp_path) == f"{tmp_path}: is a folder, expected a CSV, XLSX or JSON export file."
    json_object = tmp_path / "a.json"
    json_object.write_text('{"count": 1}')
    assert message(json_object) == (
        f'{json_object}: the JSON holds no table of tickets; expected a list of records ([{{...}}, ...]) '
        f'or an object with one under "tickets" ({{"tickets": [...]}}).')
    broken_json = tmp_path / "b.json"
    broken_json.write_text('{"tickets": ')
    assert message(broken_json) == f"{broken_json}: not valid JSON (Expecting value: line 1 column 13 (char 12))."
    broken_xlsx = tmp_path / "c.xlsx"
    broken_xlsx.write_bytes(b"PK\x03\x04 not really a zip")
    assert message(broken_xlsx) == (f"{broken_xlsx}: is not a readable .xlsx export (a damaged ZIP package: "
                                    f"File is not a zip file).")
    xls = tmp_path / "d.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    assert message(xls) == (f"{xls}: is an old-style .xls workbook, which cannot be read; save it as "
                            f".xlsx or CSV and use that.")


def test_bad_arguments(tmp_path):
    path = zendesk_fixture(tmp_path)
    assert message(path, mapping="zendex") == (
        "unknown mapping 'zendex' (built-in mappings: zendesk, zendesk_explore, freshdesk, jira, servicenow, "
        "hubspot, canonical, or auto; or give a path to a .toml mapping file).")
    assert message(path, timezone="Mars/Olympus") == (
        "timezone: 'Mars/Olympus' is not a known time zone (use an IANA name such as UTC, Europe/Berlin "
        "or America/New_York).")
    assert message(path, mapping=tmp_path / "none.toml") == f"{tmp_path / 'none.toml'}: no such file."


# ------------------------------------------------------------------------- mapping files

def write(tmp_path, text: str):
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = '[columns]\nticket_id = ["Ref"]\ncreated_at = ["Opened on"]\n'


@pytest.mark.parametrize("text, expected", [
    ('name = "x"\ncolums = {}\n' + MINIMAL,
     "{path}: unknown key 'colums' (valid keys: activities, columns, date_formats, description, durations, "
     "group_by, history, missing, name, order_by, required, timezone, values)."),
    (MINIMAL + 'prio = ["P"]\n',
     "{path}: columns.prio: unknown field 'prio' (valid fields: ticket_id, created_at, first_response_at, "
     "resolved_at, closed_at, updated_at, status, priority, channel, issue_type, team, agent, account_id, "
     "account_name, requester_name, requester_email, subject, description, csat, escalated, escalation_tier, reopen_count, "
     "agent_replies, group_stations, reassignment_count)."),
    (MINIMAL + '[durations.took]\ncolumns = ["Took"]\nunit = "fortnights"\n',
     "{path}: durations.took.unit: 'fortnights' is not a unit (valid: minutes, seconds, milliseconds, hours, "
     "days, hh:mm, hh:mm:ss)."),
    (MINIMAL + '[durations.took]\ncolumns = ["Took"]\nunti = "hours"\n',
     "{path}: unknown key 'durations.took.unti' (valid keys: business_hours, columns, measures, signed, unit)."),
    (MINIMAL + '[values.priority]\np1 = "Urgent"\n',
     "{path}: values.priority.p1: 'Urgent' is not a valid priority (valid: 'Critical', 'High', 'Medium', 'Low')."),
    ('date_formats = ["dd/mm/yyyy"]\n' + MINIMAL,
     "{path}: date_formats: 'dd/mm/yyyy' is not a date format: it holds no % directive (use a strftime "
     "pattern like '%d/%m/%Y %H:%M', or one of ISO, excel, epoch_ms, epoch_s)."),
    ('date_formats = ["%d.%m.%Y %H:%Q"]\n' + MINIMAL,
     "{path}: date_formats: '%d.%m.%Y %H:%Q' is not a date format: 'Q' is a bad directive in format "
     "'%d.%m.%Y %H:%Q' (use a strftime pattern like '%d/%m/%Y %H:%M', or one of ISO, excel, epoch_ms, "
     "epoch_s)."),
    ('timezone = "Nowhere/Land"\n' + MINIMAL,
     "{path}: timezone: 'Nowhere/Land' is not a known time zone (use an IANA name such as UTC, "
     "Europe/Berlin or America/New_York)."),
    ('[columns]\nticket_id = ["Ref"]\n',
     "{path}: required: 'created_at' is required but has no entry in [columns]."),
    ('missing = "?"\n' + MINIMAL, "{path}: missing should be a list, found '?'."),
    ("columns = [", None),
])
def test_mapping_file_errors_name_file_key_and_choices(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ParameterError) as info:
        load_mapping(path)
    if expected is None:
        assert str(info.value).startswith(f"{path}: not valid TOML (")
    else:
        assert str(info.value) == expected.format(path=path)


def test_a_custom_mapping_file_reads_a_custom_export(tmp_path):
    mapping = write(tmp_path, '''
name = "mydesk"
description = "In-house helpdesk"
timezone = "Europe/Paris"
date_formats = ["%d.%m.%Y %H:%M"]
missing = ["", "n/a"]

[columns]
ticket_id = ["Ref"]
created_at = ["Opened on"]
resolved_at = ["Closed on"]
priority = ["Prio"]
escalation_tier = ["Level"]
csat = ["Stars"]

[values.priority]
p1 = "Critical"
p2 = "High"

[values.escalation_tier]
first = "Tier 1"
second = "Tier 2"
third = "Tier 3"

[durations.handling]
columns = ["Handling (min)"]
unit = "minutes"
measures = "first_response"
''')
    path = write_rows(tmp_path / "export.csv", ["Ref", "Opened on", "Closed on", "Prio", "Level", "Stars",
                                               "Handling (min)"],
                      [["A-1", "01.02.2025 09:30", "01.02.2025 10:00", "P1", "third", "4", "12"],
                       ["A-2", "02.02.2025 11:00", "n/a", "p2", "First", "n/a", "n/a"]])
    result = load_export(path, mapping=mapping)
    t = result.dataset.tickets
    assert result.mapping == "mydesk"
    assert result.reason.startswith("mydesk, as given: 7 of 7 mapped columns found: Ref, Opened on")
    assert result.dataset.manifest["timezone"] == "Europe/Paris"
    assert result.dataset.manifest["mapping_file"] == str(mapping)
    assert list(t["priority"]) == ["Critical", "High"]
    assert list(t["escalation_tier"]) == ["Tier 3", "Tier 1"]
    assert list(t["escalated"]) == [True, False]
    assert list(t["csat"].fillna(0)) == [4, 0]
    assert t.loc[0, "first_response_at"] == t.loc[0, "created_at"] + __import__("pandas").Timedelta(minutes=12)
    assert t.loc[0, "resolved_at"].isoformat() == "2025-02-01T09:00:00"  # 10:00 in Paris (CET) is 09:00 UTC
