"""``hazard-rules due``: the compliance calendar — every obligation that falls due in a coming
window and is not yet satisfied, per subject, soonest first.

An item is listed when its due date lies in ``[as_of, until]`` (inclusive) and, as of
``as_of``, the evidence on record does not yet satisfy it: a ``deadline`` or ``recurring``
window (:mod:`hazard_rules.engine.windows`) whose status is ``pending``, a ``check`` record
whose due date comes and that is not done. Trends are judged after the fact and are not
listed. Only public engine functions are used: the windows, the compiled pack, and the
judging helpers ``exists``, ``check_due``, ``subject_of``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from hazard_rules.engine.compile import compile_pack
from hazard_rules.engine.judging import check_due, exists, subject_of
from hazard_rules.engine.windows import RuleWindows
from hazard_rules.facts.collect import FactSet
from hazard_rules.ir import Check, Deadline, Recurring, Rule
from hazard_rules.packs import PackSet
from hazard_rules.periods import date_of

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
    facts: FactSet,
    as_of: date,
    until: date,
) -> list[Upcoming]:
    """Unsatisfied obligations due in ``[as_of, until]``, soonest first (``facts`` as
    :func:`hazard_rules.load_facts` reads them)."""
    compiled = compile_pack(packs)
    records = facts.records
    schema = packs.schema
    items: list[Upcoming] = []

    def item(due: date, tname: str, sid: str, rule: Rule, **kw: Any) -> Upcoming:
        name = records.get(tname, {}).get(sid, {}).get("name")
        label = str(name) if name is not None else None
        return Upcoming(due, tname, sid, label, rule.meta.id, rule.meta.title, **kw)

    # deadlines and recurring periods: their windows falling due in [as_of, until], not yet met
    # (trends are judged after their period; nothing to prepare for)
    for compiled_rule in compiled.timed:
        rule = compiled_rule.rule
        if not isinstance(rule, (Deadline, Recurring)):
            continue
        rw = RuleWindows(compiled_rule, records, schema, as_of)
        tname = rule.subject.type
        for subject in rw.subjects():
            for w in rw.windows(subject, due_from=as_of, due_until=until):
                if w.status == "pending":
                    period = w.period.label if w.period is not None else None
                    have = len(w.on_time)
                    items.append(
                        item(
                            w.due,
                            tname,
                            subject["id"],
                            rule,
                            period=period,
                            record=None,
                            have=have,
                            need=w.required,
                        )
                    )
    # checks: records whose due date comes in the span and that are not done
    for tname, rules in compiled.by_type.items():
        for compiled_rule in rules:
            rule = compiled_rule.rule
            if not isinstance(rule, Check) or rule.due is None or rule.done is None:
                continue
            where = compiled_rule.preds["where"]
            for rec in records.get(tname, {}).values():
                if not exists(schema, tname, rec, as_of) or not where(rec, records):
                    continue
                due_on = check_due(rule, rec)
                if due_on is None or not (as_of <= due_on <= until):
                    continue
                if not rule.meta.in_effect(due_on):
                    continue
                done = date_of(rec.get(rule.done))
                if done is None or done > as_of:
                    owner_type, owner_id = subject_of(schema, packs.subject, tname, rec)
                    items.append(
                        item(
                            due_on,
                            owner_type,
                            owner_id,
                            rule,
                            period=None,
                            record=rec["id"],
                            have=0,
                            need=1,
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
