"""The supportxl command line: a thin layer over the library."""

from __future__ import annotations

import shlex
import signal
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperArgument, TyperCommand

from supportxl import __version__
from supportxl.dataset import check_dataset_folder, write_dataset
from supportxl.errors import SupportxlError
from supportxl.fileio import check_output, check_source_file, remove_stale_temps
from supportxl.generate import GENERATION_STEPS, generate as generate_dataset, load_params
from supportxl.paths import DEFAULT_DATA_DIR, DEFAULT_WORKBOOK
from supportxl.progress import NoProgress

app = typer.Typer(
    help="Turn support-ticket data into an Excel dashboard people actually use.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is plain: "[default: 42]" is not a markup tag
)


class _NamedArgument(TyperArgument):
    def display_type_rich(self, ctx) -> None:
        return None  # the metavar says what it is; no "<path>" or "<list[Path]>" after it

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")


class _Command(TyperCommand):
    """A command whose help names each argument by its metavar alone, without a Python type."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument and param.metavar:
                param.__class__ = _NamedArgument


err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C
SPLIT_CHOICES = ("team", "region", "industry", "account", "agent")


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


def _status(text: str, quiet: bool):
    """A spinner on stderr for a step without measurable progress, in a terminal only."""
    return err.status(text) if not quiet and err.is_terminal else nullcontext()


@contextmanager
def _user_errors() -> Iterator[list[Path]]:
    """Turn a SupportxlError into one clear sentence on stderr and exit code 2, and an interrupt
    (Ctrl-C, or SIGTERM) into one line saying what was written. The command appends each file
    it has finished to the list it is given."""
    written: list[Path] = []
    try:
        yield written
    except SupportxlError as exc:
        err.print(f"Error: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    except KeyboardInterrupt:
        done = (f"wrote {', '.join(map(str, written))} and nothing else" if written
                else "nothing was written")
        err.print(f"Interrupted; {done}.", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a run like Ctrl-C: temporaries removed, one line said


def _clear_stale(targets, quiet: bool) -> None:
    """Remove what an interrupted earlier run left beside these outputs, and say so."""
    for target in targets:
        for path in remove_stale_temps(target):
            if not quiet:
                err.print(f"Removed {path}, left by an interrupted run.", markup=False, soft_wrap=True)


def _check_workbook_output(output: Path, inputs=(), *, pdf: bool = False, csv_dir: Path | None = None,
                           keep_data: Path | None = None) -> list[Path]:
    """Check every output of a build before anything is written; returns their paths."""
    targets = [check_output(output, suffixes=(".xlsx",), inputs=inputs)]
    if pdf:
        targets.append(check_output(output.with_suffix(".pdf"), suffixes=(".pdf",), option="--pdf",
                                    inputs=inputs))
    if csv_dir is not None:
        from supportxl.deliver.csv_reports import FILENAMES

        check_output(csv_dir, kind="folder", option="--csv-dir")
        targets += [check_output(csv_dir / name, option="--csv-dir", inputs=inputs) for name in FILENAMES]
    if keep_data is not None:
        targets.append(check_dataset_folder(check_output(keep_data, kind="folder", option="--keep-data")))
    return targets


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
    signal.signal(signal.SIGTERM, _interrupt)


def _generator_params(tickets, seed, year, start, end, accounts, agents, locale, scenario):
    return load_params(scenario, dict(tickets=tickets, seed=seed, start=start, end=end,
                                      accounts=accounts, agents=agents, locale=locale), year=year)


def _command_line(name: str, *arguments: object, **options: object) -> str:
    """The command that reproduces this run, recorded on the About sheet."""
    parts = ["supportxl", name, *(shlex.quote(str(a)) for a in arguments)]
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            parts.append(flag)
        else:  # a list is a repeated option: --set A=1 --set B=2
            for item in value if isinstance(value, (list, tuple)) else (value,):
                parts += [flag, shlex.quote(str(item))]
    return " ".join(parts)


TICKETS_OPT = typer.Option(None, "--tickets", "-n", metavar="N", help="Number of tickets [default: 50000].")
SEED_OPT = typer.Option(None, "--seed", metavar="N", help="Random seed; same seed, same files [default: 42].")
YEAR_OPT = typer.Option(None, "--year", metavar="YYYY", help="Calendar year to cover [default: last year].")
START_OPT = typer.Option(None, "--start", metavar="DATE", help="First day, YYYY-MM-DD (overrides --year).")
END_OPT = typer.Option(None, "--end", metavar="DATE", help="Last day, YYYY-MM-DD (overrides --year).")
ACCOUNTS_OPT = typer.Option(None, "--accounts", metavar="N",
                            help="Number of customer accounts, at most 20,000 [default: 400].")
AGENTS_OPT = typer.Option(None, "--agents", metavar="N",
                          help="Number of support agents, 3 to 2,000 [default: 60].")
LOCALE_OPT = typer.Option(None, "--locale", metavar="LOCALE", help="Faker locale for names [default: en_US].")
SCENARIO_OPT = typer.Option(None, "--scenario", metavar="FILE.toml", help="Scenario TOML with all generator parameters; flags override it.")
TEMPLATE_OPT = typer.Option(None, "--template", "-t", metavar="NAME|FILE.toml", help="Report template: a shipped name (dashboard) or a .toml path.")
QUIET_OPT = typer.Option(False, "--quiet", "-q", help="Print nothing but errors.")
SET_OPT = typer.Option(None, "--set", metavar="KEY=VALUE",
                       help="Override a template value, e.g. --set sla.resolution_hours.High=8 (repeatable). "
                            "Targets that are rates are shares from 0 to 1: --set targets.csat=0.9 "
                            "for 90 %.")
PDF_OPT = typer.Option(False, "--pdf", help="Also write the Dashboard and Insights sheets as a PDF beside the "
                                           ".xlsx (same name, .pdf), rendered by LibreOffice. Without "
                                           "LibreOffice a warning says how to install it, the .xlsx is still "
                                           "written and the exit code stays 0.")
CSV_DIR_OPT = typer.Option(None, "--csv-dir", metavar="DIR",
                           help="Also write the KPI tables as CSV files into DIR: by month, channel, priority, "
                                "industry, country, account and agent, the same numbers as the workbook.")


@app.command(cls=_Command)
def generate(
    tickets: Optional[int] = TICKETS_OPT,
    seed: Optional[int] = SEED_OPT,
    year: Optional[int] = YEAR_OPT,
    start: Optional[str] = START_OPT,
    end: Optional[str] = END_OPT,
    accounts: Optional[int] = ACCOUNTS_OPT,
    agents: Optional[int] = AGENTS_OPT,
    locale: Optional[str] = LOCALE_OPT,
    scenario: Optional[Path] = SCENARIO_OPT,
    out_dir: Path = typer.Option(DEFAULT_DATA_DIR, "--out", "-o", metavar="DIR",
                                 help="Folder to write the CSV files and manifest.json into; an "
                                      "earlier dataset there is replaced whole."),
    quiet: bool = QUIET_OPT,
) -> None:
    """Generate a realistic, seeded year of support data as CSV files.

    Examples:

    \b
      supportxl generate
      supportxl generate --tickets 200000 --year 2024 --seed 7 --out output/data-2024
      supportxl generate --scenario templates/scenarios/baseline.toml --agents 80
    """
    with _user_errors() as written:
        params = _generator_params(tickets, seed, year, start, end, accounts, agents, locale, scenario)
        check_dataset_folder(check_output(out_dir, kind="folder", option="--out"))
        _clear_stale([out_dir], quiet)
        began = time.perf_counter()
        with _progress(GENERATION_STEPS + 1, quiet) as progress:
            dataset = generate_dataset(params, progress)
            write_dataset(dataset, out_dir)
            written.append(out_dir)
            progress.step("Writing CSV files")
        if not quiet:
            _say_generated(dataset, params, out_dir, time.perf_counter() - began)


def _say_generated(dataset, params, where, seconds: float) -> None:
    rows = dataset.manifest["rows"]
    out.print(
        f"Generated {rows['tickets']:,} tickets from {params.period_start} to {params.period_end} "
        f"({rows['accounts']:,} accounts, {rows['agents']:,} agents, "
        f"{rows['escalation_events']:,} escalation events; seed {params.seed}) "
        f"in {where} in {seconds:.1f} s.",
        soft_wrap=True,
    )


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:,.1f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} KB"


def _say_built(result) -> None:
    out.print(f"Wrote {result.path} ({_size(result.path)}, {len(result.sheets)} sheets, "
              f"{result.tickets:,} tickets) in {result.seconds:.1f} s.", soft_wrap=True)
    for warning in result.warnings:
        err.print(f"Warning: {warning}", markup=False, soft_wrap=True)


def _deliver(result, dataset, template, pdf: bool, csv_dir: Path | None, quiet: bool,
             written: list[Path]) -> None:
    """The extra files of --csv-dir and --pdf, after the workbook."""
    if csv_dir is not None:
        from supportxl.deliver.csv_reports import write_kpi_csvs

        files = write_kpi_csvs(dataset, template, csv_dir, model=result.model)
        written.append(csv_dir)
        if not quiet:
            out.print(f"Wrote {len(files)} CSV files to {csv_dir}/.", markup=False, soft_wrap=True)
    if pdf:
        from supportxl.deliver.pdf import write_pdf
        from supportxl.verify import LibreOfficeNotFound

        try:
            with _status("Rendering the PDF in LibreOffice", quiet):
                rendered = write_pdf(result.path)
        except LibreOfficeNotFound as exc:
            # The workbook is the main product; a missing renderer is a warning, shown even with --quiet.
            err.print(f"Warning: no PDF written. {exc}", markup=False, soft_wrap=True)
            return
        written.append(rendered.path)
        if not quiet:
            pages = f"{rendered.pages} page" + ("" if rendered.pages == 1 else "s")
            out.print(f"Wrote {rendered.path} ({pages}, {_size(rendered.path)}).", markup=False, soft_wrap=True)


def _check_pdf(pdf: bool, template) -> None:
    """Before building: a PDF needs the Dashboard or Insights."""
    if pdf:
        from supportxl.deliver.pdf import pdf_sheets

        pdf_sheets(template.sheets, where=f"template '{template.name}'")


CALENDAR_OPT = typer.Option(
    None, "--calendar", metavar="DAYS HOURS [ZONE]",
    help="Business calendar for the SLA clocks, e.g. 'Mon-Fri 09:00-17:00 Europe/Berlin' "
         "(holidays: --set calendar.holidays=[2025-12-25]).")
MAPPING_OPT = typer.Option("auto", "--mapping", "-m", metavar="NAME|FILE.toml",
                           help="How to read an export: auto (recognised from the headers), zendesk, "
                                "zendesk_explore, freshdesk, jira, servicenow, hubspot, or a mapping .toml file.")
TIMEZONE_OPT = typer.Option(None, "--timezone", metavar="ZONE", help="Time zone the export's timestamps are written in "
                                                     "[default: the mapping's, usually UTC].")
SHEET_OPT = typer.Option(None, "--sheet", metavar="NAME", help="The sheet of an .xlsx export to read [default: the first].")
STRICT_OPT = typer.Option(False, "--strict", help="Unknown status, priority, CSAT or tier values are fatal "
                                                  "instead of becoming 'Unknown'; in a dataset folder, every "
                                                  "problem is.")
AS_OF_OPT = typer.Option(None, "--as-of", metavar="WHEN",
                         help="The moment the report describes, 'YYYY-MM-DD' (the end of that day) or "
                              "'YYYY-MM-DD HH:MM', in the report's time zone [default: the latest "
                              "timestamp in the data].")


def _import_options(mapping, timezone, sheet, strict, redact, as_of) -> dict:
    return dict(mapping=mapping, timezone=timezone, sheet=sheet, strict=strict, redact=redact, as_of=as_of)


def _load_source(source: Path, options: dict, quiet: bool):
    """A dataset folder as written by 'supportxl generate', or a helpdesk export file; either
    is checked, and what was found is printed."""
    from supportxl.ingest import load_dataset, load_export

    if not source.exists() and not source.is_symlink():
        raise SupportxlError(f"{source}: no such file or folder (expected a helpdesk export file, or a "
                             f"folder written by 'supportxl generate').")
    if source.is_dir():
        given = [flag for flag, used in (("--mapping", options["mapping"] != "auto"),
                                         ("--timezone", options["timezone"]), ("--sheet", options["sheet"]),
                                         ("--redact", options["redact"]))
                 if used]
        if given:
            raise SupportxlError(f"{', '.join(given)} applies to helpdesk export files, but {source} is a "
                                 f"dataset folder.")
        result = load_dataset(source, strict=options["strict"], as_of=options["as_of"])
        if not quiet and len(result.report):
            _say_findings(result.report)
        return result.dataset
    check_source_file(source, "a helpdesk export (.csv, .xlsx or .json) or a dataset folder")
    with _status(f"Reading {source.name}", quiet):
        result = load_export(source, **options)
    if not quiet:
        _say_imported(result)
    return result.dataset


def _say_imported(result) -> None:
    rows = result.dataset.manifest["rows"]
    err.print(f"Mapping: {result.reason}", markup=False, soft_wrap=True)
    err.print(f"Read {rows['source']:,} rows: {rows['tickets']:,} tickets, {rows['escalation_events']:,} "
              f"escalation events, {rows['dropped']:,} rows dropped or merged.", markup=False, soft_wrap=True)
    _say_findings(result.report)


def _say_findings(report) -> None:
    lines = report.lines()
    err.print(f"Data quality: {len(lines):,} finding(s)" + (":" if lines else ", none."), markup=False)
    for line in lines:
        err.print(f"  {line}", markup=False, soft_wrap=True)


@app.command(cls=_Command)
def build(
    source: Path = typer.Argument(..., metavar="SOURCE",
                                  help="A folder written by 'supportxl generate', or a helpdesk export "
                                       "(.csv, .xlsx or .json)."),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="FILE.xlsx|DIR", help=f"The .xlsx file to write [default: {DEFAULT_WORKBOOK}]; with --split-by, "
                                     f"the folder [default: output/by_DIMENSION]."),
    template: Optional[str] = TEMPLATE_OPT,
    set_values: Optional[list[str]] = SET_OPT,
    mapping: str = MAPPING_OPT,
    timezone: Optional[str] = TIMEZONE_OPT,
    calendar: Optional[str] = CALENDAR_OPT,
    redact: bool = typer.Option(False, "--redact", help="Replace requester names and e-mails with stable "
                                                        "pseudonyms and drop subjects, for sharing."),
    strict: bool = STRICT_OPT,
    sheet: Optional[str] = SHEET_OPT,
    as_of: Optional[str] = AS_OF_OPT,
    split_by: Optional[str] = typer.Option(
        None, "--split-by", metavar="|".join(SPLIT_CHOICES),
        help="One workbook per team, region, industry, account or agent, each built from its own "
             "tickets, plus index.xlsx linking them."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", metavar="N",
                                       help="Workbooks built at once with --split-by [default: one per CPU]."),
    pdf: bool = PDF_OPT,
    csv_dir: Optional[Path] = CSV_DIR_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Build the Excel dashboard from generated data or a helpdesk export.

    An export's source is recognised from its headers (or named with --mapping); what the
    import found goes to the terminal and to the workbook's Data Quality sheet.

    Examples:

    \b
      supportxl build output/data
      supportxl build zendesk_tickets.csv -o output/q4.xlsx --timezone Europe/Berlin
      supportxl build incidents.xlsx --mapping servicenow --calendar 'Mon-Fri 08:00-18:00' --redact
      supportxl build output/data --set sla.resolution_hours.High=8 --set targets.csat=0.9
      supportxl build output/data --split-by team -o output/by_team
      supportxl build output/data --pdf --csv-dir output/kpis
    """
    from supportxl.metrics.calendar import calendar_overrides
    from supportxl.template import load_template
    from supportxl.workbook.builder import BUILD_STEPS, build_workbook

    with _user_errors() as written:
        by = split_by
        if by is not None and by not in SPLIT_CHOICES:
            raise SupportxlError(f"--split-by {by!r}: choose one of {', '.join(SPLIT_CHOICES)}.")
        if jobs is not None and jobs < 1:
            raise SupportxlError(f"--jobs must be at least 1, found {jobs}.")
        if by and (pdf or csv_dir):
            raise SupportxlError("--pdf and --csv-dir are for one workbook, not with --split-by (the split's "
                                 "index.xlsx lists every slice's headline KPIs).")
        overrides = [*(calendar_overrides(calendar) if calendar else ()), *(set_values or ())]
        report_template = load_template(template, overrides)
        _check_pdf(pdf, report_template)
        output = output or (Path("output") / f"by_{by}" if by else DEFAULT_WORKBOOK)
        if by:
            from supportxl.deliver.split import check_split_folder

            targets = [check_split_folder(output, source)]
        else:
            targets = _check_workbook_output(output, [source], pdf=pdf, csv_dir=csv_dir)
        _clear_stale(targets, quiet)
        dataset = _load_source(source, _import_options(mapping, timezone, sheet, strict, redact, as_of), quiet)
        command = _command_line("build", source, output=output, template=template, mapping=(
            None if mapping == "auto" else mapping), timezone=timezone, calendar=calendar, sheet=sheet,
            strict=strict, redact=redact, as_of=as_of, split_by=by, pdf=pdf, csv_dir=csv_dir, set=set_values)
        if by:
            _build_split(dataset, output, report_template, by, command, jobs, quiet, written)
            return
        with _progress(BUILD_STEPS, quiet) as progress:
            result = build_workbook(dataset, output, report_template, command=command, progress=progress)
        written.append(result.path)
        if not quiet:
            _say_built(result)
        _deliver(result, dataset, report_template, pdf, csv_dir, quiet, written)


def _build_split(dataset, folder: Path, template, by: str, command: str, jobs, quiet: bool,
                 written: list[Path]) -> None:
    from supportxl.deliver.split import SPLIT_PROGRESS, build_split

    with _progress(SPLIT_PROGRESS, quiet) as progress:
        result = build_split(dataset, folder, template, by, command=command, progress=progress, jobs=jobs)
    written.append(result.folder)
    if not quiet:
        tickets = sum(t for _, _, t in result.slices)
        out.print(f"Wrote {len(result.slices):,} workbooks by {by} ({tickets:,} tickets) and "
                  f"{result.index.name} to {result.folder} in {result.seconds:.1f} s.", soft_wrap=True)


@app.command(cls=_Command)
def validate(
    export: Path = typer.Argument(..., metavar="SOURCE",
                                  help="A helpdesk export (.csv, .xlsx or .json), or a dataset folder."),
    mapping: str = MAPPING_OPT,
    timezone: Optional[str] = TIMEZONE_OPT,
    strict: bool = STRICT_OPT,
    sheet: Optional[str] = SHEET_OPT,
    as_of: Optional[str] = AS_OF_OPT,
) -> None:
    """Check a helpdesk export or a dataset folder without building a workbook: which mapping
    reads it and what is wrong.

    Exits 1 when the data cannot be imported (a missing required column, unknown values
    with --strict, an unreadable file, anything that is neither a file nor a folder), 0
    otherwise, also when there are warnings.

    Examples:

    \b
      supportxl validate zendesk_tickets.csv
      supportxl validate incidents.csv --mapping servicenow --strict
      supportxl validate output/data
    """
    try:
        dataset = _load_source(export, _import_options(mapping, timezone, sheet, strict, False, as_of), quiet=False)
    except KeyboardInterrupt:
        err.print("Interrupted; nothing was written.")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except SupportxlError as exc:
        err.print(f"Fatal: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    out.print(f"{export} can be imported: {len(dataset.tickets):,} tickets.", markup=False,
              soft_wrap=True)


@app.command(cls=_Command)
def report(
    tickets: Optional[int] = TICKETS_OPT,
    seed: Optional[int] = SEED_OPT,
    year: Optional[int] = YEAR_OPT,
    start: Optional[str] = START_OPT,
    end: Optional[str] = END_OPT,
    accounts: Optional[int] = ACCOUNTS_OPT,
    agents: Optional[int] = AGENTS_OPT,
    locale: Optional[str] = LOCALE_OPT,
    scenario: Optional[Path] = SCENARIO_OPT,
    template: Optional[str] = TEMPLATE_OPT,
    set_values: Optional[list[str]] = SET_OPT,
    calendar: Optional[str] = CALENDAR_OPT,
    output: Path = typer.Option(DEFAULT_WORKBOOK, "--output", "-o", metavar="FILE.xlsx",
                                help="The .xlsx file to write."),
    keep_data: Optional[Path] = typer.Option(
        None, "--keep-data", metavar="DIR",
        help="Also write the generated dataset folder (the CSV files and manifest.json) into DIR, to "
             "build from again with 'supportxl build DIR'."),
    pdf: bool = PDF_OPT,
    csv_dir: Optional[Path] = CSV_DIR_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Generate a year of data and build its dashboard in one go.

    Examples:

    \b
      supportxl report
      supportxl report --tickets 20000 --seed 7 --year 2024 -o output/demo.xlsx --keep-data output/demo-data
      supportxl report --template executive -o output/executive.xlsx --pdf
      supportxl report --calendar 'Mon-Fri 09:00-17:00 America/New_York'
    """
    from supportxl.metrics.calendar import calendar_overrides
    from supportxl.template import load_template
    from supportxl.workbook.builder import BUILD_STEPS, build_workbook

    with _user_errors() as written:
        params = _generator_params(tickets, seed, year, start, end, accounts, agents, locale, scenario)
        overrides = [*(calendar_overrides(calendar) if calendar else ()), *(set_values or ())]
        report_template = load_template(template, overrides)
        _check_pdf(pdf, report_template)
        targets = _check_workbook_output(output, [scenario] if scenario else [], pdf=pdf, csv_dir=csv_dir,
                                         keep_data=keep_data)
        _clear_stale(targets, quiet)
        command = _command_line(
            "report", tickets=params.tickets, seed=params.seed, start=params.period_start,
            end=params.period_end, accounts=accounts, agents=agents, locale=locale,
            scenario=scenario, template=template, calendar=calendar, output=output, keep_data=keep_data,
            pdf=pdf, csv_dir=csv_dir, set=set_values)
        with _progress(GENERATION_STEPS + BUILD_STEPS, quiet) as progress:
            dataset = generate_dataset(params, progress)
            if keep_data is not None:
                write_dataset(dataset, keep_data)
                written.append(keep_data)
            result = build_workbook(dataset, output, report_template, command=command, progress=progress)
        written.append(result.path)
        if not quiet:
            if keep_data is not None:
                out.print(f"Wrote the generated data to {keep_data}/ (build it again with: supportxl build "
                          f"{shlex.quote(str(keep_data))}).", markup=False, soft_wrap=True)
            _say_built(result)
        _deliver(result, dataset, report_template, pdf, csv_dir, quiet, written)


@app.command(cls=_Command)
def compare(
    before: str = typer.Argument(..., metavar="A", help="A: a scenario .toml file or a dataset folder."),
    after: str = typer.Argument(..., metavar="B", help="B: a scenario .toml file or a dataset folder."),
    output: Path = typer.Option(Path("output") / "comparison.xlsx", "--output", "-o", metavar="FILE.xlsx",
                                help="The .xlsx file to write."),
    tickets: Optional[int] = typer.Option(None, "--tickets", "-n", metavar="N",
                                          help="Tickets per generated scenario."),
    seed: Optional[int] = SEED_OPT,
    year: Optional[int] = YEAR_OPT,
    template: Optional[str] = TEMPLATE_OPT,
    quiet: bool = QUIET_OPT,
) -> None:
    """Compare two scenarios or datasets: KPIs side by side, monthly trends, escalation flow.

    Scenarios are generated with the same seed, so the difference is the scenario's.

    Examples:

    \b
      supportxl compare templates/scenarios/baseline.toml templates/scenarios/proactive_comms.toml
      supportxl compare output/data-2024 output/data-2025 -o output/2024-vs-2025.xlsx
    """
    from supportxl.ingest import load_dataset
    from supportxl.template import load_template
    from supportxl.workbook.comparison import build_comparison

    with _user_errors():
        report_template = load_template(template)
        _clear_stale([check_output(output, suffixes=(".xlsx",), inputs=[Path(before), Path(after)])], quiet)
        sides = []
        for arg in (before, after):
            path = Path(arg)
            if path.suffix == ".toml":
                params = load_params(path, dict(tickets=tickets, seed=seed), year=year)
                sides.append((params.name, generate_dataset(params)))
            else:
                sides.append((path.name or str(path), load_dataset(path).dataset))
        labels = (sides[0][0], sides[1][0]) if sides[0][0] != sides[1][0] else ("A", "B")
        command = _command_line("compare", before, after, output=output, tickets=tickets, seed=seed,
                                year=year, template=template)
        result = build_comparison(sides[0][1], sides[1][1], output, labels=labels,
                                  template=report_template, command=command)
        if not quiet:
            _say_built(result)


templates_app = typer.Typer(help="List the shipped report templates or print one to copy and edit.",
                            no_args_is_help=True)
app.add_typer(templates_app, name="templates")


@templates_app.command("list", cls=_Command)
def templates_list() -> None:
    """List the shipped report templates with their descriptions.

    Examples:

    \b
      supportxl templates list
    """
    from supportxl.template import load_template, shipped_templates

    with _user_errors():
        for name in shipped_templates():
            out.print(f"{name:<14} {load_template(name).description}", markup=False, soft_wrap=True)


@templates_app.command("show", cls=_Command)
def templates_show(name: str = typer.Argument(..., metavar="NAME", help="A shipped template name.")) -> None:
    """Print a shipped template's TOML, to copy and edit.

    Examples:

    \b
      supportxl templates show dashboard > my_template.toml
    """
    from supportxl.template import template_path

    with _user_errors():
        path = template_path(name)
        if not path.is_file():
            raise SupportxlError(f"{path}: no such file.")
        out.print(path.read_text(encoding="utf-8"), end="", markup=False, highlight=False, soft_wrap=True)


@app.command(cls=_Command)
def verify(
    workbook: Path = typer.Argument(..., metavar="WORKBOOK", help="A workbook written by supportxl."),
) -> None:
    """Recalculate a workbook in LibreOffice and compare every formula with its cached value.

    Exits 1 when any formula disagrees with its cached value or gives an error.

    Examples:

    \b
      supportxl verify output/support_dashboard.xlsx
    """
    import tempfile

    from supportxl.verify import check_workbook_file, compare_with_recalculated, recalculate

    with _user_errors():
        check_workbook_file(workbook)
        with tempfile.TemporaryDirectory(prefix="supportxl-verify-") as scratch:
            with err.status("Recalculating in LibreOffice"):
                comparison = compare_with_recalculated(workbook, recalculate(workbook, Path(scratch)))
        out.print(comparison.summary(), soft_wrap=True, markup=False)
        if not comparison.ok:
            raise typer.Exit(1)


def _say_mail(message) -> str:
    from supportxl.deliver.mail import bare, human_size

    count = len(message.attachments)
    cc = f", cc {', '.join(bare(a) for a in message.cc)}" if message.cc else ""
    return (f"'{message.subject}' to {', '.join(bare(a) for a in message.to)}{cc} "
            f"({count} attachment{'' if count == 1 else 's'}, {human_size(message.size)})")


@app.command(cls=_Command)
def send(
    files: list[Path] = typer.Argument(..., metavar="FILE", help="Files to attach (workbooks are summarised in the body); "
                                                 "with --recipients, the folder of split workbooks."),
    to: Optional[list[str]] = typer.Option(None, "--to", metavar="ADDRESS", help="Recipient address (repeatable)."),
    cc: Optional[list[str]] = typer.Option(None, "--cc", metavar="ADDRESS", help="Copy address (repeatable); with --recipients, "
                                                              "copied on every message."),
    subject: str = typer.Option(..., "--subject", "-s", metavar="TEXT", help="The subject line; with --recipients, {slice} "
                                                             "stands for the slice value."),
    recipients: Optional[Path] = typer.Option(None, "--recipients", metavar="MAP.csv",
                                              help="CSV of slice value, e-mail: each address receives only "
                                                   "its slice's workbook from the FILE folder."),
    sender: Optional[str] = typer.Option(None, "--from", envvar="SUPPORTXL_MAIL_FROM", metavar="ADDRESS",
                                         help="Sender address (default: --user if it is an address, "
                                              "else supportxl@this host)."),
    smtp_host: str = typer.Option("localhost", "--smtp-host", envvar="SUPPORTXL_SMTP_HOST", metavar="HOST",
                                  help="SMTP server."),
    smtp_port: Optional[int] = typer.Option(None, "--smtp-port", envvar="SUPPORTXL_SMTP_PORT", metavar="PORT",
                                            help="SMTP port (default: 587 with --starttls, 465 with --ssl, "
                                                 "else 25)."),
    starttls: bool = typer.Option(False, "--starttls", help="Upgrade the connection to TLS with STARTTLS."),
    use_ssl: bool = typer.Option(False, "--ssl", help="Connect over TLS from the start."),
    user: Optional[str] = typer.Option(None, "--user", envvar="SUPPORTXL_SMTP_USER", metavar="NAME",
                                       help="Log in as this user; the password comes from "
                                            "SUPPORTXL_SMTP_PASSWORD, else a prompt."),
    timeout: float = typer.Option(30.0, "--timeout", metavar="SECONDS",
                                  help="Seconds to wait for the SMTP server."),
    dry_run: Optional[Path] = typer.Option(None, "--dry-run", metavar="OUT.eml",
                                           help="Write the message to OUT.eml (OUT-<slice>.eml each, for "
                                                "several) instead of sending it."),
    quiet: bool = QUIET_OPT,
) -> None:
    """E-mail workbooks with their headline KPIs (tickets, SLA, CSAT, backlog, top findings) in the body.

    The password is never a flag: set SUPPORTXL_SMTP_PASSWORD, or type it when asked.
    Everything is checked before connecting, and a failure sends nothing.

    Examples:

    \b
      supportxl send output/executive.xlsx --to ops@example.com -s "Support, May" --dry-run out.eml
      supportxl send output/q4.xlsx --to cto@example.com -s "Q4" --smtp-host smtp.example.com --starttls --user me@example.com
      supportxl send output/by_team --recipients managers.csv -s "{slice}: May" --smtp-host smtp.example.com --ssl
    """
    import sys

    from supportxl.deliver.mail import (Server, default_sender, prepare, send as send_messages, smtp_password,
                                        write_eml)

    with _user_errors() as written:
        if starttls and use_ssl:
            raise SupportxlError("choose --starttls or --ssl, not both.")
        server = Server(smtp_host, smtp_port, "ssl" if use_ssl else "starttls" if starttls else "none",
                        user, timeout)
        server.check()
        plan = prepare(files, subject=subject, sender=sender or default_sender(user), to=to or (),
                       cc=cc or (), recipients=recipients)
        if not quiet:
            for warning in plan.warnings:
                err.print(f"Warning: {warning}", markup=False, soft_wrap=True)
        if dry_run is not None:
            for path, message in zip(write_eml(plan.messages, dry_run), plan.messages):
                written.append(path)
                if not quiet:
                    out.print(f"Wrote {path}: {_say_mail(message)}; a dry run, nothing went out.",
                              markup=False, soft_wrap=True)
            return
        ask = (lambda prompt: typer.prompt(prompt, hide_input=True)) if sys.stdin.isatty() else None
        password = smtp_password(user, ask) if user else None

        def say_sent(message) -> None:
            if not quiet:
                out.print(f"Sent {_say_mail(message)} via {server.address}.", markup=False, soft_wrap=True)

        send_messages(plan.messages, server, password, on_sent=say_sent)


def main() -> None:
    app()
