"""Where a summary sheet's printed pages break: between its sections, never inside one.

A section is a run of rows with something in them (a title, its note, a table, a chart beside
or under it) between blank rows. Sections are laid on pages one after another; one that does
not fit in what is left of a page starts the next, so a table stays with its title and its
chart and no page ends with a lone title. A section taller than a page starts on the page
that has room for at least a third of a page of it, and flows on from there; where it ends
depends on the application's row heights (wrapped text), so the sections after it flow too.

The sheet still prints one page wide (fit to width); the page's height in rows is estimated
at the scale that fitting gives, from the column widths and row heights, and taken a little
short, so a section is never split by an estimate that was slightly off.
"""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

# Landscape paper in points (width, height) by Excel's paper code: Letter, A4.
PAPER_POINTS = {1: (792.0, 612.0), 9: (842.0, 595.0)}
SIDE_MARGIN, TOP_MARGIN = 0.4, 0.6  # inches: the margins every sheet prints with
PIXELS_PER_POINT = 4 / 3
# Column widths and row heights in pixels are those Excel lays the sheet out with (rows
# without a height of their own are the sheet's default, 15 pt); LibreOffice draws columns
# about 2 % wider and such rows shorter (their font's height). So the sheet is taken as a
# little wider, and a page as a little shorter, than Excel's figures say.
WIDER, SHORTER = 1.02, 0.98
MIN_START = 1 / 3  # the share of a page a section taller than a page needs to start on it


def page_breaks(ws: Worksheet, paper: int) -> list[int]:
    """The rows that start a new page when ``ws`` prints one page wide, sections kept whole."""
    sections, last_col = _sections(ws)
    width_pt, height_pt = PAPER_POINTS.get(paper, PAPER_POINTS[9])
    page_width = (width_pt - 2 * SIDE_MARGIN * 72) * PIXELS_PER_POINT
    sheet_width = sum(ws._size_col(c) for c in range(last_col + 1)) or 1
    scale = min(1.0, page_width / (sheet_width * WIDER))
    page = (height_pt - 2 * TOP_MARGIN * 72) * PIXELS_PER_POINT * SHORTER / scale
    breaks, used, previous_end = [], 0.0, None
    for first, last in sections:
        height = sum(ws._size_row(r) for r in range(first, last + 1))
        gap = 0.0 if previous_end is None else sum(ws._size_row(r) for r in range(previous_end + 1, first))
        previous_end = last
        if used is None:  # after a section that flowed over pages: where it ended is not known
            continue
        if used == 0 or used + gap + height <= page:
            used = (used + gap + height) if used else height
        elif height <= page or page - used - gap < MIN_START * page:
            breaks.append(first)
            used = height
        else:
            used += gap + height
        if used > page:  # the application breaks it where its own row heights say
            used = None
    return breaks


def _sections(ws: Worksheet) -> tuple[list[tuple[int, int]], int]:
    """The sheet's sections as (first row, last row), and the last column anything is in."""
    covered: dict[int, int] = {}  # first row -> last row of each object or filled row

    def cover(first: int, last: int) -> None:
        covered[first] = max(covered.get(first, first), last)

    last_col = 0
    for row, cells in ws.table.items():
        if cells:
            cover(row, row)
            last_col = max(last_col, max(cells))
    for first_row, first_col, last_row, last_col_ in ws.merge:
        cover(first_row, last_row)
        last_col = max(last_col, last_col_)
    for row, col, chart, x_offset, y_offset, x_scale, y_scale, anchor, *_ in ws.charts:
        width, height = int(0.5 + chart.width * x_scale), int(0.5 + chart.height * y_scale)
        _, _, _, _, end_col, end_row, *_ = ws._position_object_pixels(col, row, x_offset, y_offset,
                                                                      width, height, anchor)
        cover(row, end_row)
        last_col = max(last_col, end_col)
    sections: list[tuple[int, int]] = []
    for first in sorted(covered):
        last = covered[first]
        if sections and first <= sections[-1][1] + 1:
            sections[-1] = (sections[-1][0], max(sections[-1][1], last))
        else:
            sections.append((first, last))
    return sections, last_col
