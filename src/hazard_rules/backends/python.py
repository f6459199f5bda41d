"""The reference evaluator: condition IR → Python closures, compiled once per pack set.

A compiled condition is ``fn(record, index) -> bool`` where ``record`` is a typed plain dict
and ``index`` maps record type → id → record, used to follow references. Missing values
(``None``) make every comparison false except ``exists: false`` (SPEC §3.2); ``not``
negates whatever its condition gave. Each comparison is the operator table's own test
(:attr:`hazard_rules.operators.Operator.test`). Nothing from a rule file becomes code: literals are
values captured by closures, field names are dictionary keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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
)
from hazard_rules.operators import OPERATORS, prepare
from hazard_rules.periods import Period

__all__ = ["Index", "Predicate", "compile_compute", "compile_condition", "compile_getter"]

Index = Mapping[str, Mapping[str, Mapping[str, Any]]]
Predicate = Callable[[Mapping[str, Any], Index], bool]
Getter = Callable[[Mapping[str, Any], Index], Any]


def compile_getter(path: FieldPath) -> Getter:
    """A function reading ``path`` from a record, following references; None when missing."""
    name = path.field.name
    if not path.steps:
        return lambda rec, idx: rec.get(name)
    steps = tuple((s.field, s.target) for s in path.steps)

    def get(rec: Mapping[str, Any], idx: Index) -> Any:
        cur: Mapping[str, Any] | None = rec
        for field, target in steps:
            key = cur.get(field) if cur is not None else None
            if key is None:
                return None
            cur = idx.get(target, {}).get(key)
        return cur.get(name) if cur is not None else None

    return get


_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def compile_compute(compute: Compute) -> Getter:
    """A function computing ``compute``'s amount from a record (None when its base, its rate
    key or its period is missing), rounded to 4 decimals: with amounts in 万元, one yuan."""
    base = compile_getter(compute.base)
    key = compile_getter(compute.rate_of) if compute.rate_of is not None else None
    rates = dict(compute.rates)
    bands = compute.bands
    spread = compile_getter(compute.spread) if compute.spread is not None else None

    def amount(rec: Mapping[str, Any], idx: Index) -> Any:
        b = base(rec, idx)
        if b is None:
            return None
        if bands:
            total, lower = 0.0, 0.0
            for band in bands:
                upper = float("inf") if band.upto is None else band.upto
                if b > lower:
                    total += (min(b, upper) - lower) * band.rate
                lower = upper
        elif key is not None:
            rate = rates.get(key(rec, idx))
            if rate is None:
                return None
            total = b * rate
        else:
            total = b * (compute.rate or 0.0)
        if spread is not None:
            p = spread(rec, idx)
            if not isinstance(p, Period):
                return None
            total = total * _MONTHS[p.every] / 12
        return round(total, 4)

    return amount


def _leaf(leaf: Leaf) -> Predicate:
    get = compile_getter(leaf.path)
    op = leaf.op
    operand = leaf.operand
    test = OPERATORS[op].test
    if op == "exists":  # the one operator that a missing value can satisfy
        assert isinstance(operand, Const)  # exists takes true or false, never a field
        want = operand.value
        return lambda rec, idx: test(get(rec, idx), want)
    if isinstance(operand, (FieldRef, Computed)):
        other = (
            compile_getter(operand.path)
            if isinstance(operand, FieldRef)
            else compile_compute(operand.compute)
        )

        def by_field(rec: Mapping[str, Any], idx: Index) -> bool:
            v = get(rec, idx)
            if v is None:
                return False
            c = other(rec, idx)
            return c is not None and test(v, c)

        return by_field
    const = prepare(op, operand.value)
    if not leaf.path.steps:
        name = leaf.path.field.name

        def direct(rec: Mapping[str, Any], idx: Index) -> bool:
            v = rec.get(name)
            return v is not None and test(v, const)

        return direct

    def through(rec: Mapping[str, Any], idx: Index) -> bool:
        v = get(rec, idx)
        return v is not None and test(v, const)

    return through


def compile_condition(cond: Condition | None) -> Predicate:
    """Compile a condition to a predicate; ``None`` (no condition) is always true."""
    if cond is None:
        return lambda rec, idx: True
    if isinstance(cond, Leaf):
        return _leaf(cond)
    if isinstance(cond, AllOf):
        subs = tuple(compile_condition(c) for c in cond.items)
        if len(subs) == 2:
            a, b = subs
            return lambda rec, idx: a(rec, idx) and b(rec, idx)
        return lambda rec, idx: all(s(rec, idx) for s in subs)
    if isinstance(cond, AnyOf):
        subs = tuple(compile_condition(c) for c in cond.items)
        return lambda rec, idx: any(s(rec, idx) for s in subs)
    if isinstance(cond, NotOf):
        sub = compile_condition(cond.item)
        return lambda rec, idx: not sub(rec, idx)
    if isinstance(cond, AtLeast):
        subs = tuple(compile_condition(c) for c in cond.items)
        n = cond.n
        return lambda rec, idx: sum(1 for s in subs if s(rec, idx)) >= n
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover
