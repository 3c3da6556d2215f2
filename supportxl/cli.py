"""The supportxl command line: a thin layer over the library."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from supportxl import __version__
from supportxl.dataset import write_dataset
from supportxl.errors import SupportxlError
from supportxl.generate import GENERATION_STEPS, generate as generate_dataset, load_params
from supportxl.paths import DEFAULT_DATA_DIR
from supportxl.progress import NoProgress

app = typer.Typer(
    help="Turn support-ticket data into an Excel dashboard people actually use.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

EXIT_USAGE = 2


class _BarProgress:
    """Shows library progress as one rich bar on stderr."""

    def __init__(self, bar: Progress, task) -> None:
        self._bar, self._task = bar, task

    def step(self, description: str, advance: float = 1.0) -> None:
        self._bar.update(self._task, advance=advance, description=description)


@contextmanager
def _progress(total: float, quiet: bool) -> Iterator[object]:
    if quiet or not err.is_terminal:
        yield NoProgress()
        return
    columns = (TextColumn("{task.description:<32}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        yield _BarProgress(bar, bar.add_task("Starting", total=total))


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn a SupportxlError into one clear sentence on stderr and exit code 2."""
    try:
        yield
    except SupportxlError as exc:
        err.print(f"Error: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None


def _version(value: bool) -> None:
    if value:
        out.print(f"supportxl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Turn support-ticket data into an Excel dashboard people actually use."""


@app.command()
def generate(
    tickets: Optional[int] = typer.Option(None, "--tickets", "-n", help="Number of tickets [default: 50000]."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed; same seed, same files [default: 42]."),
    year: Optional[int] = typer.Option(None, "--year", help="Calendar year to cover [default: last year]."),
    start: Optional[str] = typer.Option(None, "--start", help="First day, YYYY-MM-DD (overrides --year)."),
    end: Optional[str] = typer.Option(None, "--end", help="Last day, YYYY-MM-DD (overrides --year)."),
    accounts: Optional[int] = typer.Option(None, "--accounts", help="Number of customer accounts [default: 400]."),
    agents: Optional[int] = typer.Option(None, "--agents", help="Number of support agents [default: 60]."),
    locale: Optional[str] = typer.Option(None, "--locale", help="Faker locale for names [default: en_US]."),
    scenario: Optional[Path] = typer.Option(None, "--scenario", help="Scenario TOML with all generator parameters; flags override it."),
    out_dir: Path = typer.Option(DEFAULT_DATA_DIR, "--out", "-o", help="Folder to write the CSV files and manifest.json into."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Generate a realistic, seeded year of support data as CSV files.

    Examples:

      supportxl generate

      supportxl generate --tickets 200000 --year 2024 --seed 7 --out output/data-2024

      supportxl generate --scenario templates/scenarios/peak_season.toml --agents 80
    """
    with _user_errors():
        params = load_params(scenario, dict(tickets=tickets, seed=seed, start=start, end=end,
                                            accounts=accounts, agents=agents, locale=locale), year=year)
        began = time.perf_counter()
        with _progress(GENERATION_STEPS + 1, quiet) as progress:
            dataset = generate_dataset(params, progress)
            write_dataset(dataset, out_dir)
            progress.step("Writing CSV files")
        if not quiet:
            rows = dataset.manifest["rows"]
            out.print(
                f"Generated {rows['tickets']:,} tickets from {params.period_start} to {params.period_end} "
                f"({rows['accounts']:,} accounts, {rows['agents']:,} agents, "
                f"{rows['escalation_events']:,} escalation events; seed {params.seed}) "
                f"in {out_dir} in {time.perf_counter() - began:.1f} s.",
                soft_wrap=True,
            )


def main() -> None:
    app()
