#!/usr/bin/env python3
"""Generate a year of support data: the same as `supportxl generate` (see --help)."""

import sys

from supportxl.cli import app

if __name__ == "__main__":
    sys.exit(app(["generate", *sys.argv[1:]]))
