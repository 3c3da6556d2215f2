"""One theme and one format cache: exactly one Format per distinct set of options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook


@dataclass(frozen=True)
class Theme:
    font: str = "Calibri"
    font_size: int = 10
    primary: str = "#1F4E79"
    accent: str = "#2E75B6"
    light: str = "#DDEBF7"
    good: str = "#C6EFCE"
    good_text: str = "#006100"
    bad: str = "#FFC7CE"
    bad_text: str = "#9C0006"
    neutral: str = "#FFEB9C"
    muted_text: str = "#595959"
    table_style: str = "Table Style Medium 2"
    series: tuple[str, ...] = ("#1F4E79", "#2E75B6", "#9DC3E6", "#F4B183", "#C55A11",
                               "#A9D18E", "#548235", "#FFD966", "#7F7F7F", "#BF9000")
    number_formats: dict[str, str] = field(default_factory=dict)  # overrides, e.g. currency = "€#,##0"


NUMBER_FORMATS = {
    "text": None,
    "id": "0",
    "int": "#,##0",
    "datetime": "yyyy-mm-dd hh:mm",
    "date": "yyyy-mm-dd",
    "month": "mmm yyyy",
    "hours": "#,##0.0",
    "percent": "0.0%",
    "score": "0.00",
    "currency": "$#,##0",
    "share": "0%",
}

STYLES: dict[str, dict[str, Any]] = {
    "plain": {},
    "title": {"bold": True, "font_size": 16, "font_color": "primary"},
    "subtitle": {"italic": True, "font_color": "muted_text"},
    "section": {"bold": True, "font_size": 12, "font_color": "primary", "bottom": 1,
                "bottom_color": "accent"},
    "header": {"bold": True, "font_color": "#FFFFFF", "bg_color": "primary", "text_wrap": True,
               "valign": "vcenter", "border": 1, "border_color": "#FFFFFF"},
    "label": {"bold": True},
    "cell": {"border": 1, "border_color": "#D9D9D9"},
    "total": {"bold": True, "top": 2, "top_color": "primary", "bg_color": "light"},
    "note": {"italic": True, "font_color": "muted_text", "text_wrap": True, "valign": "top"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "input": {"bg_color": "#FFF2CC", "border": 1, "border_color": "#BF9000"},
    "good": {"bg_color": "good", "font_color": "good_text"},
    "bad": {"bg_color": "bad", "font_color": "bad_text"},
    "breach_row": {"bg_color": "#FCE4E4"},
}


class Formats:
    """Hands out cached formats: ``formats.get("total", "percent")``."""

    def __init__(self, workbook: Workbook, theme: Theme) -> None:
        self._workbook = workbook
        self.theme = theme
        self._cache: dict[tuple, Format] = {}

    def get(self, style: str = "plain", number: str = "text", **extra: Any) -> Format:
        key = (style, number, tuple(sorted(extra.items())))
        if key not in self._cache:
            options: dict[str, Any] = {"font_name": self.theme.font, "font_size": self.theme.font_size}
            options.update({k: self._colour(k, v) for k, v in STYLES[style].items()})
            num_format = self.theme.number_formats.get(number, NUMBER_FORMATS[number])
            if num_format:
                options["num_format"] = num_format
            options.update({k: self._colour(k, v) for k, v in extra.items()})
            self._cache[key] = self._workbook.add_format(options)
        return self._cache[key]

    def _colour(self, option: str, value: Any) -> Any:
        """Theme colour names ('primary') in colour options become their hex value."""
        if option.endswith("color") and isinstance(value, str) and not value.startswith("#"):
            return getattr(self.theme, value)
        return value

    def __len__(self) -> int:
        return len(self._cache)
