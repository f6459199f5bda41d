"""Enum values as people write them: labels and aliases declared in the schema (both forms of
``values``), folded spellings, located load errors, and the core schema's Chinese values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import hazard_rules
from hazard_rules import PackError, evaluate, load_packs
from hazard_rules.schema import json_schema, value_key

SCHEMA = """\
types:
  item:
    fields:
      enterprise_id: {ref: enterprise}
      grade:
        type: enum
        label: 等级
        values:
          low: 低
          high: {label: 高风险, aliases: [高, 较高]}
          mid:
      plain: {type: "enum?", values: [a, b]}
"""


@pytest.fixture
def packs(make_pack: Callable[..., Path]) -> hazard_rules.PackSet:
    return load_packs(make_pack(schema=SCHEMA))


def _facts(**item: Any) -> dict[str, Any]:
    return {
        "enterprise": [{"id": "E1", "name": "甲", "sectors": "其他", "high_risk": "否"}],
        "item": [{"id": "I1", "enterprise_id": "E1", **item}],
    }


def _read(packs: hazard_rules.PackSet, **item: Any) -> tuple[dict[str, Any] | None, list[Any]]:
    result = evaluate(packs, _facts(**item), as_of=date(2025, 1, 1))
    facts = hazard_rules.load_facts(packs, _facts(**item))
    return facts.records["item"].get("I1"), result.rejected


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("high", "high"),
        ("高风险", "high"),
        ("高", "high"),
        ("较高", "high"),
        (" HIGH ", "high"),
        ("ＨＩＧＨ", "high"),
        ("低", "low"),
        ("mid", "mid"),
        ("Mid", "mid"),
    ],
)
def test_a_value_reads_by_name_label_or_alias(
    packs: hazard_rules.PackSet, written: str, value: str
) -> None:
    rec, rejected = _read(packs, grade=written)
    assert rejected == []
    assert rec is not None and rec["grade"] == value


def test_an_unknown_spelling_is_rejected_with_values_and_labels(
    packs: hazard_rules.PackSet,
) -> None:
    rec, rejected = _read(packs, grade="极高")
    assert rec is None
    (r,) = rejected
    assert r.field == "grade"
    assert "low（低）" in r.reason and "high（高风险）" in r.reason and "mid" in r.reason


def test_the_list_form_still_works(packs: hazard_rules.PackSet) -> None:
    rec, rejected = _read(packs, grade="low", plain="B")
    assert rejected == [] and rec is not None and rec["plain"] == "b"


def test_labels_are_kept_on_the_field_and_in_json_schema(packs: hazard_rules.PackSet) -> None:
    f = packs.schema.types["item"].fields["grade"]
    assert f.values == ("low", "high", "mid")
    assert dict(f.value_labels) == {"low": "低", "high": "高风险"}
    prop = json_schema(packs.schema)["$defs"]["item"]["properties"]["grade"]
    assert prop["enum"] == ["low", "high", "mid"]
    assert prop["x-enum-labels"] == {"low": "低", "high": "高风险"}


def test_value_key_folds_width_case_and_spaces() -> None:
    assert value_key(" Ｍａｊｏｒ ") == value_key("major") == "major"
    assert value_key("重 大") == "重大"


def _load_errors(make_pack: Callable[..., Path], schema: str) -> list[Any]:
    with pytest.raises(PackError) as exc:
        load_packs(make_pack(schema=schema))
    return exc.value.diagnostics


def test_a_spelling_for_two_values_is_a_located_error(make_pack: Callable[..., Path]) -> None:
    schema = """\
types:
  item:
    fields:
      grade:
        type: enum
        values:
          low: {label: 低, aliases: [一般]}
          high: {label: 高, aliases: [一般]}
"""
    (d,) = _load_errors(make_pack, schema)
    assert d.code == "ambiguous_enum_alias"
    assert d.span.line == 8 and "一般" in d.message


def test_a_label_equal_to_another_value_is_an_error(make_pack: Callable[..., Path]) -> None:
    schema = """\
types:
  item:
    fields:
      grade:
        type: enum
        values:
          low: high
          high: 高
"""
    (d,) = _load_errors(make_pack, schema)
    assert d.code == "ambiguous_enum_alias" and d.span.line == 7


@pytest.mark.parametrize(
    ("values", "code", "line"),
    [
        ("[yes, high]", "invalid_enum_value", 5),
        ('{" low": 低}', "invalid_enum_value", 5),
        ("{low: [a, b]}", "invalid_field", 5),
        ("{low: {label: 低, alias: [x]}}", "unknown_key", 5),
        ("{}", "invalid_field", 5),
    ],
)
def test_malformed_values_are_located(
    make_pack: Callable[..., Path], values: str, code: str, line: int
) -> None:
    schema = f"types:\n  item:\n    fields:\n      grade:\n        type: enum\n        values: {values}\n"
    diags = _load_errors(make_pack, schema)
    assert [d.code for d in diags] == [code]
    assert diags[0].span.line == line + 1


def test_an_identical_redeclaration_adds_aliases(make_pack: Callable[..., Path]) -> None:
    more = """\
types:
  hazard:
    fields:
      level:
        type: enum
        values:
          general: {aliases: [Ⅱ级]}
          major: {aliases: [Ⅰ级]}
"""
    packs = load_packs(make_pack(schema=more))
    facts = hazard_rules.load_facts(
        packs,
        {
            "enterprise": [{"id": "E1", "name": "甲", "sectors": "商贸", "high_risk": "否"}],
            "hazard": [
                {
                    "id": "H1",
                    "enterprise_id": "E1",
                    "discovered_on": "2024-01-02",
                    "found_by": "自查",
                    "level": "Ⅰ级",
                    "description": "x",
                }
            ],
        },
    )
    assert facts.rejected == []
    assert facts.records["hazard"]["H1"]["level"] == "major"
    # the core label is still there
    assert packs.schema.types["hazard"].fields["level"].value_labels["major"] == "重大事故隐患"


def test_every_core_enum_value_has_a_chinese_label() -> None:
    packs = load_packs("core")
    for t in packs.schema.types.values():
        for f in t.fields.values():
            for v in f.values:
                assert f.value_labels.get(v), f"{t.name}.{f.name}: {v} has no label"


@pytest.mark.parametrize(
    ("field", "written", "value"),
    [
        ("level", "重大", "major"),
        ("level", "一般隐患", "general"),
        ("found_by", "自查", "self_inspection"),
        ("level", "重大事故隐患", "major"),
    ],
)
def test_chinese_values_of_the_core_schema(field: str, written: str, value: str) -> None:
    packs = load_packs("core")
    hazard = {
        "id": "H1",
        "enterprise_id": "E1",
        "discovered_on": "2024-01-02",
        "found_by": "self_inspection",
        "level": "general",
        "description": "x",
        field: written,
    }
    facts = hazard_rules.load_facts(
        packs,
        {
            "enterprise": [{"id": "E1", "name": "甲", "sectors": "商贸；轻工", "high_risk": "是"}],
            "hazard": [hazard],
            "inspection": [
                {"id": "I1", "enterprise_id": "E1", "held_on": "2024-01-02", "led_by": "主要负责人"}
            ],
        },
    )
    assert facts.rejected == []
    assert facts.records["hazard"]["H1"][field] == value
    assert facts.records["enterprise"]["E1"]["sectors"] == ("commerce", "light_industry")
    assert facts.records["enterprise"]["E1"]["high_risk"] is True
    assert facts.records["inspection"]["I1"]["led_by"] == "principal"


def test_chinese_messages_and_tables_show_labels(make_pack: Callable[..., Path]) -> None:
    """Output in Chinese shows an enum value by its label; English and JSON keep the value."""
    from conftest import rule

    rules = [
        rule(
            "t.grade",
            "check",
            **{
                "for": "item",
                "require": {"grade": {"eq": "low"}},
                "message": {"zh": "{record}等级为{grade}", "en": "{record} grade {grade}"},
            },
        ),
        rule(
            "t.high",
            "criterion",
            **{"for": "item", "when": {"grade": {"eq": "high"}}, "label": "high"},
        ),
    ]
    packs = load_packs(make_pack(rules, schema=SCHEMA))
    result = evaluate(packs, _facts(grade="较高"), as_of=date(2025, 1, 1))
    (v,) = result.violations
    assert (v.message, v.message_en) == ("I1等级为高风险", "I1 grade high")
    (c,) = result.classifications
    assert (c.label, c.label_name) == ("high", "高风险")
    from hazard_rules.output.table import format_table

    zh = format_table(result, lang="zh", width=200, color=False)
    en = format_table(result, lang="en", width=200, color=False)
    assert "高风险" in zh and " high " in en and "高风险" not in en
    # a value the schema gives no label is shown as it is
    result = evaluate(packs, _facts(grade="mid"), as_of=date(2025, 1, 1))
    assert [v.message for v in result.violations] == ["I1等级为mid"]
