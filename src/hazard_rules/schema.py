"""Record schema: types and typed fields, built from the packs' schema files.

The schema is frozen once loaded. :func:`build_schema` merges the schema documents of every
pack in load order (a pack may add types and add fields to inherited types) and reports every
problem as a :class:`~hazard_rules.errors.Diagnostic`. Coercion of record values lives in
:mod:`hazard_rules.facts.coerce`; JSON Schema export in :func:`json_schema`.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hazard_rules._yaml import SourceMap
from hazard_rules.errors import Diagnostic
from hazard_rules.source import SourceSpan

__all__ = [
    "FieldDef",
    "Schema",
    "TypeDef",
    "build_schema",
    "did_you_mean",
    "json_schema",
    "record_json_schema",
    "value_key",
]

SCALAR_KINDS = ("string", "int", "float", "bool", "date", "datetime", "period", "enum")
LIST_KINDS = ("list[string]", "list[enum]")
KINDS = (*SCALAR_KINDS, *LIST_KINDS, "ref")
_FIELD_KEYS = {"type", "values", "ref", "optional", "label", "doc"}
_TYPE_KEYS = {"label", "date", "fields", "doc"}
_VALUE_KEYS = {"label", "aliases", "doc"}


def _is_value_name(v: object) -> bool:
    return isinstance(v, str) and bool(v) and v == v.strip()


def value_key(text: str) -> str:
    """How an enum value written by a person is compared with a declared value, label or
    alias: Unicode-normalised (full-width letters and digits become ASCII), trimmed,
    case-folded and with inner spaces removed — ``" Ｍａｊｏｒ "`` and ``"major"`` match."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class FieldDef:
    """One typed field of a record type."""

    name: str
    kind: str  # one of KINDS
    optional: bool = False
    values: tuple[str, ...] = ()
    ref: str | None = None
    label: str | None = None
    doc: str | None = None
    span: SourceSpan = field(default=SourceSpan("<builtin>"), compare=False)
    # enum value → its Chinese label; alias (as :func:`value_key` folds it) → value
    value_labels: Mapping[str, str] = field(default_factory=dict, compare=False)
    aliases: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def is_list(self) -> bool:
        return self.kind in LIST_KINDS

    @property
    def base(self) -> str:
        """The comparison family: ``number``, ``text``, ``date``, ``datetime`` … (refs are text)."""
        if self.kind in ("int", "float"):
            return "number"
        if self.kind in ("ref", "string"):
            return "string"
        if self.kind.startswith("list["):
            return self.kind[5:-1]
        return self.kind

    def describe(self) -> str:
        kind = f"ref → {self.ref}" if self.kind == "ref" else self.kind
        return kind + ("?" if self.optional else "")

    def lookup(self) -> dict[str, str]:
        """Every accepted spelling of this enum's values (value, label, alias; folded by
        :func:`value_key`) → the value."""
        out = {value_key(v): v for v in self.values}
        for v, lab in self.value_labels.items():
            out.setdefault(value_key(lab), v)
        for alias, v in self.aliases.items():
            out.setdefault(alias, v)
        return out

    def show_values(self) -> str:
        """The values with their labels, for messages: ``general（一般事故隐患）, major（…）``."""
        return ", ".join(
            f"{v}（{self.value_labels[v]}）" if v in self.value_labels else v for v in self.values
        )


@dataclass(frozen=True)
class TypeDef:
    """A record type: its fields (``id`` included) and the field holding its own date."""

    name: str
    fields: Mapping[str, FieldDef]
    label: str | None = None
    date_field: str | None = None
    doc: str | None = None

    def ref_fields_to(self, target: str) -> list[str]:
        """Names of this type's reference fields that point to ``target``."""
        return [f.name for f in self.fields.values() if f.kind == "ref" and f.ref == target]


@dataclass(frozen=True)
class Schema:
    """All record types of the loaded packs; ``order`` lists referenced types first."""

    types: Mapping[str, TypeDef]
    order: tuple[str, ...]
    timezone: str = "Asia/Shanghai"

    def __contains__(self, name: object) -> bool:
        return name in self.types

    def __getitem__(self, name: str) -> TypeDef:
        return self.types[name]


def _shape(f: FieldDef) -> tuple[object, ...]:
    return (f.kind, f.optional, f.values, f.ref)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean …?)' hint, or ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_ID = FieldDef("id", "string", label="编号")


class _Builder:
    def __init__(self) -> None:
        self.types: dict[str, dict[str, FieldDef]] = {}
        self.meta: dict[str, dict[str, Any]] = {}
        self.diags: list[Diagnostic] = []

    def err(self, span: SourceSpan, code: str, msg: str) -> None:
        self.diags.append(Diagnostic(span, code, msg))

    def add_document(self, data: Any, smap: SourceMap) -> None:
        if data is None:
            return
        if not isinstance(data, dict) or set(data) - {"types"}:
            extra = set(data) - {"types"} if isinstance(data, dict) else set()
            for key in sorted(extra):
                self.err(smap.key_span((key,)), "unknown_key", f"unknown key {key!r} in schema")
            if not isinstance(data, dict):
                self.err(smap.span(()), "invalid_schema", "a schema file is a mapping with `types`")
            return
        types = data.get("types") or {}
        if not isinstance(types, dict):
            self.err(smap.span(("types",)), "invalid_schema", "`types` must be a mapping")
            return
        for tname, tdoc in types.items():
            self._add_type(tname, tdoc, smap)

    def _add_type(self, tname: str, tdoc: Any, smap: SourceMap) -> None:
        where = ("types", tname)
        if not isinstance(tdoc, dict):
            self.err(smap.span(where), "invalid_schema", f"type {tname!r} must be a mapping")
            return
        for key in tdoc:
            if key not in _TYPE_KEYS:
                hint = did_you_mean(key, _TYPE_KEYS)
                self.err(smap.key_span((*where, key)), "unknown_key", f"unknown key {key!r}{hint}")
        fields = self.types.setdefault(tname, {"id": _ID})
        meta = self.meta.setdefault(tname, {})
        for key in ("label", "date", "doc"):
            if key in tdoc and not isinstance(tdoc[key], str):
                self.err(smap.span((*where, key)), "invalid_schema", f"a type's `{key}` is text")
            elif key in tdoc:
                if key in meta and meta[key][0] != tdoc[key]:
                    self.err(
                        smap.span((*where, key)),
                        "duplicate_field",
                        f"type {tname!r} already has {key} {meta[key][0]!r}",
                    )
                else:
                    meta[key] = (tdoc[key], smap.span((*where, key)))
        fdocs = tdoc.get("fields") or {}
        if not isinstance(fdocs, dict):
            self.err(smap.span((*where, "fields")), "invalid_schema", "`fields` must be a mapping")
            return
        for fname, fdoc in fdocs.items():
            fdef = self._field(fname, fdoc, (*where, "fields", fname), smap)
            if fdef is None:
                continue
            old = fields.get(fname)
            if old is not None and _shape(old) != _shape(fdef):
                self.err(
                    smap.key_span((*where, "fields", fname)),
                    "duplicate_field",
                    f"field {tname}.{fname} is already declared as {old.describe()} at {old.span}",
                )
                continue
            if old is not None:
                fields[fname] = self._merge_values(old, fdef)
            else:
                fields[fname] = fdef

    def _merge_values(self, old: FieldDef, new: FieldDef) -> FieldDef:
        """An identical re-declaration may add labels and aliases to an enum's values."""
        if not (new.value_labels or new.aliases):
            return old
        labels = dict(old.value_labels)
        for v, lab in new.value_labels.items():
            if labels.get(v, lab) != lab:
                self.err(
                    new.span,
                    "duplicate_field",
                    f"value {v!r} of {new.name} is already labelled {labels[v]!r} at {old.span}",
                )
            labels.setdefault(v, lab)
        aliases = dict(old.aliases)
        for alias, v in new.aliases.items():
            if aliases.get(alias, v) != v:
                self.err(
                    new.span,
                    "ambiguous_enum_alias",
                    f"alias {alias!r} of {new.name} already stands for {aliases[alias]!r}",
                )
            aliases.setdefault(alias, v)
        return replace(old, value_labels=labels, aliases=aliases)

    def _field(
        self, name: str, doc: Any, where: tuple[Any, ...], smap: SourceMap
    ) -> FieldDef | None:
        span = smap.key_span(where)
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            self.err(span, "invalid_field_name", f"field name {name!r} must be an identifier")
            return None
        if isinstance(doc, str):
            doc = {"type": doc}
        if not isinstance(doc, dict):
            self.err(smap.span(where), "invalid_field", f"field {name!r}: give a type or a mapping")
            return None
        for key in doc:
            if key not in _FIELD_KEYS:
                hint = did_you_mean(key, _FIELD_KEYS)
                self.err(smap.key_span((*where, key)), "unknown_key", f"unknown key {key!r}{hint}")
        for key in ("label", "doc"):
            if isinstance(doc.get(key), (dict, list)):
                self.err(
                    smap.span((*where, key)), "invalid_field", f"field {name!r}: `{key}` is text"
                )
                return None
        optional = bool(doc.get("optional", False))
        if "ref" in doc:
            kind = "ref"
            ref = doc["ref"]
            if "type" in doc:
                self.err(span, "invalid_field", f"field {name!r}: give `ref` or `type`, not both")
        else:
            ref = None
            kind = str(doc.get("type", ""))
            if kind.endswith("?"):
                kind, optional = kind[:-1], True
            if kind not in KINDS or kind == "ref":
                hint = did_you_mean(kind, KINDS)
                self.err(
                    smap.span((*where, "type")) if "type" in doc else span,
                    "unknown_field_type",
                    f"field {name!r}: unknown type {kind!r}{hint}",
                )
                return None
        values: tuple[str, ...] = ()
        labels: dict[str, str] = {}
        aliases: dict[str, str] = {}
        if kind in ("enum", "list[enum]"):
            parsed = self._values(name, doc.get("values"), (*where, "values"), smap)
            if parsed is None:
                return None
            values, labels, aliases = parsed
        elif "values" in doc:
            self.err(smap.key_span((*where, "values")), "invalid_field", "`values` is for enums")
        return FieldDef(
            name=name,
            kind=kind,
            optional=optional,
            values=values,
            ref=str(ref) if ref is not None else None,
            label=str(doc["label"]) if doc.get("label") is not None else None,
            doc=str(doc["doc"]) if doc.get("doc") is not None else None,
            span=span,
            value_labels=labels,
            aliases=aliases,
        )

    def _values(
        self, name: str, raw: Any, where: tuple[Any, ...], smap: SourceMap
    ) -> tuple[tuple[str, ...], dict[str, str], dict[str, str]] | None:
        """An enum's ``values``: a list of names, or a mapping of name → label or
        ``{label, aliases, doc}``. Returns (values, labels, folded alias → value)."""
        if isinstance(raw, list) and raw:
            values = tuple(str(v) for v in raw)
            if len(set(values)) != len(values):
                self.err(smap.span(where), "invalid_field", "enum values repeat")
            for i, v in enumerate(raw):
                if not _is_value_name(v):
                    self.err(
                        smap.span((*where, i)),
                        "invalid_enum_value",
                        f"enum value {v!r} of {name!r} must be text without surrounding spaces "
                        "(quote yes, no, numbers and dates)",
                    )
            return values, {}, {}
        if not isinstance(raw, dict) or not raw:
            self.err(
                smap.span(where) if raw is not None else smap.key_span(where[:-1]),
                "invalid_field",
                f"field {name!r}: an enum needs `values`, a list of names or a mapping of "
                "name → label",
            )
            return None
        labels: dict[str, str] = {}
        aliases: dict[str, str] = {}
        spelled: dict[str, str] = {}  # folded spelling → the value it stands for
        for v in raw:
            if not _is_value_name(v):
                self.err(
                    smap.key_span((*where, v)),
                    "invalid_enum_value",
                    f"enum value {v!r} of {name!r} must be text without surrounding spaces "
                    "(quote yes, no, numbers and dates)",
                )
            spelled[value_key(str(v))] = str(v)
        for v, spec in raw.items():
            value = str(v)
            at = (*where, v)
            if isinstance(spec, str):
                spec = {"label": spec}
            elif spec is None:
                spec = {}
            if not isinstance(spec, dict):
                self.err(
                    smap.span(at),
                    "invalid_field",
                    f"value {value!r}: give a label or a mapping with label, aliases",
                )
                continue
            for key in spec:
                if key not in _VALUE_KEYS:
                    hint = did_you_mean(str(key), _VALUE_KEYS)
                    self.err(smap.key_span((*at, key)), "unknown_key", f"unknown key {key!r}{hint}")
            words: list[tuple[str, tuple[Any, ...]]] = []
            if spec.get("label") is not None:
                labels[value] = str(spec["label"]).strip()
                words.append((labels[value], (*at, "label")))
            raw_aliases = spec.get("aliases") or []
            if not isinstance(raw_aliases, list):
                self.err(smap.span((*at, "aliases")), "invalid_field", "`aliases` is a list")
                raw_aliases = []
            for i, a in enumerate(raw_aliases):
                words.append((str(a), (*at, "aliases", i)))
            for word, wat in words:
                key = value_key(word)
                other = spelled.get(key)
                if other is not None and other != value:
                    self.err(
                        smap.span(wat),
                        "ambiguous_enum_alias",
                        f"{word!r} would stand for both {other!r} and {value!r}",
                    )
                    continue
                spelled[key] = value
                if not (word == labels.get(value) or key == value_key(value)):
                    aliases[key] = value
        return tuple(str(v) for v in raw), labels, aliases

    def finish(self, timezone: str) -> Schema:
        types: dict[str, TypeDef] = {}
        for tname, fields in self.types.items():
            meta = self.meta.get(tname, {})
            for f in fields.values():
                if f.kind == "ref" and f.ref not in self.types:
                    hint = did_you_mean(f.ref or "", self.types)
                    self.err(
                        f.span,
                        "unknown_type",
                        f"{tname}.{f.name} refers to unknown type {f.ref!r}{hint}",
                    )
            date_field = None
            if "date" in meta:
                date_field, span = meta["date"]
                fdef = fields.get(date_field)
                if fdef is None or fdef.kind not in ("date", "datetime"):
                    self.err(
                        span, "invalid_schema", f"type {tname!r}: `date` must name a date field"
                    )
                    date_field = None
            types[tname] = TypeDef(
                name=tname,
                fields=dict(fields),
                label=meta.get("label", (None,))[0],
                date_field=date_field,
                doc=meta.get("doc", (None,))[0],
            )
        order = self._order(types)
        return Schema(types=types, order=order, timezone=timezone)

    def _order(self, types: dict[str, TypeDef]) -> tuple[str, ...]:
        """Types with every referenced type first. A type that refers to itself, or a cycle
        of references, is refused at the field that closes it: records are checked against
        the records accepted before them, so such references would make a result depend on
        the order of the rows."""
        done: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            state[name] = 1
            for f in types[name].fields.values():
                if f.kind != "ref" or f.ref not in types:
                    continue
                if f.ref == name:
                    self.err(
                        f.span,
                        "reference_cycle",
                        f"{name}.{f.name} refers to its own type {name}: a record type cannot "
                        "refer to itself (keep the id as a string field instead)",
                    )
                elif state.get(f.ref) == 1:
                    cycle = " → ".join((*trail, name, f.ref or ""))
                    self.err(
                        f.span,
                        "reference_cycle",
                        f"{name}.{f.name} closes a cycle of references: {cycle}",
                    )
                else:
                    visit(f.ref or "", (*trail, name))
            state[name] = 2
            done.append(name)

        for name in sorted(types):
            visit(name, ())
        return tuple(done)


def build_schema(
    documents: Iterable[tuple[Any, SourceMap]], timezone: str = "Asia/Shanghai"
) -> tuple[Schema, list[Diagnostic]]:
    """Merge schema documents (in load order) into a :class:`Schema` and its diagnostics."""
    builder = _Builder()
    for data, smap in documents:
        builder.add_document(data, smap)
    schema = builder.finish(timezone)
    return schema, builder.diags


def record_json_schema(packs: Any) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the records the packs read — what a system in
    another language produces for ``evaluate`` or an export — from a
    :class:`~hazard_rules.packs.PackSet` or its :class:`Schema`. The same document as
    ``hazard-rules schema --json-schema``."""
    schema = packs if isinstance(packs, Schema) else packs.schema
    if not isinstance(schema, Schema):
        raise TypeError(
            f"record_json_schema takes a PackSet or a Schema, not {type(packs).__name__}"
        )
    return json_schema(schema)


def json_schema(schema: Schema) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a fact set: one definition per record type."""
    defs: dict[str, Any] = {}
    fmt = {"date": "date", "datetime": "date-time"}
    for t in schema.types.values():
        props: dict[str, Any] = {}
        required = []
        for f in t.fields.values():
            if f.kind in ("int",):
                p: dict[str, Any] = {"type": "integer"}
            elif f.kind == "float":
                p = {"type": "number"}
            elif f.kind == "bool":
                p = {"type": "boolean"}
            elif f.kind == "enum":
                p = {"type": "string", "enum": list(f.values)}
            elif f.kind == "list[enum]":
                p = {"type": "array", "items": {"type": "string", "enum": list(f.values)}}
            elif f.kind == "list[string]":
                p = {"type": "array", "items": {"type": "string"}}
            elif f.kind == "period":
                p = {"type": ["string", "integer"], "pattern": r"^\d{4}(-(\d{2}|Q[1-4]|H[12]))?$"}
            else:
                p = {"type": "string"}
                if f.kind in fmt:
                    p["format"] = fmt[f.kind]
            if f.value_labels:
                p["x-enum-labels"] = dict(f.value_labels)
            if f.kind == "ref":
                p["description"] = f"id of a {f.ref} record"
            if f.label:
                p["title"] = f.label
            if f.doc:
                p["description"] = f.doc
            if f.optional:
                p = {"anyOf": [p, {"type": "null"}], **{k: p[k] for k in ("title",) if k in p}}
            else:
                required.append(f.name)
            props[f.name] = p
        defs[t.name] = {
            "type": "object",
            "title": t.label or t.name,
            "properties": props,
            "required": required,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "hazard-rules fact set",
        "type": "object",
        "properties": {
            name: {"type": "array", "items": {"$ref": f"#/$defs/{name}"}} for name in defs
        },
        "additionalProperties": False,
        "$defs": defs,
    }
