"""Blocks of a large CSV or JSONL file: cut at record boundaries, each read on its own.

A partitioned run (:mod:`hazard_rules.scale.partition`) reads a large file in blocks, in
parallel. :func:`plan_blocks` finds the cuts in one pass over the bytes (no decoding, no
parsing): a JSONL file may be cut after any line end; a CSV file only after a line end with
an even number of ``"`` before it (outside any quoted cell, as the csv module reads it: a
quoted cell may hold line ends) and after its header. Files in an encoding where ``0x0A`` or
``0x22`` can be part of another character (UTF-16, UTF-32) are never cut.

:func:`block_rows` reads one block as the whole file's reader would: with the file's
codec, its header (block *k* > 0 reads the lines up to the header first, then its own lines,
numbered as in the file) and the same code (:mod:`hazard_rules.io.export`). What the whole
file's reading would have noted once (the encoding, the header's columns) is noted by block
0 only; the total rows each block skipped are returned for one note per file.

Quote parity is exact for well-formed CSV. Where the reader of a block meets a row it cannot
read (an unterminated quote, a malformed or undecodable line), the block is marked
``anomalous`` and the caller reads the file again as one part: a block that might have
started inside a quoted cell is never trusted.
"""

from __future__ import annotations

import codecs
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from itertools import chain, takewhile
from pathlib import Path

from hazard_rules.errors import InputError
from hazard_rules.facts.rows import RawRow, Unreadable
from hazard_rules.io.csv_reader import csv_records
from hazard_rules.io.maps import ColumnMap
from hazard_rules.io.tables import BadRow, GridRow, Header, HeaderError, TableReader, find_header
from hazard_rules.io.text import Line, TextFile, byte_lines, open_text
from hazard_rules.schema import Schema

__all__ = ["Block", "BlockReading", "block_rows", "plan_blocks", "totals_note"]

# ASCII-compatible codecs in which 0x0A and 0x22 are never part of a multibyte character
_CUTTABLE = frozenset({"utf-8", "gb18030", "gbk", "gb2312", "ascii", "latin-1", "iso8859-1"})
_CHUNK = 1 << 23


@dataclass(frozen=True)
class Block:
    """Lines ``[first_line, end_line)`` of one file (``end_line`` None: to the end), starting
    at byte ``start``; ``head_lines``: the lines up to the CSV header, read first by every
    block but the first."""

    path: str
    name: str
    type: str
    kind: str  # csv, tsv, jsonl
    index: int
    start: int
    first_line: int
    end_line: int | None
    head_lines: int


@dataclass
class BlockReading:
    """What reading a block found besides its rows: notes, total rows skipped, and whether
    a row could not be read (the block cannot be trusted; read the file whole)."""

    notes: list[str] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    anomalous: bool = False


def _codec(path: Path, name: str, encoding: str | None) -> str:
    text = open_text(path, name, encoding)
    text.close()
    return codecs.lookup(text.codec).name


def _first_data_line(
    path: Path, name: str, schema: Schema, tname: str, kind: str, cmap: ColumnMap | None
) -> int | None:
    """The line where a CSV file's first record after the header starts (None: no header
    in reach, or no data; the file is read whole)."""
    text = open_text(path, name, None)
    try:
        width = [0]
        delimiter = "\t" if kind == "tsv" else ","
        grid: Iterator[GridRow] = (
            (r.line, r.cells if r.cells is not None else BadRow(r.error or "unreadable"))
            for r in csv_records(text.lines, width, delimiter)
        )
        tmap = cmap.for_type(tname) if cmap is not None else None
        try:
            header = find_header(grid, schema.types[tname], tmap, name)
        except HeaderError:
            return None
        width[0] = len(header.columns)
        nxt = next(grid, None)
        return nxt[0] if nxt is not None else None
    finally:
        text.close()


def plan_blocks(
    path: Path,
    name: str,
    tname: str,
    kind: str,
    schema: Schema,
    *,
    encoding: str | None,
    column_map: ColumnMap | None,
    block_bytes: int,
) -> list[Block]:
    """The blocks of one file, about ``block_bytes`` each; one block when it is small, in a
    codec that cannot be cut, or has no cut (see the module docstring)."""
    whole = [Block(str(path), name, tname, kind, 0, 0, 1, None, 0)]
    try:
        size = path.stat().st_size
        if size < 2 * block_bytes:
            return whole
        codec = _codec(path, name, encoding)
    except (OSError, InputError):
        return whole  # the whole file's reading reports it
    if codec not in _CUTTABLE:
        return whole
    head = 0
    if kind != "jsonl":
        first = _first_data_line(path, name, schema, tname, kind, column_map)
        if first is None:
            return whole
        head = first - 1
    cuts = _cuts(path, block_bytes, quotes=kind != "jsonl", after_line=head)
    if not cuts:
        return whole
    out = []
    starts = [(0, 1), *cuts]
    for i, (start, line) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else None
        out.append(Block(str(path), name, tname, kind, i, start, line, end, head if i else 0))
    return out


def _cuts(path: Path, block_bytes: int, *, quotes: bool, after_line: int) -> list[tuple[int, int]]:
    """(byte offset, line number) of each cut: the first line end at or past every multiple of
    ``block_bytes`` with an even number of quotes before it (when ``quotes``), starting a line
    past ``after_line``."""
    out: list[tuple[int, int]] = []
    target = block_bytes
    base = 0  # offset of the chunk in the file
    lines = 0  # line ends before the chunk
    parity = 0  # quotes before the chunk, mod 2
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            seen, q, n = 0, 0, 0  # quotes and line ends in chunk[:seen]
            pos = max(target - base - 1, 0)
            while pos < len(chunk):
                nl = chunk.find(b"\n", pos)
                if nl < 0:
                    break
                if quotes:
                    q += chunk.count(b'"', seen, nl)
                n += chunk.count(b"\n", seen, nl)
                seen = nl
                line = lines + n + 2  # the line a cut after this line end starts
                if (not quotes or (parity + q) % 2 == 0) and line > after_line:
                    out.append((base + nl + 1, line))
                    target = base + nl + 1 + block_bytes
                    pos = max(target - base - 1, nl + 1)
                else:
                    pos = nl + 1
            base += len(chunk)
            lines += chunk.count(b"\n")
            if quotes:
                parity = (parity + chunk.count(b'"')) % 2
    if out and out[-1][0] >= base:
        out.pop()  # a cut at the very end would leave an empty block
    return out


def _renumbered(lines: Iterator[Line], first: int) -> Iterator[Line]:
    shift = first - 1
    for line in lines:
        yield Line(line.number + shift, line.text, line.error)


def _lines(block: Block, encoding: str | None, codec: str) -> Generator[Line, None, None]:
    """The block's lines (after the head lines, for a block past the first), numbered as
    in the file."""
    path = Path(block.path)
    if block.index == 0:
        text = open_text(path, block.name, encoding)
        body, close = text.lines, text.close
    else:
        head = open_text(path, block.name, encoding)
        try:
            prefix = list(takewhile(lambda line: line.number <= block.head_lines, head.lines))
        finally:
            head.close()
        fh = path.open("rb")
        fh.seek(block.start)
        lines = byte_lines(fh, block.name, codec)
        body = chain(prefix, _renumbered(lines, block.first_line))

        def close() -> None:
            getattr(lines, "close", fh.close)()
            fh.close()

    end = block.end_line
    try:
        for line in body:
            if end is not None and line.number >= end:
                return
            yield line
    finally:
        close()


def block_rows(
    block: Block,
    schema: Schema,
    *,
    encoding: str | None,
    column_map: ColumnMap | None,
    out: BlockReading,
) -> Iterator[RawRow]:
    """The raw rows of one block, read as the whole file's reader reads them; notes, totals
    and anomalies go to ``out`` (see the module docstring)."""
    from hazard_rules.io.export import read_table

    path = Path(block.path)
    text = open_text(path, block.name, encoding)
    text.close()
    lines = _lines(block, encoding, text.codec)
    table = TextFile(block.name, text.codec, text.detected, lines)
    rows, reader = read_table(
        schema, block.type, table, block.kind, encoding=encoding, column_map=column_map
    )
    try:
        for row in rows:
            if block.kind != "jsonl" and isinstance(row[2], Unreadable):
                out.anomalous = True
            yield row
    finally:
        lines.close()
    totals = [n for info in reader.tables if info.reader for n in info.reader.totals]
    notes = reader.notes
    if totals:
        notes = notes[:-1]  # the file gets one note, from the totals of every block
        out.totals.extend(totals)
    if block.index == 0:
        out.notes.extend(notes)


def totals_note(name: str, tname: str, totals: list[int]) -> list[str]:
    """The note the whole file's reader makes about the total rows it skipped (none: [])."""
    if not totals:
        return []
    notes: list[str] = []
    table = TableReader(tname, name, Header(0, (), ()), None, notes=notes)
    table.totals = sorted(totals)
    table.finish()
    return notes
