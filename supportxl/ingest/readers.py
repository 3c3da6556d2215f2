"""Reading an export file into a header row and columns of text.

Three formats: CSV (encoding detected: UTF-8 with or without a byte-order mark, UTF-16 with
one, else cp1252, else Latin-1; delimiter sniffed among comma, semicolon, tab and pipe),
XLSX (the first sheet or a named one) and JSON (a list of records, or an object holding one
under "tickets", "results", "records" or "data"; nested objects become dotted column names such as
``reporter.name``). The file is opened once to read its header;
then only the columns a mapping uses are read, each cell as text ("" when empty).

Every failure is a ``SupportxlError`` naming the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from supportxl.errors import SupportxlError
from supportxl.xlsxfile import OLE_MAGIC, ZIP_MAGIC, check_xlsx

SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
JSON_KEYS = ("tickets", "results", "records", "data", "items")
_SKIPPED_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields?, saw (\d+)")


@dataclass
class Table:
    """The columns a mapping asked for, as text, and each row's number in the source file."""

    columns: dict[int, np.ndarray]  # header position → object array of str
    rows: np.ndarray  # int64: source row numbers, the header being row 1
    malformed: list[tuple[int, str]] = field(default_factory=list)  # examples: (row, what was wrong)
    malformed_count: int = 0  # rows left out because their fields do not fit the header

    def __len__(self) -> int:
        return len(self.rows)


class Source:
    """An opened export: its kind, header row and how it was decoded."""

    kind = "?"

    def __init__(self, path: Path):
        self.path = path
        self.headers: list[str] = []
        self.details: dict[str, Any] = {}

    def read(self, positions: list[int]) -> Table:  # pragma: no cover - abstract
        raise NotImplementedError


def open_source(path: str | Path, sheet: str | None = None) -> Source:
    """Open ``path``, detect its format and read its header row."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(SAMPLE_BYTES)
    except FileNotFoundError:
        raise SupportxlError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise SupportxlError(f"{path}: is a folder, expected a CSV, XLSX or JSON export file.") from None
    except OSError as exc:
        raise SupportxlError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    if not head:
        raise SupportxlError(f"{path}: the file is empty; expected a table with a header row.")
    suffix = path.suffix.lower()
    if head.startswith((OLE_MAGIC, ZIP_MAGIC)) or suffix in (".xlsx", ".xlsm"):
        check_xlsx(path, what="export")
        return XlsxSource(path, sheet)
    if suffix == ".json" or (suffix not in (".csv", ".tsv", ".txt") and _looks_like_json(head)):
        return JsonSource(path)
    return CsvSource(path, head)


def _looks_like_json(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text[:1] in (b"[", b"{")


# ------------------------------------------------------------------------------------ CSV

class CsvSource(Source):
    kind = "csv"

    def __init__(self, path: Path, head: bytes):
        super().__init__(path)
        self.encoding = detect_encoding(path, head)
        sample = _decode_sample(head, self.encoding)
        self.delimiter = sniff_delimiter(sample)
        self.details = {"format": "CSV", "encoding": self.encoding,
                        "delimiter": DELIMITER_NAMES[self.delimiter]}
        first = self._read(nrows=1, header=None)
        if first.empty:
            raise SupportxlError(f"{path}: holds no header row; expected a table with column names "
                                 f"in the first row.")
        self.headers = ["" if pd.isna(v) else str(v) for v in first.iloc[0].tolist()]

    def _read(self, **kwargs: Any) -> pd.DataFrame:
        try:
            return pd.read_csv(
                self.path, sep=self.delimiter, encoding=self.encoding, dtype=object,
                na_filter=False, keep_default_na=False, skip_blank_lines=False,
                quotechar='"', doublequote=True, engine="c", on_bad_lines="warn",
                encoding_errors="replace", **kwargs)
        except pd.errors.EmptyDataError:
            raise SupportxlError(f"{self.path}: holds no table; expected a header row and "
                                 f"one row per ticket.") from None
        except (pd.errors.ParserError, ValueError, UnicodeError, OverflowError, MemoryError) as exc:
            reason = " ".join(str(exc).split()).removeprefix("Error tokenizing data. ")
            raise SupportxlError(f"{self.path}: cannot be read as CSV ({reason}).") from None
        except OSError as exc:
            raise SupportxlError(f"{self.path}: cannot be read ({exc.strerror or exc}).") from None

    def read(self, positions: list[int]) -> Table:
        """The columns at ``positions``. A row with more fields than the header row is left
        out and reported as malformed (the parser skips it); a short row is padded.

        Every column is parsed (``usecols`` would hide rows with too many fields, and is
        no faster); the unused ones are let go at once."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = self._read(header=0, index_col=False)
        malformed = []
        for warning in caught:
            for line, expected, saw in _SKIPPED_LINE.findall(str(warning.message)):
                malformed.append((int(line), f"expected {expected} fields, saw {saw}"))
        malformed.sort()
        rows = np.arange(2, len(frame) + 2, dtype=np.int64)
        for line, _ in malformed:  # rows after a skipped line sit one further down
            rows[rows >= line] += 1
        columns = {}
        for position in sorted(set(positions)):
            if position >= frame.shape[1]:
                columns[position] = np.full(len(frame), "", dtype=object)
                continue
            # short rows are padded with NaN, which the parser's factorising treats as missing
            columns[position] = frame.iloc[:, position].to_numpy(dtype=object)
        del frame
        return Table(columns, rows, malformed[:5], len(malformed))


def detect_encoding(path: Path, head: bytes) -> str:
    """UTF-16 when the file starts with its byte-order mark; else the first of UTF-8 (with or
    without a byte-order mark) and cp1252 that decodes the whole file; else Latin-1."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8-sig", "cp1252"):
        if _decodes(path, encoding):
            return encoding
    return "latin-1"


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _decode_sample(head: bytes, encoding: str) -> str:
    text = head.decode(encoding, errors="replace")
    if len(head) == SAMPLE_BYTES and "\n" in text:  # drop the cut-off last line
        text = text[: text.rindex("\n") + 1]
    return text


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample: ``csv.Sniffer``'s choice when the header row agrees,
    else the candidate that splits the header row into the most fields (comma if none)."""
    header_line = sample.lstrip("\ufeff").split("\n", 1)[0]
    counts = {d: header_line.count(d) for d in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in counts and counts[sniffed] > 0 and counts[sniffed] == max(counts.values()):
        return sniffed
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the earlier candidate
    return best if counts[best] > 0 else (sniffed if sniffed in counts else ",")


# ----------------------------------------------------------------------------------- XLSX

class XlsxSource(Source):
    kind = "xlsx"

    def __init__(self, path: Path, sheet: str | None):
        super().__init__(path)
        import openpyxl

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
            raise SupportxlError(f"{path}: not a readable XLSX workbook ({_reason(exc)}).") from None
        names = self.book.sheetnames
        tables = [ws.title for ws in self.book.worksheets]  # chartsheets hold no cells
        if sheet is None:
            if not tables:
                raise SupportxlError(f"{path}: the workbook has no sheets with cells"
                                     + (f" (only charts: {', '.join(names)})." if names else "."))
            sheet = tables[0]
        elif sheet not in names:
            raise SupportxlError(f"{path}: no sheet named '{sheet}' (sheets: {', '.join(names)}).")
        elif sheet not in tables:
            raise SupportxlError(f"{path}: sheet '{sheet}' is a chart, not a table"
                                 + (f" (sheets with cells: {', '.join(tables)})." if tables else "."))
        self.sheet = sheet
        self.details = {"format": "XLSX", "sheet": sheet}
        try:
            rows = [tuple(r) for r in self.book[sheet].iter_rows(values_only=True)]
        except Exception as exc:  # noqa: BLE001
            raise SupportxlError(f"{path}: sheet '{sheet}' cannot be read ({_reason(exc)}).") from None
        finally:
            self.book.close()
        header_at = next((i for i, r in enumerate(rows) if any(_cell_text(v) for v in r)), None)
        if header_at is None:
            raise SupportxlError(f"{path}: sheet '{sheet}' is empty; expected a table with a header row.")
        width = max(len(r) for r in rows)
        self.headers = [_cell_text(v) for v in rows[header_at]] + [""] * (width - len(rows[header_at]))
        self._rows = rows[header_at + 1:]
        self._first_row = header_at + 2  # 1-based sheet row of the first data row

    def read(self, positions: list[int]) -> Table:
        columns = {}
        for p in sorted(set(positions)):
            columns[p] = np.array([_cell_text(r[p]) if p < len(r) else "" for r in self._rows], dtype=object)
        rows = np.arange(self._first_row, self._first_row + len(self._rows), dtype=np.int64)
        return Table(columns, rows)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # a duration cell: as hours:minutes:seconds
        seconds = value.total_seconds()
        sign = "-" if seconds < 0 else ""
        seconds = abs(round(seconds))
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


# ----------------------------------------------------------------------------------- JSON

class JsonSource(Source):
    kind = "json"

    def __init__(self, path: Path):
        super().__init__(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SupportxlError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
        try:
            text = raw.decode("utf-16" if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
                              else "utf-8-sig")
            data = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise SupportxlError(f"{path}: not valid JSON ({_reason(exc)}).") from None
        records = _records(data)
        if records is None:
            raise SupportxlError(
                f"{path}: the JSON holds no table of tickets; expected a list of records "
                f"([{{...}}, ...]) or an object with one under \"tickets\" ({{\"tickets\": [...]}}).")
        self.details = {"format": "JSON"}
        try:
            flat = [_flatten(r) for r in records]
        except RecursionError:
            raise SupportxlError(f"{path}: the JSON records are nested too deeply to read.") from None
        headers: dict[str, None] = {}
        for record in flat:
            for key in record:
                headers.setdefault(key, None)
        if any(_SURROGATE.search(key) for key in headers):
            flat = [{_SURROGATE.sub("\ufffd", k): v for k, v in r.items()} for r in flat]
            headers = {_SURROGATE.sub("\ufffd", k): None for k in headers}
        if not headers:
            raise SupportxlError(f"{path}: the JSON records have no fields.")
        self.headers = list(headers)
        self._records = flat

    def read(self, positions: list[int]) -> Table:
        columns = {}
        for p in sorted(set(positions)):
            key = self.headers[p]
            columns[p] = np.array([_json_text(r.get(key)) for r in self._records], dtype=object)
        return Table(columns, np.arange(2, len(self._records) + 2, dtype=np.int64))


def _records(data: Any) -> list[dict] | None:
    if isinstance(data, dict):
        for key in JSON_KEYS:
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            return None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        return None
    return data


def _flatten(record: dict) -> dict[str, Any]:
    """A record with its nested objects addressed by dotted paths (``reporter.name``,
    ``fields.priority.name``). A nested "properties" object (HubSpot's API) is merged into the
    record under its own names. Lists stay whole (as JSON text)."""
    flat: dict[str, Any] = {}
    properties = record.get("properties")
    if isinstance(properties, dict):
        _flatten_into(flat, "", {k: v for k, v in record.items() if k != "properties"})
        _flatten_into(flat, "", properties)
    else:
        _flatten_into(flat, "", record)
    return flat


def _flatten_into(flat: dict[str, Any], prefix: str, record: dict) -> None:
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _flatten_into(flat, name + ".", value)
        else:
            flat.setdefault(name, value)


# JSON may escape half of a surrogate pair alone ("\udfff"): no character, and no UTF-8 for it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
