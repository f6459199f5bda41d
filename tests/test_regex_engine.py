"""Rule patterns run on RE2: a catastrophic pattern (for a backtracking engine) matches in
linear time through every path that matches — criteria, checks, hints, explain. The guard
below detects a hang; it is not a performance test."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import rule
from hazard_rules import evaluate
from hazard_rules.regex import Regex, compile_regex, pattern_set

EVIL = ["^(a+)+$", "(a|aa)+$", "^(a|a?)+$", "(.*a){12}"]
TEXT = "a" * 41 + "!"


def _guard(started: float) -> None:
    assert time.monotonic() - started < 5, "a pattern took seconds: matching is not linear"


@pytest.mark.parametrize("pattern", EVIL)
def test_catastrophic_patterns_are_linear(pattern: str) -> None:
    started = time.monotonic()
    r = compile_regex(pattern)
    for _ in range(100):
        r.search(TEXT * 20)
    _guard(started)


@pytest.mark.parametrize("pattern", EVIL)
def test_through_criteria_checks_hints_and_explain(load: Any, pattern: str) -> None:
    crit = rule(
        "t.c",
        "criterion",
        **{"for": "hazard"},
        when={"description": {"matches": pattern}},
        label="major",
        hints=[pattern],
    )
    chk = rule("t.k", "check", **{"for": "hazard"}, require={"description": {"matches": pattern}})
    packs = load([crit, chk])
    facts = {
        "enterprise": [{"id": "E1", "name": "甲", "sectors": "commerce", "high_risk": "否"}],
        "hazard": [
            {"id": f"H{i}", "enterprise_id": "E1", "discovered_on": "2024-05-01",
             "found_by": "自查", "level": "一般", "description": TEXT}
            for i in range(200)
        ],
    }  # fmt: skip
    started = time.monotonic()
    result = evaluate(packs, facts, date(2025, 1, 1), explain=True)
    _guard(started)
    assert result.counts.read == 201


def test_regex_objects_compare_hash_and_pickle_by_pattern() -> None:
    import pickle

    a, b = compile_regex("动火|动焊"), compile_regex("动火|动焊")
    assert a == b and hash(a) == hash(b) and a is not b
    assert pickle.loads(pickle.dumps(a)) == a
    assert pattern_set(["动火", "焊"]).search("电焊") is not None
    assert isinstance(a, Regex) and a.search("现场动焊") is not None


def _bundled_patterns() -> list[str]:
    from hazard_rules import load_packs
    from hazard_rules.ir import Criterion, Leaf
    from hazard_rules.regex import Regex

    found: set[str] = set()

    def walk(cond: Any) -> None:
        if cond is None:
            return
        if isinstance(cond, Leaf):
            if isinstance(getattr(cond.operand, "value", None), Regex):
                found.add(cond.operand.value.pattern)
            return
        for c in getattr(cond, "items", ()) or ([cond.item] if hasattr(cond, "item") else []):
            walk(c)

    for r in load_packs().rules:
        if isinstance(r, Criterion):
            found.update(r.hints)
            walk(r.when)
            walk(r.applies)
    return sorted(found)


BUNDLED = _bundled_patterns()


def test_the_bundled_patterns_are_found() -> None:
    assert len(BUNDLED) > 100


@given(data=st.data())
@settings(max_examples=300, deadline=None)
def test_both_engines_agree_on_the_bundled_patterns(data: Any) -> None:
    """Python's engine (short texts) and RE2 (the rest) give the same answer."""
    import re

    import re2

    from hazard_rules.testing.values import regex_example

    pattern = data.draw(st.sampled_from(BUNDLED))
    example = regex_example(pattern) or ""
    noise = data.draw(st.text(alphabet="动火焊氨气体报警１２3 \nab.-", max_size=30))
    cut = data.draw(st.integers(0, len(example)))
    text = data.draw(st.sampled_from([example, noise + example, example[:cut] + noise, noise]))
    py = re.compile(pattern, re.ASCII).search(text) is not None
    opts = re2.Options()
    opts.log_errors = False
    rr = re2.compile(pattern, opts).search(text) is not None
    assert py == rr, (pattern, text)
    r = compile_regex(pattern)
    assert (r.search(text) is not None) == rr
