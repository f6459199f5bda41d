"""What every rule kind's judging shares: existence as of a date, subjects and their active
spans, shared record references, partitions, and the recording of findings (SPEC §3.4)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from hazard_rules.backends.python import Index
from hazard_rules.engine.compile import CompiledPack, CompiledRule, Finding
from hazard_rules.facts.collect import FactSet
from hazard_rules.ir import Check, RuleMeta
from hazard_rules.periods import Period, add_months, date_of
from hazard_rules.results import Candidate, Classification, RecordRef
from hazard_rules.schema import Schema

__all__ = [
    "Judging",
    "Record",
    "active_span",
    "check_due",
    "exists",
    "subject_of",
]

Record = Mapping[str, Any]


def check_due(rule: Check, rec: Mapping[str, Any]) -> date | None:
    """A check's due date for one record: fixed, a field, or days after a field (None: no
    date on the record, so nothing to judge on time)."""
    if rule.due is None:
        return None
    if rule.due.field is None:
        return rule.due.date
    base = date_of(rec.get(rule.due.field))
    if base is None:
        return None
    try:
        if rule.due.months:
            return add_months(base, rule.due.months)
        return base + timedelta(days=rule.due.days)
    except (OverflowError, ValueError):
        return None  # past the calendar's end: never due


def exists(schema: Schema, tname: str, rec: Record, as_of: date) -> bool:
    """A record dated after as_of does not exist yet (SPEC §3.4.3)."""
    df = schema.types[tname].date_field
    if df is None:
        return True
    d = date_of(rec.get(df))
    return d is None or d <= as_of


def active_span(schema: Schema, tname: str, rec: Record) -> tuple[date | None, date | None]:
    """A subject's active span (``active_from``, ``active_until``; None: unbounded), from its
    own fields only (SPEC §3.4.2)."""
    fields = schema.types[tname].fields
    a_from = date_of(rec.get("active_from")) if "active_from" in fields else None
    a_until = date_of(rec.get("active_until")) if "active_until" in fields else None
    return a_from, a_until


def subject_of(schema: Schema, subject_type: str, tname: str, rec: Record) -> tuple[str, str]:
    """SPEC §3.4.1: (type, id) of the target of the record's reference to the subject type, or
    of the record itself when it is of that type or has no such reference."""
    if tname != subject_type:
        links = schema.types[tname].ref_fields_to(subject_type)
        if links and rec.get(links[0]) is not None:
            return subject_type, str(rec[links[0]])
    return tname, str(rec["id"])


class Judging:
    """One evaluation: the compiled pack, the facts, as_of, the partition judged, and the
    findings recorded so far — with the helpers every rule kind uses. The judges of the rule
    kinds (:mod:`hazard_rules.engine.judge`, :mod:`hazard_rules.engine.time_rules`) each hold
    the one ``Judging`` of their evaluation."""

    def __init__(
        self,
        compiled: CompiledPack,
        facts: FactSet,
        as_of: date,
        explain: bool,
        part: tuple[int, int] | Callable[[str], bool] | None = None,
    ) -> None:
        # (k, n): judge only subjects whose id hashes to k modulo n; or a predicate on subject
        # ids (a partitioned run's assignment, scale/partition.py)
        self.part = part
        self.compiled = compiled
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
        self.unmapped: list[RecordRef] = []
        self._labels: dict[str, dict[str, Mapping[str, str]]] = {}

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
        if callable(self.part):
            return self.part(subject_id)
        k, n = self.part
        return zlib.crc32(subject_id.encode("utf-8")) % n == k

    def exists(self, tname: str, rec: Record) -> bool:
        """A record dated after as_of does not exist yet (SPEC §3.4.3)."""
        return exists(self.schema, tname, rec, self.as_of)

    def own_date(self, tname: str, rec: Record) -> date | None:
        df = self.schema.types[tname].date_field
        return date_of(rec.get(df)) if df else None

    def labels(self, tname: str | None) -> dict[str, Mapping[str, str]]:
        """Enum field of ``tname`` → value → its label: the Chinese messages show labels."""
        if tname is None or tname not in self.schema.types:
            return {}
        got = self._labels.get(tname)
        if got is None:
            got = self._labels[tname] = {
                name: fd.value_labels
                for name, fd in self.schema.types[tname].fields.items()
                if fd.value_labels
            }
        return got

    def label_name(self, tname: str, label: str, declared: str | None) -> str:
        """A classification's label as the schema names it (``major`` → 重大事故隐患): the
        label of that value of the ``declared`` field, else of the first enum field of
        ``tname`` that has it; else the label itself."""
        labels = self.labels(tname)
        if declared is not None and label in labels.get(declared, {}):
            return labels[declared][label]
        for named in labels.values():
            if label in named:
                return named[label]
        return label

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
            # a finding's period, else the record's own `period` field (a check's record)
            period=period.label if period else values.get("period"),
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
                meta.message_zh.render(
                    values, self.labels(record.type if rec is not None and record else None)
                ),
                meta.message_en.render(values),
                trace,
            )
        )

    def trace(
        self, compiled_rule: CompiledRule, rec: Record, tname: str
    ) -> list[dict[str, Any]] | None:
        if not self.explain:
            return None
        from hazard_rules.engine.explain import explain_rule

        return explain_rule(compiled_rule.rule, rec, self.idx)
