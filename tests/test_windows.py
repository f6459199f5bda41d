"""The period/evidence engine (``hazard_rules.engine.windows``): which windows bind a subject,
their due dates, the evidence on time and late in each, their status as of a date — and that
judging and the due calendar report exactly what the windows say."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import d, rule
from hazard_rules import load_packs
from hazard_rules.engine.calendar import upcoming
from hazard_rules.engine.compile import compile_pack
from hazard_rules.engine.judge import judge
from hazard_rules.engine.windows import (
    STATUSES,
    Evidence,
    RuleWindows,
    Schedule,
    Window,
    due_date,
    windows,
)
from hazard_rules.facts.collect import FactSet, collect_facts, rows_from_mapping
from hazard_rules.ir import Deadline, Recurring
from hazard_rules.periods import Period

QUARTERLY = rule(
    "t.inspect",
    "recurring",
    subject={"type": "enterprise"},
    evidence={"type": "inspection", "where": {"led_by": "principal"}, "date": "held_on"},
    every="quarter",
    window={"from": d("2024-01-01"), "until": d("2024-12-31")},
)
DEADLINE = rule(
    "t.plan",
    "deadline",
    subject={"type": "enterprise"},
    evidence={"type": "document", "date": "submitted_on"},
    due=d("2024-04-30"),
    at_least=2,
)


def ent(eid: str, **kw: Any) -> dict[str, Any]:
    return {"id": eid, "name": eid, "sectors": ["commerce"], "high_risk": False, **kw}


def insp(iid: str, held_on: str, eid: str = "E1") -> dict[str, Any]:
    return {"id": iid, "enterprise_id": eid, "held_on": held_on, "led_by": "principal"}


def world(
    make_pack: Callable[..., Path], rules: list[dict[str, Any]], facts: dict[str, Any]
) -> tuple[Any, FactSet]:
    packs = load_packs(make_pack(rules))
    return packs, collect_facts(packs.schema, rows_from_mapping(facts))


def rule_windows(packs: Any, facts: FactSet, as_of: date, rid: str) -> RuleWindows:
    compiled = next(c for c in compile_pack(packs).timed if c.rule.meta.id == rid)
    return RuleWindows(compiled, facts.records, packs.schema, as_of)


def test_windows_of_a_recurring_rule(make_pack: Callable[..., Path]) -> None:
    facts = {
        "enterprise": [ent("E1")],
        "inspection": [
            insp("I1", "2024-02-01"),
            insp("I2", "2024-07-01"),
            insp("I3", "2024-12-01"),
        ],
    }
    packs, fact_set = world(make_pack, [QUARTERLY], facts)
    rw = rule_windows(packs, fact_set, d("2024-10-15"), "t.inspect")
    (subject,) = rw.subjects()
    got = list(rw.windows(subject, due_until=d("2024-12-31")))
    assert [(w.period.label if w.period else None, w.due.isoformat(), w.status) for w in got] == [
        ("2024-Q1", "2024-03-31", "met"),
        ("2024-Q2", "2024-06-30", "missing"),
        ("2024-Q3", "2024-09-30", "met"),
        ("2024-Q4", "2024-12-31", "pending"),  # I3 is after as_of: it does not exist yet
    ]
    assert [e.id for e in got[0].on_time] == ["I1"] and got[0].late == ()
    assert all(w.status in STATUSES and w.required == 1 for w in got)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got[0].status = "late"  # type: ignore[misc]
    # due_from/due_until select by due date; due_until defaults to as_of
    assert [w.period for w in rw.windows(subject)] == [
        Period("quarter", 2024, 1),
        Period("quarter", 2024, 2),
        Period("quarter", 2024, 3),
    ]
    assert [w.period for w in rw.windows(subject, due_from=d("2024-06-30"))] == [
        Period("quarter", 2024, 2),
        Period("quarter", 2024, 3),
    ]


def test_windows_of_a_deadline(make_pack: Callable[..., Path]) -> None:
    docs = [
        {"id": f"D{i}", "enterprise_id": "E1", "doc_type": "work_plan", "submitted_on": day}
        for i, day in enumerate(["2024-04-30", "2024-05-02"])
    ]
    facts = {"enterprise": [ent("E1"), ent("E2", active_from="2024-05-01")], "document": docs}
    packs, fact_set = world(make_pack, [DEADLINE], facts)
    rw = rule_windows(packs, fact_set, d("2024-06-01"), "t.plan")
    e1, e2 = rw.subjects()
    (w,) = rw.windows(e1)
    assert (w.period, w.due, w.required, w.status) == (None, d("2024-04-30"), 2, "late")
    assert [e.id for e in w.on_time] == ["D0"] and [e.id for e in w.late] == ["D1"]
    assert [e.id for e in w.evidence] == ["D0", "D1"]
    assert list(rw.windows(e2)) == []  # not active on the due date
    assert list(rw.windows(e1, due_until=d("2024-04-29"))) == []


def test_windows_is_a_pure_function() -> None:
    """The core takes a schedule, an active span and evidence: no fact set needed (what a
    scorecard or a heatmap calls)."""
    packs = load_packs("baoshan-2024")
    rec = packs.rule("baoshan-2024.leader-inspection")
    assert isinstance(rec, Recurring)
    evidence = [Evidence(d("2024-05-10"), None, "I1"), Evidence(d("2024-08-01"), None, "I2")]
    got = list(
        windows(
            rec,
            Schedule("month", 1),
            evidence,
            active=(None, d("2024-07-31")),
            as_of=d("2025-01-01"),
        )
    )
    assert [(w.period.label if w.period else "", w.status) for w in got] == [
        ("2024-04", "missing"),
        ("2024-05", "met"),
        ("2024-06", "missing"),
        ("2024-07", "missing"),
    ]
    assert all(isinstance(w, Window) for w in got)


def test_due_date_of_the_next_period() -> None:
    q2 = Period("quarter", 2024, 2)
    assert due_date(q2, Schedule("quarter", 1)) == d("2024-06-30")
    assert due_date(q2, Schedule("quarter", 1, 20)) == d("2024-04-20")
    assert due_date(q2, Schedule("quarter", 1, 15, due_next=True)) == d("2024-07-15")
    assert due_date(Period("year", 2024), Schedule("year", 1, 31, True)) == d("2025-01-31")


def test_judging_and_the_calendar_report_what_the_windows_say(
    make_pack: Callable[..., Path],
) -> None:
    """Every late/missing finding is a due window of that status, every calendar item a
    pending window, and nothing else."""
    facts = {
        "enterprise": [ent("E1"), ent("E2", active_until="2024-08-31"), ent("E3")],
        "inspection": [insp("I1", "2024-03-01"), insp("I2", "2024-07-02", "E2")],
        "document": [
            {"id": "D1", "enterprise_id": "E3", "doc_type": "other", "submitted_on": "2024-05-01"}
        ],
    }
    packs, fact_set = world(make_pack, [QUARTERLY, DEADLINE], facts)
    compiled = compile_pack(packs)
    for as_of in (d("2024-04-30"), d("2024-07-01"), d("2024-10-01"), d("2025-02-01")):
        expected_findings = set()
        expected_items = set()
        for c in compiled.timed:
            assert isinstance(c.rule, (Deadline, Recurring))
            rw = RuleWindows(c, fact_set.records, packs.schema, as_of)
            for s in rw.subjects():
                for w in rw.windows(s, due_until=as_of + timedelta(days=90)):
                    label = w.period.label if w.period else None
                    if w.status in ("late", "missing"):
                        expected_findings.add((c.rule.meta.id, s["id"], label, w.status))
                    if w.status == "pending":
                        expected_items.add((c.rule.meta.id, s["id"], label, len(w.on_time)))
        result = judge(compiled, fact_set, as_of)
        assert {(v.rule, v.subject.id, v.period, v.status) for v in result.violations} == (
            expected_findings
        )
        items = upcoming(packs, fact_set, as_of, as_of + timedelta(days=90))
        assert {(u.rule, u.subject, u.period, u.have) for u in items} == expected_items
