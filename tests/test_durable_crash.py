"""Regression: shapes that crashed durable's C core (and with it the whole process), each run in
a subprocess so that a crash fails its test instead of killing pytest.

The crash found by the differential test (``munmap_chunk(): invalid pointer`` in
``delete_state``) came from two faults together:

* durable walks its alpha network with a fixed stack of 64 nodes per fact; a fact that
  satisfies more than 64 alpha paths of one ruleset (the alternatives of a negated
  ``any``/``at_least`` expanded to disjunctive normal form, or simply a wide ``any``) makes
  ``assert_facts`` fail with error 303 halfway through creating the session — the compiler now
  keeps every ruleset within 60 paths (``MAX_PATHS``);
* the engine then called ``delete_state`` on that half-created session, which frees
  uninitialised pointers — the engine now leaves a session alone when durable's C core failed
  inside a call, refuses further work and only frees its rulesets on close.

A third limit found while at it: a fact with more than 254 properties segfaults in
``assert_facts``; each ruleset is now given only the fields its rules read (``MAX_SLOTS``), and a
single alternative reading more than that is refused at compile time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "durable.engine",
    exc_type=ImportError,  # on Python 3.13 the C module fails with ImportError, not "not found"
    reason="durable-rules is not installed: pip install 'hazard-rules[durable]' (Python < 3.13)",
)

from conftest import ITEM_SCHEMA, rule, write_pack
from hazard_rules import load_packs
from hazard_rules.backends.durable import compile as durable_compile
from hazard_rules.cli import main

HERE = Path(__file__).resolve().parent
AS_OF = "2025-01-01"
ENTERPRISE = {"id": "E0", "name": "a", "sectors": ["metallurgy"], "high_risk": False}

# Evaluates a pack with both backends in a fresh interpreter; prints one JSON line: "agree",
# "differ" or "refused" (a BackendError, with its text). Optional "patch": compile.py limits
# to override first (to reproduce the old compiler's output).
_RUNNER = """
import json, sys, tempfile
from datetime import date
from pathlib import Path
from conftest import write_pack
from hazard_rules import evaluate, load_packs
from hazard_rules.api import load_facts
from hazard_rules.backends.durable import compile as durable_compile
from hazard_rules.errors import BackendError

spec = json.load(sys.stdin)
for name, value in spec.get("patch", {}).items():
    setattr(durable_compile, name, value)
folder = write_pack(Path(tempfile.mkdtemp()), spec["rules"], schema=spec["schema"])
packs = load_packs(folder)
as_of = date.fromisoformat(spec["as_of"])
facts = load_facts(packs, spec["facts"])
assert not facts.rejected, facts.rejected  # every record reaches both backends
want = evaluate(packs, facts, as_of)


def view(result):
    return (
        [v.model_dump(mode="json") for v in result.violations],
        [c.model_dump(mode="json") for c in result.classifications],
    )


try:
    got = evaluate(packs, facts, as_of, backend="durable")
except BackendError as exc:
    print(json.dumps({"outcome": "refused", "error": str(exc)}))
    sys.exit(0)
outcome = "agree" if view(got) == view(want) else "differ"
print(json.dumps({"outcome": outcome, "findings": sum(len(x) for x in view(want))}))
"""


def isolated(code: str, stdin: str = "") -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; a crash (a signal, any nonzero exit) fails the test
    with the child's stderr."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=HERE.parent,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"the subprocess died (exit {proc.returncode}; negative: killed by that signal)\n"
        f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def both_backends(
    rules: list[dict[str, Any]],
    items: list[dict[str, Any]],
    *,
    schema: Any = ITEM_SCHEMA,
    patch: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec = {
        "rules": rules,
        "schema": schema,
        "facts": {"enterprise": [ENTERPRISE], "item": items},
        "as_of": AS_OF,
        "patch": patch or {},
    }
    return isolated(_RUNNER, json.dumps(spec, ensure_ascii=False))


def lint_accepts(tmp_path: Path, rules: list[dict[str, Any]], schema: Any = ITEM_SCHEMA) -> None:
    assert main(["lint", str(write_pack(tmp_path, rules, schema=schema))]) == 0


# -- the minimised crash -----------------------------------------------------------------------


def _wide_any(n: int) -> list[dict[str, Any]]:
    """The smallest pack that crashed: ``any`` of ``n`` comparisons a record satisfies all of
    (65 was the first ``n`` that killed the process)."""
    when = {"any": [{"i": {"ne": k}} for k in range(1, n + 1)]}
    return [rule("t.wide", "criterion", **{"for": "item", "when": when, "label": "major"})]


@pytest.mark.parametrize("n", [64, 65, 256])
def test_wide_any_that_one_record_satisfies_everywhere(tmp_path: Path, n: int) -> None:
    rules = _wide_any(n)
    lint_accepts(tmp_path, rules)
    got = both_backends(rules, [{"id": "I0", "enterprise_id": "E0", "i": 0}])
    assert got == {"outcome": "agree", "findings": 1}


# The example the differential test found (hypothesis database in the brief), as YAML: a
# criterion whose negated any/at_least expands to ~600 alternatives, 24 of them satisfied by
# the one item in one ruleset — and a check beside it.
_FOUND_WHEN = {
    "not": {
        "any": [
            {
                "at_least": {
                    "n": 2,
                    "of": [
                        {"ls": {"contains_any": ["a"]}},
                        {"ls": {"exists": False}},
                        {"s": {"eq": {"ref": "s2"}}},
                        {"s2": {"ne": "a"}},
                    ],
                }
            },
            {"s2": {"eq": "a"}},
            {
                "all": [
                    {"enterprise.high_risk": {"eq": False}},
                    {"enterprise.high_risk": {"eq": False}},
                    {"s": {"eq": {"ref": "s2"}}},
                    {"s": {"eq": {"ref": "s2"}}},
                ]
            },
        ]
    }
}
_FOUND_RULES = [
    rule("t.crit", "criterion", **{"for": "item", "when": _FOUND_WHEN, "label": "major"}),
    rule(
        "t.check",
        "check",
        **{
            "for": "item",
            "where": {
                "all": [
                    {"le": {"contains": "x"}},
                    {"le": {"contains_all": ["x"]}},
                    {"enterprise.high_risk": {"eq": True}},
                    {"enterprise.name": {"contains": "a"}},
                ]
            },
            "require": {
                "not": {
                    "not": {
                        "not": {"all": [{"s": {"exists": False}}, {"le": {"contains_all": ["x"]}}]}
                    }
                }
            },
        },
    ),
]
_FOUND_ITEM = {
    "id": "I0",
    "enterprise_id": "E0",
    "i": 0,
    "i2": 0,
    "f": -1.5,
    "b": False,
    "d": "2024-01-01",
    "dt": "2024-01-01T00:00:00+08:00",
    "e": "a",
    "e2": "a",
    "ls": ["b a"],
}


def test_the_example_the_differential_test_found(tmp_path: Path) -> None:
    lint_accepts(tmp_path, _FOUND_RULES)
    assert both_backends(_FOUND_RULES, [_FOUND_ITEM])["outcome"] == "agree"


def test_the_compiler_keeps_every_ruleset_within_durables_stack(tmp_path: Path) -> None:
    packs = load_packs(write_pack(tmp_path, _FOUND_RULES, schema=ITEM_SCHEMA))
    plan = durable_compile.compile_plan(packs)
    groups = [g for tp in plan.types for g in durable_compile.rulesets(tp.rules)]
    assert len(groups) > 1  # ~600 alternatives do not fit one ruleset
    for group in groups:
        paths = sum(durable_compile.alpha_paths(r.pattern) for r in group)
        assert paths <= durable_compile.MAX_PATHS - 1  # room for the catch-all rule
        assert len(group) <= durable_compile.MAX_RULES - 1


def test_alpha_paths_count_the_disjunctive_normal_form() -> None:
    a, b = {"v0": 1}, {"$neq": {"v1": 2}}
    assert durable_compile.alpha_paths({"$and": [{"tag": "t"}, a]}) == 1
    assert durable_compile.alpha_paths({"$or": [a, b, {"$and": [a, b]}]}) == 3
    pattern = {"$and": [{"tag": "t"}, {"$or": [a, b]}, {"$or": [a, b, a]}]}
    assert durable_compile.alpha_paths(pattern) == 6
    assert durable_compile.pattern_slots(
        {"$and": [{"tag": "t"}, a, {"$neq": {"v2": {"$m": "v3"}}}]}
    ) == {
        "v0",
        "v2",
        "v3",
    }


# -- the lifecycle: a failure inside durable never reaches delete_state ------------------------

_OLD_BUDGET = {"MAX_PATHS": 100_000}  # the compiler before the fix: no limit on alpha paths


def test_a_durable_failure_is_a_backend_error_not_a_crash() -> None:
    """With the old compiler's output durable fails inside assert_facts (error 303); the engine
    reports it and leaves the half-created session alone instead of crashing in delete_state."""
    got = both_backends(
        _wide_any(65), [{"id": "I0", "enterprise_id": "E0", "i": 0}], patch=_OLD_BUDGET
    )
    assert got["outcome"] == "refused"
    assert "durable failed" in got["error"]
    assert "303" in got["error"]


_ENGINE_AFTER_FAILURE = """
import json, sys, tempfile
from datetime import date
from pathlib import Path
from conftest import ITEM_SCHEMA, rule, write_pack
from hazard_rules import load_packs
from hazard_rules.api import load_facts
from hazard_rules.backends.durable import compile as durable_compile
from hazard_rules.backends.durable.engine import DurableEngine
from hazard_rules.errors import BackendError

durable_compile.MAX_PATHS = 100_000
when = {"any": [{"i": {"ne": k}} for k in range(1, 66)]}
rules = [rule("t.wide", "criterion", **{"for": "item", "when": when, "label": "major"})]
packs = load_packs(write_pack(Path(tempfile.mkdtemp()), rules, schema=ITEM_SCHEMA))
ent = {"id": "E0", "name": "a", "sectors": ["metallurgy"], "high_risk": False}
facts = load_facts(packs, {"enterprise": [ent], "item": [{"id": "I0", "enterprise_id": "E0", "i": 0}]})
errors = []
engine = DurableEngine(packs)
for _ in range(2):
    try:
        engine.evaluate(facts, date(2025, 1, 1))
    except BackendError as exc:
        errors.append(str(exc))
engine.close()
print(json.dumps({"errors": errors, "live": engine.live_rulesets}))
"""


def test_an_engine_refuses_work_after_durable_failed_and_still_closes() -> None:
    got = isolated(_ENGINE_AFTER_FAILURE)
    first, second = got["errors"]
    assert "durable failed" in first
    assert "unusable" in second
    assert got["live"] == 0


# -- fact properties: a ruleset is given only the fields it reads -------------------------------

_WIDE_FIELDS = 300
WIDE_SCHEMA = {
    "types": {
        "item": {
            "fields": {
                "enterprise_id": {"ref": "enterprise"},
                **{f"f{k}": "int?" for k in range(_WIDE_FIELDS)},
            }
        }
    }
}


def test_rules_reading_more_fields_than_a_durable_fact_holds(tmp_path: Path) -> None:
    """300 fields read by 300 rules of one type: a fact with all of them (plus id, tag, sid)
    segfaulted in assert_facts; each ruleset now gets only the fields its rules read."""
    rules = [
        rule(f"t.f{k}", "criterion", **{"for": "item", "when": {f"f{k}": {"gt": 0}}, "label": "x"})
        for k in range(_WIDE_FIELDS)
    ]
    lint_accepts(tmp_path, rules, WIDE_SCHEMA)
    items = [
        {"id": "I0", "enterprise_id": "E0", **{f"f{k}": k % 3 for k in range(_WIDE_FIELDS)}},
        {"id": "I1", "enterprise_id": "E0", **{f"f{k}": 1 for k in range(0, _WIDE_FIELDS, 7)}},
    ]
    got = both_backends(rules, items, schema=WIDE_SCHEMA)
    assert got["outcome"] == "agree"
    assert got["findings"] > 200


def test_one_alternative_reading_too_many_fields_is_refused(tmp_path: Path) -> None:
    n = durable_compile.MAX_SLOTS + 1
    when = {"all": [{f"f{k}": {"gte": 0}} for k in range(n)]}
    rules = [rule("t.all", "criterion", **{"for": "item", "when": when, "label": "x"})]
    lint_accepts(tmp_path, rules, WIDE_SCHEMA)
    items = [{"id": "I0", "enterprise_id": "E0", **{f"f{k}": 1 for k in range(_WIDE_FIELDS)}}]
    got = both_backends(rules, items, schema=WIDE_SCHEMA)
    assert got["outcome"] == "refused"
    assert "t.all" in got["error"]
    assert f"reads {n} fields" in got["error"]


# -- many conditions one record satisfies at once ------------------------------------------------

# Random nested any/all/not/at_least over leaves that are (mostly) true for the records, so that
# one fact satisfies as many alternatives as the compiler produces: the old compiler failed or
# crashed on the first few. Deterministic (seeded); prints a JSON summary, exits 2 on a
# disagreement or an undocumented refusal.
_SATURATING = """
import json, random, sys, tempfile
from datetime import date
from pathlib import Path
from conftest import ITEM_SCHEMA, rule, write_pack
from hazard_rules import evaluate, load_packs
from hazard_rules.api import load_facts
from hazard_rules.errors import BackendError

seed, cases = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
TRUE = [
    lambda: {"i": {"ne": rng.randint(1, 50)}},
    lambda: {"i": {"gte": -rng.randint(0, 5)}},
    lambda: {"ls": {"contains": "a"}},
    lambda: {"ls": {"contains_any": ["a", "b"]}},
    lambda: {"s": {"exists": True}},
    lambda: {"s": {"contains": "b"}},
    lambda: {"s": {"matches": "a|b|c"}},
    lambda: {"i2": {"exists": False}},
    lambda: {"e": {"in": ["a", "b"]}},
    lambda: {"s": {"ne": {"ref": "s2"}}},
    lambda: {"le": {"contains_all": ["x"]}},
    lambda: {"f": {"between": [0, 2]}},
]
FALSE = [
    lambda: {"i": {"eq": rng.randint(1, 50)}},
    lambda: {"ls": {"contains": "zz"}},
    lambda: {"i2": {"exists": True}},
]


def tree(depth, want):
    if depth == 0 or rng.random() < 0.25:
        pool = TRUE if want else FALSE
        if rng.random() < 0.1:
            pool = FALSE if want else TRUE
        return rng.choice(pool)()
    k = rng.randint(1, 6)
    kind = rng.choice(["any", "all", "not", "at_least"])
    if kind == "not":
        return {"not": tree(depth - 1, not want)}
    items = [tree(depth - 1, want) for _ in range(k)]
    if kind == "at_least":
        return {"at_least": {"n": rng.randint(1, k), "of": items}}
    return {kind: items}


item = {"id": "I0", "enterprise_id": "E0", "i": 0, "s": "ab", "s2": "x", "ls": ["a", "b a", "a"],
        "e": "a", "le": ["x", "y"], "f": 1.0}
raw = {"enterprise": [{"id": "E0", "name": "a", "sectors": ["metallurgy"], "high_risk": False}],
       "item": [item, {**item, "id": "I1", "i": 3}, {**item, "id": "I2", "ls": []}]}
seen = {"agree": 0, "refused": 0}
for _ in range(cases):
    when = tree(rng.randint(2, 5), True)
    rules = [rule("t.r", "criterion", **{"for": "item", "when": when, "label": "x"})]
    packs = load_packs(write_pack(Path(tempfile.mkdtemp()), rules, schema=ITEM_SCHEMA))
    facts = load_facts(packs, raw)
    want = evaluate(packs, facts, date(2025, 1, 1))
    try:
        got = evaluate(packs, facts, date(2025, 1, 1), backend="durable")
    except BackendError as exc:
        if not any(w in str(exc) for w in ("at_least", "alternatives", "negated regular")):
            print(json.dumps({"undocumented": str(exc), "when": when}))
            sys.exit(2)
        seen["refused"] += 1
        continue
    if got.classifications != want.classifications:
        print(json.dumps({"differ": when}))
        sys.exit(2)
    seen["agree"] += 1
print(json.dumps(seen))
"""


def test_conditions_a_record_satisfies_almost_everywhere() -> None:
    code = "import sys; sys.argv = ['saturating', '7', '100']\n" + _SATURATING
    got = isolated(code)
    assert got["agree"] > 50
