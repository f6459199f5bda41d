"""Excel (.xlsx) reading in openpyxl's read-only streaming mode (extra ``hazard-rules[excel]``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hazard_rules.errors import InputError

__all__ = ["xlsx_rows"]


def xlsx_rows(tname: str, path: Path, name: str) -> Iterator[tuple[str, str, Any]]:
    """Rows of the first sheet: row 1 holds the headers; sources are ``file:sheet:row``."""
    try:
        import openpyxl
    except ImportError as exc:
        raise InputError(
            f"{name}: reading Excel needs openpyxl: pip install 'hazard-rules[excel]'"
        ) from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise InputError(f"{name}: not a readable .xlsx workbook: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            return
        header = [str(h).strip() if h is not None else "" for h in header_row]
        for n, row in enumerate(rows, 2):
            if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            record = {h: v for h, v in zip(header, row, strict=False) if h}
            yield tname, f"{name}:{sheet.title}:{n}", record
    finally:
        book.close()
