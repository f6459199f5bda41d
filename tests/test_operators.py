"""Every operator of SPEC §3.2 on every field type it fits, true and false; the missing-field
semantics; ``{ref: field}`` operands; dotted paths through references; all/any/not/at_least.

Each condition becomes the ``when`` of a criterion rule on the test type ``item`` (one optional
field of every kind, see ``conftest.ITEM_SCHEMA``); a record satisfies the condition exactly
when it gets the criterion's label.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import ITEM_SCHEMA, rule, write_pack
from hazard_rules import PackSet, evaluate, load_packs

AS_OF = date(2030, 1, 1)
E1 = {"id": "E1", "name": "甲公司", "sectors": ["commerce"], "high_risk": True}
E2 = {"id": "E2", "name": "乙公司", "sectors": ["property"], "high_risk": False}

Holds = Callable[..., bool]


@pytest.fixture(scope="module")
def holds(tmp_path_factory: pytest.TempPathFactory) -> Holds:
    """``holds(condition, **fields)``: does an item with ``fields`` satisfy ``condition``?"""
    root: Path = tmp_path_factory.mktemp("ops")
    cache: dict[str, PackSet] = {}

    def go(cond: dict[str, Any], _type: str = "item", **fields: Any) -> bool:
        key = json.dumps([_type, cond], sort_keys=True, default=str)
        packs = cache.get(key)
        if packs is None:
            doc = rule("t.c", "criterion", **{"for": _type, "when": cond, "label": "hit"})
            packs = load_packs(write_pack(root / f"c{len(cache)}", [doc], schema=ITEM_SCHEMA))
            cache[key] = packs
        record = {"id": "X", "enterprise_id": "E1", **fields}
        if _type == "hazard":
            record = {
                "id": "X",
                "enterprise_id": "E1",
                "discovered_on": "2024-01-05",
                "found_by": "self_inspection",
                "level": "general",
                "description": "消防通道堵塞",
                **fields,
            }
        facts = {"enterprise": [E1, E2], _type: [record]}
        result = evaluate(packs, facts, as_of=AS_OF)
        assert result.rejected == [], result.rejected
        labels = [(c.record.id, c.label, c.rule) for c in result.classifications]
        assert labels in ([], [("X", "hit", "t.c")])
        return bool(labels)

    return go


# (field, operator, operand, value, expected)
CASES: list[tuple[str, str, Any, Any, bool]] = [
    # string
    ("s", "eq", "abc", "abc", True),
    ("s", "eq", "abc", "abd", False),
    ("s", "ne", "abc", "abd", True),
    ("s", "ne", "abc", "abc", False),
    ("s", "in", ["abc", "def"], "def", True),
    ("s", "in", ["abc", "def"], "xyz", False),
    ("s", "not_in", ["abc", "def"], "xyz", True),
    ("s", "not_in", ["abc", "def"], "abc", False),
    ("s", "contains", "动焊", "车间内进行动焊作业", True),
    ("s", "contains", "动火", "车间内进行动焊作业", False),
    ("s", "matches", "动火|动焊", "车间内进行动焊作业", True),
    ("s", "matches", "动火|动焊", "消防通道堵塞", False),
    ("s", "matches", "b", "abc", True),  # search anywhere, not only at the start
    ("s", "matches", "^b", "abc", False),
    ("s", "exists", True, "abc", True),
    ("s", "exists", False, "abc", False),
    # int
    ("i", "eq", 5, 5, True),
    ("i", "eq", 5, 6, False),
    ("i", "ne", 5, 6, True),
    ("i", "ne", 5, 5, False),
    ("i", "lt", 5, 4, True),
    ("i", "lt", 5, 5, False),
    ("i", "lte", 5, 5, True),
    ("i", "lte", 5, 6, False),
    ("i", "gt", 9, 10, True),
    ("i", "gt", 9, 9, False),
    ("i", "gte", 9, 9, True),
    ("i", "gte", 9, 8, False),
    ("i", "between", [3, 5], 3, True),
    ("i", "between", [3, 5], 5, True),
    ("i", "between", [3, 5], 6, False),
    ("i", "between", [3, 5], 2, False),
    ("i", "in", [1, 2, 3], 2, True),
    ("i", "in", [1, 2, 3], 4, False),
    ("i", "not_in", [1, 2, 3], 4, True),
    ("i", "not_in", [1, 2, 3], 1, False),
    ("i", "exists", True, 0, True),
    ("i", "exists", False, 0, False),
    # float
    ("f", "eq", 1.5, 1.5, True),
    ("f", "eq", 1.5, 2.5, False),
    ("f", "ne", 1.5, 2.5, True),
    ("f", "ne", 1.5, 1.5, False),
    ("f", "lt", 2, 1.9, True),
    ("f", "lt", 2, 2.0, False),
    ("f", "lte", 2.5, 2.5, True),
    ("f", "lte", 2.5, 2.6, False),
    ("f", "gt", 0.5, 0.51, True),
    ("f", "gt", 0.5, 0.5, False),
    ("f", "gte", 0.5, 0.5, True),
    ("f", "gte", 0.5, 0.49, False),
    ("f", "between", [0.1, 0.2], 0.15, True),
    ("f", "between", [0.1, 0.2], 0.25, False),
    ("f", "in", [1.5, 2.5], 2.5, True),
    ("f", "in", [1.5, 2.5], 3.5, False),
    ("f", "not_in", [1.5, 2.5], 3.5, True),
    ("f", "not_in", [1.5, 2.5], 1.5, False),
    ("f", "exists", True, 0.0, True),
    ("f", "exists", False, 0.0, False),
    # date
    ("d", "eq", date(2024, 3, 31), "2024-03-31", True),
    ("d", "eq", date(2024, 3, 31), "2024-04-01", False),
    ("d", "ne", date(2024, 3, 31), "2024-04-01", True),
    ("d", "ne", date(2024, 3, 31), "2024-03-31", False),
    ("d", "lt", date(2024, 1, 1), "2023-12-31", True),
    ("d", "lt", date(2024, 1, 1), "2024-01-01", False),
    ("d", "lte", date(2023, 12, 31), "2023-12-31", True),
    ("d", "lte", date(2023, 12, 31), "2024-01-01", False),
    ("d", "gt", date(2024, 2, 28), "2024-02-29", True),
    ("d", "gt", date(2024, 2, 29), "2024-02-29", False),
    ("d", "gte", date(2024, 2, 29), "2024-02-29", True),
    ("d", "gte", date(2024, 2, 29), "2024-02-28", False),
    ("d", "between", [date(2024, 1, 1), date(2024, 12, 31)], "2024-12-31", True),
    ("d", "between", [date(2024, 1, 1), date(2024, 12, 31)], "2024-01-01", True),
    ("d", "between", [date(2024, 1, 1), date(2024, 12, 31)], "2025-01-01", False),
    ("d", "exists", True, "2024-01-01", True),
    ("d", "exists", False, "2024-01-01", False),
    # datetime (literals and values with offsets compare as instants)
    ("dt", "eq", "2024-03-31T23:30:00+00:00", "2024-04-01T07:30:00+08:00", True),
    ("dt", "eq", "2024-03-31T23:30:00+00:00", "2024-04-01T07:31:00+08:00", False),
    ("dt", "ne", "2024-03-31T23:30:00+00:00", "2024-04-01T07:31:00+08:00", True),
    ("dt", "ne", "2024-03-31T23:30:00+00:00", "2024-04-01T07:30:00+08:00", False),
    ("dt", "lt", "2024-04-01T00:00:00+08:00", "2024-03-31T23:59:00+08:00", True),
    ("dt", "lt", "2024-04-01T00:00:00+08:00", "2024-03-31T16:00:00+00:00", False),
    ("dt", "lte", "2024-04-01T00:00:00+08:00", "2024-03-31T16:00:00+00:00", True),
    ("dt", "lte", "2024-04-01T00:00:00+08:00", "2024-04-01T00:00:01+08:00", False),
    ("dt", "gt", "2024-04-01T00:00:00+08:00", "2024-03-31T23:30:00+00:00", True),
    ("dt", "gt", "2024-04-01T08:00:00+08:00", "2024-03-31T23:30:00+00:00", False),
    ("dt", "gte", "2024-04-01T07:30:00+08:00", "2024-03-31T23:30:00+00:00", True),
    ("dt", "gte", "2024-04-01T07:31:00+08:00", "2024-03-31T23:30:00+00:00", False),
    (
        "dt",
        "between",
        ["2024-04-01T00:00:00+08:00", "2024-04-01T23:59:59+08:00"],
        "2024-03-31T23:30:00Z",
        True,
    ),
    (
        "dt",
        "between",
        ["2024-04-01T00:00:00+08:00", "2024-04-01T23:59:59+08:00"],
        "2024-03-31T15:30:00Z",
        False,
    ),
    ("dt", "exists", True, "2024-03-31T23:30:00Z", True),
    ("dt", "exists", False, "2024-03-31T23:30:00Z", False),
    # bool
    ("b", "eq", True, True, True),
    ("b", "eq", True, False, False),
    ("b", "eq", False, False, True),
    ("b", "ne", True, False, True),
    ("b", "ne", True, True, False),
    ("b", "exists", True, False, True),
    ("b", "exists", False, False, False),
    # enum
    ("e", "eq", "a", "a", True),
    ("e", "eq", "a", "b", False),
    ("e", "ne", "a", "b", True),
    ("e", "ne", "a", "a", False),
    ("e", "in", ["a", "b"], "b", True),
    ("e", "in", ["a", "b"], "c", False),
    ("e", "not_in", ["a", "b"], "c", True),
    ("e", "not_in", ["a", "b"], "a", False),
    ("e", "exists", True, "c", True),
    ("e", "exists", False, "c", False),
    # period
    ("p", "eq", "2024-Q2", "2024-Q2", True),
    ("p", "eq", "2024-Q2", "2024-Q3", False),
    ("p", "eq", "2024-05", "2024-05", True),
    ("p", "eq", 2024, "2024", True),
    ("p", "ne", "2024-Q2", "2024-H1", True),
    ("p", "ne", "2024-Q2", "2024-Q2", False),
    ("p", "in", ["2024-05", "2024-H2"], "2024-H2", True),
    ("p", "in", ["2024-05", "2024-H2"], "2024-06", False),
    ("p", "not_in", ["2024-05", "2024-H2"], "2024-06", True),
    ("p", "not_in", ["2024-05", "2024-H2"], "2024-05", False),
    ("p", "exists", True, "2024", True),
    ("p", "exists", False, "2024", False),
    # list[string]
    ("ls", "contains", "甲", ["甲", "乙"], True),
    ("ls", "contains", "丙", ["甲", "乙"], False),
    ("ls", "contains", "甲", ["甲乙"], False),  # a list item, not a substring
    ("ls", "contains_any", ["丙", "乙"], ["甲", "乙"], True),
    ("ls", "contains_any", ["丙", "丁"], ["甲", "乙"], False),
    ("ls", "contains_all", ["甲", "乙"], ["乙", "丙", "甲"], True),
    ("ls", "contains_all", ["甲", "丁"], ["乙", "丙", "甲"], False),
    ("ls", "exists", True, ["甲"], True),
    ("ls", "exists", False, ["甲"], False),
    # list[enum]
    ("le", "contains", "x", ["x", "y"], True),
    ("le", "contains", "z", ["x", "y"], False),
    ("le", "contains_any", ["z", "y"], ["x", "y"], True),
    ("le", "contains_any", ["z"], ["x", "y"], False),
    ("le", "contains_all", ["x", "y"], ["y", "x"], True),
    ("le", "contains_all", ["x", "z"], ["y", "x"], False),
    ("le", "exists", True, ["z"], True),
    ("le", "exists", False, ["z"], False),
]


@pytest.mark.parametrize(("field", "op", "operand", "value", "expected"), CASES)
def test_operator(holds: Holds, field: str, op: str, operand: Any, value: Any, expected: bool):
    assert holds({field: {op: operand}}, **{field: value}) is expected


# Operators that fit each field, with an operand the field would satisfy if it had a value.
FITTING: dict[str, dict[str, Any]] = {
    "s": {
        "eq": "a",
        "ne": "a",
        "in": ["a"],
        "not_in": ["a"],
        "contains": "a",
        "matches": ".*",
    },
    "i": {
        "eq": 1,
        "ne": 1,
        "lt": 1,
        "lte": 1,
        "gt": 1,
        "gte": 1,
        "between": [0, 9],
        "in": [1],
        "not_in": [1],
    },
    "f": {"eq": 1.0, "ne": 1.0, "lt": 1.0, "gte": 0.0, "between": [0.0, 9.0], "not_in": [1.0]},
    "d": {
        "eq": date(2024, 1, 1),
        "ne": date(2024, 1, 1),
        "lt": date(2024, 1, 1),
        "lte": date(2024, 1, 1),
        "gt": date(2024, 1, 1),
        "gte": date(2024, 1, 1),
        "between": [date(2000, 1, 1), date(2099, 1, 1)],
    },
    "dt": {
        "ne": "2024-01-01T00:00:00+08:00",
        "lt": "2024-01-01T00:00:00+08:00",
        "gte": "2024-01-01T00:00:00+08:00",
    },
    "b": {"eq": True, "ne": True},
    "e": {"eq": "a", "ne": "a", "in": ["a"], "not_in": ["a"]},
    "p": {"eq": "2024", "ne": "2024", "in": ["2024"], "not_in": ["2024"]},
    "ls": {"contains": "a", "contains_any": ["a"], "contains_all": ["a"]},
    "le": {"contains": "x", "contains_any": ["x"], "contains_all": ["x"]},
}
TEXT_LIKE = {"s", "i", "f", "d", "dt", "b", "e", "p"}
MISSING_CASES = [
    (field, op, operand, missing)
    for field, ops in FITTING.items()
    for op, operand in ops.items()
    for missing in ([None, "", "   "] if field in TEXT_LIKE else [None, [], "", "  ", ["", "  "]])
]


@pytest.mark.parametrize(("field", "op", "operand", "missing"), MISSING_CASES)
def test_missing_value_makes_every_operator_false(
    holds: Holds, field: str, op: str, operand: Any, missing: Any
):
    assert holds({field: {op: operand}}, **{field: missing}) is False
    # `not` negates whatever its condition gave: true on a missing value
    assert holds({"not": {field: {op: operand}}}, **{field: missing}) is True


@pytest.mark.parametrize("field", sorted(FITTING))
@pytest.mark.parametrize("missing", [None, "", "   ", "absent"])
def test_missing_value_exists(holds: Holds, field: str, missing: Any):
    fields = {} if missing == "absent" else {field: missing}
    assert holds({field: {"exists": False}}, **fields) is True
    assert holds({field: {"exists": True}}, **fields) is False


def test_empty_list_is_missing(holds: Holds):
    assert holds({"ls": {"exists": False}}, ls=[]) is True
    assert holds({"le": {"exists": True}}, le=[]) is False
    assert holds({"not": {"le": {"contains": "x"}}}, le=[]) is True


def test_scalar_value_is_equality(holds: Holds):
    assert holds({"e": "a"}, e="a") is True
    assert holds({"e": "a"}, e="b") is False
    assert holds({"b": False}, b=False) is True
    assert holds({"b": False}, b=None) is False  # missing is not false
    assert holds({"i": 3}, i=3) is True
    assert holds({"d": date(2024, 5, 1)}, d="2024-05-01") is True


def test_not_of_missing_scalar_equality_holds(holds: Holds):
    # SPEC §3.2: `not: {x: 1}` holds when x is missing
    assert holds({"not": {"i": 1}}) is True
    assert holds({"not": {"i": 1}}, i=1) is False
    assert holds({"not": {"i": 1}}, i=2) is True


def test_several_operators_in_one_mapping_all_hold(holds: Holds):
    cond = {"i": {"gt": 1, "lt": 5}}
    assert holds(cond, i=3) is True
    assert holds(cond, i=5) is False
    assert holds(cond, i=1) is False


def test_several_keys_in_one_mapping_all_hold(holds: Holds):
    cond = {"e": "a", "i": {"gte": 10}}
    assert holds(cond, e="a", i=10) is True
    assert holds(cond, e="a", i=9) is False
    assert holds(cond, e="b", i=10) is False
    assert holds(cond, e="a") is False


# -- {ref: other_field} operands --------------------------------------------------------------

REF_CASES: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    ({"s": {"eq": {"ref": "s2"}}}, {"s": "甲", "s2": "甲"}, True),
    ({"s": {"eq": {"ref": "s2"}}}, {"s": "甲", "s2": "乙"}, False),
    ({"s": {"ref": "s2"}}, {"s": "甲", "s2": "甲"}, True),  # short form: equality
    ({"s": {"ne": {"ref": "s2"}}}, {"s": "甲", "s2": "乙"}, True),
    ({"s": {"ne": {"ref": "s2"}}}, {"s": "甲", "s2": "甲"}, False),
    ({"i": {"lt": {"ref": "i2"}}}, {"i": 1, "i2": 2}, True),
    ({"i": {"lt": {"ref": "i2"}}}, {"i": 2, "i2": 2}, False),
    ({"i": {"gte": {"ref": "i2"}}}, {"i": 2, "i2": 2}, True),
    ({"d": {"lte": {"ref": "d2"}}}, {"d": "2024-04-15", "d2": "2024-04-15"}, True),
    ({"d": {"lte": {"ref": "d2"}}}, {"d": "2024-04-16", "d2": "2024-04-15"}, False),
    ({"d": {"gt": {"ref": "d2"}}}, {"d": "2024-04-16", "d2": "2024-04-15"}, True),
    ({"e": {"eq": {"ref": "e2"}}}, {"e": "a", "e2": "a"}, True),
    ({"e": {"eq": {"ref": "e2"}}}, {"e": "a", "e2": "b"}, False),
    ({"ls": {"contains": {"ref": "s"}}}, {"ls": ["甲", "乙"], "s": "乙"}, True),
    ({"ls": {"contains": {"ref": "s"}}}, {"ls": ["甲", "乙"], "s": "丙"}, False),
    # the operand's field missing → false, for every operator
    ({"s": {"eq": {"ref": "s2"}}}, {"s": "甲"}, False),
    ({"s": {"ne": {"ref": "s2"}}}, {"s": "甲"}, False),
    ({"s": {"ne": {"ref": "s2"}}}, {"s": "甲", "s2": "  "}, False),
    ({"i": {"lt": {"ref": "i2"}}}, {"i": 1}, False),
    ({"i": {"ne": {"ref": "i2"}}}, {"i": 1, "i2": ""}, False),
    ({"d": {"lte": {"ref": "d2"}}}, {"d": "2024-04-15"}, False),
    ({"e": {"ne": {"ref": "e2"}}}, {"e": "a"}, False),
    ({"ls": {"contains": {"ref": "s"}}}, {"ls": ["甲"]}, False),
    # both missing: still false
    ({"s": {"eq": {"ref": "s2"}}}, {}, False),
    # and `not` of it is true
    ({"not": {"s": {"ne": {"ref": "s2"}}}}, {"s": "甲"}, True),
]


@pytest.mark.parametrize(("cond", "fields", "expected"), REF_CASES)
def test_ref_operand(holds: Holds, cond: dict[str, Any], fields: dict[str, Any], expected: bool):
    assert holds(cond, **fields) is expected


# -- dotted paths through references ------------------------------------------------------------


def test_dotted_path_follows_reference(holds: Holds):
    # on a hazard, `enterprise.high_risk` reads the enterprise its enterprise_id points to
    cond = {"enterprise.high_risk": True}
    assert holds(cond, "hazard", enterprise_id="E1") is True
    assert holds(cond, "hazard", enterprise_id="E2") is False
    assert holds({"enterprise.sectors": {"contains": "commerce"}}, "hazard") is True
    assert holds({"enterprise.name": {"matches": "乙"}}, "hazard", enterprise_id="E2") is True


def test_dotted_path_by_full_reference_field_name(holds: Holds):
    assert holds({"enterprise_id.high_risk": True}, "hazard", enterprise_id="E1") is True
    assert holds({"enterprise_id.high_risk": True}, "hazard", enterprise_id="E2") is False


def test_dotted_path_through_missing_reference_is_missing(holds: Holds):
    # site_id is optional and empty: site.category is missing
    assert holds({"site.category": {"eq": "factory"}}, "hazard") is False
    assert holds({"site.category": {"ne": "factory"}}, "hazard") is False
    assert holds({"site.category": {"exists": False}}, "hazard") is True
    assert holds({"not": {"site.category": "factory"}}, "hazard") is True


def test_dotted_path_with_ref_operand(holds: Holds):
    # compare a field of the record with a field reached through a reference
    cond = {"s": {"eq": {"ref": "enterprise.name"}}}
    assert holds(cond, s="甲公司") is True
    assert holds(cond, s="乙公司") is False


# -- combinators ----------------------------------------------------------------------------


def test_any(holds: Holds):
    cond = {"any": [{"s": {"matches": "动火|动焊"}}, {"b": True}]}
    assert holds(cond, s="动火作业", b=False) is True
    assert holds(cond, s="巡检", b=True) is True
    assert holds(cond, s="巡检", b=False) is False
    assert holds(cond) is False


def test_all(holds: Holds):
    cond = {"all": [{"i": {"gt": 9}}, {"le": {"contains": "x"}}]}
    assert holds(cond, i=10, le=["x"]) is True
    assert holds(cond, i=10, le=["y"]) is False
    assert holds(cond, i=9, le=["x"]) is False
    assert holds(cond, le=["x"]) is False


def test_not(holds: Holds):
    cond = {"not": {"e": "a"}}
    assert holds(cond, e="b") is True
    assert holds(cond, e="a") is False
    assert holds(cond) is True
    assert holds({"not": {"not": {"e": "a"}}}, e="a") is True
    assert holds({"not": {"e": {"exists": True}}}) is True


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((True, True, True, True), True),
        ((True, True, True, False), True),
        ((True, False, True, None), False),
        ((None, None, None, None), False),
        ((True, True, False, False), False),
        ((False, True, True, True), True),
    ],
)
def test_at_least(holds: Holds, flags: tuple[bool | None, ...], expected: bool):
    names = ["b", "e", "i", "s"]
    of = [{"b": True}, {"e": "a"}, {"i": {"gt": 0}}, {"s": {"exists": True}}]
    values = {"b": True, "e": "a", "i": 1, "s": "x"}
    wrong = {"b": False, "e": "b", "i": 0, "s": None}
    fields = {
        n: (values[n] if f else wrong[n] if f is False else None)
        for n, f in zip(names, flags, strict=True)
    }
    assert holds({"at_least": {"n": 3, "of": of}}, **fields) is expected


def test_at_least_zero_always_holds(holds: Holds):
    assert holds({"at_least": {"n": 0, "of": [{"b": True}]}}) is True


def test_spec_example_condition(holds: Holds):
    """The condition of SPEC §3.2, adapted to the item type's fields."""
    cond = {
        "le": {"contains": "x"},
        "i": {"gt": 9},
        "any": [{"s": {"matches": "动火|动焊"}}, {"b": True}],
        "not": {"e": "c"},
        "at_least": {
            "n": 2,
            "of": [{"f": {"gt": 1}}, {"d": {"exists": True}}, {"p": "2024"}],
        },
    }
    good = {"le": ["x"], "i": 10, "s": "动焊", "e": "a", "f": 2.0, "p": "2024"}
    assert holds(cond, **good) is True
    assert holds(cond, **{**good, "e": "c"}) is False
    assert holds(cond, **{**good, "e": None}) is True
    assert holds(cond, **{**good, "f": 0.5}) is False
    assert holds(cond, **{**good, "f": 0.5, "d": "2024-01-01"}) is True
    assert holds(cond, **{**good, "i": 9}) is False
    assert holds(cond, **{**good, "s": "巡检"}) is False
    assert holds(cond, **{**good, "s": "巡检", "b": True}) is True
