"""Property tests of the acme-hotwork pack, written with hazard_rules.testing.

Run them with ``pytest examples/authoring`` (the pytest plugin also collects the pack's
``*.cases.yaml`` there). Each property states what the company rule *means*, independently
of how the rule file says it, and hypothesis searches for a record where the two disagree.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hazard_rules import evaluate, load_packs
from hazard_rules.testing.invariants import check_invariants
from hazard_rules.testing.strategies import records, satisfying, violating

PACK = Path(__file__).parent / "acme-hotwork"
PACKS = load_packs(PACK)
SCHEMA = PACKS.schema
WELDING = "acme-hotwork.welding-near-flammables"
PERMIT = "acme-hotwork.permit-before-work"
AS_OF = date(2028, 1, 1)  # after every drawn work date: every job exists
ENTERPRISE = {"id": "E1", "name": "甲公司", "high_risk": False, "sectors": ["machinery"]}
CHECKS = settings(max_examples=60, deadline=None)


def judge(hot_work: dict[str, Any]) -> Any:
    """Evaluate one hot-work record of enterprise E1."""
    return evaluate(PACKS, {"enterprise": [ENTERPRISE], "hot_work": [hot_work]}, AS_OF)


def labelled_major(result: Any, rule: str = WELDING) -> bool:
    return any(c.rule == rule and c.label == "major" for c in result.classifications)


# Welding without a fire watch: numbers near the pack's constants (49, 50, 51) come often,
# because `near=PACKS` biases the draw toward the values the conditions compare with.
unwatched_welding = records(
    SCHEMA,
    "hot_work",
    refs={"enterprise": ["E1"]},
    fields={"work_kind": "welding", "fire_watch": False},
    near=PACKS,
)


@CHECKS
@given(hot_work=unwatched_welding)
def test_major_exactly_from_50_kg(hot_work: dict[str, Any]) -> None:
    """第9条: 50 kg *or more* of flammables, welding, no fire watch → major; less → not."""
    kg = hot_work["flammables_kg"]
    assert labelled_major(judge(hot_work)) == (kg is not None and kg >= 50)


@CHECKS
@given(hot_work=records(SCHEMA, "hot_work", refs={"enterprise": ["E1"]}, near=PACKS))
def test_a_fire_watch_is_never_major(hot_work: dict[str, Any]) -> None:
    """With a fire watch, no amount of flammables makes welding a major hazard."""
    hot_work = {**hot_work, "fire_watch": True}
    assert not labelled_major(judge(hot_work))


@CHECKS
@given(w=satisfying(PACKS.rule(WELDING).when, SCHEMA))  # type: ignore[union-attr]
def test_what_the_rule_says_it_labels(w: Any) -> None:
    """Records built from the rule's own `when` (its boundary 50 included) are labelled."""
    result = evaluate(PACKS, w.facts(), AS_OF)
    assert labelled_major(result)


@CHECKS
@given(w=violating(PACKS.rule(WELDING).when, SCHEMA))  # type: ignore[union-attr]
def test_what_the_rule_does_not_say_it_leaves_alone(w: Any) -> None:
    """Records just outside the rule's `when` (49 kg, a fire watch, cutting) are not labelled."""
    assert not labelled_major(evaluate(PACKS, w.facts(), AS_OF))


@CHECKS
@given(
    hot_work=records(SCHEMA, "hot_work", refs={"enterprise": ["E1"]}, near=PACKS),
    days_before=st.integers(0, 30),
)
def test_a_permit_issued_on_or_before_the_day_is_enough(
    hot_work: dict[str, Any], days_before: int
) -> None:
    """第5条: a permit number and a permit issued on the work day or earlier pass the check."""
    from datetime import timedelta

    hot_work = {
        **hot_work,
        "permit_id": "P-1",
        "permit_issued_on": hot_work["work_on"] - timedelta(days=days_before),
    }
    assert not [v for v in judge(hot_work).violations if v.rule == PERMIT]


def test_invariants() -> None:
    """The ready-made suite: determinism, order, monotonicity, decidable criteria, JSON."""
    check_invariants(PACKS, max_examples=20)
