"""A pack set compiled for the Python evaluator, and findings as plain data.

:func:`compile_pack` turns every rule's conditions into predicates once per pack set (and
the criteria of each record type into one generated classifier, see
:mod:`hazard_rules.backends.codegen`); evaluations reuse it. A :class:`Finding` is a
violation as a plain tuple: the hot path makes no pydantic model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from hazard_rules.backends.codegen import Classifier, compile_classifier
from hazard_rules.backends.python import Predicate, compile_condition
from hazard_rules.ir import Check, Condition, Criterion, Recurring, Rule, RuleMeta, Trend
from hazard_rules.packs import PackSet
from hazard_rules.periods import Period, parse_period
from hazard_rules.regex import Regex, compile_regex
from hazard_rules.results import RecordRef, Violation, WaiverRef, finding_order

__all__ = ["CompiledPack", "CompiledRule", "Finding", "compile_pack", "rule_conditions"]


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
    doubt: tuple[str, ...] = ()  # sources of rejected rows that could have changed it
    doubt_count: int = 0
    waiver: WaiverRef | None = None  # status is then "waived"

    def sort_key(self) -> tuple[Any, ...]:
        """SPEC §4 order (:func:`~hazard_rules.results.finding_order`)."""
        return finding_order(self.subject, self.meta.id, self.period, self.record, self.status)

    @classmethod
    def of(cls, v: Violation, meta: RuleMeta) -> Finding:
        """The finding a violation model stands for (``meta`` is its rule's)."""
        return cls(
            meta,
            v.status,
            v.subject,
            v.record,
            parse_period(v.period) if v.period is not None else None,
            v.due,
            tuple(v.evidence),
            v.message,
            v.message_en,
            v.explain,
            tuple(v.doubtful_because),
            v.doubtful_count,
            v.waiver,
        )

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
            doubtful=bool(self.doubt_count),
            doubtful_because=list(self.doubt),
            doubtful_count=self.doubt_count,
            waiver=self.waiver,
        )


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its conditions compiled to predicates."""

    rule: Rule
    preds: Mapping[str, Predicate]
    hints: tuple[Regex, ...] = ()
    # deadline/recurring judged elsewhere (the durable backend): (subject id, period label, or
    # "" for a deadline's due date) → True when the subject has on-time evidence
    on_time: Callable[[str, str], bool] | None = None


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


def rule_conditions(rule: Rule) -> dict[str, Condition | None]:
    """Every condition of a rule by its slot (None: the rule has none there, always true):
    ``when``, ``applies`` (criterion); ``where``, ``require`` (check); ``subject``,
    ``evidence`` and ``stricter0``, ``stricter1`` … (the time-based kinds). The one list of a
    rule's conditions: compiling, the durable backend and the test strategies read it."""
    if isinstance(rule, Criterion):
        return {"when": rule.when, "applies": rule.applies}
    if isinstance(rule, Check):
        return {"where": rule.where, "require": rule.require}
    ev = rule.count if isinstance(rule, Trend) else rule.evidence
    out: dict[str, Condition | None] = {"subject": rule.subject.where, "evidence": ev.where}
    if isinstance(rule, Recurring):
        out.update((f"stricter{i}", v.when) for i, v in enumerate(rule.stricter))
    return out


def _compile_rule(rule: Rule) -> CompiledRule:
    hints: tuple[Regex, ...] = ()
    if isinstance(rule, Criterion):
        hints = tuple(compile_regex(h) for h in rule.hints)
    conds = rule_conditions(rule)
    return CompiledRule(rule, {k: compile_condition(v) for k, v in conds.items()}, hints)


@lru_cache(maxsize=16)
def compile_pack(packs: PackSet) -> CompiledPack:
    """Compile every rule of ``packs``; memoised by the pack set's identity (the last 16 sets),
    so evaluating the same set again reuses the compiled form."""
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
    return CompiledPack(packs, {t: tuple(v) for t, v in by_type.items()}, tuple(timed), classifiers)
