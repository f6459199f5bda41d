"""Time-based rules (SPEC §3.3, §3.4): deadline, recurring, trend, and check with due/done.

Each test states the exact list of findings expected, as
``(rule, subject, period, due, record, status)`` tuples in result order; the hypothesis
properties at the end are the invariants of issue 3.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXPORT, d, findings, rule, write_pack
from hazard_rules import PackError, PackSet, Result, evaluate, load_packs
from hazard_rules.engine.compile import CompiledPack, CompiledRule, compile_pack
from hazard_rules.engine.judge import judge
from hazard_rules.facts.collect import collect_facts, rows_from_mapping

Run = Callable[..., list[tuple[Any, ...]]]

# -- fact builders ----------------------------------------------------------------------------


def ent(eid: str, high_risk: bool = False, **kw: Any) -> dict[str, Any]:
    return {"id": eid, "name": f"{eid}公司", "sectors": ["commerce"], "high_risk": high_risk, **kw}


def insp(iid: str, eid: str, held_on: str, led_by: str = "principal") -> dict[str, Any]:
    return {"id": iid, "enterprise_id": eid, "held_on": held_on, "led_by": led_by}


def doc(did: str, eid: str, submitted_on: str, doc_type: str = "work_plan") -> dict[str, Any]:
    return {"id": did, "enterprise_id": eid, "doc_type": doc_type, "submitted_on": submitted_on}


def report(rid: str, eid: str, period: str, submitted_on: str, kind: str = "monthly_progress"):
    return {
        "id": rid,
        "enterprise_id": eid,
        "kind": kind,
        "period": period,
        "submitted_on": submitted_on,
    }


def hazard(hid: str, eid: str, discovered_on: str, level: str = "general", **kw: Any):
    return {
        "id": hid,
        "enterprise_id": eid,
        "discovered_on": discovered_on,
        "found_by": "self_inspection",
        "level": level,
        "description": "消防通道堵塞",
        **kw,
    }


# -- rules ----------------------------------------------------------------------------------

DEADLINE = rule(
    "t.work-plan",
    "deadline",
    subject={"type": "enterprise"},
    evidence={"type": "document", "where": {"doc_type": "work_plan"}, "date": "submitted_on"},
    due=d("2024-04-30"),
)
QUARTERLY = rule(
    "t.inspect",
    "recurring",
    subject={"type": "enterprise"},
    evidence={"type": "inspection", "where": {"led_by": "principal"}, "date": "held_on"},
    every="quarter",
    window={"from": d("2024-04-01"), "until": d("2024-12-31")},
)
MONTHLY_REPORT = rule(
    "t.report",
    "recurring",
    subject={"type": "enterprise"},
    evidence={
        "type": "report",
        "where": {"kind": "monthly_progress"},
        "period": "period",
        "date": "submitted_on",
    },
    every="month",
    due={"day": 20},
    window={"from": d("2024-05-01"), "until": d("2024-07-31")},
)
TREND = rule(
    "t.curbed",
    "trend",
    subject={"type": "enterprise"},
    count={"type": "hazard", "where": {"level": "major"}, "date": "discovered_on"},
    compare={"period": 2025, "to": 2024, "op": "lte"},
)
CHECK_FIXED = rule(
    "t.legacy",
    "check",
    **{"for": "hazard"},
    where={"discovered_on": {"lte": d("2023-12-31")}},
    due=d("2024-12-31"),
    done="rectified_on",
)
CHECK_FIELD = rule(
    "t.rectify", "check", **{"for": "hazard"}, due={"field": "rectify_by"}, done="rectified_on"
)
CHECK_AFTER = rule(
    "t.within30",
    "check",
    **{"for": "hazard"},
    due={"after": "discovered_on", "days": 30},
    done="rectified_on",
)

# An evidence type with an optional date and two references to enterprise (for `via`).
EXTRA_SCHEMA = {
    "types": {
        "visit": {
            "fields": {
                "enterprise_id": {"ref": "enterprise"},
                "host_id": {"ref": "enterprise", "optional": True},
                "on": "date?",
            }
        }
    }
}


@pytest.fixture
def run(make_pack: Callable[..., Path]) -> Run:
    """``run(rules, facts, as_of)`` → findings; ``run(..., result=True)`` → the Result."""

    def go(rules: list[dict[str, Any]], facts: dict[str, Any], as_of: str, result: bool = False):
        packs = load_packs(make_pack(rules, schema=EXTRA_SCHEMA))
        res = evaluate(packs, facts, as_of=d(as_of))
        assert res.rejected == [], res.rejected
        return res if result else findings(res)

    return go


W = "t.work-plan"
Q = "t.inspect"
R = "t.report"

# -- deadline ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "as_of", "expected"),
    [
        ([], "2024-04-30", []),  # as_of on the due date: not yet judged
        ([], "2024-05-01", [(W, "E1", None, "2024-04-30", None, "missing")]),
        (["2024-04-29"], "2024-05-01", []),
        (["2024-04-30"], "2024-05-01", []),  # done on the due date is on time
        (["2024-01-10"], "2025-01-01", []),
        (["2024-05-06"], "2024-06-01", [(W, "E1", None, "2024-04-30", None, "late")]),
        (["2024-05-06"], "2024-05-06", [(W, "E1", None, "2024-04-30", None, "late")]),
        # dated after as_of: has not happened yet
        (["2024-05-06"], "2024-05-05", [(W, "E1", None, "2024-04-30", None, "missing")]),
        (["2024-04-01", "2024-05-06"], "2024-06-01", []),
    ],
)
def test_deadline(run: Run, submitted: list[str], as_of: str, expected: list[tuple[Any, ...]]):
    facts = {
        "enterprise": [ent("E1")],
        "document": [doc(f"D{i}", "E1", s) for i, s in enumerate(submitted)],
    }
    assert run([DEADLINE], facts, as_of) == expected


def test_deadline_late_lists_the_late_evidence(run: Run):
    facts = {
        "enterprise": [ent("E1"), ent("E2")],
        "document": [
            doc("D1", "E1", "2024-05-06"),
            doc("D2", "E1", "2024-06-01"),
            doc("D3", "E1", "2024-04-01", doc_type="other"),  # not the evidence asked for
        ],
    }
    res = run([DEADLINE], facts, "2024-07-01", result=True)
    assert findings(res) == [
        (W, "E1", None, "2024-04-30", None, "late"),
        (W, "E2", None, "2024-04-30", None, "missing"),
    ]
    v = res.violations[0]
    assert [e.id for e in v.evidence] == ["D1", "D2"]
    assert {e.type for e in v.evidence} == {"document"}
    assert (v.kind, v.severity, v.record, v.subject.type) == (
        "deadline",
        "high",
        None,
        "enterprise",
    )
    assert res.violations[1].evidence == []


def test_deadline_at_least(run: Run):
    rules = [{**DEADLINE, "at_least": 2}]
    facts = {
        "enterprise": [ent("E1"), ent("E2"), ent("E3"), ent("E4")],
        "document": [
            doc("D1", "E1", "2024-03-01"),
            doc("D2", "E1", "2024-04-30"),  # E1: two on time
            doc("D3", "E2", "2024-03-01"),
            doc("D4", "E2", "2024-05-02"),  # E2: one on time, one late → late
            doc("D5", "E3", "2024-03-01"),  # E3: one → missing
        ],
    }
    res = run(rules, facts, "2024-06-01", result=True)
    assert findings(res) == [
        (W, "E2", None, "2024-04-30", None, "late"),
        (W, "E3", None, "2024-04-30", None, "missing"),
        (W, "E4", None, "2024-04-30", None, "missing"),
    ]
    assert [e.id for e in res.violations[0].evidence] == ["D4"]
    assert [e.id for e in res.violations[1].evidence] == ["D5"]


@pytest.mark.parametrize(
    ("span", "bound"),
    [
        ({}, True),
        ({"active_from": "2024-04-30"}, True),
        ({"active_from": "2024-05-01"}, False),
        ({"active_until": "2024-04-30"}, True),
        ({"active_until": "2024-04-29"}, False),
        ({"active_from": "2024-01-01", "active_until": "2025-12-31"}, True),
    ],
)
def test_deadline_binds_subjects_active_on_its_due_date(
    run: Run, span: dict[str, str], bound: bool
):
    facts = {"enterprise": [ent("E1", **span)]}
    expected = [(W, "E1", None, "2024-04-30", None, "missing")] if bound else []
    assert run([DEADLINE], facts, "2025-01-01") == expected


def test_deadline_evidence_outside_the_active_span_counts(run: Run):
    facts = {
        "enterprise": [ent("E1", active_from="2024-03-01")],
        "document": [doc("D1", "E1", "2024-02-15")],
    }
    assert run([DEADLINE], facts, "2025-01-01") == []


def test_deadline_subject_where(run: Run):
    rules = [{**DEADLINE, "subject": {"type": "enterprise", "where": {"high_risk": True}}}]
    facts = {"enterprise": [ent("E1", high_risk=True), ent("E2")]}
    assert run(rules, facts, "2025-01-01") == [(W, "E1", None, "2024-04-30", None, "missing")]


@pytest.mark.parametrize(
    ("effective", "expected"),
    [
        ({"from": d("2024-04-01")}, [(W, "E1", None, "2024-04-30", None, "missing")]),
        ({"from": d("2024-05-01")}, []),
        ({"until": d("2024-04-29")}, []),
        ({"until": d("2024-04-30")}, [(W, "E1", None, "2024-04-30", None, "missing")]),
    ],
)
def test_deadline_effective(run: Run, effective: dict[str, date], expected: list[Any]):
    rules = [{**DEADLINE, "effective": effective}]
    assert run(rules, {"enterprise": [ent("E1")]}, "2025-01-01") == expected


def test_deadline_undated_evidence_is_not_counted(run: Run):
    rules = [{**DEADLINE, "evidence": {"type": "visit", "date": "on", "via": "enterprise_id"}}]
    facts = {
        "enterprise": [ent("E1"), ent("E2")],
        "visit": [
            {"id": "V1", "enterprise_id": "E1", "on": None},
            {"id": "V2", "enterprise_id": "E2", "on": "2024-04-01"},
        ],
    }
    assert run(rules, facts, "2025-01-01") == [(W, "E1", None, "2024-04-30", None, "missing")]


def test_deadline_via_names_the_link(run: Run):
    rules = [{**DEADLINE, "evidence": {"type": "visit", "date": "on", "via": "host_id"}}]
    facts = {
        "enterprise": [ent("E1"), ent("E2")],
        "visit": [{"id": "V1", "enterprise_id": "E1", "host_id": "E2", "on": "2024-04-01"}],
    }
    assert run(rules, facts, "2025-01-01") == [(W, "E1", None, "2024-04-30", None, "missing")]


def test_deadline_ambiguous_link_without_via_is_a_load_error(make_pack: Callable[..., Path]):
    rules = [{**DEADLINE, "evidence": {"type": "visit", "date": "on"}}]
    with pytest.raises(PackError) as info:
        load_packs(make_pack(rules, schema=EXTRA_SCHEMA))
    assert [x.code for x in info.value.diagnostics] == ["ambiguous_link"]


# -- recurring --------------------------------------------------------------------------------


def test_recurring_missing_quarter(run: Run):
    facts = {
        "enterprise": [ent("E1")],
        "inspection": [
            insp("I1", "E1", "2024-05-10"),
            insp("I2", "E1", "2024-08-15", led_by="deputy"),  # not principal-led
            insp("I3", "E1", "2024-12-31"),
        ],
    }
    res = run([QUARTERLY], facts, "2025-01-15", result=True)
    assert findings(res) == [(Q, "E1", "2024-Q3", "2024-09-30", None, "missing")]
    v = res.violations[0]
    assert (v.kind, v.record, v.evidence) == ("recurring", None, [])


def test_recurring_one_finding_per_subject_per_period(run: Run):
    facts = {"enterprise": [ent("E2"), ent("E1")]}
    assert run([QUARTERLY], facts, "2025-01-15") == [
        (Q, "E1", "2024-Q2", "2024-06-30", None, "missing"),
        (Q, "E1", "2024-Q3", "2024-09-30", None, "missing"),
        (Q, "E1", "2024-Q4", "2024-12-31", None, "missing"),
        (Q, "E2", "2024-Q2", "2024-06-30", None, "missing"),
        (Q, "E2", "2024-Q3", "2024-09-30", None, "missing"),
        (Q, "E2", "2024-Q4", "2024-12-31", None, "missing"),
    ]


@pytest.mark.parametrize(
    ("as_of", "periods"),
    [
        ("2024-06-30", []),  # the due date itself: not yet past
        ("2024-07-01", ["2024-Q2"]),
        ("2024-09-30", ["2024-Q2"]),
        ("2024-10-01", ["2024-Q2", "2024-Q3"]),
        ("2030-01-01", ["2024-Q2", "2024-Q3", "2024-Q4"]),  # the window ends 2024-12-31
    ],
)
def test_recurring_period_judged_only_after_its_due_date(run: Run, as_of: str, periods: list[str]):
    got = run([QUARTERLY], {"enterprise": [ent("E1")]}, as_of)
    assert [(f[2], f[5]) for f in got] == [(p, "missing") for p in periods]


def test_recurring_evidence_on_the_last_day_and_the_day_after(run: Run):
    facts = {
        "enterprise": [ent("E1")],
        "inspection": [
            insp("I1", "E1", "2024-06-30"),  # Q2's last day: Q2 on time
            insp("I2", "E1", "2024-10-01"),  # the day after Q3: counts for Q4, not Q3
        ],
    }
    assert run([QUARTERLY], facts, "2025-01-15") == [
        (Q, "E1", "2024-Q3", "2024-09-30", None, "missing")
    ]


def test_recurring_evidence_after_as_of_does_not_exist(run: Run):
    facts = {"enterprise": [ent("E1")], "inspection": [insp("I1", "E1", "2024-08-01")]}
    # as_of 2024-07-20: Q2 is missing; the Q3 inspection has not happened (and Q3 is not due)
    assert run([QUARTERLY], facts, "2024-07-20") == [
        (Q, "E1", "2024-Q2", "2024-06-30", None, "missing")
    ]


def test_recurring_stricter_first_match_wins(run: Run):
    rules = [
        {
            **QUARTERLY,
            "window": {"from": d("2024-04-01"), "until": d("2024-06-30")},
            "stricter": [
                {"when": {"high_risk": True}, "every": "month"},
                {
                    "when": {"sectors": {"contains": "construction"}},
                    "every": "month",
                    "at_least": 2,
                },
            ],
        }
    ]
    facts = {
        "enterprise": [
            ent("E1", high_risk=True, sectors=["construction"]),  # first variant: monthly × 1
            ent("E2", sectors=["construction"]),  # second variant: monthly × 2
            ent("E3"),  # the rule itself: quarterly × 1
        ],
        "inspection": [
            insp("I1", "E1", "2024-04-03"),
            insp("I2", "E1", "2024-06-03"),
            insp("I3", "E2", "2024-04-03"),
            insp("I4", "E2", "2024-04-13"),
            insp("I5", "E2", "2024-05-03"),
            insp("I6", "E2", "2024-06-03"),
            insp("I7", "E2", "2024-06-13"),
            insp("I8", "E3", "2024-05-03"),
        ],
    }
    res = run(rules, facts, "2024-07-15", result=True)
    assert findings(res) == [
        (Q, "E1", "2024-05", "2024-05-31", None, "missing"),
        (Q, "E2", "2024-05", "2024-05-31", None, "missing"),
    ]
    assert [e.id for e in res.violations[1].evidence] == ["I5"]


@pytest.mark.parametrize(
    ("window", "periods"),
    [
        ({"from": d("2024-04-01"), "until": d("2024-12-31")}, ["2024-Q2", "2024-Q3", "2024-Q4"]),
        ({"from": d("2024-04-02"), "until": d("2024-12-31")}, ["2024-Q3", "2024-Q4"]),
        ({"from": d("2024-04-01"), "until": d("2024-12-30")}, ["2024-Q2", "2024-Q3"]),
        ({"from": d("2024-05-15"), "until": d("2024-11-30")}, ["2024-Q3"]),
    ],
)
def test_recurring_window(run: Run, window: dict[str, date], periods: list[str]):
    rules = [{**QUARTERLY, "window": window}]
    got = run(rules, {"enterprise": [ent("E1")]}, "2025-06-01")
    assert [f[2] for f in got] == periods


@pytest.mark.parametrize(
    ("effective", "periods"),
    [
        ({"from": d("2024-07-01")}, ["2024-Q3", "2024-Q4"]),
        ({"from": d("2024-06-30")}, ["2024-Q3", "2024-Q4"]),
        ({"until": d("2024-11-30")}, ["2024-Q2", "2024-Q3"]),
        ({"from": d("2024-01-01"), "until": d("2025-12-31")}, ["2024-Q2", "2024-Q3", "2024-Q4"]),
    ],
)
def test_recurring_effective_span(run: Run, effective: dict[str, date], periods: list[str]):
    rules = [{**QUARTERLY, "effective": effective}]
    got = run(rules, {"enterprise": [ent("E1")]}, "2025-06-01")
    assert [f[2] for f in got] == periods


@pytest.mark.parametrize(
    ("span", "periods"),
    [
        ({"active_from": "2024-05-15"}, ["2024-Q3", "2024-Q4"]),
        ({"active_from": "2024-07-01"}, ["2024-Q3", "2024-Q4"]),
        ({"active_from": "2024-07-02"}, ["2024-Q4"]),
        ({"active_until": "2024-11-30"}, ["2024-Q2", "2024-Q3"]),
        ({"active_until": "2024-12-31"}, ["2024-Q2", "2024-Q3", "2024-Q4"]),
        ({"active_from": "2024-05-15", "active_until": "2024-11-30"}, ["2024-Q3"]),
        ({"active_until": "2024-03-31"}, []),
    ],
)
def test_recurring_active_span(run: Run, span: dict[str, str], periods: list[str]):
    got = run([QUARTERLY], {"enterprise": [ent("E1", **span)]}, "2025-06-01")
    assert [f[2] for f in got] == periods


def test_recurring_at_least_with_late(run: Run):
    rules = [{**QUARTERLY, "at_least": 2, "due": {"day": 20}}]
    facts = {
        "enterprise": [ent("E1")],
        "inspection": [
            insp("I1", "E1", "2024-04-10"),
            insp("I2", "E1", "2024-04-20"),  # Q2 due 2024-04-20: two on time
            insp("I3", "E1", "2024-07-10"),
            insp("I4", "E1", "2024-08-10"),  # Q3: one on time, one late → late
            insp("I5", "E1", "2024-12-01"),  # Q4: one, late → missing
        ],
    }
    res = run(rules, facts, "2025-01-15", result=True)
    assert findings(res) == [
        (Q, "E1", "2024-Q3", "2024-07-20", None, "late"),
        (Q, "E1", "2024-Q4", "2024-10-20", None, "missing"),
    ]
    assert [e.id for e in res.violations[0].evidence] == ["I4"]
    assert [e.id for e in res.violations[1].evidence] == ["I5"]


def test_recurring_due_day_and_period_label(run: Run):
    facts = {
        "enterprise": [ent("E1")],
        "report": [
            report("R5", "E1", "2024-05", "2024-05-20"),  # on the due day: on time
            report("R6", "E1", "2024-06", "2024-07-02"),  # labelled June, submitted July: June late
            report("R7x", "E1", "2024-07", "2024-07-25", kind="other"),  # not a progress report
        ],
    }
    res = run([MONTHLY_REPORT], facts, "2024-08-15", result=True)
    assert findings(res) == [
        (R, "E1", "2024-06", "2024-06-20", None, "late"),
        (R, "E1", "2024-07", "2024-07-20", None, "missing"),
    ]
    assert [e.id for e in res.violations[0].evidence] == ["R6"]


def test_recurring_period_label_places_the_evidence(run: Run):
    facts = {
        "enterprise": [ent("E1")],
        "report": [
            report("R5", "E1", "2024-05", "2024-04-28"),  # early, but labelled May: May on time
            report("R6", "E1", "2024-06", "2024-06-19"),
            # submitted in July but labelled June: it does not count for July
            report("R6b", "E1", "2024-06", "2024-07-05"),
        ],
    }
    assert run([MONTHLY_REPORT], facts, "2024-08-15") == [
        (R, "E1", "2024-07", "2024-07-20", None, "missing")
    ]


def test_recurring_due_day_without_period_label(run: Run):
    rules = [{**MONTHLY_REPORT, "evidence": {**MONTHLY_REPORT["evidence"]}}]
    del rules[0]["evidence"]["period"]
    facts = {
        "enterprise": [ent("E1")],
        "report": [
            report("R5", "E1", "2024-06", "2024-05-25"),  # by date: May, late (due 05-20)
            report("R6", "E1", "2024-06", "2024-06-01"),
            report("R7", "E1", "2024-07", "2024-07-21"),
        ],
    }
    assert run(rules, facts, "2024-08-15") == [
        (R, "E1", "2024-05", "2024-05-20", None, "late"),
        (R, "E1", "2024-07", "2024-07-20", None, "late"),
    ]


def test_recurring_due_day_judged_after_the_due_date_inside_the_period(run: Run):
    facts = {"enterprise": [ent("E1")]}
    assert run([MONTHLY_REPORT], facts, "2024-05-20") == []
    assert run([MONTHLY_REPORT], facts, "2024-05-21") == [
        (R, "E1", "2024-05", "2024-05-20", None, "missing")
    ]


def test_recurring_undated_evidence_is_not_counted(run: Run):
    rules = [
        {
            **QUARTERLY,
            "window": {"from": d("2024-04-01"), "until": d("2024-06-30")},
            "evidence": {"type": "visit", "date": "on", "via": "enterprise_id"},
        }
    ]
    facts = {
        "enterprise": [ent("E1"), ent("E2")],
        "visit": [
            {"id": "V1", "enterprise_id": "E1"},
            {"id": "V2", "enterprise_id": "E2", "on": "2024-05-01"},
        ],
    }
    assert run(rules, facts, "2024-07-01") == [(Q, "E1", "2024-Q2", "2024-06-30", None, "missing")]


def test_spec_section_8_example_verbatim():
    packs = load_packs("baoshan-2024").only({"baoshan-2024.leader-inspection"})
    facts = {
        "enterprise": [
            {"id": "E1", "name": "甲公司", "high_risk": True, "sectors": ["construction"]}
        ],
        "inspection": [
            {
                "id": "I1",
                "enterprise_id": "E1",
                "led_by": "principal",
                "held_on": date(2024, 4, 15),
            },
            {"id": "I2", "enterprise_id": "E1", "led_by": "principal", "held_on": date(2024, 5, 2)},
            {
                "id": "I3",
                "enterprise_id": "E1",
                "led_by": "principal",
                "held_on": date(2024, 7, 28),
            },
            {
                "id": "I4",
                "enterprise_id": "E1",
                "led_by": "safety_manager",
                "held_on": date(2024, 6, 11),
            },
        ],
    }
    result = evaluate(packs, facts, as_of=date(2024, 8, 10))
    assert findings(result) == [
        ("baoshan-2024.leader-inspection", "E1", "2024-06", "2024-06-30", None, "missing")
    ]
    v = result.violations[0]
    assert (v.kind, v.severity, v.cite, v.subject.type) == (
        "recurring",
        "high",
        "宝国资委〔2024〕11号 二、7",
        "enterprise",
    )
    assert v.evidence == []
    assert "甲公司" in v.message


def test_bundled_monthly_report_late(tmp_path: Path):
    packs = load_packs("baoshan-2024").only({"baoshan-2024.monthly-report"})
    facts = {
        "enterprise": [ent("E1")],
        "report": [report("R5", "E1", "2024-05", "2024-05-24")],
    }
    assert findings(evaluate(packs, facts, as_of=d("2024-06-10"))) == [
        ("baoshan-2024.monthly-report", "E1", "2024-05", "2024-05-20", None, "late")
    ]


# -- trend ------------------------------------------------------------------------------------

T = "t.curbed"


@pytest.mark.parametrize(
    ("found", "as_of", "expected"),
    [
        # (2024 majors, 2025 majors)
        ((1, 2), "2026-01-01", [(T, "E1", "2025", "2025-12-31", None, "exceeded")]),
        ((1, 2), "2025-12-31", []),  # the later period has not ended before as_of
        ((2, 2), "2026-01-01", []),
        ((2, 1), "2026-01-01", []),
        ((0, 1), "2026-01-01", [(T, "E1", "2025", "2025-12-31", None, "exceeded")]),
        ((0, 0), "2026-01-01", []),
    ],
)
def test_trend(run: Run, found: tuple[int, int], as_of: str, expected: list[Any]):
    hazards = [hazard(f"A{i}", "E1", "2024-06-01", "major") for i in range(found[0])]
    hazards += [hazard(f"B{i}", "E1", "2025-12-31", "major") for i in range(found[1])]
    hazards += [hazard("G1", "E1", "2025-03-01", "general")]  # not counted
    assert run([TREND], {"enterprise": [ent("E1")], "hazard": hazards}, as_of) == expected


def test_trend_evidence_and_counts(run: Run):
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [
            hazard("H1", "E1", "2024-01-01", "major"),
            hazard("H2", "E1", "2025-01-01", "major"),
            hazard("H3", "E1", "2025-12-31", "major"),
            hazard("H4", "E1", "2026-01-01", "major"),  # outside both periods
            hazard("H0", "E1", "2023-12-31", "major"),
        ],
    }
    res = run([TREND], facts, "2026-02-01", result=True)
    assert findings(res) == [(T, "E1", "2025", "2025-12-31", None, "exceeded")]
    assert [e.id for e in res.violations[0].evidence] == ["H2", "H3"]


@pytest.mark.parametrize(
    ("op", "exceeded"),
    [("lte", False), ("lt", True), ("gte", False), ("gt", True), ("eq", False), ("ne", True)],
)
def test_trend_ops_with_equal_counts(run: Run, op: str, exceeded: bool):
    rules = [{**TREND, "compare": {"period": 2025, "to": 2024, "op": op}}]
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [
            hazard("H1", "E1", "2024-05-01", "major"),
            hazard("H2", "E1", "2025-05-01", "major"),
        ],
    }
    expected = [(T, "E1", "2025", "2025-12-31", None, "exceeded")] if exceeded else []
    assert run(rules, facts, "2026-01-02") == expected


@pytest.mark.parametrize(
    ("span", "bound"),
    [
        ({"active_from": "2024-01-01"}, True),
        ({"active_from": "2024-01-02"}, False),
        ({"active_until": "2025-12-31"}, True),
        ({"active_until": "2025-12-30"}, False),
    ],
)
def test_trend_binds_subjects_active_over_both_periods(run: Run, span: dict[str, str], bound: bool):
    facts = {
        "enterprise": [ent("E1", **span)],
        "hazard": [hazard("H1", "E1", "2025-05-01", "major")],
    }
    expected = [(T, "E1", "2025", "2025-12-31", None, "exceeded")] if bound else []
    assert run([TREND], facts, "2026-03-01") == expected


def test_trend_quarters(run: Run):
    rules = [{**TREND, "compare": {"period": "2025-Q2", "to": "2025-Q1", "op": "lte"}}]
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [hazard("H1", "E1", "2025-04-01", "major")],
    }
    assert run(rules, facts, "2025-06-30") == []
    assert run(rules, facts, "2025-07-01") == [(T, "E1", "2025-Q2", "2025-06-30", None, "exceeded")]


# -- check with due/done ----------------------------------------------------------------------

L = "t.legacy"


@pytest.mark.parametrize(
    ("rectified_on", "as_of", "status"),
    [
        (None, "2024-12-31", None),  # as_of on the due date: nothing yet
        (None, "2025-01-01", "overdue"),  # the day after: reported
        ("2024-12-31", "2025-06-01", None),  # done on the due date: on time
        ("2024-06-01", "2025-06-01", None),
        ("2025-01-20", "2025-06-01", "late"),
        ("2025-01-20", "2025-01-20", "late"),
        ("2025-01-20", "2025-01-19", "overdue"),  # done after as_of: still open
        ("2025-01-20", "2024-12-15", None),  # not due yet, and not done yet
    ],
)
def test_check_due_done(run: Run, rectified_on: str | None, as_of: str, status: str | None):
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [
            hazard("H1", "E1", "2023-10-01", rectified_on=rectified_on),
            hazard("H2", "E1", "2024-01-01"),  # not legacy: the where excludes it
        ],
    }
    expected = [(L, "E1", None, "2024-12-31", "H1", status)] if status else []
    res = run([CHECK_FIXED], facts, as_of, result=True)
    assert findings(res) == expected
    for v in res.violations:
        assert (v.kind, v.record.type, v.subject.type, v.period) == (
            "check",
            "hazard",
            "enterprise",
            None,
        )


@pytest.mark.parametrize(
    ("rectify_by", "rectified_on", "as_of", "expected"),
    [
        ("2024-05-20", None, "2024-05-20", []),
        (
            "2024-05-20",
            None,
            "2024-05-21",
            [("t.rectify", "E1", None, "2024-05-20", "H1", "overdue")],
        ),
        ("2024-05-20", "2024-05-20", "2024-06-01", []),
        (
            "2024-05-20",
            "2024-05-21",
            "2024-06-01",
            [("t.rectify", "E1", None, "2024-05-20", "H1", "late")],
        ),
        (None, None, "2030-01-01", []),  # no due date: not judged on time
    ],
)
def test_check_due_field(
    run: Run, rectify_by: Any, rectified_on: Any, as_of: str, expected: list[Any]
):
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [
            hazard("H1", "E1", "2024-05-01", rectify_by=rectify_by, rectified_on=rectified_on)
        ],
    }
    assert run([CHECK_FIELD], facts, as_of) == expected


@pytest.mark.parametrize(
    ("rectified_on", "as_of", "expected"),
    [
        (None, "2024-05-31", []),
        (None, "2024-06-01", [("t.within30", "E1", None, "2024-05-31", "H1", "overdue")]),
        ("2024-05-31", "2024-07-01", []),
        ("2024-06-01", "2024-07-01", [("t.within30", "E1", None, "2024-05-31", "H1", "late")]),
    ],
)
def test_check_due_after_days(run: Run, rectified_on: Any, as_of: str, expected: list[Any]):
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [hazard("H1", "E1", "2024-05-01", rectified_on=rectified_on)],
    }
    assert run([CHECK_AFTER], facts, as_of) == expected


def test_check_record_dated_after_as_of_does_not_exist(run: Run):
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [hazard("H1", "E1", "2024-07-01", rectify_by="2024-07-05")],
    }
    assert run([CHECK_FIELD], facts, "2024-06-30") == []
    assert run([CHECK_FIELD], facts, "2024-07-06") == [
        ("t.rectify", "E1", None, "2024-07-05", "H1", "overdue")
    ]


def test_check_ignores_active_spans(run: Run):
    facts = {
        "enterprise": [ent("E1", active_until="2023-12-31")],
        "hazard": [hazard("H1", "E1", "2023-10-01")],
    }
    assert run([CHECK_FIXED], facts, "2025-01-01") == [
        (L, "E1", None, "2024-12-31", "H1", "overdue")
    ]


def test_a_late_finding_stays_late(run: Run):
    """SPEC §3.4.9: once overdue, completing after the due date turns the finding into late."""
    open_ = {"enterprise": [ent("E1")], "hazard": [hazard("H1", "E1", "2023-10-01")]}
    done = {
        "enterprise": [ent("E1")],
        "hazard": [hazard("H1", "E1", "2023-10-01", rectified_on="2025-03-01")],
    }
    assert run([CHECK_FIXED], open_, "2025-02-01") == [
        (L, "E1", None, "2024-12-31", "H1", "overdue")
    ]
    assert run([CHECK_FIXED], done, "2025-02-01") == [
        (L, "E1", None, "2024-12-31", "H1", "overdue")
    ]
    assert run([CHECK_FIXED], done, "2025-03-02") == [(L, "E1", None, "2024-12-31", "H1", "late")]
    assert run([CHECK_FIXED], done, "2030-01-01") == [(L, "E1", None, "2024-12-31", "H1", "late")]


def test_check_require_failed(run: Run):
    rules = [
        rule(
            "t.tasks",
            "check",
            **{"for": "task"},
            require={
                "content": {"exists": True},
                "responsible_unit": {"exists": True},
                "due_on": {"exists": True},
            },
        )
    ]
    facts = {
        "enterprise": [ent("E1")],
        "task": [
            {
                "id": "T1",
                "enterprise_id": "E1",
                "content": "排查",
                "responsible_unit": "安全部",
                "due_on": "2024-06-30",
            },
            {
                "id": "T2",
                "enterprise_id": "E1",
                "content": "排查",
                "responsible_unit": " ",
                "due_on": "2024-06-30",
            },
            {"id": "T3", "enterprise_id": "E1", "content": "排查", "responsible_unit": "安全部"},
        ],
    }
    assert run(rules, facts, "2024-01-01") == [
        ("t.tasks", "E1", None, None, "T2", "failed"),
        ("t.tasks", "E1", None, None, "T3", "failed"),
    ]


# -- hypothesis properties --------------------------------------------------------------------

PROPERTY_RULES = [
    {
        **QUARTERLY,
        "id": "p.inspect",
        "stricter": [{"when": {"high_risk": True}, "every": "month"}],
        "window": {"from": d("2024-04-01"), "until": d("2025-12-31")},
    },
    {
        **MONTHLY_REPORT,
        "id": "p.report",
        "window": {"from": d("2024-05-01"), "until": d("2025-12-31")},
    },
    {**DEADLINE, "id": "p.work-plan", "due": d("2024-06-30")},
    {**DEADLINE, "id": "p.two-plans", "due": d("2025-03-31"), "at_least": 2},
    {**TREND, "id": "p.curbed"},
    {**CHECK_FIELD, "id": "p.rectify"},
    {**CHECK_FIXED, "id": "p.legacy"},
]
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


@pytest.fixture(scope="module")
def prop_packs(tmp_path_factory: pytest.TempPathFactory) -> PackSet:
    root = tmp_path_factory.mktemp("props")
    return load_packs(write_pack(root, PROPERTY_RULES, pack_id="p"))


@pytest.fixture(scope="module")
def recurring_packs(prop_packs: PackSet) -> PackSet:
    return prop_packs.only({"p.inspect", "p.report"})


DAY0 = date(2023, 10, 1)
days = st.integers(min_value=0, max_value=1000).map(lambda n: DAY0 + timedelta(days=n))
ENTS = ["E1", "E2", "E3"]
months = st.tuples(st.integers(2024, 2025), st.integers(1, 12)).map(lambda t: f"{t[0]}-{t[1]:02d}")


@st.composite
def enterprises(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for eid in ENTS:
        span: dict[str, Any] = {}
        if draw(st.booleans()):
            span["active_from"] = draw(days)
        if draw(st.booleans()):
            span["active_until"] = draw(days)
        out.append(ent(eid, high_risk=draw(st.booleans()), **span))
    return out


def inspections(prefix: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        st.tuples(st.sampled_from(ENTS), days, st.sampled_from(["principal", "deputy"])),
        max_size=25,
    ).map(
        lambda xs: [
            insp(f"{prefix}{i}", e, day.isoformat(), by) for i, (e, day, by) in enumerate(xs)
        ]
    )


def reports(prefix: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        st.tuples(
            st.sampled_from(ENTS),
            months,
            st.integers(-10, 60),
            st.sampled_from(["monthly_progress", "other"]),
        ),
        max_size=15,
    ).map(
        lambda xs: [
            report(
                f"{prefix}{i}",
                e,
                m,
                (date.fromisoformat(m + "-01") + timedelta(days=off)).isoformat(),
                k,
            )
            for i, (e, m, off, k) in enumerate(xs)
        ]
    )


def documents(prefix: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        st.tuples(st.sampled_from(ENTS), days, st.sampled_from(["work_plan", "other"])), max_size=6
    ).map(
        lambda xs: [doc(f"{prefix}{i}", e, day.isoformat(), t) for i, (e, day, t) in enumerate(xs)]
    )


@st.composite
def hazards(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(0, 8))):
        found = draw(days)
        extra: dict[str, Any] = {}
        if draw(st.booleans()):
            extra["rectify_by"] = (found + timedelta(days=draw(st.integers(0, 90)))).isoformat()
        if draw(st.booleans()):
            extra["rectified_on"] = (found + timedelta(days=draw(st.integers(0, 400)))).isoformat()
        level = draw(st.sampled_from(["general", "major"]))
        out.append(hazard(f"H{i}", draw(st.sampled_from(ENTS)), found.isoformat(), level, **extra))
    return out


@st.composite
def fact_sets(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    return {
        "enterprise": draw(enterprises()),
        "inspection": draw(inspections("I")),
        "report": draw(reports("R")),
        "document": draw(documents("D")),
        "hazard": draw(hazards()),
    }


def keys(result: Result, status: str | None = None) -> set[tuple[Any, ...]]:
    return {
        (v.rule, v.subject.id, v.period, v.due, v.record.id if v.record else None)
        for v in result.violations
        if status is None or v.status == status
    }


def clean(packs: PackSet, facts: dict[str, Any], as_of: date) -> Result:
    result = evaluate(packs, facts, as_of=as_of)
    assert result.rejected == []
    return result


@PROPERTY_SETTINGS
@given(
    facts=fact_sets(),
    extra_inspections=inspections("XI"),
    extra_reports=reports("XR"),
    extra_documents=documents("XD"),
    as_of=days,
)
def test_adding_evidence_never_adds_a_missing_violation(
    prop_packs: PackSet,
    facts: dict[str, Any],
    extra_inspections: list[dict[str, Any]],
    extra_reports: list[dict[str, Any]],
    extra_documents: list[dict[str, Any]],
    as_of: date,
):
    before = clean(prop_packs, facts, as_of)
    more = {
        **facts,
        "inspection": facts["inspection"] + extra_inspections,
        "report": facts["report"] + extra_reports,
        "document": facts["document"] + extra_documents,
    }
    after = clean(prop_packs, more, as_of)
    assert keys(after, "missing") <= keys(before, "missing")


@PROPERTY_SETTINGS
@given(facts=fact_sets(), as_of=days, later=st.integers(min_value=0, max_value=500))
def test_moving_as_of_later_never_removes_a_violation(
    prop_packs: PackSet, facts: dict[str, Any], as_of: date, later: int
):
    early = clean(prop_packs, facts, as_of)
    late = clean(prop_packs, facts, as_of + timedelta(days=later))
    for v in early.violations:
        assert v.due is not None and v.due < as_of  # only periods already due are reported
    assert keys(early) <= keys(late)
    statuses = {
        (v.rule, v.subject.id, v.period, v.record.id if v.record else None): v.status
        for v in late.violations
    }
    for v in early.violations:
        after = statuses[(v.rule, v.subject.id, v.period, v.record.id if v.record else None)]
        assert after == v.status or (v.status, after) in {("missing", "late"), ("overdue", "late")}


@PROPERTY_SETTINGS
@given(
    high_risk=st.booleans(),
    span=st.tuples(st.none() | days, st.none() | days),
    inspect_days=st.lists(st.integers(1, 28), min_size=27, max_size=27),
    report_days=st.lists(st.integers(-15, 20), min_size=27, max_size=27),
    noise=inspections("N"),
    as_of=days,
)
def test_evidence_in_every_period_means_no_violations(
    recurring_packs: PackSet,
    high_risk: bool,
    span: tuple[date | None, date | None],
    inspect_days: list[int],
    report_days: list[int],
    noise: list[dict[str, Any]],
    as_of: date,
):
    active = {
        k: v.isoformat() for k, v in zip(("active_from", "active_until"), span, strict=True) if v
    }
    month_starts = [
        date(2024 + (m // 12), m % 12 + 1, 1) for m in range(3, 30)
    ]  # 2024-04 .. 2026-06
    inspections_ = [
        insp(f"I{i}", "E1", (start + timedelta(days=day - 1)).isoformat())
        for i, (start, day) in enumerate(zip(month_starts, inspect_days, strict=True))
    ]
    reports_ = [
        report(f"R{i}", "E1", f"{start:%Y-%m}", (start + timedelta(days=day - 1)).isoformat())
        for i, (start, day) in enumerate(zip(month_starts, report_days, strict=True))
    ]
    facts = {
        "enterprise": [ent("E1", high_risk=high_risk, **active)],
        "inspection": inspections_ + [n for n in noise if n["enterprise_id"] == "E1"],
        "report": reports_,
    }
    assert clean(recurring_packs, facts, as_of).violations == []


def shuffled(facts: dict[str, list[Any]], rnd: random.Random) -> dict[str, list[Any]]:
    types = list(facts)
    rnd.shuffle(types)
    out = {}
    for t in types:
        rows = list(facts[t])
        rnd.shuffle(rows)
        out[t] = rows
    return out


@PROPERTY_SETTINGS
@given(facts=fact_sets(), as_of=days, rnd=st.randoms(use_true_random=False))
def test_result_is_independent_of_record_order(
    prop_packs: PackSet, facts: dict[str, Any], as_of: date, rnd: random.Random
):
    assert clean(prop_packs, shuffled(facts, rnd), as_of) == clean(prop_packs, facts, as_of)


@pytest.fixture(scope="module")
def example_rows() -> dict[str, list[dict[str, str]]]:
    out = {}
    for path in sorted(EXPORT.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            out[path.stem] = list(csv.DictReader(fh))
    return out


@pytest.fixture(scope="module")
def baoshan() -> PackSet:
    return load_packs("baoshan-2024")


@pytest.fixture(scope="module")
def example_result(baoshan: PackSet, example_rows: dict[str, list[dict[str, str]]]) -> Result:
    return evaluate(baoshan, example_rows, as_of=date(2026, 1, 15))


@settings(max_examples=40, deadline=None)  # 350 records a run; the 200-example property is above
@given(rnd=st.randoms(use_true_random=False))
def test_example_export_result_is_independent_of_record_order(
    baoshan: PackSet,
    example_rows: dict[str, list[dict[str, str]]],
    example_result: Result,
    rnd: random.Random,
):
    a = example_result
    b = evaluate(baoshan, shuffled(example_rows, rnd), as_of=date(2026, 1, 15))

    def unsourced(result: Result) -> list[Any]:  # sources of mapping rows are positions
        return [v.model_copy(update={"doubtful_because": []}) for v in result.violations]

    assert unsourced(a) == unsourced(b)
    assert [v.doubtful_count for v in a.violations] == [v.doubtful_count for v in b.violations]
    assert a.classifications == b.classifications
    assert a.candidates == b.candidates
    assert a.counts == b.counts
    # sources of rows given as a mapping are their positions, which shuffling changes
    assert sorted((r.type, r.id, r.field) for r in a.rejected) == sorted(
        (r.type, r.id, r.field) for r in b.rejected
    )
    assert len(a.violations) == 23


def site(sid: str, eid: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": sid,
        "enterprise_id": eid,
        "name": f"{sid}场所",
        "category": "fuel_station",
        "operation": "self_operated",
        **kw,
    }


SITE_YEARLY = rule(
    "t.site",
    "recurring",
    subject={"type": "site"},
    evidence={"type": "inspection", "via": "site_id", "date": "held_on"},
    every="year",
    window={"from": d("2024-01-01"), "until": d("2025-12-31")},
)


def test_site_span_comes_from_its_own_fields_only(run: Run):
    """SPEC §3.4.2: a site does not inherit its enterprise's active span."""
    facts = {
        "enterprise": [ent("E1", active_until="2024-06-30")],
        "site": [site("S1", "E1"), site("S2", "E1", active_from="2024-07-01")],
    }
    assert run([SITE_YEARLY], facts, "2026-01-15") == [
        ("t.site", "S1", "2024", "2024-12-31", None, "missing"),
        ("t.site", "S1", "2025", "2025-12-31", None, "missing"),
        ("t.site", "S2", "2025", "2025-12-31", None, "missing"),
    ]


@pytest.mark.parametrize(
    ("effective", "expected"),
    [
        ({"from": d("2024-01-01")}, [(L, "E1", None, "2024-12-31", "H1", "overdue")]),
        ({"from": d("2025-01-01")}, []),
        ({"until": d("2024-12-30")}, []),
        ({"until": d("2024-12-31")}, [(L, "E1", None, "2024-12-31", "H1", "overdue")]),
    ],
)
def test_check_effective_span_governs_its_due_date(
    run: Run, effective: dict[str, date], expected: list[Any]
):
    rules = [{**CHECK_FIXED, "effective": effective}]
    facts = {"enterprise": [ent("E1")], "hazard": [hazard("H1", "E1", "2023-10-01")]}
    assert run(rules, facts, "2025-06-01") == expected


@pytest.mark.parametrize(
    ("compare", "expected"),
    [
        # the later period is judged, whichever side of the comparison it is on
        (
            {"period": 2024, "to": 2025, "op": "gte"},
            [(T, "E1", "2025", "2025-12-31", None, "exceeded")],
        ),
        (
            {"period": 2025, "to": 2024, "op": "lte"},
            [(T, "E1", "2025", "2025-12-31", None, "exceeded")],
        ),
    ],
)
def test_trend_finding_names_the_later_period(
    run: Run, compare: dict[str, Any], expected: list[Any]
):
    rules = [{**TREND, "compare": compare}]
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [hazard("H1", "E1", "2025-05-01", "major")],
    }
    assert run(rules, facts, "2026-01-02") == expected


# -- boundaries that mutation testing found unguarded (issue 17) -------------------------------


def test_deadline_evidence_on_the_due_day_is_not_listed_as_late(run: Run):
    """A late finding lists only the evidence after the due date, not that on the due day."""
    rules = [{**DEADLINE, "at_least": 2}]
    facts = {
        "enterprise": [ent("E1")],
        "document": [doc("D1", "E1", "2024-04-30"), doc("D2", "E1", "2024-05-01")],
    }
    res = run(rules, facts, "2024-06-01", result=True)
    assert findings(res) == [(W, "E1", None, "2024-04-30", None, "late")]
    assert [e.id for e in res.violations[0].evidence] == ["D2"]


def test_recurring_late_evidence_excludes_the_due_day(run: Run):
    """Monthly report for 2024-05, due on the 20th, needed twice: one on the 20th (on time)
    and one on the 21st (late) → late, listing only the one of the 21st."""
    rules = [{**MONTHLY_REPORT, "at_least": 2}]
    facts = {
        "enterprise": [ent("E1")],
        "report": [
            report("R1", "E1", "2024-05", "2024-05-20"),
            report("R2", "E1", "2024-05", "2024-05-21"),
        ],
    }
    res = run(rules, facts, "2024-05-22", result=True)
    assert findings(res) == [(R, "E1", "2024-05", "2024-05-20", None, "late")]
    assert [e.id for e in res.violations[0].evidence] == ["R2"]


def test_trend_counts_evidence_on_the_first_day_of_the_earlier_period(run: Run):
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [
            hazard("H1", "E1", "2024-01-01", "major"),  # the first day of the window
            hazard("H2", "E1", "2025-06-01", "major"),
        ],
    }
    assert run([TREND], facts, "2026-01-02") == []  # 1 ≤ 1


def test_trend_counts_evidence_on_the_last_day_of_the_later_period(run: Run):
    rules = [{**TREND, "compare": {"period": 2025, "to": 2024, "op": "gte"}}]
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [
            hazard("H1", "E1", "2024-06-01", "major"),
            hazard("H2", "E1", "2025-12-31", "major"),  # the last day of the window
        ],
    }
    assert run(rules, facts, "2026-01-02") == []  # 1 ≥ 1


@pytest.mark.parametrize(
    "effective",
    [
        {"from": d("2024-07-01")},  # the earlier period starts outside the effective span
        {"until": d("2025-06-30")},  # the later period ends outside it
        {"from": d("2024-01-02")},
        {"until": d("2025-12-30")},
    ],
)
def test_trend_needs_both_whole_periods_in_effect(run: Run, effective: dict[str, date]):
    rules = [{**TREND, "effective": effective}]
    facts = {"enterprise": [ent("E1")], "hazard": [hazard("H1", "E1", "2025-05-01", "major")]}
    assert run(rules, facts, "2026-03-01") == []
    assert run([TREND], facts, "2026-03-01") == [(T, "E1", "2025", "2025-12-31", None, "exceeded")]


@pytest.mark.parametrize(
    "compare",
    [{"period": 2024, "to": 2025, "op": "gte"}, {"period": 2025, "to": 2024, "op": "lte"}],
)
def test_trend_binds_a_subject_only_over_both_periods_either_way(run: Run, compare: dict[str, Any]):
    """Active over the later period only (or the earlier only): not bound, whichever of the
    two periods the rule names first."""
    rules = [{**TREND, "compare": compare}]
    hazards = [hazard("H1", "E1", "2025-05-01", "major"), hazard("H2", "E2", "2024-05-01", "major")]
    enterprises = [ent("E1", active_from="2025-01-01"), ent("E2", active_until="2024-12-31")]
    facts = {"enterprise": enterprises, "hazard": hazards}
    assert run(rules, facts, "2026-03-01") == []


def test_recurring_unbounded_subject_is_skipped_not_the_rest(run: Run):
    """No window.from, no effective.from: only subjects with an active_from have a start; one
    without it is skipped, and the subjects after it are still judged."""
    rules = [{k: v for k, v in QUARTERLY.items() if k != "window"}]
    facts = {"enterprise": [ent("E1"), ent("E2", active_from="2024-07-01")]}
    assert run(rules, facts, "2024-10-15") == [(Q, "E2", "2024-Q3", "2024-09-30", None, "missing")]


def test_recurring_evidence_labelled_with_another_kind_of_period_is_skipped(run: Run):
    """A report labelled with a quarter does not count for a monthly rule; the reports after
    it still do."""
    facts = {
        "enterprise": [ent("E1")],
        "report": [
            report("R1", "E1", "2024-Q2", "2024-05-10"),
            report("R2", "E1", "2024-05", "2024-05-11"),
        ],
    }
    assert run([MONTHLY_REPORT], facts, "2024-05-25") == []


def test_a_partition_judges_only_its_own_subjects(make_pack: Callable[..., Path]):
    packs = load_packs(make_pack([QUARTERLY, DEADLINE, TREND], schema=EXTRA_SCHEMA))
    raw = {"enterprise": [ent(f"E{i}") for i in range(8)]}
    fact_set = collect_facts(packs.schema, rows_from_mapping(raw))
    compiled = compile_pack(packs)
    whole = judge(compiled, fact_set, d("2026-02-01"))
    parts = [judge(compiled, fact_set, d("2026-02-01"), part=(k, 2)) for k in range(2)]
    subjects = [{v.subject.id for v in p.violations} for p in parts]
    assert subjects[0] and subjects[1] and not subjects[0] & subjects[1]
    assert sorted(v.model_dump_json() for p in parts for v in p.violations) == sorted(
        v.model_dump_json() for v in whole.violations
    )


def test_verdicts_of_another_engine_decide_what_is_on_time(make_pack: Callable[..., Path]):
    """A backend that judges "is there on-time evidence?" itself (durable) hands the verdicts
    in; the subjects it calls on time are skipped, the others reported."""
    packs = load_packs(make_pack([QUARTERLY, DEADLINE], schema=EXTRA_SCHEMA))
    raw = {"enterprise": [ent("E1"), ent("E2")]}
    fact_set = collect_facts(packs.schema, rows_from_mapping(raw))
    compiled = compile_pack(packs)
    timed = tuple(
        CompiledRule(cr.rule, cr.preds, cr.hints, lambda subject, label: subject == "E1")
        for cr in compiled.timed
    )
    swapped = CompiledPack(packs, compiled.by_type, timed)
    got = findings(judge(swapped, fact_set, d("2024-07-15")))
    assert got == [
        (Q, "E2", "2024-Q2", "2024-06-30", None, "missing"),
        (W, "E2", None, "2024-04-30", None, "missing"),
    ]


def test_trend_subject_where_skips_a_subject_and_judges_the_rest(run: Run):
    rules = [{**TREND, "subject": {"type": "enterprise", "where": {"high_risk": True}}}]
    facts = {
        "enterprise": [ent("E1"), ent("E2", high_risk=True), ent("E3")],
        "hazard": [hazard(f"H{e}", e, "2025-05-01", "major") for e in ("E1", "E2", "E3")],
    }
    assert run(rules, facts, "2026-03-01") == [(T, "E2", "2025", "2025-12-31", None, "exceeded")]


def test_a_partition_judges_only_its_own_trend_subjects(make_pack: Callable[..., Path]):
    packs = load_packs(make_pack([TREND], schema=EXTRA_SCHEMA))
    raw = {
        "enterprise": [ent(f"E{i}") for i in range(8)],
        "hazard": [hazard(f"H{i}", f"E{i}", "2025-05-01", "major") for i in range(8)],
    }
    fact_set = collect_facts(packs.schema, rows_from_mapping(raw))
    compiled = compile_pack(packs)
    whole = {v.subject.id for v in judge(compiled, fact_set, d("2026-02-01")).violations}
    parts = [
        {v.subject.id for v in judge(compiled, fact_set, d("2026-02-01"), part=(k, 2)).violations}
        for k in range(2)
    ]
    assert whole == {f"E{i}" for i in range(8)}
    assert parts[0] and parts[1] and not parts[0] & parts[1] and parts[0] | parts[1] == whole
