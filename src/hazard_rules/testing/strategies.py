"""Hypothesis strategies for property-testing rule packs.

Every strategy draws *valid* data for a pack's schema, so that a failing property points at
a rule, not at a malformed record:

* :func:`records` — records of one type;
* :func:`fact_sets` — whole fact sets whose references all resolve;
* :func:`satisfying` / :func:`violating` — records that make a condition true / false, derived
  from the condition tree (boundary values of ``lt``/``gte``/``between``, matches of
  ``matches`` drawn with ``from_regex``);
* :func:`periods` and :func:`as_of_dates` — calendar periods and evaluation dates, biased to
  the boundaries where rules change their mind (a period's last day and the day after).

Pass ``near=packs`` to bias numbers and dates toward the constants the pack's conditions
compare with (and one either side): that is where a ``gt`` written for a ``gte`` shows.

Example::

    from hypothesis import given
    from hazard_rules import evaluate, load_packs
    from hazard_rules.testing.strategies import as_of_dates, fact_sets

    packs = load_packs("baoshan-2024")

    @given(facts=fact_sets(packs.schema, types=["enterprise", "inspection"], near=packs),
           as_of=as_of_dates(near=packs))
    def test_never_crashes(facts, as_of):
        evaluate(packs, facts, as_of)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st

from hazard_rules.backends.python import compile_condition
from hazard_rules.engine.compile import rule_conditions as conditions_by_slot
from hazard_rules.ir import (
    Check,
    Condition,
    Const,
    Deadline,
    Recurring,
    Rule,
    Trend,
)
from hazard_rules.packs import PackSet
from hazard_rules.periods import EVERY, Period, period_of
from hazard_rules.schema import FieldDef, Schema
from hazard_rules.testing.satisfiability import (
    Witness,
    candidate_values,
    leaves,
    witnesses,
)

__all__ = [
    "as_of_dates",
    "fact_sets",
    "field_values",
    "periods",
    "records",
    "rule_conditions",
    "satisfying",
    "violating",
]

DEFAULT_START = date(2022, 1, 1)
DEFAULT_END = date(2027, 12, 31)
_TEXT = st.text(
    alphabet=st.sampled_from("abcxyz012 -动火焊接隐患"), min_size=1, max_size=10
).filter(lambda s: bool(s.strip()))

_COUNT = {"month": 12, "quarter": 4, "half_year": 2, "year": 1}

Near = PackSet | Iterable[Condition] | None


def rule_conditions(rule: Rule) -> list[Condition]:
    """Every condition of a rule (``when``, ``applies``, ``where``, ``require`` …), from the
    one list of them (:func:`hazard_rules.engine.compile.rule_conditions`)."""
    return [c for c in conditions_by_slot(rule).values() if c is not None]


def _conditions(near: Near) -> list[Condition]:
    if near is None:
        return []
    if isinstance(near, PackSet):
        return [c for r in near.rules for c in rule_conditions(r)]
    return list(near)


def _near_values(near: Near) -> dict[tuple[str, str], list[Any]]:
    """Candidate values by (type, field) from the conditions' constants and their neighbours."""
    out: dict[tuple[str, str], list[Any]] = {}
    for cond in _conditions(near):
        for (root, steps, name), values in candidate_values(cond).items():
            tname = steps[-1][1] if steps else root
            bucket = out.setdefault((tname, name), [])
            bucket.extend(v for v in values if v is not None and v not in bucket)
    return out


def field_values(
    fdef: FieldDef,
    *,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    near: Sequence[Any] = (),
    ref_ids: Sequence[str] | None = None,
) -> st.SearchStrategy[Any]:
    """Valid values of one field (``None`` included when it is optional).

    ``near`` are values to draw often (boundaries); ``ref_ids`` the ids a reference may take.

    >>> from hazard_rules.schema import FieldDef
    >>> field_values(FieldDef("people", "int"), near=[9, 10]).example() >= 0  # doctest: +SKIP
    True
    """
    kind = fdef.kind
    base: st.SearchStrategy[Any]
    if kind == "int":
        base = st.integers(0, 1000)
    elif kind == "float":
        base = st.floats(0, 1000, allow_nan=False, allow_infinity=False)
    elif kind == "bool":
        base = st.booleans()
    elif kind == "date":
        base = st.dates(start, end)
    elif kind == "datetime":
        base = st.datetimes(datetime.combine(start, time()), datetime.combine(end, time(23, 59)))
    elif kind == "period":
        base = st.builds(period_of, st.dates(start, end), st.sampled_from(EVERY)).map(
            lambda p: p.label
        )
    elif kind == "enum":
        base = st.sampled_from(fdef.values)
    elif kind == "list[enum]":
        base = st.lists(st.sampled_from(fdef.values), min_size=1, max_size=3, unique=True)
    elif kind == "list[string]":
        base = st.lists(_TEXT, min_size=1, max_size=3, unique=True)
    elif kind == "ref":
        base = st.sampled_from(list(ref_ids)) if ref_ids else _TEXT
    else:
        base = _TEXT
    usable = [v for v in near if v is not None and kind != "ref"]
    if usable:
        if kind == "period":
            usable = [v.label if isinstance(v, Period) else v for v in usable]
        if kind in ("list[enum]", "list[string]"):
            usable = [list(v) if isinstance(v, tuple) else v for v in usable]
        base = st.one_of(st.sampled_from(usable), base)
    if fdef.optional:
        return st.one_of(st.none(), base)
    return base


def records(
    schema: Schema,
    type_name: str,
    *,
    refs: Mapping[str, Sequence[str]] | None = None,
    fields: Mapping[str, Any] | None = None,
    ids: st.SearchStrategy[str] | None = None,
    near: Near = None,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid records of ``type_name``: every required field set, optional ones sometimes.

    ``refs`` maps a referenced type to the ids its references may take (without it a
    required reference is any text — valid on its own, dangling in a fact set — and an
    optional one is left empty; use :func:`fact_sets` for consistent sets). ``fields`` fixes fields: a value, or a strategy.
    ``near`` (a pack set or conditions) makes boundary values frequent. Dates fall in
    ``[start, end]``.

    Example::

        @given(hazard=records(packs.schema, "hazard", refs={"enterprise": ["E1"]},
                              fields={"level": "general"}, near=packs))
        def test_general_hazards(hazard):
            assert hazard["level"] == "general" and hazard["enterprise_id"] == "E1"
    """
    tdef = schema.types[type_name]
    nearby = _near_values(near)
    parts: dict[str, st.SearchStrategy[Any]] = {}
    fixed = dict(fields or {})
    for f in tdef.fields.values():
        if f.name in fixed:
            v = fixed[f.name]
            parts[f.name] = v if isinstance(v, st.SearchStrategy) else st.just(v)
        elif f.name == "id":
            parts["id"] = ids if ids is not None else st.integers(1, 999).map(lambda i: f"R{i}")
        elif f.kind == "ref" and f.optional and not (refs or {}).get(f.ref or ""):
            parts[f.name] = st.none()  # nothing to point to: leave the optional reference empty
        else:
            parts[f.name] = field_values(
                f,
                start=start,
                end=end,
                near=nearby.get((type_name, f.name), ()),
                ref_ids=(refs or {}).get(f.ref or "") if f.kind == "ref" else None,
            )
    return st.fixed_dictionaries(parts)


def _prefix(tname: str) -> str:
    return "".join(w[0] for w in tname.split("_")).upper() + tname[1:3].upper()


def _closure(schema: Schema, types: Iterable[str]) -> set[str]:
    """The types and every type their required references point to."""
    out: set[str] = set()
    todo = list(types)
    while todo:
        t = todo.pop()
        if t in out or t not in schema.types:
            continue
        out.add(t)
        todo.extend(
            f.ref
            for f in schema.types[t].fields.values()
            if f.kind == "ref" and f.ref and not f.optional
        )
    return out


def fact_sets(
    schema: Schema,
    *,
    types: Iterable[str] | None = None,
    min_size: int = 0,
    max_size: int = 3,
    near: Near = None,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    fields: Mapping[str, Mapping[str, Any]] | None = None,
) -> st.SearchStrategy[dict[str, list[dict[str, Any]]]]:
    """Fact sets ``{type: [records]}`` in which every reference points to a drawn record.

    ``types`` limits the types drawn (the types their required references point to are
    added); each gets ``min_size``–``max_size`` records with unique ids (``E1``, ``HA1`` …).
    A type referred to by a required reference gets at least one record. ``fields`` fixes
    fields per type (``{"enterprise": {"high_risk": True}}``).

    Example::

        @given(fact_sets(packs.schema, types=["enterprise", "hazard"], near=packs))
        def test_no_rejections(facts):
            assert not evaluate(packs, facts, date(2025, 1, 1)).rejected
    """
    chosen = _closure(schema, types if types is not None else schema.types)
    needed = {
        f.ref
        for t in chosen
        for f in schema.types[t].fields.values()
        if f.kind == "ref" and f.ref and not f.optional
    }
    order = [t for t in schema.order if t in chosen]
    fixed = fields or {}

    @st.composite
    def draw_facts(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        ids: dict[str, list[str]] = {}
        for t in order:
            lo = max(min_size, 1 if t in needed else 0)
            n = draw(st.integers(lo, max(lo, max_size)), label=f"number of {t}")
            required = [
                f.ref
                for f in schema.types[t].fields.values()
                if f.kind == "ref" and f.ref and not f.optional and f.ref != t
            ]
            if any(not ids.get(r) for r in required):
                n = 0
            prefix = _prefix(t)
            recs = []
            for i in range(1, n + 1):
                rec = draw(
                    records(
                        schema,
                        t,
                        refs=ids,
                        fields=fixed.get(t),
                        ids=st.just(f"{prefix}{i}"),
                        near=near,
                        start=start,
                        end=end,
                    )
                )
                for fdef in schema.types[t].fields.values():
                    if fdef.kind == "ref" and fdef.optional and not ids.get(fdef.ref or ""):
                        rec[fdef.name] = None
                recs.append(rec)
            ids[t] = [r["id"] for r in recs]
            if recs:
                out[t] = recs
        return out

    return draw_facts()


def _witness_strategy(
    cond: Condition,
    schema: Schema,
    want: bool,
    start: date,
    end: date,
    defaults: Mapping[str, Mapping[str, Any]] | None,
) -> st.SearchStrategy[Witness]:
    found, _ = witnesses(cond, schema, want, limit=64, defaults=defaults)
    if not found:
        raise ValueError(
            f"no record makes this condition {'true' if want else 'false'}: "
            "it is unsatisfiable" + ("" if want else " — always true")
        )
    regexes: dict[tuple[str, str], list[str]] = {}
    for leaf in leaves(cond):
        if leaf.op == "matches" and not leaf.path.steps and isinstance(leaf.operand, Const):
            regexes.setdefault((leaf.path.root, leaf.path.field.name), []).append(
                leaf.operand.value.pattern
            )
    pred = compile_condition(cond)

    @st.composite
    def draw(d: st.DrawFn) -> Witness:
        w = d(st.sampled_from(found))
        record = dict(w.record)
        assigned = {name for (_, steps, name) in w.assignment if not steps}
        tdef = schema.types[w.type]
        fixed = (defaults or {}).get(w.type, {})
        for f in tdef.fields.values():
            if f.name in assigned or f.name in fixed or f.name == "id" or f.kind == "ref":
                continue
            record[f.name] = d(field_values(f, start=start, end=end), label=f.name)
        for (root, name), patterns in regexes.items():
            if root == w.type and name in assigned and want:
                drawn = d(
                    st.one_of(
                        st.just(record[name]),
                        *(st.from_regex(p, fullmatch=False) for p in patterns),
                    ),
                    label=name,
                )
                record[name] = drawn
        out = Witness(w.type, record, w.related, w.assignment)
        if pred(out.record, out.index()) is not want:
            out = w  # the drawn text broke another constraint: keep the checked witness
        return out

    return draw()


def satisfying(
    condition: Condition,
    schema: Schema,
    *,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> st.SearchStrategy[Witness]:
    """Records that make ``condition`` true, as :class:`Witness` es (record + related records).

    The decisive values come from the condition tree (a ``gte: 50`` gives 50, a
    ``between: [a, b]`` gives a and b, a ``matches`` gives texts drawn with
    ``from_regex(pattern, fullmatch=False)``); the judged record's other fields are drawn at
    random. ``defaults`` fixes fields per type where the condition leaves them free
    (e.g. a date inside the rule's effective span). Raises ``ValueError`` at once when the
    condition is unsatisfiable.

    Example::

        rule = packs.rule("acme-hotwork.welding-near-flammables")
        @given(satisfying(rule.when, packs.schema))
        def test_every_satisfying_record_is_labelled(w):
            result = evaluate(packs, w.facts(), date(2025, 1, 1))
            assert any(c.record.id == w.record["id"] for c in result.classifications)
    """
    return _witness_strategy(condition, schema, True, start, end, defaults)


def violating(
    condition: Condition,
    schema: Schema,
    *,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> st.SearchStrategy[Witness]:
    """Records that make ``condition`` false (just below a ``gte``, outside a ``between`` …).

    Same shape and parameters as :func:`satisfying`; raises ``ValueError`` when the condition
    is always true.

    Example::

        @given(violating(rule.when, packs.schema))
        def test_no_other_record_is_labelled(w):
            result = evaluate(packs, w.facts(), date(2025, 1, 1))
            assert not result.classifications
    """
    return _witness_strategy(condition, schema, False, start, end, defaults)


def periods(
    every: str | None = None, *, min_year: int = 2022, max_year: int = 2027
) -> st.SearchStrategy[Period]:
    """Calendar periods of kind ``every`` (``month``, ``quarter``, ``half_year``, ``year``;
    any kind when None) between ``min_year`` and ``max_year``.

    Example::

        @given(periods("quarter"))
        def test_quarter_has_three_months(p):
            assert (p.end.month - p.start.month) == 2
    """
    kinds = [every] if every is not None else list(EVERY)
    for k in kinds:
        if k not in _COUNT:
            raise ValueError(f"unknown period kind {k!r}: one of {', '.join(EVERY)}")
    return st.sampled_from(kinds).flatmap(
        lambda k: st.builds(
            Period, st.just(k), st.integers(min_year, max_year), st.integers(1, _COUNT[k])
        )
    )


def _rule_dates(packs: PackSet) -> list[date]:
    out: list[date] = []
    for r in packs.rules:
        m = r.meta
        out.extend(d for d in (m.effective_from, m.effective_until) if d is not None)
        if isinstance(r, Deadline):
            out.append(r.due)
        if isinstance(r, Recurring):
            out.extend(d for d in (r.window_from, r.window_until) if d is not None)
        if isinstance(r, Check) and r.due is not None and r.due.date is not None:
            out.append(r.due.date)
        if isinstance(r, Trend):
            out.extend([r.period.end, r.to.end])
    return out


def as_of_dates(
    *,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    near: PackSet | Iterable[date] | None = None,
) -> st.SearchStrategy[date]:
    """Evaluation dates in ``[start, end]``, often a period's last day or the day after it
    (where a period falls due), and, with ``near``, the dates a pack's rules name (due dates,
    windows, effective spans) and the days either side.

    Example::

        @given(as_of=as_of_dates(near=packs))
        def test_as_of(as_of):
            evaluate(packs, facts, as_of)
    """
    special: list[date] = []
    if near is not None:
        days = _rule_dates(near) if isinstance(near, PackSet) else list(near)
        for d in days:
            special.extend(d + timedelta(days=k) for k in (-1, 0, 1))
    special = sorted({d for d in special if start <= d <= end})
    ends = st.builds(
        lambda d, every, after: period_of(d, every).end + timedelta(days=after),
        st.dates(start, end),
        st.sampled_from(EVERY),
        st.sampled_from((0, 1)),
    ).filter(lambda d: start <= d <= end)
    parts: list[st.SearchStrategy[date]] = [st.dates(start, end), ends]
    if special:
        parts.insert(0, st.sampled_from(special))
    return st.one_of(*parts)
