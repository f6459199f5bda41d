"""Limits as part of the language: conditions nest at most 32 levels and a list holds at most
256 conditions (refused at load, located); everything within them — as deep and as wide as
allowed — loads, is linted, judged by both backends, explained and run as a case."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write_pack
from hazard_rules import BackendError, PackError, evaluate, load_packs
from hazard_rules.lower.conditions import MAX_DEPTH, MAX_ITEMS
from hazard_rules.output.rule_text import describe_rule
from hazard_rules.testing.runner import available_backends, run_packs

LEAVES = [
    {"level": "major"},
    {"description": {"matches": "动火|焊"}},
    {"rectified_on": {"exists": False}},
    {"discovered_on": {"between": ["2024-01-01", "2024-12-31"]}},
    {"enterprise.high_risk": True},
]
FACTS = {
    "enterprise": [{"id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": True}],
    "hazard": [
        {"id": f"H{i}", "enterprise_id": "E1", "discovered_on": f"2024-0{i % 9 + 1}-01",
         "found_by": "self_inspection", "level": ("major", "general")[i % 2],
         "description": ("电焊", "漏水")[i % 2], **({"rectified_on": "2024-10-01"} if i % 3 else {})}
        for i in range(12)
    ],
}  # fmt: skip


def nest(depth: int, leaf: dict[str, Any]) -> dict[str, Any]:
    """``depth`` levels of not / all / any / at_least around ``leaf``."""
    cond = leaf
    for i in range(depth):
        kind = ("not", "all", "any", "at_least")[i % 4]
        if kind == "not":
            cond = {"not": cond}
        elif kind == "at_least":
            cond = {"at_least": {"n": 1, "of": [cond, {"level": "general"}]}}
        else:
            cond = {kind: [cond, LEAVES[i % len(LEAVES)]]}
    return cond


def criterion(when: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "t.deep",
        "kind": "criterion",
        "title": "测试",
        "cite": "测试",
        "severity": "high",
        "message": {"zh": "{record}", "en": "{record}"},
        "for": "hazard",
        "when": when,
        "label": "major",
        "declared": "level",
    }


def run_everything(tmp_path: Path, when: dict[str, Any]) -> None:
    """Load, judge on both backends, explain and run as a case: nothing may raise but the
    durable backend's documented refusal."""
    folder = write_pack(tmp_path, [criterion(when)])
    packs = load_packs(folder)
    as_of = date(2025, 1, 1)
    python = evaluate(packs, FACTS, as_of, explain=True)
    describe_rule(packs.rule("t.deep"))
    if "durable" in available_backends():
        try:
            durable = evaluate(packs, FACTS, as_of, backend="durable")
        except BackendError:
            pass  # refused, with the rule and the construct named: documented
        else:
            assert [v.record for v in durable.violations] == [v.record for v in python.violations]
    expect = [
        {"rule": "t.deep", "status": "misclassified", "record": v.record.id}
        for v in python.violations
    ]
    case = {"cases": [{"name": "deep", "as_of": "2025-01-01", "facts": FACTS, "expect": expect}]}
    (folder / "rules.cases.yaml").write_text(yaml.safe_dump(case, allow_unicode=True), "utf-8")
    import io

    out = io.StringIO()
    assert run_packs([folder], backends=["python"], out=out) == 0, out.getvalue()


def test_the_deepest_allowed_condition_runs_everywhere(tmp_path: Path) -> None:
    run_everything(tmp_path, nest(MAX_DEPTH, LEAVES[0]))


def test_the_widest_allowed_condition_runs_everywhere(tmp_path: Path) -> None:
    wide = {"any": [LEAVES[i % len(LEAVES)] for i in range(MAX_ITEMS)]}
    run_everything(tmp_path, {"all": [wide, {"not": wide}, {"any": [wide, LEAVES[0]]}]})


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (nest(MAX_DEPTH + 1, LEAVES[0]), "condition_too_deep"),
        ({"any": [LEAVES[0]] * (MAX_ITEMS + 1)}, "condition_too_wide"),
        ({"at_least": {"n": 1, "of": [LEAVES[0]] * (MAX_ITEMS + 1)}}, "condition_too_wide"),
    ],
    ids=["33 deep", "257 wide", "257 in at_least"],
)
def test_past_the_limits_is_a_located_load_error(tmp_path: Path, when: Any, code: str) -> None:
    folder = write_pack(tmp_path, [criterion(when)])
    with pytest.raises(PackError) as exc:
        load_packs(folder)
    assert [d.code for d in exc.value.diagnostics] == [code]
    assert exc.value.diagnostics[0].span.path.endswith("rules.rule.yaml")
    assert exc.value.diagnostics[0].span.line > 1


def shapes(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    leaf = st.sampled_from(LEAVES)
    if depth == 0:
        return leaf
    sub = shapes(depth - 1)
    return st.one_of(
        leaf,
        sub.map(lambda c: {"not": c}),
        st.lists(sub, min_size=1, max_size=6).map(lambda cs: {"all": cs}),
        st.lists(sub, min_size=1, max_size=6).map(lambda cs: {"any": cs}),
        st.lists(sub, min_size=1, max_size=6).flatmap(
            lambda cs: st.integers(0, len(cs)).map(lambda n: {"at_least": {"n": n, "of": cs}})
        ),
    )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(head=shapes(3), depth=st.integers(0, MAX_DEPTH - 4))
def test_generated_conditions_within_the_limits_run_everywhere(
    tmp_path_factory: pytest.TempPathFactory, head: dict[str, Any], depth: int
) -> None:
    run_everything(tmp_path_factory.mktemp("gen"), nest(depth, head))
