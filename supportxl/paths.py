"""Where the shipped templates and scenarios live, and the default output locations."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _shipped_templates_dir() -> Path:
    """The templates/ folder: inside the package when installed from a wheel (pyproject maps the
    repository's top-level folder to supportxl/templates), at the repository's top level in a
    source checkout or an editable install."""
    packaged = resources.files("supportxl").joinpath("templates")
    return Path(str(packaged)) if packaged.is_dir() else PROJECT_ROOT / "templates"


TEMPLATES_DIR = _shipped_templates_dir()
SCENARIOS_DIR = TEMPLATES_DIR / "scenarios"
DEFAULT_DATA_DIR = Path("output") / "data"
DEFAULT_WORKBOOK = Path("output") / "support_dashboard.xlsx"
