"""The durable-rules backend: compiles rule conditions to durable-rules rulesets (JSON) and runs
them in an engine instance this module owns, then lets the shared judge build the result.

What runs where (the result's ``engines`` says it per rule):

* ``criterion`` and ``check`` — every condition (``when``, ``applies``, ``where``, ``require``)
  is compiled to durable rules and judged by durable's Rete network; the procedure around it
  (effective spans, due/done dates, messages) is the shared code of :mod:`hazard_rules.evaluate`.
  Candidate hints of a criterion are plain Python regular expressions, as in the Python backend.
* ``deadline`` and ``recurring`` with ``at_least: 1`` (in every ``stricter`` variant too) — the
  "is there on-time evidence?" question is answered by durable's ``none()`` pattern: per
  subject, one session holds its evidence as ``activity`` facts (rule, placed period, day
  number), then its required periods (or the due date) whose due date is before as_of as
  ``window`` facts (rule, period, due day number); a rule over a window with no activity of its
  rule and period dated on or before its due fires at once and flags the window. Python then
  decides ``late`` vs ``missing`` for the flagged windows and renders the findings. Which
  periods are required, the evidence ``where``, ``stricter`` and period placement (a period
  label places the evidence, else its date) are the shared Python code of
  :mod:`hazard_rules.time_rules`, so durable sees exactly the windows and activities the Python
  evaluator would count.
* ``deadline`` and ``recurring`` with ``at_least`` > 1 (durable has no clean "at least N") and
  ``trend`` — judged by the Python evaluator (``"python"``).

The compiler pushes ``not`` down to the leaves (durable has no negation), with missing values
handled explicitly (SPEC §3.2: a missing field makes every operator false except
``exists: false``); ``in`` lists become alternatives; ``matches`` and text ``contains`` become
durable's full-match regular expressions ``.*literal.*`` when the pattern is a literal or an
alternation of literals. Anything durable cannot express faithfully is refused at compile time
with :class:`~hazard_rules.errors.BackendError` naming the rule and the construct.

Records are normalised before durable sees them: dates → ordinal integers, datetimes →
microseconds since the epoch, periods → labels, every field (also those reached through
references, such as ``enterprise.high_risk``) under a generated safe name, a unique integer
fact id each. durable-rules is imported lazily; without it
:class:`~hazard_rules.errors.BackendUnavailableError` says how to install it.
"""

from __future__ import annotations

import itertools
import math
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from types import ModuleType, TracebackType
from typing import Any

from hazard_rules.backends.python import Index, compile_getter
from hazard_rules.errors import BackendError, BackendUnavailableError
from hazard_rules.evaluate import CompiledPack, CompiledRule, compile_pack, judge
from hazard_rules.facts import FactSet
from hazard_rules.ir import (
    AllOf,
    AnyOf,
    AtLeast,
    Check,
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
from hazard_rules.periods import Period, period_of, periods_within
from hazard_rules.results import Result
from hazard_rules.schema import FieldDef
from hazard_rules.time_rules import TimeRules

__all__ = [
    "INSTALL_HINT",
    "DurableEngine",
    "DurablePlan",
    "compile_condition_json",
    "compile_plan",
    "durable_available",
    "evaluate_durable",
    "live_rulesets",
]

INSTALL_HINT = (
    "the durable backend needs durable-rules: pip install 'hazard-rules[durable]' "
    "(available for Python < 3.13 only: durable-rules 2.0.28 does not import on 3.13+)"
)

# durable-rules limits measured on 2.0.28 (see docs/backends.md)
MAX_NODES = 15  # and/or nodes in one rule (error 113 above)
MAX_CHILDREN = 480  # or-alternatives in one ruleset (create_ruleset hangs above 512 in total)
MAX_RULES = 40  # rules in one ruleset (about 250 failed with error 303)
MAX_AT_LEAST = 64  # alternatives an at_least may expand to
BATCH = 500  # facts asserted per session before delete_state
_EXACT_INT = 2**53

_TAG = "tag"  # every fact carries {"tag": <record type>}; rules test it positively
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_REGEX_META = frozenset("%()*+.?[]{}|")  # escaped with % in durable's dialect
_PY_META = frozenset("\\.^$*+?{}[]()|")

_live_lock = threading.Lock()
_live: set[tuple[int, str]] = set()


def durable_available() -> bool:
    """True when durable-rules can be imported on this Python."""
    try:
        _modules()
    except BackendUnavailableError:
        return False
    return True


def live_rulesets() -> int:
    """How many rulesets created by this module are still registered in the C engine."""
    with _live_lock:
        return len(_live)


def _modules() -> tuple[ModuleType, ModuleType]:
    """``(durable.engine, durable_rules_engine)``, imported lazily."""
    try:
        import durable_rules_engine
        from durable import engine
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BackendUnavailableError(INSTALL_HINT) from exc
    return engine, durable_rules_engine


# -- the condition compiler --------------------------------------------------------------------

# An expression in negation normal form: ("and", [..]) | ("or", [..]) | ("leaf", json) |
# ("true",) | ("false",)
Expr = tuple[Any, ...]
_TRUE: Expr = ("true",)
_FALSE: Expr = ("false",)
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
        out.extend(e[1] if e[0] == "and" else [e])
    if not out:
        return _TRUE
    return out[0] if len(out) == 1 else ("and", out)


def _or(items: Iterable[Expr]) -> Expr:
    out: list[Expr] = []
    for e in items:
        if e == _TRUE:
            return _TRUE
        if e == _FALSE:
            continue
        out.extend(e[1] if e[0] == "or" else [e])
    if not out:
        return _FALSE
    return out[0] if len(out) == 1 else ("or", out)


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
        missing: Expr = ("leaf", {"$nex": {s: 1}})
        present: Expr = ("leaf", {"$ex": {s: 1}})
        if op == "exists":
            want = bool(leaf.operand.value) if isinstance(leaf.operand, Const) else True
            return present if want != negate else missing
        if isinstance(leaf.operand, FieldRef):
            return self.ref_leaf(leaf, s, negate, where)
        const = leaf.operand.value

        def cmp(o: str, c: Any) -> Expr:
            v = encode_item(fdef, c)
            j = _JSON_OP[o]
            return ("leaf", {s: v} if j is None else {j: {s: v}})

        def has(c: Any) -> Expr:
            return ("leaf", {"$iany": {s: {"$i": encode_item(fdef, c)}}})

        def lacks(c: Any) -> Expr:
            return ("leaf", {"$iall": {s: {"$neq": {"$i": encode_item(fdef, c)}}}})

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
            return _or(("leaf", {"$mt": {s: ".*" + _regex_literal(lit) + ".*"}}) for lit in found)
        raise Refused(f"operator {op} on {leaf.path.text} ({fdef.describe()})")

    def ref_leaf(self, leaf: Leaf, s: str, negate: bool, where: str) -> Expr:
        """``field op {ref: other}``: both must be present (durable compares a missing
        right-hand side as if it held)."""
        assert isinstance(leaf.operand, FieldRef)
        o = self.slot(leaf.operand.path)
        op = leaf.op
        here_missing: Expr = ("leaf", {"$nex": {s: 1}})
        there_missing: Expr = ("leaf", {"$nex": {o: 1}})
        there: Expr = ("leaf", {"$ex": {o: 1}})
        if op in _NEG:
            if negate:
                op = _NEG[op]
            j = _JSON_OP[op]
            c: Expr = ("leaf", {s: {"$m": o}} if j is None else {j: {s: {"$m": o}}})
            if negate:
                return _or([here_missing, there_missing, c])
            return _and([there, c])
        if op == "contains" and leaf.path.field.is_list:
            if negate:
                return _or(
                    [
                        here_missing,
                        there_missing,
                        ("leaf", {"$iall": {s: {"$neq": {"$i": {"$m": o}}}}}),
                    ]
                )
            return _and([there, ("leaf", {"$iany": {s: {"$i": {"$m": o}}}})])
        raise Refused(f"{where} {{ref: {leaf.operand.path.text}}}: no durable form")


# -- from expressions to durable rules ---------------------------------------------------------


def _nodes(e: Expr) -> int:
    if e[0] in ("and", "or"):
        return 1 + sum(_nodes(c) for c in e[1])
    return 0


def _dnf(e: Expr, cap: int) -> list[Expr]:
    """Disjunctive normal form: a list of conjunctions; Refused beyond ``cap`` alternatives."""
    if e[0] == "or":
        out: list[Expr] = []
        for c in e[1]:
            out.extend(_dnf(c, cap))
            if len(out) > cap:
                raise Refused(f"the condition expands to more than {cap} alternatives")
        return out
    if e[0] == "and":
        acc: list[Expr] = [_TRUE]
        for c in e[1]:
            acc = [_and([a, b]) for a in acc for b in _dnf(c, cap)]
            if len(acc) > cap:
                raise Refused(f"the condition expands to more than {cap} alternatives")
        return acc
    return [e]


def _json(e: Expr) -> dict[str, Any]:
    if e[0] == "leaf":
        return dict(e[1])
    kids = [_json(c) for c in e[1]]
    while len(kids) > MAX_CHILDREN:  # nest oversized nodes (costs nodes, counted afterwards)
        kids = [{"$" + e[0]: kids[i : i + MAX_CHILDREN]} for i in range(0, len(kids), MAX_CHILDREN)]
    return {"$" + e[0]: kids}


def _or_children(j: Any) -> int:
    """Alternatives under every ``$or`` of a pattern: durable's budget is about 512 per ruleset."""
    if isinstance(j, dict):
        return sum((len(v) if k == "$or" else 0) + _or_children(v) for k, v in j.items())
    if isinstance(j, list):
        return sum(_or_children(v) for v in j)
    return 0


def _fits(j: Any) -> bool:
    return _count_json(j) <= MAX_NODES and _or_children(j) <= MAX_CHILDREN


def _count_json(j: Any) -> int:
    if isinstance(j, dict):
        return sum((k in ("$and", "$or")) + _count_json(v) for k, v in j.items())
    if isinstance(j, list):
        return sum(_count_json(v) for v in j)
    return 0


def rule_patterns(e: Expr, tag: str) -> list[dict[str, Any]]:
    """The ``m`` patterns of the durable rules whose union is ``e`` on facts tagged ``tag``.

    Each pattern respects durable's limits: at most 15 and/or nodes, at most 480 alternatives
    under its ``$or`` nodes. An oversized top-level ``any`` is split into several rules; an oversized
    conjunction is expanded to its disjunctive normal form first.
    """
    if e == _FALSE:
        return []
    tag_leaf: Expr = ("leaf", {_TAG: tag})
    alts = e[1] if e[0] == "or" else [e]
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
    """One durable rule: when ``pattern`` matches a fact, condition ``key`` holds for it."""

    key: tuple[str, str]  # (rule id, condition slot such as "when")
    pattern: Mapping[str, Any]


@dataclass(frozen=True)
class TypePlan:
    """The durable rules that judge records of one type, and how to build their facts."""

    type: str
    slots: tuple[tuple[str, FieldPath], ...]
    rules: tuple[DurableRule, ...]
    constant: Mapping[tuple[str, str], bool] = field(default_factory=dict)  # keys never asked


@dataclass(frozen=True)
class DurablePlan:
    """A pack set compiled for durable: pure data, cached on the pack set, no engine state."""

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


def _conditions(rule: Criterion | Check) -> dict[str, Condition | None]:
    if isinstance(rule, Criterion):
        return {"when": rule.when, "applies": rule.applies}
    return {"where": rule.where, "require": rule.require}


def compile_plan(packs: PackSet) -> DurablePlan:
    """Compile every criterion and check of ``packs`` to durable rules (cached on the set).

    Raises :class:`BackendError` naming the rule and the construct durable cannot express.
    """
    cached = packs._cache.get("durable")
    if isinstance(cached, DurablePlan):
        return cached
    python = compile_pack(packs)
    engines: dict[str, str] = {}
    types: list[TypePlan] = []
    for tname, compiled in python.by_type.items():
        cc = ConditionCompiler()
        rules: list[DurableRule] = []
        constant: dict[tuple[str, str], bool] = {}
        for cr in compiled:
            rule = cr.rule
            assert isinstance(rule, (Criterion, Check))
            for slot, cond in _conditions(rule).items():
                key = (rule.meta.id, slot)
                if cond is None:
                    constant[key] = True
                    continue
                try:
                    e = cc.compile(cond)
                    patterns = rule_patterns(e, tname)
                except Refused as exc:
                    raise BackendError(
                        f"durable backend cannot express rule {rule.meta.id} ({slot}): {exc} "
                        f"[{rule.meta.span}]; use backend='python' for this rule"
                    ) from None
                if e in (_TRUE, _FALSE):
                    constant[key] = e == _TRUE
                    continue
                rules.extend(DurableRule(key, p) for p in patterns)
            engines[rule.meta.id] = "durable"
        types.append(TypePlan(tname, tuple(cc.slots.values()), tuple(rules), constant))
    timed = frozenset(cr.rule.meta.id for cr in python.timed if timed_by_durable(cr.rule))
    for rid in timed:
        engines[rid] = "durable"
    for rule in packs.rules:
        engines.setdefault(rule.meta.id, "python")
    plan = DurablePlan(python, tuple(types), engines, timed)
    packs._cache["durable"] = plan
    return plan


# -- the engine adapter ------------------------------------------------------------------------


def _host_class(engine: ModuleType) -> type[Any]:
    class SyncHost(engine.Host):  # type: ignore[misc, name-defined]
        """A durable Host without its two timer threads: actions run in the caller's thread."""

        def _run(self) -> None:  # the stock Host starts timer threads here
            return None

    return SyncHost


class DurableEngine:
    """Owns one durable Host and the rulesets of one compiled pack set.

    Ruleset names are unique per engine, so several engines (and several evaluations) can live
    in one process; :meth:`close` frees the rulesets in the C engine. Use it as a context
    manager, or call :meth:`close`. Not thread-safe: one evaluation at a time per engine.
    """

    def __init__(self, packs: PackSet) -> None:
        self.plan = compile_plan(packs)
        engine, self._core = _modules()
        self._engine = engine
        self._host = _host_class(engine)()
        self._hits: dict[tuple[str, str], set[int]] = defaultdict(set)
        self._errors: list[BaseException] = []
        self._rulesets: dict[str, list[str]] = {}  # record type → ruleset names
        self._handles: list[tuple[int, str]] = []
        self._fact_ids = itertools.count(1)
        self._sids = itertools.count(1)
        self._closed = False
        self._late: set[int] = set()  # window fact ids with no on-time activity
        self._timed_ruleset: str | None = None
        try:
            for tp in self.plan.types:
                self._rulesets[tp.type] = self._register(tp)
            if self.plan.timed:
                self._timed_ruleset = self._register_timed()
        except BaseException:
            self.close()
            raise

    def _action(self, key: tuple[str, str]) -> Callable[[Any], None]:
        hits = self._hits[key]
        errors = self._errors

        def run(c: Any) -> None:  # exactly one parameter: two would make durable treat it as async
            try:
                hits.add(int(c.m["id"]))
            except BaseException as exc:  # surfaced after the call, see _call
                errors.append(exc)

        return run

    def _register(self, tp: TypePlan) -> list[str]:
        names = []
        for chunk in _chunks(list(tp.rules)):
            name = f"hazard_rules_{uuid.uuid4().hex}"
            definition: dict[str, Any] = {
                f"r{i}": {"all": [{"m": dict(r.pattern)}], "run": self._action(r.key)}
                for i, r in enumerate(chunk)
            }
            # a catch-all at the lowest priority: every fact matches something
            definition["seen"] = {"pri": 1000, "all": [{"m": {_TAG: tp.type}}], "run": _ignore}
            try:
                self._host.register_rulesets({name: definition})
            except Exception as exc:
                raise BackendError(f"durable rejected the ruleset for {tp.type}: {exc}") from exc
            handle = self._host.get_ruleset(name)._handle
            self._handles.append((handle, name))
            with _live_lock:
                _live.add((id(self), name))
            names.append(name)
        return names

    def _register_timed(self) -> str:
        """The one ruleset of the time-based rules: a window with no on-time activity of its
        rule and period (activities are asserted first, so it fires at once, never withdrawn)."""
        name = f"hazard_rules_{uuid.uuid4().hex}"
        late = self._late
        errors = self._errors

        def flag(c: Any) -> None:  # one parameter: two would make durable treat it as async
            try:
                late.add(int(c.w["id"]))
            except BaseException as exc:  # surfaced after the call, see _call
                errors.append(exc)

        definition: dict[str, Any] = {
            "no_on_time": {
                "all": [
                    {"w": {_TAG: "window"}},
                    {
                        "m_1$not": {
                            "$and": [
                                {_TAG: "activity"},
                                {"rule": {"w": "rule"}},
                                {"period": {"w": "period"}},
                                {"$lte": {"day": {"w": "due"}}},
                            ]
                        }
                    },
                ],
                "run": flag,
            },
            "seen": {
                "pri": 1000,
                "all": [{"m": {"$or": [{_TAG: "window"}, {_TAG: "activity"}]}}],
                "run": _ignore,
            },
        }
        try:
            self._host.register_rulesets({name: definition})
        except Exception as exc:
            raise BackendError(f"durable rejected the time-rules ruleset: {exc}") from exc
        handle = self._host.get_ruleset(name)._handle
        self._handles.append((handle, name))
        with _live_lock:
            _live.add((id(self), name))
        return name

    def timed_verdicts(self, facts: FactSet, as_of: date) -> dict[str, Callable[[str, str], bool]]:
        """Rule id → on-time verdict ``(subject id, period label or "") → bool`` for every
        deadline and recurring rule durable judges, decided by durable's ``none()`` rule."""
        if self._closed:
            raise BackendError("this durable engine was closed")
        if self._timed_ruleset is None:
            return {}
        probe = TimeRules(self.plan.python, facts, as_of, False)
        # per subject: activity facts, window facts; a window id → (rule id, subject, period)
        acts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        wins: dict[str, list[dict[str, Any]]] = defaultdict(list)
        where: dict[int, tuple[str, str, str]] = {}
        rules = [cr for cr in self.plan.python.timed if cr.rule.meta.id in self.plan.timed]
        for n, cr in enumerate(rules):
            for sid, label, day in _activities(probe, cr):
                fact = {"id": next(self._fact_ids), _TAG: "activity", "rule": n}
                acts[sid].append({**fact, "period": label, "day": day})
            for sid, label, due in _windows(probe, cr):
                fid = next(self._fact_ids)
                wins[sid].append(
                    {"id": fid, _TAG: "window", "rule": n, "period": label, "due": due}
                )
                where[fid] = (cr.rule.meta.id, sid, label)
        name = self._timed_ruleset
        self._late.clear()
        try:
            for subject, windows in wins.items():
                sid = f"s{next(self._sids)}"  # one subject per session, deleted after
                try:
                    if acts.get(subject):
                        self._call(
                            self._host.assert_facts,
                            name,
                            [{**f, "sid": sid} for f in acts[subject]],
                        )
                    self._call(self._host.assert_facts, name, [{**f, "sid": sid} for f in windows])
                finally:
                    self._host.delete_state(name, sid)
            flagged: dict[str, set[tuple[str, str]]] = defaultdict(set)
            for fid in self._late:
                rid, subject, label = where[fid]
                flagged[rid].add((subject, label))
        finally:
            self._late.clear()
        return {cr.rule.meta.id: _not_flagged(flagged[cr.rule.meta.id]) for cr in rules}

    def close(self) -> None:
        """Free every ruleset of this engine in the C core (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for handle, name in self._handles:
            try:
                self._core.delete_ruleset(handle)
            finally:
                with _live_lock:
                    _live.discard((id(self), name))
        self._handles.clear()

    def __enter__(self) -> DurableEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except self._engine.MessageNotHandledException as exc:
            raise BackendError(f"durable did not handle a fact: {exc.message}") from None
        except self._engine.MessageObservedException as exc:
            raise BackendError(f"durable saw a fact twice: {exc.message}") from None
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"durable failed: {exc}") from exc
        if self._errors:
            first = self._errors[0]
            self._errors.clear()
            raise BackendError(f"a durable action failed: {first!r}") from first

    def facts(
        self, tp: TypePlan, records: Iterable[Mapping[str, Any]], idx: Index
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Normalised facts ``(record id, fact)`` for records of ``tp.type``."""
        getters = [(slot, path.field, compile_getter(path)) for slot, path in tp.slots]
        for rec in records:
            fact: dict[str, Any] = {"id": next(self._fact_ids), _TAG: tp.type}
            for slot, fdef, get in getters:
                value = get(rec, idx)
                if value is None or value == [] or value == ():
                    continue
                try:
                    fact[slot] = encode(fdef, value)
                except Refused as exc:
                    raise BackendError(
                        f"{tp.type} {rec.get('id')!r}: cannot be given to durable: {exc}"
                    ) from None
            yield str(rec["id"]), fact

    def matches(self, facts: FactSet) -> dict[tuple[str, str], set[str]]:
        """Run every record through durable: condition key → ids of the records it holds for."""
        if self._closed:
            raise BackendError("this durable engine was closed")
        out: dict[tuple[str, str], set[str]] = {}
        for tp in self.plan.types:
            records = facts.records.get(tp.type, {})
            self._reset_hits()
            by_fact: dict[int, str] = {}
            batch: list[dict[str, Any]] = []
            for rid, fact in self.facts(tp, records.values(), facts.records):
                by_fact[fact["id"]] = rid
                batch.append(fact)
                if len(batch) >= BATCH:
                    self._run_batch(tp, batch)
                    batch = []
            if batch:
                self._run_batch(tp, batch)
            keys = {r.key for r in tp.rules}
            for key in keys:
                out[key] = {by_fact[i] for i in self._hits.get(key, ())}
        self._reset_hits()
        return out

    def _reset_hits(self) -> None:
        for ids in self._hits.values():  # the actions hold these sets: empty, never replace
            ids.clear()

    def _run_batch(self, tp: TypePlan, batch: list[dict[str, Any]]) -> None:
        for name in self._rulesets[tp.type]:
            sid = f"s{next(self._sids)}"
            try:
                # one call per batch; the catch-all rule makes every fact match something
                self._call(self._host.assert_facts, name, [{**f, "sid": sid} for f in batch])
            finally:
                self._host.delete_state(name, sid)

    def evaluate(
        self, facts: FactSet, as_of: date, *, explain: bool = False, show_unmapped: bool = False
    ) -> Result:
        """Judge ``facts`` as of ``as_of``: conditions of criteria and checks by durable, the
        rest by the shared Python code; ``engines`` in the result says which judged what."""
        hits = self.matches(facts)
        by_type: dict[str, tuple[CompiledRule, ...]] = {}
        plans = {tp.type: tp for tp in self.plan.types}
        for tname, compiled in self.plan.python.by_type.items():
            tp = plans[tname]
            swapped = []
            for cr in compiled:
                preds = dict(cr.preds)
                for slot in preds:
                    key = (cr.rule.meta.id, slot)
                    if key in tp.constant:
                        preds[slot] = _constant(tp.constant[key])
                    elif key in hits:
                        preds[slot] = _member(hits[key])
                swapped.append(CompiledRule(cr.rule, preds, cr.hints))
            by_type[tname] = tuple(swapped)
        verdicts = self.timed_verdicts(facts, as_of)
        timed = tuple(
            CompiledRule(cr.rule, cr.preds, cr.hints, verdicts[cr.rule.meta.id])
            if cr.rule.meta.id in verdicts
            else cr
            for cr in self.plan.python.timed
        )
        compiled_pack = CompiledPack(self.plan.python.packs, by_type, timed)
        result = judge(compiled_pack, facts, as_of, explain=explain, show_unmapped=show_unmapped)
        return result.model_copy(update={"engines": dict(self.plan.engines)})


def _chunks(rules: list[DurableRule]) -> Iterator[list[DurableRule]]:
    """Rules grouped into rulesets within durable's limits (rules and or-alternatives)."""
    chunk: list[DurableRule] = []
    budget = 0
    for r in rules:
        cost = _or_children(r.pattern)
        if chunk and (len(chunk) >= MAX_RULES - 1 or budget + cost > MAX_CHILDREN):
            yield chunk
            chunk, budget = [], 0
        chunk.append(r)
        budget += cost
    yield chunk


def _ignore(c: Any) -> None:
    return None


def _not_flagged(flagged: set[tuple[str, str]]) -> Callable[[str, str], bool]:
    return lambda subject, label: (subject, label) not in flagged


def _activities(probe: TimeRules, cr: CompiledRule) -> Iterator[tuple[str, str, int]]:
    """(subject id, placed period label or "", day number) of every piece of evidence the
    Python evaluator would count for ``cr`` (its ``where``, dated, not after as_of)."""
    rule = cr.rule
    assert isinstance(rule, (Deadline, Recurring))
    index = probe.evidence_index(cr, rule.evidence)
    if isinstance(rule, Deadline):
        for sid, ev in index.items():
            for d, _, _ in ev:
                yield sid, "", d.toordinal()
        return
    for subj in probe.subjects(cr, rule.subject.type):
        every = probe.frequency(cr, rule, subj)[0]
        for d, label, _ in index.get(subj["id"], ()):
            # a period label places the evidence; without one its date does
            p = label if label is not None else period_of(d, every)
            if p.every == every:
                yield subj["id"], p.label, d.toordinal()


def _windows(probe: TimeRules, cr: CompiledRule) -> Iterator[tuple[str, str, int]]:
    """(subject id, period label or "", due day number) of every required period (or due date)
    of ``cr`` whose due date is before as_of, as :mod:`hazard_rules.time_rules` visits them."""
    rule = cr.rule
    assert isinstance(rule, (Deadline, Recurring))
    if isinstance(rule, Deadline):
        due = rule.due
        if not rule.meta.in_effect(due) or not due < probe.as_of:
            return
        for subj in probe.subjects(cr, rule.subject.type):
            if probe.active(rule.subject.type, subj, due, due):
                yield subj["id"], "", due.toordinal()
        return
    for subj in probe.subjects(cr, rule.subject.type):
        every, _, day = probe.frequency(cr, rule, subj)
        lo, hi = probe.required_span(rule, subj)
        if lo is None:
            continue
        for period in periods_within(lo, hi, every):
            due = period.due(day)
            if not due < probe.as_of:
                break
            yield subj["id"], period.label, due.toordinal()


def _constant(value: bool) -> Callable[[Mapping[str, Any], Index], bool]:
    return lambda rec, idx: value


def _member(ids: set[str]) -> Callable[[Mapping[str, Any], Index], bool]:
    return lambda rec, idx: str(rec["id"]) in ids


def evaluate_durable(
    packs: PackSet,
    facts: FactSet,
    as_of: date,
    *,
    explain: bool = False,
    show_unmapped: bool = False,
) -> Result:
    """``evaluate(..., backend="durable")``: a fresh engine per call, freed before returning."""
    _modules()
    with DurableEngine(packs) as engine:
        return engine.evaluate(facts, as_of, explain=explain, show_unmapped=show_unmapped)
