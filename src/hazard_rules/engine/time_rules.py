"""The time-based rule kinds: ``deadline``, ``recurring`` and ``trend`` (SPEC §3.3).

Each rule indexes its evidence once — one pass over the evidence type, grouped by subject —
then visits each subject's required periods or due date: O(records + subjects × periods)
per rule, never records × periods.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from hazard_rules.engine.compile import CompiledRule
from hazard_rules.engine.judging import JudgeBase, Record, local_date
from hazard_rules.ir import Deadline, EvidenceSpec, Recurring, Trend
from hazard_rules.operators import OPERATORS
from hazard_rules.periods import Period, period_of, periods_within

__all__ = ["TimeRules"]

_FAR = date(9998, 12, 31)  # an open-ended span: periods stop once their due date is not past


class TimeRules(JudgeBase):
    """Judging of deadlines, per-period obligations and trends."""

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
            day = local_date(rec.get(spec.date_field))
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
            if cr.on_time is not None:
                if cr.on_time(subj["id"], ""):
                    continue
            elif len(on_time) >= rule.at_least:
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

    def frequency(
        self, cr: CompiledRule, rule: Recurring, subj: Record
    ) -> tuple[str, int, int | None, bool]:
        """(every, at_least, due day, due in the next period) for a subject: the first
        stricter variant it meets."""
        for i, v in enumerate(rule.stricter):
            if cr.preds[f"stricter{i}"](subj, self.idx):
                return v.every, v.at_least, v.due_day, v.due_next
        return rule.every, rule.at_least, rule.due_day, rule.due_next

    def required_span(self, rule: Recurring, subj: Record) -> tuple[date | None, date]:
        """The span whose whole periods are required: window ∩ effective ∩ active span
        (``None`` start: unbounded, nothing can be required)."""
        m = rule.meta
        a_from, a_until = self.span_of(rule.subject.type, subj)
        starts = [d for d in (rule.window_from, m.effective_from, a_from) if d is not None]
        ends = [d for d in (rule.window_until, m.effective_until, a_until) if d is not None]
        return max(starts, default=None), min(ends, default=_FAR)

    def recurring(self, cr: CompiledRule, rule: Recurring) -> None:
        index = self.evidence_index(cr, rule.evidence)
        etype = rule.evidence.type
        meta = rule.meta
        for subj in self.subjects(cr, rule.subject.type):
            every, need, day, nxt = self.frequency(cr, rule, subj)
            lo, hi = self.required_span(rule, subj)
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
                due = period.due(day, of_next=nxt)
                if not due < self.as_of:
                    break
                ev = buckets.get(period, [])
                if cr.on_time is not None:
                    if cr.on_time(subj["id"], period.label):
                        continue
                elif sum(1 for d, _ in ev if d <= due) >= need:
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
            if OPERATORS[rule.op].test(len(now), before):
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
