"""Evaluation of every rule kind over a fact set, as of one date → :class:`Result`.

Cost: conditions are compiled once per pack set (:func:`compile_pack`). Per evaluation,
``criterion`` and ``check`` rules visit each record of their type once (the criteria of a
type through one generated classifier). Time-based rules (:mod:`hazard_rules.engine.time_rules`)
index their evidence once per rule by subject, then visit each subject's required periods:
the total is O(records + subjects × periods) per rule, never records × periods.

Semantics follow SPEC §3.3–§3.4 to the letter; the notable ones:

* a record whose own date is after ``as_of`` does not exist; a ``done`` date after ``as_of``
  has not happened; undated evidence is not counted;
* due dates are inclusive and judged only when strictly before ``as_of``;
* periods are required only when wholly inside the window, the rule's ``effective`` span and
  the subject's active span; a deadline binds subjects active on its due date; a trend binds
  subjects active over both whole periods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from hazard_rules.backends.python import compile_compute
from hazard_rules.engine.compile import CompiledPack, CompiledRule, Finding
from hazard_rules.engine.judging import Judging, Record, check_due
from hazard_rules.engine.time_rules import TimeRuleJudge
from hazard_rules.facts.collect import FactSet, RawRow, collect_facts
from hazard_rules.ir import (
    Check,
    Condition,
    Criterion,
    Deadline,
    FieldRef,
    Leaf,
    NotOf,
    Recurring,
    Trend,
)
from hazard_rules.periods import date_of
from hazard_rules.results import Candidate, Classification, Result, label_key, summarize

__all__ = ["Evaluation", "judge", "judge_findings", "judge_stream", "retention"]


class RecordRules:
    """Judging of ``criterion`` and ``check`` rules, record by record (the criteria of a type
    through its generated classifier, when it has one)."""

    def __init__(self, judging: Judging) -> None:
        self.judging = judging
        self._computes: dict[str, tuple[tuple[str, Any], ...]] = {}

    def records(self) -> None:
        """Judge the criterion and check rules over every record held in the fact set."""
        for tname in self.judging.compiled.by_type:
            records: Sequence[Record] = list(self.judging.idx.get(tname, {}).values())
            if self.judging.part is not None:
                records = [
                    r for r in records if self.judging.mine(self.judging.subject_of(tname, r).id)
                ]
            self.record_batch(tname, records)

    def record_batch(self, tname: str, records: Sequence[Record]) -> None:
        """Judge the criterion and check rules of ``tname`` over a batch of its records
        (as they are read, when streaming; the records must stay readable until the end
        only if a time-based rule needs them)."""
        rules = self.judging.compiled.by_type.get(tname)
        if not rules:
            return
        checks = [
            (compiled_rule, compiled_rule.rule)
            for compiled_rule in rules
            if isinstance(compiled_rule.rule, Check)
        ]
        # the generated classifier when there is one; else the predicates one by one
        # (a backend that swaps predicates, such as durable, builds no classifier)
        classify, criteria = self.judging.compiled.classifiers.get(tname, (None, ()))
        reference = [
            (compiled_rule, compiled_rule.rule)
            for compiled_rule in rules
            if isinstance(compiled_rule.rule, Criterion)
        ]
        if classify is not None:
            seen: set[str] = set()
            for rec, proven, leads in classify(records, self.judging.idx, self.judging.as_of):
                for i in proven:
                    self.classified(criteria[i], tname, rec)
                for i in leads:
                    self.candidate(criteria[i], tname, rec)
                seen.add(rec["id"])
            if self.judging.want_unmapped:
                self.judging.unmapped.extend(
                    self.judging.ref(tname, r["id"])
                    for r in records
                    if r["id"] not in seen and self.judging.exists(tname, r)
                )
        elif reference:
            for rec in records:
                if not self.judging.exists(tname, rec):
                    continue
                mapped = False
                for compiled_rule, crit in reference:
                    mapped |= self.criterion(compiled_rule, crit, tname, rec)
                if not mapped and self.judging.want_unmapped:
                    self.judging.unmapped.append(self.judging.ref(tname, rec["id"]))
        if checks:
            for rec in records:
                if self.judging.exists(tname, rec):
                    for compiled_rule, rule in checks:
                        self.check(compiled_rule, rule, tname, rec)

    def criterion(
        self, compiled_rule: CompiledRule, rule: Criterion, tname: str, rec: Record
    ) -> bool:
        """The reference path (closures): judge one criterion on one record; True if mapped."""
        day = self.judging.own_date(tname, rec)
        if day is not None and not rule.meta.in_effect(day):
            return False
        if not compiled_rule.preds["applies"](rec, self.judging.idx):
            return False
        if compiled_rule.preds["when"](rec, self.judging.idx):
            self.classified(compiled_rule, tname, rec)
            return True
        text = rec.get(rule.hint_field) if rule.hint_field else None
        if isinstance(text, str) and any(h.search(text) for h in compiled_rule.hints):
            self.candidate(compiled_rule, tname, rec)
            return True
        return False

    def classified(self, compiled_rule: CompiledRule, tname: str, rec: Record) -> None:
        rule = compiled_rule.rule
        assert isinstance(rule, Criterion)
        ref = self.judging.ref(tname, rec["id"])
        subject = self.judging.subject_of(tname, rec)
        self.judging.classifications.append(
            Classification(
                record=ref,
                subject=subject,
                label=rule.label,
                rule=rule.meta.id,
                cite=rule.meta.cite,
                title=rule.meta.title,
                label_name=self.judging.label_name(tname, rule.label, rule.declared),
            )
        )
        if rule.declared is not None and rec.get(rule.declared) != rule.label:
            self.judging.add(
                rule.meta,
                "misclassified",
                subject,
                record=ref,
                rec=rec,
                extra={"label": rule.label, "declared": rec.get(rule.declared)},
                trace=self.judging.trace(compiled_rule, rec, tname),
            )

    def candidate(self, compiled_rule: CompiledRule, tname: str, rec: Record) -> None:
        rule = compiled_rule.rule
        assert isinstance(rule, Criterion)
        text = rec.get(rule.hint_field) if rule.hint_field else None
        hits = [h.pattern for h in compiled_rule.hints if isinstance(text, str) and h.search(text)]
        self.judging.candidates.append(
            Candidate(
                record=self.judging.ref(tname, rec["id"]),
                subject=self.judging.subject_of(tname, rec),
                rule=rule.meta.id,
                cite=rule.meta.cite,
                title=rule.meta.title,
                hints=hits,
            )
        )

    def amounts(self, rule: Check, rec: Record) -> dict[str, Any]:
        """The check's computed amounts for one record, for its messages (empty without
        ``compute``)."""
        if not rule.computes:
            return {}
        getters = self._computes.get(rule.meta.id)
        if getters is None:
            getters = self._computes[rule.meta.id] = tuple(
                (c.name, compile_compute(c)) for c in rule.computes
            )
        return {name: get(rec, self.judging.idx) for name, get in getters}

    def check(self, compiled_rule: CompiledRule, rule: Check, tname: str, rec: Record) -> None:
        if not compiled_rule.preds["where"](rec, self.judging.idx):
            return
        ref = self.judging.ref(tname, rec["id"])
        subject = self.judging.subject_of(tname, rec)
        if rule.require is not None:
            day = self.judging.own_date(tname, rec)
            if (day is None or rule.meta.in_effect(day)) and not compiled_rule.preds["require"](
                rec, self.judging.idx
            ):
                self.judging.add(
                    rule.meta,
                    "failed",
                    subject,
                    record=ref,
                    rec=rec,
                    extra=self.amounts(rule, rec),
                    trace=self.judging.trace(compiled_rule, rec, tname),
                )
        if rule.due is None or rule.done is None:
            return
        due = check_due(rule, rec)
        if due is None or not rule.meta.in_effect(due):
            return
        done = date_of(rec.get(rule.done))
        if done is not None and done > self.judging.as_of:
            done = None  # SPEC §3.4.3: a done date after as_of has not happened
        if done is not None:
            if done > due:
                self.judging.add(
                    rule.meta,
                    "late",
                    subject,
                    record=ref,
                    rec=rec,
                    due=due,
                    extra={"done": done, **self.amounts(rule, rec)},
                    trace=self.judging.trace(compiled_rule, rec, tname),
                )
        elif due < self.judging.as_of:
            self.judging.add(
                rule.meta,
                "overdue",
                subject,
                record=ref,
                rec=rec,
                due=due,
                extra=self.amounts(rule, rec),
                trace=self.judging.trace(compiled_rule, rec, tname),
            )


class _Evaluation:
    """One evaluation: its :class:`Judging`, and the judges of record rules and time rules."""

    def __init__(
        self,
        compiled: CompiledPack,
        facts: FactSet,
        as_of: date,
        *,
        explain: bool,
        show_unmapped: bool,
        part: tuple[int, int] | Callable[[str], bool] | None = None,
    ) -> None:
        self.judging = Judging(compiled, facts, as_of, explain, part)
        self.judging.want_unmapped = show_unmapped
        self.record_rules = RecordRules(self.judging)
        self.time_rules = TimeRuleJudge(self.judging)

    def judge_time_rules(self) -> None:
        """Judge every deadline, recurring and trend rule (after all records are read)."""
        for compiled_rule in self.judging.compiled.timed:
            rule = compiled_rule.rule
            if isinstance(rule, Deadline):
                self.time_rules.deadline(compiled_rule, rule)
            elif isinstance(rule, Recurring):
                self.time_rules.recurring(compiled_rule, rule)
            elif isinstance(rule, Trend):
                self.time_rules.trend(compiled_rule, rule)

    def finish(self, show_unmapped: bool) -> tuple[Result, list[Finding]]:
        """The result (violations apart, as sorted findings)."""
        judging = self.judging
        facts = judging.facts
        findings = sorted(judging.violations, key=Finding.sort_key)
        counts = summarize(
            (facts.read, facts.evaluated, len(facts.rejected)),
            ((f.status, f.meta.severity) for f in findings),
            len(judging.classifications),
            len(judging.candidates),
        )
        result = Result(
            as_of=judging.as_of,
            packs=[p.id for p in judging.compiled.packs.packs],
            violations=[],
            classifications=sorted(judging.classifications, key=label_key),
            candidates=sorted(judging.candidates, key=label_key),
            unmapped=sorted(judging.unmapped, key=lambda r: (r.type, r.id))
            if show_unmapped
            else None,
            rejected=facts.rejected,
            notes=facts.notes,
            engines={r.meta.id: "python" for r in judging.compiled.packs.rules},
            counts=counts,
        )
        return result, findings


def judge(
    compiled: CompiledPack,
    facts: FactSet,
    as_of: date,
    *,
    explain: bool = False,
    show_unmapped: bool = False,
    part: tuple[int, int] | None = None,
) -> Result:
    """Evaluate a compiled pack over collected facts as of ``as_of``.

    ``part=(k, n)`` judges only the subjects whose id hashes to ``k`` modulo ``n`` (with the
    records that belong to them); the n parts together give exactly the whole result.
    """
    result, findings = judge_findings(
        compiled, facts, as_of, explain=explain, show_unmapped=show_unmapped, part=part
    )
    return result.model_copy(update={"violations": [f.violation() for f in findings]})


def judge_findings(
    compiled: CompiledPack,
    facts: FactSet,
    as_of: date,
    *,
    explain: bool = False,
    show_unmapped: bool = False,
    part: tuple[int, int] | None = None,
) -> tuple[Result, list[Finding]]:
    """Like :func:`judge`, but the violations come apart, sorted, as plain :class:`Finding`
    tuples (the result's own ``violations`` is empty; its counts include them). Writers use
    it to stream a large report without holding a model per violation."""
    ev = _Evaluation(
        compiled, facts, as_of, explain=explain, show_unmapped=show_unmapped, part=part
    )
    ev.record_rules.records()
    ev.judge_time_rules()
    return ev.finish(show_unmapped)


def judge_stream(
    compiled: CompiledPack,
    sources: Mapping[str, Iterable[RawRow]],
    as_of: date,
    *,
    explain: bool = False,
    show_unmapped: bool = False,
    reject_unknown_types: bool = False,
    progress: Callable[[int, int], None] | None = None,
    into: FactSet | None = None,
) -> tuple[Result, list[Finding]]:
    """Read and judge in one pass: criterion and check rules judge each batch of records as it
    is read; only what the time-based rules need is kept (see :func:`retention`). ``into``
    is the (empty) fact set to fill, for callers that read what reading found out."""
    facts = (
        into if into is not None else FactSet(records={t: {} for t in compiled.packs.schema.order})
    )
    ev = _Evaluation(compiled, facts, as_of, explain=explain, show_unmapped=show_unmapped)
    collect_facts(
        compiled.packs.schema,
        sources,
        reject_unknown_types=reject_unknown_types,
        progress=progress,
        into=facts,
        on_batch=ev.record_rules.record_batch,
        retain=retention(compiled),
    )
    ev.judge_time_rules()
    return ev.finish(show_unmapped)


def retention(compiled: CompiledPack) -> dict[str, frozenset[str] | None]:
    """What to keep of each type once its record rules have judged it: ``None`` keeps whole
    records (types other records refer to, and subjects), a set keeps those fields (the
    evidence and counted records of time-based rules), ``{"id"}`` keeps ids only."""
    schema = compiled.packs.schema
    whole = {f.ref for t in schema.types.values() for f in t.fields.values() if f.kind == "ref"}
    whole.add(compiled.packs.subject)
    fields: dict[str, set[str]] = {t: {"id"} for t in schema.types}
    for compiled_rule in compiled.timed:
        rule = compiled_rule.rule
        assert isinstance(rule, (Deadline, Recurring, Trend))
        whole.add(rule.subject.type)
        ev = rule.count if isinstance(rule, Trend) else rule.evidence
        need = fields[ev.type]
        need.update(f for f in (ev.via, ev.date_field, ev.period_field) if f)
        need.update(_root_fields(ev.where))
        if schema.types[ev.type].date_field:
            need.add(str(schema.types[ev.type].date_field))
    return {t: None if t in whole else frozenset(fields[t]) for t in schema.types}


def _root_fields(cond: Condition | None) -> set[str]:
    """The record's own fields a condition reads (the first step of each path)."""
    if cond is None:
        return set()
    if isinstance(cond, Leaf):
        paths = [cond.path, *([cond.operand.path] if isinstance(cond.operand, FieldRef) else [])]
        return {p.steps[0].field if p.steps else p.field.name for p in paths}
    if isinstance(cond, NotOf):
        return _root_fields(cond.item)
    return set().union(*(_root_fields(c) for c in cond.items))


# one evaluation's judges, for callers that judge parts of an evaluation apart and merge them
# (scale/partition.py: record rules as each part is read, time rules per partition)
Evaluation = _Evaluation
