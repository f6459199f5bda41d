"""The example export shows the 城镇燃气 (gas-2023) and 房屋市政 (construction-2024) criteria at
work (issue 14, item 5; examples/README.md, "The criteria packs"): as of 2026-01-15, the hazards
H034–H039 give one misclassified hazard, one classification and one review candidate per
pack — and nothing else in the other packs but E06's increase of major hazards."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

import pytest

from conftest import EXPORT
from hazard_rules import Result, evaluate, load_packs
from hazard_rules.testing.runner import available_backends

AS_OF = date(2026, 1, 15)
CRITERIA = ("gas-2023", "construction-2024")
NEW = {"H034", "H035", "H036", "H037", "H038", "H039"}


@pytest.fixture(scope="module", params=available_backends())
def result(request: pytest.FixtureRequest) -> Result:
    return evaluate(load_packs(), EXPORT, AS_OF, backend=request.param, show_unmapped=True)


def of_packs(items: list[Any]) -> set[tuple[str, str, str]]:
    """(rule, hazard, enterprise) of the findings of the two packs."""
    return {
        (x.rule, x.record.id, x.subject.id)
        for x in items
        if x.rule.split(".")[0] in CRITERIA and x.record is not None
    }


def test_the_misclassified_hazards(result: Result) -> None:
    found = [v for v in result.violations if v.rule.split(".")[0] in CRITERIA]
    assert {v.status for v in found} == {"misclassified"}
    assert of_packs(found) == {
        ("gas-2023.6-1", "H034", "E06"),  # 中压 main occupied, recorded general
        ("construction-2024.5-3", "H037", "E03"),  # 一级基坑 without monitoring, recorded general
    }
    h034 = next(v for v in found if v.record and v.record.id == "H034")
    assert h034.severity == "critical" and h034.cite == "建城规〔2023〕4号 第六条（一）"


def test_the_classifications(result: Result) -> None:
    assert {c.label for c in result.classifications if c.rule.split(".")[0] in CRITERIA} == {
        "major"
    }
    assert of_packs(result.classifications) == {
        ("gas-2023.6-1", "H034", "E06"),
        ("gas-2023.6-1", "H035", "E06"),  # 次高压 main occupied, recorded major: no violation
        ("construction-2024.5-3", "H037", "E03"),
        ("construction-2024.5-3", "H038", "E03"),  # recorded major: no violation
    }


def test_the_review_candidates(result: Result) -> None:
    assert {c.label for c in result.candidates if c.rule.split(".")[0] in CRITERIA} == {
        "major_candidate"
    }
    assert of_packs(result.candidates) == {
        ("gas-2023.6-1", "H036", "E06"),  # "疑似占压": the hint, no facts
        ("construction-2024.5-3", "H039", "E03"),  # "第三方监测": the hint, no facts
        ("construction-2024.4-5", "H024", "E03"),
        ("construction-2024.8-1", "H024", "E03"),
        ("construction-2024.7-2", "H025", "E03"),
    }
    hints = {(c.record.id, tuple(c.hints)) for c in result.candidates if c.record}
    assert ("H036", ("占压",)) in hints and ("H039", ("第三方监测",)) in hints


def test_construction_2024_is_silent_before_its_issue_date(result: Result) -> None:
    # H010 (2024-04-16) has the same problem as H037, in free text, before 2024-12-13
    judged = {x.record.id for x in [*result.classifications, *result.candidates] if x.record}
    assert "H010" not in judged
    assert "H010" in {u.id for u in result.unmapped}


def test_the_new_hazards_leave_the_other_packs_silent_but_for_e06s_increase(
    result: Result,
) -> None:
    others = [v for v in result.violations if v.rule.split(".")[0] not in CRITERIA]
    assert not [v for v in others if v.record and v.record.id in NEW]
    (e06,) = [
        v for v in others if v.rule == "baoshan-2024.major-hazards-curbed" and v.subject.id == "E06"
    ]
    assert (e06.status, e06.period) == ("exceeded", "2025")
    assert [(e.type, e.id) for e in e06.evidence] == [("hazard", "H035")]  # 1 in 2025, 0 in 2024
    e03 = [v for v in others if v.rule.endswith("major-hazards-curbed") and v.subject.id == "E03"]
    assert not e03  # 2 major hazards in 2025 (H024, H038), 2 in 2024 (H010, H011)


def test_the_facts_are_columns_with_chinese_labels_appended_at_the_end() -> None:
    with (EXPORT / "hazard.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[-4:] == [
        "燃气管道压力级别",
        "地下燃气管线被建（构）筑物占压",
        "深基坑、高边坡（一级、二级）",
        "基坑边坡已进行第三方监测",
    ]
    assert [r["id"] for r in rows[-6:]] == sorted(NEW)  # appended: older rows keep their lines
    assert [r["id"] for r in rows[:33]] == [f"H{n:03d}" for n in range(1, 34)]
    facts = {r["id"]: [r[k] for k in list(r)[-4:]] for r in rows}
    assert facts["H034"] == ["中压", "是", "", ""]
    assert facts["H035"] == ["次高压", "是", "", ""]
    assert facts["H037"] == facts["H038"] == ["", "", "是", "否"]
    assert facts["H036"] == facts["H039"] == ["", "", "", ""]
    assert all(facts[f"H{n:03d}"] == ["", "", "", ""] for n in range(1, 34))
