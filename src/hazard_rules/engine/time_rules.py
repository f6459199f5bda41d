"""The time-based rule kinds: ``deadline``, ``recurring`` and ``trend`` (SPEC §3.3).

Deadlines and recurring rules are judged window by window: :mod:`hazard_rules.engine.windows`
says which windows bind each subject, when they fall due and which evidence each holds;
here a due window without enough evidence on time becomes a ``late`` or ``missing`` finding.
Each rule indexes its evidence once — one pass over the evidence type, grouped by subject —
then visits each subject's windows: O(records + subjects × periods) per rule, never
records × periods.
"""

from __future__ import annotations

from datetime import date, timedelta

from hazard_rules.engine.compile import CompiledRule
from hazard_rules.engine.judging import Judging, Record, active_span
from hazard_rules.engine.windows import RuleWindows, Window, index_evidence, subjects
from hazard_rules.ir import Deadline, Recurring, Trend
from hazard_rules.operators import OPERATORS
from hazard_rules.periods import Period

__all__ = ["TimeRuleJudge"]


class TimeRuleJudge:
    """Judging of deadlines, per-period obligations and trends, into one :class:`Judging`."""

    def __init__(self, judging: Judging) -> None:
        self.judging = judging

    def _windows(self, compiled_rule: CompiledRule) -> RuleWindows:
        j = self.judging
        owns = j.mine if j.part is not None else None
        return RuleWindows(compiled_rule, j.idx, j.schema, j.as_of, owns=owns)

    def deadline(self, compiled_rule: CompiledRule, rule: Deadline) -> None:
        self._obligations(compiled_rule, rule)

    def recurring(self, compiled_rule: CompiledRule, rule: Recurring) -> None:
        self._obligations(compiled_rule, rule)

    def _obligations(self, compiled_rule: CompiledRule, rule: Deadline | Recurring) -> None:
        """Every window falling due before as_of without enough evidence on time → a finding."""
        j = self.judging
        rw = self._windows(compiled_rule)
        verdict = compiled_rule.on_time  # another engine's answer to "on time?", if it judged
        for subject in rw.subjects():
            for w in rw.windows(subject, due_until=j.as_of - timedelta(days=1)):
                label = w.period.label if w.period is not None else ""
                met = verdict(subject["id"], label) if verdict else w.status == "met"
                if not met:
                    self._report(rule, subject, w)

    def _report(self, rule: Deadline | Recurring, subject: Record, w: Window) -> None:
        j = self.judging
        etype = rule.evidence.type
        late = len(w.evidence) >= w.required  # enough once the late ones are counted
        j.add(
            rule.meta,
            "late" if late else "missing",
            j.ref(rule.subject.type, subject["id"]),
            period=w.period,
            due=w.due,
            evidence=[j.ref(etype, e.id) for e in (w.late if late else w.evidence)],
            extra={"count": len(w.evidence), "required": w.required},
        )

    def trend(self, compiled_rule: CompiledRule, rule: Trend) -> None:
        j = self.judging
        later = max(rule.period, rule.to, key=lambda p: p.end)
        if not later.end < j.as_of:
            return
        meta = rule.meta
        if not all(meta.in_effect(d) for p in (rule.period, rule.to) for d in (p.start, p.end)):
            return
        where = compiled_rule.preds["evidence"]
        index = index_evidence(rule.count, where, j.idx, j.as_of)
        tname = rule.subject.type
        owns = j.mine if j.part is not None else None
        for subject in subjects(compiled_rule, j.idx, j.schema, j.as_of, owns=owns):
            if not _active_over(active_span(j.schema, tname, subject), rule.period, rule.to):
                continue
            counted = index.get(subject["id"], ())
            now = [e for e in counted if rule.period.contains(e.day)]
            before = sum(1 for e in counted if rule.to.contains(e.day))
            if OPERATORS[rule.op].test(len(now), before):
                continue
            j.add(
                meta,
                "exceeded",
                j.ref(tname, subject["id"]),
                period=later,
                due=later.end,
                evidence=[j.ref(rule.count.type, e.id) for e in now],
                extra={"count": len(now), "compare_count": before},
            )


def _active_over(span: tuple[date | None, date | None], *periods: Period) -> bool:
    """True when the span covers every period whole (SPEC §3.4.2: a trend binds subjects active
    over both)."""
    a_from, a_until = span
    return all(
        (a_from is None or a_from <= p.start) and (a_until is None or p.end <= a_until)
        for p in periods
    )
