"""`supportxl send`: a real SMTP server (aiosmtpd on 127.0.0.1) receives what the CLI sends.

The tests read the received bytes with the email package and compare them with the files
and with numbers read independently (pandas, openpyxl); failures must send nothing.
"""

from __future__ import annotations

import dataclasses
import email
import html
import shutil
import socket
from email import policy
from pathlib import Path

import pytest
import xlsxwriter
from typer.testing import CliRunner

from supportxl.cli import app
from supportxl.dataset import OPEN_STATUSES, Dataset
from supportxl.deliver import mail
from supportxl.deliver.routing import slug
from supportxl.deliver.headline import read_headline
from supportxl.template import load_template
from supportxl.workbook.builder import build_workbook

from conftest import load_book

aiosmtpd = pytest.importorskip("aiosmtpd", reason="pip install -e '.[test]' installs aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

runner = CliRunner()
USER, PASSWORD = "reports@example.com", "s3cret"


def run(*args, env=None):
    return runner.invoke(app, ["send", *map(str, args)], env=env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """An SMTP handler that keeps every message and refuses the addresses it is told to."""

    def __init__(self, refuse=()):
        self.envelopes = []
        self.refuse = set(refuse)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


class Server:
    def __init__(self, handler, controller):
        self.handler, self.controller = handler, controller
        self.port = controller.port

    @property
    def envelopes(self):
        return self.handler.envelopes

    @property
    def options(self):
        return ["--smtp-host", "127.0.0.1", "--smtp-port", str(self.port)]


def start(handler, **kwargs) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp():
    handler = Recorder(refuse={"nobody@example.com"})
    controller = start(handler)
    yield Server(handler, controller)
    controller.stop()


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_smtp():
    handler = Recorder()
    controller = start(handler, authenticator=authenticator, auth_require_tls=False)
    yield Server(handler, controller)
    controller.stop()


def parse(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


def bodies(message):
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_payload(decode=True) for part in message.iter_attachments()}


def pct(value: float) -> str:
    return f"{value * 100:.1f} %"


# --- one workbook, to --to and --cc ---------------------------------------------------

def test_sends_the_workbook_with_its_headline(smtp, small_workbook, small_dataset):
    result = run(small_workbook, "--to", "ana@example.com", "--to", "Bo Chen <bo@example.com>",
                 "--cc", "ops@example.com", "--subject", "Support, 2025", "--from", USER, *smtp.options)
    assert result.exit_code == 0, result.output
    size = mail.human_size(small_workbook.stat().st_size)
    assert result.stdout == (f"Sent 'Support, 2025' to ana@example.com, bo@example.com, cc ops@example.com "
                             f"(1 attachment, {size}) via 127.0.0.1:{smtp.port}.\n")
    assert result.stderr == ""
    [envelope] = smtp.envelopes
    assert envelope.mail_from == USER
    assert envelope.rcpt_tos == ["ana@example.com", "bo@example.com", "ops@example.com"]
    message = parse(envelope.content)
    assert message["Subject"] == "Support, 2025"
    assert message["To"] == "ana@example.com, Bo Chen <bo@example.com>"
    assert message["Cc"] == "ops@example.com"
    assert attachments(message) == {small_workbook.name: small_workbook.read_bytes()}
    [part] = message.iter_attachments()
    assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    # The numbers, read independently: pandas for counts, the Dashboard cells for rates.
    tickets = small_dataset.tickets
    dashboard = load_book(small_workbook, data_only=True)["Dashboard"]
    assert dashboard["A7"].value == "Tickets" and dashboard["J7"].value == "Resolution SLA %"
    assert dashboard["M7"].value == "CSAT %"
    insights = load_book(small_workbook, data_only=True)["Insights"]
    findings = [(insights.cell(r, 2).value, insights.cell(r, 3).value) for r in (5, 6, 7)]
    text, markup = bodies(message)
    assert f"{len(tickets):,}" == "2,000"
    expected = {
        "Tickets": f"{len(tickets):,}",
        "Resolution SLA compliance": pct(dashboard["J8"].value),
        "CSAT": pct(dashboard["M8"].value),
        "Backlog": f"{tickets['status'].isin(OPEN_STATUSES).sum():,}",
    }
    for label, value in expected.items():
        assert any(line.split() == [*f"{label}:".split(), *value.split()] for line in text.splitlines()), label
        assert (f'<td style="padding-right:16px">{label}</td><td style="text-align:right;font-weight:bold">'
                f"{value}</td>") in markup
    assert "Period: 01 Jan 2025 to 31 Dec 2025" in text and "Period: 01 Jan 2025 to 31 Dec 2025" in markup
    for rank, (title, sentence) in enumerate(findings, start=1):
        assert f"  {rank}. {title}: {sentence}" in text
        assert f"<li><b>{html.escape(title)}</b>: {html.escape(sentence)}</li>" in markup
    assert insights.cell(8, 2).value not in text  # only the top three
    assert f"Attached: {small_workbook.name} ({mail.human_size(small_workbook.stat().st_size)})." in text


def test_several_files_and_addresses_in_one_option(smtp, small_workbook, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("Read me.\n")
    result = run(small_workbook, notes, "--to", "ana@example.com, bo@example.com", "-s", "Two files",
                 *smtp.options)
    assert result.exit_code == 0, result.output
    assert "(2 attachments, " in result.stdout
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["ana@example.com", "bo@example.com"]
    message = parse(envelope.content)
    assert attachments(message) == {small_workbook.name: small_workbook.read_bytes(),
                                    "notes.txt": b"Read me.\n"}
    text, _ = bodies(message)
    assert "notes.txt (0 KB)" in text and text.count("Tickets:") == 1


def test_dry_run_writes_the_message_and_sends_nothing(smtp, small_workbook, tmp_path):
    out = tmp_path / "mail" / "out.eml"
    result = run(small_workbook, "--to", "ana@example.com", "-s", "Dry", "--from", USER, "--dry-run", out,
                 *smtp.options)
    assert result.exit_code == 0, result.output
    size = mail.human_size(small_workbook.stat().st_size)
    assert result.stdout == (f"Wrote {out}: 'Dry' to ana@example.com (1 attachment, {size}); "
                             f"a dry run, nothing went out.\n")
    assert "Sent" not in result.output
    assert smtp.envelopes == []
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.eml"]  # no temporary file left
    message = parse(out.read_bytes())
    assert message["Subject"] == "Dry" and message["To"] == "ana@example.com" and message["From"] == USER
    assert attachments(message) == {small_workbook.name: small_workbook.read_bytes()}
    text, markup = bodies(message)
    assert "Tickets:" in text and "2,000" in text and "2,000" in markup


def test_a_password_from_the_environment_logs_in(auth_smtp, small_workbook):
    result = run(small_workbook, "--to", "ana@example.com", "-s", "Auth", "--user", USER, *auth_smtp.options,
                 env={"SUPPORTXL_SMTP_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Sent 'Auth' to ana@example.com (1 attachment, ")
    [envelope] = auth_smtp.envelopes
    assert envelope.mail_from == USER  # the login name is the default sender
    assert attachments(parse(envelope.content)) == {small_workbook.name: small_workbook.read_bytes()}


# --- failures: one sentence, exit code 2, nothing sent --------------------------------

def assert_failed(result, message: str):
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""
    assert "Sent" not in result.output


def test_connection_refused(small_workbook):
    port = free_port()
    result = run(small_workbook, "--to", "ana@example.com", "-s", "x", "--smtp-host", "127.0.0.1",
                 "--smtp-port", port)
    assert_failed(result, f"cannot connect to 127.0.0.1:{port}: connection refused (no SMTP server "
                          f"listening there); nothing was sent.")


def test_unknown_host(small_workbook):
    result = run(small_workbook, "--to", "ana@example.com", "-s", "x", "--smtp-host", "smtp.example.invalid",
                 "--timeout", "10")
    assert_failed(result, "cannot connect to smtp.example.invalid:25: unknown host 'smtp.example.invalid' "
                          "(the name does not resolve); nothing was sent.")


def test_authentication_refused(auth_smtp, small_workbook):
    result = run(small_workbook, "--to", "ana@example.com", "-s", "x", "--user", USER, *auth_smtp.options,
                 env={"SUPPORTXL_SMTP_PASSWORD": "wrong"})
    assert_failed(result, f"127.0.0.1:{auth_smtp.port} refused the user name or password for '{USER}' "
                          f"(535 5.7.8 Authentication credentials invalid); nothing was sent.")
    assert auth_smtp.envelopes == []


def test_no_password_without_a_terminal(auth_smtp, small_workbook):
    result = run(small_workbook, "--to", "ana@example.com", "-s", "x", "--user", USER, *auth_smtp.options,
                 env={"SUPPORTXL_SMTP_PASSWORD": ""})
    assert_failed(result, f"no password for '{USER}': set SUPPORTXL_SMTP_PASSWORD, or run in a terminal "
                          f"to be asked for it; nothing was sent.")


def test_a_refused_recipient_stops_the_whole_message(smtp, small_workbook):
    result = run(small_workbook, "--to", "ana@example.com", "--cc", "nobody@example.com", "-s", "Report",
                 *smtp.options)
    assert_failed(result, f"127.0.0.1:{smtp.port} refused the recipient 'nobody@example.com' "
                          f"(550 5.1.1 No such user) of 'Report'; nothing was sent.")
    assert smtp.envelopes == []  # not even ana@example.com got it


def test_starttls_on_a_server_without_it(smtp, small_workbook):
    result = run(small_workbook, "--to", "ana@example.com", "-s", "x", "--starttls", *smtp.options)
    assert_failed(result, f"127.0.0.1:{smtp.port} does not offer STARTTLS (use --ssl, or neither option for "
                          f"a server without TLS); nothing was sent.")


def test_tls_failure(smtp, small_workbook):
    result = run(small_workbook, "--to", "ana@example.com", "-s", "x", "--ssl", *smtp.options)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: TLS with 127.0.0.1:{smtp.port} failed: ")
    assert result.stderr.endswith("; nothing was sent.\n")
    assert smtp.envelopes == []


def test_a_silent_server_times_out(small_workbook):
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        result = run(small_workbook, "--to", "ana@example.com", "-s", "x", "--smtp-host", "127.0.0.1",
                     "--smtp-port", port, "--timeout", "0.5")
    assert_failed(result, f"cannot connect to 127.0.0.1:{port}: no answer within 0.5 s; nothing was sent.")


def test_a_failure_after_some_messages_says_which_went(smtp, team_books, tmp_path):
    managers = write_map(tmp_path / "m.csv", [("Tier 2", "t2@example.com"), ("Tier 3", "nobody@example.com")])
    result = run(team_books, "--recipients", managers, "-s", "Weekly", *smtp.options)
    assert result.exit_code == 2
    assert result.stdout.startswith("Sent 'Weekly (Tier 2)' to t2@example.com (1 attachment, ")
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == (f"Error: 127.0.0.1:{smtp.port} refused the recipient 'nobody@example.com' "
                             f"(550 5.1.1 No such user) of 'Weekly (Tier 3)'; 1 of 2 messages were sent "
                             f"before this.\n")
    assert [e.rcpt_tos for e in smtp.envelopes] == [["t2@example.com"]]


def test_the_password_comes_from_the_environment_or_a_prompt():
    asked = []

    def ask(prompt):
        asked.append(prompt)
        return "typed"

    assert mail.smtp_password(USER, ask, environ={"SUPPORTXL_SMTP_PASSWORD": "env"}) == "env"
    assert asked == []
    assert mail.smtp_password(USER, ask, environ={}) == "typed"
    assert asked == [f"SMTP password for {USER}"]
    with pytest.raises(mail.SupportxlError, match="set SUPPORTXL_SMTP_PASSWORD"):
        mail.smtp_password(USER, None, environ={})


def test_there_is_no_password_option():
    result = runner.invoke(app, ["send", "--help"])
    assert "--password" not in result.stdout and "SUPPORTXL_SMTP_PASSWORD" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["{book}", "--to", "bob@", "-s", "x"], "--to: 'bob@' is not an e-mail address."),
    (["{book}", "--to", "ana@example.com", "--cc", "ops at example.com", "-s", "x"],
     "--cc: 'ops at example.com' is not an e-mail address."),
    (["{book}", "--to", "ana@example.com", "--from", "me", "-s", "x"], "--from: 'me' is not an e-mail address."),
    (["{book}", "-s", "x"], "give at least one --to address (or --recipients MAP.csv to send split "
                            "workbooks to their managers)."),
    (["{tmp}/missing.xlsx", "--to", "ana@example.com", "-s", "x"], "{tmp}/missing.xlsx: no such file."),
    (["{tmp}", "--to", "ana@example.com", "-s", "x"],
     "{tmp} is a folder; attach files, or add --recipients MAP.csv to send a folder of split workbooks."),
    (["{book}", "--to", "ana@example.com", "-s", " "], "--subject must not be empty."),
    (["{book}", "--to", "ana@example.com", "-s", "a\nBcc: x@example.com"],
     "--subject must be one line of text, found 'a\\nBcc: x@example.com'."),
    (["{book}", "--to", "ana@example.com", "-s", "x", "--starttls", "--ssl"], "choose --starttls or --ssl, not both."),
    (["{book}", "--to", "ana@example.com", "-s", "x", "--smtp-port", "0"],
     "--smtp-port must be between 1 and 65535, found 0."),
    (["{book}", "--to", "ana@example.com", "-s", "x", "--user", USER, "--smtp-host", "smtp.example.com"],
     f"refusing to send the password for '{USER}' to smtp.example.com:25 unencrypted; add --starttls or --ssl."),
])
def test_bad_input_is_refused_before_connecting(smtp, small_workbook, tmp_path, args, message):
    fill = {"book": str(small_workbook), "tmp": str(tmp_path)}
    args = [a.format(**fill) for a in args]
    options = [] if "--smtp-host" in args or "--smtp-port" in args else smtp.options
    assert_failed(run(*args, *options), message.format(**fill))
    assert smtp.envelopes == []


def test_a_large_message_gets_a_warning_on_its_encoded_size(smtp, small_workbook, monkeypatch):
    raw = small_workbook.stat().st_size
    encoded = len(mail.prepare([small_workbook], subject="x", sender=USER,
                               to=["ana@example.com"]).messages[0].as_bytes())
    assert encoded > raw * 4 / 3  # base64 makes the attachment a third bigger
    monkeypatch.setattr(mail, "LARGE_MESSAGE", encoded + 1_000)
    result = run(small_workbook, "--to", "ana@example.com", "-s", "x", *smtp.options)
    assert result.exit_code == 0 and result.stderr == ""
    monkeypatch.setattr(mail, "LARGE_MESSAGE", raw)  # the file alone fits, the encoded message does not
    result = run(small_workbook, "--to", "ana@example.com", "-s", "x", *smtp.options)
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"Warning: the message 'x' is {mail.human_size(encoded)} once encoded "
                             f"({mail.human_size(raw)} of attachments); many mail servers refuse messages over "
                             f"{raw / 1e6:g} MB. For e-mail, build the compact workbook: supportxl build "
                             f"DATA --template executive.\n")
    assert result.stdout.startswith("Sent 'x' to ana@example.com")
    assert len(smtp.envelopes) == 2


def test_the_default_limit_is_20_mb_of_encoded_message(tmp_path):
    big, fine = tmp_path / "big.csv", tmp_path / "fine.csv"
    for path, size in ((big, 15_100_000), (fine, 14_500_000)):  # 20.7 MB and 19.8 MB in base64 with its line breaks
        with open(path, "wb") as handle:
            handle.truncate(size)  # sparse: nothing written to disk
    assert mail.prepare([fine], subject="x", sender=USER, to=["ana@example.com"]).warnings == []
    plan = mail.prepare([big], subject="x", sender=USER, to=["ana@example.com"])
    assert plan.warnings == ["the message 'x' is 20.7 MB once encoded (15.1 MB of attachments); many mail "
                             "servers refuse messages over 20 MB. For e-mail, build the compact workbook: "
                             "supportxl build DATA --template executive."]


# --- what the body says about files that are not (whole) supportxl workbooks ----------

def tiny_workbook(path: Path, names: dict[str, object], sheet: str = "Dashboard") -> Path:
    """A workbook with one value per defined name, written by hand."""
    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet(sheet)
    for row, (name, value) in enumerate(names.items()):
        ws.write(row, 0, value)
        book.define_name(name, f"={sheet}!$A${row + 1}")
    book.close()
    return path


def test_a_foreign_workbook_is_sent_with_what_was_not_found(smtp, tmp_path):
    plain = tiny_workbook(tmp_path / "plain.xlsx", {"Something": 1}, sheet="Data")
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a zip")
    result = run(plain, broken, "--to", "ana@example.com", "-s", "x", *smtp.options)
    assert result.exit_code == 0, result.output
    message = parse(smtp.envelopes[0].content)
    text, markup = bodies(message)
    assert ("Not found in plain.xlsx (it has no Dashboard sheet): Tickets, Resolution SLA compliance, "
            "CSAT, Backlog.") in text
    assert "The period of plain.xlsx was not found." in text
    assert "plain.xlsx has no Insights sheet, so no findings are listed." in text
    assert "broken.xlsx could not be read as a workbook, so no numbers are shown for it." in text
    assert "broken.xlsx could not be read as a workbook" in markup
    assert attachments(message) == {"plain.xlsx": plain.read_bytes(), "broken.xlsx": b"not a zip"}


def test_cards_and_filters_are_read_by_name(tmp_path):
    path = tiny_workbook(tmp_path / "t.xlsx", {"Card_tickets": 12345, "Card_csat": 0.8734, "Card_backlog": "",
                                               "Filter_team": "Tier 2", "Filter_period": "(All)",
                                               "ReportSlice": "Tier 2"})
    headline = read_headline(path)
    assert [(f.label, f.text) for f in headline.figures] == [
        ("Tickets", "12,345"), ("Resolution SLA compliance", "not found"), ("CSAT", "87.3 %"),
        ("Backlog", "not found")]
    assert headline.filters == (("Team", "Tier 2"),)
    assert headline.slice_value == "Tier 2"
    text = mail.text_body([headline], {path: path.stat().st_size})
    assert "Dashboard filtered to Team = Tier 2" in text
    assert "Not found in t.xlsx: Resolution SLA compliance, Backlog." in text


@pytest.fixture(scope="module")
def team_books(small_dataset, tmp_path_factory):
    """Split workbooks of the two smaller teams, named by slug, plus an index.xlsx."""
    folder = tmp_path_factory.mktemp("split")
    for team in ("Tier 2", "Tier 3"):
        build_workbook(team_slice(small_dataset, team), folder / f"{slug(team)}.xlsx")
    shutil.copy(folder / "tier-2.xlsx", folder / "index.xlsx")
    return folder


def team_slice(dataset: Dataset, team: str) -> Dataset:
    tickets = dataset.tickets[dataset.tickets["team"] == team].reset_index(drop=True)
    events = dataset.escalation_events
    return Dataset(tickets, dataset.accounts, dataset.agents[dataset.agents["team"] == team].reset_index(drop=True),
                   events[events["ticket_id"].isin(tickets["ticket_id"])].reset_index(drop=True),
                   dataset.manifest)


def test_html_escapes_workbook_text_and_a_missing_insights_sheet_is_said(smtp, small_dataset, tmp_path):
    template = load_template()
    template = dataclasses.replace(template, title="Q&A <b>Team</b>",
                                   sheets=tuple(s for s in template.sheets if s != "Insights"))
    path = tmp_path / "odd.xlsx"
    build_workbook(team_slice(small_dataset, "Tier 3"), path, template)
    result = run(path, "--to", "ana@example.com", "-s", "x", *smtp.options)
    assert result.exit_code == 0, result.output
    text, markup = bodies(parse(smtp.envelopes[0].content))
    assert "Q&amp;A &lt;b&gt;Team&lt;/b&gt; (odd.xlsx)" in markup and "<b>Team</b>" not in markup
    assert text.splitlines()[0] == "Q&A <b>Team</b> (odd.xlsx)"
    assert "odd.xlsx has no Insights sheet, so no findings are listed." in text
    assert f"{(small_dataset.tickets['team'] == 'Tier 3').sum():,}" in text


# --- split workbooks and a recipients map ---------------------------------------------

def write_map(path: Path, rows: list[tuple[str, str]], header=("team", "email")) -> Path:
    lines = [",".join(header)] if header else []
    path.write_text("\n".join([*lines, *(f"{v},{a}" for v, a in rows)]) + "\n", encoding="utf-8")
    return path


def test_each_manager_receives_only_their_slice(smtp, team_books, small_dataset, tmp_path):
    managers = write_map(tmp_path / "managers.csv", [
        ("Tier 2", "t2@example.com"), ("Tier 3", "t3@example.com"), ("Tier 2", "lead@example.com"),
        ("Tier 3", "lead@example.com")])
    result = run(team_books, "--recipients", managers, "--cc", "head@example.com", "-s", "Weekly", *smtp.options)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Sent 'Weekly (Tier 2)' to t2@example.com, lead@example.com, "
                               "cc head@example.com (1 attachment, ")
    assert lines[1].startswith("Sent 'Weekly (Tier 3)' to t3@example.com, lead@example.com, cc head@example.com")
    assert len(lines) == 2

    received: dict[str, list[str]] = {}
    for envelope in smtp.envelopes:
        message = parse(envelope.content)
        files = attachments(message)
        [(name, data)] = files.items()
        assert data == (team_books / name).read_bytes()
        team = {"tier-2.xlsx": "Tier 2", "tier-3.xlsx": "Tier 3"}[name]
        assert message["Subject"] == f"Weekly ({team})"
        text, markup = bodies(message)
        count = f"{(small_dataset.tickets['team'] == team).sum():,}"
        assert any(line.split() == ["Tickets:", count] for line in text.splitlines())
        assert f'font-weight:bold">{count}</td>' in markup
        for address in envelope.rcpt_tos:
            received.setdefault(address, []).append(name)
    assert received == {"t2@example.com": ["tier-2.xlsx"], "t3@example.com": ["tier-3.xlsx"],
                        "lead@example.com": ["tier-2.xlsx", "tier-3.xlsx"],
                        "head@example.com": ["tier-2.xlsx", "tier-3.xlsx"]}


def test_split_dry_run_writes_one_file_per_slice(smtp, team_books, tmp_path):
    managers = write_map(tmp_path / "m.csv", [("Tier 2", "t2@example.com"), ("Tier 3", "t3@example.com")],
                         header=None)
    out = tmp_path / "eml" / "team.eml"
    result = run(team_books, "--recipients", managers, "-s", "{slice}: weekly", "--dry-run", out, *smtp.options)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.parent.iterdir()) == ["team-tier-2.eml", "team-tier-3.eml"]
    assert result.stdout.startswith(f"Wrote {out.parent / 'team-tier-2.eml'}: 'Tier 2: weekly' to t2@example.com")
    assert smtp.envelopes == [] and "Sent" not in result.output
    message = parse((out.parent / "team-tier-3.eml").read_bytes())
    assert message["To"] == "t3@example.com" and message["Subject"] == "Tier 3: weekly"
    assert attachments(message) == {"tier-3.xlsx": (team_books / "tier-3.xlsx").read_bytes()}


def test_a_value_without_a_workbook_fails_before_sending(smtp, team_books, tmp_path):
    managers = write_map(tmp_path / "m.csv", [("Tier 2", "t2@example.com"), ("Tier 4", "t4@example.com"),
                                              ("Night Shift", "n@example.com")])
    result = run(team_books, "--recipients", managers, "-s", "x", *smtp.options)
    assert_failed(result, f"{managers}: no workbook in {team_books} for 'Tier 4' (tier-4.xlsx), "
                          f"'Night Shift' (night-shift.xlsx); nothing was sent.")
    assert smtp.envelopes == []


def test_a_workbook_without_a_recipient_is_reported_and_not_sent(smtp, team_books, tmp_path):
    managers = write_map(tmp_path / "m.csv", [("tier 2", "t2@example.com")])  # matched by its slug, tier-2
    result = run(team_books, "--recipients", managers, "-s", "x", *smtp.options)
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"Warning: {team_books / 'tier-3.xlsx'}: no recipient in {managers} for this "
                             f"workbook; it is not sent.\n")
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["t2@example.com"]
    assert list(attachments(parse(envelope.content))) == ["tier-2.xlsx"]


def test_the_value_recorded_in_a_workbook_wins_over_its_name(smtp, tmp_path):
    folder = tmp_path / "split"
    folder.mkdir()
    tiny_workbook(folder / "second-line.xlsx", {"ReportSlice": "Tier 2"})
    tiny_workbook(folder / "tier-2.xlsx", {"ReportSlice": "Tier 3"})
    managers = write_map(tmp_path / "m.csv", [("Tier 2", "t2@example.com"), ("Tier 3", "t3@example.com")])
    result = run(folder, "--recipients", managers, "-s", "x", *smtp.options)
    assert result.exit_code == 0, result.output
    got = {e.rcpt_tos[0]: list(attachments(parse(e.content))) for e in smtp.envelopes}
    assert got == {"t2@example.com": ["second-line.xlsx"], "t3@example.com": ["tier-2.xlsx"]}


@pytest.mark.parametrize("content, message", [
    ("team,email\nTier 2\n", "{map}, row 2: expected two columns (slice value, e-mail), found 'Tier 2'."),
    ("Tier 2,t2@example.com,extra\n",
     "{map}, row 1: expected two columns (slice value, e-mail), found 'Tier 2,t2@example.com,extra'."),
    ("team,email\nTier 2,t2.example.com\n", "{map}, row 2, column 2: 't2.example.com' is not an e-mail address."),
    ("team,email\n\n", "{map}: no recipients (expected rows of slice value, e-mail)."),
])
def test_bad_recipient_maps(smtp, team_books, tmp_path, content, message):
    managers = tmp_path / "m.csv"
    managers.write_text(content, encoding="utf-8")
    result = run(team_books, "--recipients", managers, "-s", "x", *smtp.options)
    assert_failed(result, message.format(map=managers))


def test_recipient_map_and_folder_errors(smtp, team_books, small_workbook, tmp_path):
    managers = write_map(tmp_path / "m.csv", [("Tier 2", "t2@example.com")])
    assert_failed(run(team_books, "--recipients", tmp_path / "none.csv", "-s", "x", *smtp.options),
                  f"{tmp_path / 'none.csv'}: no such file (expected a recipients map: slice value, e-mail).")
    assert_failed(run(small_workbook, "--recipients", managers, "-s", "x", *smtp.options),
                  f"{small_workbook}: no such folder (with --recipients, give the folder of split workbooks, "
                  f"one .xlsx per slice value).")
    assert_failed(run(team_books, "--recipients", managers, "--to", "a@example.com", "-s", "x", *smtp.options),
                  "--to and --recipients do not go together: the recipients map says who receives each "
                  "workbook (--cc copies every message).")
    (tmp_path / "empty").mkdir()
    assert_failed(run(tmp_path / "empty", "--recipients", managers, "-s", "x", *smtp.options),
                  f"{tmp_path / 'empty'}: no workbooks (.xlsx) to route in the folder.")
    assert smtp.envelopes == []


def test_semicolon_maps_and_excel_bom_are_read(tmp_path):
    from supportxl.deliver.routing import read_recipients

    path = tmp_path / "m.csv"
    path.write_bytes("\ufeffTeam;E-mail address\nTier 2;a@example.com\nTier 2;b@example.com\n"
                     "Tier 2;a@example.com\n".encode())
    assert read_recipients(path, mail.check_address).addresses == {"Tier 2": ("a@example.com", "b@example.com")}


@pytest.mark.parametrize("value, expected", [
    ("Tier 1", "tier-1"), ("Billing & Payments", "billing-payments"), ("  Zürich / Genève ", "zurich-geneve"),
    ("C-Level Executive", "c-level-executive"), ("***", "blank"), ("Ünïcödé__2", "unicode-2"),
])
def test_slug(value, expected):
    assert slug(value) == expected


def test_a_real_split_build_routes_each_slice_to_its_managers(smtp, small_dataset, tmp_path):
    from supportxl.deliver.split import build_split

    result = build_split(small_dataset, tmp_path / "by_team", load_template(), "team", jobs=1)
    teams = [value for value, _, _ in result.slices]
    assert teams == ["Tier 1", "Tier 2", "Tier 3"]
    managers = write_map(tmp_path / "managers.csv", [(t, f"{slug(t)}@example.com") for t in teams])
    sent = run(result.folder, "--recipients", managers, "-s", "{slice} this month", *smtp.options)
    assert sent.exit_code == 0, sent.output
    assert sent.stderr == ""  # index.xlsx is never sent and needs no recipient
    by_address = {tuple(e.rcpt_tos): parse(e.content) for e in smtp.envelopes}
    assert sorted(by_address) == [(f"{slug(t)}@example.com",) for t in teams]
    for team in teams:
        message = by_address[(f"{slug(team)}@example.com",)]
        assert message["Subject"] == f"{team} this month"
        path = result.folder / f"{slug(team)}.xlsx"
        assert attachments(message) == {path.name: path.read_bytes()}
        text, _ = bodies(message)
        count = f"{(small_dataset.tickets['team'] == team).sum():,}"
        assert any(line.split() == ["Tickets:", count] for line in text.splitlines())
