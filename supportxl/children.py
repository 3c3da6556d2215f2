"""Forked children that leave Ctrl-C and SIGTERM to their parent.

A Ctrl-C reaches every process of the terminal's process group, so a forked child gets one too.
It must not handle it: the parent does (it stops its children and removes its temporaries). A
child is stopped by its parent with SIGTERM, which must end it at once.

While a child is forked, CPython runs at-fork callbacks (``logging``'s and ``random``'s, say),
and a signal handler that raises inside one of them has its KeyboardInterrupt printed and
dropped, or on Python 3.12 dropped silently, so a Ctrl-C that arrives then would go unheard and
the build it was meant to stop would run to the end. ``interrupts_held`` therefore has the
parent note such a signal instead of raising it, and raise it once the fork has returned; and it
holds both signals back from the forking thread, so that the child, which has no other thread,
receives one only after ``leave_interrupts_to_parent`` has set it to ignore Ctrl-C and to die of
SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_CAN_HOLD = hasattr(signal, "pthread_sigmask")
INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


class _Noted:
    """A signal's handler while children are forked: notes the signal while ``holding[0]``,
    and hands it to the handler it replaces once that is False (a single store, so that no
    signal in between finds some handlers restored and others not)."""

    def __init__(self, handler, holding: list[bool]) -> None:
        self.handler, self.holding, self.noted = handler, holding, False

    def __call__(self, signum, frame) -> None:
        if self.holding[0]:
            self.noted = True
        else:
            self.handler(signum, frame)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Fork children inside this: a Ctrl-C or SIGTERM that arrives meanwhile is raised in the
    parent when this ends, by the handler it had."""
    holding = [True]
    noting = {}
    if threading.current_thread() is threading.main_thread():  # the thread Python runs handlers in
        for signum in INTERRUPTS:
            handler = signal.getsignal(signum)
            if callable(handler):  # not SIG_IGN or SIG_DFL: no Python code runs for those
                noting[signum] = _Noted(handler, holding)
                signal.signal(signum, noting[signum])
    if _CAN_HOLD:
        signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
    try:
        yield
    finally:
        if _CAN_HOLD:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)
        holding[0] = False
        for signum, noted in noting.items():
            signal.signal(signum, noted.handler)
        for signum, noted in noting.items():
            if noted.noted:
                noted.handler(signum, None)


def leave_interrupts_to_parent() -> None:
    """In a child forked under ``interrupts_held``: ignore Ctrl-C (a held one is dropped), and
    let SIGTERM, which the parent sends to stop the child, end it at once (a held one does so
    now) instead of raising the KeyboardInterrupt the command line's handler would."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _CAN_HOLD:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)
