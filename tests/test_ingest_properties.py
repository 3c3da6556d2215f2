"""Whatever the file holds, ``load_export`` gives a valid Dataset or a SupportxlError."""

from __future__ import annotations

import csv
import tempfile
import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingest_helpers import ZENDESK_HEADER, assert_valid_dataset, derive_ok

from supportxl.errors import SupportxlError
from supportxl.ingest import load_export

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

AWKWARD = st.sampled_from([
    "", "?", "-", " ", "2025-01-01 10:00:00", "2025-01-01T10:00:00+05:30", "2025-02-30 10:00", "31/12/2025 23:59",
    "25/Feb/26 10:17 PM", "45678.5", "0", "-1", "1e308", "NaN", "inf", "-1:30", "99:99", "Good", "Bad", "Offered",
    "Urgent", "Normal", "Solved", "On-hold", "Web form", "=SUM(A1)", '"', "a,b", "x\ny", "1899-12-30", "9999-12-31",
    "10000000000000000000000", "3.5", "٣", "\ufeff", "NULL",
])
VALUE = st.one_of(AWKWARD, st.text(max_size=12), st.integers(-10**20, 10**20).map(str),
                  st.floats(allow_nan=True, allow_infinity=True).map(str))
DATE = st.datetimes(min_value=dt.datetime(1970, 1, 1),
                    max_value=dt.datetime(2110, 1, 1)).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S"))
ID = st.integers(0, 30).map(str)
# Mostly plausible values in the columns a ticket cannot do without, so that many examples
# get past the required checks and exercise the rest of the import.
BY_COLUMN = {"Id": st.one_of(ID, ID, ID, VALUE), "Created at": st.one_of(DATE, DATE, DATE, VALUE),
             "Solved at": st.one_of(DATE, VALUE)}
ZENDESK_COLUMNS = ["Id", "Created at", "Solved at", "Status", "Priority", "Via", "Group", "Assignee",
                   "Organization", "Requester", "Requester email", "Subject", "Satisfaction Score",
                   "Group stations", "Reopens", "Replies", "First reply time in minutes",
                   "First reply time in minutes within business hours", "Full resolution time in minutes"]


def outcome(path: Path, **kwargs) -> None:
    try:
        result = load_export(path, **kwargs)
    except SupportxlError as exc:
        text = str(exc)
        assert text and "Traceback" not in text
        return
    assert_valid_dataset(result.dataset)
    derive_ok(result.dataset)
    assert all(f.severity != "fatal" for f in result.report.findings)
    result.report.lines()
    result.report.rows()


@st.composite
def zendesk_tables(draw):
    extra = draw(st.lists(st.sampled_from(ZENDESK_HEADER), max_size=3))
    required = draw(st.sampled_from([["Id", "Created at"]] * 4 + [["Id"], []]))
    optional = draw(st.lists(st.sampled_from(ZENDESK_COLUMNS), max_size=8, unique=True))
    header = list(dict.fromkeys(required + optional)) + extra
    if not header:
        header = ["Id"]
    row = st.tuples(*[BY_COLUMN.get(h, VALUE) for h in header]).map(list)
    rows = draw(st.lists(row, max_size=6))
    return header, rows


@SETTINGS
@given(table=zendesk_tables(), delimiter=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]), redact=st.booleans(), strict=st.booleans())
def test_arbitrary_zendesk_rows(table, delimiter, encoding, redact, strict):
    header, rows = table
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        with open(path, "w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(header)
            writer.writerows(rows)
        outcome(path, redact=redact, strict=strict)
        outcome(path, mapping="zendesk")


@SETTINGS
@given(ids=st.lists(st.integers(1, 5), min_size=1, max_size=8),
       states=st.lists(st.sampled_from(["New", "Active", "Resolved", "Closed", "On Hold", "?", "-100", "x"]),
                       min_size=8, max_size=8),
       times=st.lists(st.one_of(st.datetimes().map(lambda d: d.strftime("%d-%m-%Y %H:%M")), AWKWARD),
                      min_size=16, max_size=16),
       groups=st.lists(st.sampled_from(["A", "B", "C", "?"]), min_size=8, max_size=8))
def test_arbitrary_audit_rows(ids, states, times, groups):
    header = ["number", "incident_state", "opened_at", "sys_updated_at", "assignment_group", "priority"]
    rows = [[f"INC{i}", states[k], times[k], times[8 + k], groups[k], "3 - Moderate"] for k, i in enumerate(ids)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])
        outcome(path)


@SETTINGS
@given(content=st.one_of(
    st.binary(max_size=600),
    st.binary(max_size=600).map(lambda b: b"Id,Created at,Status\n" + b),
    st.binary(max_size=600).map(lambda b: b"\xef\xbb\xbfId;Created at;Solved at\r\n1;2025-01-01;" + b),
    st.binary(max_size=300).map(lambda b: b'[{"Id": 1, "Created at": "2025-01-01"}, ' + b),
    st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),
), suffix=st.sampled_from([".csv", ".json", ".xlsx", ".txt", ""]))
def test_arbitrary_bytes(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export{suffix}"
        path.write_bytes(content)
        outcome(path)
