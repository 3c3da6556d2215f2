"""Forked children that leave Ctrl-C and SIGTERM to their parent.

A Ctrl-C reaches every process of the terminal's process group, so a forked child gets one too.
It must not handle it: the parent does (it stops its children and removes its temporaries). A
child is stopped by its parent with SIGTERM, which must end it at once. Until a child has set
that up, it runs the parent's handlers, so both signals are held back across the fork
(``interrupts_held``): a child unholds them only once it ignores Ctrl-C and dies of SIGTERM
(``leave_interrupts_to_parent``), and the parent receives a held signal once the fork has
returned. Without the hold, a signal that arrives during the fork is raised inside an at-fork
callback (``logging``'s in the parent, ``random``'s in the child), where Python prints it and
carries on: the parent builds on after a Ctrl-C, or the child it meant to stop does.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

_CAN_HOLD = hasattr(signal, "pthread_sigmask")
INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM while children are forked; the parent receives a held one
    when this ends."""
    if not _CAN_HOLD:
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)


def leave_interrupts_to_parent() -> None:
    """In a child forked under ``interrupts_held``: ignore Ctrl-C (a held one is dropped), and
    let SIGTERM, which the parent sends to stop the child, end it at once (a held one does so
    now) instead of raising the KeyboardInterrupt the command line's handler would."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _CAN_HOLD:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)
