"""Lowering of condition documents (SPEC §3.2) to the typed condition IR, with diagnostics.

Every field path is resolved against the schema, every operator checked against the field's
type, every literal coerced to that type; all problems are collected, none stops the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, tzinfo
from typing import Any

from hazard_rules._yaml import Path_, SourceMap
from hazard_rules.errors import Diagnostic
from hazard_rules.ir import (
    AllOf,
    AnyOf,
    AtLeast,
    Compute,
    Computed,
    Condition,
    Const,
    FieldPath,
    FieldRef,
    Leaf,
    NotOf,
    Operand,
    RefStep,
)
from hazard_rules.operators import OPERATORS, category
from hazard_rules.periods import parse_date, parse_datetime, parse_period
from hazard_rules.regex import RegexError, compile_regex
from hazard_rules.schema import FieldDef, Schema, did_you_mean

__all__ = ["MAX_DEPTH", "MAX_ITEMS", "ConditionLowerer"]

_COMBINATORS = ("all", "any", "not", "at_least")


# Limits of the language (docs/rule-format.md): anything lint accepts, every evaluator runs.
MAX_DEPTH = 32  # nested all/any/not/at_least
MAX_ITEMS = 256  # conditions in one all/any/at_least list


class _Bad(Exception):
    """A problem already reported; abandon this node."""


class ConditionLowerer:
    """Lowers conditions of one file; collects diagnostics in ``diags``."""

    def __init__(
        self,
        schema: Schema,
        lists: Mapping[str, tuple[Any, ...]],
        smap: SourceMap,
        zone: tzinfo,
        diags: list[Diagnostic],
    ) -> None:
        self.schema = schema
        self.lists = lists
        self.smap = smap
        self.zone = zone
        self.diags = diags
        # the computed amounts a `{computed: NAME}` operand may name (a check's `compute`)
        self.computes: Mapping[str, Compute] = {}

    def err(self, where: Path_, code: str, msg: str, *, key: bool = False) -> None:
        span = self.smap.key_span(where) if key else self.smap.span(where)
        self.diags.append(Diagnostic(span, code, msg))

    # -- paths -----------------------------------------------------------------------------

    def path(self, root: str, text: str, where: Path_) -> FieldPath | None:
        """Resolve ``a.b.c`` from type ``root``; reports ``unknown_field`` when impossible."""
        tname = root
        steps: list[RefStep] = []
        parts = str(text).split(".")
        for i, part in enumerate(parts):
            tdef = self.schema.types[tname]
            if i == len(parts) - 1:
                fdef = tdef.fields.get(part)
                if fdef is None:
                    hint = did_you_mean(part, tdef.fields)
                    self.err(
                        where, "unknown_field", f"{tname} has no field {part!r}{hint}", key=True
                    )
                    return None
                return FieldPath(root, tuple(steps), fdef, str(text))
            ref = tdef.fields.get(part)
            if ref is None or ref.kind != "ref":
                ref = tdef.fields.get(part + "_id")
            if ref is None or ref.kind != "ref" or ref.ref is None:
                refs = [
                    f.name[:-3] if f.name.endswith("_id") else f.name
                    for f in tdef.fields.values()
                    if f.kind == "ref"
                ]
                hint = did_you_mean(part, refs)
                self.err(
                    where,
                    "unknown_field",
                    f"{tname} has no reference {part!r} to follow in {text!r}{hint}",
                    key=True,
                )
                return None
            steps.append(RefStep(ref.name, ref.ref))
            tname = ref.ref
        return None  # pragma: no cover - loop always returns

    # -- conditions ------------------------------------------------------------------------

    def lower(self, root: str, doc: Any, where: Path_) -> Condition | None:
        """Lower one condition mapping on records of type ``root``; None after errors."""
        try:
            return self._cond(root, doc, where)
        except _Bad:
            return None

    def _cond(self, root: str, doc: Any, where: Path_) -> Condition:
        span = self.smap.span(where)
        depth = sum(1 for w in where if w in _COMBINATORS)
        if depth > MAX_DEPTH:
            self.err(
                where,
                "condition_too_deep",
                f"conditions nest more than {MAX_DEPTH} levels of all/any/not/at_least; "
                "flatten them (all of all is all)",
            )
            raise _Bad
        if not isinstance(doc, dict):
            self.err(
                where,
                "invalid_condition",
                "a condition is a mapping of fields to values or operators",
            )
            raise _Bad
        items: list[Condition] = []
        bad = False
        for key, value in doc.items():
            child = (*where, key)
            try:
                if key == "all" or key == "any":
                    seq = value if isinstance(value, list) else None
                    if seq is None:
                        self.err(child, "invalid_condition", f"`{key}` takes a list of conditions")
                        raise _Bad
                    self._width(seq, child)
                    subs = tuple(self._cond_safe(root, v, (*child, i)) for i, v in enumerate(seq))
                    if any(s is None for s in subs):
                        raise _Bad
                    real = tuple(s for s in subs if s is not None)
                    items.append(AllOf(real, span) if key == "all" else AnyOf(real, span))
                elif key == "not":
                    items.append(NotOf(self._cond(root, value, child), span))
                elif key == "at_least":
                    items.append(self._at_least(root, value, child))
                else:
                    items.extend(self._field(root, str(key), value, child))
            except _Bad:
                bad = True
        if bad:
            raise _Bad
        if len(items) == 1:
            return items[0]
        return AllOf(tuple(items), span)

    def _width(self, items: list[Any], where: Path_) -> None:
        if len(items) > MAX_ITEMS:
            self.err(
                where,
                "condition_too_wide",
                f"{len(items)} conditions in one list; at most {MAX_ITEMS} (use a named list "
                "and `in: {list: NAME}` for long lists of values)",
            )
            raise _Bad

    def _cond_safe(self, root: str, doc: Any, where: Path_) -> Condition | None:
        try:
            return self._cond(root, doc, where)
        except _Bad:
            return None

    def _at_least(self, root: str, value: Any, where: Path_) -> Condition:
        if not isinstance(value, dict) or set(value) != {"n", "of"}:
            self.err(where, "invalid_condition", "`at_least` takes {n: N, of: [conditions]}")
            raise _Bad
        n, of = value["n"], value["of"]
        if not isinstance(of, list) or not of:
            self.err((*where, "of"), "invalid_condition", "`of` takes a list of conditions")
            raise _Bad
        self._width(of, (*where, "of"))
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= len(of):
            self.err(
                (*where, "n"), "invalid_condition", f"`n` must be an integer from 0 to {len(of)}"
            )
            raise _Bad
        subs = tuple(self._cond_safe(root, v, (*where, "of", i)) for i, v in enumerate(of))
        if any(s is None for s in subs):
            raise _Bad
        return AtLeast(n, tuple(s for s in subs if s is not None), self.smap.span(where))

    def _field(self, root: str, key: str, value: Any, where: Path_) -> list[Condition]:
        path = self.path(root, key, where)
        if path is None:
            raise _Bad
        if isinstance(value, dict) and set(value) == {"ref"}:
            value = {"eq": value}
        if not isinstance(value, dict):
            if value is None:
                self.err(
                    where, "invalid_condition", f"{key}: null is not a value; use `exists: false`"
                )
                raise _Bad
            if path.field.is_list:
                self.err(
                    where,
                    "operator_type_mismatch",
                    f"{key} is a list: compare it with contains, contains_any or contains_all",
                )
                raise _Bad
            value = {"eq": value}
        out: list[Condition] = []
        bad = False
        for op, operand in value.items():
            try:
                out.append(self._leaf(root, path, str(op), operand, (*where, op)))
            except _Bad:
                bad = True
        if bad:
            raise _Bad
        return out

    def _leaf(self, root: str, path: FieldPath, op: str, raw: Any, where: Path_) -> Leaf:
        spec = OPERATORS.get(op)
        if spec is None:
            hint = did_you_mean(op, OPERATORS)
            self.err(where, "unknown_operator", f"unknown operator {op!r}{hint}", key=True)
            raise _Bad
        cat = category(path.field)
        if cat not in spec.categories:
            fits = ", ".join(o.name for o in OPERATORS.values() if cat in o.categories)
            self.err(
                where,
                "operator_type_mismatch",
                f"{op} does not fit {path.text} ({path.field.describe()}); use one of: {fits}",
                key=True,
            )
            raise _Bad
        span = self.smap.key_span(where)
        operand = self._operand(root, path, spec.operand, op, raw, where)
        return Leaf(path, op, operand, span)

    def _operand(
        self, root: str, path: FieldPath, shape: str, op: str, raw: Any, where: Path_
    ) -> Operand:
        fdef = path.field
        if isinstance(raw, dict) and set(raw) == {"computed"}:
            name = str(raw["computed"])
            compute = self.computes.get(name)
            if compute is None:
                hint = did_you_mean(name, self.computes)
                where_from = "this check's `compute`" if self.computes else "a check's `compute`"
                self.err(
                    where, "invalid_operand", f"no computed amount {name!r} in {where_from}{hint}"
                )
                raise _Bad
            if shape != "scalar" or fdef.kind not in ("int", "float"):
                self.err(
                    where,
                    "operand_type_mismatch",
                    f"a computed amount is a number: {path.text} ({fdef.describe()}) {op} cannot "
                    "take it",
                )
                raise _Bad
            return Computed(compute)
        if isinstance(raw, dict) and set(raw) == {"ref"}:
            if shape not in ("scalar", "item"):
                self.err(where, "invalid_operand", f"{op} cannot take a field reference")
                raise _Bad
            other = self.path(root, str(raw["ref"]), (*where, "ref"))
            if other is None:
                raise _Bad
            mine = _item_def(fdef) if shape == "item" else fdef
            if not _comparable(mine, other.field):
                self.err(
                    where,
                    "operand_type_mismatch",
                    f"cannot compare {path.text} ({fdef.describe()}) with {other.text} "
                    f"({other.field.describe()})",
                )
                raise _Bad
            return FieldRef(other)
        if isinstance(raw, dict) and set(raw) == {"list"}:
            if shape != "list":
                self.err(where, "invalid_operand", f"{op} cannot take a named list")
                raise _Bad
            name = str(raw["list"])
            if name not in self.lists:
                hint = did_you_mean(name, self.lists)
                self.err(where, "unknown_list", f"no list named {name!r} in the loaded packs{hint}")
                raise _Bad
            raw = list(self.lists[name])
        if shape == "bool":
            if not isinstance(raw, bool):
                self.err(where, "invalid_operand", "exists takes true or false")
                raise _Bad
            return Const(raw)
        if shape == "regex":
            if not isinstance(raw, str):
                self.err(where, "invalid_regex", "matches takes a regular expression (text)")
                raise _Bad
            try:
                return Const(compile_regex(raw))
            except RegexError as exc:
                shown = raw if len(raw) <= 80 else raw[:77] + "…"
                self.err(where, "invalid_regex", f"invalid regular expression {shown!r}: {exc}")
                raise _Bad from None
        if shape == "pair":
            if not isinstance(raw, list) or len(raw) != 2:
                self.err(where, "invalid_operand", "between takes [low, high]")
                raise _Bad
            lo = self._literal(fdef, raw[0], (*where, 0))
            hi = self._literal(fdef, raw[1], (*where, 1))
            if lo > hi:
                self.err(where, "invalid_operand", f"between: {raw[0]} is greater than {raw[1]}")
                raise _Bad
            return Const((lo, hi))
        item = _item_def(fdef)
        if shape == "list":
            if not isinstance(raw, list) or not raw:
                self.err(where, "invalid_operand", f"{op} takes a non-empty list")
                raise _Bad
            values = [self._literal_safe(item, v, (*where, i)) for i, v in enumerate(raw)]
            if any(v is _BAD for v in values):
                raise _Bad
            return Const(tuple(dict.fromkeys(values)))
        if shape == "item":
            if isinstance(raw, list):
                self.err(
                    where, "invalid_operand", f"{op} takes one value; use contains_any/contains_all"
                )
                raise _Bad
            return Const(self._literal(item if fdef.is_list else fdef, raw, where))
        return Const(self._literal(fdef, raw, where))

    def _literal_safe(self, fdef: FieldDef, raw: Any, where: Path_) -> Any:
        try:
            return self._literal(fdef, raw, where)
        except _Bad:
            return _BAD

    def _literal(self, fdef: FieldDef, raw: Any, where: Path_) -> Any:
        """Coerce a literal from a rule file to ``fdef``'s type, or report why not."""
        kind = fdef.kind
        name = fdef.name
        if kind in ("string", "ref"):
            if isinstance(raw, str):
                return raw
        elif kind == "enum":
            if isinstance(raw, str):
                if raw not in fdef.values:
                    hint = did_you_mean(raw, fdef.values)
                    self.err(
                        where,
                        "unknown_enum_value",
                        f"{raw!r} is not a value of {name} ({', '.join(fdef.values)}){hint}",
                    )
                    raise _Bad
                return raw
        elif kind in ("int", "float"):
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                return raw
        elif kind == "bool":
            if isinstance(raw, bool):
                return raw
        elif kind == "date":
            if isinstance(raw, datetime):
                return raw.date()
            if isinstance(raw, date):
                return raw
            if isinstance(raw, str):
                try:
                    return parse_date(raw, self.zone)
                except ValueError:
                    self.err(where, "malformed_date", f"{raw!r} is not a valid date (YYYY-MM-DD)")
                    raise _Bad from None
        elif kind == "datetime":
            if isinstance(raw, datetime):
                return raw if raw.tzinfo else raw.replace(tzinfo=self.zone)
            if isinstance(raw, date):
                return datetime.combine(raw, time(), self.zone)
            if isinstance(raw, str):
                try:
                    return parse_datetime(raw, self.zone)
                except ValueError:
                    self.err(where, "malformed_date", f"{raw!r} is not a valid datetime")
                    raise _Bad from None
        elif kind == "period" and not isinstance(raw, bool) and isinstance(raw, (str, int)):
            try:
                return parse_period(raw)
            except ValueError as exc:
                self.err(where, "malformed_period", str(exc))
                raise _Bad from None
        self.err(
            where,
            "operand_type_mismatch",
            f"{raw!r} ({type(raw).__name__}) cannot be compared with {name} ({fdef.describe()})",
        )
        raise _Bad


_BAD = object()


def _item_def(fdef: FieldDef) -> FieldDef:
    if fdef.kind == "list[enum]":
        return FieldDef(fdef.name, "enum", values=fdef.values)
    if fdef.kind == "list[string]":
        return FieldDef(fdef.name, "string")
    return fdef


def _family(f: FieldDef) -> str:
    c = category(f)
    return "text" if c in ("string", "enum") else c


def _comparable(a: FieldDef, b: FieldDef) -> bool:
    return _family(a) == _family(b)
