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
    "Assessed",
    "CalendarRow",
    "Candidate",
    "Classification",
    "Counts",
    "MajorHazards",
    "Obligations",
    "RankEntry",
    "RecordRef",
    "Rejected",
    "Result",
    "Scorecard",
    "VetoReason",
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
    title: str = ""  # the rule's title
    label_name: str = ""  # the label as the schema names it (重大事故隐患), else empty


class Candidate(_Model):
    """A lead for review: the record's text matches a criterion's hints, its facts do not prove it."""

    record: RecordRef
    subject: RecordRef
    label: str = "major_candidate"
    rule: str
    cite: str = ""
    title: str = ""  # the rule's title
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


class Obligations(_Model):
    """One rule's obligations of one subject in one assessment period: judged (due in the
    period and before as_of, not waived), met on time, late, missing (or overdue, failed,
    exceeded), waived, and pending (due in the period, not yet judged)."""

    rule: str
    title: str
    kind: str
    severity: Severity
    judged: int = 0
    met: int = 0
    late: int = 0
    missing: int = 0
    waived: int = 0
    pending: int = 0


class MajorHazards(_Model):
    """Major hazards (recorded major, or proved major by a criterion) found in the period, and
    what became of them as of the evaluation date."""

    found: int = 0
    rectified_on_time: int = 0
    rectified_late: int = 0
    overdue: int = 0
    open: int = 0


class VetoReason(_Model):
    """A finding that vetoes an excellent rating (一票否优), with the kind of veto it is."""

    veto: str
    cite: str | None = None
    rule: str
    status: str
    period: str | None = None
    due: date | None = None
    record: RecordRef | None = None
    doubtful: bool = False


class Scorecard(_Model):
    """One subject's assessment for one period (docs/assessment.md)."""

    subject: RecordRef
    name: str | None = None
    period: str
    obligations: list[Obligations] = Field(default_factory=list)
    findings: dict[str, dict[str, int]] = Field(default_factory=dict)  # status → severity → n
    major_hazards: MajorHazards = Field(default_factory=MajorHazards)
    misclassified: int = 0
    doubtful: int = 0
    waived: int = 0
    judged: int = 0
    met: int = 0
    on_time_rate: float | None = None
    score: float | None = None
    vetoed: bool = False
    veto_reasons: list[VetoReason] = Field(default_factory=list)


class RankEntry(_Model):
    """One subject in the 晾晒 ranking of a period, with its change against the previous one."""

    rank: int | None = None  # None: vetoed (listed apart)
    subject: RecordRef
    name: str | None = None
    score: float | None = None
    vetoed: bool = False
    previous_rank: int | None = None
    previous_score: float | None = None
    score_change: float | None = None
    rank_change: int | None = None  # positive: moved up


class CalendarRow(_Model):
    """One periodic obligation of one subject over time: the status of each period (met,
    late, missing, waived, pending — not yet due), for the calendar heatmap."""

    subject: RecordRef
    owner: str | None = None  # the subject (enterprise) it counts for
    rule: str
    title: str
    every: str
    cells: dict[str, str] = Field(default_factory=dict)  # period label → status


class Assessed(_Model):
    """The assessment of a result: the period assessed, the one it is compared with, every
    subject's scorecard for both, and the ranking."""

    period: str
    previous: str | None = None
    scorecards: list[Scorecard] = Field(default_factory=list)
    previous_scorecards: list[Scorecard] = Field(default_factory=list)
    ranking: list[RankEntry] = Field(default_factory=list)
    calendar: list[CalendarRow] = Field(default_factory=list)
    # "type:id" → name of every subject a finding or a calendar row names, and → the id of
    # the subject (enterprise) it counts for, for subjects of other types (a site)
    names: dict[str, str] = Field(default_factory=dict)
    owners: dict[str, str] = Field(default_factory=dict)


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
    assessment: Assessed | None = None  # scorecards and ranking, when asked for


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


def finding_order(
    subject: RecordRef, rule: str, period: Any, record: RecordRef | None, status: str
) -> tuple[Any, ...]:
    """The one sort key of findings (SPEC §4): subject, rule, period (chronological; none
    first), record, status. ``period`` is a :class:`~hazard_rules.periods.Period` or None."""
    pkey = (0,) if period is None else (1, *period.sort_key)
    rec = (record.type, record.id) if record else ("", "")
    return (subject.type, subject.id, rule, pkey, rec, status)


def violation_key(v: Violation) -> tuple[Any, ...]:
    """:func:`finding_order` of a violation model."""
    from hazard_rules.periods import parse_period

    period = parse_period(v.period) if v.period is not None else None
    return finding_order(v.subject, v.rule, period, v.record, v.status)
