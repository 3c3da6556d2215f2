"""Report templates: shipped ones, --set overrides validated like the file, the templates command."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from supportxl.cli import app
from supportxl.errors import ParameterError
from supportxl.metrics.kpis import KPIS
from supportxl.workbook.catalogue import CHART_NAMES

from conftest import load_book, soffice_or_skip
from supportxl.paths import TEMPLATES_DIR
from supportxl.template import load_template, parse_overrides, shipped_templates

runner = CliRunner()


def test_overrides_change_values_and_are_recorded():
    template = load_template("dashboard", ["sla.resolution_hours.High=8", 'title="Q4 review"',
                                           "targets.csat=0.9"])
    assert template.sla.resolution_hours == {"Critical": 4.0, "High": 8.0, "Medium": 24.0, "Low": 48.0}
    assert template.title == "Q4 review" and template.targets.csat == 0.9
    assert template.source == ('shipped template templates/dashboard.toml with --set '
                               'sla.resolution_hours.High=8 title="Q4 review" targets.csat=0.9')


def test_override_values_are_read_as_toml_or_text():
    assert parse_overrides(["a.b=8", "c=true", "d=[1, 2]", "e=plain words", 'f="quoted"']) == {
        "a": {"b": 8}, "c": True, "d": [1, 2], "e": "plain words", "f": "quoted"}


@pytest.mark.parametrize("override,message", [
    ("slaa=3", "--set: unknown key 'slaa' (valid keys: calendar, cards, charts, compact, csat_good_threshold, "
               "description, maturity_days, name, paper, pivots, plan, refresh_on_open, sheets, sla, slicers, "
               "source, targets, theme, timeline, title, top_accounts)."),
    ("cards=[\"tickets\", \"speed\"]", "--set: cards has unknown name 'speed' for a template (valid: "
                                        + ", ".join(KPIS) + ")."),
    ("charts=[\"pie\"]", "--set: charts has unknown name 'pie' for a template (valid: "
                         + ", ".join(CHART_NAMES) + ")."),
    ("sheets=[\"Dashboard\", \"Tickets\"]", "--set: sheets must include 'Settings': every formula reads "
                                            "the Tickets table and the targets live on Settings."),
    ("sheets=[\"Escalations\", \"Settings\", \"Tickets\"]",
     "--set: sheets lists 'Escalations' but not 'Escalation Log', which its formulas read."),
    ("cards=[\"tickets\", \"tickets\"]", "--set: cards lists 'tickets' twice."),
    ("theme.number_formats.money=\"$0\"", "--set: theme.number_formats has unknown name 'money' for a "
                                          "template (valid: "
                                          "text, id, int, datetime, date, month, hours, percent, score, "
                                          "currency, share)."),
    ("targets.csat=high", "--set: targets.csat should be a number, found 'high'."),
    ("sla.resolution_hours.Hgh=8", "--set: sla.resolution_hours needs exactly the priorities Critical, "
                                   "High, Medium, Low (found: Critical, High, Medium, Low, Hgh)."),
    ("nonsense", "--set 'nonsense': expected KEY=VALUE, for example sla.resolution_hours.High=8."),
    ("csat_good_threshold=9", "--set: csat_good_threshold must be between 1 and 5, found 9."),
])
def test_bad_overrides(override, message):
    with pytest.raises(ParameterError) as info:
        load_template("dashboard", [override])
    assert str(info.value) == message


def test_templates_commands():
    listed = runner.invoke(app, ["templates", "list"])
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == [
        f"{name:<14} {load_template(name).description}" for name in shipped_templates()]
    shown = runner.invoke(app, ["templates", "show", "dashboard"])
    assert shown.exit_code == 0
    assert shown.stdout == (TEMPLATES_DIR / "dashboard.toml").read_text(encoding="utf-8")
    missing = runner.invoke(app, ["templates", "show", "fancy"])
    assert missing.exit_code == 2
    assert missing.stderr == ("Error: unknown template 'fancy' (shipped templates: agent_review, "
                              "dashboard, executive; or give a path to a .toml file).\n")


def test_report_with_set_records_it(tmp_path):
    out = tmp_path / "r.xlsx"
    result = runner.invoke(app, ["report", "-n", "300", "-q", "-o", str(out),
                                 "--set", "sla.resolution_hours.High=8"])
    assert result.exit_code == 0, result.output
    import openpyxl
    book = openpyxl.load_workbook(out, read_only=True)
    assert [r for r in book["Settings"].iter_rows(min_row=7, max_row=7, values_only=True)][0][:3] == ("High", 4, 8)
    about = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True) if r and r[0]}
    assert about["Regenerate with"].endswith(" --set sla.resolution_hours.High=8")


@pytest.mark.parametrize("name", shipped_templates())
def test_every_shipped_template_builds_as_declared(name, small_dataset, tmp_path):
    import re
    import zipfile

    from supportxl.metrics.kpis import kpi
    from supportxl.workbook.builder import build_workbook

    template = load_template(name)
    path = tmp_path / f"{name}.xlsx"
    build_workbook(small_dataset, path, template)
    book = load_book(path)
    assert book.sheetnames == [*template.sheets, *(["Lists"] if "Dashboard" in template.sheets else [])]
    if "Dashboard" in template.sheets:
        dash = book["Dashboard"]
        titles = [dash.cell(row, col).value for row in (7, 13) for col in (1, 4, 7, 10, 13)]
        assert titles[:len(template.cards)] == [kpi(k).name for k in template.cards]
        with zipfile.ZipFile(path) as archive:
            rels = archive.read("xl/drawings/_rels/drawing1.xml.rels").decode()
        assert len(re.findall(r"charts/chart\d+\.xml", rels)) == len(template.charts)


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", shipped_templates())
def test_every_shipped_template_recalculates(name, small_dataset, tmp_path):
    from supportxl.verify import compare_with_recalculated, recalculate
    from supportxl.workbook.builder import build_workbook

    soffice_or_skip()
    path = tmp_path / f"{name}.xlsx"
    build_workbook(small_dataset, path, load_template(name))
    comparison = compare_with_recalculated(path, recalculate(path, tmp_path / "out"))
    assert comparison.ok, comparison.summary()
