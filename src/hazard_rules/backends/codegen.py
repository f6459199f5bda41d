"""Criteria compiled to straight-line Python: one function per record type that runs every
criterion of that type over one record — the shape of a hand-written classifier.

Safety: the generated source is built only from this module's own templates and generated
names (``_k0``, ``_c1``, ``_v2`` …). Every field name and every literal from a rule file is
bound as a constant in the function's namespace, never spliced into the source, so no text
from a rule file or a record can become code; ``tests/test_codegen.py`` proves a hostile
rule string stays inert. Each comparison is spliced from the operator table's expression
(:attr:`hazard_rules.operators.Operator.inline`), the closures of
:mod:`hazard_rules.backends.python` call the same table's functions, and
``tests/test_operator_conformance.py`` holds both equal to :func:`hazard_rules.operators.holds`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from hazard_rules.backends.python import Index
from hazard_rules.ir import (
    AllOf,
    AnyOf,
    AtLeast,
    Condition,
    Const,
    Criterion,
    FieldRef,
    Leaf,
    NotOf,
)
from hazard_rules.operators import OPERATORS, prepare
from hazard_rules.periods import date_of
from hazard_rules.regex import pattern_set

__all__ = ["Classifier", "compile_classifier"]

# classifier(records, index, as_of) -> [(record, criteria proven, hint candidates)] for the
# records, existing on as_of, that some criterion proves or some hint points at
Classified = list[tuple[Mapping[str, Any], list[int], list[int]]]
Classifier = Callable[[Iterable[Mapping[str, Any]], Index, date], Classified]
_EMPTY: Mapping[str, Any] = {}


class _Gen:
    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"_EMPTY": _EMPTY, "_local": date_of}
        self.consts: dict[Any, str] = {}
        self.keys: dict[str, str] = {}
        self.chains: dict[tuple[str, ...], str] = {}
        self.prelude: list[str] = []
        self.setup: list[str] = []  # once per call, before the loop over records
        self.tables: dict[str, str] = {}
        self.hoisted: dict[str, str] = {}
        self.n = 0

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"_{prefix}{self.n}"

    def const(self, value: Any) -> str:
        try:  # equal values share one constant, so equal conditions read as equal source
            key: Any = (type(value), value)
            hash(key)
        except TypeError:
            key = id(value)
        if key not in self.consts:
            nm = self.name("c")
            self.ns[nm] = value
            self.consts[key] = nm
        return self.consts[key]

    def key(self, field: str) -> str:
        if field not in self.keys:
            nm = self.name("k")
            self.ns[nm] = field
            self.keys[field] = nm
        return self.keys[field]

    def table(self, tname: str) -> str:
        if tname not in self.tables:
            nm = self.name("t")
            self.tables[tname] = nm
            self.setup.append(f"{nm} = idx.get({self.const(tname)}, _EMPTY)")
        return self.tables[tname]

    def record_of(self, steps: Sequence[tuple[str, str]]) -> str:
        """The variable holding the record reached through ``steps`` (``_EMPTY`` if none)."""
        if not steps:
            return "rec"
        chain = tuple(f"{f}>{t}" for f, t in steps)
        if chain not in self.chains:
            parent = self.record_of(steps[:-1])
            field, target = steps[-1]
            nm = self.name("r")
            self.prelude.append(
                f"{nm} = {self.table(target)}.get({parent}.get({self.key(field)}), _EMPTY)"
            )
            self.chains[chain] = nm
        return self.chains[chain]

    def value(self, leaf_path: Any) -> str:
        holder = self.record_of([(s.field, s.target) for s in leaf_path.steps])
        read = f"{holder}.get({self.key(leaf_path.field.name)})"
        if holder == "rec":
            return read
        # a field of a referenced record (enterprise.sectors) is read once per record:
        # every criterion scoped by it shares the local
        if read not in self.hoisted:
            nm = self.name("e")
            self.prelude.append(f"{nm} = {read}")
            self.hoisted[read] = nm
        return self.hoisted[read]

    def cond(self, c: Condition) -> str:
        if isinstance(c, Leaf):
            return self.leaf(c)
        if isinstance(c, AllOf):
            return "(" + " and ".join(self.cond(x) for x in c.items) + ")" if c.items else "True"
        if isinstance(c, AnyOf):
            return "(" + " or ".join(self.cond(x) for x in c.items) + ")" if c.items else "False"
        if isinstance(c, NotOf):
            return f"(not {self.cond(c.item)})"
        if isinstance(c, AtLeast):
            return "((" + ") + (".join(self.cond(x) for x in c.items) + f") >= {int(c.n)})"
        raise TypeError(f"not a condition: {c!r}")  # pragma: no cover

    def leaf(self, leaf: Leaf) -> str:
        """One comparison, spliced from the operator table's :attr:`~Operator.inline` form."""
        spec = OPERATORS[leaf.op]
        get = self.value(leaf.path)
        if leaf.op == "exists":  # the one operator that a missing value can satisfy
            assert isinstance(leaf.operand, Const)  # exists takes true or false, never a field
            return f"({spec.expression(get, repr(bool(leaf.operand.value)))})"
        v = self.name("v")
        if isinstance(leaf.operand, FieldRef):
            w = self.name("w")
            other = self.value(leaf.operand.path)
            test = spec.expression(v, w)
            return f"(({v} := {get}) is not None and ({w} := {other}) is not None and {test})"
        assert isinstance(leaf.operand, Const)  # computed operands are for checks only
        c = self.const(prepare(leaf.op, leaf.operand.value))
        if spec.none_false:  # a literal is never None: the test itself is false on None
            return f"({spec.expression(get, c)})"
        return f"(({v} := {get}) is not None and {spec.expression(v, c)})"


def compile_classifier(
    criteria: Sequence[Criterion], date_field: str | None, *, date_is_datetime: bool = False
) -> Classifier:
    """One function judging every criterion of ``criteria`` (all of one record type) over a
    batch of records: the loop is inside, as in a hand-written classifier."""
    g = _Gen()
    head: list[str] = []  # before the reads through references: the cheapest test first
    body: list[str] = []
    if date_field is not None:
        read = f"rec.get({g.key(date_field)})"
        head.append(f"_d = _local({read})" if date_is_datetime else f"_d = {read}")
        head.append("if _d is not None and _d > as_of:")
        head.append("    continue  # dated after as_of: the record does not exist yet")
    # The hint text is read once per record, and one combined pattern tells whether any
    # hint can match at all: most records then skip every per-rule hint search.
    hint_vars: dict[str, tuple[str, str]] = {}
    for hf in dict.fromkeys(r.hint_field for r in criteria if r.hints and r.hint_field):
        assert hf is not None
        every = [h for r in criteria if r.hint_field == hf for h in r.hints]
        combined = pattern_set(every)
        text, flag = g.name("x"), g.name("h")
        body.append(f"{text} = rec.get({g.key(hf)})")
        body.append(
            f"{flag} = {text} is not None and {g.const(combined)}.search({text}) is not None"
        )
        hint_vars[hf] = (text, flag)
    # Criteria sharing their scope (effective span and `applies`) are judged under one test:
    # a record outside a sector skips all of that sector's items at the cost of one check.
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, rule in enumerate(criteria):
        m = rule.meta
        groups.setdefault((m.effective_from, m.effective_until, rule.applies), []).append(i)
    guarded: list[tuple[list[str], list[int]]] = []
    for (eff_from, eff_until, applies), members in groups.items():
        guards = []
        if date_field is not None and eff_from is not None:
            guards.append(f"(_d is None or _d >= {g.const(eff_from)})")
        if date_field is not None and eff_until is not None:
            guards.append(f"(_d is None or _d <= {g.const(eff_until)})")
        if isinstance(applies, AllOf):
            guards.extend(g.cond(x) for x in applies.items)
        elif applies is not None:
            guards.append(g.cond(applies))
        guarded.append((guards, members))
    # A test every group shares (the standard's in-force date, "not another standard's
    # domain") is made once: a record failing it skips the whole type's criteria.
    common = [t for t in guarded[0][0] if all(t in gs for gs, _ in guarded)] if guarded else []
    if common:
        body.append(f"if not ({' and '.join(common)}):")
        body.append("    continue")
    for guards, members in guarded:
        own = [t for t in guards if t not in common]
        indent = ""
        if own:
            body.append(f"if {' and '.join(own)}:")
            indent = "    "
        for i in members:
            rule = criteria[i]
            body.append(f"{indent}if {g.cond(rule.when)}:")
            body.append(f"{indent}    add({i})")
            if rule.hints and rule.hint_field:
                text, any_hint = hint_vars[rule.hint_field]
                pattern = pattern_set(rule.hints)
                body.append(f"{indent}elif {any_hint} and {g.const(pattern)}.search({text}):")
                body.append(f"{indent}    c.append({i})")
    lines = ["def classify(records, idx, as_of):", "    out = []", "    push = out.append"]
    lines += ["    " + t for t in g.setup]
    lines += ["    m = []", "    c = []", "    add = m.append", "    for rec in records:"]
    lines += ["        " + h for h in head]
    lines += ["        " + p for p in g.prelude]
    lines += ["        " + b for b in body]
    lines += [
        "        if m or c:",
        "            push((rec, m, c))",
        "            m = []",
        "            c = []",
    ]
    lines += ["            add = m.append", "    return out"]
    source = "\n".join(lines) + "\n"
    code = compile(source, "<hazard-rules classifier>", "exec")
    namespace = dict(g.ns)
    exec(code, namespace)  # generated from our templates only; see the module docstring
    fn: Classifier = namespace["classify"]
    fn.__doc__ = source  # kept for debugging: the generated code is readable
    return fn
