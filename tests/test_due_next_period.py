"""A recurring due date in the following period: ``due: {day: N, of: next}`` (issue 14, 16号令).

The quarterly statistics of 安全生产事故隐患排查治理暂行规定 第十四条 are due before the 15th of the
next quarter and the annual ones by 31 January of the next year: day 15 of the next quarter,
day 31 of the next year. Every test runs under both backends and states the exact findings as
``(rule, subject, period, due, record, status)`` tuples (SPEC §3.3, §3.4.7).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import d, findings, rule
from hazard_rules import Diagnostic, PackError, evaluate, load_facts, load_packs
from hazard_rules.engine.calendar import upcoming
from hazard_rules.output.rule_text import describe_rule
from hazard_rules.periods import parse_period

Run = Callable[..., list[tuple[Any, ...]]]

SCHEMA = {
    "types": {
        "filing": {
            "date": "filed_on",
            "fields": {
                "enterprise_id": {"ref": "enterprise"},
                "period": "period",
                "filed_on": "date",
                "kind": {"type": "enum?", "values": ["statistics", "other"]},
            },
        },
        "visit": {"fields": {"enterprise_id": {"ref": "enterprise"}, "on": "date"}},
    }
}
EVIDENCE = {"type": "filing", "period": "period", "date": "filed_on"}
QUARTERLY = rule(
    "t.quarterly",
    "recurring",
    subject={"type": "enterprise"},
    evidence=EVIDENCE,
    every="quarter",
    due={"day": 15, "of": "next"},
    window={"from": d("2024-01-01")},
)
ANNUAL = rule(
    "t.annual",
    "recurring",
    subject={"type": "enterprise"},
    evidence=EVIDENCE,
    every="year",
    due={"day": 31, "of": "next"},
    window={"from": d("2024-01-01")},
)
Q, A = "t.quarterly", "t.annual"


def ent(eid: str, **kw: Any) -> dict[str, Any]:
    return {"id": eid, "name": f"{eid}公司", "sectors": ["commerce"], "high_risk": False, **kw}


def filing(fid: str, eid: str, period: str, filed_on: str, **kw: Any) -> dict[str, Any]:
    return {"id": fid, "enterprise_id": eid, "period": period, "filed_on": filed_on, **kw}


@pytest.fixture(params=["python", "durable"])
def run(request: pytest.FixtureRequest, make_pack: Callable[..., Path]) -> Run:
    """``run(rules, facts, as_of)`` → findings under the parametrised backend."""

    def go(rules: list[dict[str, Any]], facts: dict[str, Any], as_of: str, result: bool = False):
        packs = load_packs(make_pack(rules, schema=SCHEMA))
        res = evaluate(packs, facts, as_of=d(as_of), backend=request.param)
        assert res.rejected == [], res.rejected
        return res if result else findings(res)

    return go


# -- the due date ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "day", "due"),
    [
        ("2024-Q1", 15, "2024-04-15"),
        ("2024-Q3", 15, "2024-10-15"),
        ("2024-Q4", 15, "2025-01-15"),  # the next quarter is in the next year
        ("2024", 31, "2025-01-31"),  # a year: day 31 of the next year is 31 January
        ("2024-H2", 15, "2025-01-15"),
        ("2024-01", 31, "2024-02-29"),  # past the next period's end: its last day
        ("2024-12", 1, "2025-01-01"),
        ("9998", 31, "9999-01-31"),  # the last year a period may have still has a next one
    ],
)
def test_day_n_of_the_next_period(label: str, day: int, due: str):
    assert parse_period(label).due(day, of_next=True) == d(due)


def test_of_this_is_the_period_itself():
    assert parse_period("2024-Q1").due(15) == d("2024-01-15")
    assert parse_period("2024-Q1").due() == d("2024-03-31")
    assert parse_period("2024-Q1").due(None, of_next=True) == d("2024-06-30")


# -- judging: the due day is on time, the day after is late (SPEC §3.4.7) --------------------


@pytest.mark.parametrize(
    ("filed_on", "as_of", "expected"),
    [
        # judged only once the due date is strictly before as_of
        (None, "2024-04-15", []),
        (None, "2024-04-16", [(Q, "E1", "2024-Q1", "2024-04-15", None, "missing")]),
        ("2024-04-15", "2024-04-16", []),  # on the due day: on time
        ("2024-04-16", "2024-04-16", [(Q, "E1", "2024-Q1", "2024-04-15", None, "late")]),
        ("2024-04-16", "2024-05-01", [(Q, "E1", "2024-Q1", "2024-04-15", None, "late")]),
        # filed after as_of: it has not happened yet
        ("2024-04-20", "2024-04-18", [(Q, "E1", "2024-Q1", "2024-04-15", None, "missing")]),
        ("2024-03-28", "2024-04-16", []),  # filed before the quarter ended: on time
    ],
)
def test_quarterly_boundary(run: Run, filed_on: str | None, as_of: str, expected: list[Any]):
    facts: dict[str, Any] = {"enterprise": [ent("E1")]}
    if filed_on:
        facts["filing"] = [filing("F1", "E1", "2024-Q1", filed_on)]
    assert run([QUARTERLY], facts, as_of) == expected


@pytest.mark.parametrize(
    ("filed_on", "as_of", "expected"),
    [
        (None, "2025-01-31", []),
        (None, "2025-02-01", [(A, "E1", "2024", "2025-01-31", None, "missing")]),
        ("2025-01-31", "2025-02-01", []),
        ("2025-02-01", "2025-02-02", [(A, "E1", "2024", "2025-01-31", None, "late")]),
    ],
)
def test_annual_boundary(run: Run, filed_on: str | None, as_of: str, expected: list[Any]):
    facts: dict[str, Any] = {"enterprise": [ent("E1")]}
    if filed_on:
        facts["filing"] = [filing("F1", "E1", "2024", filed_on)]
    assert run([ANNUAL], facts, as_of) == expected


def test_late_lists_the_late_evidence(run: Run):
    facts = {"enterprise": [ent("E1")], "filing": [filing("F1", "E1", "2024-Q1", "2024-04-22")]}
    res = run([QUARTERLY], facts, "2024-05-01", result=True)
    assert findings(res) == [(Q, "E1", "2024-Q1", "2024-04-15", None, "late")]
    assert [e.id for e in res.violations[0].evidence] == ["F1"]


def test_the_period_label_places_the_evidence(run: Run):
    """Filed in the next quarter, the label says which quarter it is for (SPEC §3.3)."""
    facts = {
        "enterprise": [ent("E1")],
        "filing": [
            filing("F1", "E1", "2024-Q1", "2024-04-10"),  # in Q2, for Q1: Q1 on time
            filing("F2", "E1", "2024-Q2", "2024-07-15"),  # on the due day
            filing("F3", "E1", "2024-Q3", "2024-10-16"),  # a day late
            # Q4 2024 is filed in 2025 and due 2025-01-15: on time
            filing("F4", "E1", "2024-Q4", "2025-01-14"),
        ],
    }
    # 2025-Q1 is due on as_of itself: not judged yet
    assert run([QUARTERLY], facts, "2025-04-15") == [
        (Q, "E1", "2024-Q3", "2024-10-15", None, "late"),
    ]


def test_period_judged_once_its_due_date_in_the_next_period_has_passed(run: Run):
    facts = {
        "enterprise": [ent("E1")],
        "filing": [filing("F1", "E1", "2024-Q3", "2024-10-16")],
    }
    # On 2025-04-15 Q1 2025 is due that very day: not judged yet. Q3 is late, Q4 missing.
    assert run([QUARTERLY], facts, "2025-04-15") == [
        (Q, "E1", "2024-Q1", "2024-04-15", None, "missing"),
        (Q, "E1", "2024-Q2", "2024-07-15", None, "missing"),
        (Q, "E1", "2024-Q3", "2024-10-15", None, "late"),
        (Q, "E1", "2024-Q4", "2025-01-15", None, "missing"),
    ]
    assert run([QUARTERLY], facts, "2025-04-16")[-1] == (
        Q,
        "E1",
        "2025-Q1",
        "2025-04-15",
        None,
        "missing",
    )


def test_a_label_of_another_period_kind_does_not_count(run: Run):
    """A yearly label proves the annual report, not a quarter (and the reverse)."""
    facts = {
        "enterprise": [ent("E1")],
        "filing": [
            filing("F1", "E1", "2024", "2024-04-10"),
            filing("F2", "E1", "2024-Q4", "2025-01-10"),
        ],
    }
    assert run([QUARTERLY, ANNUAL], facts, "2025-02-01") == [
        (Q, "E1", "2024-Q1", "2024-04-15", None, "missing"),
        (Q, "E1", "2024-Q2", "2024-07-15", None, "missing"),
        (Q, "E1", "2024-Q3", "2024-10-15", None, "missing"),
    ]


def test_the_last_period_of_a_window_falls_due_after_the_window(run: Run):
    """A period is required when it lies inside the window; its due date may lie after it."""
    rules = [{**QUARTERLY, "window": {"from": d("2024-01-01"), "until": d("2024-12-31")}}]
    facts = {"enterprise": [ent("E1")]}
    assert run(rules, facts, "2025-01-15") == [
        (Q, "E1", "2024-Q1", "2024-04-15", None, "missing"),
        (Q, "E1", "2024-Q2", "2024-07-15", None, "missing"),
        (Q, "E1", "2024-Q3", "2024-10-15", None, "missing"),
    ]
    assert run(rules, facts, "2025-01-16")[-1] == (
        Q,
        "E1",
        "2024-Q4",
        "2025-01-15",
        None,
        "missing",
    )


def test_stricter_variant_with_its_own_due(run: Run):
    rules = [
        {
            **QUARTERLY,
            "due": {"day": 15},  # day 15 of the quarter itself
            "stricter": [{"when": {"high_risk": True}, "due": {"day": 10, "of": "next"}}],
        }
    ]
    facts = {
        "enterprise": [ent("E1"), ent("E2", high_risk=True)],
        "filing": [
            filing("F1", "E1", "2024-Q1", "2024-01-15"),  # E1: due 2024-01-15, on time
            filing("F2", "E2", "2024-Q1", "2024-04-11"),  # E2: due 2024-04-10, a day late
        ],
    }
    assert run(rules, facts, "2024-04-12") == [
        (Q, "E2", "2024-Q1", "2024-04-10", None, "late"),
    ]


def test_of_this_is_the_default(run: Run):
    rules = [{**QUARTERLY, "due": {"day": 15, "of": "this"}}]
    facts = {"enterprise": [ent("E1")], "filing": [filing("F1", "E1", "2024-Q1", "2024-01-16")]}
    assert run(rules, facts, "2024-02-01") == [(Q, "E1", "2024-Q1", "2024-01-15", None, "late")]


# -- the compliance calendar and the rule text -----------------------------------------------


def test_upcoming_lists_the_period_before_as_of(make_pack: Callable[..., Path]):
    """On 2024-04-01 the Q1 statistics (due 2024-04-15) fall due in a 30-day window."""
    packs = load_packs(make_pack([QUARTERLY, ANNUAL], schema=SCHEMA))
    facts = {
        "enterprise": [ent("E1"), ent("E2")],
        "filing": [filing("F1", "E2", "2024-Q1", "2024-03-30")],
    }
    facts = load_facts(packs, facts)
    items = upcoming(packs, facts, d("2024-04-01"), d("2024-05-01"))
    assert [(u.due, u.subject, u.rule, u.period, u.have) for u in items] == [
        (date(2024, 4, 15), "E1", Q, "2024-Q1", 0),
    ]
    items = upcoming(packs, facts, d("2025-01-10"), d("2025-02-09"))
    assert [(u.due.isoformat(), u.subject, u.rule, u.period) for u in items] == [
        ("2025-01-15", "E1", Q, "2024-Q4"),
        ("2025-01-15", "E2", Q, "2024-Q4"),
        ("2025-01-31", "E1", A, "2024"),
        ("2025-01-31", "E2", A, "2024"),
    ]


def test_rule_text_names_the_next_period(make_pack: Callable[..., Path]):
    packs = load_packs(make_pack([QUARTERLY], schema=SCHEMA))
    assert "due day 15 of the next period" in describe_rule(packs.rules[0])


# -- load-time errors --------------------------------------------------------------------------


def errors(make_pack: Callable[..., Path], rules: list[dict[str, Any]]) -> list[Diagnostic]:
    with pytest.raises(PackError) as info:
        load_packs(make_pack(rules, schema=SCHEMA))
    return info.value.diagnostics


def test_evidence_without_a_period_label_is_a_load_error(make_pack: Callable[..., Path]):
    """Placed by date, what is filed on time in the next period would count for that one."""
    rules = [{**QUARTERLY, "evidence": {"type": "filing", "date": "filed_on"}}]
    [diag] = errors(make_pack, rules)
    assert diag.code == "missing_key"
    assert "period: FIELD" in diag.message


def test_a_stricter_next_period_due_needs_the_label_too(make_pack: Callable[..., Path]):
    rules = [
        {
            **QUARTERLY,
            "evidence": {"type": "visit", "date": "on"},
            "due": {"day": 15},
            "stricter": [{"when": {"high_risk": True}, "due": {"day": 10, "of": "next"}}],
        }
    ]
    assert [x.code for x in errors(make_pack, rules)] == ["missing_key"]


@pytest.mark.parametrize(
    ("due", "needle"),
    [
        ({"day": 15, "of": "nxt"}, "one of this, next (did you mean 'next'?)"),
        ({"of": "next"}, "a recurring due is {day: N} or {day: N, of: next}"),
        ({"day": 15, "in": "next"}, "a recurring due is {day: N} or {day: N, of: next}"),
        ({"day": 0, "of": "next"}, "day must be a positive integer"),
    ],
)
def test_malformed_due(make_pack: Callable[..., Path], due: dict[str, Any], needle: str):
    diags = errors(make_pack, [{**QUARTERLY, "due": due}])
    assert [x.code for x in diags] == ["invalid_value"]
    assert needle in diags[0].message
