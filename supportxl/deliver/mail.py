"""E-mail the workbooks: attached, with their headline numbers in an HTML and a plain-text body.

Everything is checked before a connection is opened: the files, every address, the
recipients map and its workbooks, the server settings and the password. Then the messages
are either written as .eml files (a dry run) or sent over one SMTP connection. Each message
goes out whole or not at all: its recipients are all accepted before its content is sent.
Only the standard library does the mail work (email, smtplib, ssl).
"""

from __future__ import annotations

import html
import ipaddress
import math
import mimetypes
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path

from supportxl.deliver.headline import Headline, read_headline
from supportxl.deliver.routing import read_recipients, route, slug, split_workbooks
from supportxl.errors import SupportxlError
from supportxl.fileio import atomic_write, check_output

LARGE_MESSAGE = 20_000_000  # bytes: many mail servers refuse messages bigger than 20 MB
DEFAULT_TIMEOUT = 30.0  # seconds to wait for the SMTP server at each step
MAX_TIMEOUT = 3600.0
SECURITY = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
PASSWORD_ENV = "SUPPORTXL_SMTP_PASSWORD"
SLICE_PLACEHOLDER = "{slice}"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})*")
_MIME_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12"}


def human_size(size: int) -> str:
    """``2_345_678`` -> ``2.3 MB``; ``12_345`` -> ``12 KB``."""
    return f"{size / 1e6:,.1f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} KB"


# --- addresses -----------------------------------------------------------------------

def check_address(text: str, where: str) -> str:
    """``text`` as a header address (``a@b.com`` or ``Ana Silva <a@b.com>``), or a clear error.

    Addresses are ASCII (no internationalised mailboxes); a display name may be anything
    printable.
    """
    raw = text.strip()
    name, address = parseaddr(raw)
    if (not _ADDRESS.fullmatch(address) or not (raw == address or raw.endswith(f"<{address}>"))
            or any(ord(ch) < 32 for ch in raw)):
        raise SupportxlError(f"{where}: {text!r} is not an e-mail address.")
    return formataddr((name, address))  # the name quoted where needed: the address stays the one used


def check_addresses(values: Iterable[str], where: str) -> tuple[str, ...]:
    """Every address of ``values``; each value may hold several, separated by commas or semicolons."""
    found: list[str] = []
    for value in values:
        for part in re.split(r"[,;]", value):
            if part.strip():
                address = check_address(part, where)
                if address not in found:
                    found.append(address)
    return tuple(found)


def bare(address: str) -> str:
    """``Ana <a@b.com>`` -> ``a@b.com``: what the SMTP envelope carries."""
    return parseaddr(address)[1]


def default_sender(user: str | None) -> str:
    """The login name when it is an address, else ``supportxl@`` this host."""
    if user and _ADDRESS.fullmatch(user.strip()):
        return user.strip()
    host = socket.gethostname()
    return f"supportxl@{host}" if re.fullmatch(rf"{_LABEL}(?:\.{_LABEL})*", host) else "supportxl@localhost"


# --- the messages --------------------------------------------------------------------

@dataclass(frozen=True)
class Outgoing:
    """One message, ready to be sent or written."""

    message: EmailMessage
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    attachments: tuple[Path, ...]
    size: int  # bytes of the attached files
    slice_value: str | None = None  # the split value whose workbook this message carries

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def recipients(self) -> tuple[str, ...]:
        """The envelope recipients: To, then Cc, each address once."""
        return tuple(dict.fromkeys(bare(a) for a in (*self.to, *self.cc)))

    def as_bytes(self) -> bytes:
        """The message as it goes over the wire (CRLF line ends), also what a dry run writes."""
        return self.message.as_bytes(policy=policy.SMTP)


@dataclass(frozen=True)
class Plan:
    messages: list[Outgoing]
    warnings: list[str]


def prepare(files: Sequence[Path], *, subject: str, sender: str, to: Sequence[str] = (),
            cc: Sequence[str] = (), recipients: Path | None = None) -> Plan:
    """Check everything and compose the messages; nothing touches the network.

    Without ``recipients``: one message to ``to`` and ``cc`` with every file attached.
    With it: ``files`` is one folder of split workbooks and each slice value of the map
    gets its own message with only its workbook, to the addresses the map lists for it
    (``cc`` is copied on every one). The subject's ``{slice}`` is replaced by the value,
    or the value is added in brackets.
    """
    subject = _check_subject(subject)
    sender = check_address(sender, "--from")
    cc = check_addresses(cc, "--cc")
    if recipients is None:
        to = check_addresses(to, "--to")
        if not to:
            raise SupportxlError("give at least one --to address (or --recipients MAP.csv to send "
                                 "split workbooks to their managers).")
        if not files:
            raise SupportxlError("give at least one file to attach.")
        paths = [_check_file(Path(p)) for p in files]
        messages = [compose(subject, sender, to, cc, paths, [read_headline(p) for p in paths])]
        warnings: list[str] = []
    else:
        if to:
            raise SupportxlError("--to and --recipients do not go together: the recipients map says "
                                 "who receives each workbook (--cc copies every message).")
        if len(files) != 1:
            raise SupportxlError(f"with --recipients, give one folder of split workbooks, "
                                 f"found {len(files)} arguments.")
        mapping = read_recipients(Path(recipients), check_address)
        books = split_workbooks(Path(files[0]))
        headlines = {p: read_headline(p) for p in books}
        routes, warnings = route(mapping, books, {p: h.slice_value for p, h in headlines.items()})
        messages = [compose(_slice_subject(subject, r.value), sender, r.addresses, cc, [r.workbook],
                            [headlines[r.workbook]], slice_value=r.value) for r in routes]
    for m in messages:
        size = len(m.as_bytes())  # attachments grow by a third in base64
        if size > LARGE_MESSAGE:
            warnings.append(f"the message {m.subject!r} is {human_size(size)} once encoded ({human_size(m.size)} "
                            f"of attachments); many mail servers refuse messages over "
                            f"{LARGE_MESSAGE / 1e6:g} MB. For e-mail, build the compact workbook: "
                            f"supportxl build DATA --template executive.")
    return Plan(messages, warnings)


def _check_subject(subject: str) -> str:
    subject = subject.strip()
    if not subject:
        raise SupportxlError("--subject must not be empty.")
    if any(ord(ch) < 32 for ch in subject):
        raise SupportxlError(f"--subject must be one line of text, found {subject!r}.")
    return subject


def _slice_subject(subject: str, value: str) -> str:
    return subject.replace(SLICE_PLACEHOLDER, value) if SLICE_PLACEHOLDER in subject else f"{subject} ({value})"


def _check_file(path: Path) -> Path:
    if path.is_dir():
        raise SupportxlError(f"{path} is a folder; attach files, or add --recipients MAP.csv to send "
                             f"a folder of split workbooks.")
    if not path.is_file():
        raise SupportxlError(f"{path}: no such file.")
    return path


def compose(subject: str, sender: str, to: Sequence[str], cc: Sequence[str], attachments: Sequence[Path],
            headlines: Sequence[Headline], *, slice_value: str | None = None) -> Outgoing:
    """One message: the headlines as plain text and HTML, then the files attached."""
    contents = {}
    for path in attachments:
        try:
            contents[path] = path.read_bytes()
        except OSError as exc:
            raise SupportxlError(f"cannot read {path}: {exc.strerror}.") from None
    sizes = {p: len(data) for p, data in contents.items()}
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=bare(sender).rpartition("@")[2])
    message.set_content(text_body(headlines, sizes))
    message.add_alternative(html_body(headlines, sizes), subtype="html")
    for path, data in contents.items():
        maintype, subtype = _mime_type(path).split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=attachment_name(path))
    return Outgoing(message, bare(sender), tuple(to), tuple(cc), tuple(attachments), sum(sizes.values()),
                    slice_value)


def attachment_name(path: Path) -> str:
    """The file name as the message shows it: control characters (a line break would end the
    header) become spaces."""
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in path.name)


def _mime_type(path: Path) -> str:
    return _MIME_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


# --- the bodies ----------------------------------------------------------------------

CLOSING = "Open the workbook in Excel for the Dashboard's filters, the charts and the data behind every number."


def _heading(h: Headline) -> str:
    return f"{h.title} ({attachment_name(h.path)})" if h.title else attachment_name(h.path)


def _filters(h: Headline) -> str:
    return "Dashboard filtered to " + ", ".join(f"{label} = {value}" for label, value in h.filters)


def _attached(sizes: Mapping[Path, int]) -> str:
    return "Attached: " + ", ".join(f"{attachment_name(p)} ({human_size(n)})" for p, n in sizes.items()) + "."


def text_body(headlines: Sequence[Headline], sizes: Mapping[Path, int]) -> str:
    lines: list[str] = []
    workbooks = [h for h in headlines if h.is_workbook]
    for h in workbooks:
        lines.append(_heading(h))
        if h.period:
            lines.append(f"Period: {h.period}")
        if h.filters:
            lines.append(_filters(h))
        figures = h.found_figures
        if figures:
            width = max(len(f.label) for f in figures) + 1
            lines.append("")
            lines += [f"  {f.label + ':':<{width}}  {f.text}" for f in figures]
        if h.findings:
            lines += ["", "Top findings:"]
            lines += [f"  {i}. {f.title}: {f.sentence}" if f.sentence else f"  {i}. {f.title}"
                      for i, f in enumerate(h.findings, start=1)]
        if h.missing:
            lines.append("")
            lines += list(h.missing)
        lines.append("")
    lines.append(_attached(sizes))
    if workbooks:
        lines.append(CLOSING)
    return "\n".join(lines) + "\n"


def html_body(headlines: Sequence[Headline], sizes: Mapping[Path, int]) -> str:
    e = html.escape
    parts = ['<!DOCTYPE html>', '<html><head><meta charset="utf-8"></head>',
             '<body style="font-family:Calibri,Arial,sans-serif;font-size:14px;color:#222222">']
    for h in (h for h in headlines if h.is_workbook):
        parts.append(f'<h2 style="color:#1F4E79;font-size:18px;margin:16px 0 4px">{e(_heading(h))}</h2>')
        notes = ([f"Period: {h.period}"] if h.period else []) + ([_filters(h)] if h.filters else [])
        if notes:
            parts.append(f'<p style="color:#666666;margin:0 0 8px">{" &middot; ".join(e(n) for n in notes)}</p>')
        if h.found_figures:
            parts.append('<table cellpadding="4" cellspacing="0" style="border-collapse:collapse">')
            parts += [f'<tr><td style="padding-right:16px">{e(f.label)}</td>'
                      f'<td style="text-align:right;font-weight:bold">{e(f.text)}</td></tr>'
                      for f in h.found_figures]
            parts.append('</table>')
        if h.findings:
            parts.append('<h3 style="font-size:15px;margin:12px 0 4px">Top findings</h3><ol>')
            parts += [f"<li><b>{e(f.title)}</b>{': ' + e(f.sentence) if f.sentence else ''}</li>"
                      for f in h.findings]
            parts.append('</ol>')
        parts += [f'<p style="color:#9C0006">{e(note)}</p>' for note in h.missing]
    parts.append(f'<p style="color:#666666">{e(_attached(sizes))}')
    if any(h.is_workbook for h in headlines):
        parts.append(f"<br>{e(CLOSING)}")
    parts += ["</p>", "</body></html>"]
    return "\n".join(parts) + "\n"


# --- dry run -------------------------------------------------------------------------

def eml_paths(messages: Sequence[Outgoing], out: Path) -> list[Path]:
    """``out`` for one message; ``OUT-<slug of the slice value>.eml`` for each of several."""
    out = Path(out)
    if len(messages) == 1:
        return [out]
    paths, used = [], set()
    for i, m in enumerate(messages, start=1):
        stem = f"{out.stem}-{slug(m.slice_value) if m.slice_value else i}"
        name, n = stem, 1
        while name in used:
            n += 1
            name = f"{stem}-{n}"
        used.add(name)
        paths.append(out.with_name(name + (out.suffix or ".eml")))
    return paths


def write_eml(messages: Sequence[Outgoing], out: Path) -> list[Path]:
    """Write each message as an .eml file (each appears whole or not at all); nothing is sent.
    Every path is checked first: none may be a folder, a device or one of the attachments."""
    paths = eml_paths(messages, out)
    for path, m in zip(paths, messages):
        check_output(path, option="--dry-run", inputs=m.attachments)
    for path, m in zip(paths, messages):
        data = m.as_bytes()
        atomic_write(path, lambda temp, data=data: Path(temp).write_bytes(data))
    return paths


# --- sending -------------------------------------------------------------------------

@dataclass(frozen=True)
class Server:
    """Where and how to send: host, port, TLS ("none", "starttls" or "ssl"), login user."""

    host: str = "localhost"
    port: int | None = None
    security: str = "none"
    user: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def real_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.real_port}"

    def check(self) -> None:
        """Refuse settings that cannot work, or that would send a password in the clear."""
        if not self.host.strip():
            raise SupportxlError("--smtp-host must not be empty.")
        if self.security not in SECURITY:
            raise SupportxlError(f"unknown TLS mode {self.security!r} (valid: {', '.join(SECURITY)}).")
        if self.port is not None and not 1 <= self.port <= 65535:
            raise SupportxlError(f"--smtp-port must be between 1 and 65535, found {self.port}.")
        if not (math.isfinite(self.timeout) and 0 < self.timeout <= MAX_TIMEOUT):
            raise SupportxlError(f"--timeout must be above 0 and at most {MAX_TIMEOUT:g} seconds, "
                                 f"found {self.timeout:g}.")
        if self.user and self.security == "none" and not _is_loopback(self.host):
            raise SupportxlError(f"refusing to send the password for {self.user!r} to {self.address} "
                                 f"unencrypted; add --starttls or --ssl.")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def smtp_password(user: str, ask: Callable[[str], str] | None = None,
                  environ: Mapping[str, str] | None = None) -> str:
    """The password from SUPPORTXL_SMTP_PASSWORD, else from ``ask`` (a hidden prompt)."""
    environ = os.environ if environ is None else environ
    if environ.get(PASSWORD_ENV):
        return environ[PASSWORD_ENV]
    if ask is not None:
        return ask(f"SMTP password for {user}")
    raise SupportxlError(f"no password for {user!r}: set {PASSWORD_ENV}, or run in a terminal to be "
                         f"asked for it; nothing was sent.")


def send(messages: Sequence[Outgoing], server: Server, password: str | None = None,
         on_sent: Callable[[Outgoing], object] | None = None) -> None:
    """Send ``messages`` over one connection, calling ``on_sent`` after each one the server took.

    A failure raises SupportxlError naming the server and saying how many messages had
    already gone (those ``on_sent`` was called for).
    """
    server.check()
    if server.user and password is None:
        raise SupportxlError(f"no password for {server.user!r}; nothing was sent.")
    sent = 0
    try:
        smtp = _connect(server)
        try:
            if server.user:
                _login(smtp, server, password or "")
            for message in messages:
                _transmit(smtp, server, message)
                sent += 1
                if on_sent is not None:
                    on_sent(message)
        finally:
            _quit(smtp)
    except SupportxlError as exc:
        outcome = ("nothing was sent" if not sent else
                   f"{sent} of {len(messages)} messages were sent before this")
        raise SupportxlError(f"{exc}; {outcome}.") from None


def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(text.split())}".strip()


def _tls_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    return exc.reason or str(exc)


def _timed_out(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _dropped(exc: BaseException, server: Server) -> str:
    return (f"gave no answer within {server.timeout:g} s" if _timed_out(exc)
            else "closed the connection")


def _connect(server: Server) -> smtplib.SMTP:
    where = server.address
    try:
        if server.security == "ssl":
            smtp = smtplib.SMTP_SSL(server.host, server.real_port, timeout=server.timeout, context=_tls())
        else:
            smtp = smtplib.SMTP(server.host, server.real_port, timeout=server.timeout)
    except socket.gaierror:
        raise SupportxlError(f"cannot connect to {where}: unknown host {server.host!r} "
                             f"(the name does not resolve)") from None
    except ssl.SSLError as exc:
        raise SupportxlError(f"TLS with {where} failed: {_tls_reason(exc)}") from None
    except ConnectionRefusedError:
        raise SupportxlError(f"cannot connect to {where}: connection refused "
                             f"(no SMTP server listening there)") from None
    except TimeoutError:
        raise SupportxlError(f"cannot connect to {where}: no answer within {server.timeout:g} s") from None
    except smtplib.SMTPServerDisconnected as exc:  # smtplib's name for a timeout while reading
        reason = (f"no answer within {server.timeout:g} s" if _timed_out(exc)
                  else "the server closed the connection before greeting")
        raise SupportxlError(f"cannot connect to {where}: {reason}") from None
    except smtplib.SMTPConnectError as exc:
        raise SupportxlError(f"{where} refused the connection "
                             f"({_reply(exc.smtp_code, exc.smtp_error)})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SupportxlError(f"cannot connect to {where}: {getattr(exc, 'strerror', None) or exc}") from None
    if server.security == "starttls":
        try:
            smtp.starttls(context=_tls())
        except smtplib.SMTPNotSupportedError:
            _quit(smtp)
            raise SupportxlError(f"{where} does not offer STARTTLS (use --ssl, or neither option for a "
                                 f"server without TLS)") from None
        except ssl.SSLError as exc:
            smtp.close()
            raise SupportxlError(f"TLS with {where} failed: {_tls_reason(exc)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise SupportxlError(f"STARTTLS with {where} failed: {exc}") from None
    return smtp


def _login(smtp: smtplib.SMTP, server: Server, password: str) -> None:
    where = server.address
    try:
        smtp.login(server.user, password)
    except smtplib.SMTPAuthenticationError as exc:
        raise SupportxlError(f"{where} refused the user name or password for {server.user!r} "
                             f"({_reply(exc.smtp_code, exc.smtp_error)})") from None
    except smtplib.SMTPNotSupportedError:
        raise SupportxlError(f"{where} does not offer authentication; leave out --user") from None
    except smtplib.SMTPServerDisconnected as exc:
        raise SupportxlError(f"{where} {_dropped(exc, server)} while logging in as {server.user!r}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SupportxlError(f"logging in to {where} as {server.user!r} failed: {exc}") from None


def _transmit(smtp: smtplib.SMTP, server: Server, message: Outgoing) -> None:
    """MAIL, every RCPT, then DATA: a refused recipient stops the message before its content."""
    where, subject = server.address, message.subject
    data = message.as_bytes()
    try:
        smtp.ehlo_or_helo_if_needed()
        options = [f"SIZE={len(data)}"] if smtp.has_extn("size") else []
        code, reply = smtp.mail(message.sender, options)
        if code != 250:
            _reset(smtp)
            raise SupportxlError(f"{where} refused the sender {message.sender!r} ({_reply(code, reply)})")
        refused = []
        for recipient in message.recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused.append(f"{recipient!r} ({_reply(code, reply)})")
        if refused:
            _reset(smtp)
            noun = "recipient" if len(refused) == 1 else "recipients"
            raise SupportxlError(f"{where} refused the {noun} {', '.join(refused)} of {subject!r}")
        code, reply = smtp.data(data)
        if code != 250:
            raise SupportxlError(f"{where} refused the message {subject!r} ({_reply(code, reply)})")
    except smtplib.SMTPServerDisconnected as exc:
        raise SupportxlError(f"{where} {_dropped(exc, server)} while sending {subject!r}") from None
    except smtplib.SMTPResponseException as exc:
        raise SupportxlError(f"{where} refused the message {subject!r} "
                             f"({_reply(exc.smtp_code, exc.smtp_error)})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SupportxlError(f"sending {subject!r} through {where} failed: {exc}") from None


def _reset(smtp: smtplib.SMTP) -> None:
    try:
        smtp.rset()
    except (smtplib.SMTPException, OSError):
        pass


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
