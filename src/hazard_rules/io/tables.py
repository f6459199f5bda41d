"""Tables (a CSV file, a sheet of a workbook) as ledgers are kept: the header row found, not
assumed; counter columns and total rows recognised; columns mapped to fields once.

A *grid row* is ``(number, cells)``: the 1-based line (CSV) or row (Excel) number and the
cell values. :func:`find_header` looks at the first :data:`HEADER_SEARCH` non-blank rows for
the first one whose cells name the record's ``id`` and at least one more field (by field
name, Chinese label, or the column map); the rows above it are skipped and listed in the
notes. :class:`TableReader` then turns each data row into a raw row keyed by field names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from datetime import time as dtime
from typing import Any

from hazard_rules.facts.rows import RawRow, Unreadable
from hazard_rules.io.maps import TypeMap
from hazard_rules.periods import parse_date, parse_datetime
from hazard_rules.schema import Schema, TypeDef, value_key

__all__ = [
    "HEADER_SEARCH",
    "BadRow",
    "Column",
    "Header",
    "HeaderError",
    "TableReader",
    "cell_converter",
    "column_letter",
    "find_header",
    "from_excel",
    "type_of",
]

HEADER_SEARCH = 20
GridRow = tuple[int, "list[Any] | BadRow"]

# a row counter, not data: 序号 / No. / # (编号 is the id's label, never a counter)
_COUNTERS = {"序号", "序", "no", "no.", "#", "seq", "seq.", "行号"}
# a total row: its first non-empty cell says so, and it has no id
_TOTAL = re.compile(r"^(合计|小计|总计|共计|总数|累计|total|subtotal|sum)\b", re.IGNORECASE)
# ledger names around a type label: 2024年隐患台账 → 隐患
_AFFIX = re.compile(
    r"^(\d{4}\s*年?(度)?)?(.*?)(台账|登记表|信息表|记录表|明细表|清单|明细|记录|汇总|信息|表)?"
    r"(\d{4}\s*年?(度)?)?$"
)


class HeaderError(Exception):
    """The table cannot be used: no header row, or two columns for one field."""


@dataclass(frozen=True)
class BadRow:
    """A row a reader could not read (in place of its cells): why, and the column if known."""

    reason: str
    column: int | None = None


def column_letter(index: int) -> str:
    """Excel's name of the 0-based column ``index``: 0 → A, 27 → AB."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def type_of(name: str, schema: Schema, extra: Mapping[str, str] | None = None) -> str | None:
    """The record type a file or sheet name stands for: a type's name or Chinese label, also
    with a year and a ledger word around it (``2024年隐患台账`` → ``hazard``); ``extra`` maps
    more names (from a column map) to types."""
    if extra and name in extra:
        return extra[name]
    folded = value_key(name)
    names = {value_key(t.name): t.name for t in schema.types.values()}
    names.update({value_key(t.label): t.name for t in schema.types.values() if t.label})
    if folded in names:
        return names[folded]
    m = _AFFIX.match(folded)
    core = m.group(3) if m else ""
    return names.get(core) if core else None


@dataclass(frozen=True)
class Column:
    """One column of a table: where it is, its header, and the field it gives (or why not)."""

    index: int
    header: str
    field: str | None
    how: str  # "name", "label", "map", "counter", "ignored", "unknown", "blank"


@dataclass(frozen=True)
class Header:
    """The header row found in a table, its columns, and the rows skipped above it."""

    row: int
    columns: tuple[Column, ...]
    skipped: tuple[int, ...]

    def fields(self) -> dict[str, int]:
        """Field → column index of the columns that give a field."""
        return {c.field: c.index for c in self.columns if c.field is not None}


def _headers_of(tdef: TypeDef, tmap: TypeMap | None) -> dict[str, tuple[str, str]]:
    """Folded header text → (field, how)."""
    out: dict[str, tuple[str, str]] = {}
    for f in tdef.fields.values():
        out.setdefault(value_key(f.name), (f.name, "name"))
        if f.label:
            out.setdefault(value_key(f.label), (f.name, "label"))
    if tmap is not None:
        for header, fname in tmap.columns.items():
            out[value_key(header)] = (fname, "map")
    return out


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    return cell.strip() if isinstance(cell, str) else str(cell)


def _columns(
    cells: list[Any], known: Mapping[str, tuple[str, str]], tmap: TypeMap | None
) -> list[Column]:
    ignored = {value_key(h) for h in tmap.ignore} if tmap is not None else set()
    out = []
    for i, cell in enumerate(cells):
        header = _text(cell)
        key = value_key(header)
        if not header:
            out.append(Column(i, header, None, "blank"))
        elif key in ignored:
            out.append(Column(i, header, None, "ignored"))
        elif key in known:
            fname, how = known[key]
            out.append(Column(i, header, fname, how))
        elif key in _COUNTERS:
            out.append(Column(i, header, None, "counter"))
        else:
            out.append(Column(i, header, None, "unknown"))
    return out


def find_header(
    rows: Iterable[GridRow],
    tdef: TypeDef,
    tmap: TypeMap | None,
    where: str,
    *,
    col_name: Callable[[int], str] = lambda i: f"column {i + 1}",
) -> Header:
    """The header of a table, read from the start of ``rows`` (an iterator: the rows after
    the header stay in it, to be read as data).

    The header is the map's ``header_row`` when it gives one, else the first of the first
    :data:`HEADER_SEARCH` non-blank rows whose cells give ``id`` and one more field.
    Raises :class:`HeaderError` when there is none, or when two columns give one field.
    """
    known = _headers_of(tdef, tmap)
    want = tmap.header_row if tmap is not None else None
    seen: list[GridRow] = []
    it = iter(rows)
    found: tuple[GridRow, list[Column]] | None = None
    for number, cells in it:
        if isinstance(cells, BadRow):
            seen.append((number, []))
            continue
        if not any(_text(c) for c in cells) and want is None:
            continue
        if want is not None:
            if number < want:
                seen.append((number, cells))
                continue
            if number > want:
                raise HeaderError(f"{where}: row {want} (the map's header_row) is blank")
            found = ((number, cells), _columns(cells, known, tmap))
            break
        columns = _columns(cells, known, tmap)
        given = {c.field for c in columns if c.field}
        if "id" in given and len(given) >= 2:
            found = ((number, cells), columns)
            break
        seen.append((number, cells))
        if len(seen) >= HEADER_SEARCH:
            break
    if found is None:
        if want is not None:
            raise HeaderError(f"{where}: the table ends before row {want} (the map's header_row)")
        id_names = [tdef.fields["id"].name, tdef.fields["id"].label or "编号"]
        raise HeaderError(
            f"{where}: no header row in the first {HEADER_SEARCH} rows: a header names the "
            f"record's id ({' or '.join(id_names)}) and at least one more field of "
            f"{tdef.name} (see `hazard-rules schema`); for other headers use a column map (--map)"
        )
    (number, _), columns = found
    by_field: dict[str, Column] = {}
    for c in columns:
        if c.field is None:
            continue
        first = by_field.get(c.field)
        if first is not None:
            raise HeaderError(
                f"{where}:{number}: {col_name(first.index)} ({first.header!r}) and "
                f"{col_name(c.index)} ({c.header!r}) both give field {c.field}; keep one, or say "
                f"which to use in a column map (`ignore: [{c.header}]`)"
            )
        by_field[c.field] = c
    return Header(number, tuple(columns), tuple(n for n, _ in seen))


@dataclass
class TableReader:
    """Data rows of one table as raw rows keyed by field names (see the module docstring).

    ``convert(field, cell)`` may turn a cell into another value first (Excel serial dates).
    Notes about the table (skipped rows, ignored columns, total rows) accumulate in
    ``notes`` while it is read.
    """

    tname: str
    where: str  # "hazard.csv" or "台账.xlsx:隐患台账"
    header: Header
    tmap: TypeMap | None
    width_strict: bool = True  # CSV: cells past the last header are an error; Excel: ignored
    convert: Callable[[str, Any], Any] | None = None
    col_name: Callable[[int], str] = lambda i: f"column {i + 1}"
    notes: list[str] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    _orphans: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        h = self.header
        if h.skipped:
            self.notes.append(
                f"{self.where}: {len(h.skipped)} row(s) above the header (row {h.row}) skipped: "
                + _ranges(h.skipped)
            )
        for c in h.columns:
            if c.how == "counter":
                self.notes.append(
                    f"{self.where}: {self.col_name(c.index)} ({c.header!r}) is a row counter; ignored"
                )
            elif c.how == "ignored":
                self.notes.append(
                    f"{self.where}: {self.col_name(c.index)} ({c.header!r}) ignored by the map"
                )
            elif c.how == "unknown":
                self.notes.append(
                    f"{self.where}: {self.col_name(c.index)} ({c.header!r}) is not a field of "
                    f"{self.tname}; its values were ignored"
                )
        self._fields = [(c.index, c.field) for c in h.columns if c.field is not None]
        self._width = len(h.columns)
        self._id_col = next((c.index for c in h.columns if c.field == "id"), None)
        values = self.tmap.values if self.tmap is not None else {}
        self._values = {f: {value_key(k): v for k, v in m.items()} for f, m in values.items()}

    def rows(self, grid: Iterable[GridRow], sep: str = ":") -> Iterator[RawRow]:
        """Raw rows of the data rows in ``grid`` (blank rows and total rows skipped)."""
        tname, where = self.tname, self.where
        fields, width, values, convert = self._fields, self._width, self._values, self.convert
        for number, cells in grid:
            source = f"{where}{sep}{number}"
            if isinstance(cells, BadRow):
                col = cells.column
                fname = next((f for i, f in fields if i == col), None) if col is not None else None
                yield tname, source, Unreadable(cells.reason, field=fname)
                continue
            if not any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
                continue
            if self._is_total(cells):
                self.totals.append(number)
                continue
            if len(cells) > width and any(_text(c) for c in cells[width:]):
                extra = [i for i in range(width, len(cells)) if _text(cells[i])]
                if self.width_strict:
                    yield (
                        tname,
                        source,
                        Unreadable(
                            f"{len(cells)} cells but {width} column headers",
                            id=self._raw_id(cells),
                        ),
                    )
                    continue
                for i in extra:
                    if i not in self._orphans:
                        self._orphans.add(i)
                        self.notes.append(
                            f"{where}: {self.col_name(i)} has values but no header; ignored"
                        )
            raw: dict[str, Any] = {}
            n = len(cells)
            for i, fname in fields:
                if i >= n:
                    continue
                cell = cells[i]
                if cell is None or (cell.__class__ is str and not cell.strip()):
                    continue
                if convert is not None:
                    cell = convert(fname, cell)
                vmap = values.get(fname)
                if vmap is not None and isinstance(cell, str):
                    cell = vmap.get(value_key(cell), cell)
                raw[fname] = cell
            yield tname, source, raw

    def _raw_id(self, cells: list[Any]) -> str | None:
        i = self._id_col
        if i is None or i >= len(cells):
            return None
        return _text(cells[i]) or None

    def _is_total(self, cells: list[Any]) -> bool:
        """A total row: its leading cell says 合计/小计/总计/Total, and it has no id (or the
        id column holds that very word)."""
        first = next((_text(c) for c in cells if _text(c)), "")
        if not _TOTAL.match(first):
            return False
        rid = self._raw_id(cells)
        return rid is None or rid == first

    def finish(self) -> None:
        """Add the note about total rows (call once the rows are read)."""
        if self.totals:
            self.notes.append(
                f"{self.where}: {len(self.totals)} total row(s) (合计/小计/总计) skipped, "
                "neither data nor rejected: " + _ranges(self.totals)
            )


def cell_converter(
    tdef: TypeDef, tmap: TypeMap | None, zone: tzinfo, excel_epoch: datetime | None = None
) -> Callable[[str, Any], Any] | None:
    """What a table's cells need before coercion: Excel serial numbers in date fields become
    dates (workbooks only), and with a map's ``date_order`` day/month/year text is read in
    that order. ``None`` when nothing is needed."""
    kinds = {f.name: f.kind for f in tdef.fields.values() if f.kind in ("date", "datetime")}
    order = tmap.date_order if tmap is not None else None
    if not kinds or (excel_epoch is None and order in (None, "ymd")):
        return None
    day_first = {"dmy": True, "mdy": False}.get(order or "")

    def convert(fname: str, cell: Any) -> Any:
        kind = kinds.get(fname)
        if kind is None:
            return cell
        if (
            excel_epoch is not None
            and isinstance(cell, (int, float))
            and not isinstance(cell, bool)
        ):
            if 1 <= cell < 2_958_466:
                moment = from_excel(cell, excel_epoch)
                return moment.date() if kind == "date" and moment.time() == dtime() else moment
            return cell
        if day_first is not None and isinstance(cell, str):
            try:
                if kind == "date":
                    return parse_date(cell, zone, day_first)
                return parse_datetime(cell, zone, day_first)
            except ValueError:
                return cell  # coercion rejects it with the reason
        return cell

    return convert


def from_excel(serial: float, epoch: datetime) -> datetime:
    """The moment an Excel serial number stands for (the 1900 system's phantom
    29 February 1900 accounted for, as Excel counts)."""
    if epoch.year == 1899 and serial < 60:
        serial += 1  # serials before 1 March 1900 are one day off in the 1900 system
    days = int(serial)
    seconds = round((serial - days) * 86400)
    return epoch + timedelta(days=days, seconds=seconds)


def _ranges(numbers: Iterable[int]) -> str:
    """``1, 2, 3, 7`` → ``rows 1–3, 7``."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(numbers):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}–{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        out.append(f"{run[0]}–{run[-1]}" if len(run) > 1 else str(run[0]))
    return "rows " + ", ".join(out[:20]) + (" …" if len(out) > 20 else "")
