"""Result models (SPEC §4): violations, classifications, candidates, rejected records, counts.

Pydantic v2 models at the boundary: they serialise to JSON, parse back to equal objects, and
export JSON Schema for systems written in other languages. Ordering is deterministic:
violations sort by subject, rule, period, record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "STATUSES",
    "Candidate",
    "Classification",
    "Counts",
    "RecordRef",
    "Rejected",
    "Result",
    "Violation",
    "WaiverRef",
]

STATUSES = ("failed", "overdue", "late", "missing", "misclassified", "exceeded", "waived")
Status = Literal["failed", "overdue", "late", "missing", "misclassified", "exceeded", "waived"]
Judged = Literal["failed", "overdue", "late", "missing", "misclassified", "exceeded"]
Severity = Literal["critical", "high", "medium", "low"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecordRef(_Model):
    """A record named by its type and id."""

    type: str
    id: str

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"


class WaiverRef(_Model):
    """The waiver a ``waived`` finding carries: who approved what, why, until when, and the
    status the finding had."""

    id: str
    reason: str
    approved_by: str
    approved_on: date
    expires_on: date | None = None
    status: Judged


class Violation(_Model):
    """One structured finding.

    ``doubtful``: rejected records could have changed it (they could have been its
    evidence); ``doubtful_because`` lists the sources of up to 20 of them and
    ``doubtful_count`` says how many there are (SPEC §4, docs/input-formats.md). A finding a
    waiver covers has status ``waived`` and carries the ``waiver`` (with the status it had)."""

    rule: str
    kind: str
    status: Status
    severity: Severity
    subject: RecordRef
    record: RecordRef | None = None
    period: str | None = None
    due: date | None = None
    evidence: list[RecordRef] = Field(default_factory=list)
    message: str = ""
    message_en: str = ""
    cite: str = ""
    title: str = ""
    explain: list[dict[str, Any]] | None = None
    doubtful: bool = False
    doubtful_because: list[str] = Field(default_factory=list)
    doubtful_count: int = 0
    waiver: WaiverRef | None = None


class Classification(_Model):
    """A label a criterion put on a record, with the rule that proves it."""

    record: RecordRef
    subject: RecordRef
    label: str
    rule: str
    cite: str = ""


class Candidate(_Model):
    """A lead for review: the record's text matches a criterion's hints, its facts do not prove it."""

    record: RecordRef
    subject: RecordRef
    label: str = "major_candidate"
    rule: str
    cite: str = ""
    hints: list[str] = Field(default_factory=list)


class Rejected(_Model):
    """A record that did not fit the schema; evaluation went on without it."""

    type: str
    id: str | None = None
    source: str
    field: str | None = None
    reason: str


class Counts(_Model):
    """Totals: ``read == evaluated + rejected`` always. ``doubtful`` counts the violations
    rejected rows could have changed; ``read_by_file`` and ``rejected_by_file`` are per
    file (``file`` or ``file:sheet``; the record type for records given to the API)."""

    read: int = 0
    evaluated: int = 0
    rejected: int = 0
    violations: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)
    by_severity: dict[str, int] = Field(default_factory=dict)
    classifications: int = 0
    candidates: int = 0
    doubtful: int = 0
    waived: int = 0
    read_by_file: dict[str, int] = Field(default_factory=dict)
    rejected_by_file: dict[str, int] = Field(default_factory=dict)


class Result(_Model):
    """What one evaluation found."""

    as_of: date
    packs: list[str] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list)
    classifications: list[Classification] = Field(default_factory=list)
    candidates: list[Candidate] = Field(default_factory=list)
    unmapped: list[RecordRef] | None = None
    rejected: list[Rejected] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    engines: dict[str, str] = Field(default_factory=dict)
    counts: Counts = Field(default_factory=Counts)


def label_key(c: Classification | Candidate) -> tuple[str, ...]:
    """Sort key of classifications and candidates: subject, record, rule."""
    return (c.subject.type, c.subject.id, c.record.type, c.record.id, c.rule)


def summarize(
    facts: tuple[int, int, int],
    findings: Iterable[tuple[str, str]],
    classifications: int,
    candidates: int,
    doubtful: int = 0,
) -> Counts:
    """Counts from (read, evaluated, rejected) and the (status, severity) of every finding."""
    pairs = list(findings)
    return Counts(
        read=facts[0],
        evaluated=facts[1],
        rejected=facts[2],
        violations=len(pairs),
        by_status=dict(sorted(Counter(st for st, _ in pairs).items())),
        by_severity=dict(sorted(Counter(sv for _, sv in pairs).items())),
        classifications=classifications,
        candidates=candidates,
        doubtful=doubtful,
    )


def violation_key(v: Violation) -> tuple[Any, ...]:
    """Sort key: subject, rule, period (chronological), record, status."""
    from hazard_rules.periods import parse_period

    if v.period is None:
        pkey: tuple[Any, ...] = (0,)
    else:
        p = parse_period(v.period)
        pkey = (1, *p.sort_key)
    rec = (v.record.type, v.record.id) if v.record else ("", "")
    return (v.subject.type, v.subject.id, v.rule, pkey, rec, v.status)
