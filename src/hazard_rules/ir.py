"""The frozen intermediate representation of conditions and rules — data, no behaviour.

Lowering (:mod:`hazard_rules.lower.rules`) produces it from validated documents; backends compile
it. Every node keeps the :class:`SourceSpan` it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hazard_rules.periods import Period
from hazard_rules.schema import FieldDef
from hazard_rules.source import SourceSpan

__all__ = [
    "AllOf",
    "AnyOf",
    "AtLeast",
    "Check",
    "Condition",
    "Const",
    "Criterion",
    "Deadline",
    "DueSpec",
    "EvidenceSpec",
    "FieldPath",
    "FieldRef",
    "Leaf",
    "NotOf",
    "Recurring",
    "RefStep",
    "Rule",
    "RuleMeta",
    "SubjectSpec",
    "Template",
    "Trend",
    "Variant",
]


@dataclass(frozen=True)
class RefStep:
    """Follow reference field ``field`` to a record of type ``target``."""

    field: str
    target: str


@dataclass(frozen=True)
class FieldPath:
    """A field, possibly reached through references: ``enterprise.high_risk``."""

    root: str  # the record type the path starts from
    steps: tuple[RefStep, ...]
    field: FieldDef
    text: str


@dataclass(frozen=True)
class Const:
    """A literal operand, already coerced to the field's type (tuples for lists and ranges)."""

    value: Any


@dataclass(frozen=True)
class FieldRef:
    """An operand read from another field of the same record: ``{ref: other_field}``."""

    path: FieldPath


@dataclass(frozen=True)
class Band:
    """One bracket of a progressive rate (超额累退): the part of the base up to ``upto``
    (None: the rest) above the previous bracket's bound is charged ``rate``."""

    upto: float | None
    rate: float


@dataclass(frozen=True)
class Compute:
    """A computed amount of a check (``compute: {NAME: …}``), from a number field ``base``:
    progressive ``bands``, or a rate per value of the enum field ``rate_of``, or one ``rate``;
    optionally ``spread`` over the record's period (the months of its period field / 12)."""

    name: str
    base: FieldPath
    bands: tuple[Band, ...] = ()
    rate_of: FieldPath | None = None
    rates: tuple[tuple[str, float], ...] = ()
    rate: float | None = None
    spread: FieldPath | None = None
    span: SourceSpan = field(default=SourceSpan("<generated>"), compare=False)


@dataclass(frozen=True)
class Computed:
    """An operand computed from the record by a :class:`Compute`: ``{computed: NAME}``."""

    compute: Compute


Operand = Const | FieldRef | Computed


@dataclass(frozen=True)
class Leaf:
    """``path op operand``: one comparison."""

    path: FieldPath
    op: str
    operand: Operand
    span: SourceSpan = field(compare=False)


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]
    span: SourceSpan = field(compare=False)


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]
    span: SourceSpan = field(compare=False)


@dataclass(frozen=True)
class NotOf:
    item: Condition
    span: SourceSpan = field(compare=False)


@dataclass(frozen=True)
class AtLeast:
    n: int
    items: tuple[Condition, ...]
    span: SourceSpan = field(compare=False)


Condition = Leaf | AllOf | AnyOf | NotOf | AtLeast


@dataclass(frozen=True)
class Template:
    """A message template split into literal text and ``{name}`` placeholders."""

    parts: tuple[tuple[str, str | None], ...]  # (literal, placeholder name or None)
    source: str

    def render(
        self, values: dict[str, Any], labels: Mapping[str, Mapping[str, str]] | None = None
    ) -> str:
        """The message for ``values``; with ``labels`` (field → enum value → its label), an
        enum field's value is shown as its label (the Chinese messages: 重大事故隐患, not major)."""
        out = []
        for literal, name in self.parts:
            out.append(literal)
            if name is not None:
                value = values.get(name)
                if value is None:
                    continue
                named = labels.get(name) if labels else None
                if named:
                    if isinstance(value, (list, tuple)):
                        value = [named.get(v, v) if isinstance(v, str) else v for v in value]
                    elif isinstance(value, str):
                        value = named.get(value, value)
                out.append(_show(value))
        return "".join(out)


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(_show(v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(round(value, 4))
    if isinstance(value, (date, Period)):
        return str(value)
    return str(value)


@dataclass(frozen=True)
class RuleMeta:
    """What every rule has: identity, citation and messages."""

    id: str
    kind: str
    title: str
    cite: str
    severity: str
    message_zh: Template
    message_en: Template
    pack: str
    span: SourceSpan
    why: str | None = None
    title_en: str | None = None
    effective_from: date | None = None
    effective_until: date | None = None

    def in_effect(self, day: date) -> bool:
        """True when ``day`` lies inside the rule's ``effective`` span (inclusive)."""
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_until is None or day <= self.effective_until


@dataclass(frozen=True)
class Criterion:
    meta: RuleMeta
    type: str
    when: Condition
    label: str
    applies: Condition | None = None
    declared: str | None = None
    hints: tuple[str, ...] = ()
    hint_field: str | None = None


@dataclass(frozen=True)
class DueSpec:
    """A check's due date: a fixed ``date``, a ``field``, or ``days`` (or calendar ``months``)
    after a field."""

    date: date | None = None
    field: str | None = None
    days: int = 0
    months: int = 0


@dataclass(frozen=True)
class Check:
    meta: RuleMeta
    type: str
    where: Condition | None = None
    require: Condition | None = None
    due: DueSpec | None = None
    done: str | None = None
    computes: tuple[Compute, ...] = ()


@dataclass(frozen=True)
class SubjectSpec:
    type: str
    where: Condition | None = None


@dataclass(frozen=True)
class EvidenceSpec:
    """Records that prove (or, for trends, are counted for) an obligation of a subject."""

    type: str
    via: str  # the evidence's reference field pointing to the subject
    date_field: str
    where: Condition | None = None
    period_field: str | None = None


@dataclass(frozen=True)
class Deadline:
    meta: RuleMeta
    subject: SubjectSpec
    evidence: EvidenceSpec
    due: date
    at_least: int = 1


@dataclass(frozen=True)
class Variant:
    """A stricter frequency for the subjects that satisfy ``when`` (first match wins)."""

    when: Condition
    every: str
    at_least: int
    due_day: int | None
    due_next: bool = False


@dataclass(frozen=True)
class Recurring:
    meta: RuleMeta
    subject: SubjectSpec
    evidence: EvidenceSpec
    every: str
    at_least: int = 1
    due_day: int | None = None
    stricter: tuple[Variant, ...] = ()
    window_from: date | None = None
    window_until: date | None = None
    due_next: bool = False  # ``due: {day: N, of: next}``: day N of the period that follows


@dataclass(frozen=True)
class Trend:
    meta: RuleMeta
    subject: SubjectSpec
    count: EvidenceSpec
    period: Period
    to: Period
    op: str


Rule = Criterion | Check | Deadline | Recurring | Trend
