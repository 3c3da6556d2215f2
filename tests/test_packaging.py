"""The package as users install it: a wheel that carries its templates, and a guarded XlsxWriter."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from supportxl.workbook.worksheet import check_xlsxwriter_version

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_TOML = sorted(p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.toml"))


def run(command: list, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{command} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "-q", "-w", out], cwd=out)
    (built,) = out.glob("supportxl-*.whl")
    return built


def test_the_wheel_carries_every_template_inside_the_package(wheel):
    with zipfile.ZipFile(wheel) as archive:
        packaged = sorted(name.removeprefix("supportxl/templates/") for name in archive.namelist()
                          if name.startswith("supportxl/templates/"))
        assert not [name for name in archive.namelist() if name.startswith("templates/")]
    assert packaged == SHIPPED_TOML
    assert "dashboard.toml" in packaged and "scenarios/baseline.toml" in packaged


def test_the_installed_wheel_builds_a_report_from_another_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    # The tests' own site-packages provide the dependencies, so nothing is downloaded. A venv
    # made from inside a venv is based on the interpreter below it, whose site-packages may
    # lack them: the new one is pointed at every site-packages the tests run with.
    run([sys.executable, "-m", "venv", "--system-site-packages", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                       cwd=tmp_path).stdout.strip())
    (purelib / "tests-dependencies.pth").write_text(
        "".join(f"{p}\n" for p in sys.path if p.endswith(("site-packages", "dist-packages"))))
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    located = run([python, "-c", "import supportxl, supportxl.paths as p; print(supportxl.__file__); "
                   "print(p.TEMPLATES_DIR)"], cwd=elsewhere).stdout.split()
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                    cwd=elsewhere).stdout.strip())
    assert Path(located[0]) == site / "supportxl" / "__init__.py"  # the wheel, not the source tree
    assert Path(located[1]) == site / "supportxl" / "templates"
    proc = run([venv / "bin" / "supportxl", "report", "--tickets", "300", "-o", "dash.xlsx"], cwd=elsewhere)
    assert (elsewhere / "dash.xlsx").stat().st_size > 10_000
    assert "Wrote dash.xlsx" in proc.stdout
    with zipfile.ZipFile(elsewhere / "dash.xlsx") as book:
        assert "xl/worksheets/sheet1.xml" in book.namelist()
    listed = run([venv / "bin" / "supportxl", "templates", "list"], cwd=elsewhere).stdout
    assert [line.split()[0] for line in listed.splitlines()] == ["agent_review", "dashboard", "executive"]


@pytest.mark.parametrize("version", ["3.2.9", "3.4.0", "4.0", "unknown"])
def test_an_unsupported_xlsxwriter_is_refused_with_the_range_to_install(version):
    with pytest.raises(ImportError) as caught:
        check_xlsxwriter_version(version)
    assert str(caught.value) == (
        f"supportxl needs XlsxWriter >= 3.3, < 3.4 (found {version}): its fast worksheet relies on "
        f"XlsxWriter internals that change between versions; install a supported one with "
        f"pip install 'xlsxwriter>=3.3,<3.4'.")


def test_the_supported_xlsxwriter_versions_pass():
    check_xlsxwriter_version("3.3.0")
    check_xlsxwriter_version("3.3.1")
