"""Per-condition explanations of a finding: which conditions held, which failed, with the
values seen. A slow path, used only for findings when ``--explain`` is asked for."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from hazard_rules.backends.python import (
    Index,
    compile_compute,
    compile_condition,
    compile_getter,
)
from hazard_rules.ir import (
    AllOf,
    AnyOf,
    AtLeast,
    Check,
    Compute,
    Computed,
    Condition,
    Criterion,
    FieldRef,
    Leaf,
    NotOf,
    Rule,
)
from hazard_rules.periods import Period
from hazard_rules.regex import Regex

__all__ = ["describe_condition", "explain_condition", "explain_rule"]


def _show(value: Any) -> Any:
    if isinstance(value, (re.Pattern, Regex)):
        return value.pattern
    if isinstance(value, (date, Period)):
        return str(value)
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [_show(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return value


def describe_compute(c: Compute) -> str:
    """``required_fee = 超额累退 of base_amount: ≤1000 4.5%, ≤10000 2.25%, … rest 0.2%``."""
    if c.bands:
        parts = [
            (f"≤{b.upto:g}" if b.upto is not None else "rest") + f" {b.rate * 100:g}%"
            for b in c.bands
        ]
        how = f"progressive (超额累退) on {c.base.text}: " + ", ".join(parts)
    elif c.rate_of is not None:
        rates = ", ".join(f"{k} {r * 100:g}%" for k, r in c.rates)
        how = f"{c.base.text} × the rate of {c.rate_of.text} ({rates})"
    else:
        how = f"{c.base.text} × {(c.rate or 0) * 100:g}%"
    if c.spread is not None:
        how += f", × months of {c.spread.text} / 12"
    return f"{c.name} = {how}"


def _operand(leaf: Leaf) -> str:
    if isinstance(leaf.operand, FieldRef):
        return "{ref: " + leaf.operand.path.text + "}"
    if isinstance(leaf.operand, Computed):
        return "{computed: " + leaf.operand.compute.name + "}"
    v = _show(leaf.operand.value)
    return str(v).lower() if isinstance(v, bool) else str(v)


def describe_condition(cond: Condition | None, indent: int = 0) -> str:
    """A readable, indented rendering of a condition (for ``hazard-rules explain``)."""
    pad = "  " * indent
    if cond is None:
        return pad + "(always)"
    if isinstance(cond, Leaf):
        return f"{pad}{cond.path.text} {cond.op} {_operand(cond)}"
    if isinstance(cond, NotOf):
        return f"{pad}not:\n" + describe_condition(cond.item, indent + 1)
    if isinstance(cond, AtLeast):
        head = f"{pad}at least {cond.n} of:"
        items = cond.items
    else:
        head = f"{pad}{'all' if isinstance(cond, AllOf) else 'any'} of:"
        items = cond.items
    return head + "\n" + "\n".join(describe_condition(c, indent + 1) for c in items)


def explain_condition(
    cond: Condition | None, rec: Mapping[str, Any], idx: Index, where: str
) -> list[dict[str, Any]]:
    """Every leaf of ``cond`` with the value seen and whether it held; groups are summarised."""
    if cond is None:
        return []
    if isinstance(cond, Leaf):
        seen = compile_getter(cond.path)(rec, idx)
        entry: dict[str, Any] = {
            "at": where,
            "condition": f"{cond.path.text} {cond.op} {_operand(cond)}",
            "value": _show(seen),
            "held": compile_condition(cond)(rec, idx),
        }
        if isinstance(cond.operand, FieldRef):
            entry["operand_value"] = _show(compile_getter(cond.operand.path)(rec, idx))
        elif isinstance(cond.operand, Computed):
            entry["operand_value"] = compile_compute(cond.operand.compute)(rec, idx)
            entry["computed"] = describe_compute(cond.operand.compute)
        return [entry]
    held = compile_condition(cond)(rec, idx)
    if isinstance(cond, NotOf):
        return [
            {"at": where, "condition": "not", "held": held},
            *explain_condition(cond.item, rec, idx, where + ".not"),
        ]
    name = (
        "all"
        if isinstance(cond, AllOf)
        else "any"
        if isinstance(cond, AnyOf)
        else f"at_least {cond.n}"
    )
    out: list[dict[str, Any]] = [{"at": where, "condition": name, "held": held}]
    for i, c in enumerate(cond.items):
        out.extend(explain_condition(c, rec, idx, f"{where}.{name.split()[0]}[{i}]"))
    return out


def explain_rule(rule: Rule, rec: Mapping[str, Any], idx: Index) -> list[dict[str, Any]]:
    """The conditions of a criterion or check rule evaluated on one record."""
    out: list[dict[str, Any]] = []
    if isinstance(rule, Criterion):
        out += explain_condition(rule.applies, rec, idx, "applies")
        out += explain_condition(rule.when, rec, idx, "when")
        if rule.declared:
            out.append(
                {
                    "at": "declared",
                    "condition": f"{rule.declared} eq {rule.label}",
                    "value": _show(rec.get(rule.declared)),
                    "held": rec.get(rule.declared) == rule.label,
                }
            )
    elif isinstance(rule, Check):
        for c in rule.computes:
            out.append(
                {
                    "at": f"compute.{c.name}",
                    "condition": describe_compute(c),
                    "value": compile_compute(c)(rec, idx),
                    "held": True,
                }
            )
        out += explain_condition(rule.where, rec, idx, "where")
        out += explain_condition(rule.require, rec, idx, "require")
        if rule.done:
            out.append(
                {
                    "at": "done",
                    "condition": f"{rule.done} exists",
                    "value": _show(rec.get(rule.done)),
                    "held": rec.get(rule.done) is not None,
                }
            )
        if rule.due and rule.due.field:
            out.append(
                {
                    "at": "due",
                    "condition": f"due = {rule.due.field} + "
                    + (f"{rule.due.months} months" if rule.due.months else f"{rule.due.days} days"),
                    "value": _show(rec.get(rule.due.field)),
                    "held": True,
                }
            )
    return out
