"""The quality report's findings, redaction and determinism."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_ingest_helpers import ZENDESK_HEADER, assert_valid_dataset, write_rows, zendesk_fixture, zendesk_row

from supportxl.dataset import read_dataset, write_dataset
from supportxl.ingest import QualityReport, load_export


def messy_zendesk(tmp_path):
    rows = [
        zendesk_row(**{"Id": 1, "Created at": "2025-01-02 10:00:00", "Solved at": "2025-01-01 09:00:00",
                       "Status": "Solved", "Priority": "High"}),  # resolved before created
        zendesk_row(**{"Id": 2, "Created at": "2025-01-03 10:00:00", "Solved at": "31/02/2025 10:00",
                       "Status": "Solved", "Priority": "P0", "First reply time in minutes": "-5"}),
        zendesk_row(**{"Id": 3, "Created at": "2025-01-04 10:00:00", "Status": "Open",
                       "Full resolution time in minutes": "99999999", "Replies": "many"}),
        zendesk_row(),  # an empty row
        zendesk_row(**{"Id": 3, "Created at": "2025-01-04 11:00:00", "Status": "Pending", "Priority": "Low"}),
        zendesk_row(**{"Id": "", "Created at": "2025-01-05 10:00:00"}),
        zendesk_row(**{"Id": 5, "Created at": "2025-01-05 10:00:00", "Status": "Frozen", "Via": "Pigeon"}),
    ]
    path = write_rows(tmp_path / "messy.csv", ZENDESK_HEADER, rows)
    with open(path, "a", encoding="utf-8") as handle:  # a row with too many fields
        handle.write("6," + ",".join(["x"] * len(ZENDESK_HEADER)) + "\r\n")
        handle.write(",".join(map(str, zendesk_row(**{"Id": 7, "Created at": "2025-01-06 10:00:00"}))) + "\r\n")
    return path


def test_validation_findings(tmp_path):
    result = load_export(messy_zendesk(tmp_path))
    t = result.dataset.tickets.set_index("ticket_id")
    assert_valid_dataset(result.dataset)
    found = {(f.kind, f.column): f for f in result.report.findings}

    def check(kind, column, severity, count, examples):
        finding = found[(kind, column)]
        assert (finding.severity, finding.count, finding.examples) == (severity, count, examples), kind

    check("resolved before created", "Solved at", "warning", 1, ((2, "Solved at", "2025-01-01 09:00:00"),))
    check("unparseable date", "Solved at", "warning", 1, ((3, "Solved at", "31/02/2025 10:00"),))
    check("negative or absurd duration", "First reply time in minutes", "warning", 1,
          ((3, "First reply time in minutes", "-5"),))
    check("negative or absurd duration", "Full resolution time in minutes", "warning", 1,
          ((4, "Full resolution time in minutes", "99999999"),))
    check("unparseable number", "Replies", "warning", 1, ((4, "Replies", "many"),))
    check("unknown value", "Priority", "warning", 1, ((3, "Priority", "P0"),))
    check("unknown value", "Status", "warning", 1, ((8, "Status", "Frozen"),))
    check("unknown value", "Via", "info", 1, ((8, "Via", "Pigeon"),))
    check("empty row", "", "info", 1, ((5, "", ""),))
    check("duplicate ticket id", "Id", "warning", 1, ((4, "Id", "3"),))
    check("missing ticket id", "Id", "warning", 1, ((7, "Id", ""),))
    check("malformed row", "", "warning", 1,
          ((9, "", "expected 41 fields, saw 42"),))
    assert list(t.index) == [1, 2, 3, 5, 7]
    assert pd.isna(t.loc[1, "resolved_at"]) and pd.isna(t.loc[2, "resolved_at"])
    assert t.loc[3, "status"] == "Pending"  # the last row of a repeated id wins
    assert t.loc[3, "priority"] == "Low"
    assert t.loc[2, "priority"] == "Unknown"
    assert t.loc[5, "status"] == "Open" and t.loc[5, "channel"] == "Pigeon"
    # the row after the malformed line keeps its own row number
    assert result.dataset.manifest["rows"] == {"source": 9, "tickets": 5, "accounts": 1, "agents": 0,
                                               "escalation_events": 0, "status_changes": 0, "dropped": 4}
    assert not result.report.fatal


def test_report_lines_rows_and_data(tmp_path):
    header = ["Id", "Created at", "Solved at"]
    rows = [[i, "2025-01-01 08:00:00", "yesterday" if i % 2 else ""] for i in range(1, 3002)]
    result = load_export(write_rows(tmp_path / "many.csv", header, rows))
    report = result.report
    lines = report.lines()
    assert lines[0] == ("warning: unparseable date in column 'Solved at': 1,501 rows (kept as missing); "
                        "e.g. row 2, Solved at: 'yesterday'; row 4, Solved at: 'yesterday'; "
                        "row 6, Solved at: 'yesterday'; row 8, Solved at: 'yesterday'; "
                        "row 10, Solved at: 'yesterday'")
    # one note per canonical field the file lacks
    assert lines[1] == ("info: missing field in column 'first_response_at': 1 field (the source has no "
                        "first-response times; the KPIs that need it show n/a)")
    assert len(lines) == 1 + 12 and all(line.startswith("info: missing field in column ") for line in lines[1:])
    assert result.dataset.manifest["missing_fields"] == [
        "first_response_at", "csat", "reopen_count", "agent_replies", "escalated", "priority", "channel",
        "issue_type", "team", "agent", "account_id", "subject"]
    assert report.rows()[0] == ("unparseable date (Solved at)", "warning", 1501,
                                "kept as missing. row 2, Solved at: 'yesterday'; row 4, Solved at: "
                                "'yesterday'; row 6, Solved at: 'yesterday'; row 8, Solved at: "
                                "'yesterday'; row 10, Solved at: 'yesterday'")
    data = report.to_data()
    assert data["fatal"] is False and data["counts"] == {"fatal": 0, "warning": 1, "info": 12}
    assert data["findings"][0]["examples"][0] == {"row": 2, "column": "Solved at", "value": "yesterday"}
    json.dumps(data)


def test_report_on_its_own():
    report = QualityReport()
    assert report.lines() == [] and report.rows() == [] and not report.fatal
    report.add("ignored column", "info", 2, unit="column", examples=[(1, "A", ""), (1, "B", "")])
    report.add("unknown value", "fatal", 1_234_567, column="Priority", detail="strict import",
               examples=[(12, "Priority", "P" * 100)])
    assert report.fatal
    assert report.lines() == [
        "fatal: unknown value in column 'Priority': 1,234,567 rows (strict import); e.g. row 12, "
        "Priority: '" + "P" * 59 + "…'",
        "info: ignored column: 2 columns; e.g. row 1, A; row 1, B",
    ]
    assert report.rows()[1] == ("ignored column", "info", 2, "row 1, A; row 1, B")


def test_redaction_uses_stable_pseudonyms_and_drops_free_text(tmp_path):
    path = zendesk_fixture(tmp_path)
    result = load_export(path, redact=True)
    t = result.dataset.tickets
    assert list(t["requester_name"]) == ["Requester 0001", "Requester 0002", "Requester 0001"]
    assert list(t["requester_email"]) == ["requester0001@redacted.invalid", "requester0002@redacted.invalid",
                                          "requester0001@redacted.invalid"]
    assert (t["subject"] == "").all()
    assert result.dataset.manifest["redacted"] is True
    text = json.dumps(result.dataset.manifest) + repr(result.dataset)
    for secret in ("Zoë", "zoe@acme", "Carl", "Cannot log in"):
        assert secret not in text
    plain = load_export(path).dataset.tickets
    assert list(t["agent"]) == list(plain["agent"])  # agents are staff, not requesters
    assert_valid_dataset(result.dataset)


def test_same_file_same_dataset_and_it_survives_write_and_read(tmp_path):
    path = messy_zendesk(tmp_path)
    first, second = load_export(path), load_export(path)
    for name in ("tickets", "accounts", "agents", "escalation_events"):
        pd.testing.assert_frame_equal(getattr(first.dataset, name), getattr(second.dataset, name))
    assert first.dataset.manifest == second.dataset.manifest
    assert first.report.to_data() == second.report.to_data()
    good = load_export(zendesk_fixture(tmp_path)).dataset
    write_dataset(good, tmp_path / "folder")
    back = read_dataset(tmp_path / "folder")
    for column in ("ticket_id", "created_at", "first_response_at", "resolved_at", "status", "priority",
                   "csat", "escalated", "reopen_count", "agent_replies"):
        pd.testing.assert_series_equal(back.tickets[column], good.tickets[column], check_dtype=True)
    assert back.manifest == good.manifest


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_encodings_and_delimiters(tmp_path, encoding, delimiter):
    header = ["Id", "Created at", "Subject", "Organization"]
    rows = [[1, "2025-01-01 08:00:00", "Café; 5 €, please", "Müller"],
            [2, "2025-01-02 08:00:00", "Line one\nline two", "Ørsted"]]
    result = load_export(write_rows(tmp_path / "e.csv", header, rows, encoding=encoding, delimiter=delimiter))
    t = result.dataset.tickets
    assert list(t["subject"]) == ["Café; 5 €, please", "Line one\nline two"]
    assert list(t["account_id"]) == ["Müller", "Ørsted"]


def test_row_numbers_count_records_not_lines(tmp_path):
    header = ["Id", "Created at", "Subject"]
    rows = [[1, "2025-01-01 08:00:00", "three\nline\nsubject"], [2, "someday", "x"]]
    result = load_export(write_rows(tmp_path / "lines.csv", header, rows))
    bad = [f for f in result.report.findings if f.kind == "unparseable date"][0]
    assert bad.examples == ((3, "Created at", "someday"),)


@pytest.mark.parametrize("wrap", [lambda r: r, lambda r: {"tickets": r}])
def test_json_list_or_tickets_object(tmp_path, wrap):
    records = [{"Id": 1, "Created at": "2025-01-01T08:00:00", "Priority": "urgent", "Reopens": 2,
                "Group stations": 2.0, "Tags": ["a", "b"]},
               {"Id": 2, "Created at": "2025-01-02T08:00:00", "Priority": None, "Solved at": "2025-01-03T08:00:00"}]
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(wrap(records)), encoding="utf-8")
    result = load_export(path)
    t = result.dataset.tickets
    assert result.mapping == "zendesk"
    assert list(t["priority"]) == ["Critical", "Unknown"]
    assert list(t["reopen_count"]) == [2, 0] and list(t["escalated"]) == [True, False]
    assert list(t["status"]) == ["Open", "Resolved"]  # no status column: derived from the resolved time
    assert result.dataset.manifest["format"] == {"format": "JSON"}
    assert_valid_dataset(result.dataset)


def test_builtin_mappings_are_package_data_parsed_once():
    from supportxl.ingest import MAPPINGS, load_mapping

    for name in MAPPINGS:
        mapping = load_mapping(name)
        assert mapping.name == name and mapping.description
        assert mapping.source == f"built-in mapping {name}"
        assert load_mapping(name) is mapping
    servicenow = load_mapping("servicenow")
    assert servicenow.columns["created_at"][:2] == ("opened_at", "Opened")
    assert (servicenow.group_by, servicenow.order_by) == ("ticket_id", "updated_at")
