"""Faults: kill -9 and Ctrl-C during a build and a split, a full disk, a dataset folder whose
writing fails half-way, and the generator's independence of the machine's time zone."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from supportxl import dataset as dataset_module
from supportxl.cli import app
from supportxl.dataset import read_dataset, write_dataset

from conftest import make_dataset

runner = CliRunner()
PREVIOUS = b"the previous output"
WAIT = 120  # seconds: a loaded machine builds slowly; every wait ends as soon as its condition holds


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults") / "data"
    write_dataset(make_dataset(1_500, seed=9), folder)
    return folder


def start(*args: str, cwd: Path) -> subprocess.Popen:
    """``supportxl ARGS`` in its own process group (as a shell runs it), with its output captured."""
    return subprocess.Popen([sys.executable, "-m", "supportxl", *args], cwd=cwd, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def temporaries(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.*.tmp"))


def children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc to find workers")


def building(data: Path, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """A build over a previous workbook, once it has started writing its temporary file."""
    out = tmp_path / "report.xlsx"
    out.write_bytes(PREVIOUS)
    run = start("build", str(data), "-o", str(out), "-q", cwd=tmp_path)
    wait_for(lambda: temporaries(tmp_path, out.name), "the build's temporary file")
    return run, out


def test_kill_9_during_a_build_keeps_the_old_workbook_and_the_next_run_clears_the_temporary(data, tmp_path):
    run, out = building(data, tmp_path)
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=WAIT)
    assert out.read_bytes() == PREVIOUS
    (left,) = temporaries(tmp_path, out.name)
    again = runner.invoke(app, ["build", str(data), "-o", str(out), "-t", "executive"])
    assert again.exit_code == 0, again.output
    assert again.stderr == f"Removed {left}, left by an interrupted run.\n"
    assert temporaries(tmp_path, out.name) == [] and out.read_bytes().startswith(b"PK")


@pytest.mark.parametrize("interrupt", [
    lambda run: os.killpg(run.pid, signal.SIGINT),  # Ctrl-C: the whole process group gets it
    lambda run: run.terminate(),  # SIGTERM, as a service manager stops a job
], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_build_says_so_in_one_line_and_leaves_nothing(data, tmp_path, interrupt):
    run, out = building(data, tmp_path)
    interrupt(run)
    stdout, stderr = run.communicate(timeout=WAIT)
    assert run.returncode == 130
    assert (stdout, stderr) == ("", "Interrupted; nothing was written.\n")
    assert out.read_bytes() == PREVIOUS and temporaries(tmp_path, out.name) == []


# A signal that arrives while a child is forked: CPython raises it inside an at-fork callback
# (logging's in the parent, random's in the child), prints it and carries on. The callbacks
# below send it at that moment, then run Python code, as those do, so that it is raised there.
FORKED_RECORDS = """
import os, signal, sys, numpy as np
from supportxl.schema import Column
from supportxl.workbook.pivots import ForkedRecords, build_cache, deflated_records

def busy():  # longer than the interpreter's switch interval (5 ms)
    for _ in range(2_000_000):
        pass

cells = {"team": ("text", np.array(["Tier 1", "Tier 2"] * 500, dtype=object))}
cache = build_cache("Data", (Column("team", "Team"),), cells, {"Team"})
"""


def _forked_records(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FORKED_RECORDS + script], capture_output=True, text=True,
                          timeout=WAIT)


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="forking needs a POSIX system")
@pytest.mark.parametrize("threads", ["", "import threading\ndef spin():\n    while True:\n        pass\n"
                                         "threading.Thread(target=spin, daemon=True).start()\n"],
                         ids=["alone", "beside-a-busy-thread"])
def test_a_ctrl_c_during_the_records_fork_interrupts_the_parent(threads):
    # Beside a busy thread (the build's deflating workers), the kernel hands the Ctrl-C to
    # that thread while the forking one holds it back, and Python runs the handler in the
    # forking thread when it next takes the interpreter lock back: in the at-fork callback
    run = _forked_records(threads + """
def interrupted():
    os.kill(os.getpid(), signal.SIGINT)
    busy()

os.register_at_fork(after_in_parent=interrupted)
try:
    ForkedRecords(cache)
except KeyboardInterrupt:
    try:
        os.waitpid(-1, os.WNOHANG)
        print("interrupted, a child left")
    except ChildProcessError:
        print("interrupted, the child reaped")
""")
    assert (run.returncode, run.stdout, run.stderr) == (0, "interrupted, the child reaped\n", "")


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="forking needs a POSIX system")
def test_a_sigterm_to_the_records_child_during_its_fork_ends_it_and_the_parent_builds_the_part():
    run = _forked_records("""
def interrupt(signum, frame):  # the command line's SIGTERM handler, which the child inherits
    raise KeyboardInterrupt

def stopped():
    os.kill(os.getpid(), signal.SIGTERM)
    busy()

signal.signal(signal.SIGTERM, interrupt)
os.register_at_fork(after_in_child=stopped)
print(ForkedRecords(cache).result() == deflated_records(cache))
""")
    assert (run.returncode, run.stdout, run.stderr) == (0, "True\n", "")


@pytest.fixture
def old_split(data, tmp_path):
    """A folder holding an earlier split's files, to be replaced whole or not at all."""
    folder = tmp_path / "by_team"
    folder.mkdir()
    (folder / "index.xlsx").write_bytes(PREVIOUS)
    (folder / "tier-9.xlsx").write_bytes(PREVIOUS)
    return folder


def split_started(tmp_path: Path, run: subprocess.Popen) -> bool:
    return bool(temporaries(tmp_path, "by_team")) and len(children(run.pid)) >= 2


@needs_proc
def test_kill_9_of_a_split_parent_ends_its_workers_and_keeps_the_old_split(data, tmp_path, old_split):
    run = start("build", str(data), "--split-by", "team", "-j", "2", "-o", str(old_split), "-q", cwd=tmp_path)
    wait_for(lambda: split_started(tmp_path, run), "the split's workers")
    workers = children(run.pid)
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=WAIT)
    wait_for(lambda: not any(alive(w) for w in workers), "the workers to exit")
    assert sorted(p.name for p in old_split.iterdir()) == ["index.xlsx", "tier-9.xlsx"]
    assert all(p.read_bytes() == PREVIOUS for p in old_split.iterdir())
    assert len(temporaries(tmp_path, "by_team")) == 1


@needs_proc
def test_ctrl_c_during_a_split_stops_the_workers_and_keeps_the_old_split(data, tmp_path, old_split):
    run = start("build", str(data), "--split-by", "team", "-j", "2", "-o", str(old_split), "-q", cwd=tmp_path)
    wait_for(lambda: split_started(tmp_path, run), "the split's workers")
    workers = children(run.pid)
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C does: the whole process group gets it
    stdout, stderr = run.communicate(timeout=WAIT)
    assert run.returncode == 130
    assert (stdout, stderr) == ("", "Interrupted; nothing was written.\n")
    wait_for(lambda: not any(alive(w) for w in workers), "the workers to exit")
    assert sorted(p.name for p in old_split.iterdir()) == ["index.xlsx", "tier-9.xlsx"]
    assert temporaries(tmp_path, "by_team") == []


def test_a_finished_split_replaces_the_old_one_whole(data, tmp_path, old_split):
    result = runner.invoke(app, ["build", str(data), "--split-by", "team", "-j", "1", "-o", str(old_split), "-q"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in old_split.iterdir()) == ["index.xlsx", "tier-1.xlsx", "tier-2.xlsx", "tier-3.xlsx"]
    assert temporaries(tmp_path, "by_team") == []


@pytest.fixture
def full_disk(tmp_path):
    """A 400 KB tmpfs: room for a small workbook, not for a split or a dataset."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


def test_a_full_disk_is_one_sentence_and_the_old_files_survive(data, full_disk):
    out = full_disk / "report.xlsx"
    out.write_bytes(PREVIOUS)
    (full_disk / "filler").write_bytes(bytes(300_000))
    result = runner.invoke(app, ["build", str(data), "-o", str(out), "-q"])
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot write {out}: No space left on device.\n"
    split = runner.invoke(app, ["build", str(data), "--split-by", "team", "-j", "2", "-o", str(full_disk / "by_team")])
    assert split.exit_code == 2
    assert split.stderr.startswith(f"Error: cannot write {full_disk / 'by_team'}/")
    assert split.stderr.endswith(": No space left on device.\n") and len(split.stderr.splitlines()) == 1
    generated = runner.invoke(app, ["generate", "-n", "3000", "-o", str(full_disk / "data"), "-q"])
    assert generated.exit_code == 2
    assert generated.stderr == f"Error: cannot write {full_disk / 'data'}: No space left on device.\n"
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler", "report.xlsx"]
    assert out.read_bytes() == PREVIOUS


def test_generate_failing_half_way_over_a_folder_keeps_the_old_dataset_whole(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    assert runner.invoke(app, ["generate", "-n", "300", "--seed", "1", "-o", str(folder), "-q"]).exit_code == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    written = []

    def failing_write(frame, path):
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(path)
        original(frame, path)

    original = dataset_module.write_csv
    monkeypatch.setattr(dataset_module, "write_csv", failing_write)
    result = runner.invoke(app, ["generate", "-n", "400", "--seed", "2", "-o", str(folder)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot write {folder}: No space left on device.\n"
    assert len(written) == 1  # the new tickets were written, then the disk filled
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    monkeypatch.undo()
    assert len(read_dataset(folder).tickets) == 300


def test_the_manifest_records_each_file_and_a_mixed_folder_is_refused(tmp_path):
    write_dataset(make_dataset(120, seed=3), tmp_path / "a")
    write_dataset(make_dataset(130, seed=4), tmp_path / "b")
    import hashlib
    import json

    files = json.loads((tmp_path / "a" / "manifest.json").read_text())["files"]
    for name in ("tickets.csv", "accounts.csv", "agents.csv", "escalation_events.csv"):
        body = (tmp_path / "a" / name).read_bytes()
        assert files[name] == {"rows": body.count(b"\n") - 1, "sha256": hashlib.sha256(body).hexdigest()}
    assert "files" not in read_dataset(tmp_path / "a").manifest  # about the folder, not the data
    shutil.copy(tmp_path / "b" / "escalation_events.csv", tmp_path / "a" / "escalation_events.csv")
    result = runner.invoke(app, ["build", str(tmp_path / "a"), "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {tmp_path / 'a'}: escalation_events.csv is not the file manifest.json "
                                    f"was written with")
    assert not (tmp_path / "x.xlsx").exists()


def test_generated_files_are_the_same_in_every_time_zone(tmp_path):
    outputs = []
    for zone in ("UTC", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12"):
        folder = tmp_path / zone.replace("/", "_")
        done = subprocess.run([sys.executable, "-m", "supportxl", "generate", "-n", "2000", "--year", "2024",
                               "-o", str(folder), "-q"], env={**os.environ, "TZ": zone, "LC_ALL": "C.UTF-8"},
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        outputs.append({p.name: p.read_bytes() for p in folder.iterdir()})
    assert all(o == outputs[0] for o in outputs[1:])


def test_the_generator_does_not_read_the_clock(monkeypatch):
    """Faker's date helpers draw up to *now*: a subject's month would change from day to day."""
    from faker.providers.date_time import Provider

    def no_clock(*args, **kwargs):
        raise AssertionError("the generator asked faker for a date relative to now")

    for name in ("date_time", "unix_time", "date", "month_name", "date_this_year"):
        monkeypatch.setattr(Provider, name, no_clock)
    first, second = make_dataset(3_000, seed=12), make_dataset(3_000, seed=12)
    subjects = first.tickets["subject"]
    assert subjects.equals(second.tickets["subject"])
    assert subjects.str.contains("January|February|March|April|May|June|July|August|September|October|November"
                                 "|December").any()
