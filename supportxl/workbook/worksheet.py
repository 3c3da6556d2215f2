"""A worksheet that can skip XlsxWriter's future-function scan for formulas we generate.

XlsxWriter runs about thirty regular expressions over every formula to prefix newer
functions with ``_xlfn.``. The per-ticket SLA formulas use only classic functions (IF,
IFERROR, INDEX, MATCH, MAX), and there are hundreds of thousands of them, so inside
``classic_formulas()`` that scan is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from xlsxwriter.worksheet import Worksheet


class FastWorksheet(Worksheet):
    def __init__(self) -> None:
        super().__init__()
        self._classic_only = False

    @contextmanager
    def classic_formulas(self) -> Iterator[None]:
        """Formulas written inside this block use no function newer than Excel 2007."""
        self._classic_only = True
        try:
            yield
        finally:
            self._classic_only = False

    def _prepare_formula(self, formula, expand_future_functions=False):
        if not self._classic_only:
            return super()._prepare_formula(formula, expand_future_functions)
        return formula[1:] if formula.startswith("=") else formula
