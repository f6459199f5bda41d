"""Streaming readers of exports: a folder with one file per record type, or one JSONL file
whose lines carry ``"type"``.

Readers yield raw rows ``(type, source, mapping)`` lazily; they never coerce (that is
:mod:`hazard_rules.facts.coerce`). A row that cannot even be read as a mapping (bad JSON, a CSV
row with more cells than headers) is yielded as an :class:`Unreadable` so that it is
rejected with its source like any other bad row. Sources: ``file:line`` for CSV and JSONL
(1-based physical lines; the CSV header is line 1), ``file:sheet:row`` for Excel.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from hazard_rules.errors import InputError
from hazard_rules.schema import Schema, did_you_mean
from hazard_rules.source import display_path

__all__ = ["SUFFIXES", "Unreadable", "detect_encoding", "read_export"]

SUFFIXES = (".csv", ".jsonl", ".xlsx")
RawRow = tuple[str, str, Any]


@dataclass(frozen=True)
class Unreadable:
    """A row that could not be read as a record; it is rejected with ``reason``."""

    reason: str
    field: str | None = None
    id: str | None = None


def detect_encoding(path: Path, sample: int = 1 << 20) -> str:
    """``utf-8-sig`` when the file's first MiB decodes as UTF-8, else ``gb18030``."""
    with path.open("rb") as fh:
        head = fh.read(sample)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a real error, not a character cut at the sample's end
            return "gb18030"
    return "utf-8-sig"


def _csv_rows(tname: str, path: Path, encoding: str | None) -> Iterator[RawRow]:
    name = display_path(path)
    enc = encoding or detect_encoding(path)
    try:
        fh = path.open(encoding=enc, newline="")
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                return
            header = [h.strip() for h in header]
            width = len(header)
            last = reader.line_num
            for row in reader:
                start, last = last + 1, reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                source = f"{name}:{start}"
                if len(row) > width and any(c.strip() for c in row[width:]):
                    rid = row[header.index("id")] if "id" in header else None
                    yield (
                        tname,
                        source,
                        Unreadable(f"{len(row)} cells but {width} column headers", id=rid),
                    )
                    continue
                yield tname, source, dict(zip(header, row, strict=False))
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{name}: not readable as {enc}: {exc.reason} (try --encoding)"
            ) from exc
        except csv.Error as exc:
            raise InputError(f"{name}:{reader.line_num}: malformed CSV: {exc}") from exc


def _jsonl_rows(tname: str | None, path: Path) -> Iterator[RawRow]:
    name = display_path(path)
    try:
        fh = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    with fh:
        try:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                source = f"{name}:{n}"
                try:
                    obj = json.loads(line)
                except RecursionError:
                    yield tname or "?", source, Unreadable("JSON nested too deeply")
                    continue
                except json.JSONDecodeError as exc:
                    yield (
                        tname or "?",
                        source,
                        Unreadable(f"invalid JSON: {exc.msg} at column {exc.colno}"),
                    )
                    continue
                if not isinstance(obj, dict):
                    yield tname or "?", source, Unreadable("a line must be a JSON object")
                    continue
                t = tname or obj.get("type")
                if not isinstance(t, str) or not t:
                    yield (
                        "?",
                        source,
                        Unreadable('the line has no "type"', field="type", id=obj.get("id")),
                    )
                    continue
                yield t, source, obj
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not UTF-8: {exc.reason}") from exc


def _xlsx_rows(tname: str, path: Path) -> Iterator[RawRow]:
    from hazard_rules.io.excel import xlsx_rows

    yield from xlsx_rows(tname, path, display_path(path))


def _type_of(stem: str, schema: Schema) -> str | None:
    if stem in schema.types:
        return stem
    for t in schema.types.values():
        if t.label == stem:
            return t.name
    return None


def read_export(
    path: str | os.PathLike[str], schema: Schema, *, encoding: str | None = None
) -> dict[str, Iterable[RawRow]]:
    """Raw rows by record type from an export folder or a file (see the module docstring)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file or folder")
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES)
        if not files:
            raise InputError(f"{path}: no .csv, .jsonl or .xlsx files in this folder")
        out: dict[str, list[Iterable[RawRow]]] = {}
        for f in files:
            tname = _type_of(f.stem, schema)
            if tname is None:
                hint = did_you_mean(f.stem, schema.types)
                raise InputError(
                    f"{display_path(f)}: unknown record type {f.stem!r}{hint}; "
                    f"name each file after a type: {', '.join(sorted(schema.types))}"
                )
            out.setdefault(tname, []).append(_file_rows(tname, f, encoding))
        return {t: chain.from_iterable(its) for t, its in out.items()}
    tname = _type_of(p.stem, schema)
    if p.suffix.lower() == ".jsonl" and tname is None:
        return _group(_jsonl_rows(None, p))
    if tname is None:
        raise InputError(
            f'{path}: a single file must be a JSONL export with "type" on each line, '
            f"or be named after a record type ({', '.join(sorted(schema.types))})"
        )
    return {tname: _file_rows(tname, p, encoding)}


def _file_rows(tname: str, f: Path, encoding: str | None) -> Iterator[RawRow]:
    suffix = f.suffix.lower()
    if suffix == ".csv":
        return _csv_rows(tname, f, encoding)
    if suffix == ".jsonl":
        return _jsonl_rows(tname, f)
    return _xlsx_rows(tname, f)


def _group(rows: Iterable[RawRow]) -> dict[str, Iterable[RawRow]]:
    """Mixed-type rows grouped by type (kept in memory: their order is arbitrary)."""
    out: dict[str, list[RawRow]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row)
    return dict(out)
