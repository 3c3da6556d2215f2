"""Delivering workbooks: e-mail with a summary of the headline numbers, and split routing.

- :mod:`supportxl.deliver.headline` reads a workbook's headline (cards, period, findings)
  from the values cached in the file;
- :mod:`supportxl.deliver.routing` reads a recipients map and matches split workbooks to it;
- :mod:`supportxl.deliver.mail` composes the messages, writes them as .eml or sends them.
"""

from __future__ import annotations

from supportxl.deliver.routing import slug

__all__ = ["slug"]
