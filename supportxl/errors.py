"""The one exception type the CLI turns into a clear message and exit code 2."""

from __future__ import annotations


class SupportxlError(Exception):
    """A problem with the user's input or environment, explained in plain words.

    The message is shown to the user as is, so it names the file, key, row or value
    at fault and, where there is one, what would be accepted instead.
    """


class ParameterError(SupportxlError):
    """A generator parameter, scenario key or template value is not acceptable."""
