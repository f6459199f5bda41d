"""The operator table: which operators exist, which field types they fit, what operand they
take. Declarations only; backends implement them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPERATORS", "Operator", "category"]

from hazard_rules.schema import FieldDef


@dataclass(frozen=True)
class Operator:
    name: str
    categories: frozenset[str]
    operand: str  # "scalar" | "list" | "pair" | "bool" | "regex" | "item"
    summary: str


def _op(name: str, cats: str, operand: str, summary: str) -> Operator:
    return Operator(name, frozenset(cats.split()), operand, summary)


OPERATORS: dict[str, Operator] = {
    o.name: o
    for o in (
        _op("eq", "string number date datetime bool enum period", "scalar", "equals"),
        _op("ne", "string number date datetime bool enum period", "scalar", "differs from"),
        _op("lt", "number date datetime", "scalar", "is less than"),
        _op("lte", "number date datetime", "scalar", "is at most"),
        _op("gt", "number date datetime", "scalar", "is greater than"),
        _op("gte", "number date datetime", "scalar", "is at least"),
        _op("between", "number date datetime", "pair", "lies in [lo, hi]"),
        _op("in", "string number enum period", "list", "is one of"),
        _op("not_in", "string number enum period", "list", "is none of"),
        _op("contains", "string list", "item", "contains"),
        _op("contains_any", "list", "list", "contains any of"),
        _op("contains_all", "list", "list", "contains all of"),
        _op("matches", "string", "regex", "matches the pattern"),
        _op("exists", "string number date datetime bool enum period list", "bool", "is present"),
    )
}


def category(fdef: FieldDef) -> str:
    """The operator category of a field: string, number, date, datetime, bool, enum, period, list."""
    if fdef.is_list:
        return "list"
    if fdef.kind in ("int", "float"):
        return "number"
    if fdef.kind in ("string", "ref"):
        return "string"
    return fdef.kind
