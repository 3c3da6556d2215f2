"""Writing files so that a failure never leaves a partial file or destroys the previous one.

Every output is first written under a hidden temporary name beside its target,
``.NAME.<pid>-<random>.tmp`` (a file, or a folder for a dataset or a split), then renamed
into place. A run that is killed before the rename leaves that temporary behind;
``remove_stale_temps`` clears a target's temporaries whose process is gone, on the next run.
"""

from __future__ import annotations

import gc
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from supportxl.errors import SupportxlError

TEMP_SUFFIX = ".tmp"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_prefix(target: Path) -> str:
    """The start of a temporary's name; it names the process writing it, to tell stale ones."""
    return f".{target.name}.{os.getpid()}-"


def _writer(name: str, target: Path) -> int | None:
    """The process id in the name of one of ``target``'s temporaries, or None if it is not one."""
    start = f".{target.name}."
    if not (name.startswith(start) and name.endswith(TEMP_SUFFIX)):
        return None
    pid, dash, random = name[len(start):-len(TEMP_SUFFIX)].partition("-")
    if not (dash and pid.isdigit() and random) or "." in random:
        return None
    return int(pid)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _cannot_write(target: Path, exc: OSError) -> SupportxlError:
    return SupportxlError(f"cannot write {target}: {exc.strerror or exc}.")


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc``: itself, or one a library wrapped (XlsxWriter's FileCreateError
    for a full disk)."""
    while exc is not None:
        if isinstance(exc, OSError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _release(exc: BaseException) -> None:
    """Free the frames of a failed writer now, quietly: a ZIP file it left open (on a full disk)
    would otherwise fail again when collected and print "Exception ignored" with a traceback."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        while exc is not None:
            exc.__traceback__ = None
            exc = exc.__cause__ or exc.__context__
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _write_failed(target: Path, exc: Exception) -> SupportxlError:
    """The SupportxlError for a write that failed with ``exc``; re-raises what is not an OSError."""
    cause = _os_error(exc)
    if cause is None:
        raise exc
    error = _cannot_write(target, cause)
    _release(exc)
    return error


def atomic_write(target: Path, write: Callable[[str], object]) -> Path:
    """Call ``write(temp_path)`` for a temporary file beside ``target``, then rename it into place."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    os.close(handle)
    try:
        write(temp)
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, target)
    except SupportxlError:
        raise
    except Exception as exc:  # noqa: BLE001 - _write_failed re-raises all but OSErrors
        raise _write_failed(target, exc) from None
    finally:
        Path(temp).unlink(missing_ok=True)
    return target


def atomic_folder(target: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(temp_folder)`` for an empty temporary folder beside ``target``, then swap it in
    whole: ``target`` holds either all of the old files or all of the new, never a mix."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=_temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent))
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    old = None
    try:
        write(temp)
        os.chmod(temp, 0o777 & ~_umask())
        if target.is_dir():
            # Two renames: the old folder steps aside under a temporary name, the new one takes
            # its place. A kill between them leaves the old folder as a stale temporary.
            old = Path(tempfile.mkdtemp(prefix=_temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent))
            os.replace(target, old)
        os.replace(temp, target)
    except BaseException as exc:
        if old is not None and not target.exists():
            os.replace(old, target)
            old = None
        if isinstance(exc, SupportxlError) and str(temp) in str(exc):  # name the folder the user gave
            raise SupportxlError(str(exc).replace(str(temp), str(target))) from None
        if isinstance(exc, SupportxlError) or not isinstance(exc, Exception):
            raise
        raise _write_failed(target, exc) from None
    finally:
        for leftover in (temp, old):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
    return target


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove the temporaries of ``target`` (``.NAME.<pid>-*.tmp`` beside it) that an interrupted
    earlier run left: those whose process is no longer running. Returns what was removed."""
    target = Path(target)
    removed = []
    try:
        entries = list(os.scandir(target.parent if str(target.parent) else "."))
    except OSError:
        return removed
    for entry in entries:
        pid = _writer(entry.name, target)
        if pid is None or _running(pid):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(entry.path)
            elif stat.S_ISREG(info.st_mode):
                os.unlink(entry.path)
            else:
                continue
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def check_output(path: Path, *, kind: str = "file", suffixes: tuple[str, ...] = (), option: str = "-o",
                 inputs: Iterable[Path] = ()) -> Path:
    """Refuse an output path before anything is written: empty, of the wrong kind or suffix, not a
    regular file or folder, in a parent that is not a folder, or the same file as an input."""
    text = str(path)
    if not text.strip() or text == ".":
        what = f"file name ending in {' or '.join(suffixes)}" if kind == "file" and suffixes else (
            "file name" if kind == "file" else "folder")
        raise SupportxlError(f"{option} needs a {what}, found an empty name or '.'.")
    path = Path(path)
    if kind == "file":
        if suffixes and path.suffix.lower() not in suffixes:
            raise SupportxlError(f"{option} {path}: the file name must end in {' or '.join(suffixes)}.")
        if path.is_dir():
            raise SupportxlError(f"{option} {path}: is a folder; give a file name ending in "
                                 f"{' or '.join(suffixes) or 'its extension'}.")
        if path.exists() and not path.is_file():
            raise SupportxlError(f"{option} {path}: exists and is not a regular file (a device, pipe or "
                                 f"socket); give a file name.")
    else:
        if path.exists() and not path.is_dir():
            raise SupportxlError(f"{option} {path}: exists and is not a folder.")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise SupportxlError(f"{option} {path}: {parent} is not a folder.")
    for source in inputs:
        if _same_file(path, Path(source)):
            raise SupportxlError(f"{option} {path}: is the input {source}; writing it would replace the "
                                 f"input. Give another name.")
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_source_file(path: Path, what: str) -> Path:
    """``path`` as an input file to read, or a clear error (missing, a folder, not a regular file)."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SupportxlError(f"{path}: no such file.") from None
    except OSError as exc:
        raise SupportxlError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    if stat.S_ISDIR(info.st_mode):
        raise SupportxlError(f"{path}: is a folder; expected {what}.")
    if not stat.S_ISREG(info.st_mode):
        raise SupportxlError(f"{path}: is not a regular file (a device, pipe or socket); expected {what}.")
    return path
