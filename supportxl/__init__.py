"""supportxl: turn a year of support tickets into an Excel dashboard people actually use."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("supportxl")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
