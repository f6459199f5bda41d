"""``hazard-rules due``: the compliance calendar — every obligation that falls due in a coming
window and is not yet satisfied, per subject, soonest first.

An item is listed when its due date lies in ``[as_of, until]`` (inclusive) and, as of
``as_of``, the evidence on record does not yet satisfy it: a ``deadline`` without enough
evidence, a ``recurring`` period without enough evidence in it, a ``check`` record whose
due date comes and that is not done. Trends are judged after the fact and are not listed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from hazard_rules.api import load_facts
from hazard_rules.engine.judge import _Judge, compile_pack
from hazard_rules.engine.judging import check_due
from hazard_rules.engine.judging import local_date as _local
from hazard_rules.facts.collect import FactSet
from hazard_rules.ir import Check, Deadline, Recurring
from hazard_rules.packs import PackSet
from hazard_rules.periods import period_of, periods_within

__all__ = ["Upcoming", "format_upcoming", "upcoming"]


@dataclass(frozen=True)
class Upcoming:
    """One obligation falling due soon."""

    due: date
    subject_type: str
    subject: str
    subject_name: str | None
    rule: str
    title: str
    period: str | None
    record: str | None
    have: int
    need: int


def upcoming(
    packs: PackSet,
    facts: Mapping[str, Iterable[Any]] | str | FactSet,
    as_of: date,
    until: date,
    *,
    encoding: str | None = None,
) -> list[Upcoming]:
    """Unsatisfied obligations due in ``[as_of, until]``, soonest first."""
    compiled = compile_pack(packs)
    fact_set = facts if isinstance(facts, FactSet) else load_facts(packs, facts, encoding=encoding)
    j = _Judge(compiled, fact_set, as_of, explain=False)
    items: list[Upcoming] = []

    def name(tname: str, sid: str) -> str | None:
        n = j.idx.get(tname, {}).get(sid, {}).get("name")
        return str(n) if n is not None else None

    for cr in compiled.timed:
        rule = cr.rule
        if isinstance(rule, Deadline):
            due = rule.due
            if not (as_of <= due <= until) or not rule.meta.in_effect(due):
                continue
            index = j.evidence_index(cr, rule.evidence)
            st = rule.subject.type
            for subj in j.subjects(cr, st):
                if not j.active(st, subj, due, due):
                    continue
                have = sum(1 for e in index.get(subj["id"], ()) if e[0] <= due)
                if have < rule.at_least:
                    items.append(
                        Upcoming(
                            due,
                            st,
                            subj["id"],
                            name(st, subj["id"]),
                            rule.meta.id,
                            rule.meta.title,
                            None,
                            None,
                            have,
                            rule.at_least,
                        )
                    )
        elif isinstance(rule, Recurring):
            index = j.evidence_index(cr, rule.evidence)
            st = rule.subject.type
            m = rule.meta
            for subj in j.subjects(cr, st):
                every, need, day, nxt = j.frequency(cr, rule, subj)
                lo, hi = j.required_span(rule, subj)
                if lo is None:
                    continue
                ev = index.get(subj["id"], [])
                first = period_of(as_of, every).start
                if nxt and first > date.min:  # the period before may fall due now
                    first = period_of(first - timedelta(days=1), every).start
                for period in periods_within(max(lo, first), hi, every):
                    due = period.due(day, of_next=nxt)
                    if due > until:
                        break
                    if due < as_of:
                        continue
                    have = sum(
                        1
                        for d, label, _ in ev
                        if (label if label is not None else period_of(d, every)) == period
                        and d <= due
                    )
                    if have < need:
                        items.append(
                            Upcoming(
                                due,
                                st,
                                subj["id"],
                                name(st, subj["id"]),
                                m.id,
                                m.title,
                                period.label,
                                None,
                                have,
                                need,
                            )
                        )
        # trends are judged after their period; nothing to prepare for
    for tname, rules in compiled.by_type.items():
        for cr in rules:
            rule = cr.rule
            if not isinstance(rule, Check) or rule.due is None or rule.done is None:
                continue
            for rec in j.idx.get(tname, {}).values():
                if not j.exists(tname, rec) or not cr.preds["where"](rec, j.idx):
                    continue
                due_on = check_due(rule, rec)
                if due_on is None or not (as_of <= due_on <= until):
                    continue
                if not rule.meta.in_effect(due_on):
                    continue
                done = _local(rec.get(rule.done))
                if done is None or done > as_of:
                    owner = j.subject_of(tname, rec)
                    items.append(
                        Upcoming(
                            due_on,
                            owner.type,
                            owner.id,
                            name(owner.type, owner.id),
                            rule.meta.id,
                            rule.meta.title,
                            None,
                            rec["id"],
                            0,
                            1,
                        )
                    )
    items.sort(
        key=lambda u: (u.due, u.subject_type, u.subject, u.rule, u.period or "", u.record or "")
    )
    return items


def format_upcoming(items: list[Upcoming], as_of: date, fmt: str = "table") -> str:
    """The calendar as a table, JSON or CSV (with BOM)."""
    if fmt == "json":
        return (
            json.dumps([asdict(u) for u in items], ensure_ascii=False, indent=2, default=str) + "\n"
        )
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(
            [
                "due",
                "subject_type",
                "subject",
                "subject_name",
                "rule",
                "title",
                "period",
                "record",
                "have",
                "need",
            ]
        )
        for u in items:
            w.writerow(
                [
                    u.due,
                    u.subject_type,
                    u.subject,
                    u.subject_name or "",
                    u.rule,
                    u.title,
                    u.period or "",
                    u.record or "",
                    u.have,
                    u.need,
                ]
            )
        return buf.getvalue()
    from hazard_rules.output.writers import render_table

    if not items:
        return f"as of {as_of}: nothing falls due in the window.\n"
    rows = [
        [
            u.due.isoformat(),
            f"{(u.due - as_of).days}d",
            u.subject,
            u.subject_name or "",
            u.rule,
            u.title,
            u.period or u.record or "",
            f"{u.have}/{u.need}",
        ]
        for u in items
    ]
    table = render_table(
        [
            "截止 due",
            "剩余 left",
            "主体 subject",
            "名称 name",
            "规则 rule",
            "事项 title",
            "期间/记录",
            "已有/需要",
        ],
        rows,
        [10, 6, 10, 24, 40, 30, 10, 8],
    )
    return f"{table}\n\nas of {as_of}: {len(items)} obligation(s) fall due in the window.\n"
