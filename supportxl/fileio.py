"""Writing files so that a failure never leaves a partial file or destroys the previous one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from supportxl.errors import SupportxlError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(target: Path, write: Callable[[str], object]) -> Path:
    """Call ``write(temp_path)`` for a temporary file beside ``target``, then rename it into place."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise SupportxlError(f"cannot write {target}: {exc.strerror}.") from None
    os.close(handle)
    try:
        write(temp)
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, target)
    except OSError as exc:
        raise SupportxlError(f"cannot write {target}: {exc.strerror}.") from None
    finally:
        Path(temp).unlink(missing_ok=True)
    return target
