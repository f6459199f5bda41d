"""Excel workbooks (.xlsx, .xlsm) as grid rows, sheet by sheet (extra ``hazard-rules[excel]``).

Read with openpyxl in its streaming read-only mode, which does not expose merged cells:
their ranges are read from the sheet's XML part (a byte scan for ``<mergeCell ref=…>``),
and every cell of a merged range reads as the range's top-left value. Sources are
``file:sheet:row``.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hazard_rules.errors import InputError

__all__ = ["Sheet", "Workbook", "open_workbook"]

_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+)(\d+):([A-Z]+)(\d+)\"")
_CHUNK = 1 << 20


def _col(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


@dataclass
class Sheet:
    """One worksheet: its title and a way to stream its rows."""

    title: str
    book: Workbook

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """``(row number, cells)`` for every row, merged ranges filled from their top-left."""
        return self.book.sheet_rows(self.title)


class Workbook:
    """An open workbook (close it when done)."""

    def __init__(self, path: Path, name: str) -> None:
        try:
            import openpyxl
        except ImportError as exc:
            raise InputError(
                f"{name}: reading Excel needs openpyxl: pip install 'hazard-rules[excel]'"
            ) from exc
        self.path = path
        self.name = name
        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except FileNotFoundError as exc:
            raise InputError(f"{name}: the file vanished before it was read") from exc
        except Exception as exc:  # openpyxl raises many types for a bad file
            raise InputError(f"{name}: not a readable .xlsx workbook: {exc}") from exc
        self.epoch: datetime = self._book.epoch
        self.sheets = [Sheet(ws.title, self) for ws in self._book.worksheets]

    def close(self) -> None:
        """Release the file."""
        self._book.close()

    def _merged(self, ws: Any) -> dict[tuple[int, int], tuple[int, int]]:
        """(row, column) of every merged cell but the top-left → its range's top-left."""
        part = getattr(ws, "_worksheet_path", None)
        if not part:
            return {}
        out: dict[tuple[int, int], tuple[int, int]] = {}
        try:
            with zipfile.ZipFile(self.path) as z, z.open(part) as fh:
                tail = b""
                while True:
                    chunk = fh.read(_CHUNK)
                    if not chunk:
                        break
                    data = tail + chunk
                    for m in _MERGE.finditer(data):
                        c0, r0, c1, r1 = _col(m[1]), int(m[2]), _col(m[3]), int(m[4])
                        for r in range(r0, r1 + 1):
                            for c in range(c0, c1 + 1):
                                if (r, c) != (r0, c0):
                                    out[(r, c)] = (r0, c0)
                    tail = data[-200:]
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise InputError(f"{self.name}: cannot read sheet {ws.title!r}: {exc}") from exc
        return out

    def sheet_rows(self, title: str) -> Iterator[tuple[int, list[Any]]]:
        ws = self._book[title]
        by_row: dict[int, list[tuple[int, tuple[int, int]]]] = {}
        for (r, c), top in self._merged(ws).items():
            by_row.setdefault(r, []).append((c, top))
        tops = {top for cells in by_row.values() for _, top in cells}
        held: dict[tuple[int, int], Any] = {}  # top-left values of merged ranges
        try:
            for number, values in enumerate(ws.iter_rows(values_only=True), 1):
                cells = list(values)
                if tops:
                    for c, v in enumerate(cells):
                        if (number, c) in tops:
                            held[(number, c)] = v
                for c, top in by_row.get(number, ()):
                    cells.extend([None] * (c + 1 - len(cells)))
                    cells[c] = held.get(top)
                yield number, cells
        except FileNotFoundError as exc:
            raise InputError(f"{self.name}: the file vanished while it was read") from exc
        except (OSError, zipfile.BadZipFile) as exc:
            raise InputError(f"{self.name}: sheet {title!r} became unreadable: {exc}") from exc


def open_workbook(path: Path, name: str) -> Workbook:
    """Open a workbook for streaming; :class:`InputError` naming it when it cannot be."""
    return Workbook(path, name)
