"""Where the shipped templates and scenarios live, and the default output locations."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
SCENARIOS_DIR = TEMPLATES_DIR / "scenarios"
DEFAULT_DATA_DIR = Path("output") / "data"
DEFAULT_WORKBOOK = Path("output") / "support_dashboard.xlsx"
