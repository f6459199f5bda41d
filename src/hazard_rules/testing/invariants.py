"""A ready-made property suite every rule pack must pass: ``check_invariants(pack)``.

The invariants (names in :data:`INVARIANTS`):

``deterministic``
    the same facts and as_of give the same result, twice over;
``order_independent``
    shuffling the records of every type changes nothing;
``evidence_monotone``
    adding evidence for a ``recurring`` or ``deadline`` rule never adds a ``missing`` or
    ``late`` finding of that rule;
``as_of_monotone``
    moving as_of later never removes a finding about something already due (a missing
    period may turn ``late``, it never disappears — SPEC §3.4.9);
``criteria_decidable``
    every criterion can fire (some record satisfies ``applies`` and ``when``, and the engine
    labels it) and can stay silent (some record it applies to does not satisfy ``when``):
    no dead and no always-true rule;
``json_round_trip``
    a result serialised to JSON parses back to an equal result.

Fact sets are drawn with :func:`~hazard_rules.testing.strategies.fact_sets` over the types
the pack's rules read, biased to the constants of its conditions, and mixed with records
that make its criteria fire, so classifications and ``misclassified`` findings occur too.

Example — in a pack repository's tests::

    from hazard_rules.testing.invariants import check_invariants

    def test_invariants():
        check_invariants("path/to/my-pack", max_examples=30)

or one test per invariant::

    @pytest.mark.parametrize("name", INVARIANTS)
    def test_invariant(name):
        check_invariants("path/to/my-pack", only=[name])
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hazard_rules.api import evaluate
from hazard_rules.ir import AllOf, Condition, Criterion, Deadline, NotOf, Recurring, Rule
from hazard_rules.packs import PackSet, load_packs
from hazard_rules.results import Result, Violation
from hazard_rules.schema import Schema
from hazard_rules.testing.satisfiability import Witness, witnesses
from hazard_rules.testing.strategies import (
    as_of_dates,
    fact_sets,
    records,
    rule_conditions,
)

__all__ = ["INVARIANTS", "InvariantError", "check_invariants", "default_settings"]

INVARIANTS = (
    "deterministic",
    "order_independent",
    "evidence_monotone",
    "as_of_monotone",
    "criteria_decidable",
    "json_round_trip",
)

Facts = dict[str, list[dict[str, Any]]]


class InvariantError(AssertionError):
    """An invariant does not hold; the message names it and shows the shrunk counterexample."""


def default_settings(max_examples: int = 25, **kwargs: Any) -> settings:
    """Hypothesis settings for the suite: no deadline, slow-data health checks off."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
        **kwargs,
    )


def _types_read(packs: PackSet) -> list[str]:
    out: set[str] = set()
    for r in packs.rules:
        if isinstance(r, Criterion) or hasattr(r, "type"):
            out.add(r.type)
        for attr in ("subject", "evidence", "count"):
            spec = getattr(r, attr, None)
            if spec is not None and hasattr(spec, "type"):
                out.add(spec.type)
        for cond in rule_conditions(r):
            from hazard_rules.testing.satisfiability import leaves

            for leaf in leaves(cond):
                out.update(s.target for s in leaf.path.steps)
    return sorted(t for t in out if t in packs.schema.types) or [packs.subject]


def _effective_day(rule: Rule) -> date:
    m = rule.meta
    if m.effective_from is not None:
        return m.effective_from
    if m.effective_until is not None:
        return m.effective_until
    return date(2024, 1, 1)


def _criterion_witness(rule: Criterion, schema: Schema, fire: bool) -> tuple[Witness | None, bool]:
    span = rule.meta.span
    when: Condition = rule.when if fire else NotOf(rule.when, span)
    cond: Condition = AllOf((rule.applies, when), span) if rule.applies else when
    tdef = schema.types[rule.type]
    defaults = {rule.type: {tdef.date_field: _effective_day(rule)}} if tdef.date_field else {}
    found, exhaustive = witnesses(cond, schema, True, limit=1, defaults=defaults)
    return (found[0] if found else None), exhaustive


def _merge(facts: Facts, w: Witness, tag: str, schema: Schema) -> Facts:
    """``facts`` plus the witness's records, their ids prefixed with ``tag``."""
    out = {t: list(rs) for t, rs in facts.items()}
    ids = {(t, r["id"]) for t, rs in w.facts().items() for r in rs}
    for t, rs in w.facts().items():
        for r in rs:
            rec = dict(r)
            rec["id"] = tag + r["id"]
            for f in schema.types[t].fields.values():
                if f.kind == "ref" and (f.ref, rec.get(f.name)) in ids:
                    rec[f.name] = tag + rec[f.name]
            out.setdefault(t, []).append(rec)
    return out


def _key(v: Violation) -> tuple[Any, ...]:
    return (
        v.rule,
        v.subject.type,
        v.subject.id,
        v.record.id if v.record else None,
        v.period,
        v.due,
    )


def _view(result: Result) -> dict[str, Any]:
    data = result.model_dump(mode="json")
    return {
        k: data[k] for k in ("violations", "classifications", "candidates", "unmapped", "counts")
    }


class _Suite:
    def __init__(self, packs: PackSet, backend: str, max_size: int) -> None:
        self.packs = packs
        self.schema = packs.schema
        self.backend = backend
        self.types = _types_read(packs)
        self.criteria = [r for r in packs.rules if isinstance(r, Criterion)]
        self.timed = [r for r in packs.rules if isinstance(r, (Recurring, Deadline))]
        self.fire: list[Witness] = []
        for c in self.criteria:
            w, _ = _criterion_witness(c, self.schema, True)
            if w is not None:
                self.fire.append(w)
        base = fact_sets(self.schema, types=self.types, max_size=max_size, near=packs)
        if self.fire:
            self.facts: st.SearchStrategy[Facts] = st.builds(
                self._with_witnesses, base, st.lists(st.sampled_from(self.fire), max_size=2)
            )
        else:
            self.facts = base
        self.as_of = as_of_dates(near=packs)

    def _with_witnesses(self, facts: Facts, extra: list[Witness]) -> Facts:
        for i, w in enumerate(extra):
            facts = _merge(facts, w, f"X{i}", self.schema)
        return facts

    def run(self, facts: Facts, as_of: date) -> Result:
        return evaluate(self.packs, facts, as_of, backend=self.backend, show_unmapped=True)

    # -- the invariants --------------------------------------------------------------------

    def deterministic(self, s: settings) -> None:
        @s
        @given(facts=self.facts, as_of=self.as_of)
        def deterministic(facts: Facts, as_of: date) -> None:
            first = self.run(facts, as_of).model_dump(mode="json")
            second = self.run(facts, as_of).model_dump(mode="json")
            assert first == second, "two evaluations of the same facts differ"

        deterministic()

    def order_independent(self, s: settings) -> None:
        @s
        @given(facts=self.facts, as_of=self.as_of, rnd=st.randoms(use_true_random=False))
        def order_independent(facts: Facts, as_of: date, rnd: Any) -> None:
            shuffled = {}
            for t in rnd.sample(list(facts), len(facts)):
                shuffled[t] = rnd.sample(facts[t], len(facts[t]))
            a, b = _view(self.run(facts, as_of)), _view(self.run(shuffled, as_of))
            assert a == b, f"the result depends on record order:\n{a}\n!=\n{b}"

        order_independent()

    def evidence_monotone(self, s: settings) -> None:
        if not self.timed:
            return
        schema = self.schema

        @st.composite
        def scenario(draw: st.DrawFn) -> tuple[Facts, date, Rule, list[dict[str, Any]]]:
            facts = draw(self.facts)
            rule = draw(st.sampled_from(self.timed))
            assert isinstance(rule, (Recurring, Deadline))
            etype = rule.evidence.type
            ids = {t: [r["id"] for r in rs] for t, rs in facts.items()}
            tdef = schema.types[etype]
            required = [
                f.ref for f in tdef.fields.values() if f.kind == "ref" and f.ref and not f.optional
            ]
            extra: list[dict[str, Any]] = []
            if all(ids.get(r) for r in required):
                n = draw(st.integers(1, 3))
                for i in range(n):
                    rec = draw(
                        records(schema, etype, refs=ids, ids=st.just(f"NEW{i}"), near=self.packs)
                    )
                    for f in tdef.fields.values():
                        if f.kind == "ref" and f.optional and not ids.get(f.ref or ""):
                            rec[f.name] = None
                    extra.append(rec)
            return facts, draw(self.as_of), rule, extra

        @s
        @given(scenario())
        def evidence_monotone(sc: tuple[Facts, date, Rule, list[dict[str, Any]]]) -> None:
            facts, as_of, rule, extra = sc
            assert isinstance(rule, (Recurring, Deadline))
            more = {t: list(rs) for t, rs in facts.items()}
            more.setdefault(rule.evidence.type, []).extend(extra)

            def bad(result: Result) -> set[tuple[Any, ...]]:
                return {
                    _key(v)
                    for v in result.violations
                    if v.rule == rule.meta.id and v.status in ("missing", "late")
                }

            before, after = bad(self.run(facts, as_of)), bad(self.run(more, as_of))
            added = after - before
            assert not added, (
                f"adding evidence added findings of {rule.meta.id}: {sorted(map(str, added))}"
            )

        evidence_monotone()

    def as_of_monotone(self, s: settings) -> None:
        @s
        @given(facts=self.facts, as_of=self.as_of, later=st.integers(1, 400))
        def as_of_monotone(facts: Facts, as_of: date, later: int) -> None:
            first = self.run(facts, as_of)
            second = self.run(facts, as_of + timedelta(days=later))
            still = {_key(v) for v in second.violations}
            gone = [
                f"{v.rule} {v.subject.id} {v.record.id if v.record else ''} {v.period or ''} "
                f"{v.due or ''} {v.status}"
                for v in first.violations
                if _key(v) not in still
            ]
            assert not gone, (
                f"moving as_of from {as_of} to {as_of + timedelta(days=later)} removed: {gone}"
            )

        as_of_monotone()

    def criteria_decidable(self, s: settings) -> None:
        problems: list[str] = []
        for rule in self.criteria:
            rid = rule.meta.id
            only = self.packs.only({rid})
            for fire in (True, False):
                w, exhaustive = _criterion_witness(rule, self.schema, fire)
                if w is None:
                    what = "can never fire (unsatisfiable)" if fire else "is always true"
                    sure = "" if exhaustive else " (none found within the search budget)"
                    problems.append(f"{rid} {what}{sure}")
                    continue
                day = w.record.get(self.schema.types[rule.type].date_field or "", None)
                as_of = (day if isinstance(day, date) else date(2024, 1, 1)) + timedelta(days=1)
                result = evaluate(only, w.facts(), as_of, backend=self.backend)
                labelled = any(
                    c.rule == rid and c.record.id == w.record["id"] for c in result.classifications
                )
                if result.rejected:
                    problems.append(
                        f"{rid}: the witness record was rejected: {result.rejected[0].reason}"
                    )
                elif labelled is not fire:
                    problems.append(
                        f"{rid}: the engine {'did not label' if fire else 'labelled'} "
                        f"the record {w.record}"
                    )
        assert not problems, "\n".join(problems)

    def json_round_trip(self, s: settings) -> None:
        @s
        @given(facts=self.facts, as_of=self.as_of)
        def json_round_trip(facts: Facts, as_of: date) -> None:
            result = self.run(facts, as_of)
            back = Result.model_validate_json(result.model_dump_json())
            assert back == result, "the result does not survive a JSON round trip"

        json_round_trip()


def check_invariants(
    pack: str | os.PathLike[str] | PackSet,
    *,
    only: Iterable[str] | None = None,
    max_examples: int = 25,
    max_size: int = 3,
    backend: str = "python",
    hypothesis_settings: settings | None = None,
) -> None:
    """Run the invariants (all, or those named in ``only``) against a pack with hypothesis.

    ``pack`` is a bundled pack id, a folder, or a loaded :class:`PackSet`. Raises
    :class:`InvariantError` naming the invariant, with hypothesis's shrunk counterexample
    in the message, at the first invariant that does not hold.
    """
    packs = pack if isinstance(pack, PackSet) else load_packs(pack)
    names: Sequence[str] = list(only) if only is not None else INVARIANTS
    unknown = [n for n in names if n not in INVARIANTS]
    if unknown:
        raise ValueError(f"unknown invariant(s) {unknown}: one of {', '.join(INVARIANTS)}")
    s = hypothesis_settings or default_settings(max_examples)
    suite = _Suite(packs, backend, max_size)
    label = packs.packs[-1].id
    for name in names:
        check: Callable[[settings], None] = getattr(suite, name)
        try:
            check(s)
        except AssertionError as exc:
            notes = "\n".join(getattr(exc, "__notes__", []))
            raise InvariantError(
                f"{label}: invariant {name} does not hold: {exc}\n{notes}"
            ) from exc
