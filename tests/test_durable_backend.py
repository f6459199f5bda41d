"""The durable-rules backend: bundled cases under both backends, the adapter's lifecycle
(no leaked rulesets, no threads, two engines at once), refusals and the install hint."""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings

pytest.importorskip(
    "durable.engine",
    exc_type=ImportError,  # on Python 3.13 the C module fails with ImportError, not "not found"
    reason="durable-rules is not installed: pip install 'hazard-rules[durable]' (Python < 3.13)",
)

from conftest import ITEM_SCHEMA, live_rulesets, rule
from hazard_rules import evaluate, load_packs
from hazard_rules.api import load_facts
from hazard_rules.backends.durable import engine as backend
from hazard_rules.errors import BackendError, BackendUnavailableError
from hazard_rules.testing.cases import iter_cases, run_case
from hazard_rules.testing.runner import available_backends
from hazard_rules.testing.strategies import as_of_dates, fact_sets

pytestmark = pytest.mark.usefixtures("track_durable_engines")

HERE = Path(__file__).resolve().parent
BUNDLED = ("baoshan-2024", "gm-2023", "chem-2017")


def _skips() -> dict[str, str]:
    doc = yaml.safe_load((HERE / "durable_skips.yaml").read_text(encoding="utf-8")) or {}
    return {str(s["case"]): str(s["reason"]) for s in doc.get("skips") or []}


SKIPS = _skips()
CASES = [(packs, case) for pack in BUNDLED for packs, case in iter_cases(pack)]


def test_durable_is_available() -> None:
    assert backend.durable_available()
    assert "durable" in available_backends()


@pytest.mark.parametrize("backend_name", ["python", "durable"])
def test_every_bundled_case(backend_name: str) -> None:
    failures = []
    ran = 0
    for packs, case in CASES:
        if backend_name == "durable" and case.id in SKIPS:
            continue
        outcome = run_case(case, packs, backend_name)
        ran += 1
        if not outcome.ok:
            failures.append(outcome.report())
    assert ran > 100
    assert not failures, "\n".join(failures[:10])


def test_skip_list_names_real_cases() -> None:
    ids = {case.id for _, case in CASES}
    for case_id, reason in SKIPS.items():
        assert case_id in ids, f"durable_skips.yaml lists an unknown case {case_id}"
        assert reason.strip()


def test_engines_say_who_judged() -> None:
    packs = load_packs("baoshan-2024")
    result = evaluate(packs, {}, date(2025, 1, 15), backend="durable")
    kinds = {r.meta.id: r.meta.kind for r in packs.rules}
    assert set(result.engines) == set(kinds)
    for rid, engine in result.engines.items():
        # every bundled deadline and recurring rule needs at least one per period: durable
        want = "python" if kinds[rid] == "trend" else "durable"
        assert engine == want, rid
    assert result.engines["baoshan-2024.leader-inspection"] == "durable"
    assert result.engines["baoshan-2024.evacuation-drill"] == "durable"


def test_at_least_more_than_one_stays_on_python() -> None:
    packs = load_packs("baoshan-2024")
    rules = tuple(
        dataclasses.replace(r, at_least=2)
        if r.meta.id in ("baoshan-2024.leader-inspection", "baoshan-2024.risk-assessment-report")
        else r
        for r in packs.rules
    )
    packs = dataclasses.replace(packs, rules=rules)
    facts = {
        "enterprise": [{"id": "E1", "name": "甲", "high_risk": False, "sectors": ["construction"]}],
        "inspection": [
            {"id": "I1", "enterprise_id": "E1", "led_by": "principal", "held_on": "2024-05-02"},
            {"id": "I2", "enterprise_id": "E1", "led_by": "principal", "held_on": "2024-06-02"},
            {"id": "I3", "enterprise_id": "E1", "led_by": "principal", "held_on": "2024-08-02"},
        ],
    }
    as_of = date(2025, 1, 15)
    got = evaluate(packs, facts, as_of, backend="durable")
    assert got.engines["baoshan-2024.leader-inspection"] == "python"
    assert got.engines["baoshan-2024.risk-assessment-report"] == "python"
    assert got.engines["baoshan-2024.evacuation-drill"] == "durable"
    want = evaluate(packs, facts, as_of)
    # Q2 has two, Q3 one, Q4 none: at least 2 per quarter → Q3 and Q4 missing
    assert [
        (v.period, v.status) for v in want.violations if v.rule == "baoshan-2024.leader-inspection"
    ] == [("2024-Q3", "missing"), ("2024-Q4", "missing")]
    assert [v.model_dump() for v in got.violations] == [v.model_dump() for v in want.violations]
    assert live_rulesets() == 0


BAOSHAN = load_packs("baoshan-2024")
DIFF_EXAMPLES = int(os.environ.get("DURABLE_DIFF_EXAMPLES", 300 if os.environ.get("CI") else 100))


@settings(
    max_examples=DIFF_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    facts=fact_sets(BAOSHAN.schema, near=BAOSHAN, max_size=6),
    as_of=as_of_dates(near=BAOSHAN),
)
def test_baoshan_time_rules_agree_with_python(facts: dict[str, Any], as_of: date) -> None:
    """Generated baoshan fact sets: the durable backend (deadline/recurring through none())
    gives exactly the Python evaluator's result."""
    want = evaluate(BAOSHAN, facts, as_of)
    got = evaluate(BAOSHAN, facts, as_of, backend="durable")
    timed = {v.status for v in want.violations if v.kind in ("recurring", "deadline")}
    event(f"time findings: {sorted(timed) or 'none'}")
    assert [v.model_dump() for v in got.violations] == [v.model_dump() for v in want.violations]
    assert [c.model_dump() for c in got.classifications] == [
        c.model_dump() for c in want.classifications
    ]
    assert got.counts == want.counts
    assert live_rulesets() == 0


def test_twice_in_one_process_identical_and_nothing_leaked() -> None:
    packs = load_packs("gm-2023")
    _, case = next((p, c) for p, c in CASES if c.pack == "gm-2023")
    facts = load_facts(packs, case.facts)
    threads = threading.active_count()
    first = evaluate(packs, facts, case.as_of, backend="durable")
    second = evaluate(packs, facts, case.as_of, backend="durable")
    assert first == second
    assert first.violations == evaluate(packs, facts, case.as_of).violations
    assert live_rulesets() == 0
    assert threading.active_count() == threads  # the Host's timer threads are disabled


def test_two_engines_at_once() -> None:
    packs = load_packs("gm-2023")
    results = []
    for packs_i, case in CASES[:40]:
        facts = load_facts(packs_i, case.facts)
        with backend.DurableEngine(packs_i) as a, backend.DurableEngine(packs_i) as b:
            assert live_rulesets() >= 2
            ra = a.evaluate(facts, case.as_of)
            rb = b.evaluate(facts, case.as_of)
            results.append((ra, rb))
    assert all(ra == rb for ra, rb in results)
    assert live_rulesets() == 0
    assert packs.rules


def test_closed_engine_refuses() -> None:
    packs = load_packs("gm-2023")
    engine = backend.DurableEngine(packs)
    engine.close()
    engine.close()  # idempotent
    with pytest.raises(BackendError, match="closed"):
        engine.evaluate(load_facts(packs, {}), date(2025, 1, 1))


def _item_pack(load: Any, when: Any) -> Any:
    return load(
        [rule("t.r1", "criterion", **{"for": "item", "when": when, "label": "major"})],
        schema=ITEM_SCHEMA,
    )


@pytest.mark.parametrize(
    ("when", "construct"),
    [
        ({"not": {"s": {"matches": "ab"}}}, "negated regular expression"),
        ({"not": {"s": {"contains": "ab"}}}, "negated regular expression"),
        ({"s": {"matches": "^a.c$"}}, "dialect"),
        ({"s": {"matches": "a\\d"}}, "dialect"),
        (
            {"at_least": {"n": 5, "of": [{"i": {"gt": k}} for k in range(10)]}},
            "at_least 5 of 10",
        ),
    ],
)
def test_refused_at_compile_time(load: Any, when: Any, construct: str) -> None:
    packs = _item_pack(load, when)
    with pytest.raises(BackendError) as info:
        evaluate(packs, {}, date(2025, 1, 1), backend="durable")
    assert "t.r1" in str(info.value)
    assert construct in str(info.value)
    assert live_rulesets() == 0


def test_large_in_list_and_wide_any_are_split(load: Any) -> None:
    values = [f"v{k}" for k in range(700)]
    when = {"any": [{"s": {"in": values}}, *({"i": {"eq": k}} for k in range(30))]}
    packs = _item_pack(load, when)
    facts = {
        "enterprise": [{"id": "E1", "name": "甲", "sectors": ["other"], "high_risk": False}],
        "item": [
            {"id": "A", "enterprise_id": "E1", "s": "v699"},
            {"id": "B", "enterprise_id": "E1", "i": 29},
            {"id": "C", "enterprise_id": "E1", "s": "w", "i": 31},
        ],
    }
    plan = backend.compile_plan(packs)
    assert sum(len(tp.rules) for tp in plan.types) > 1
    got = evaluate(packs, facts, date(2025, 1, 1), backend="durable")
    want = evaluate(packs, facts, date(2025, 1, 1))
    assert got.classifications == want.classifications
    assert {c.record.id for c in got.classifications} == {"A", "B"}


def test_regex_literals_are_escaped(load: Any) -> None:
    packs = _item_pack(
        load,
        {"any": [{"s": {"matches": "动火|5%"}}, {"s": {"contains": "a.b*(c)"}}]},
    )
    texts = ["现场动火", "5%", "a.b*(c)", "axb*(c)", "50", "a.bb(c)", "line\n动火\nx"]
    facts = {
        "enterprise": [{"id": "E1", "name": "甲", "sectors": ["other"], "high_risk": False}],
        "item": [{"id": f"I{k}", "enterprise_id": "E1", "s": t} for k, t in enumerate(texts)],
    }
    got = evaluate(packs, facts, date(2025, 1, 1), backend="durable")
    want = evaluate(packs, facts, date(2025, 1, 1))
    assert got.classifications == want.classifications
    assert {c.record.id for c in got.classifications} == {"I0", "I1", "I2", "I6"}


class _Exploding(set[int]):
    def add(self, item: int) -> None:
        raise RuntimeError("boom")


class _BoomEngine(backend.DurableEngine):
    """Its actions fail: durable would swallow that into state['exception']."""

    def _action(self, keys: tuple[tuple[str, str], ...]) -> Any:
        for key in keys:
            self._hits[key] = _Exploding()
        return super()._action(keys)


def test_action_exceptions_are_surfaced() -> None:
    packs_i, case = next((p, c) for p, c in CASES if c.pack == "gm-2023" and c.expect)
    facts = load_facts(packs_i, case.facts)
    with _BoomEngine(packs_i) as engine, pytest.raises(BackendError, match="boom"):
        engine.evaluate(facts, case.as_of)
    assert live_rulesets() == 0


def test_unavailable_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)
    assert not backend.durable_available()
    packs = load_packs("gm-2023")
    with pytest.raises(BackendUnavailableError) as info:
        evaluate(packs, {}, date(2025, 1, 1), backend="durable")
    text = str(info.value)
    assert "pip install 'hazard-rules[durable]'" in text
    assert re.search(r"Python < 3\.13", text)


def test_engines_are_listed_in_the_same_order_in_every_process() -> None:
    """`engines` is output: its order must not follow a set's (which changes with the hash
    seed from one process to the next)."""
    import subprocess

    code = (
        "import json; from datetime import date; from hazard_rules import load_packs, evaluate; "
        "p = load_packs('baoshan-2024'); "
        "print(json.dumps(list(evaluate(p, {}, date(2025, 1, 1), backend='durable').engines)))"
    )
    orders = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2, 3)
    }
    assert len(orders) == 1
