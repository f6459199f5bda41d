"""Evaluation of every rule kind over a fact set, as of one date → :class:`Result`.

Cost: conditions are compiled once per pack set (:func:`compile_pack`). Per evaluation,
``criterion`` and ``check`` rules visit each record of their type once. Time-based rules
(``deadline``, ``recurring``, ``trend``) index their evidence once per rule by subject — one
pass over the evidence type — then visit each subject's required periods: the total is
O(records + subjects × periods) per rule, never records × periods.

Semantics follow SPEC §3.3–§3.4 to the letter; the notable ones:

* a record whose own date is after ``as_of`` does not exist; a ``done`` date after ``as_of``
  has not happened; undated evidence is not counted;
* due dates are inclusive and judged only when strictly before ``as_of``;
* periods are required only when wholly inside the window, the rule's ``effective`` span and
  the subject's active span; a deadline binds subjects active on its due date; a trend binds
  subjects active over both whole periods.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from hazard_rules.backends.codegen import Classifier, compile_classifier
from hazard_rules.backends.python import Index, Predicate, compile_condition
from hazard_rules.facts import FactSet
from hazard_rules.ir import (
    Check,
    Criterion,
    Deadline,
    EvidenceSpec,
    Recurring,
    Rule,
    RuleMeta,
    Trend,
)
from hazard_rules.packs import PackSet
from hazard_rules.periods import Period, period_of, periods_within
from hazard_rules.results import (
    Candidate,
    Classification,
    Counts,
    RecordRef,
    Result,
    Violation,
)

__all__ = ["CompiledPack", "compile_pack", "judge"]

Record = Mapping[str, Any]
_FAR = date(9998, 12, 31)  # an open-ended span: periods stop once their due date is not past
_OPS: dict[str, Callable[[int, int], bool]] = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}


class Finding(NamedTuple):
    """A violation as plain data (the hot path); :meth:`violation` makes the public model."""

    meta: RuleMeta
    status: str
    subject: RecordRef
    record: RecordRef | None
    period: Period | None
    due: date | None
    evidence: tuple[RecordRef, ...]
    message: str
    message_en: str
    explain: list[dict[str, Any]] | None

    def sort_key(self) -> tuple[Any, ...]:
        """SPEC §4 order: subject, rule, period (chronological), record, status."""
        pkey = (0,) if self.period is None else (1, *self.period.sort_key)
        rec = (self.record.type, self.record.id) if self.record else ("", "")
        return (self.subject.type, self.subject.id, self.meta.id, pkey, rec, self.status)

    def violation(self) -> Violation:
        m = self.meta
        return Violation(
            rule=m.id,
            kind=m.kind,
            status=self.status,  # type: ignore[arg-type]
            severity=m.severity,  # type: ignore[arg-type]
            subject=self.subject,
            record=self.record,
            period=self.period.label if self.period else None,
            due=self.due,
            evidence=list(self.evidence),
            message=self.message,
            message_en=self.message_en,
            cite=m.cite,
            title=m.title,
            explain=self.explain,
        )


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its conditions compiled to predicates."""

    rule: Rule
    preds: Mapping[str, Predicate]
    hints: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class CompiledPack:
    """A pack set compiled for the Python evaluator: built once, used for every evaluation."""

    packs: PackSet
    by_type: Mapping[str, tuple[CompiledRule, ...]]  # criterion and check rules per record type
    timed: tuple[CompiledRule, ...]
    # per record type: one generated function judging all its criteria, and those criteria
    classifiers: Mapping[str, tuple[Classifier, tuple[CompiledRule, ...]]] = field(
        default_factory=dict
    )


def _compile_rule(rule: Rule) -> CompiledRule:
    conds: dict[str, Any] = {}
    hints: tuple[re.Pattern[str], ...] = ()
    if isinstance(rule, Criterion):
        conds = {"when": rule.when, "applies": rule.applies}
        hints = tuple(re.compile(h) for h in rule.hints)
    elif isinstance(rule, Check):
        conds = {"where": rule.where, "require": rule.require}
    else:
        conds = {"subject": rule.subject.where}
        ev = rule.count if isinstance(rule, Trend) else rule.evidence
        conds["evidence"] = ev.where
        if isinstance(rule, Recurring):
            for i, v in enumerate(rule.stricter):
                conds[f"stricter{i}"] = v.when
    return CompiledRule(rule, {k: compile_condition(v) for k, v in conds.items()}, hints)


def compile_pack(packs: PackSet) -> CompiledPack:
    """Compile every rule of ``packs`` once (cached on the pack set)."""
    cached = packs._cache.get("python")
    if isinstance(cached, CompiledPack):
        return cached
    by_type: dict[str, list[CompiledRule]] = defaultdict(list)
    timed = []
    for rule in packs.rules:
        c = _compile_rule(rule)
        if isinstance(rule, (Criterion, Check)):
            by_type[rule.type].append(c)
        else:
            timed.append(c)
    classifiers = {}
    for tname, rules in by_type.items():
        crit = tuple(r for r in rules if isinstance(r.rule, Criterion))
        if crit:
            date_field = packs.schema.types[tname].date_field
            kind = packs.schema.types[tname].fields[date_field].kind if date_field else None
            fn = compile_classifier(
                [r.rule for r in crit if isinstance(r.rule, Criterion)],
                date_field,
                date_is_datetime=kind == "datetime",
            )
            classifiers[tname] = (fn, crit)
    out = CompiledPack(packs, {t: tuple(v) for t, v in by_type.items()}, tuple(timed), classifiers)
    packs._cache["python"] = out
    return out


def _local(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


class _Judge:
    def __init__(
        self,
        compiled: CompiledPack,
        facts: FactSet,
        as_of: date,
        explain: bool,
        part: tuple[int, int] | None = None,
    ) -> None:
        self.part = part  # (k, n): judge only subjects whose id hashes to k modulo n
        self.c = compiled
        self.schema = compiled.packs.schema
        self.facts = facts
        self.idx: Index = facts.records
        self.as_of = as_of
        self.explain = explain
        self.violations: list[Finding] = []
        self.classifications: list[Classification] = []
        self.candidates: list[Candidate] = []
        self.subject_type = compiled.packs.subject
        self._subject_field: dict[str, str | None] = {}
        self._refs: dict[tuple[str, str], RecordRef] = {}
        self.want_unmapped = False

    # -- helpers ---------------------------------------------------------------------------

    def ref(self, tname: str, rid: str) -> RecordRef:
        """A shared :class:`RecordRef` (findings about one record or subject share it)."""
        key = (tname, rid)
        got = self._refs.get(key)
        if got is None:
            got = self._refs[key] = RecordRef(type=tname, id=rid)
        return got

    def mine(self, subject_id: str) -> bool:
        """True when this judge's partition owns the subject (always, unpartitioned)."""
        if self.part is None:
            return True
        k, n = self.part
        return zlib.crc32(subject_id.encode("utf-8")) % n == k

    def exists(self, tname: str, rec: Record) -> bool:
        """A record dated after as_of does not exist yet (SPEC §3.4.3)."""
        df = self.schema.types[tname].date_field
        if df is None:
            return True
        d = _local(rec.get(df))
        return d is None or d <= self.as_of

    def own_date(self, tname: str, rec: Record) -> date | None:
        df = self.schema.types[tname].date_field
        return _local(rec.get(df)) if df else None

    def subject_of(self, tname: str, rec: Record) -> RecordRef:
        """SPEC §3.4.1: the target of the record's reference to the subject type, or itself."""
        if tname == self.subject_type:
            return self.ref(tname, rec["id"])
        if tname not in self._subject_field:
            links = self.schema.types[tname].ref_fields_to(self.subject_type)
            self._subject_field[tname] = links[0] if links else None
        f = self._subject_field[tname]
        if f is not None and rec.get(f) is not None:
            return self.ref(self.subject_type, rec[f])
        return self.ref(tname, rec["id"])

    def active(self, tname: str, rec: Record, start: date, end: date) -> bool:
        """True when the subject is active over the whole closed span [start, end]."""
        fields = self.schema.types[tname].fields
        a_from = rec.get("active_from") if "active_from" in fields else None
        a_until = rec.get("active_until") if "active_until" in fields else None
        if a_from is not None and _local(a_from) > start:  # type: ignore[operator]
            return False
        return not (a_until is not None and _local(a_until) < end)  # type: ignore[operator]

    def span_of(self, tname: str, rec: Record) -> tuple[date | None, date | None]:
        fields = self.schema.types[tname].fields
        a_from = _local(rec.get("active_from")) if "active_from" in fields else None
        a_until = _local(rec.get("active_until")) if "active_until" in fields else None
        return a_from, a_until

    def add(
        self,
        meta: RuleMeta,
        status: str,
        subject: RecordRef,
        *,
        record: RecordRef | None = None,
        rec: Record | None = None,
        period: Period | None = None,
        due: date | None = None,
        evidence: list[RecordRef] | None = None,
        extra: dict[str, Any] | None = None,
        trace: list[dict[str, Any]] | None = None,
    ) -> None:
        values: dict[str, Any] = dict(rec or {})
        subj = self.idx.get(subject.type, {}).get(subject.id, {})
        values.update(
            rule=meta.id,
            subject=subject.id,
            subject_name=subj.get("name"),
            title=meta.title,
            record=record.id if record else None,
            period=period.label if period else None,
            due=due,
            status=status,
            **(extra or {}),
        )
        self.violations.append(
            Finding(
                meta,
                status,
                subject,
                record,
                period,
                due,
                tuple(sorted(evidence or (), key=lambda r: (r.type, r.id))),
                meta.message_zh.render(values),
                meta.message_en.render(values),
                trace,
            )
        )

    def trace(self, cr: CompiledRule, rec: Record, tname: str) -> list[dict[str, Any]] | None:
        if not self.explain:
            return None
        from hazard_rules.explain import explain_rule

        return explain_rule(cr.rule, rec, self.idx)

    # -- criterion and check ---------------------------------------------------------------

    def records(self) -> list[RecordRef] | None:
        unmapped: list[RecordRef] = []
        for tname, rules in self.c.by_type.items():
            checks = [(cr, cr.rule) for cr in rules if isinstance(cr.rule, Check)]
            # the generated classifier when there is one; else the predicates one by one
            # (a backend that swaps predicates, such as durable, builds no classifier)
            classify, criteria = self.c.classifiers.get(tname, (None, ()))
            reference = [(cr, cr.rule) for cr in rules if isinstance(cr.rule, Criterion)]
            for rec in self.idx.get(tname, {}).values():
                if not self.exists(tname, rec):
                    continue
                if self.part is not None and not self.mine(self.subject_of(tname, rec).id):
                    continue
                if classify is not None:
                    proven, leads = classify(rec, self.idx)
                    for i in proven:
                        self.classified(criteria[i], tname, rec)
                    for i in leads:
                        self.candidate(criteria[i], tname, rec)
                    if not proven and not leads and self.want_unmapped:
                        unmapped.append(self.ref(tname, rec["id"]))
                elif reference:
                    mapped = False
                    for cr, crit in reference:
                        mapped |= self.criterion(cr, crit, tname, rec)
                    if not mapped and self.want_unmapped:
                        unmapped.append(self.ref(tname, rec["id"]))
                for cr, rule in checks:
                    self.check(cr, rule, tname, rec)
        return unmapped

    def criterion(self, cr: CompiledRule, rule: Criterion, tname: str, rec: Record) -> bool:
        """The reference path (closures): judge one criterion on one record; True if mapped."""
        day = self.own_date(tname, rec)
        if day is not None and not rule.meta.in_effect(day):
            return False
        if not cr.preds["applies"](rec, self.idx):
            return False
        if cr.preds["when"](rec, self.idx):
            self.classified(cr, tname, rec)
            return True
        text = rec.get(rule.hint_field) if rule.hint_field else None
        if isinstance(text, str) and any(h.search(text) for h in cr.hints):
            self.candidate(cr, tname, rec)
            return True
        return False

    def classified(self, cr: CompiledRule, tname: str, rec: Record) -> None:
        rule = cr.rule
        assert isinstance(rule, Criterion)
        ref = self.ref(tname, rec["id"])
        subject = self.subject_of(tname, rec)
        self.classifications.append(
            Classification(
                record=ref,
                subject=subject,
                label=rule.label,
                rule=rule.meta.id,
                cite=rule.meta.cite,
            )
        )
        if rule.declared is not None and rec.get(rule.declared) != rule.label:
            self.add(
                rule.meta,
                "misclassified",
                subject,
                record=ref,
                rec=rec,
                extra={"label": rule.label, "declared": rec.get(rule.declared)},
                trace=self.trace(cr, rec, tname),
            )

    def candidate(self, cr: CompiledRule, tname: str, rec: Record) -> None:
        rule = cr.rule
        assert isinstance(rule, Criterion)
        text = rec.get(rule.hint_field) if rule.hint_field else None
        hits = [h.pattern for h in cr.hints if isinstance(text, str) and h.search(text)]
        self.candidates.append(
            Candidate(
                record=self.ref(tname, rec["id"]),
                subject=self.subject_of(tname, rec),
                rule=rule.meta.id,
                cite=rule.meta.cite,
                hints=hits,
            )
        )

    def check(self, cr: CompiledRule, rule: Check, tname: str, rec: Record) -> None:
        if not cr.preds["where"](rec, self.idx):
            return
        ref = self.ref(tname, rec["id"])
        subject = self.subject_of(tname, rec)
        if rule.require is not None:
            day = self.own_date(tname, rec)
            if (day is None or rule.meta.in_effect(day)) and not cr.preds["require"](rec, self.idx):
                self.add(
                    rule.meta,
                    "failed",
                    subject,
                    record=ref,
                    rec=rec,
                    trace=self.trace(cr, rec, tname),
                )
        if rule.due is None or rule.done is None:
            return
        due = rule.due.date
        if rule.due.field is not None:
            base = _local(rec.get(rule.due.field))
            due = base + timedelta(days=rule.due.days) if base is not None else None
        if due is None or not rule.meta.in_effect(due):
            return
        done = _local(rec.get(rule.done))
        if done is not None and done > self.as_of:
            done = None  # SPEC §3.4.3: a done date after as_of has not happened
        if done is not None:
            if done > due:
                self.add(
                    rule.meta,
                    "late",
                    subject,
                    record=ref,
                    rec=rec,
                    due=due,
                    extra={"done": done},
                    trace=self.trace(cr, rec, tname),
                )
        elif due < self.as_of:
            self.add(
                rule.meta,
                "overdue",
                subject,
                record=ref,
                rec=rec,
                due=due,
                trace=self.trace(cr, rec, tname),
            )

    # -- time-based rules ------------------------------------------------------------------

    def subjects(self, cr: CompiledRule, tname: str) -> list[Record]:
        pred = cr.preds["subject"]
        return [
            r
            for r in self.idx.get(tname, {}).values()
            if self.part is None or self.mine(r["id"])
            if self.exists(tname, r) and pred(r, self.idx)
        ]

    def evidence_index(
        self, cr: CompiledRule, spec: EvidenceSpec
    ) -> dict[str, list[tuple[date, Period | None, str]]]:
        """Evidence by subject id: (local date, labelled period or None, record id); one pass."""
        pred = cr.preds["evidence"]
        out: dict[str, list[tuple[date, Period | None, str]]] = defaultdict(list)
        for rec in self.idx.get(spec.type, {}).values():
            owner = rec.get(spec.via)
            day = _local(rec.get(spec.date_field))
            if owner is None or day is None or day > self.as_of:
                continue  # undated evidence proves nothing; dated after as_of: not yet
            if not pred(rec, self.idx):
                continue
            label = rec.get(spec.period_field) if spec.period_field else None
            out[owner].append((day, label if isinstance(label, Period) else None, rec["id"]))
        return out

    def deadline(self, cr: CompiledRule, rule: Deadline) -> None:
        due = rule.due
        if not rule.meta.in_effect(due) or not due < self.as_of:
            return
        index = self.evidence_index(cr, rule.evidence)
        etype = rule.evidence.type
        for subj in self.subjects(cr, rule.subject.type):
            if not self.active(rule.subject.type, subj, due, due):
                continue
            ev = index.get(subj["id"], [])
            on_time = [e for e in ev if e[0] <= due]
            ref = self.ref(rule.subject.type, subj["id"])
            if len(on_time) >= rule.at_least:
                continue
            late = [self.ref(etype, e[2]) for e in ev if e[0] > due]
            if len(ev) >= rule.at_least:
                self.add(
                    rule.meta,
                    "late",
                    ref,
                    due=due,
                    evidence=late,
                    extra={"count": len(ev), "required": rule.at_least},
                )
            else:
                self.add(
                    rule.meta,
                    "missing",
                    ref,
                    due=due,
                    evidence=[self.ref(etype, e[2]) for e in ev],
                    extra={"count": len(ev), "required": rule.at_least},
                )

    def recurring(self, cr: CompiledRule, rule: Recurring) -> None:
        index = self.evidence_index(cr, rule.evidence)
        etype = rule.evidence.type
        meta = rule.meta
        starts = [d for d in (rule.window_from, meta.effective_from) if d is not None]
        ends = [d for d in (rule.window_until, meta.effective_until) if d is not None]
        for subj in self.subjects(cr, rule.subject.type):
            every, need, day = rule.every, rule.at_least, rule.due_day
            for i, v in enumerate(rule.stricter):
                if cr.preds[f"stricter{i}"](subj, self.idx):
                    every, need, day = v.every, v.at_least, v.due_day
                    break
            a_from, a_until = self.span_of(rule.subject.type, subj)
            lo = max([*starts, *([a_from] if a_from else [])], default=None)
            hi = min([*ends, *([a_until] if a_until else [])], default=_FAR)
            if lo is None:
                continue  # unbounded start: lint reports it; nothing can be required
            buckets: dict[Period, list[tuple[date, str]]] = defaultdict(list)
            for d, label, rid in index.get(subj["id"], ()):
                # a period label places the evidence; without one its date does
                p = label if label is not None else period_of(d, every)
                if p.every != every:
                    continue
                buckets[p].append((d, rid))
            ref = self.ref(rule.subject.type, subj["id"])
            for period in periods_within(lo, hi, every):
                due = period.due(day)
                if not due < self.as_of:
                    break
                ev = buckets.get(period, [])
                on_time = sum(1 for d, _ in ev if d <= due)
                if on_time >= need:
                    continue
                extra = {"count": len(ev), "required": need}
                if len(ev) >= need:
                    self.add(
                        meta,
                        "late",
                        ref,
                        period=period,
                        due=due,
                        extra=extra,
                        evidence=[self.ref(etype, r) for d, r in ev if d > due],
                    )
                else:
                    self.add(
                        meta,
                        "missing",
                        ref,
                        period=period,
                        due=due,
                        extra=extra,
                        evidence=[self.ref(etype, r) for _, r in ev],
                    )

    def trend(self, cr: CompiledRule, rule: Trend) -> None:
        later = max(rule.period, rule.to, key=lambda p: p.end)
        if not later.end < self.as_of:
            return
        meta = rule.meta
        if not (
            meta.in_effect(rule.period.start)
            and meta.in_effect(rule.period.end)
            and meta.in_effect(rule.to.start)
            and meta.in_effect(rule.to.end)
        ):
            return
        index = self.evidence_index(cr, rule.count)
        lo = min(rule.period.start, rule.to.start)
        hi = max(rule.period.end, rule.to.end)
        for subj in self.subjects(cr, rule.subject.type):
            if not (
                self.active(rule.subject.type, subj, rule.period.start, rule.period.end)
                and self.active(rule.subject.type, subj, rule.to.start, rule.to.end)
            ):
                continue
            ev = [e for e in index.get(subj["id"], ()) if lo <= e[0] <= hi]
            now = [e for e in ev if rule.period.contains(e[0])]
            before = sum(1 for e in ev if rule.to.contains(e[0]))
            if _OPS[rule.op](len(now), before):
                continue
            ref = self.ref(rule.subject.type, subj["id"])
            self.add(
                meta,
                "exceeded",
                ref,
                period=later,
                due=later.end,
                evidence=[self.ref(rule.count.type, e[2]) for e in now],
                extra={"count": len(now), "compare_count": before},
            )


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
    j = _Judge(compiled, facts, as_of, explain, part)
    j.want_unmapped = show_unmapped
    unmapped = j.records()
    for cr in compiled.timed:
        rule = cr.rule
        if isinstance(rule, Deadline):
            j.deadline(cr, rule)
        elif isinstance(rule, Recurring):
            j.recurring(cr, rule)
        elif isinstance(rule, Trend):
            j.trend(cr, rule)
    findings = sorted(j.violations, key=Finding.sort_key)
    by_status: dict[str, int] = defaultdict(int)
    by_severity: dict[str, int] = defaultdict(int)
    for f in findings:
        by_status[f.status] += 1
        by_severity[f.meta.severity] += 1
    counts = Counts(
        read=facts.read,
        evaluated=facts.evaluated,
        rejected=len(facts.rejected),
        violations=len(findings),
        by_status=dict(sorted(by_status.items())),
        by_severity=dict(sorted(by_severity.items())),
        classifications=len(j.classifications),
        candidates=len(j.candidates),
    )
    rkey = lambda c: (c.subject.type, c.subject.id, c.record.type, c.record.id, c.rule)  # noqa: E731
    result = Result(
        as_of=as_of,
        packs=[p.id for p in compiled.packs.packs],
        violations=[],
        classifications=sorted(j.classifications, key=rkey),
        candidates=sorted(j.candidates, key=rkey),
        unmapped=sorted(unmapped or [], key=lambda r: (r.type, r.id)) if show_unmapped else None,
        rejected=facts.rejected,
        notes=facts.notes,
        engines={r.meta.id: "python" for r in compiled.packs.rules},
        counts=counts,
    )
    return result, findings


def parse_as_of(value: str | date) -> date:
    """``as_of`` from a date or ISO text."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)
