"""The durable-rules backend: compiles rule conditions to durable-rules rulesets (JSON) and runs
them in an engine instance this module owns, then lets the shared judge build the result.

What runs where (the result's ``engines`` says it per rule):

* ``criterion`` and ``check`` — every condition (``when``, ``applies``, ``where``, ``require``)
  is compiled to durable rules and judged by durable's Rete network; the procedure around it
  (effective spans, due/done dates, messages) is the shared code of :mod:`hazard_rules.engine.judge`.
  Candidate hints of a criterion are plain Python regular expressions, as in the Python backend.
* ``deadline`` and ``recurring`` with ``at_least: 1`` (in every ``stricter`` variant too) — the
  "is there on-time evidence?" question is answered by durable's ``none()`` pattern: per
  subject, one session holds its evidence as ``activity`` facts (rule, placed period, day
  number), then its required periods (or the due date) whose due date is before as_of as
  ``window`` facts (rule, period, due day number); a rule over a window with no activity of its
  rule and period dated on or before its due fires at once and flags the window. Python then
  decides ``late`` vs ``missing`` for the flagged windows and renders the findings. Which
  periods are required, the evidence ``where``, ``stricter`` and period placement (a period
  label places the evidence, else its date) come from the public windows of
  :mod:`hazard_rules.engine.windows`, so durable sees exactly the windows and evidence the
  Python evaluator judges.
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
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, timedelta
from types import ModuleType, TracebackType
from typing import Any

from hazard_rules.backends.durable.compile import (
    TAG,
    DurablePlan,
    Refused,
    TypePlan,
    compile_condition_json,
    compile_plan,
    encode,
    rulesets,
)
from hazard_rules.backends.python import Index, compile_getter
from hazard_rules.engine.compile import CompiledPack, CompiledRule
from hazard_rules.engine.judge import judge
from hazard_rules.engine.windows import RuleWindows
from hazard_rules.errors import BackendError, BackendUnavailableError
from hazard_rules.facts.collect import FactSet
from hazard_rules.packs import PackSet
from hazard_rules.results import Result

__all__ = [
    "INSTALL_HINT",
    "DurableEngine",
    "DurablePlan",
    "compile_condition_json",
    "compile_plan",
    "durable_available",
    "evaluate_durable",
]

INSTALL_HINT = (
    "the durable backend needs durable-rules: pip install 'hazard-rules[durable]' "
    "(available for Python < 3.13 only: durable-rules 2.0.28 does not import on 3.13+)"
)

# durable-rules limits measured on 2.0.28 (see docs/backends.md; the ruleset limits are in
# compile.py)
BATCH = 500  # facts asserted per session before delete_state


def durable_available() -> bool:
    """True when durable-rules can be imported on this Python."""
    try:
        _modules()
    except BackendUnavailableError:
        return False
    return True


def _modules() -> tuple[ModuleType, ModuleType]:
    """``(durable.engine, durable_rules_engine)``, imported lazily."""
    try:
        import durable_rules_engine
        from durable import engine
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BackendUnavailableError(INSTALL_HINT) from exc
    return engine, durable_rules_engine


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
        # record type → (ruleset name, the fact properties its rules read)
        self._rulesets: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        self._handles: list[tuple[int, str]] = []
        self._fact_ids = itertools.count(1)
        self._sids = itertools.count(1)
        self._closed = False
        self._broken: str | None = None  # why durable's state can no longer be trusted
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

    def _action(self, keys: tuple[tuple[str, str], ...]) -> Callable[[Any], None]:
        hits = [self._hits[key] for key in keys]
        errors = self._errors

        def run(c: Any) -> None:  # exactly one parameter: two would make durable treat it as async
            try:
                fid = int(c.m["id"])
                for held in hits:
                    held.add(fid)
            except BaseException as exc:  # surfaced after the call, see _call
                errors.append(exc)

        return run

    def _register(self, tp: TypePlan) -> list[tuple[str, tuple[str, ...]]]:
        names = []
        for chunk in rulesets(tp.rules):
            name = f"hazard_rules_{uuid.uuid4().hex}"
            definition: dict[str, Any] = {
                f"r{i}": {"all": [{"m": dict(r.pattern)}], "run": self._action(r.keys)}
                for i, r in enumerate(chunk)
            }
            # a catch-all at the lowest priority: every fact matches something
            definition["seen"] = {"pri": 1000, "all": [{"m": {TAG: tp.type}}], "run": _ignore}
            try:
                self._host.register_rulesets({name: definition})
            except Exception as exc:
                raise BackendError(f"durable rejected the ruleset for {tp.type}: {exc}") from exc
            self._handles.append((self._host.get_ruleset(name)._handle, name))
            names.append((name, tuple(sorted(set().union(*(r.slots for r in chunk))))))
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
                    {"w": {TAG: "window"}},
                    {
                        "m_1$not": {
                            "$and": [
                                {TAG: "activity"},
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
                "all": [{"m": {"$or": [{TAG: "window"}, {TAG: "activity"}]}}],
                "run": _ignore,
            },
        }
        try:
            self._host.register_rulesets({name: definition})
        except Exception as exc:
            raise BackendError(f"durable rejected the time-rules ruleset: {exc}") from exc
        self._handles.append((self._host.get_ruleset(name)._handle, name))
        return name

    def timed_verdicts(self, facts: FactSet, as_of: date) -> dict[str, Callable[[str, str], bool]]:
        """Rule id → on-time verdict ``(subject id, period label or "") → bool`` for every
        deadline and recurring rule durable judges, decided by durable's ``none()`` rule."""
        self._check_usable()
        if self._timed_ruleset is None:
            return {}
        # per subject: activity facts, window facts; a window id → (rule id, subject, period)
        acts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        wins: dict[str, list[dict[str, Any]]] = defaultdict(list)
        where: dict[int, tuple[str, str, str]] = {}
        rules = [c for c in self.plan.python.timed if c.rule.meta.id in self.plan.timed]
        schema = self.plan.python.packs.schema
        day_before = as_of - timedelta(days=1)
        for n, compiled_rule in enumerate(rules):
            # the windows the Python evaluator judges (due before as_of), each with the
            # evidence placed in it; durable decides which have no activity on time
            rw = RuleWindows(compiled_rule, facts.records, schema, as_of)
            for subject_record in rw.subjects():
                sid = subject_record["id"]
                for w in rw.windows(subject_record, due_until=day_before):
                    label = w.period.label if w.period is not None else ""
                    for e in w.evidence:
                        fact = {"id": next(self._fact_ids), TAG: "activity", "rule": n}
                        acts[sid].append({**fact, "period": label, "day": e.day.toordinal()})
                    fid = next(self._fact_ids)
                    due = w.due.toordinal()
                    wins[sid].append(
                        {"id": fid, TAG: "window", "rule": n, "period": label, "due": due}
                    )
                    where[fid] = (compiled_rule.rule.meta.id, sid, label)
        name = self._timed_ruleset
        self._late.clear()
        try:
            for subject, subject_windows in wins.items():
                # one subject per session: its activities first, then its windows
                batches = [acts[subject]] if acts.get(subject) else []
                self._session(name, [*batches, subject_windows])
            flagged: dict[str, set[tuple[str, str]]] = defaultdict(set)
            for fid in self._late:
                rid, subject, label = where[fid]
                flagged[rid].add((subject, label))
        finally:
            self._late.clear()
        return {
            compiled_rule.rule.meta.id: _not_flagged(flagged[compiled_rule.rule.meta.id])
            for compiled_rule in rules
        }

    def close(self) -> None:
        """Free every ruleset of this engine in the C core (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            for handle, _name in self._handles:
                self._core.delete_ruleset(handle)
        finally:
            self._handles.clear()

    @property
    def live_rulesets(self) -> int:
        """How many of this engine's rulesets are still registered in durable's C core (0 once
        closed)."""
        return len(self._handles)

    def __enter__(self) -> DurableEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_usable(self) -> None:
        if self._closed:
            raise BackendError("this durable engine was closed")
        if self._broken is not None:
            raise BackendError(
                f"this durable engine is unusable: durable failed earlier ({self._broken})"
            )

    def _session(self, name: str, batches: Iterable[list[dict[str, Any]]]) -> None:
        """Assert ``batches`` (in order) into a new session of ruleset ``name``, then delete the
        session — unless durable's C core failed inside a call. Such a failure (error 303, for
        one) can leave the session half-created, and delete_state on it frees uninitialised
        pointers and kills the process; the session is left alone instead, the engine refuses
        further work (:attr:`_broken`) and :meth:`close` still frees its rulesets, which is
        safe."""
        sid = f"s{next(self._sids)}"
        try:
            for facts in batches:
                self._call(self._host.assert_facts, name, [{**f, "sid": sid} for f in facts])
        finally:
            if self._broken is None:
                self._host.delete_state(name, sid)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except self._engine.MessageNotHandledException as exc:  # durable finished the call
            raise BackendError(f"durable did not handle a fact: {exc.message}") from None
        except self._engine.MessageObservedException as exc:  # durable finished the call
            raise BackendError(f"durable saw a fact twice: {exc.message}") from None
        except BackendError:
            raise
        except Exception as exc:  # durable's C core (or its wrapper) failed inside the call
            self._broken = str(exc)
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
            fact: dict[str, Any] = {"id": next(self._fact_ids), TAG: tp.type}
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
        self._check_usable()
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
            keys = {key for r in tp.rules for key in r.keys}
            for key in keys:
                out[key] = {by_fact[i] for i in self._hits.get(key, ())}
        self._reset_hits()
        return out

    def _reset_hits(self) -> None:
        for ids in self._hits.values():  # the actions hold these sets: empty, never replace
            ids.clear()

    def _run_batch(self, tp: TypePlan, batch: list[dict[str, Any]]) -> None:
        for name, slots in self._rulesets[tp.type]:
            # each ruleset is given only the properties its rules read (durable's C core holds
            # at most 254 per fact); one call per batch, and the catch-all rule makes every
            # fact match something
            given = [
                {"id": f["id"], TAG: f[TAG], **{s: f[s] for s in slots if s in f}} for f in batch
            ]
            self._session(name, [given])

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
            for compiled_rule in compiled:
                preds = dict(compiled_rule.preds)
                for slot in preds:
                    key = (compiled_rule.rule.meta.id, slot)
                    if key in tp.constant:
                        preds[slot] = _constant(tp.constant[key])
                    elif key in hits:
                        preds[slot] = _member(hits[key])
                swapped.append(CompiledRule(compiled_rule.rule, preds, compiled_rule.hints))
            by_type[tname] = tuple(swapped)
        verdicts = self.timed_verdicts(facts, as_of)
        timed = tuple(
            CompiledRule(
                compiled_rule.rule,
                compiled_rule.preds,
                compiled_rule.hints,
                verdicts[compiled_rule.rule.meta.id],
            )
            if compiled_rule.rule.meta.id in verdicts
            else compiled_rule
            for compiled_rule in self.plan.python.timed
        )
        compiled_pack = CompiledPack(self.plan.python.packs, by_type, timed)
        result = judge(compiled_pack, facts, as_of, explain=explain, show_unmapped=show_unmapped)
        return result.model_copy(update={"engines": dict(self.plan.engines)})


def _ignore(c: Any) -> None:
    return None


def _not_flagged(flagged: set[tuple[str, str]]) -> Callable[[str, str], bool]:
    return lambda subject, label: (subject, label) not in flagged


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
