"""Reporting periods: a month, a quarter or a year, what each is compared with, and its names.

The Dashboard's period filter lists every year, quarter and month of the data; each is
compared with the period of the same kind before it ("Nov vs Oct", "Q4 vs Q3", "2025 vs
2024"). A period is named three ways: as the filter lists it ("Nov 2025", "2025 Q4", "2025"),
shortly in a comparison ("Nov", "Q4", "2025") and as the key of the compact workbook's
percentile look-up ("2025-11", "2025-Q4", "2025").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

MONTH, QUARTER, YEAR = 1, 3, 12  # a period's length in months


@dataclass(frozen=True)
class Period:
    start: pd.Timestamp  # its first month
    months: int  # MONTH, QUARTER or YEAR

    @property
    def end(self) -> pd.Timestamp:
        """The moment it ends: the first month after it."""
        return self.start + pd.DateOffset(months=self.months)

    @property
    def last_month(self) -> pd.Timestamp:
        return self.start + pd.DateOffset(months=self.months - 1)

    @property
    def previous(self) -> Period:
        return Period(self.start - pd.DateOffset(months=self.months), self.months)

    @property
    def option(self) -> str | pd.Timestamp:
        """How the filter lists it: a month as its date, a quarter or a year as text."""
        if self.months == MONTH:
            return self.start
        return f"{self.start.year} Q{quarter_of(self.start)}" if self.months == QUARTER else str(self.start.year)

    @property
    def short(self) -> str:
        if self.months == MONTH:
            return f"{self.start:%b}"
        return f"Q{quarter_of(self.start)}" if self.months == QUARTER else str(self.start.year)

    @property
    def key(self) -> str:
        return period_keys(pd.Series([self.start]), self.months).iloc[0]

    def maturing(self, as_of: pd.Timestamp, maturity_days: int) -> bool:
        """Whether it ended less than ``maturity_days`` before the as-of time (or has not ended):
        its tickets are still being resolved, so it is not compared as if complete."""
        return self.end > as_of - pd.Timedelta(days=maturity_days)

    def comparison(self, as_of: pd.Timestamp, maturity_days: int) -> str:
        """What a change compares, e.g. "Q4 vs Q3", marked when the period is not complete."""
        return f"{self.short} vs {self.previous.short}" + (
            " (maturing)" if self.maturing(as_of, maturity_days) else "")


def quarter_of(month: pd.Timestamp) -> int:
    return (month.month + 2) // 3


def period_options(months: Iterable[pd.Timestamp]) -> list[Period]:
    """Every year, then every quarter, then every month the data touches, each oldest first."""
    months = sorted({pd.Timestamp(m) for m in months})
    years = sorted({pd.Timestamp(m.year, 1, 1) for m in months})
    quarters = sorted({pd.Timestamp(m.year, 3 * quarter_of(m) - 2, 1) for m in months})
    return ([Period(y, YEAR) for y in years] + [Period(q, QUARTER) for q in quarters]
            + [Period(m, MONTH) for m in months])


def period_keys(months: pd.Series, length: int) -> pd.Series:
    """The look-up key of the period of ``length`` that each month (a timestamp) falls in."""
    if length == MONTH:
        return months.dt.strftime("%Y-%m")
    years = months.dt.year.astype(str)
    return years + "-Q" + ((months.dt.month + 2) // 3).astype(str) if length == QUARTER else years


# --- the same names as Excel formulas, over a cell holding a period's first month ----------

def quarter_formula(start: str) -> str:
    return f"INT((MONTH({start})+2)/3)"


def short_formula(start: str, length: str) -> str:
    """The period's short name ("Nov", "Q4", "2025") from its first month and length cells."""
    return f'IF({length}={MONTH},TEXT({start},"mmm"),IF({length}={QUARTER},"Q"&{quarter_formula(start)},' \
           f'YEAR({start})&""))'


def key_formula(start: str, length: str) -> str:
    """The period's look-up key ("2025-11", "2025-Q4", "2025"), as period_keys makes it."""
    return f'IF({length}={MONTH},TEXT({start},"yyyy-mm"),YEAR({start})&IF({length}={QUARTER},' \
           f'"-Q"&{quarter_formula(start)},""))'
