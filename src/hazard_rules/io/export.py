"""Exports: a folder of files (one record type per file, or per sheet of a workbook), or one
file — read lazily into raw rows by record type, with nothing skipped unseen.

What a folder may hold, and what happens to it:

* ``.csv``, ``.tsv``, ``.jsonl``, ``.xlsx``/``.xlsm`` regular files (or links to them): read.
  A file's record type is its name (type name or Chinese label, also with a year and a ledger
  word: ``2024年隐患台账.csv``), or what the column map says. A ``.jsonl`` file whose name is
  not a type is a mixed file whose lines carry ``"type"``.
* A workbook: every sheet. A sheet whose name is a type is that type; in a workbook named
  after a type, the other sheets are candidates of that type and are read when a header row
  is found in them; every sheet not read is listed in the notes with its name.
* Hidden files, Excel and LibreOffice lock files (``~$x.xlsx``, ``.~lock.x#``), files of
  other kinds (``README.md``) and subfolders: listed in the notes as ignored, never read.
* A dangling link, a FIFO, a device, a folder named ``x.csv``, an old ``.xls``: an error
  naming it (exit 2) — a data file that cannot be read is never skipped in silence.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from hazard_rules.errors import InputError
from hazard_rules.facts.rows import UNKNOWN_TYPE, RawRow, Unreadable
from hazard_rules.io.csv_reader import csv_records
from hazard_rules.io.maps import ColumnMap, TypeMap
from hazard_rules.io.tables import (
    BadRow,
    GridRow,
    Header,
    HeaderError,
    TableReader,
    cell_converter,
    column_letter,
    find_header,
    type_of,
)
from hazard_rules.io.text import TextFile, open_text
from hazard_rules.periods import timezone
from hazard_rules.schema import Schema, did_you_mean, value_key
from hazard_rules.source import display_path

__all__ = ["SUFFIXES", "Export", "PartOrigin", "TableInfo", "read_export", "read_table"]

SUFFIXES = (".csv", ".tsv", ".jsonl", ".xlsx", ".xlsm")
_UNSUPPORTED = {
    ".xls": "the old Excel format cannot be read: save it as .xlsx",
    ".xlsb": "binary Excel workbooks cannot be read: save it as .xlsx",
    ".ods": "OpenDocument spreadsheets cannot be read: save it as .xlsx",
    ".et": "WPS spreadsheets cannot be read: save it as .xlsx",
    ".json": "a JSON file cannot be read: give JSON Lines (.jsonl), one record per line",
}


@dataclass
class TableInfo:
    """One table of an export (a file, or a sheet of a workbook): how it was taken."""

    source: str  # "hazard.csv" or "台账.xlsx:隐患台账"
    type: str | None  # None: not read
    why: str  # how the type was decided, or why the table was not read
    header: Header | None = None
    encoding: str | None = None
    reader: TableReader | None = None


@dataclass(frozen=True)
class PartOrigin:
    """Where one part of an export comes from: the file, its shown name, and its kind
    (``csv``, ``tsv``, ``jsonl``; ``sheet`` for sheets of a workbook; ``mixed`` for the rows
    of one type in a mixed JSONL file)."""

    path: Path
    name: str
    kind: str


@dataclass
class Export:
    """Raw rows by record type (read lazily), and what reading found out.

    ``notes`` and ``tables`` grow while the rows are read; read them once the rows are.
    ``mixed``: rows of unknown types are rejected one by one (a mixed JSONL file), rather
    than refused as a whole.
    """

    path: str
    sources: dict[str, Iterable[RawRow]]
    notes: list[str] = field(default_factory=list)
    tables: list[TableInfo] = field(default_factory=list)
    mixed: bool = False
    # the same rows, one lazy iterable per file or sheet (what ``sources`` chains)
    parts: dict[str, list[Iterable[RawRow]]] = field(default_factory=dict)
    # where each of ``parts`` comes from (same keys, same order)
    origins: dict[str, list[PartOrigin]] = field(default_factory=dict)


def _kind(entry: Path) -> str:
    return entry.suffix.lower()


def _ignored(name: str) -> bool:
    return name.startswith((".", "~$")) or (name.startswith(".~lock.") and name.endswith("#"))


def _check_file(path: Path) -> None:
    """A readable regular file (a link to one is fine), else :class:`InputError`."""
    name = display_path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(
                f"{name}: a link to {os.readlink(path)!r}, which does not exist"
            ) from None
        raise InputError(f"{name}: no such file (it vanished while the folder was read)") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{name}: a folder, not a data file (rename it, or move it out)")
    if not stat.S_ISREG(st.st_mode):
        what = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        raise InputError(f"{name}: {what}; hazard-rules reads regular files only")
    if not os.access(path, os.R_OK):
        raise InputError(f"{name}: cannot read: permission denied")


def read_export(
    path: str | os.PathLike[str],
    schema: Schema,
    *,
    encoding: str | None = None,
    column_map: ColumnMap | None = None,
) -> Export:
    """The export at ``path`` (see the module docstring); :class:`InputError` when it, or a
    data file in it, cannot be used."""
    p = Path(path)
    reader = _Reader(schema, encoding, column_map)
    if not p.exists() and not p.is_symlink():
        raise InputError(f"{path}: no such file or folder")
    if p.is_dir():
        reader.folder(p)
        if not reader.found:
            raise InputError(
                f"{path}: no .csv, .tsv, .jsonl or .xlsx files in this folder"
                + (
                    " (see the notes: " + "; ".join(reader.export.notes) + ")"
                    if reader.export.notes
                    else ""
                )
            )
    else:
        reader.file(p, single=True)
    out = reader.export
    out.parts = reader.by_type
    out.origins = reader.origins
    out.sources = {t: chain.from_iterable(its) for t, its in reader.by_type.items()}
    out.path = display_path(p)
    return out


def read_table(
    schema: Schema,
    tname: str,
    text: TextFile,
    kind: str,
    *,
    encoding: str | None,
    column_map: ColumnMap | None,
) -> tuple[Iterator[RawRow], Export]:
    """The raw rows of one CSV, TSV or JSONL table of type ``tname`` whose lines are
    ``text`` (a whole file, or a block of one: io/blocks.py), read as :func:`read_export`
    reads such a file; the :class:`Export` returned collects the notes and tables of it."""
    reader = _Reader(schema, encoding, column_map)
    if kind == "jsonl":
        return reader._jsonl_lines(tname, text.name, text), reader.export
    delimiter = "\t" if kind == "tsv" else ","
    return reader._csv_table(tname, text.name, text, delimiter), reader.export


class _Reader:
    def __init__(self, schema: Schema, encoding: str | None, cmap: ColumnMap | None) -> None:
        self.schema = schema
        self.encoding = encoding
        self.cmap = cmap
        self.zone = timezone(schema.timezone)
        self.export = Export("", {})
        self.by_type: dict[str, list[Iterable[RawRow]]] = {}
        self.origins: dict[str, list[PartOrigin]] = {}
        self.found = 0

    def _tmap(self, tname: str) -> TypeMap | None:
        return self.cmap.for_type(tname) if self.cmap is not None else None

    def _type_names(self) -> str:
        return ", ".join(
            f"{t.name}（{t.label}）" if t.label else t.name
            for t in sorted(self.schema.types.values(), key=lambda t: t.name)
        )

    def _add(self, tname: str, rows: Iterable[RawRow], origin: PartOrigin) -> None:
        self.by_type.setdefault(tname, []).append(rows)
        self.origins.setdefault(tname, []).append(origin)

    def folder(self, root: Path) -> None:
        notes = self.export.notes
        for entry in sorted(root.iterdir(), key=lambda e: e.name):
            name = display_path(entry)
            if _ignored(entry.name):
                notes.append(f"{name}: ignored (a hidden or lock file)")
                continue
            suffix = _kind(entry)
            if entry.is_dir() and not entry.is_symlink() and suffix not in SUFFIXES:
                notes.append(f"{name}: a subfolder; ignored (files in subfolders are not read)")
                continue
            if suffix in _UNSUPPORTED:
                raise InputError(f"{name}: {_UNSUPPORTED[suffix]}")
            if suffix not in SUFFIXES:
                notes.append(f"{name}: ignored (not .csv, .tsv, .jsonl or .xlsx)")
                continue
            self.file(entry, single=False)

    def file(self, path: Path, *, single: bool) -> None:
        name = display_path(path)
        suffix = _kind(path)
        if suffix in _UNSUPPORTED:
            raise InputError(f"{name}: {_UNSUPPORTED[suffix]}")
        if suffix not in SUFFIXES:
            raise InputError(f"{name}: not a .csv, .tsv, .jsonl or .xlsx file")
        _check_file(path)
        self.found += 1
        if suffix in (".xlsx", ".xlsm"):
            self.workbook(path, name)
            return
        tname = self._file_type(path)
        if suffix == ".jsonl" and tname is None:
            self.export.mixed = True
            self.export.tables.append(TableInfo(name, None, 'mixed: each line names its "type"'))
            for t, rows in _group(self._jsonl_rows(None, path, name)).items():
                self._add(t, rows, PartOrigin(path, name, "mixed"))
            return
        if tname is None:
            hint = did_you_mean(path.stem, self.schema.types)
            raise InputError(
                f"{name}: unknown record type {path.stem!r}{hint}; name each file after a record type "
                f"(name or Chinese label): {self._type_names()}, or give its type in a column "
                "map (`files:`)"
            )
        if suffix == ".jsonl":
            self.export.tables.append(TableInfo(name, tname, "file name"))
            self._add(tname, self._jsonl_rows(tname, path, name), PartOrigin(path, name, "jsonl"))
        else:
            delimiter = "\t" if suffix == ".tsv" else ","
            kind = suffix.lstrip(".")
            self._add(
                tname, self._csv_rows(tname, path, name, delimiter), PartOrigin(path, name, kind)
            )

    def _file_type(self, path: Path) -> str | None:
        if self.cmap is not None:
            t = self.cmap.type_of_file(path.name)
            if t is not None:
                return t
        return type_of(path.stem, self.schema)

    # -- CSV -------------------------------------------------------------------------------

    def _csv_rows(self, tname: str, path: Path, name: str, delimiter: str) -> Iterator[RawRow]:
        text = open_text(path, name, self.encoding)
        try:
            yield from self._csv_table(tname, name, text, delimiter)
        finally:
            text.close()

    def _csv_table(self, tname: str, name: str, text: TextFile, delimiter: str) -> Iterator[RawRow]:
        info = TableInfo(name, tname, "file name", encoding=text.codec)
        self.export.tables.append(info)
        if text.detected and text.codec != "utf-8":
            self.export.notes.append(f"{name}: read as {text.codec.upper()} (not UTF-8)")
        width = [0]
        grid: Iterator[GridRow] = (
            (r.line, r.cells if r.cells is not None else BadRow(r.error or "unreadable", r.column))
            for r in csv_records(text.lines, width, delimiter)
        )
        tdef = self.schema.types[tname]
        tmap = self._tmap(tname)
        try:
            header = find_header(grid, tdef, tmap, name)
        except HeaderError as exc:
            raise InputError(str(exc)) from None
        width[0] = len(header.columns)
        table = TableReader(
            tname,
            name,
            header,
            tmap,
            convert=cell_converter(tdef, tmap, self.zone),
            notes=self.export.notes,
        )
        info.header, info.reader = header, table
        yield from table.rows(grid)
        table.finish()

    # -- JSON Lines --------------------------------------------------------------------------

    def _jsonl_rows(self, tname: str | None, path: Path, name: str) -> Iterator[RawRow]:
        text = open_text(path, name, self.encoding)
        try:
            yield from self._jsonl_lines(tname, name, text)
        finally:
            text.close()

    def _jsonl_lines(self, tname: str | None, name: str, text: TextFile) -> Iterator[RawRow]:
        tmaps = {t: self._tmap(t) for t in self.schema.types}
        for line in text.lines:
            source = f"{name}:{line.number}"
            if line.text is None:
                yield tname or UNKNOWN_TYPE, source, Unreadable(line.error or "unreadable")
                continue
            if not line.text.strip():
                continue
            try:
                obj = json.loads(line.text)
            except RecursionError:
                yield tname or UNKNOWN_TYPE, source, Unreadable("JSON nested too deeply")
                continue
            except json.JSONDecodeError as exc:
                yield (
                    tname or UNKNOWN_TYPE,
                    source,
                    Unreadable(f"invalid JSON: {exc.msg} at column {exc.colno}"),
                )
                continue
            except ValueError as exc:  # e.g. an integer of more digits than Python reads
                yield tname or UNKNOWN_TYPE, source, Unreadable(f"invalid JSON: {exc}")
                continue
            if not isinstance(obj, dict):
                yield tname or UNKNOWN_TYPE, source, Unreadable("a line must be a JSON object")
                continue
            t = tname or obj.get("type")
            if not isinstance(t, str) or not t:
                yield (
                    UNKNOWN_TYPE,
                    source,
                    Unreadable('the line has no "type"', field="type", id=_id(obj.get("id"))),
                )
                continue
            tmap = tmaps.get(t)
            if tmap is not None:
                obj = _apply_map(obj, tmap)
            yield t, source, obj

    # -- workbooks ---------------------------------------------------------------------------

    def workbook(self, path: Path, name: str) -> None:
        from hazard_rules.io.excel import open_workbook

        book = open_workbook(path, name)
        titles = [s.title for s in book.sheets]
        book.close()
        file_type = self._file_type(path)
        by_sheet = self.cmap.sheet_types() if self.cmap is not None else {}
        candidates: list[str] = []
        for title in titles:
            where = f"{name}:{title}"
            tname = by_sheet.get(title) or type_of(title, self.schema)
            if tname is not None:
                how = "column map (sheets)" if title in by_sheet else "sheet name"
                rows = self._sheet_rows(tname, path, name, title, how)
                self._add(tname, rows, PartOrigin(path, name, "sheet"))
                continue
            tmap = self._tmap(file_type) if file_type else None
            if file_type is not None and (tmap is None or not tmap.sheets or title in tmap.sheets):
                candidates.append(title)
                continue
            self.export.tables.append(TableInfo(where, None, "sheet name is not a record type"))
            self.export.notes.append(
                f"{where}: sheet skipped: its name is not a record type"
                + (" and the workbook's name is not one either" if file_type is None else "")
            )
        if candidates and file_type is not None:
            rows = self._candidate_sheets(file_type, path, name, candidates)
            self._add(file_type, rows, PartOrigin(path, name, "sheet"))
        elif file_type is None and not any(
            by_sheet.get(t) or type_of(t, self.schema) for t in titles
        ):
            raise InputError(
                f"{name}: neither the workbook's name nor any sheet's name ({', '.join(titles)}) is "
                f"a record type; name them after record types: {self._type_names()}, or use a "
                "column map (`files:`, `sheets:`)"
            )

    def _candidate_sheets(
        self, tname: str, path: Path, name: str, titles: list[str]
    ) -> Iterator[RawRow]:
        used = 0
        problems = []
        for title in titles:
            try:
                for _ in self._sheet_rows(tname, path, name, title, "", probe=True):
                    pass
            except _NoHeader as exc:
                problems.append(str(exc))
                continue
            used += 1
            yield from self._sheet_rows(tname, path, name, title, "workbook name")
        if not used:
            raise InputError(
                f"{name}: no sheet has a header row for {tname}: " + "; ".join(problems)
            )

    def _sheet_rows(
        self,
        tname: str,
        path: Path,
        name: str,
        title: str,
        how: str,
        *,
        probe: bool = False,
    ) -> Iterator[RawRow]:
        """The rows of one sheet; with ``probe``, only whether it has a header row
        (:class:`_NoHeader` when not, noted as a skipped sheet)."""
        from hazard_rules.io.excel import open_workbook

        where = f"{name}:{title}"
        tdef = self.schema.types[tname]
        tmap = self._tmap(tname)
        book = open_workbook(path, name)
        grid = book.sheet_rows(title)
        try:
            try:
                header = find_header(grid, tdef, tmap, where, col_name=_letter)
            except HeaderError as exc:
                if probe:
                    why = f"no header row for {tname} in its first rows"
                    self.export.tables.append(TableInfo(where, None, why))
                    self.export.notes.append(f"{where}: sheet skipped: {why}")
                    raise _NoHeader(str(exc)) from None
                raise InputError(str(exc)) from None
            if probe:
                return
            table = TableReader(
                tname,
                where,
                header,
                tmap,
                width_strict=False,
                convert=cell_converter(tdef, tmap, self.zone, book.epoch),
                col_name=_letter,
                notes=self.export.notes,
            )
            self.export.tables.append(TableInfo(where, tname, how, header=header, reader=table))
            yield from table.rows(grid)
            table.finish()
        finally:
            grid.close()  # type: ignore[attr-defined]
            book.close()


class _NoHeader(Exception):
    pass


def _letter(index: int) -> str:
    return f"column {column_letter(index)}"


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value).strip() or None


def _apply_map(obj: dict[str, Any], tmap: TypeMap) -> dict[str, Any]:
    """A JSON record with the map's column renames and value maps applied."""
    columns = {value_key(k): v for k, v in tmap.columns.items()}
    ignore = {value_key(k) for k in tmap.ignore}
    out: dict[str, Any] = {}
    for key, value in obj.items():
        folded = value_key(str(key))
        if folded in ignore:
            continue
        fname = columns.get(folded, key)
        vmap = tmap.values.get(fname)
        if vmap is not None and isinstance(value, str):
            value = {value_key(k): v for k, v in vmap.items()}.get(value_key(value), value)
        out[fname] = value
    return out


def _group(rows: Iterable[RawRow]) -> dict[str, list[RawRow]]:
    """Mixed-type rows grouped by type (kept in memory: their order is arbitrary)."""
    out: dict[str, list[RawRow]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row)
    return out
