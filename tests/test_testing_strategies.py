"""hazard_rules.testing.strategies and .satisfiability: valid data, witnesses from the IR."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from hazard_rules import evaluate, load_packs
from hazard_rules.ir import Criterion, Leaf
from hazard_rules.periods import Period
from hazard_rules.testing.lint import lint_packs
from hazard_rules.testing.satisfiability import (
    criterion_problems,
    find_witness,
    regex_example,
    witnesses,
)
from hazard_rules.testing.strategies import (
    as_of_dates,
    fact_sets,
    periods,
    records,
    satisfying,
    violating,
)

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "authoring"
BAOSHAN = load_packs("baoshan-2024")
GM = load_packs("gm-2023")
HOT = load_packs(EXAMPLE / "acme-hotwork")
FEW = settings(max_examples=25, deadline=None)


@FEW
@given(hazard=records(GM.schema, "hazard", refs={"enterprise": ["E1"]}, near=GM))
def test_records_are_valid(hazard: dict[str, Any]) -> None:
    enterprise = {"id": "E1", "name": "甲", "high_risk": False, "sectors": ["machinery"]}
    result = evaluate(GM, {"enterprise": [enterprise], "hazard": [hazard]}, date(2025, 1, 1))
    assert not result.rejected, result.rejected
    assert hazard["enterprise_id"] == "E1"


@FEW
@given(facts=fact_sets(BAOSHAN.schema, near=BAOSHAN), as_of=as_of_dates(near=BAOSHAN))
def test_fact_sets_have_valid_references(facts: dict[str, Any], as_of: date) -> None:
    result = evaluate(BAOSHAN, facts, as_of)
    assert not result.rejected, result.rejected
    assert result.counts.read == sum(len(v) for v in facts.values())


@FEW
@given(facts=fact_sets(HOT.schema, types=["hot_work"], fields={"hot_work": {"fire_watch": True}}))
def test_fact_sets_fix_fields_and_pull_in_referenced_types(facts: dict[str, Any]) -> None:
    assert facts["enterprise"]  # hot_work requires an enterprise: at least one is drawn
    assert all(h["fire_watch"] is True for h in facts.get("hot_work", []))


def test_near_values_reach_the_boundaries() -> None:
    seen: set[int] = set()

    @settings(max_examples=200, deadline=None)
    @given(records(HOT.schema, "hot_work", near=HOT))
    def draw(rec: dict[str, Any]) -> None:
        if rec["flammables_kg"] is not None:
            seen.add(rec["flammables_kg"])

    draw()
    assert {49, 50, 51} <= seen


WELDING = HOT.rule("acme-hotwork.welding-near-flammables")
assert isinstance(WELDING, Criterion)


@FEW
@given(w=satisfying(WELDING.when, HOT.schema))
def test_satisfying_records_are_labelled(w: Any) -> None:
    result = evaluate(HOT, w.facts(), date(2028, 1, 1))
    assert [c.rule for c in result.classifications] == [WELDING.meta.id]
    assert w.record["flammables_kg"] >= 50


@FEW
@given(w=violating(WELDING.when, HOT.schema))
def test_violating_records_are_not_labelled(w: Any) -> None:
    result = evaluate(HOT, w.facts(), date(2028, 1, 1))
    assert not result.classifications


def test_satisfying_starts_at_the_boundary() -> None:
    found, exhaustive = witnesses(WELDING.when, HOT.schema, True, limit=64)
    assert {w.record["flammables_kg"] for w in found} == {50, 51}
    below, _ = witnesses(WELDING.when, HOT.schema, False, limit=64)
    assert 49 in {w.record["flammables_kg"] for w in below}
    assert exhaustive


def test_witnesses_follow_references() -> None:
    rule = GM.rule("gm-2023.12-2")
    assert isinstance(rule, Criterion) and rule.applies is not None
    w = find_witness(rule.applies, GM.schema)
    assert w is not None
    enterprise = w.related["enterprise"][0]
    assert w.record["enterprise_id"] == enterprise["id"]
    assert enterprise["sectors"]


def test_regex_examples() -> None:
    assert regex_example("动火|动焊") == "动火"
    ex = regex_example(r"(空调|冷风机).{0,10}氨")
    assert ex is not None and "氨" in ex
    assert regex_example(r"\d{3}-[A-Z]+") == "000-A" or regex_example(r"\d{3}-[A-Z]+")


def test_matches_draws_from_from_regex() -> None:
    seen: set[str] = set()
    rule = _lowered_matches()

    @settings(max_examples=40, deadline=None)
    @given(satisfying(rule, HOT.schema))
    def draw(w: Any) -> None:
        seen.add(w.record["description"])
        assert "焊" in w.record["description"]

    draw()
    assert len(seen) > 1


def _lowered_matches() -> Any:
    from hazard_rules._yaml import load_yaml_text
    from hazard_rules.lower.conditions import ConditionLowerer
    from hazard_rules.periods import timezone

    data, smap = load_yaml_text("when: {description: {matches: '动?焊'}}\n", "<test>")
    cond = ConditionLowerer(HOT.schema, {}, smap, timezone("Asia/Shanghai"), []).lower(
        "hot_work", data["when"], ("when",)
    )
    assert isinstance(cond, Leaf)
    return cond


@FEW
@given(p=periods("quarter"), q=periods())
def test_periods(p: Period, q: Period) -> None:
    assert p.every == "quarter" and (p.end.month - p.start.month) == 2
    assert q.start <= q.end


def test_periods_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown period kind"):
        periods("week")


def test_as_of_dates_hit_rule_dates() -> None:
    seen: set[date] = set()

    @settings(max_examples=300, deadline=None)
    @given(as_of_dates(near=BAOSHAN))
    def draw(d: date) -> None:
        seen.add(d)

    draw()
    assert date(2024, 4, 1) in seen or date(2024, 3, 31) in seen


def _pack_with(tmp_path: Path, when: str) -> Path:
    pack = tmp_path / "acme-hotwork"
    shutil.copytree(EXAMPLE / "acme-hotwork", pack)
    rule = pack / "welding.rule.yaml"
    text = rule.read_text(encoding="utf-8")
    start = text.index("when:")
    end = text.index("label:")
    rule.write_text(text[:start] + when + text[end:], "utf-8")
    return pack


def test_dead_and_always_true_criteria(tmp_path: Path) -> None:
    dead = load_packs(_pack_with(tmp_path / "a", "when:\n  flammables_kg: {gt: 50, lt: 51}\n"))
    rule = dead.rule("acme-hotwork.welding-near-flammables")
    assert isinstance(rule, Criterion)
    assert criterion_problems(rule, dead.schema) == [
        "unsatisfiable: no record makes its `when` (with `applies`) true"
    ]
    always = load_packs(
        _pack_with(tmp_path / "b", "when:\n  any: [{fire_watch: true}, {fire_watch: false}]\n")
    )
    rule = always.rule("acme-hotwork.welding-near-flammables")
    assert isinstance(rule, Criterion)
    assert criterion_problems(rule, always.schema) == [
        "always true: every record it applies to makes its `when` true"
    ]
    with pytest.raises(ValueError, match="unsatisfiable"):
        satisfying(dead.rule("acme-hotwork.welding-near-flammables").when, dead.schema)  # type: ignore[union-attr]


def test_strict_lint_reports_dead_criteria(tmp_path: Path) -> None:
    pack = _pack_with(tmp_path, "when:\n  work_kind: welding\n  not: {work_kind: welding}\n")
    codes = {d.code for d in lint_packs([pack], strict=True)}
    assert "unsatisfiable_criterion" in codes
    assert not [d for d in lint_packs([EXAMPLE / "acme-hotwork"], strict=True)]


def test_the_property_suite_catches_gt_for_gte(pytester: pytest.Pytester) -> None:
    """The example's property tests fail on a copy whose rule says `gt: 50` for `gte: 50`,
    and hypothesis shrinks the counterexample to the boundary, 50 kg."""
    copy = pytester.path / "authoring"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    rule = copy / "acme-hotwork" / "welding.rule.yaml"
    text = rule.read_text(encoding="utf-8")
    assert "gte: 50" in text
    rule.write_text(text.replace("gte: 50", "gt: 50"), "utf-8")
    result = pytester.runpytest_subprocess(
        str(copy / "test_properties.py"),
        "-k",
        "50_kg",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hazard_rules",
    )
    out = result.stdout.str()
    assert result.ret == 1, out
    result.assert_outcomes(failed=1)
    assert "'flammables_kg': 50," in out
    assert "Falsifying example" in out or "Failing test case" in out
