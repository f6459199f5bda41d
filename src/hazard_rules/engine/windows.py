"""Required periods and the evidence placed in them: for a ``deadline`` or ``recurring`` rule and
one subject, every window that binds the subject — a deadline's due date, or each required
period — with its due date and its evidence, on time and late (SPEC §3.3, §3.4).

This is the one place that decides which periods are required (window ∩ ``effective`` ∩ the
subject's active span, whole periods only), when each falls due (:func:`due_date`), where a
piece of evidence belongs (its period label, else its date) and whether it came on time.
Judging (:mod:`hazard_rules.engine.time_rules`), the due calendar
(:mod:`hazard_rules.engine.calendar`) and the durable backend read windows from here, and so
will anything that reports per period (scorecards, calendar heatmaps).

* :func:`windows` is the pure core: one rule, one subject's schedule, active span and
  evidence → its :class:`Window` objects, optionally only those falling due in a span;
* :class:`RuleWindows` applies it over a fact set: the rule's subjects, its evidence indexed
  once per rule (O(records)), each subject's schedule (the first ``stricter`` variant it
  meets) and active span.

Example::

    >>> rw = RuleWindows(compiled_rule, facts.records, packs.schema, as_of)
    >>> for subject in rw.subjects():
    ...     for w in rw.windows(subject, due_until=as_of):
    ...         print(subject["id"], w.period, w.due, w.status, len(w.on_time), len(w.late))
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from hazard_rules.backends.python import Index, Predicate
from hazard_rules.engine.compile import CompiledRule
from hazard_rules.engine.judging import Record, active_span, exists
from hazard_rules.ir import Deadline, EvidenceSpec, Recurring, Trend
from hazard_rules.periods import Period, date_of, period_of, periods_within
from hazard_rules.schema import Schema

__all__ = [
    "STATUSES",
    "Evidence",
    "RuleWindows",
    "Schedule",
    "Window",
    "due_date",
    "index_evidence",
    "subjects",
    "windows",
]

# what a window is, judged as of a date: enough evidence on time; not yet due and not yet met;
# due and proved only late; due and not proved
STATUSES = ("met", "pending", "late", "missing")
_FAR = date(9998, 12, 31)  # an open-ended span: periods stop once their due date is out of range


class Evidence(NamedTuple):
    """One record proving (or counted for) a subject's obligation."""

    day: date  # its local date
    label: Period | None  # the period its own period field names, if it has one
    id: str  # its record id


class Schedule(NamedTuple):
    """How much evidence a subject owes and when: a recurring rule's frequency as it applies to
    the subject (after ``stricter``), or a deadline's (``every`` None: one due date)."""

    every: str | None
    at_least: int
    due_day: int | None = None  # ``due: {day: N}``; None: the period's last day
    due_next: bool = False  # ``due: {day: N, of: next}``: day N of the period that follows


@dataclass(frozen=True)
class Window:
    """One obligation of one subject: a required period (``None`` for a deadline) and its due
    date, the evidence placed in it — on time (dated on or before ``due``) and late — and its
    status as of the date the windows were made for (one of :data:`STATUSES`)."""

    period: Period | None
    due: date
    required: int
    on_time: tuple[Evidence, ...]
    late: tuple[Evidence, ...]
    status: str

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """All the evidence placed in the window, on time first."""
        return self.on_time + self.late


def due_date(period: Period, schedule: Schedule) -> date:
    """The due date of a required period: day ``due_day`` of the period (of the period that
    follows, with ``due_next``), or its last day.

    Every due date of a recurring period comes from here: a new way of stating one is a change
    to :class:`Schedule` and to this function only. Due dates grow with the period (windows
    are given in due-date order and stop at the first one past the span asked for).
    """
    return period.due(schedule.due_day, of_next=schedule.due_next)


def _status(due: date, required: int, on_time: int, late: int, as_of: date) -> str:
    if on_time >= required:
        return "met"
    if not due < as_of:
        return "pending"
    return "late" if on_time + late >= required else "missing"


def windows(
    rule: Deadline | Recurring,
    schedule: Schedule,
    evidence: Sequence[Evidence],
    *,
    active: tuple[date | None, date | None],
    as_of: date,
    due_from: date | None = None,
    due_until: date | None = None,
) -> Iterator[Window]:
    """The windows of ``rule`` binding one subject, in due-date order.

    ``schedule`` is the subject's (see :meth:`RuleWindows.schedule`), ``evidence`` its evidence
    existing on ``as_of``, ``active`` its active span (``active_from``, ``active_until``;
    ``None`` unbounded). Only windows whose due date lies in ``[due_from, due_until]`` are
    given; ``due_until`` defaults to ``as_of`` and must be given for a later day. A deadline
    binds a subject active on its due date, inside the rule's ``effective`` span; a recurring
    rule binds each period lying wholly inside its window, ``effective`` span and the active
    span (none when that span has no start).
    """
    until = as_of if due_until is None else due_until

    def wanted(due: date) -> bool:
        return (due_from is None or due_from <= due) and due <= until

    if isinstance(rule, Deadline):
        due = rule.due
        a_from, a_until = active
        binds = (a_from is None or a_from <= due) and (a_until is None or due <= a_until)
        if wanted(due) and rule.meta.in_effect(due) and binds:
            yield _window(None, due, schedule.at_least, evidence, as_of)
        return
    every = schedule.every
    assert every is not None
    lo, hi = required_span(rule, active)
    if lo is None:
        return  # an unbounded start: nothing can be required (lint says so)
    placed = place(evidence, every)
    for period in periods_within(lo, hi, every):
        due = due_date(period, schedule)
        if due > until:
            break
        if wanted(due):
            yield _window(period, due, schedule.at_least, placed.get(period, ()), as_of)


def _window(
    period: Period | None, due: date, required: int, evidence: Sequence[Evidence], as_of: date
) -> Window:
    on_time = tuple(e for e in evidence if e.day <= due)
    late = tuple(e for e in evidence if e.day > due)
    status = _status(due, required, len(on_time), len(late), as_of)
    return Window(period, due, required, on_time, late, status)


def required_span(
    rule: Recurring, active: tuple[date | None, date | None]
) -> tuple[date | None, date]:
    """The span whose whole periods are required: window ∩ effective ∩ active span (a
    ``None`` start: unbounded, nothing can be required)."""
    m = rule.meta
    a_from, a_until = active
    starts = [d for d in (rule.window_from, m.effective_from, a_from) if d is not None]
    ends = [d for d in (rule.window_until, m.effective_until, a_until) if d is not None]
    return max(starts, default=None), min(ends, default=_FAR)


def place(evidence: Sequence[Evidence], every: str) -> dict[Period, list[Evidence]]:
    """Evidence by the period of kind ``every`` it belongs to: the period its label names,
    else the one its date falls in (a label naming another kind of period places it nowhere)."""
    out: dict[Period, list[Evidence]] = defaultdict(list)
    for e in evidence:
        p = e.label if e.label is not None else period_of(e.day, every)
        if p.every == every:
            out[p].append(e)
    return out


def index_evidence(
    spec: EvidenceSpec, where: Predicate, records: Index, as_of: date
) -> dict[str, list[Evidence]]:
    """The evidence of ``spec`` existing on ``as_of``, by the id of the subject it names; one
    pass. Undated evidence proves nothing (SPEC §3.4.4), and evidence dated after ``as_of``
    does not exist yet (§3.4.3)."""
    out: dict[str, list[Evidence]] = defaultdict(list)
    for rec in records.get(spec.type, {}).values():
        owner = rec.get(spec.via)
        day = date_of(rec.get(spec.date_field))
        if owner is None or day is None or day > as_of or not where(rec, records):
            continue
        label = rec.get(spec.period_field) if spec.period_field else None
        out[owner].append(Evidence(day, label if isinstance(label, Period) else None, rec["id"]))
    return out


def subjects(
    compiled: CompiledRule,
    records: Index,
    schema: Schema,
    as_of: date,
    *,
    owns: Callable[[str], bool] | None = None,
) -> list[Record]:
    """The subjects of a deadline, recurring or trend rule: the records of its subject type
    existing on as_of that meet its ``subject.where`` (and that ``owns`` accepts, when judging
    a partition), in record order."""
    rule = compiled.rule
    assert isinstance(rule, (Deadline, Recurring, Trend))
    tname = rule.subject.type
    where = compiled.preds["subject"]
    return [
        r
        for r in records.get(tname, {}).values()
        if (owns is None or owns(r["id"])) and exists(schema, tname, r, as_of) and where(r, records)
    ]


class RuleWindows:
    """The windows of one deadline or recurring rule over a fact set, as of one date.

    ``owns(subject id)`` limits the subjects (a partition of them, see ``judge(part=...)``).
    The evidence is indexed once, when first asked for.
    """

    def __init__(
        self,
        compiled: CompiledRule,
        records: Index,
        schema: Schema,
        as_of: date,
        *,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        rule = compiled.rule
        assert isinstance(rule, (Deadline, Recurring))
        self.rule = rule
        self.compiled = compiled
        self.records = records
        self.schema = schema
        self.as_of = as_of
        self.owns = owns
        self._evidence: Mapping[str, list[Evidence]] | None = None

    def subjects(self) -> list[Record]:
        """The rule's subjects existing on as_of (and in this partition), in record order."""
        return subjects(self.compiled, self.records, self.schema, self.as_of, owns=self.owns)

    def evidence(self, subject_id: str) -> Sequence[Evidence]:
        """The subject's evidence existing on as_of, in record order."""
        if self._evidence is None:
            where = self.compiled.preds["evidence"]
            self._evidence = index_evidence(self.rule.evidence, where, self.records, self.as_of)
        return self._evidence.get(subject_id, ())

    def schedule(self, subject: Record) -> Schedule:
        """The subject's schedule: the first ``stricter`` variant whose ``when`` it meets, else
        the rule's own frequency (a deadline: its ``at_least``)."""
        rule = self.rule
        if isinstance(rule, Deadline):
            return Schedule(None, rule.at_least)
        for i, v in enumerate(rule.stricter):
            if self.compiled.preds[f"stricter{i}"](subject, self.records):
                return Schedule(v.every, v.at_least, v.due_day, v.due_next)
        return Schedule(rule.every, rule.at_least, rule.due_day, rule.due_next)

    def windows(
        self, subject: Record, *, due_from: date | None = None, due_until: date | None = None
    ) -> Iterator[Window]:
        """The subject's windows falling due in ``[due_from, due_until]`` (see :func:`windows`)."""
        tname = self.rule.subject.type
        return windows(
            self.rule,
            self.schedule(subject),
            self.evidence(subject["id"]),
            active=active_span(self.schema, tname, subject),
            as_of=self.as_of,
            due_from=due_from,
            due_until=due_until,
        )
