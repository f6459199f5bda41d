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

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hazard_rules.backends.python import compile_condition
from hazard_rules.ir import (
    AllOf,
    AnyOf,
    AtLeast,
    Condition,
    Const,
    Criterion,
    FieldRef,
    Leaf,
    NotOf,
)
from hazard_rules.operators import holds
from hazard_rules.schema import FieldDef, Schema
from hazard_rules.testing.values import (
    Assignment,
    PathKey,
    candidate_values,
    default_scalars,
    leaves,
    path_key,
    regex_example,
)

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


# -- the search ------------------------------------------------------------------------------


def _holds(op: str, value: Any, operand: Any) -> bool:
    """The operator table's reference semantics; a candidate of another type (the search may
    try one) does not satisfy the comparison."""
    try:
        return holds(op, value, operand)
    except TypeError:
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
        assert isinstance(leaf.operand, Const)  # computed operands are for checks only
        operand = leaf.operand.value
        for v in self._values(k, asg):
            if _holds(leaf.op, v, operand) is want:
                yield asg if k in asg else {**asg, k: v}


# -- witnesses -------------------------------------------------------------------------------


def _default(fdef: FieldDef, zone: Any = None) -> Any:
    return default_scalars(fdef, zone)[0] if fdef.kind != "bool" else False


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
