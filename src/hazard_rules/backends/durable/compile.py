"""The durable backend's compiler: the condition IR → durable-rules rulesets (JSON), and the
plan of every durable rule of a pack set. Pure data: it never imports durable-rules.

``not`` is pushed down to the leaves (durable has no negation), with missing values handled
explicitly (SPEC §3.2); ``in`` lists become alternatives; ``matches`` and text ``contains``
become durable's full-match ``.*literal.*`` when the pattern is a literal or an alternation of
literals. Anything durable cannot express faithfully is refused with
:class:`~hazard_rules.errors.BackendError` naming the rule and the construct; durable's limits
(and/or nodes per rule; alpha paths, alternatives, rules and fact properties per ruleset) are
respected by splitting, see :func:`rulesets`.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, NamedTuple

from hazard_rules.engine.compile import CompiledPack, compile_pack, rule_conditions
from hazard_rules.errors import BackendError
from hazard_rules.ir import (
    AllOf,
    AnyOf,
    AtLeast,
    Check,
    Computed,
    Condition,
    Const,
    Criterion,
    Deadline,
    FieldPath,
    FieldRef,
    Leaf,
    NotOf,
    Recurring,
)
from hazard_rules.packs import PackSet
from hazard_rules.periods import Period
from hazard_rules.schema import FieldDef

__all__ = [
    "TAG",
    "DurablePlan",
    "DurableRule",
    "Refused",
    "TypePlan",
    "alpha_paths",
    "compile_condition_json",
    "compile_plan",
    "encode",
    "or_children",
    "pattern_slots",
    "rulesets",
]


# durable-rules limits measured on 2.0.28 (see docs/backends.md)
MAX_NODES = 15  # and/or nodes in one rule (error 113 above)
MAX_CHILDREN = 480  # or-alternatives in one ruleset (create_ruleset hangs above 512 in total)
MAX_AT_LEAST = 64  # alternatives an at_least may expand to
# Alpha paths (conjunctions of the disjunctive normal form) in one ruleset, its catch-all rule
# included. durable walks its alpha network for each fact with a fixed stack of 64 nodes
# (MAX_STACK_SIZE in durable's events.c); a fact that satisfies more than 64 paths of one
# ruleset at once makes assert fail with error 303 halfway through creating its session, and
# delete_state on that session then frees uninitialised pointers (munmap_chunk(): invalid
# pointer, a segfault). The stack never holds more nodes than the network has paths, so a
# ruleset of at most 60 paths cannot overflow, whatever the fact.
MAX_PATHS = 60
MAX_RULES = 40  # rules in one ruleset, its catch-all included
# Properties of one fact given to a ruleset, besides id, tag and sid: durable's C core
# segfaults on a fact with more than 254 properties (measured); each ruleset is given only the
# fields its rules read.
MAX_SLOTS = 240
_EXACT_INT = 2**53

TAG = "tag"  # every fact carries {"tag": <record type>}; rules test it positively
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_REGEX_META = frozenset("%()*+.?[]{}|")  # escaped with % in durable's dialect
_PY_META = frozenset("\\.^$*+?{}[]()|")


# -- the condition compiler --------------------------------------------------------------------


class Expr(NamedTuple):
    """An expression in negation normal form: ``and``/``or`` of sub-expressions (``items`` a
    list), a ``leaf`` (``items`` the durable JSON of one test), or ``true``/``false``."""

    kind: str
    items: Any = None


_TRUE = Expr("true")
_FALSE = Expr("false")
_NEG = {"eq": "ne", "ne": "eq", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt"}
_JSON_OP = {"eq": None, "ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


class Refused(Exception):
    """A construct durable cannot express faithfully (converted to BackendError with the rule)."""


def encode(fdef: FieldDef, value: Any) -> Any:
    """A value of field ``fdef`` as durable sees it (JSON-safe, ordered like the Python value)."""
    if isinstance(value, (list, tuple, frozenset, set)):
        return [encode_item(fdef, v) for v in value]
    return encode_item(fdef, value)


def encode_item(fdef: FieldDef, value: Any) -> Any:
    """One scalar value (or list item) of ``fdef`` in durable's form."""
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, date):
        return value.toordinal()
    if isinstance(value, Period):
        return value.label
    if isinstance(value, int):
        if not -_EXACT_INT < value < _EXACT_INT:
            raise Refused(f"{fdef.name}: integer {value} is beyond durable's exact range (2^53)")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Refused(f"{fdef.name}: {value} is not a finite number")
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise Refused(f"{fdef.name}: text with a NUL character")
        return value
    raise Refused(f"{fdef.name}: value {value!r} has no durable form")


def _and(items: Iterable[Expr]) -> Expr:
    out: list[Expr] = []
    for e in items:
        if e == _FALSE:
            return _FALSE
        if e == _TRUE:
            continue
        out.extend(e.items if e.kind == "and" else [e])
    if not out:
        return _TRUE
    return out[0] if len(out) == 1 else Expr("and", out)


def _or(items: Iterable[Expr]) -> Expr:
    out: list[Expr] = []
    for e in items:
        if e == _TRUE:
            return _TRUE
        if e == _FALSE:
            continue
        out.extend(e.items if e.kind == "or" else [e])
    if not out:
        return _FALSE
    return out[0] if len(out) == 1 else Expr("or", out)


def _regex_literal(text: str) -> str:
    """``text`` as a literal in durable's regex dialect."""
    return "".join("%" + ch if ch in _REGEX_META else ch for ch in text)


def _search_literals(pattern: str) -> list[str] | None:
    """The literals of a pattern that is a literal or ``lit|lit|…`` (metacharacters escaped with
    a backslash count as literal); None for anything else."""
    alts: list[str] = []
    cur: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, None)
            if nxt is None or (nxt.isascii() and nxt.isalnum()):
                return None  # \d, \b, \n … are classes or escapes, not literals
            cur.append(nxt)
        elif ch == "|":
            alts.append("".join(cur))
            cur = []
        elif ch in _PY_META:
            return None
        else:
            cur.append(ch)
    alts.append("".join(cur))
    return alts


class ConditionCompiler:
    """Compiles condition IR to durable expressions; ``slots`` names every field path read."""

    def __init__(self) -> None:
        self.slots: dict[str, tuple[str, FieldPath]] = {}  # path text → (slot name, path)

    def slot(self, path: FieldPath) -> str:
        """The safe fact property holding ``path`` (``v0``, ``v1`` …; never ``id``/``sid``)."""
        got = self.slots.get(path.text)
        if got is None:
            got = (f"v{len(self.slots)}", path)
            self.slots[path.text] = got
        return got[0]

    def compile(self, cond: Condition, negate: bool = False) -> Expr:
        """``cond`` (or its negation) in negation normal form, simplified."""
        if isinstance(cond, Leaf):
            return self.leaf(cond, negate)
        if isinstance(cond, AllOf):
            subs = [self.compile(c, negate) for c in cond.items]
            return _or(subs) if negate else _and(subs)
        if isinstance(cond, AnyOf):
            subs = [self.compile(c, negate) for c in cond.items]
            return _and(subs) if negate else _or(subs)
        if isinstance(cond, NotOf):
            return self.compile(cond.item, not negate)
        if isinstance(cond, AtLeast):
            k = len(cond.items)
            n = cond.n
            if negate:  # fewer than n hold ⇔ at least k-n+1 fail
                n = k - n + 1
            subs = [self.compile(c, negate) for c in cond.items]
            if n <= 0:
                return _TRUE
            if n > k:
                return _FALSE
            if n == 1:
                return _or(subs)
            if n == k:
                return _and(subs)
            if math.comb(k, n) > MAX_AT_LEAST:
                raise Refused(
                    f"at_least {cond.n} of {k} expands to {math.comb(k, n)} alternatives "
                    f"(durable has no counting condition; limit {MAX_AT_LEAST})"
                )
            return _or(_and(combo) for combo in itertools.combinations(subs, n))
        raise Refused(f"unknown condition node {type(cond).__name__}")  # pragma: no cover

    def leaf(self, leaf: Leaf, negate: bool) -> Expr:
        """One comparison; negated: the field missing, or the opposite comparison."""
        fdef = leaf.path.field
        s = self.slot(leaf.path)
        op = leaf.op
        where = f"{leaf.path.text} {op}"
        missing: Expr = Expr("leaf", {"$nex": {s: 1}})
        present: Expr = Expr("leaf", {"$ex": {s: 1}})
        if op == "exists":
            want = bool(leaf.operand.value) if isinstance(leaf.operand, Const) else True
            return present if want != negate else missing
        if isinstance(leaf.operand, FieldRef):
            return self.ref_leaf(leaf, s, negate, where)
        if isinstance(leaf.operand, Computed):
            raise Refused(f"{where} a computed amount")  # checks with computes stay on Python
        const = leaf.operand.value

        def cmp(o: str, c: Any) -> Expr:
            v = encode_item(fdef, c)
            j = _JSON_OP[o]
            return Expr("leaf", {s: v} if j is None else {j: {s: v}})

        def has(c: Any) -> Expr:
            return Expr("leaf", {"$iany": {s: {"$i": encode_item(fdef, c)}}})

        def lacks(c: Any) -> Expr:
            return Expr("leaf", {"$iall": {s: {"$neq": {"$i": encode_item(fdef, c)}}}})

        if op in _NEG:
            return _or([missing, cmp(_NEG[op], const)]) if negate else cmp(op, const)
        if op == "between":
            lo, hi = const
            if negate:
                return _or([missing, cmp("lt", lo), cmp("gt", hi)])
            return _and([cmp("gte", lo), cmp("lte", hi)])
        if op in ("in", "not_in"):
            any_of = _or(cmp("eq", c) for c in const)
            none_of = _and(cmp("ne", c) for c in const)  # false when missing, as ne is
            if op == "in":
                return _or([missing, none_of]) if negate else any_of
            return _or([missing, any_of]) if negate else none_of
        if op == "contains" and fdef.is_list:
            return _or([missing, lacks(const)]) if negate else has(const)
        if op == "contains_any":
            if negate:
                return _or([missing, _and(lacks(c) for c in const)])
            return _or(has(c) for c in const)
        if op == "contains_all":
            if negate:
                return _or([missing, *(lacks(c) for c in const)])
            return _and(has(c) for c in const)
        if op in ("contains", "matches"):
            if negate:
                raise Refused(f"`not` over {where}: durable has no negated regular expression")
            found = [str(const)] if op == "contains" else _search_literals(const.pattern)
            if found is None:
                raise Refused(
                    f"{where} {const.pattern!r}: only literals and alternations of "
                    "literals translate to durable's regular-expression dialect"
                )
            if any(lit == "" for lit in found):
                return present  # an empty alternative matches any (present) text
            return _or(
                Expr("leaf", {"$mt": {s: ".*" + _regex_literal(lit) + ".*"}}) for lit in found
            )
        raise Refused(f"operator {op} on {leaf.path.text} ({fdef.describe()})")

    def ref_leaf(self, leaf: Leaf, s: str, negate: bool, where: str) -> Expr:
        """``field op {ref: other}``: both must be present (durable compares a missing
        right-hand side as if it held)."""
        assert isinstance(leaf.operand, FieldRef)
        o = self.slot(leaf.operand.path)
        op = leaf.op
        here_missing: Expr = Expr("leaf", {"$nex": {s: 1}})
        there_missing: Expr = Expr("leaf", {"$nex": {o: 1}})
        there: Expr = Expr("leaf", {"$ex": {o: 1}})
        if op in _NEG:
            if negate:
                op = _NEG[op]
            j = _JSON_OP[op]
            c: Expr = Expr("leaf", {s: {"$m": o}} if j is None else {j: {s: {"$m": o}}})
            if negate:
                return _or([here_missing, there_missing, c])
            return _and([there, c])
        if op == "contains" and leaf.path.field.is_list:
            if negate:
                return _or(
                    [
                        here_missing,
                        there_missing,
                        Expr("leaf", {"$iall": {s: {"$neq": {"$i": {"$m": o}}}}}),
                    ]
                )
            return _and([there, Expr("leaf", {"$iany": {s: {"$i": {"$m": o}}}})])
        raise Refused(f"{where} {{ref: {leaf.operand.path.text}}}: no durable form")


# -- from expressions to durable rules ---------------------------------------------------------


def _nodes(e: Expr) -> int:
    if e.kind in ("and", "or"):
        return 1 + sum(_nodes(c) for c in e.items)
    return 0


def _dnf(e: Expr, cap: int) -> list[Expr]:
    """Disjunctive normal form: a list of conjunctions; Refused beyond ``cap`` alternatives."""
    if e.kind == "or":
        out: list[Expr] = []
        for c in e.items:
            out.extend(_dnf(c, cap))
            if len(out) > cap:
                raise Refused(f"the condition expands to more than {cap} alternatives")
        return out
    if e.kind == "and":
        acc: list[Expr] = [_TRUE]
        for c in e.items:
            acc = [_and([a, b]) for a in acc for b in _dnf(c, cap)]
            if len(acc) > cap:
                raise Refused(f"the condition expands to more than {cap} alternatives")
        return acc
    return [e]


def _json(e: Expr) -> dict[str, Any]:
    if e.kind == "leaf":
        return dict(e.items)
    kids = [_json(c) for c in e.items]
    while len(kids) > MAX_CHILDREN:  # nest oversized nodes (costs nodes, counted afterwards)
        kids = [
            {"$" + e.kind: kids[i : i + MAX_CHILDREN]} for i in range(0, len(kids), MAX_CHILDREN)
        ]
    return {"$" + e.kind: kids}


def or_children(j: Any) -> int:
    """Alternatives under every ``$or`` of a pattern: durable's budget is about 512 per ruleset."""
    if isinstance(j, dict):
        return sum((len(v) if k == "$or" else 0) + or_children(v) for k, v in j.items())
    if isinstance(j, list):
        return sum(or_children(v) for v in j)
    return 0


def alpha_paths(j: Any) -> int:
    """Alpha paths of a pattern in durable's network: the conjunctions of its disjunctive
    normal form (a ``$or`` adds its children's paths, a ``$and`` multiplies them)."""
    if isinstance(j, dict):
        n = 1
        for k, v in j.items():
            if k == "$or":
                n *= sum(alpha_paths(c) for c in v)
            elif k == "$and":
                n *= math.prod(alpha_paths(c) for c in v)
        return n
    return 1


def pattern_slots(j: Any) -> frozenset[str]:
    """The fact properties a pattern reads (its slots; never ``tag``)."""
    out: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, dict):
            for k, v in x.items():
                if k == "$m":  # another property of the same fact
                    out.add(str(v))
                elif not k.startswith("$") and k != TAG:
                    out.add(k)
                walk(v)

    walk(j)
    return frozenset(out)


def _fits(j: Any) -> bool:
    """Within durable's limits for one rule, leaving room in its ruleset for the catch-all."""
    return (
        _count_json(j) <= MAX_NODES
        and or_children(j) <= MAX_CHILDREN
        and alpha_paths(j) <= MAX_PATHS - 1
    )


def _count_json(j: Any) -> int:
    if isinstance(j, dict):
        return sum((k in ("$and", "$or")) + _count_json(v) for k, v in j.items())
    if isinstance(j, list):
        return sum(_count_json(v) for v in j)
    return 0


def rule_patterns(e: Expr, tag: str) -> list[dict[str, Any]]:
    """The ``m`` patterns of the durable rules whose union is ``e`` on facts tagged ``tag``.

    Each pattern respects durable's limits: at most 15 and/or nodes, at most 480 alternatives
    under its ``$or`` nodes, at most 59 alpha paths. An oversized top-level ``any`` is split
    into several rules; an oversized conjunction is expanded to its disjunctive normal form
    first.
    """
    if e == _FALSE:
        return []
    tag_leaf: Expr = Expr("leaf", {TAG: tag})
    alts = e.items if e.kind == "or" else [e]
    pieces: list[Expr] = []
    for a in alts:
        if _fits(_json(_and([tag_leaf, a]))):
            pieces.append(a)
        else:
            for conj in _dnf(a, 1024):
                if not _fits(_json(_and([tag_leaf, conj]))):
                    raise Refused(f"a conjunction needs more than {MAX_NODES} and/or nodes")
                pieces.append(conj)
    out: list[dict[str, Any]] = []
    group: list[Expr] = []

    def flush() -> None:
        if group:
            out.append(_json(_and([tag_leaf, _or(group)])))
            group.clear()

    for p in pieces:
        trial = _json(_and([tag_leaf, _or([*group, p])]))
        if group and not _fits(trial):
            flush()
        group.append(p)
    flush()
    return out


def compile_condition_json(
    cond: Condition | None, tag: str = "t"
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, FieldPath]]]:
    """A condition as durable ``m`` patterns (their union) and the slots they read.

    Exposed for tests and for inspecting what durable is given. ``None`` (no condition) is
    always true. Raises :class:`Refused` for constructs durable cannot express.
    """
    cc = ConditionCompiler()
    e = _TRUE if cond is None else cc.compile(cond)
    return rule_patterns(e, tag), cc.slots


# -- the plan: every durable rule of a pack set, as data -----------------------------------------


@dataclass(frozen=True)
class DurableRule:
    """One durable rule: when ``pattern`` matches a fact, every condition of ``keys`` holds for
    it (conditions that compile to the same pattern, such as a pack's shared ``applies``, share
    one durable rule)."""

    keys: tuple[tuple[str, str], ...]  # (rule id, condition slot such as "when")
    pattern: Mapping[str, Any]
    slots: frozenset[str] = frozenset()  # the fact properties ``pattern`` reads


def rulesets(rules: Sequence[DurableRule]) -> Iterator[tuple[DurableRule, ...]]:
    """``rules`` grouped into durable rulesets within durable's limits, with room for the
    engine's catch-all rule: at most :data:`MAX_RULES` rules, :data:`MAX_PATHS` alpha paths,
    :data:`MAX_CHILDREN` or-alternatives and :data:`MAX_SLOTS` fact properties each."""
    chunk: list[DurableRule] = []
    paths = children = 0
    slots: set[str] = set()
    for r in rules:
        p, c = alpha_paths(r.pattern), or_children(r.pattern)
        if chunk and (
            len(chunk) >= MAX_RULES - 1
            or paths + p > MAX_PATHS - 1
            or children + c > MAX_CHILDREN
            or len(slots | r.slots) > MAX_SLOTS
        ):
            yield tuple(chunk)
            chunk, paths, children, slots = [], 0, 0, set()
        chunk.append(r)
        paths, children = paths + p, children + c
        slots |= r.slots
    if chunk:
        yield tuple(chunk)


@dataclass(frozen=True)
class TypePlan:
    """The durable rules that judge records of one type, and how to build their facts."""

    type: str
    slots: tuple[tuple[str, FieldPath], ...]
    rules: tuple[DurableRule, ...]
    constant: Mapping[tuple[str, str], bool] = field(default_factory=dict)  # keys never asked


@dataclass(frozen=True)
class DurablePlan:
    """A pack set compiled for durable: pure data, no engine state."""

    python: CompiledPack
    types: tuple[TypePlan, ...]
    engines: Mapping[str, str]
    timed: frozenset[str] = frozenset()  # deadline/recurring rule ids durable judges


def timed_by_durable(rule: Any) -> bool:
    """True for the deadline and recurring rules durable's ``none()`` judges faithfully:
    at least one piece of evidence per period (or due date), in every stricter variant."""
    if isinstance(rule, Deadline):
        return rule.at_least == 1
    if isinstance(rule, Recurring):
        return rule.at_least == 1 and all(v.at_least == 1 for v in rule.stricter)
    return False


@lru_cache(maxsize=16)
def compile_plan(packs: PackSet) -> DurablePlan:
    """Compile every criterion and check of ``packs`` to durable rules (memoised by the pack
    set's identity, as :func:`~hazard_rules.engine.compile.compile_pack` is).

    Raises :class:`BackendError` naming the rule and the construct durable cannot express.
    """
    python = compile_pack(packs)
    engines: dict[str, str] = {}
    types: list[TypePlan] = []
    for tname, compiled in python.by_type.items():
        cc = ConditionCompiler()
        # pattern (as canonical JSON) → (pattern, slots it reads, the condition keys it serves)
        shared: dict[str, tuple[dict[str, Any], frozenset[str], list[tuple[str, str]]]] = {}
        constant: dict[tuple[str, str], bool] = {}
        for compiled_rule in compiled:
            rule = compiled_rule.rule
            assert isinstance(rule, (Criterion, Check))
            if isinstance(rule, Check) and rule.computes:
                continue  # computed amounts have no durable form: the Python evaluator judges it
            for slot, cond in rule_conditions(rule).items():
                key = (rule.meta.id, slot)
                if cond is None:
                    constant[key] = True
                    continue
                try:
                    e = cc.compile(cond)
                    patterns = [(p, pattern_slots(p)) for p in rule_patterns(e, tname)]
                    for _, read in patterns:
                        if len(read) > MAX_SLOTS:
                            raise Refused(
                                f"one alternative reads {len(read)} fields (durable holds at "
                                f"most {MAX_SLOTS} properties per fact)"
                            )
                except Refused as exc:
                    raise BackendError(
                        f"durable backend cannot express rule {rule.meta.id} ({slot}): {exc} "
                        f"[{rule.meta.span}]; use backend='python' for this rule"
                    ) from None
                if e in (_TRUE, _FALSE):
                    constant[key] = e == _TRUE
                    continue
                for p, read in patterns:
                    keys = shared.setdefault(json.dumps(p, sort_keys=True), (p, read, []))[2]
                    if key not in keys:
                        keys.append(key)
            engines[rule.meta.id] = "durable"
        rules = tuple(DurableRule(tuple(keys), p, read) for p, read, keys in shared.values())
        types.append(TypePlan(tname, tuple(cc.slots.values()), rules, constant))
    # in rule order (a set's order changes from run to run, and `engines` is output)
    by_durable = [c.rule.meta.id for c in python.timed if timed_by_durable(c.rule)]
    for rid in by_durable:
        engines[rid] = "durable"
    timed = frozenset(by_durable)
    for rule in packs.rules:
        engines.setdefault(rule.meta.id, "python")
    return DurablePlan(python, tuple(types), engines, timed)
