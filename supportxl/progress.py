"""A minimal progress protocol: the library reports steps, the CLI decides how to show them."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def step(self, description: str, advance: float = 1.0) -> None:
        """Report that ``advance`` units of work have been done; ``description`` says which."""


class NoProgress:
    """The default: report nothing."""

    def step(self, description: str, advance: float = 1.0) -> None:
        pass
