"""Witnesses for conditions: records that make a condition true (or false), found by search.

The search is derived from the condition tree itself. Every field path the condition reads
gets a finite set of *candidate values*: the constants the condition compares it with, their
neighbours (``c - 1``, ``c + 1``, the day before and after, midpoints between float
constants), every value of an enum, ``True``/``False``, a text that contains every
``contains`` operand, a text each regular expression matches, and ``None`` when the field is
optional. For comparisons of a field with constants this set meets every region the
constants cut the field's range into, so a condition with no witness among the candidates
has none at all; with regular expressions and substrings the search is a good heuristic,
not a proof.

The solver walks the tree (``all``/``any``/``not``/``at_least``), choosing one candidate per
path and backtracking on conflicts, and every assignment it proposes is checked with the
reference evaluator (:func:`hazard_rules.backends.python.compile_condition`) before it is
returned as a :class:`Witness`.

Example::

    >>> from hazard_rules import load_packs
    >>> packs = load_packs("gm-2023")
    >>> rule = packs.rule("gm-2023.12-2")
    >>> w = find_witness(rule.when, packs.schema)
    >>> w is not None and w.record["ammonia_refrigeration"]
    True
"""

from __future__ import annotations

import importlib
import itertools
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from hazard_rules.backends.python import compile_condition
from hazard_rules.ir import (
    AllOf,
    AnyOf,
    AtLeast,
    Condition,
    Const,
    Criterion,
    FieldPath,
    FieldRef,
    Leaf,
    NotOf,
)
from hazard_rules.periods import Period
from hazard_rules.schema import FieldDef, Schema

__all__ = [
    "PathKey",
    "Search",
    "Witness",
    "candidate_values",
    "criterion_problems",
    "find_witness",
    "leaves",
    "path_key",
    "regex_example",
    "witnesses",
]

PathKey = tuple[str, tuple[tuple[str, str], ...], str]
"""A field path as a hashable key: (root type, ((ref field, target type), ...), field)."""

Assignment = dict[PathKey, Any]

_BASE_DAY = date(2024, 1, 1)
_NOVEL = "zz"


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


@dataclass(frozen=True)
class Witness:
    """A record of type ``type`` for which a condition has the wanted value.

    ``related`` holds the records the condition reaches through references (type → records)
    and the records the judged one must refer to; :meth:`facts` gives them all as a fact set.
    Values are typed (``date``, ``Period``, tuples for lists), which :func:`evaluate` accepts.
    """

    type: str
    record: dict[str, Any]
    related: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    assignment: Mapping[PathKey, Any] = field(default_factory=dict, compare=False)

    def facts(self) -> dict[str, list[dict[str, Any]]]:
        """The fact set ``{type: [records]}``: the related records and the judged one."""
        out = {t: list(recs) for t, recs in self.related.items()}
        out.setdefault(self.type, []).append(self.record)
        return out

    def index(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Records by type and id, as the evaluator's predicates read them."""
        idx: dict[str, dict[str, dict[str, Any]]] = {}
        for t, recs in self.facts().items():
            for r in recs:
                idx.setdefault(t, {})[r["id"]] = r
        return idx


# -- regular expressions ---------------------------------------------------------------------

_SRE: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")


def regex_example(pattern: str | re.Pattern[str]) -> str | None:
    """A short text the pattern matches (searched anywhere), or None when none is found.

    >>> regex_example("动火|动焊")
    '动火'
    """
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    try:
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


def _default_scalars(fdef: FieldDef, zone: Any = None) -> list[Any]:
    kind = fdef.kind
    if kind == "int":
        return [0, 1, 2]
    if kind == "float":
        return [0.0, 1.0, 2.0]
    if kind == "date":
        return [_BASE_DAY + timedelta(days=i) for i in range(3)]
    if kind == "datetime":
        base = datetime.combine(_BASE_DAY, time(9), zone)
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
        return [(_NOVEL,)]
    return [_NOVEL]


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
        base = consts or _default_scalars(fdef, zone)
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
        vals = vals or _default_scalars(fdef)
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
        vals.append(_NOVEL)
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
        others = [v for v in fdef.values if v not in items] if kind == "list[enum]" else [_NOVEL]
        if others:
            vals.append((others[0],))
    if fdef.optional:
        vals.append(None)
    return list(dict.fromkeys(vals))


# -- the search ------------------------------------------------------------------------------


def _holds(op: str, value: Any, operand: Any) -> bool:
    if op == "exists":
        return (value is not None) is bool(operand)
    if value is None or operand is None:
        return False
    try:
        if op == "eq":
            return bool(value == operand)
        if op == "ne":
            return bool(value != operand)
        if op == "lt":
            return bool(value < operand)
        if op == "lte":
            return bool(value <= operand)
        if op == "gt":
            return bool(value > operand)
        if op == "gte":
            return bool(value >= operand)
        if op == "between":
            return bool(operand[0] <= value <= operand[1])
        if op == "in":
            return value in operand
        if op == "not_in":
            return value not in operand
        if op == "contains":
            return operand in value
        if op == "contains_any":
            return not set(operand).isdisjoint(value)
        if op == "contains_all":
            return set(operand).issubset(value)
        if op == "matches":
            return operand.search(value) is not None
    except TypeError:
        return False
    return False


class Search:
    """A bounded backtracking search for assignments of candidate values to paths.

    ``budget`` bounds the number of steps; :attr:`exhausted` tells, after a search, whether
    every candidate combination was tried (so that finding nothing is a real answer).
    """

    def __init__(self, cond: Condition, *, budget: int = 20_000, zone: Any = None) -> None:
        self.cond = cond
        self.cands = candidate_values(cond, zone=zone)
        self.budget = budget
        self.steps = 0
        self.exhausted = True

    def _tick(self) -> bool:
        self.steps += 1
        if self.steps > self.budget:
            self.exhausted = False
            return False
        return True

    def solve(self, want: bool) -> Iterator[Assignment]:
        """Assignments (partial: only the paths that decide) giving ``cond`` the value ``want``."""
        yield from self._solve(self.cond, want, {})

    def _solve(self, cond: Condition, want: bool, asg: Assignment) -> Iterator[Assignment]:
        if not self._tick():
            return
        if isinstance(cond, Leaf):
            yield from self._leaf(cond, want, asg)
        elif isinstance(cond, NotOf):
            yield from self._solve(cond.item, not want, asg)
        elif isinstance(cond, AllOf):
            if want:
                yield from self._all(cond.items, True, asg)
            else:
                yield from self._any(cond.items, False, asg)
        elif isinstance(cond, AnyOf):
            if want:
                yield from self._any(cond.items, True, asg)
            else:
                yield from self._all(cond.items, False, asg)
        elif isinstance(cond, AtLeast):
            items = cond.items
            if want:
                if cond.n == 0:
                    yield asg
                    return
                for combo in itertools.combinations(items, cond.n):
                    yield from self._all(combo, True, asg)
            else:
                k = len(items) - cond.n + 1
                if k > len(items):
                    return
                for combo in itertools.combinations(items, k):
                    yield from self._all(combo, False, asg)

    def _all(self, items: Sequence[Condition], want: bool, asg: Assignment) -> Iterator[Assignment]:
        if not items:
            yield asg
            return
        for got in self._solve(items[0], want, asg):
            yield from self._all(items[1:], want, got)
            if not self._tick():
                return

    def _any(self, items: Sequence[Condition], want: bool, asg: Assignment) -> Iterator[Assignment]:
        for item in items:
            yield from self._solve(item, want, asg)

    def _values(self, key: PathKey, asg: Assignment) -> list[Any]:
        if key in asg:
            return [asg[key]]
        return self.cands.get(key, [])

    def _leaf(self, leaf: Leaf, want: bool, asg: Assignment) -> Iterator[Assignment]:
        k = path_key(leaf.path)
        if isinstance(leaf.operand, FieldRef):
            o = path_key(leaf.operand.path)
            for v in self._values(k, asg):
                for c in self._values(o, {**asg, k: v}) if o != k else [v]:
                    if _holds(leaf.op, v, c) is want:
                        yield {**asg, k: v, o: c}
            return
        operand = leaf.operand.value
        for v in self._values(k, asg):
            if _holds(leaf.op, v, operand) is want:
                yield asg if k in asg else {**asg, k: v}


# -- witnesses -------------------------------------------------------------------------------


def _default(fdef: FieldDef, zone: Any = None) -> Any:
    return _default_scalars(fdef, zone)[0] if fdef.kind != "bool" else False


class _Builder:
    def __init__(self, schema: Schema, defaults: Mapping[str, Mapping[str, Any]]) -> None:
        self.schema = schema
        self.defaults = defaults
        self.related: dict[str, list[dict[str, Any]]] = {}
        self.n = 0

    def new(self, tname: str, values: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
        self.n += 1
        rec: dict[str, Any] = {"id": f"W{self.n}"}
        tdef = self.schema.types[tname]
        preset = {**self.defaults.get(tname, {}), **values}
        for f in tdef.fields.values():
            if f.name == "id":
                continue
            if f.name in preset:
                rec[f.name] = preset[f.name]
            elif not f.optional:
                if f.kind == "ref" and f.ref is not None:
                    if f.ref == tname or depth > 8:
                        rec[f.name] = rec["id"]
                    else:
                        target = self.new(f.ref, {}, depth + 1)
                        self.related.setdefault(f.ref, []).append(target)
                        rec[f.name] = target["id"]
                else:
                    rec[f.name] = _default(f)
            else:
                rec[f.name] = None
        return rec


def build_witness(
    schema: Schema,
    root: str,
    asg: Mapping[PathKey, Any],
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> Witness:
    """Records realising an assignment: the root record and those its paths reach."""
    b = _Builder(schema, defaults or {})
    # group values by the chain of reference steps leading to them
    chains: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for (_, steps, name), value in asg.items():
        chains.setdefault(steps, {})[name] = value
        for i in range(len(steps)):
            chains.setdefault(steps[:i], {})
    made: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for steps in sorted(chains, key=len, reverse=True):
        values = dict(chains[steps])
        for other, rec in made.items():
            if len(other) == len(steps) + 1 and other[: len(steps)] == steps:
                values[other[-1][0]] = rec["id"]
        tname = steps[-1][1] if steps else root
        rec = b.new(tname, values)
        made[steps] = rec
        if steps:
            b.related.setdefault(tname, []).append(rec)
    record = made.get(())
    if record is None:  # pragma: no cover - the root chain always exists
        record = b.new(root, {})
    return Witness(root, record, b.related, dict(asg))


def witnesses(
    cond: Condition,
    schema: Schema,
    want: bool = True,
    *,
    limit: int = 16,
    budget: int = 20_000,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[Witness], bool]:
    """Up to ``limit`` checked witnesses giving ``cond`` the value ``want``, boundary values first.

    Returns the witnesses and whether the search was exhaustive (when it was and the list is
    empty, no record among the candidates gives ``cond`` that value).
    """
    root = _root(cond)
    pred = compile_condition(cond)
    search = Search(cond, budget=budget)
    out: list[Witness] = []
    seen: set[frozenset[tuple[PathKey, Any]]] = set()
    for asg in search.solve(want):
        key = frozenset((k, _hashable(v)) for k, v in asg.items())
        if key in seen:
            continue
        seen.add(key)
        w = build_witness(schema, root, asg, defaults)
        if pred(w.record, w.index()) is want:
            out.append(w)
            if len(out) >= limit:
                return out, False
    return out, search.exhausted


def _hashable(v: Any) -> Any:
    try:
        hash(v)
    except TypeError:
        return repr(v)
    return v


def _root(cond: Condition) -> str:
    for leaf in leaves(cond):
        return leaf.path.root
    raise ValueError("a condition without comparisons has no record type")


def find_witness(
    cond: Condition,
    schema: Schema,
    want: bool = True,
    *,
    budget: int = 20_000,
) -> Witness | None:
    """One witness giving ``cond`` the value ``want``, or None when the search finds none."""
    found, _ = witnesses(cond, schema, want, limit=1, budget=budget)
    return found[0] if found else None


def criterion_problems(rule: Criterion, schema: Schema, *, budget: int = 20_000) -> list[str]:
    """Why a criterion is dead or always true, if it is: an empty list when it is neither.

    * dead: no record satisfies ``applies`` and ``when`` together;
    * always true: every record ``applies`` covers satisfies ``when`` (``when`` cannot be
      false where the criterion applies), so the criterion labels its whole scope.
    """
    span = rule.meta.span
    fires: Condition = AllOf((rule.applies, rule.when), span) if rule.applies else rule.when
    out: list[str] = []
    found, exhaustive = witnesses(fires, schema, True, limit=1, budget=budget)
    if not found and exhaustive:
        out.append("unsatisfiable: no record makes its `when` (with `applies`) true")
    quiet: Condition = (
        AllOf((rule.applies, NotOf(rule.when, span)), span)
        if rule.applies
        else NotOf(rule.when, span)
    )
    found, exhaustive = witnesses(quiet, schema, True, limit=1, budget=budget)
    if not found and exhaustive and not out:
        out.append("always true: every record it applies to makes its `when` true")
    return out
