"""CSV records from numbered lines, so that a broken quote can never merge rows unseen.

Python's :mod:`csv` reads a quoted cell across line ends. That is right for a description
with a line break, and wrong when a quote is simply never closed: every following row would
become one cell. :func:`csv_records` therefore watches each record that spans lines: when it
runs to the end of the file with its quote still open, or when a continuation line has as
many delimiters as a whole row, the quote is taken as unterminated — the record is rejected
at the line where the quote opens, and reading resumes with the next line as a row. A cell
over the csv module's field limit rejects its record (with the column) and reading goes on.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from hazard_rules.io.text import Line

__all__ = ["CsvRecord", "csv_records"]


@dataclass(frozen=True)
class CsvRecord:
    """One record: the line it starts on and its cells, or ``error`` (``cells`` None)."""

    line: int
    cells: list[str] | None
    error: str | None = None
    column: int | None = None  # 0-based column of the cell an error is about


class _Feed:
    """The lines given to csv.reader, remembering which lines the current record used."""

    def __init__(self, lines: Iterator[Line]) -> None:
        self.lines = lines
        self.pending: deque[Line] = deque()
        self.used: list[Line] = []
        self.bad: list[Line] = []  # unreadable lines met on the way, reported apart
        self.eof = False

    def __iter__(self) -> Iterator[str]:
        while True:
            if self.pending:
                line = self.pending.popleft()
            else:
                nxt = next(self.lines, None)
                if nxt is None:
                    self.eof = True
                    return
                line = nxt
            if line.text is None:
                self.bad.append(line)
                continue
            self.used.append(line)
            yield line.text


def _long_cell(text: str, delimiter: str, limit: int) -> int | None:
    """0-based index of the first cell longer than ``limit`` in a raw record."""
    cell, size, quoted = 0, 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            cell, size = cell + 1, 0
            continue
        size += 1
        if size > limit:
            return cell
    return None


def csv_records(
    lines: Iterator[Line], width: list[int], delimiter: str = ","
) -> Iterator[CsvRecord]:
    """Records of a CSV file's lines (see the module docstring). ``width[0]`` is the number
    of columns once the header is known (a continuation line with that many cells is a row,
    not part of a quoted cell); before that, any line with two delimiters is."""
    feed = _Feed(lines)
    while True:
        reader = csv.reader(iter(feed), delimiter=delimiter)
        restart = False
        while not restart:
            feed.used = []
            try:
                cells = next(reader, None)
            except csv.Error as exc:
                used = feed.used
                start = used[0].number if used else (feed.bad[0].number if feed.bad else 0)
                yield from _flush(feed, start)
                text = "".join(line.text or "" for line in used)
                column = _long_cell(text, delimiter, csv.field_size_limit())
                if column is not None:
                    reason = (
                        f"a cell is longer than the limit of {csv.field_size_limit():,} characters"
                    )
                else:
                    reason = f"malformed CSV: {exc}"
                yield CsvRecord(start, None, reason, column)
                feed.pending.extendleft(reversed(used[1:]))
                restart = True
                continue
            used = list(feed.used)
            if cells is None:
                yield from _flush(feed, None)
                return
            start = used[0].number if used else 0
            yield from _flush(feed, start)
            if len(used) > 1 and _unterminated(cells, used, feed.eof, width[0], delimiter):
                yield CsvRecord(
                    start,
                    None,
                    f"unterminated quote: the quoted cell opened on line {start} does not close "
                    "before the following rows; the line was not read",
                )
                feed.pending.extendleft(reversed(used[1:]))
                feed.eof = False
                restart = True
                continue
            if cells:
                yield CsvRecord(start, cells)


def _flush(feed: _Feed, before: int | None) -> Iterator[CsvRecord]:
    """Unreadable lines met so far (those before line ``before``, or all)."""
    keep = []
    for line in feed.bad:
        if before is None or line.number < before:
            yield CsvRecord(line.number, None, line.error)
        else:
            keep.append(line)
    feed.bad = keep


def _unterminated(
    cells: list[str], used: list[Line], eof: bool, width: int, delimiter: str
) -> bool:
    if eof and cells and cells[-1].endswith(("\n", "\r")):
        return True  # the file ended inside the quote
    need = max(width - 1, 2)
    return any((line.text or "").count(delimiter) >= need for line in used[1:])
