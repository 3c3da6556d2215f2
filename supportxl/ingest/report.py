"""The data-quality report of an import: what was wrong with the file and what was done.

A report is a list of findings. Each finding has a kind ("unparseable date", ...), a
severity (fatal, warning or info), how many rows or columns it concerns, what the importer
did about it, and up to five examples as (row number in the source file, column, value);
the header is row 1, so the first ticket is row 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEVERITIES = ("fatal", "warning", "info")
MAX_EXAMPLES = 5
MAX_VALUE_CHARS = 60

Example = tuple[int, str, str]


@dataclass(frozen=True)
class Finding:
    """One kind of problem in one column (or in whole rows, when ``column`` is empty)."""

    kind: str
    severity: str
    count: int
    examples: tuple[Example, ...] = ()
    column: str = ""
    detail: str = ""  # what the importer did, in a few words: "kept as missing"
    unit: str = "row"  # what ``count`` counts: rows, columns, values

    def counted(self) -> str:
        unit = self.unit if self.count == 1 else self.unit + "s"
        return f"{self.count:,} {unit}"

    def examples_text(self) -> str:
        return "; ".join(_example_text(e) for e in self.examples)

    def line(self) -> str:
        where = f" in column '{self.column}'" if self.column else ""
        text = f"{self.severity}: {self.kind}{where}: {self.counted()}"
        if self.detail:
            text += f" ({self.detail})"
        if self.examples:
            text += f"; e.g. {self.examples_text()}"
        return text

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Finding:
        """The finding ``to_data`` wrote (into a dataset's manifest)."""
        examples = tuple((int(e["row"]), str(e["column"]), str(e["value"])) for e in data.get("examples", ()))
        return cls(kind=str(data["kind"]), severity=str(data["severity"]), count=int(data["count"]),
                   examples=examples, column=str(data.get("column", "")), detail=str(data.get("detail", "")))

    def to_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "severity": self.severity, "count": self.count,
            "column": self.column, "detail": self.detail,
            "examples": [{"row": row, "column": column, "value": value}
                         for row, column, value in self.examples],
        }


def _example_text(example: Example) -> str:
    row, column, value = example
    where = f"row {row:,}" + (f", {column}" if column else "")
    return f"{where}: '{value}'" if value != "" else where


def shorten(value: Any) -> str:
    """A value as example text: one line, at most ``MAX_VALUE_CHARS`` characters."""
    text = str(value).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS - 1] + "…"
    if not text.isprintable():  # control characters of a broken file: shown as "?"
        text = "".join(c if c.isprintable() else "?" for c in text)
    return text


@dataclass
class QualityReport:
    """Every finding of one import, in the order they were found."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, kind: str, severity: str, count: int, *, column: str = "", detail: str = "",
            examples: Sequence[Example] = (), unit: str = "row") -> Finding | None:
        if count <= 0:
            return None
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")  # a programming error
        finding = Finding(kind=kind, severity=severity, count=int(count), column=column, detail=detail,
                          examples=tuple((int(r), str(c), shorten(v)) for r, c, v in examples[:MAX_EXAMPLES]),
                          unit=unit)
        self.findings.append(finding)
        return finding

    def add_rows(self, kind: str, severity: str, mask: np.ndarray, rows: np.ndarray, *,
                 column: str = "", values: Any = None, detail: str = "") -> Finding | None:
        """A finding about the rows where ``mask`` is true; examples are the first five
        such rows, with their value in ``values`` (an array aligned with ``mask``)."""
        mask = np.asarray(mask, dtype=bool)
        count = int(mask.sum())
        if count == 0:
            return None
        at = np.flatnonzero(mask)[:MAX_EXAMPLES]
        shown = [""] * len(at) if values is None else [_plain(v) for v in np.asarray(values, dtype=object)[at]]
        examples = [(int(rows[i]), column, v) for i, v in zip(at, shown)]
        return self.add(kind, severity, count, column=column, detail=detail, examples=examples)

    @property
    def fatal(self) -> bool:
        return any(f.severity == "fatal" for f in self.findings)

    def by_severity(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    def lines(self) -> list[str]:
        """One human-readable line per finding, most severe first."""
        return [f.line() for f in self._sorted()]

    def rows(self) -> list[tuple[str, str, int, str]]:
        """(kind, severity, count, examples) per finding, most severe first, for a sheet."""
        rows = []
        for f in self._sorted():
            kind = f"{f.kind} ({f.column})" if f.column else f.kind
            examples = f.examples_text()
            if f.detail:
                examples = f"{f.detail}. {examples}" if examples else f.detail
            rows.append((kind, f.severity, f.count, examples))
        return rows

    def to_data(self) -> dict[str, Any]:
        return {
            "fatal": self.fatal,
            "counts": {s: sum(f.count > 0 for f in self.findings if f.severity == s) for s in SEVERITIES},
            "findings": [f.to_data() for f in self._sorted()],
        }

    def _sorted(self) -> list[Finding]:
        order = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted(self.findings, key=lambda f: order[f.severity])  # stable within a severity

    def __len__(self) -> int:
        return len(self.findings)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    try:
        if value != value:  # NaN, NaT, pd.NA raise or compare unequal
            return ""
    except (TypeError, ValueError):
        return ""
    return str(value)
