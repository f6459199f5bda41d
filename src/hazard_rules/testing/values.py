"""Candidate values for the fields a condition reads: the constants it compares with and
their neighbours, enum values, booleans, texts for ``contains`` and for regular expressions
(:func:`regex_example`), and ``None`` for optional fields — the finite sets the witness search
of :mod:`hazard_rules.testing.satisfiability` chooses from."""

from __future__ import annotations

import importlib
import itertools
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from hazard_rules.ir import (
    Condition,
    Const,
    FieldPath,
    FieldRef,
    Leaf,
    NotOf,
)
from hazard_rules.periods import Period
from hazard_rules.regex import Regex
from hazard_rules.schema import FieldDef

__all__ = [
    "BASE_DAY",
    "NOVEL",
    "Assignment",
    "PathKey",
    "candidate_values",
    "default_scalars",
    "leaves",
    "path_key",
    "regex_example",
]

PathKey = tuple[str, tuple[tuple[str, str], ...], str]
"""A field path as a hashable key: (root type, ((ref field, target type), ...), field)."""

Assignment = dict[PathKey, Any]

BASE_DAY = date(2024, 1, 1)
NOVEL = "zz"


def path_key(path: FieldPath) -> PathKey:
    """The hashable key of a field path (its text may differ for the same path)."""
    return (path.root, tuple((s.field, s.target) for s in path.steps), path.field.name)


def leaves(cond: Condition | None) -> Iterator[Leaf]:
    """Every comparison of a condition, depth first."""
    if cond is None:
        return
    if isinstance(cond, Leaf):
        yield cond
    elif isinstance(cond, NotOf):
        yield from leaves(cond.item)
    else:
        for item in cond.items:
            yield from leaves(item)


# -- regular expressions ---------------------------------------------------------------------

_SRE: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")


def regex_example(pattern: str | re.Pattern[str] | Regex) -> str | None:
    """A short text the pattern matches (searched anywhere), or None when none is found.

    >>> regex_example("动火|动焊")
    '动火'
    """
    text_of = pattern if isinstance(pattern, str) else pattern.pattern
    try:
        compiled = re.compile(text_of)  # the Python engine only to draw an example
        parsed = _SRE.parse(compiled.pattern, compiled.flags)
        text = _gen(parsed)
    except Exception:
        return None
    if text is not None and text.strip() and compiled.search(text.strip()):
        return text.strip()
    return None


def _gen(items: Any) -> str | None:
    out: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            got = _gen_in(arg)
            if got is None:
                return None
            out.append(got)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, _hi, sub = arg
            piece = _gen(sub)
            if piece is None:
                return None
            out.append(piece * max(lo, 1 if not out else lo))
        elif name == "SUBPATTERN":
            piece = _gen(arg[-1])
            if piece is None:
                return None
            out.append(piece)
        elif name == "ATOMIC_GROUP":
            piece = _gen(arg)
            if piece is None:
                return None
            out.append(piece)
        elif name == "BRANCH":
            for alt in arg[1]:
                piece = _gen(alt)
                if piece is not None:
                    out.append(piece)
                    break
            else:
                return None
        elif name == "AT":
            continue
        elif name == "CATEGORY":
            out.append(_category(str(arg)))
        elif name in ("ASSERT", "ASSERT_NOT", "GROUPREF", "GROUPREF_EXISTS"):
            return None
        else:
            return None
    return "".join(out)


def _category(name: str) -> str:
    if "NOT_DIGIT" in name:
        return "a"
    if "DIGIT" in name:
        return "1"
    if "NOT_SPACE" in name:
        return "a"
    if "SPACE" in name:
        return " "
    if "NOT_WORD" in name:
        return "-"
    return "a"


def _gen_in(arg: Any) -> str | None:
    negate = any(str(op) == "NEGATE" for op, _ in arg)
    if negate:
        banned = {chr(a) for op, a in arg if str(op) == "LITERAL"}
        for c in "a1-b":
            if c not in banned:
                return c
        return None
    for op, a in arg:
        name = str(op)
        if name == "LITERAL":
            return chr(a)
        if name == "RANGE":
            return chr(a[0])
        if name == "CATEGORY":
            return _category(str(a))
    return None


# -- candidate values ------------------------------------------------------------------------


def _consts(leaf: Leaf) -> list[Any]:
    if not isinstance(leaf.operand, Const):
        return []
    value = leaf.operand.value
    if leaf.op == "exists":
        return []
    if leaf.op == "matches":
        ex = regex_example(value)
        return [ex] if ex is not None else []
    if isinstance(value, (tuple, list, frozenset, set)):
        return list(value)
    return [value]


def _step(value: Any, kind: str, delta: int) -> Any:
    if kind == "int":
        return value + delta
    if kind == "float":
        return value + delta
    if kind == "date":
        return value + timedelta(days=delta)
    if kind == "datetime":
        return value + timedelta(minutes=delta)
    return value


def default_scalars(fdef: FieldDef, zone: Any = None) -> list[Any]:
    kind = fdef.kind
    if kind == "int":
        return [0, 1, 2]
    if kind == "float":
        return [0.0, 1.0, 2.0]
    if kind == "date":
        return [BASE_DAY + timedelta(days=i) for i in range(3)]
    if kind == "datetime":
        base = datetime.combine(BASE_DAY, time(9), zone)
        return [base + timedelta(minutes=i) for i in range(3)]
    if kind == "bool":
        return [True, False]
    if kind == "enum":
        return list(fdef.values)
    if kind == "period":
        return [Period("year", 2024), Period("month", 2024, 1)]
    if kind == "list[enum]":
        return [(fdef.values[0],)]
    if kind == "list[string]":
        return [(NOVEL,)]
    return [NOVEL]


def candidate_values(cond: Condition | None, *, zone: Any = None) -> dict[PathKey, list[Any]]:
    """Candidate values of every path ``cond`` reads (see the module docstring)."""
    by_path: dict[PathKey, tuple[FieldDef, list[Leaf]]] = {}
    links: dict[PathKey, set[PathKey]] = {}
    for leaf in leaves(cond):
        k = path_key(leaf.path)
        by_path.setdefault(k, (leaf.path.field, []))[1].append(leaf)
        if isinstance(leaf.operand, FieldRef):
            o = path_key(leaf.operand.path)
            by_path.setdefault(o, (leaf.operand.path.field, []))
            links.setdefault(k, set()).add(o)
            links.setdefault(o, set()).add(k)
    consts: dict[PathKey, list[Any]] = {k: [] for k in by_path}
    for k, (_, ls) in by_path.items():
        for leaf in ls:
            consts[k].extend(_consts(leaf))
    out: dict[PathKey, list[Any]] = {}
    for k, (fdef, ls) in by_path.items():
        mine = list(consts[k])
        for o in links.get(k, ()):
            mine.extend(c for c in consts[o] if _family_ok(fdef, by_path[o][0], c))
        out[k] = _expand(fdef, ls, mine, zone)
    return out


def _family_ok(a: FieldDef, b: FieldDef, value: Any) -> bool:
    if a.kind in ("int", "float"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if a.kind == "date":
        return isinstance(value, date) and not isinstance(value, datetime)
    if a.kind == "datetime":
        return isinstance(value, datetime)
    return isinstance(value, str)


def _expand(fdef: FieldDef, ls: Sequence[Leaf], consts: list[Any], zone: Any) -> list[Any]:
    kind = fdef.kind
    vals: list[Any] = []
    if kind in ("int", "float", "date", "datetime"):
        base = consts or default_scalars(fdef, zone)
        for c in base:
            vals.extend([_step(c, kind, -1), c, _step(c, kind, 1)])
        if kind == "float":
            srt = sorted(set(base))
            vals.extend((a + b) / 2 for a, b in itertools.pairwise(srt))
        if kind == "int":
            vals = [int(v) for v in vals]
    elif kind == "bool":
        vals = [True, False]
    elif kind == "enum":
        vals = list(fdef.values)
    elif kind == "period":
        vals = list(consts) + [c.next() for c in consts if isinstance(c, Period)]
        vals = vals or default_scalars(fdef)
    elif kind in ("string", "ref"):
        vals = [c for c in consts if isinstance(c, str) and c.strip()]
        contains = [
            c
            for leaf in ls
            if leaf.op in ("contains", "matches")
            for c in _consts(leaf)
            if isinstance(c, str)
        ]
        if len(contains) > 1:
            vals.append("".join(dict.fromkeys(contains)))
        vals.append(NOVEL)
    elif kind in ("list[enum]", "list[string]"):
        items = list(dict.fromkeys(consts))
        vals = [(i,) for i in items]
        for leaf in ls:
            if isinstance(leaf.operand, Const) and isinstance(
                leaf.operand.value, (tuple, frozenset)
            ):
                vals.append(tuple(leaf.operand.value))
        if len(items) > 1:
            vals.append(tuple(items))
        others = [v for v in fdef.values if v not in items] if kind == "list[enum]" else [NOVEL]
        if others:
            vals.append((others[0],))
    if fdef.optional:
        vals.append(None)
    return list(dict.fromkeys(vals))
