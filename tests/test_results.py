"""Results (SPEC §4): deterministic ordering, JSON round-trip, counts, classifications and
misclassification, subjects of findings (SPEC §3.4.1), and ``check --explain``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import EXPORT, REPO, d, findings, rule
from hazard_rules import PackSet, Result, Violation, evaluate, load_packs
from hazard_rules.cli import main
from hazard_rules.periods import parse_period


def ent(eid: str, **kw: Any) -> dict[str, Any]:
    return {"id": eid, "name": f"{eid}公司", "sectors": ["commerce"], "high_risk": False, **kw}


def hazard(hid: str, eid: str, found: str, level: str = "general", **kw: Any) -> dict[str, Any]:
    return {
        "id": hid,
        "enterprise_id": eid,
        "discovered_on": found,
        "found_by": "self_inspection",
        "level": level,
        "description": "消防通道堵塞",
        **kw,
    }


RULES = [
    rule(
        "t.b-quarterly",
        "recurring",
        subject={"type": "enterprise"},
        evidence={"type": "inspection", "date": "held_on"},
        every="quarter",
        window={"from": d("2024-01-01"), "until": d("2025-06-30")},
        severity="medium",
    ),
    rule(
        "t.a-rectify",
        "check",
        **{"for": "hazard"},
        due={"field": "rectify_by"},
        done="rectified_on",
        severity="critical",
    ),
    rule(
        "t.c-plan",
        "deadline",
        subject={"type": "enterprise"},
        evidence={"type": "document", "where": {"doc_type": "work_plan"}, "date": "submitted_on"},
        due=d("2024-04-30"),
        severity="low",
    ),
]
FACTS = {
    "enterprise": [ent("E2"), ent("E10"), ent("E1")],
    "hazard": [
        hazard("H2", "E1", "2024-01-02", rectify_by="2024-02-01"),
        hazard("H10", "E1", "2024-01-03", rectify_by="2024-02-01", rectified_on="2024-03-01"),
        hazard("H1", "E2", "2024-01-04", rectify_by="2024-02-01"),
    ],
    "inspection": [
        {"id": "I1", "enterprise_id": "E1", "held_on": "2024-02-01", "led_by": "staff"},
        {"id": "I2", "enterprise_id": "E10", "held_on": "2024-12-01", "led_by": "staff"},
    ],
    "document": [
        {"id": "D1", "enterprise_id": "E2", "doc_type": "work_plan", "submitted_on": "2024-04-30"},
    ],
}
AS_OF = date(2025, 1, 15)


@pytest.fixture
def packs(make_pack: Callable[..., Path]) -> PackSet:
    return load_packs(make_pack(RULES))


def key(v: Violation) -> tuple[Any, ...]:
    period = (1, parse_period(v.period).start) if v.period else (0, date.min)
    return (v.subject.type, v.subject.id, v.rule, period, v.record.id if v.record else "")


def test_violations_are_sorted_by_subject_rule_period_record(packs: PackSet):
    result = evaluate(packs, FACTS, as_of=AS_OF)
    assert findings(result) == [
        ("t.a-rectify", "E1", None, "2024-02-01", "H10", "late"),
        ("t.a-rectify", "E1", None, "2024-02-01", "H2", "overdue"),
        ("t.b-quarterly", "E1", "2024-Q2", "2024-06-30", None, "missing"),
        ("t.b-quarterly", "E1", "2024-Q3", "2024-09-30", None, "missing"),
        ("t.b-quarterly", "E1", "2024-Q4", "2024-12-31", None, "missing"),
        ("t.c-plan", "E1", None, "2024-04-30", None, "missing"),
        ("t.b-quarterly", "E10", "2024-Q1", "2024-03-31", None, "missing"),
        ("t.b-quarterly", "E10", "2024-Q2", "2024-06-30", None, "missing"),
        ("t.b-quarterly", "E10", "2024-Q3", "2024-09-30", None, "missing"),
        ("t.c-plan", "E10", None, "2024-04-30", None, "missing"),
        ("t.a-rectify", "E2", None, "2024-02-01", "H1", "overdue"),
        ("t.b-quarterly", "E2", "2024-Q1", "2024-03-31", None, "missing"),
        ("t.b-quarterly", "E2", "2024-Q2", "2024-06-30", None, "missing"),
        ("t.b-quarterly", "E2", "2024-Q3", "2024-09-30", None, "missing"),
        ("t.b-quarterly", "E2", "2024-Q4", "2024-12-31", None, "missing"),
    ]
    assert result.violations == sorted(result.violations, key=key)


def test_periods_sort_chronologically(make_pack: Callable[..., Path]):
    monthly = rule(
        "t.m",
        "recurring",
        subject={"type": "enterprise"},
        evidence={"type": "inspection", "date": "held_on"},
        every="month",
        window={"from": d("2024-08-01"), "until": d("2025-01-31")},
    )
    result = evaluate(
        load_packs(make_pack([monthly])), {"enterprise": [ent("E1")]}, as_of=d("2025-03-01")
    )
    assert [v.period for v in result.violations] == [
        "2024-08",
        "2024-09",
        "2024-10",
        "2024-11",
        "2024-12",
        "2025-01",
    ]


def test_same_facts_in_any_order_give_the_same_result(packs: PackSet):
    a = evaluate(packs, FACTS, as_of=AS_OF)
    reordered = {t: list(reversed(rows)) for t, rows in reversed(list(FACTS.items()))}
    assert evaluate(packs, reordered, as_of=AS_OF) == a


def test_counts_by_status_and_severity(packs: PackSet):
    result = evaluate(packs, FACTS, as_of=AS_OF)
    c = result.counts
    assert (c.read, c.evaluated, c.rejected, c.violations) == (9, 9, 0, 15)
    assert c.by_status == {"late": 1, "missing": 12, "overdue": 2}
    assert c.by_severity == {"critical": 3, "low": 2, "medium": 10}
    assert c.by_status == dict(Counter(v.status for v in result.violations))
    assert c.by_severity == dict(Counter(v.severity for v in result.violations))


def test_json_round_trip(packs: PackSet):
    result = evaluate(packs, FACTS, as_of=AS_OF)
    text = result.model_dump_json()
    assert Result.model_validate_json(text) == result
    data = json.loads(text)
    assert data["as_of"] == "2025-01-15"
    v = data["violations"][1]
    assert {
        k: v[k]
        for k in (
            "rule",
            "kind",
            "status",
            "severity",
            "subject",
            "record",
            "period",
            "due",
            "evidence",
        )
    } == {
        "rule": "t.a-rectify",
        "kind": "check",
        "status": "overdue",
        "severity": "critical",
        "subject": {"type": "enterprise", "id": "E1"},
        "record": {"type": "hazard", "id": "H2"},
        "period": None,
        "due": "2024-02-01",
        "evidence": [],
    }
    assert {"message", "cite"} <= set(v)


def test_json_round_trip_of_the_example_export_with_explain():
    packs = load_packs("baoshan-2024", "gm-2023")
    result = evaluate(packs, EXPORT, as_of=d("2026-01-15"), explain=True, show_unmapped=True)
    assert Result.model_validate_json(result.model_dump_json()) == result
    assert result.counts.read == result.counts.evaluated + result.counts.rejected


def test_result_json_schema_is_exported():
    schema = Result.model_json_schema()
    json.dumps(schema)
    assert "violations" in schema["properties"]


def test_violation_message_is_rendered(packs: PackSet):
    result = evaluate(packs, FACTS, as_of=AS_OF)
    v = result.violations[1]
    assert (v.message, v.message_en, v.cite) == ("E1：overdue", "E1: overdue", "测试 一、1")


# -- classifications, misclassified, subjects -------------------------------------------------

CRITERION = rule(
    "t.hot-work",
    "criterion",
    **{"for": "hazard"},
    when={"description": {"matches": "动火|动焊"}},
    label="major",
    declared="level",
    message={
        "zh": "{record}（{description}）应为{label}，记为{declared}",
        "en": "{record}: {declared}",
    },
)
ITEM_SCHEMA = {
    "types": {
        "note": {"fields": {"text": "string"}},
        "unit": {"fields": {"enterprise_id": {"ref": "enterprise"}, "text": "string"}},
    }
}


def test_criterion_classifications_and_misclassified(make_pack: Callable[..., Path]):
    packs = load_packs(make_pack([CRITERION]))
    facts = {
        "enterprise": [ent("E1")],
        "hazard": [
            hazard("H1", "E1", "2024-01-02", "major", description="仓库内违规动火作业"),
            hazard("H2", "E1", "2024-01-03", "general", description="车间动焊未审批"),
            hazard("H3", "E1", "2024-01-04", "general", description="消防通道堵塞"),
            hazard("H4", "E1", "2030-01-01", "general", description="动火"),  # not found yet
        ],
    }
    result = evaluate(packs, facts, as_of=d("2025-01-01"))
    assert [(c.record.id, c.subject.id, c.label, c.rule) for c in result.classifications] == [
        ("H1", "E1", "major", "t.hot-work"),
        ("H2", "E1", "major", "t.hot-work"),
    ]
    assert findings(result) == [("t.hot-work", "E1", None, None, "H2", "misclassified")]
    v = result.violations[0]
    assert v.message == "H2（车间动焊未审批）应为major，记为general"
    assert (result.counts.classifications, result.counts.by_status) == (2, {"misclassified": 1})


def test_subject_of_check_and_criterion_findings(make_pack: Callable[..., Path]):
    """SPEC §3.4.1: the target of the record's reference to the subject type, or the record itself."""
    rules = [
        rule("t.note", "check", **{"for": "note"}, require={"text": {"matches": "^ok"}}),
        rule("t.unit", "check", **{"for": "unit"}, require={"text": {"matches": "^ok"}}),
        rule("t.ent", "check", **{"for": "enterprise"}, require={"high_risk": True}),
    ]
    packs = load_packs(make_pack(rules, schema=ITEM_SCHEMA))
    facts = {
        "enterprise": [ent("E1")],
        "note": [{"id": "N1", "text": "bad"}],
        "unit": [{"id": "U1", "enterprise_id": "E1", "text": "bad"}],
    }
    result = evaluate(packs, facts, as_of=d("2025-01-01"))
    got = [
        (v.rule, v.subject.type, v.subject.id, v.record.type, v.record.id)
        for v in result.violations
    ]
    assert sorted(got) == [
        ("t.ent", "enterprise", "E1", "enterprise", "E1"),
        ("t.note", "note", "N1", "note", "N1"),
        ("t.unit", "enterprise", "E1", "unit", "U1"),
    ]
    assert result.violations == sorted(result.violations, key=key)


# -- check --explain --------------------------------------------------------------------------


def test_explain_in_the_api_lists_conditions_with_values():
    packs = load_packs("baoshan-2024")
    result = evaluate(packs, EXPORT, as_of=d("2026-01-15"), explain=True)
    by_record = {v.record.id: v.explain for v in result.violations if v.record}
    assert by_record["T007"] == [
        {"at": "require", "condition": "all", "held": False},
        {
            "at": "require.all[0]",
            "condition": "content exists true",
            "value": "深基坑及高支模工程专项检查",
            "held": True,
        },
        {
            "at": "require.all[1]",
            "condition": "responsible_unit exists true",
            "value": None,
            "held": False,
        },
        {
            "at": "require.all[2]",
            "condition": "due_on exists true",
            "value": "2024-09-30",
            "held": True,
        },
    ]
    eq01 = by_record["EQ01"]
    assert (
        eq01[0]["at"] == "where" and eq01[0]["value"] == "ELIM15-MET-1" and eq01[0]["held"] is True
    )
    assert eq01[1] == {
        "at": "require",
        "condition": "in_service eq false",
        "value": True,
        "held": False,
    }
    assert by_record["H001"] == [
        {
            "at": "where",
            "condition": "discovered_on lte 2023-12-31",
            "value": "2023-06-08",
            "held": True,
        },
        {"at": "done", "condition": "rectified_on exists", "value": None, "held": False},
    ]
    # without explain, no trace
    plain = evaluate(packs, EXPORT, as_of=d("2026-01-15"))
    assert all(v.explain is None for v in plain.violations)


def test_check_explain_on_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(REPO)
    argv = [
        "check",
        "examples/export",
        "--pack",
        "baoshan-2024",
        "--as-of",
        "2026-01-15",
        "--explain",
    ]
    assert main([*argv, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    explained = {v["record"]["id"]: v["explain"] for v in data["violations"] if v["explain"]}
    assert set(explained) == {"H001", "H002", "H022", "H030", "T007", "T015", "EQ01"}
    for entries in explained.values():
        leaves = [e for e in entries if "value" in e]
        assert leaves and all({"at", "condition", "value", "held"} <= set(e) for e in leaves)
    assert main([*argv, "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "✗ require.all[1]: responsible_unit exists true  (value: None)" in out
    assert "✓ require.all[0]: content exists true  (value: 深基坑及高支模工程专项检查)" in out
