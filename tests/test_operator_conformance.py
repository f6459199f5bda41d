"""One operator table, proved on every evaluator (SPEC §3.2).

Every operator × every field type it fits × boundary, equal, missing and empty values, each
plain and under ``not``, through a field of the record itself and through a reference
(``holder.x``), and every ``{ref: field}`` comparison with either side missing, goes through:

* ``reference`` — :func:`hazard_rules.operators.holds`, the table's own semantics;
* ``closures`` — :func:`hazard_rules.backends.python.compile_condition` (``check``, ``where``,
  time rules, explain);
* ``classifier`` — the generated code of :func:`hazard_rules.backends.codegen.compile_classifier`
  (criteria);
* ``search`` — the witness search's leaf test (:mod:`hazard_rules.testing.satisfiability`);
* ``durable`` — the durable-rules backend, where it is installed (a construct durable refuses
  is listed in ``DURABLE_REFUSES`` with the reason, and that list is checked too).

Every evaluator must give the reference's truth value; the reference itself is pinned to the
SPEC's wording by ``SPEC_PINS``. Records go through the library's own coercion first, as every
evaluator sees them in use: empty text and empty lists arrive as missing. Trend comparisons
(``compare.op``) use the same table and are checked at equal and unequal counts at the end.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import rule, write_pack
from hazard_rules import PackSet, evaluate, load_packs
from hazard_rules.backends.codegen import compile_classifier
from hazard_rules.backends.durable.compile import Refused, compile_condition_json
from hazard_rules.backends.durable.engine import DurableEngine, durable_available
from hazard_rules.backends.python import compile_condition
from hazard_rules.facts.collect import FactSet, collect_facts, rows_from_mapping
from hazard_rules.ir import AllOf, AnyOf, Condition, Criterion, FieldRef, Leaf, NotOf
from hazard_rules.operators import COMPARISONS, OPERATORS, category, holds
from hazard_rules.testing.satisfiability import Search
from hazard_rules.testing.values import leaves, path_key

AS_OF = date(2030, 1, 1)
ABSENT = object()  # the field is left out of the record altogether

# -- the matrix: per field, the operands each fitting operator takes and the values to try --------

SCHEMA = {
    "types": {
        "holder": {
            "fields": {
                "s": "string?",
                "i": "int?",
                "f": "float?",
                "b": "bool?",
                "d": "date?",
                "t": "datetime?",
                "e": {"type": "enum?", "values": ["a", "b", "c"]},
                "p": "period?",
                "ls": "list[string]?",
                "le": {"type": "list[enum]?", "values": ["x", "y", "z"]},
            }
        },
        "item": {
            "fields": {
                "holder_id": {"ref": "holder", "optional": True},
                "s": "string?",
                "s2": "string?",
                "i": "int?",
                "i2": "int?",
                "f": "float?",
                "f2": "float?",
                "b": "bool?",
                "b2": "bool?",
                "d": "date?",
                "d2": "date?",
                "t": "datetime?",
                "t2": "datetime?",
                "e": {"type": "enum?", "values": ["a", "b", "c"]},
                "e2": {"type": "enum?", "values": ["a", "b", "c"]},
                "p": "period?",
                "p2": "period?",
                "ls": "list[string]?",
                "le": {"type": "list[enum]?", "values": ["x", "y", "z"]},
            }
        },
    }
}

MISSING_TEXT: list[Any] = [ABSENT, None, "", "   "]
MISSING_LIST: list[Any] = [ABSENT, None, [], "", ["", "  "]]

T0 = "2024-04-01T00:00:00+08:00"
T_BEFORE = "2024-03-31T15:59:59Z"  # one second before T0
T_SAME = "2024-03-31T16:00:00Z"  # T0 written in UTC
T_AFTER = "2024-04-01T00:00:01+08:00"

# field → (operands per operator, present values to try)
MATRIX: dict[str, tuple[list[tuple[str, Any]], list[Any]]] = {
    "s": (
        [
            ("eq", "动火"),
            ("ne", "动火"),
            ("in", ["动火", "abc"]),
            ("not_in", ["动火", "abc"]),
            ("contains", "火"),
            ("contains", "动火作业"),
            ("matches", "动火|动焊"),
            ("matches", "^动"),
            ("matches", "作业$"),
        ],
        ["动火", "动火作业", "动焊", "abc", "x动火"],
    ),
    "i": (
        [
            ("eq", 5),
            ("ne", 5),
            ("lt", 5),
            ("lte", 5),
            ("gt", 5),
            ("gte", 5),
            ("between", [3, 5]),
            ("between", [5, 5]),
            ("in", [3, 5]),
            ("not_in", [3, 5]),
        ],
        [2, 3, 4, 5, 6, 0, -1],
    ),
    "f": (
        [
            ("eq", 2.5),
            ("ne", 2.5),
            ("lt", 2.5),
            ("lte", 2.5),
            ("gt", 2.5),
            ("gte", 2),
            ("between", [2.0, 2.5]),
            ("in", [2.0, 2.5]),
            ("not_in", [2.0, 2.5]),
        ],
        [1.5, 2.0, 2.25, 2.5, 3.0, 0.0],
    ),
    "b": ([("eq", True), ("eq", False), ("ne", True), ("ne", False)], [True, False]),
    "d": (
        [
            ("eq", "2024-02-29"),
            ("ne", "2024-02-29"),
            ("lt", "2024-02-29"),
            ("lte", "2024-02-29"),
            ("gt", "2024-02-29"),
            ("gte", "2024-02-29"),
            ("between", ["2024-02-28", "2024-02-29"]),
            ("between", ["2024-02-29", "2024-02-29"]),
        ],
        ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"],
    ),
    "t": (
        [
            ("eq", T0),
            ("ne", T0),
            ("lt", T0),
            ("lte", T0),
            ("gt", T0),
            ("gte", T0),
            ("between", [T0, T_AFTER]),
        ],
        [T_BEFORE, T_SAME, T0, T_AFTER],
    ),
    "e": (
        [("eq", "a"), ("ne", "a"), ("in", ["a", "b"]), ("not_in", ["a", "b"])],
        ["a", "b", "c"],
    ),
    "p": (
        [
            ("eq", "2024-Q2"),
            ("ne", "2024-Q2"),
            ("in", ["2024-Q2", "2024"]),
            ("not_in", ["2024-Q2", "2024"]),
        ],
        ["2024-Q2", "2024-05", "2024-H1", "2024", 2024],
    ),
    "ls": (
        [
            ("contains", "甲"),
            ("contains_any", ["丙", "乙"]),
            ("contains_all", ["甲", "乙"]),
            ("contains_all", ["甲"]),
        ],
        [["甲", "乙"], ["甲乙"], ["丙"], ["乙", "丙", "甲"]],
    ),
    "le": (
        [("contains", "x"), ("contains_any", ["x", "z"]), ("contains_all", ["x", "y"])],
        [["x", "y"], ["z"], ["y"], ["y", "x", "z"]],
    ),
}
for _field, (_ops, _values) in MATRIX.items():
    _ops.extend([("exists", True), ("exists", False)])
    _values.extend(MISSING_LIST if _field in ("ls", "le") else MISSING_TEXT)

# {ref: field} comparisons: (field, op, other field, the values of both to try)
_T = [T_BEFORE, T0, T_AFTER, ABSENT, ""]
REF_MATRIX: list[tuple[str, list[str], str, list[Any], list[Any]]] = [
    ("s", ["eq", "ne", "contains"], "s2", ["甲", "甲乙", ABSENT, " "], ["甲", "乙", ABSENT, ""]),
    ("i", ["eq", "ne", "lt", "lte", "gt", "gte"], "i2", [1, 2, 3, ABSENT], [2, ABSENT, ""]),
    ("f", ["eq", "lt", "gte"], "i2", [1.5, 2.0, ABSENT], [2, ABSENT]),
    ("f", ["ne", "lte", "gt"], "f2", [1.5, 2.0, ABSENT], [2.0, ABSENT, "  "]),
    ("b", ["eq", "ne"], "b2", [True, False, ABSENT], [True, False, ABSENT]),
    (
        "d",
        ["eq", "ne", "lt", "lte", "gt", "gte"],
        "d2",
        ["2024-04-14", "2024-04-15", "2024-04-16", ABSENT],
        ["2024-04-15", ABSENT, ""],
    ),
    ("t", ["eq", "ne", "lt", "lte", "gt", "gte"], "t2", _T, [T_SAME, ABSENT]),
    ("e", ["eq", "ne"], "e2", ["a", "b", ABSENT], ["a", ABSENT]),
    ("e", ["eq", "ne"], "s", ["a", ABSENT], ["a", "b", ABSENT]),  # enum and text compare
    ("p", ["eq", "ne"], "p2", ["2024-Q2", "2024", ABSENT], ["2024-Q2", ABSENT]),
    ("ls", ["contains"], "s", [["甲", "乙"], ["甲乙"], [], ABSENT], ["乙", "甲乙", ABSENT]),
    ("le", ["contains"], "s", [["x", "y"], ["z"], ABSENT], ["x", ABSENT, ""]),
]

# all / any / not / at_least (and several keys in one mapping) over four leaves, on every
# combination of true, false and missing leaf values
L1, L2, L3, L4 = {"i": {"gt": 3}}, {"e": "a"}, {"s": {"exists": True}}, {"b": True}
COMBINED_VALUES: dict[str, list[Any]] = {
    "i": [5, 1, ABSENT],
    "e": ["a", "b", ABSENT],
    "s": ["x", ABSENT],
    "b": [True, False, ABSENT],
}
COMBINED: dict[str, dict[str, Any]] = {
    "all of 2": {"all": [L1, L2]},
    "all of 3": {"all": [L1, L2, L3]},
    "all of 4": {"all": [L1, L2, L3, L4]},
    "two keys": {**L1, **L2},
    "any of 2": {"any": [L1, L2]},
    "any of 4": {"any": [L1, L2, L3, L4]},
    "not all": {"not": {"all": [L1, L2]}},
    "not any": {"not": {"any": [L1, L2, L3]}},
    "not not": {"not": {"not": L2}},
    **{f"at_least {k} of 4": {"at_least": {"n": k, "of": [L1, L2, L3, L4]}} for k in range(5)},
    "nested 1": {"any": [{"all": [L1, L2]}, {"not": L3}]},
    "nested 2": {"all": [{"any": [L1, L4]}, {"not": {"any": [L2, L3]}}]},
}

# The SPEC's own words, as truth values: they pin the reference (and so every evaluator).
# (field, op, operand, value, expected)
SPEC_PINS: list[tuple[str, str, Any, Any, bool]] = [
    ("i", "between", [3, 5], 3, True),  # between is inclusive [lo, hi]
    ("i", "between", [3, 5], 5, True),
    ("i", "between", [3, 5], 2, False),
    ("i", "between", [3, 5], 6, False),
    ("i", "between", [5, 5], 5, True),
    ("d", "between", ["2024-02-28", "2024-02-29"], "2024-02-29", True),
    ("t", "between", [T0, T_AFTER], T_SAME, True),
    ("i", "lt", 5, 5, False),
    ("i", "lte", 5, 5, True),
    ("i", "gt", 5, 5, False),
    ("i", "gte", 5, 5, True),
    ("i", "eq", 5, 5, True),
    ("i", "ne", 5, 5, False),
    ("t", "eq", T0, T_SAME, True),  # datetimes compare as instants
    ("d", "lt", "2024-02-29", "2024-02-28", True),
    ("s", "contains", "火", "动火作业", True),  # text contains a substring
    ("ls", "contains", "甲", ["甲乙"], False),  # a list contains an item, not a substring
    ("ls", "contains", "甲", ["甲", "乙"], True),
    ("ls", "contains_any", ["丙", "乙"], ["甲", "乙"], True),
    ("ls", "contains_all", ["甲", "乙"], ["乙", "丙", "甲"], True),
    ("ls", "contains_all", ["甲", "乙"], ["甲乙"], False),
    ("s", "matches", "动火|动焊", "x动火", True),  # search anywhere
    ("s", "matches", "^动", "x动火", False),
    ("s", "in", ["动火", "abc"], "abc", True),
    ("s", "not_in", ["动火", "abc"], "动焊", True),
    ("p", "eq", "2024-Q2", "2024-05", False),  # a month is not its quarter
    ("p", "in", ["2024-Q2", "2024"], 2024, True),  # an integer year is a period
    ("b", "eq", False, False, True),
    ("b", "eq", False, ABSENT, False),  # missing is not false
    ("s", "ne", "动火", ABSENT, False),  # a missing value makes every operator false …
    ("i", "not_in", [3, 5], None, False),
    ("s", "eq", "动火", "", False),  # … and empty text counts as missing
    ("s", "ne", "动火", "   ", False),
    ("ls", "contains_all", ["甲"], [], False),  # … and so does an empty list
    ("s", "exists", False, "", True),  # … except exists: false
    ("ls", "exists", False, [], True),
    ("ls", "exists", True, ["", "  "], False),
    ("i", "exists", True, 0, True),
]


# -- building the cases ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One condition on one record, with the reference's verdict filled in later."""

    id: str
    cond: dict[str, Any]  # the condition as a rule file writes it
    record: dict[str, Any]  # the item record, as given (raw)
    holder: dict[str, Any] | None = None  # the record `holder.x` reads, when the path does


def _show(v: Any) -> str:
    return "absent" if v is ABSENT else repr(v)


def _put(fields: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    return fields if value is ABSENT else {**fields, name: value}


def _cases() -> list[Case]:
    out: list[Case] = []
    n = 0
    for field, (ops, values) in MATRIX.items():
        for op, operand in ops:
            for value in values:
                for negate in (False, True):
                    for through in (False, True):
                        n += 1
                        path = f"holder.{field}" if through else field
                        leaf = {path: {op: operand}}
                        cond = {"not": leaf} if negate else leaf
                        cid = f"{'not ' if negate else ''}{path} {op} {operand!r} on {_show(value)}"
                        if through:
                            holder = _put({"id": f"H{n}"}, field, value)
                            out.append(
                                Case(cid, cond, {"id": f"X{n}", "holder_id": f"H{n}"}, holder)
                            )
                        else:
                            out.append(Case(cid, cond, _put({"id": f"X{n}"}, field, value)))
    for field, ops, other, mine, theirs in REF_MATRIX:
        for op in ops:
            for v in mine:
                for w in theirs:
                    for negate in (False, True):
                        n += 1
                        leaf = {field: {op: {"ref": other}}}
                        cond = {"not": leaf} if negate else leaf
                        cid = (
                            f"{'not ' if negate else ''}{field} {op} {{ref: {other}}} "
                            f"on {_show(v)}, {_show(w)}"
                        )
                        record = _put(_put({"id": f"X{n}"}, field, v), other, w)
                        out.append(Case(cid, cond, record))
    for name, cond in COMBINED.items():
        for values in itertools.product(*COMBINED_VALUES.values()):
            n += 1
            record = {"id": f"X{n}"}
            for field, value in zip(COMBINED_VALUES, values, strict=True):
                record = _put(record, field, value)
            shown = ", ".join(
                f"{f}={_show(v)}" for f, v in zip(COMBINED_VALUES, values, strict=True)
            )
            out.append(Case(f"{name} on {shown}", cond, record))
    return out


CASES = _cases()


@dataclass
class World:
    """The cases' pack, their typed records, and each evaluator's verdict per case id."""

    packs: PackSet
    facts: FactSet
    rules: dict[str, Criterion]  # case id → its criterion (label = the case id)
    verdicts: dict[str, dict[str, bool]]  # evaluator → case id → truth value
    refused: dict[str, str]  # case id → why durable refuses its condition


def _read(rec: dict[str, Any], idx: Any, text: str) -> Any:
    if "." in text:
        holder = idx["holder"].get(rec.get("holder_id"), {})
        return holder.get(text.split(".")[1])
    return rec.get(text)


def _reference(cond: Condition, rec: dict[str, Any], idx: Any) -> bool:
    """The table's :func:`holds` at the leaves; all/any/not/at_least as SPEC §3.2 says."""
    if isinstance(cond, Leaf):
        value = _read(rec, idx, cond.path.text)
        if isinstance(cond.operand, FieldRef):
            return holds(cond.op, value, _read(rec, idx, cond.operand.path.text))
        return holds(cond.op, value, cond.operand.value)
    if isinstance(cond, NotOf):
        return not _reference(cond.item, rec, idx)
    verdicts = [_reference(c, rec, idx) for c in cond.items]
    if isinstance(cond, AllOf):
        return all(verdicts)
    if isinstance(cond, AnyOf):
        return any(verdicts)
    return sum(verdicts) >= cond.n


def _search(cond: Condition, rec: dict[str, Any], idx: Any) -> bool:
    """The witness search's verdict: does it accept the record's values as making ``cond``
    true? (Its assignment is the record's values, as it would have chosen them.)"""
    asg = {}
    for leaf in leaves(cond):
        asg[path_key(leaf.path)] = _read(rec, idx, leaf.path.text)
        if isinstance(leaf.operand, FieldRef):
            asg[path_key(leaf.operand.path)] = _read(rec, idx, leaf.operand.path.text)
    return any(True for _ in Search(cond)._solve(cond, True, asg))


def _key(cond: dict[str, Any]) -> str:
    return json.dumps(cond, sort_keys=True, ensure_ascii=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root: Path = tmp_path_factory.mktemp("conformance")
    conds: dict[str, int] = {}  # one criterion per distinct condition (label: its index)
    for c in CASES:
        conds.setdefault(_key(c.cond), len(conds))
    docs = [
        rule(f"t.c{i}", "criterion", **{"for": "item", "when": json.loads(k), "label": f"c{i}"})
        for k, i in conds.items()
    ]
    packs = load_packs(write_pack(root, docs, schema=SCHEMA))
    holders = [c.holder for c in CASES if c.holder is not None]
    facts = collect_facts(
        packs.schema, rows_from_mapping({"holder": holders, "item": [c.record for c in CASES]})
    )
    assert facts.rejected == [], facts.rejected[:3]
    idx = facts.records
    criteria = [r for r in packs.rules if isinstance(r, Criterion)]
    assert len(criteria) == len(conds)
    rules = {c.id: criteria[conds[_key(c.cond)]] for c in CASES}
    verdicts: dict[str, dict[str, bool]] = {
        "reference": {},
        "closures": {},
        "search": {},
        "classifier": {},
    }
    classify = compile_classifier(criteria, None)
    records = [idx["item"][c.record["id"]] for c in CASES]
    proven = {rec["id"]: set(m) for rec, m, _ in classify(records, idx, AS_OF)}
    for case, rec in zip(CASES, records, strict=True):
        when = rules[case.id].when
        verdicts["reference"][case.id] = _reference(when, rec, idx)
        verdicts["closures"][case.id] = compile_condition(when)(rec, idx)
        verdicts["search"][case.id] = _search(when, rec, idx)
        verdicts["classifier"][case.id] = conds[_key(case.cond)] in proven.get(rec["id"], ())
    refused: dict[str, str] = {}
    for case in CASES:
        try:
            compile_condition_json(rules[case.id].when)
        except Refused as exc:
            refused[case.id] = str(exc)
    if durable_available():
        verdicts["durable"] = _durable(packs, facts, rules, refused)
    return World(packs, facts, rules, verdicts, refused)


def _durable(
    packs: PackSet, facts: FactSet, rules: dict[str, Criterion], refused: dict[str, str]
) -> dict[str, bool]:
    """durable's verdicts, in chunks of cases (each chunk's records against its rules only:
    durable fires an action per matching pair, and the whole cross product is slow)."""
    out: dict[str, bool] = {}
    # cases of one condition next to each other: a chunk holds few rules
    runnable = sorted((c for c in CASES if c.id not in refused), key=lambda c: rules[c.id].meta.id)
    for start in range(0, len(runnable), 150):
        chunk = runnable[start : start + 150]
        items = {c.record["id"]: facts.records["item"][c.record["id"]] for c in chunk}
        part = FactSet(records={"holder": facts.records["holder"], "item": items})
        with DurableEngine(packs.only({rules[c.id].meta.id for c in chunk})) as engine:
            hits = engine.matches(part)
            constant = {k: v for tp in engine.plan.types for k, v in tp.constant.items()}
        for c in chunk:
            key = (rules[c.id].meta.id, "when")
            out[c.id] = constant[key] if key in constant else c.record["id"] in hits[key]
    return out


# -- the tests -------------------------------------------------------------------------------

EVALUATORS = ["closures", "classifier", "search", "durable"]


def test_the_matrix_covers_every_operator_on_every_type_it_fits(world: World) -> None:
    fields = world.packs.schema.types["item"].fields
    covered: dict[str, set[str]] = {}
    for field, (ops, _) in MATRIX.items():
        for op, _operand in ops:
            covered.setdefault(op, set()).add(category(fields[field]))
    for op, spec in OPERATORS.items():
        got = covered.get(op, set())
        assert got == spec.categories, f"{op}: the matrix covers {sorted(got)}"


@pytest.mark.parametrize(("field", "op", "operand", "value", "expected"), SPEC_PINS)
def test_the_reference_says_what_the_spec_says(
    world: World, field: str, op: str, operand: Any, value: Any, expected: bool
) -> None:
    matching = [
        c
        for c in CASES
        if c.cond == {field: {op: operand}} and c.record.get(field, ABSENT) == value
    ]
    assert matching, f"pin {field} {op} {operand!r} on {_show(value)} is not in the matrix"
    for case in matching:
        assert world.verdicts["reference"][case.id] is expected, case.id


def _op(case: Case) -> str:
    """The case's operator, or "combined" for the cases of COMBINED."""
    if case.cond in COMBINED.values():
        return "combined"
    leaf = case.cond.get("not", case.cond)
    ((ops,),) = (leaf.values(),)
    return str(next(iter(ops)))


@pytest.mark.parametrize("op", [*sorted(OPERATORS), "combined"])
@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_every_evaluator_agrees_with_the_reference(world: World, evaluator: str, op: str) -> None:
    if evaluator not in world.verdicts:
        pytest.skip("durable-rules is not installed")
    reference = world.verdicts["reference"]
    got = world.verdicts[evaluator]
    mine = [c.id for c in CASES if _op(c) == op and c.id in got]
    wrong = [
        f"{cid}: {got[cid]} (reference {reference[cid]})"
        for cid in mine
        if got[cid] != reference[cid]
    ]
    assert not wrong, f"{evaluator} disagrees on {len(wrong)} case(s):\n" + "\n".join(wrong[:40])
    assert len(mine) >= 10


def test_every_case_reaches_every_evaluator(world: World) -> None:
    for evaluator in ("closures", "classifier", "search"):
        assert len(world.verdicts[evaluator]) == len(CASES)
    if "durable" in world.verdicts:
        assert len(world.verdicts["durable"]) + len(world.refused) == len(CASES)


def test_cases_are_many_and_both_ways(world: World) -> None:
    truth = world.verdicts["reference"]
    assert len(CASES) > 1500
    assert 0.25 < sum(truth.values()) / len(truth) < 0.75


def _durable_refuses(case: Case) -> str | None:
    """Why durable cannot express a case's condition (docs/backends.md), or None."""
    if _op(case) == "combined":
        return None
    negated = "not" in case.cond
    ((path, ops),) = (case.cond["not"] if negated else case.cond).items()
    ((op, operand),) = ops.items()
    text = path.split(".")[-1] == "s"
    if isinstance(operand, dict):
        return "text contains {ref: field}" if text and op == "contains" else None
    if text and op in ("contains", "matches") and negated:
        return "no negated regular expression"
    if op == "matches" and operand != "动火|动焊":
        return "only literals and alternations of literals"
    return None


def test_durable_refuses_only_what_it_lists(world: World) -> None:
    """A per-backend skip list with reasons: durable runs every other case (and refuses these
    at compile time with BackendError, never a wrong answer)."""
    expected = {c.id for c in CASES if _durable_refuses(c)}
    assert set(world.refused) == expected
    assert len(expected) < len(CASES) // 20


# -- trend comparisons (compare.op) use the same table ------------------------------------------


@pytest.mark.parametrize("op", COMPARISONS)
def test_trend_comparison_follows_the_table(tmp_path: Path, op: str) -> None:
    assert OPERATORS[op].operand == "scalar" and "number" in OPERATORS[op].categories
    doc = rule(
        "t.trend",
        "trend",
        subject={"type": "enterprise"},
        count={"type": "hazard", "date": "discovered_on"},
        compare={"period": 2025, "to": 2024, "op": op},
    )
    packs = load_packs(write_pack(tmp_path, [doc]))
    enterprises, hazards = [], []
    for sid, (now, before) in {"E1": (1, 2), "E2": (2, 2), "E3": (3, 2), "E4": (0, 0)}.items():
        enterprises.append({"id": sid, "name": sid, "sectors": ["other"], "high_risk": False})
        for k, year in [*((k, 2025) for k in range(now)), *((k + 9, 2024) for k in range(before))]:
            hazards.append(
                {
                    "id": f"{sid}-{year}-{k}",
                    "enterprise_id": sid,
                    "discovered_on": f"{year}-06-0{k % 9 + 1}",
                    "found_by": "other",
                    "level": "general",
                    "description": "—",
                }
            )
    result = evaluate(packs, {"enterprise": enterprises, "hazard": hazards}, date(2026, 1, 2))
    exceeded = {v.subject.id for v in result.violations}
    expected = {
        sid
        for sid, (now, before) in {"E1": (1, 2), "E2": (2, 2), "E3": (3, 2), "E4": (0, 0)}.items()
        if not holds(op, now, before)
    }
    assert exceeded == expected
