"""Issue-type classification of untyped tickets at import, from the shipped rules file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pandas as pd
import pytest

from conftest import load_book, make_dataset
from supportxl.errors import ParameterError
from supportxl.ingest.classify import RULE_COLUMN, classify, load_rules
from supportxl.ingest.importer import load_export
from supportxl.workbook.builder import build_workbook


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A Zendesk-style export of generated tickets: every third keeps its type, the others are
    'Other', blank or 'unknown'."""
    tickets = make_dataset(600, seed=5).tickets
    kept = np.arange(len(tickets)) % 3 == 0
    untyped = np.array(["Other", "", " unknown "], dtype=object)[np.arange(len(tickets)) % 3]
    frame = pd.DataFrame({"Id": tickets["ticket_id"], "Created at": tickets["created_at"].dt.strftime("%Y-%m-%d %H:%M"),
                          "Status": tickets["status"], "Priority": tickets["priority"],
                          "Subject": tickets["subject"],
                          "Ticket type": np.where(kept, tickets["issue_type"], untyped)})
    path = tmp_path_factory.mktemp("classify") / "export.csv"
    frame.to_csv(path, index=False)
    return path, tickets, kept


def test_untyped_tickets_are_classified_and_given_types_kept(export):
    path, truth, kept = export
    result = load_export(path)
    tickets = result.dataset.tickets
    assert (tickets["issue_type"][kept].to_numpy() == truth["issue_type"][kept].to_numpy()).all()
    assert (tickets[RULE_COLUMN][kept] == "").all()
    classified = tickets[RULE_COLUMN].ne("").to_numpy() & ~kept
    coverage = classified.sum() / (~kept).sum()
    right = (tickets["issue_type"].to_numpy() == truth["issue_type"].to_numpy())[classified].mean()
    print(f"coverage {coverage:.1%}, right {right:.1%}")
    assert coverage >= 0.9 and right >= 0.85
    # Each classified ticket names its rule, and the rule's type is the ticket's type.
    rule_types = tickets[RULE_COLUMN][classified].str.split(":").str[0]
    assert (rule_types.to_numpy() == tickets["issue_type"][classified].to_numpy()).all()
    finding = next(f for f in result.report.findings if f.kind == "issue type classified")
    assert finding.count == classified.sum()
    assert finding.detail.startswith(f"{classified.sum():,} of {(~kept).sum():,} untyped tickets ({coverage:.1%})")


def test_the_tickets_sheet_shows_the_rule(export, tmp_path):
    path, _, _ = export
    result = load_export(path)
    out = build_workbook(result.dataset, tmp_path / "classified.xlsx").path
    ws = load_book(out, data_only=True)["Tickets"]
    headers = [c.value for c in ws[1]]
    assert headers[headers.index("Issue type") + 1] == "Issue type rule"
    rules = [ws.cell(r, headers.index("Issue type rule") + 1).value for r in range(2, 12)]
    types = [ws.cell(r, headers.index("Issue type") + 1).value for r in range(2, 12)]
    assert all(rule is None or rule.split(":")[0] == t for rule, t in zip(rules, types))
    # the pivot cache lists the Tickets columns in the sheet's order: LibreOffice (and a refresh)
    # match cache fields to source columns by position
    with zipfile.ZipFile(out) as z:
        cache = ET.fromstring(z.read("xl/pivotCache/pivotCacheDefinition1.xml"))
    fields = [f.get("name") for f in cache.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}cacheField")]
    assert fields == [*headers, "Years"]


def test_first_matching_rule_wins_and_untyped_is_configurable(tmp_path):
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text('untyped = ["Misc"]\n[[rule]]\ntype = "Refund"\nkeywords = ["refund"]\n'
                          '[[rule]]\ntype = "Billing"\nkeywords = ["invoice", "refund"]\n'
                          "patterns = ['INV-\\d+']\n", encoding="utf-8")
    tickets = pd.DataFrame({"issue_type": ["Misc", "Other", "Misc", "Misc", "misc"],
                            "subject": ["Refund for invoice 7", "refund please", "Paid INV-42",
                                        "Refunded?", "Invoice copy"]})
    types, matched = classify(tickets, load_rules(rules_file))
    assert types.tolist() == ["Refund", "Other", "Billing", "Misc", "Billing"]
    assert matched.tolist() == ["Refund: 'refund'", "", "Billing: 'inv-42'", "", "Billing: 'invoice'"]


@pytest.mark.parametrize("text, message", [
    ('[[rule]]\nkeywords = ["a"]\n', "rule 1: needs a type (the issue type it gives)."),
    ('[[rule]]\ntype = "A"\n', "rule 1 (A): give keywords or patterns."),
    ("[[rule]]\ntype = \"A\"\npatterns = ['(']\n", "rule 1 (A): pattern '(' is not a regular expression"),
])
def test_bad_rules_are_refused(tmp_path, text, message):
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError) as error:
        load_rules(path)
    assert str(error.value).startswith(f"{path}: {message}")


DESCRIBED = [  # Subject, Description, Ticket type (as the export gives it), the type expected after import
    ("Help", "I cannot log in since this morning, the password reset mail never came.", "", "Login"),
    ("Question", "Please send the invoice for March again, with our VAT number.", "Other", "Billing"),
    ("Urgent!!", "The webhook stopped firing after we rotated the API token.", "unknown", "API"),
    ("Hello", "Thanks for the call yesterday.", "", ""),  # nothing to go on: kept as the export has it
    ("Hi", "My password does not work", "Refund", "Refund"),  # a given type is never changed
]


def test_descriptions_classify_what_subjects_cannot(tmp_path):
    frame = pd.DataFrame({"Id": range(1, len(DESCRIBED) + 1), "Created at": "2025-05-05 10:00",
                          "Status": "Open", "Priority": "Low",
                          "Subject": [d[0] for d in DESCRIBED], "Description": [d[1] for d in DESCRIBED],
                          "Ticket type": [d[2] for d in DESCRIBED]})
    path = tmp_path / "zendesk.csv"
    frame.to_csv(path, index=False)
    result = load_export(path)
    tickets = result.dataset.tickets
    expected = [d[3] or "Unknown" for d in DESCRIBED]
    assert tickets["issue_type"].tolist() == expected
    assert tickets[RULE_COLUMN].tolist() == ["Login: 'log in'", "Billing: 'invoice'", "API: 'webhook'", "", ""]
    finding = next(f for f in result.report.findings if f.kind == "issue type classified")
    assert finding.detail == ("3 of 4 untyped tickets (75.0%) classified by the rules in templates/issue_types.toml: "
                              "API 1, Billing 1, Login 1; from the subjects alone: 0 (0.0%); the Tickets sheet's "
                              "Issue type rule column names each rule")
    # Read for the rules only: the workbook has no description column, and --redact drops the text.
    out = build_workbook(result.dataset, tmp_path / "described.xlsx").path
    headers = [c.value for c in load_book(out)["Tickets"][1]]
    assert "Description" not in headers and not any("escription" in str(h) for h in headers)
    redacted = load_export(path, redact=True).dataset.tickets
    assert redacted["description"].tolist() == [""] * len(DESCRIBED)
    assert redacted["issue_type"].tolist() == expected
