"""One workbook per team, region, industry, account or agent, plus an index that links them.

Each slice is a dataset of its own: the tickets with that value, their escalation events,
the accounts and agents they mention, and the whole period (so months line up across the
slices). Every slice workbook is built from its slice only, so its KPIs are those of the
slice; the slices are built in parallel processes.

Files are named after the value: ``slug("Tier 2") == "tier-2"``, ``<folder>/tier-2.xlsx``;
the index is ``<folder>/index.xlsx``. Two values with the same slug get ``-2``, ``-3``...
in the order of the values; each workbook also names its value (``ReportSlice`` on About),
which is what ``supportxl send --recipients`` matches first.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from supportxl.children import interrupts_held, leave_interrupts_to_parent
from supportxl.dataset import Dataset
from supportxl.deliver.routing import slug
from supportxl.errors import SupportxlError
from supportxl.fileio import atomic_folder
from supportxl.model import plan
from supportxl.progress import NoProgress, Progress
from supportxl.template import ReportTemplate

# --split-by choice -> the derived ticket column that holds it.
SPLIT_COLUMNS = {"team": "team", "region": "region", "industry": "industry", "account": "account",
                 "agent": "agent"}
INDEX_NAME = "index"
MAX_SLICES = 500
# Progress units of a split: a share for splitting, for the slice workbooks and for the index.
SPLIT_PROGRESS, _SPLITTING, _INDEXING = 100.0, 5.0, 5.0  # more files than anyone mails; a sign of the wrong dimension


@dataclass(frozen=True)
class Slice:
    value: str
    stem: str
    dataset: Dataset
    mask: np.ndarray  # the slice's rows in the whole dataset's ticket table

    @property
    def tickets(self) -> int:
        return len(self.dataset.tickets)


@dataclass(frozen=True)
class SplitResult:
    folder: Path
    index: Path
    slices: list[tuple[str, Path, int]]  # value, workbook, tickets
    seconds: float


def split_dataset(dataset: Dataset, frame: pd.DataFrame, by: str) -> list[Slice]:
    """The slices of ``dataset`` by ``by`` (a key of SPLIT_COLUMNS), in the order of the values;
    ``frame`` is the dataset's derived ticket table, row for row."""
    if by not in SPLIT_COLUMNS:
        raise SupportxlError(f"--split-by {by!r}: choose one of {', '.join(SPLIT_COLUMNS)}.")
    values = frame[SPLIT_COLUMNS[by]].to_numpy(dtype=object)
    distinct = sorted(set(values), key=str)
    if len(distinct) > MAX_SLICES:
        raise SupportxlError(f"--split-by {by}: {len(distinct):,} values would make {len(distinct):,} "
                             f"workbooks (at most {MAX_SLICES:,}); split by a coarser dimension.")
    stems: set[str] = set()
    slices = []
    for value in distinct:
        stem = base = slug(value)
        n = 1
        while stem in stems or stem == INDEX_NAME:
            n += 1
            stem = f"{base}-{n}"
        stems.add(stem)
        mask = values == value
        slices.append(Slice(str(value), stem, _slice(dataset, mask, by, str(value)), mask))
    return slices


def _slice(dataset: Dataset, mask, by: str, value: str) -> Dataset:
    tickets = dataset.tickets[mask].reset_index(drop=True)
    ids = set(tickets["ticket_id"])
    events = dataset.escalation_events
    events = events[events["ticket_id"].isin(ids)].reset_index(drop=True)
    changes = dataset.status_changes
    changes = changes[changes["ticket_id"].isin(ids)].reset_index(drop=True)
    accounts = dataset.accounts[dataset.accounts["account_id"].isin(set(tickets["account_id"]))]
    agents = dataset.agents[dataset.agents["name"].isin(set(tickets["agent"]))]
    manifest = copy.deepcopy(dataset.manifest)
    start, end = dataset.period  # the whole period, so every slice shows the same months
    manifest["period"] = {**manifest.get("period", {}), "start": f"{start:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}"}
    manifest["slice"] = {"by": by, "value": value}
    manifest["rows"] = {**manifest.get("rows", {}), "tickets": len(tickets), "escalation_events": len(events)}
    return Dataset(tickets=tickets, accounts=accounts.reset_index(drop=True),
                   agents=agents.reset_index(drop=True), escalation_events=events, manifest=manifest,
                   status_changes=changes)


def _build_slice(dataset: Dataset, path: Path, template: ReportTemplate, command: str | None) -> None:
    """One slice's workbook, in a worker process (nothing but an error travels back)."""
    from supportxl.workbook.builder import build_workbook

    build_workbook(dataset, path, template, command=command)


def check_split_folder(folder: Path, source: Path | None = None) -> Path:
    """Refuse a split folder that cannot be replaced whole: a file, the source or a folder around
    it, or one holding anything but workbooks of an earlier split (replacing it deletes them)."""
    from supportxl.fileio import check_output

    folder = check_output(Path(folder), kind="folder")
    if folder.suffix.lower() == ".xlsx":
        raise SupportxlError(f"--split-by writes a folder of workbooks; {folder} looks like a file name "
                             f"(give a folder, for example output/by_team).")
    if source is not None:
        where, inside = Path(source).resolve(), folder.resolve()
        if where == inside or inside in where.parents:
            raise SupportxlError(f"-o {folder}: holds the source {source}, which replacing the folder "
                                 f"would delete; give another folder.")
    entries = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    foreign = [name for name in entries if not (name.endswith(".xlsx") and (folder / name).is_file())]
    if foreign or (entries and f"{INDEX_NAME}.xlsx" not in entries):
        shown = foreign or entries
        raise SupportxlError(f"-o {folder}: holds {', '.join(shown[:3])}{', ...' if len(shown) > 3 else ''}, "
                             f"not an earlier split (workbooks and {INDEX_NAME}.xlsx); the split replaces the "
                             f"whole folder, so give a new one.")
    return folder


def build_split(dataset: Dataset, folder: Path, template: ReportTemplate, by: str, *,
                command: str | None = None, progress: Progress | None = None,
                jobs: int | None = None) -> SplitResult:
    """Write one workbook per value of ``by`` and an ``index.xlsx`` into ``folder``.

    The workbooks are written into a temporary folder beside it, which then replaces ``folder``
    whole: a split that fails or is interrupted leaves the earlier split as it was, and no
    workbook of an earlier split lingers beside the new ones."""
    began = time.perf_counter()
    progress = progress or NoProgress()
    folder = check_split_folder(folder)
    model = plan(dataset, template)
    slices = split_dataset(dataset, model.frame, by)
    progress.step(f"Split into {len(slices):,} slices by {by}", _SPLITTING)
    atomic_folder(folder, lambda temp: _write_split(model, slices, temp, template, by, command, progress, jobs))
    return SplitResult(folder, folder / f"{INDEX_NAME}.xlsx",
                       [(s.value, folder / f"{s.stem}.xlsx", s.tickets) for s in slices],
                       time.perf_counter() - began)


def _write_split(model, slices: list[Slice], temp: Path, template, by: str, command, progress: Progress,
                 jobs: int | None) -> None:
    from supportxl.workbook.builder import build_workbook
    from supportxl.workbook.split_index import write_index

    each = (SPLIT_PROGRESS - _SPLITTING - _INDEXING) / len(slices)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(slices)))
    paths = {s.stem: temp / f"{s.stem}.xlsx" for s in slices}
    if workers == 1:
        for s in slices:
            build_workbook(s.dataset, paths[s.stem], template, command=command)
            progress.step(f"Built {s.value}", each)
    else:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_setup, initargs=(os.getpid(),))
        try:
            with interrupts_held():  # the workers start with the interrupts held
                futures = {pool.submit(_build_slice, s.dataset, paths[s.stem], template, command): s
                           for s in slices}
            for future in as_completed(futures):
                future.result()  # a worker's SupportxlError is raised here, with its message
                progress.step(f"Built {futures[future].value}", each)
        except BrokenProcessPool:
            _stop_workers(pool)
            raise SupportxlError("a process building the workbooks ended unexpectedly (killed, or out of "
                                 "memory); nothing was written.") from None
        except BaseException:
            _stop_workers(pool)
            raise
        pool.shutdown()
    # The index links each workbook by its name, the same in the final folder.
    write_index(model, by, SPLIT_COLUMNS[by], [(s.value, paths[s.stem]) for s in slices],
                temp / f"{INDEX_NAME}.xlsx")
    progress.step("Wrote the index", _INDEXING)


PARENT_CHECK_SECONDS = 0.5


def _worker_setup(parent: int) -> None:
    """In each worker: Ctrl-C and SIGTERM as ``leave_interrupts_to_parent`` says (the parent
    stops the workers), and the worker exits on its own when the parent has died (killed with
    -9, say) instead of building on."""
    leave_interrupts_to_parent()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the workers now, not after the workbooks they are building."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
