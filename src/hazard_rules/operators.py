"""The operator table (SPEC §3.2): every operator's name, the field types it fits, the operand
it takes and its meaning — each defined once, here. Every evaluator follows this table:

* :func:`holds` is the reference: ``value op operand`` on typed values, with what all
  operators share — a missing value (``None``; coercion has already made empty text and empty
  lists ``None``, SPEC §3.4.5) makes every operator false except ``exists: false``, and so does
  a missing ``{ref: field}`` operand. The witness search
  (:mod:`hazard_rules.testing.satisfiability`) calls it as it is;
* :attr:`Operator.test` is the operator on a present value and a present operand as
  :func:`prepare` gives it (a list operand as a frozenset): the closures of
  :mod:`hazard_rules.backends.python` and trend comparisons
  (:mod:`hazard_rules.engine.time_rules`) call it;
* :attr:`Operator.inline` is the same test as a Python expression over ``{v}`` (the value) and
  ``{c}`` (the operand), which the generated classifier (:mod:`hazard_rules.backends.codegen`)
  splices instead of a call; :attr:`Operator.none_false` says the expression is already false
  for a missing value and a literal operand, so the classifier may leave out its ``is not None``
  guard.

The durable backend translates each operator to durable-rules' own language
(:mod:`hazard_rules.backends.durable.compile`). ``tests/test_operator_conformance.py`` runs
every operator × field type × boundary and missing value through every evaluator and holds
them all equal to :func:`holds` and to the SPEC's own examples.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hazard_rules.schema import FieldDef

__all__ = ["COMPARISONS", "OPERATORS", "Operator", "category", "holds", "prepare"]


@dataclass(frozen=True)
class Operator:
    """One operator: where it fits, what it takes, and what it means."""

    name: str
    categories: frozenset[str]  # operator categories of the fields it fits (see category())
    operand: str  # "scalar" | "list" | "pair" | "bool" | "regex" | "item"
    summary: str
    test: Callable[[Any, Any], bool]  # test(value, prepared operand), both present
    inline: str  # the same test as an expression over {v} and {c}
    none_false: bool = False  # inline is false when {v} is None and {c} a literal

    def expression(self, value: str, operand: str) -> str:
        """:attr:`inline` over the expressions ``value`` and ``operand``."""
        return self.inline.format(v=value, c=operand)


def _op(
    name: str,
    cats: str,
    operand: str,
    summary: str,
    *,
    test: Callable[[Any, Any], bool],
    inline: str,
    none_false: bool = False,
) -> Operator:
    return Operator(name, frozenset(cats.split()), operand, summary, test, inline, none_false)


def _exists(value: Any, want: Any) -> bool:
    return (value is not None) is bool(want)


OPERATORS: dict[str, Operator] = {
    o.name: o
    for o in (
        _op(
            "eq",
            "string number date datetime bool enum period",
            "scalar",
            "equals",
            test=operator.eq,
            inline="{v} == {c}",
            none_false=True,
        ),
        _op(
            "ne",
            "string number date datetime bool enum period",
            "scalar",
            "differs from",
            test=operator.ne,
            inline="{v} != {c}",
        ),
        _op(
            "lt",
            "number date datetime",
            "scalar",
            "is less than",
            test=operator.lt,
            inline="{v} < {c}",
        ),
        _op(
            "lte",
            "number date datetime",
            "scalar",
            "is at most",
            test=operator.le,
            inline="{v} <= {c}",
        ),
        _op(
            "gt",
            "number date datetime",
            "scalar",
            "is greater than",
            test=operator.gt,
            inline="{v} > {c}",
        ),
        _op(
            "gte",
            "number date datetime",
            "scalar",
            "is at least",
            test=operator.ge,
            inline="{v} >= {c}",
        ),
        _op(
            "between",
            "number date datetime",
            "pair",
            "lies in [lo, hi]",
            test=lambda v, c: c[0] <= v <= c[1],
            inline="{c}[0] <= {v} <= {c}[1]",
        ),
        _op(
            "in",
            "string number enum period",
            "list",
            "is one of",
            test=lambda v, c: v in c,
            inline="{v} in {c}",
            none_false=True,
        ),
        _op(
            "not_in",
            "string number enum period",
            "list",
            "is none of",
            test=lambda v, c: v not in c,
            inline="{v} not in {c}",
        ),
        _op(
            "contains",
            "string list",
            "item",
            "contains",
            test=lambda v, c: c in v,
            inline="{c} in {v}",
        ),
        _op(
            "contains_any",
            "list",
            "list",
            "contains any of",
            test=lambda v, c: not c.isdisjoint(v),
            inline="not {c}.isdisjoint({v})",
        ),
        _op(
            "contains_all",
            "list",
            "list",
            "contains all of",
            test=lambda v, c: c.issubset(v),
            inline="{c}.issubset({v})",
        ),
        _op(
            "matches",
            "string",
            "regex",
            "matches the pattern",
            test=lambda v, c: c.search(v) is not None,
            inline="{c}.search({v}) is not None",
        ),
        _op(
            "exists",
            "string number date datetime bool enum period list",
            "bool",
            "is present",
            test=_exists,
            inline="({v} is not None) is {c}",
        ),
    )
}

# The operators that compare two numbers: the trend kind's `compare.op` (SPEC §3.3)
COMPARISONS = ("lt", "lte", "gt", "gte", "eq", "ne")


def prepare(op: str, operand: Any) -> Any:
    """A literal operand as :attr:`Operator.test` takes it: a list operand as a frozenset."""
    return frozenset(operand) if OPERATORS[op].operand == "list" else operand


def holds(op: str, value: Any, operand: Any) -> bool:
    """The reference semantics of ``value op operand`` (SPEC §3.2) on typed values: ``None`` is
    a missing value or a missing ``{ref: field}`` operand, and makes every operator false except
    ``exists: false``."""
    if op == "exists":
        return _exists(value, operand)
    if value is None or operand is None:
        return False
    return bool(OPERATORS[op].test(value, prepare(op, operand)))


def category(fdef: FieldDef) -> str:
    """The operator category of a field: string, number, date, datetime, bool, enum, period, list."""
    if fdef.is_list:
        return "list"
    if fdef.kind in ("int", "float"):
        return "number"
    if fdef.kind in ("string", "ref"):
        return "string"
    return fdef.kind
