"""Data Quality: what importing a helpdesk export found, and what was done about each problem.

The sheet reads the import's report from the dataset's manifest (``data_quality``), so a
dataset folder written after an import keeps its report too.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from supportxl.ingest.report import Finding
from supportxl.workbook.context import BuildContext
from supportxl.workbook.sheets.about import write_unavailable

QUALITY_TABLE = "DataQuality"
FINDING_HEADERS = ("Severity", "Problem", "Column", "Count", "What was done", "Examples (row, column: value)")
FINDING_WIDTHS = (10, 34, 24, 10, 36, 90)
SEVERITY_STYLE = {"fatal": "bad", "warning": "bad", "info": "plain"}


def has_quality_report(manifest: dict) -> bool:
    return isinstance(manifest.get("data_quality"), dict)


def write_quality(ctx: BuildContext, ws: Worksheet) -> None:
    f = ctx.formats
    manifest = ctx.dataset.manifest
    findings = [Finding.from_data(x) for x in (manifest.get("data_quality") or {}).get("findings", [])]
    for col, width in enumerate(FINDING_WIDTHS):
        ws.set_column(col, col, width)
    ws.write_string(0, 0, "Data quality of the import", f.get("title"))
    ws.write_string(1, 0, "What the import found in the export and what it did about it. Row numbers "
                          "are the file's own: the header is row 1.", f.get("subtitle"))

    rows = manifest.get("rows", {})
    summary = [
        ("Export file", str(manifest.get("file", "not recorded"))),
        ("Mapping", str(manifest.get("reason") or manifest.get("mapping", "not recorded"))),
        ("Time zone of the timestamps", str(manifest.get("timezone", "not recorded"))),
        ("Rows read", _count(rows.get("source"))),
        ("Tickets kept", _count(rows.get("tickets"))),
        ("Rows dropped or merged", _count(rows.get("dropped"))),
        ("Names and e-mails", "replaced by pseudonyms, subjects dropped" if manifest.get("redacted")
         else "as in the export"),
        ("Result", _verdict(findings)),
    ]
    row = 3
    for label, value in summary:
        ws.write_string(row, 0, label, f.get("label"))
        ws.merge_range(row, 1, row, 4, value, f.get("wrap"))
        row += 1

    row += 1
    ws.write_string(row, 0, "Findings", f.get("section"))
    top = row + 1
    ws.add_table(top, 0, top + max(len(findings), 1), len(FINDING_HEADERS) - 1, {
        "name": QUALITY_TABLE, "style": f.theme.table_style,
        "columns": [{"header": h, "header_format": f.get("header")} for h in FINDING_HEADERS],
    })
    for i, finding in enumerate(findings, start=top + 1):
        ws.write_string(i, 0, finding.severity, f.get(SEVERITY_STYLE.get(finding.severity, "plain")))
        for col, text in ((1, finding.kind), (2, finding.column), (4, finding.detail),
                          (5, finding.examples_text())):
            ws.write_string(i, col, text, f.get("wrap"))
        ws.write_number(i, 3, finding.count, f.get("plain", "int"))
    write_unavailable(ctx, ws, top + max(len(findings), 1) + 2)
    ws.freeze_panes(top + 1, 0)


def _count(value) -> str:
    return f"{int(value):,}" if isinstance(value, (int, float)) else "not recorded"


def _verdict(findings: list[Finding]) -> str:
    if not findings:
        return "No problems found."
    counts = {s: sum(1 for x in findings if x.severity == s) for s in ("warning", "info")}
    parts = [f"{n:,} {kind}{'s' if n != 1 else ''}" for kind, n in
             (("warning", counts["warning"]), ("note", counts["info"])) if n]
    return ", ".join(parts) + " (listed below)."

