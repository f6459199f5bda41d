"""Column maps: how a ledger whose headers and values are neither field names nor labels
becomes records (``--map map.yaml``).

::

    types:
      hazard:                         # a record type of the loaded packs
        files: ["隐患排查治理台账*.xlsx"] # file names or glob patterns holding this type
        sheets: [隐患台账]              # sheet names holding this type
        header_row: 3                 # the header's row (1-based); default: found
        columns: {隐患编号: id, 所属单位编码: enterprise_id, 隐患级别: level}
        ignore: [备注, 企业编号]        # columns not to read (e.g. the second of two for one field)
        values:                       # source value → enum value (or true/false for a bool)
          level: {Ⅰ级: major, Ⅱ级: general}
        date_order: dmy               # read 5/6/2024 as 5 June 2024 (dmy) or May 6 (mdy)

Every key is checked when the map is loaded, against the schema of the loaded packs; errors
are located (``map.yaml:7:5: unknown_field: …``) and reported all at once.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hazard_rules._yaml import SourceMap, YamlError, load_yaml
from hazard_rules.errors import Diagnostic, InputError, MapError
from hazard_rules.schema import Schema, did_you_mean, value_key
from hazard_rules.source import display_path

__all__ = ["ColumnMap", "TypeMap", "load_column_map"]

_TYPE_KEYS = ("files", "sheets", "header_row", "columns", "ignore", "values", "date_order")
DATE_ORDERS = ("ymd", "dmy", "mdy")


@dataclass(frozen=True)
class TypeMap:
    """What a column map says about one record type."""

    type: str
    files: tuple[str, ...] = ()
    sheets: tuple[str, ...] = ()
    header_row: int | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    date_order: str | None = None


@dataclass(frozen=True)
class ColumnMap:
    """A loaded, validated column map (see the module docstring)."""

    path: str
    types: Mapping[str, TypeMap]

    def for_type(self, tname: str) -> TypeMap | None:
        """The map's entry for ``tname``, if any."""
        return self.types.get(tname)

    def type_of_file(self, name: str) -> str | None:
        """The type whose ``files`` patterns match the file name ``name``."""
        for t in self.types.values():
            if any(fnmatch.fnmatch(name, p) for p in t.files):
                return t.type
        return None

    def sheet_types(self) -> dict[str, str]:
        """Sheet name → type, from every entry's ``sheets``."""
        return {s: t.type for t in self.types.values() for s in t.sheets}


def load_column_map(path: str | os.PathLike[str], schema: Schema) -> ColumnMap:
    """Load and check a column map against ``schema``; :class:`MapError` lists every problem,
    :class:`InputError` when the file cannot be read."""
    p = Path(path)
    name = display_path(p)
    if not p.is_file():
        raise InputError(f"{name}: no such column map file")
    try:
        data, smap = load_yaml(p, name)
    except YamlError as exc:
        raise MapError(exc.diagnostics) from None
    check = _Checker(schema, smap)
    types = check.document(data)
    if check.diags:
        raise MapError(check.diags)
    return ColumnMap(name, types)


class _Checker:
    def __init__(self, schema: Schema, smap: SourceMap) -> None:
        self.schema = schema
        self.smap = smap
        self.diags: list[Diagnostic] = []

    def err(self, where: tuple[Any, ...], code: str, msg: str, *, key: bool = False) -> None:
        span = self.smap.key_span(where) if key else self.smap.span(where)
        self.diags.append(Diagnostic(span, code, msg))

    def document(self, data: Any) -> dict[str, TypeMap]:
        if not isinstance(data, dict) or "types" not in data:
            self.err((), "invalid_map", "a column map is a mapping with `types`")
            return {}
        for key in data:
            if key != "types":
                self.err((key,), "unknown_key", f"unknown key {key!r}", key=True)
        types = data["types"]
        if not isinstance(types, dict):
            self.err(("types",), "invalid_map", "`types` maps record types to their columns")
            return {}
        out = {}
        for tname, doc in types.items():
            where = ("types", tname)
            if tname not in self.schema.types:
                hint = did_you_mean(str(tname), self.schema.types)
                self.err(where, "unknown_type", f"unknown record type {tname!r}{hint}", key=True)
                continue
            if not isinstance(doc, dict):
                self.err(where, "invalid_map", f"{tname}: give a mapping of map keys")
                continue
            out[tname] = self.type_map(str(tname), doc, where)
        return out

    def _strings(self, doc: dict[str, Any], key: str, where: tuple[Any, ...]) -> tuple[str, ...]:
        raw = doc.get(key, [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            self.err((*where, key), "invalid_map", f"`{key}` is a list of names")
            return ()
        return tuple(raw)

    def type_map(self, tname: str, doc: dict[str, Any], where: tuple[Any, ...]) -> TypeMap:
        tdef = self.schema.types[tname]
        for key in doc:
            if key not in _TYPE_KEYS:
                hint = did_you_mean(str(key), _TYPE_KEYS)
                self.err((*where, key), "unknown_key", f"unknown key {key!r}{hint}", key=True)
        header_row = doc.get("header_row")
        if header_row is not None and (
            not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1
        ):
            self.err((*where, "header_row"), "invalid_map", "`header_row` is a row number ≥ 1")
            header_row = None
        columns: dict[str, str] = {}
        raw_cols = doc.get("columns") or {}
        if not isinstance(raw_cols, dict):
            self.err((*where, "columns"), "invalid_map", "`columns` maps source headers to fields")
            raw_cols = {}
        first: dict[str, str] = {}
        for header, fname in raw_cols.items():
            at = (*where, "columns", header)
            if not isinstance(fname, str) or fname not in tdef.fields:
                hint = did_you_mean(str(fname), tdef.fields)
                self.err(at, "unknown_field", f"{tname} has no field {fname!r}{hint}")
                continue
            if fname in first:
                self.err(
                    at,
                    "duplicate_column",
                    f"columns {first[fname]!r} and {header!r} are both mapped to {fname}; "
                    "map one and list the other under `ignore`",
                )
                continue
            first[fname] = str(header)
            columns[str(header)] = fname
        values: dict[str, dict[str, Any]] = {}
        raw_vals = doc.get("values") or {}
        if not isinstance(raw_vals, dict):
            self.err((*where, "values"), "invalid_map", "`values` maps fields to value maps")
            raw_vals = {}
        for fname, vmap in raw_vals.items():
            at = (*where, "values", fname)
            fdef = tdef.fields.get(str(fname))
            if fdef is None:
                hint = did_you_mean(str(fname), tdef.fields)
                self.err(at, "unknown_field", f"{tname} has no field {fname!r}{hint}", key=True)
                continue
            if fdef.kind not in ("enum", "list[enum]", "bool"):
                self.err(
                    at,
                    "invalid_map",
                    f"{tname}.{fname} is {fdef.kind}: value maps are for enum and bool fields",
                    key=True,
                )
                continue
            if not isinstance(vmap, dict):
                self.err(at, "invalid_map", "give a mapping of source value → value")
                continue
            out: dict[str, Any] = {}
            for src, dst in vmap.items():
                vat = (*at, src)
                if fdef.kind == "bool":
                    if not isinstance(dst, bool):
                        self.err(vat, "unknown_value", f"{fname} is a bool: map to true or false")
                        continue
                elif dst not in fdef.values:
                    hint = did_you_mean(str(dst), fdef.values)
                    self.err(
                        vat,
                        "unknown_value",
                        f"{dst!r} is not a value of {tname}.{fname} ({fdef.show_values()}){hint}",
                    )
                    continue
                out[str(src)] = dst
            values[str(fname)] = out
        date_order = doc.get("date_order")
        if date_order is not None and date_order not in DATE_ORDERS:
            self.err(
                (*where, "date_order"),
                "invalid_map",
                f"`date_order` is one of {', '.join(DATE_ORDERS)}",
            )
            date_order = None
        ignore = self._strings(doc, "ignore", where)
        clash = {value_key(h) for h in ignore} & {value_key(h) for h in columns}
        for h in sorted(clash):
            self.err((*where, "ignore"), "invalid_map", f"column {h!r} is both mapped and ignored")
        return TypeMap(
            type=tname,
            files=self._strings(doc, "files", where),
            sheets=self._strings(doc, "sheets", where),
            header_row=header_row,
            columns=columns,
            ignore=ignore,
            values=values,
            date_order=date_order,
        )
