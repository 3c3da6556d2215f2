"""Issue types for untyped tickets, from editable keyword rules (templates/issue_types.toml).

Only a ticket whose issue type is missing or one of the rules file's ``untyped`` values
("Other", "Unknown", ...) is classified; a type the export gives is never changed. The first
rule whose keywords or patterns match the ticket's subject (or description) gives the type,
and the ticket's ``issue_type_rule`` names the rule and what matched, so every classification
can be checked. The import reports the coverage as a Data Quality finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from supportxl.config import read_toml
from supportxl.errors import ParameterError
from supportxl.ingest.report import QualityReport
from supportxl.paths import TEMPLATES_DIR

RULES_FILE = TEMPLATES_DIR / "issue_types.toml"
RULE_COLUMN = "issue_type_rule"  # the rule that classified each ticket ("" when none did)
DESCRIPTION = "description"  # an optional tickets column: an export's description text, for the rules only
TEXT_COLUMNS = ("subject", DESCRIPTION)


@dataclass(frozen=True)
class Rule:
    issue_type: str
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    def regex(self) -> re.Pattern[str]:
        words = [rf"(?<!\w){re.escape(k)}(?!\w)" for k in self.keywords]
        return re.compile("|".join(words + [f"(?:{p})" for p in self.patterns]), re.IGNORECASE)


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    untyped: tuple[str, ...]
    source: str

    def is_untyped(self, issue_type: pd.Series) -> np.ndarray:
        folded = issue_type.fillna("").astype(str).str.strip().str.casefold()
        return (folded.eq("") | folded.isin([u.strip().casefold() for u in self.untyped])).to_numpy()


def load_rules(path: str | Path | None = None) -> Rules:
    """The rules file (the shipped one by default), checked: a bad rule names the file and rule."""
    path = Path(path) if path is not None else RULES_FILE
    data = read_toml(path)
    label = "templates/issue_types.toml" if path == RULES_FILE else str(path)
    untyped = data.get("untyped", ["Other", "Unknown"])
    if not isinstance(untyped, list) or not all(isinstance(u, str) for u in untyped):
        raise ParameterError(f"{label}: untyped must be a list of issue-type names.")
    rules = []
    for number, item in enumerate(data.get("rule", []), start=1):
        where = f"{label}: rule {number}"
        if not isinstance(item, dict) or not isinstance(item.get("type"), str) or not item["type"].strip():
            raise ParameterError(f"{where}: needs a type (the issue type it gives).")
        keywords, patterns = item.get("keywords", []), item.get("patterns", [])
        for name, values in (("keywords", keywords), ("patterns", patterns)):
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
                raise ParameterError(f"{where} ({item['type']}): {name} must be a list of non-empty texts.")
        if not keywords and not patterns:
            raise ParameterError(f"{where} ({item['type']}): give keywords or patterns.")
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ParameterError(f"{where} ({item['type']}): pattern {pattern!r} is not a regular "
                                     f"expression ({exc}).") from None
        rules.append(Rule(item["type"].strip(), tuple(keywords), tuple(patterns)))
    return Rules(tuple(rules), tuple(untyped), label)


def classify(tickets: pd.DataFrame, rules: Rules) -> tuple[pd.Series, pd.Series]:
    """The issue types with untyped tickets classified, and the rule of each ("" when the
    export gave the type or no rule matched)."""
    types = tickets["issue_type"].astype(object).copy()
    matched = pd.Series("", index=tickets.index, dtype=object)
    text = ticket_text(tickets)
    pending = pd.Series(rules.is_untyped(types), index=tickets.index)
    for rule in rules.rules:
        if not pending.any():
            break
        found = text[pending].str.extract(f"({rule.regex().pattern})", flags=re.IGNORECASE)[0]
        hit = found.dropna()
        types.loc[hit.index] = rule.issue_type
        matched.loc[hit.index] = [f"{rule.issue_type}: '{m.lower()}'" for m in hit]
        pending.loc[hit.index] = False
    return types, matched


def ticket_text(tickets: pd.DataFrame) -> pd.Series:
    """The text the rules read: the subject, and the description where the export has one."""
    parts = [tickets[key].fillna("").astype(str).str.strip() for key in TEXT_COLUMNS if key in tickets]
    text = parts[0] if parts else pd.Series("", index=tickets.index, dtype=object)
    for part in parts[1:]:
        text = text.str.cat(part, sep=" / ").str.strip(" /")
    return text


def classify_untyped(tickets: pd.DataFrame, rows: np.ndarray, report: QualityReport,
                     rules: Rules | None = None) -> pd.DataFrame:
    """``tickets`` with untyped issue types classified and the ``issue_type_rule`` column, and
    the coverage reported (``rows`` are the tickets' row numbers in the source file)."""
    rules = rules or load_rules()
    untyped = rules.is_untyped(tickets["issue_type"])
    texts = [tickets[key].fillna("").astype(str).str.strip().ne("") for key in TEXT_COLUMNS if key in tickets]
    if not untyped.any() or not any(t.any() for t in texts):  # nothing to classify, or nothing to read
        return tickets
    types, matched = classify(tickets, rules)
    classified = matched.ne("").to_numpy()
    counts = types[classified].value_counts()
    by_type = ", ".join(f"{t} {n:,}" for t, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    coverage = classified.sum() / untyped.sum()
    from_subjects = ""
    if DESCRIPTION in tickets and "subject" in tickets:
        alone = int(classify(tickets.drop(columns=DESCRIPTION), rules)[1].ne("").sum())
        from_subjects = f"; from the subjects alone: {alone:,} ({alone / untyped.sum():.1%})"
    text = ticket_text(tickets)
    report.add_rows("issue type classified", "info", classified, rows,
                    values=(matched + " in '" + text + "'").to_numpy(),
                    detail=f"{int(classified.sum()):,} of {int(untyped.sum()):,} untyped tickets "
                           f"({coverage:.1%}) classified by the rules in {rules.source}: {by_type}"
                           f"{from_subjects}; the Tickets sheet's Issue type rule column names each rule")
    report.add_rows("issue type unclassified", "info", untyped & ~classified, rows,
                    values=text.to_numpy(dtype=object),
                    detail="no rule matched: the type is kept as in the export")
    out = tickets.copy()
    out["issue_type"] = types.to_numpy(dtype=object)
    out[RULE_COLUMN] = matched.to_numpy(dtype=object)
    return out
