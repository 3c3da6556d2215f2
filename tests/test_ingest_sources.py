"""Each built-in mapping on a fixture written the way that helpdesk writes its exports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_ingest_helpers import (assert_valid_dataset, canonical_fixture, derive_ok, explore_xlsx_fixture, freshdesk_fixture,
                                 hubspot_json_fixture, jira_fixture, servicenow_audit_fixture,
                                 servicenow_fixture, write_rows, zendesk_fixture)

from supportxl.ingest import MAPPINGS, ImportResult, QualityReport, load_export

FIXTURES = {
    "zendesk": zendesk_fixture,
    "zendesk_explore": explore_xlsx_fixture,
    "freshdesk": freshdesk_fixture,
    "jira": jira_fixture,
    "servicenow": servicenow_fixture,
    "servicenow-audit": servicenow_audit_fixture,
    "hubspot": hubspot_json_fixture,
    "canonical": canonical_fixture,
}


def _load(tmp_path, name, **kwargs) -> ImportResult:
    path = FIXTURES[name](tmp_path)
    if name == "zendesk_explore":
        kwargs.setdefault("sheet", "Tickets")
    return load_export(path, **kwargs)


def _findings(result: ImportResult, kind: str, column: str | None = None):
    return [f for f in result.report.findings if f.kind == kind and (column is None or f.column == column)]


def _by_id(result: ImportResult) -> pd.DataFrame:
    return result.dataset.tickets.set_index("ticket_id")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_every_mapping_has_a_fixture():
    assert set(MAPPINGS) == {n.split("-")[0] for n in FIXTURES}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_auto_detection_picks_the_mapping_and_says_why(tmp_path, name):
    result = _load(tmp_path, name)
    expected = name.split("-")[0]
    assert result.mapping == expected
    assert result.reason.startswith(f"{expected}, recognised from the headers: ")
    assert "mapped columns found: " in result.reason
    assert isinstance(result.report, QualityReport)
    assert_valid_dataset(result.dataset)
    derive_ok(result.dataset)
    manifest = result.dataset.manifest
    assert manifest["mapping"] == expected
    assert manifest["source"] == f"{expected} export {manifest['file']}"
    assert manifest["data_quality"] == result.report.to_data()
    assert manifest["rows"]["tickets"] == len(result.dataset.tickets)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_the_named_mapping_reads_the_same(tmp_path, name):
    auto = _load(tmp_path, name)
    named = _load(tmp_path, name, mapping=name.split("-")[0])
    assert named.reason.startswith(f"{name.split('-')[0]}, as given: ")
    pd.testing.assert_frame_equal(auto.dataset.tickets, named.dataset.tickets)


def test_zendesk_classic_csv(tmp_path):
    result = _load(tmp_path, "zendesk")
    t = _by_id(result)
    assert result.reason.startswith("zendesk, recognised from the headers: 31 of 34 mapped columns found: Id, Created at, Solved at, Updated at, ")
    assert list(t.index) == [101, 102, 103]
    assert t.loc[101, "subject"] == "Cannot log in\nsince Monday"  # quoted multi-line field
    assert t.loc[102, "subject"] == '=HYPERLINK("x")'  # formula-looking text stays text
    assert t.loc[101, "requester_name"] == "Zoë Adams"  # UTF-8 after a byte-order mark
    assert list(t["status"]) == ["Resolved", "Open", "Closed"]
    assert list(t["priority"]) == ["Critical", "Medium", "Low"]
    assert list(t["channel"]) == ["Web", "Email", "Chat"]
    assert list(t["csat"].astype(object).where(t["csat"].notna(), None)) == [5, None, 1]  # good/bad, offered
    assert list(t["escalated"]) == [False, True, False]  # group stations > 1
    assert list(t["escalation_tier"]) == ["Tier 1", "Tier 2", "Tier 1"]
    assert t.loc[101, "resolved_at"] == ts("2025-03-03 11:45:30")
    assert pd.isna(t.loc[102, "resolved_at"])  # "?" is missing
    # Zendesk states the first reply only as minutes after creation
    assert t.loc[101, "first_response_at"] == ts("2025-03-03 09:35:00")
    assert t.loc[102, "first_response_at"] == ts("2025-03-04 14:45:00")
    assert list(t["reopen_count"]) == [0, 0, 1]
    assert list(t["agent_replies"]) == [2, 1, 4]
    assert list(t["account_id"]) == ["Acme", "Beta", "Acme"]
    assert t.loc[101, "frt_business_hours_source"] == pytest.approx(20 / 60)
    assert t.loc[101, "ttr_business_hours_source"] == pytest.approx(2.5)
    accounts = result.dataset.accounts
    assert list(accounts["account_id"]) == ["Acme", "Beta"] and list(accounts["name"]) == ["Acme", "Beta"]
    assert (accounts["annual_revenue"] == 0).all() and (accounts["industry"] == "Unknown").all()
    agents = result.dataset.agents
    assert list(agents["agent_id"]) == ["AG-001", "AG-002"]
    assert list(agents["name"]) == ["Ben Ortiz", "Ana Lima"]
    assert list(agents["team"]) == ["Support", "Tier 2"]
    assert result.dataset.escalation_events.empty
    ignored = _findings(result, "ignored column")
    assert len(ignored) == 1 and ignored[0].severity == "info" and ignored[0].count == 10
    assert ignored[0].examples[0] == (1, "Requester id", "")
    assert "Product [list]" in ignored[0].detail
    manifest = result.dataset.manifest
    # as of the latest timestamp of any kind: ticket 103's solved time
    assert manifest["period"] == {"start": "2025-03-03", "end": "2025-03-05", "as_of": "2025-03-06 08:00:00",
                                  "as_of_given": False}
    assert manifest["timezone"] == "UTC"
    assert manifest["format"] == {"format": "CSV", "encoding": "utf-8-sig", "delimiter": "comma"}
    assert result.dataset.as_of == ts("2025-03-06 08:00")
    assert manifest["missing_fields"] == []


def test_zendesk_explore_xlsx_with_excel_serial_dates(tmp_path):
    result = _load(tmp_path, "zendesk_explore")
    t = _by_id(result)
    assert t.loc[5001, "created_at"] == ts("2025-03-01 12:00")  # serial 45717.5
    assert t.loc[5002, "created_at"] == ts("2025-03-02 06:00")  # serial 45718.25
    assert t.loc[5001, "resolved_at"] == ts("2025-03-01 18:30")  # a date cell
    assert t.loc[5003, "created_at"] == ts("2025-03-03")  # text, date only
    assert list(t["status"]) == ["Resolved", "Pending", "Closed"]
    assert list(t["channel"]) == ["Email", "Web", "Chat"]
    assert t.loc[5003, "agent"] == "Unassigned" and t.loc[5003, "account_id"] == "Unknown"
    empty = _findings(result, "empty row")
    assert empty[0].examples == ((4, "", ""),) and empty[0].severity == "info"
    assert result.dataset.manifest["format"] == {"format": "XLSX", "sheet": "Tickets"}


def test_excel_serials_after_2099_are_unparseable_not_wrapped_into_other_years(tmp_path):
    # Nanoseconds end in 2262: serial 258504 (the year 2607) used to wrap to 2023-03-15 00:25:26,
    # and 132321 (2262) to raise on NumPy 2.5
    path = tmp_path / "zendesk.csv"
    path.write_text("Id,Created at,Solved at,Status\n1,45717.5,45718.25,Solved\n2,258504,,Open\n"
                    "3,45717.5,132321,Solved\n")
    result = load_export(path, "zendesk")
    t = _by_id(result)
    assert list(t.index) == [1, 3]
    assert t.loc[1, "resolved_at"] == ts("2025-03-02 06:00") and t.loc[3, "resolved_at"] is pd.NaT
    created, solved = _findings(result, "unparseable date", "Created at"), _findings(result, "unparseable date", "Solved at")
    assert (created[0].examples, created[0].detail) == (((3, "Created at", "258504"),),
                                                        "the row is dropped: a ticket needs its created time")
    assert (solved[0].examples, solved[0].detail) == (((4, "Solved at", "132321"),), "kept as missing")


def test_xlsx_reads_the_first_sheet_unless_told(tmp_path):
    from supportxl.errors import SupportxlError

    path = explore_xlsx_fixture(tmp_path)
    with pytest.raises(SupportxlError, match="cannot tell which helpdesk"):
        load_export(path)  # the first sheet holds a note, not the table
    with pytest.raises(SupportxlError) as info:
        load_export(path, sheet="Missing")
    assert str(info.value) == f"{path}: no sheet named 'Missing' (sheets: Notes, Tickets)."


def test_freshdesk_cp1252_semicolons(tmp_path):
    result = _load(tmp_path, "freshdesk")
    t = _by_id(result)
    assert result.dataset.manifest["format"] == {"format": "CSV", "encoding": "cp1252", "delimiter": "semicolon"}
    assert t.loc[7, "subject"] == "Remboursement de 50 € refusé"
    assert t.loc[7, "account_id"] == "Société Générale"
    assert list(t["status"]) == ["Resolved", "Pending", "Closed"]
    assert list(t["priority"]) == ["Critical", "Medium", "Low"]
    assert list(t["channel"]) == ["Web", "Email", "Phone"]
    assert t.loc[7, "first_response_at"] == ts("2025-05-02 08:45")
    assert t.loc[9, "created_at"] == ts("2025-05-04 09:00")  # day-first date
    assert t.loc[9, "resolved_at"] == ts("2025-05-04 10:00")  # from Closed time
    assert t.loc[8, "agent"] == "Unassigned"  # "No Agent"
    assert list(t["csat"].fillna(0)) == [5, 0, 1]
    assert t.loc[7, "frt_business_hours_source"] == pytest.approx(0.75)  # "0:45"
    assert t.loc[9, "frt_business_hours_source"] == pytest.approx(10.5 / 60)  # "0:10:30"
    assert t.loc[7, "ttr_business_hours_source"] == pytest.approx(9.5)  # "9:30:00"
    assert list(t["agent_replies"]) == [3, 0, 1]
    assert not any(f.severity == "warning" for f in result.report.findings)
    from_closed = _findings(result, "closed status without a resolved time", "Status")[0]
    assert (from_closed.severity, from_closed.count, from_closed.examples) == ("info", 1, ((4, "Status", "Closed"),))
    assert from_closed.detail == "resolved time taken from the closed time (Closed time)"


def test_jira_dates_repeated_headers_and_signed_durations(tmp_path):
    result = _load(tmp_path, "jira")
    t = _by_id(result)
    assert t.loc["SUP-1", "created_at"] == ts("2026-02-25 22:17")  # "25/Feb/26 10:17 PM"
    assert t.loc["SUP-1", "resolved_at"] == ts("2026-02-26 01:47")
    assert t.loc["SUP-3", "created_at"] == ts("2026-02-27 12:00")  # 12:00 PM is noon
    assert list(t["priority"]) == ["Critical", "Medium", "Low"]  # Highest, Medium, Lowest
    # SUP-3 is Closed, but its resolved time is unreadable and it has no update time: open
    assert list(t["status"]) == ["Resolved", "Pending", "Open"]
    assert t.loc["SUP-3", "resolved_at"] is pd.NaT
    reopened = _findings(result, "closed status without a resolved time", "Status")[0]
    assert (reopened.severity, reopened.count, reopened.examples) == ("warning", 1, ((4, "Status", "Closed"),))
    assert list(t["csat"].fillna(0)) == [5, 0, 3]
    assert result.dataset.tickets["ticket_id"].dtype == "str"
    repeated = [f for f in _findings(result, "ignored column") if "repeated" in f.detail]
    assert repeated[0].count == 3 and "Watchers, Comment, Comment" in repeated[0].detail
    bad = _findings(result, "unparseable date", "Resolved")[0]
    assert (bad.severity, bad.count, bad.examples) == ("warning", 1, ((4, "Resolved", "not a date"),))
    # "-1:30" is a signed SLA field: negative means breached, not an error
    assert not _findings(result, "negative or absurd duration")
    assert not _findings(result, "unparseable duration")


def test_servicenow_list_export(tmp_path):
    result = _load(tmp_path, "servicenow")
    t = _by_id(result)
    assert list(t["priority"]) == ["Medium", "Critical", "Low"]  # 3 - Moderate, 1 - Critical, 5 - Planning
    assert list(t["status"]) == ["Resolved", "Closed", "Pending"]
    assert list(t["channel"]) == ["Email", "Phone", "Web"]
    assert list(t["escalated"]) == [False, True, False]  # reassignment_count > 0
    assert t.loc["INC0010002", "escalation_tier"] == "Tier 2"
    assert t.loc["INC0010002", "resolved_at"] == ts("2025-06-03 14:00")  # closed_at when resolved_at is "?"
    assert t.loc["INC0010003", "agent"] == "Unassigned"
    assert t.loc["INC0010001", "ttr_business_hours_source"] == pytest.approx(3.0)  # business_stc seconds
    assert result.dataset.escalation_events.empty


def test_servicenow_labels_are_aliases_of_field_names(tmp_path):
    header = ["Number", "Opened", "Short description", "Caller", "Priority", "State", "Category",
              "Assignment group", "Assigned to", "Resolved", "Reassignment count"]
    rows = [["INC1", "2025-06-02 09:00:00", "A", "Rae", "2 - High", "Resolved", "Network", "Desk", "Tom",
             "2025-06-02 10:00:00", "1"]]
    result = load_export(write_rows(tmp_path / "labels.csv", header, rows))
    t = result.dataset.tickets
    assert result.mapping == "servicenow"
    assert (t.loc[0, "priority"], t.loc[0, "status"], t.loc[0, "escalated"]) == ("High", "Resolved", True)
    assert t.loc[0, "resolved_at"] == ts("2025-06-02 10:00")


def test_servicenow_audit_export_is_collapsed(tmp_path):
    result = _load(tmp_path, "servicenow-audit")
    t = _by_id(result)
    assert list(t.index) == ["INC0000045", "INC0000047", "INC0000050"]
    row = t.loc["INC0000045"]
    assert row["created_at"] == ts("2016-02-29 01:16")  # "29-02-2016 01:16"
    assert row["first_response_at"] == ts("2016-02-29 08:53")  # first change of state
    assert row["resolved_at"] == ts("2016-03-01 09:52")
    assert (row["status"], row["team"], row["escalated"], row["escalation_tier"]) == (
        "Closed", "Group 70", True, "Tier 2")
    assert t.loc["INC0000047", "status"] == "Pending"
    assert t.loc["INC0000047", "first_response_at"] == ts("2016-02-29 05:30")
    assert pd.isna(t.loc["INC0000047", "resolved_at"])
    assert t.loc["INC0000050", "status"] == "Open" and pd.isna(t.loc["INC0000050", "first_response_at"])
    assert list(t["priority"]) == ["Medium", "High", "Critical"]
    events = result.dataset.escalation_events
    first = events[events["ticket_id"] == "INC0000045"]
    assert list(first["step"]) == [1, 2, 3, 4, 5]
    assert list(first["timestamp"]) == [ts("2016-02-29 01:16"), ts("2016-02-29 08:53"), ts("2016-02-29 11:29"),
                                        ts("2016-03-01 09:52"), ts("2016-03-06 10:00")]
    assert list(first["activity"]) == ["Initial Submission", "Troubleshooting", "Escalation",
                                       "Resolution Confirmation", "Resolution Confirmation"]
    assert list(first["stakeholder"]) == ["Customer", "Tier 1", "Tier 1", "Tier 2", "Tier 2"]
    assert list(first["counterpart"]) == ["Tier 1", "Tier 1", "Tier 2", "Tier 2", "Customer"]
    assert len(events) == 9
    audit = _findings(result, "audit export")[0]
    assert audit.severity == "info" and "9 update rows collapsed into 3 tickets" in audit.detail
    assert result.dataset.manifest["audit_export"] is True
    assert result.dataset.manifest["rows"] == {"source": 9, "tickets": 3, "accounts": 1, "agents": 1,
                                               "escalation_events": 9, "status_changes": 7, "dropped": 0}
    changes = result.dataset.status_changes
    assert changes[changes["ticket_id"] == "INC0000047"]["to_status"].tolist() == ["New", "Open", "Pending"]
    frame = derive_ok(result.dataset)
    assert frame.set_index("ticket_id").loc["INC0000045", "hours_to_escalate"] == pytest.approx(
        (ts("2016-02-29 11:29") - ts("2016-02-29 01:16")).total_seconds() / 3600)


def test_hubspot_json_api_records(tmp_path):
    result = _load(tmp_path, "hubspot")
    t = _by_id(result)
    assert t.loc[9001, "created_at"] == ts("2025-07-01 08:00")
    assert t.loc[9002, "created_at"] == ts("2025-07-01 11:00")  # epoch milliseconds
    assert t.loc[9001, "first_response_at"] == ts("2025-07-01 08:15")  # created + 900,000 ms
    assert t.loc[9002, "first_response_at"] == ts("2025-07-01 11:05")
    assert t.loc[9001, "resolved_at"] == ts("2025-07-01 10:30")
    assert list(t["status"]) == ["Closed", "Pending"]
    assert list(t["priority"]) == ["High", "Critical"]
    assert t.loc[9001, "frt_business_hours_source"] == pytest.approx(0.25)
    assert t.loc[9001, "ttr_business_hours_source"] == pytest.approx(1.5)


def test_hubspot_tab_separated_with_a_time_zone(tmp_path):
    header = ["hs_object_id", "subject", "hs_pipeline_stage", "hs_ticket_priority", "createdate", "closed_date"]
    rows = [["1", "A", "New", "LOW", "2025-07-01T08:00:00Z", ""],
            ["2", "B", "Closed", "MEDIUM", "2025-07-01T09:00:00+02:00", "2025-07-01T12:00:00Z"]]
    path = write_rows(tmp_path / "hubspot.tsv", header, rows, delimiter="\t")
    result = load_export(path, timezone="Europe/Berlin")
    t = result.dataset.tickets
    assert result.dataset.manifest["format"]["delimiter"] == "tab"
    assert result.dataset.manifest["timezone"] == "Europe/Berlin"
    assert result.dataset.manifest["timestamps"] == "utc"
    assert list(t["created_at"]) == [ts("2025-07-01 08:00"), ts("2025-07-01 07:00")]  # absolute: UTC
    assert t.loc[1, "resolved_at"] == ts("2025-07-01 12:00")
    utc = load_export(path).dataset
    pd.testing.assert_frame_equal(utc.tickets, t)  # the offsets decide, not the zone
    assert utc.manifest["timezone"] == "UTC"


def test_naive_timestamps_are_read_in_the_export_zone_and_stored_in_utc(tmp_path):
    path = zendesk_fixture(tmp_path)
    plain = load_export(path).dataset
    zoned = load_export(path, timezone="America/New_York").dataset
    # March 2025 in New York: EST (UTC-5) until the 9th, EDT (UTC-4) after
    offset = np.where(plain.tickets["created_at"] < ts("2025-03-09 02:00"), 5, 4)
    expected = plain.tickets["created_at"] + pd.to_timedelta(offset, unit="h")
    pd.testing.assert_series_equal(zoned.tickets["created_at"], expected, check_names=False)
    assert zoned.manifest["timezone"] == "America/New_York" and zoned.manifest["timestamps"] == "utc"
