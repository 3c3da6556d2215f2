#!/usr/bin/env python3
"""Build the Excel dashboard from a data folder: the same as `supportxl build` (see --help)."""

import sys

from supportxl.cli import app

if __name__ == "__main__":
    sys.exit(app(["build", *sys.argv[1:]]))
