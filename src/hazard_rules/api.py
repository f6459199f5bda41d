"""The public entry points: :func:`load_facts` and :func:`evaluate`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from hazard_rules.engine.judge import Finding, compile_pack, judge, judge_findings, judge_stream
from hazard_rules.errors import InputError, StrictRejectionError
from hazard_rules.facts.collect import FactSet, RawRow, collect_facts, rows_from_mapping
from hazard_rules.io.readers import read_export
from hazard_rules.packs import PackSet
from hazard_rules.results import Rejected, Result

__all__ = ["BACKENDS", "evaluate", "evaluate_findings", "load_facts"]

BACKENDS = ("python", "durable")
Facts = Mapping[str, Iterable[Any]] | str | os.PathLike[str]


def _sources(
    packs: PackSet, facts: Facts, encoding: str | None
) -> tuple[Mapping[str, Iterable[RawRow]], bool]:
    """Raw rows by type, and whether unknown types are rejected row by row (mixed JSONL)."""
    if isinstance(facts, (str, os.PathLike)):
        path = os.fspath(facts)
        mixed = os.path.isfile(path) and path.lower().endswith(".jsonl")
        return read_export(path, packs.schema, encoding=encoding), mixed
    return rows_from_mapping(facts), False


def load_facts(
    packs: PackSet,
    facts: Facts,
    *,
    encoding: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FactSet:
    """Read, coerce and reference-check facts: a mapping ``{type: [records]}`` or an export path.

    The fact set keeps every record whole (for repeated evaluation, other backends and the
    ``due`` calendar); :func:`evaluate` on a path or mapping streams instead.
    ``progress(read, rejected)`` is called every 10,000 rows (the CLI draws it on a terminal).
    """
    sources, mixed = _sources(packs, facts, encoding)
    return collect_facts(packs.schema, sources, reject_unknown_types=mixed, progress=progress)


def evaluate(
    packs: PackSet,
    facts: Facts | FactSet,
    as_of: date,
    *,
    backend: str = "python",
    explain: bool = False,
    show_unmapped: bool = False,
    strict: bool = False,
    encoding: str | None = None,
    jobs: int = 1,
) -> Result:
    """Evaluate every rule of ``packs`` over ``facts`` as of ``as_of``.

    ``facts`` is a mapping of record type → records (dicts or pydantic models), a path to an
    export (folder, or one JSONL file with ``"type"``), or a :class:`FactSet` already loaded.
    With ``strict``, any rejected record raises :class:`StrictRejectionError`. ``jobs > 1``
    judges partitions of the subjects in parallel processes (same result). On a path or a
    mapping, the Python evaluator streams: records are judged as they are read and only what
    time-based rules need is kept.
    """
    if not isinstance(as_of, date):
        raise InputError(f"as_of must be a date, not {type(as_of).__name__}")
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}: one of {', '.join(BACKENDS)}")
    if backend == "python" and jobs <= 1 and not isinstance(facts, FactSet):
        result, findings = evaluate_findings(
            packs, facts, as_of, explain=explain, show_unmapped=show_unmapped, encoding=encoding
        )
        _check_strict(strict, result.rejected)
        return result.model_copy(update={"violations": [f.violation() for f in findings]})
    fact_set = facts if isinstance(facts, FactSet) else load_facts(packs, facts, encoding=encoding)
    _check_strict(strict, fact_set.rejected)
    if backend == "durable":
        from hazard_rules.backends.durable.engine import evaluate_durable

        return evaluate_durable(
            packs, fact_set, as_of, explain=explain, show_unmapped=show_unmapped
        )
    if jobs > 1:
        from hazard_rules.engine.parallel import judge_parallel

        return judge_parallel(
            compile_pack(packs), fact_set, as_of, jobs, explain=explain, show_unmapped=show_unmapped
        )
    return judge(compile_pack(packs), fact_set, as_of, explain=explain, show_unmapped=show_unmapped)


def _check_strict(strict: bool, rejected: Sequence[Rejected]) -> None:
    if strict and rejected:
        first = rejected[0]
        raise StrictRejectionError(
            f"{len(rejected)} record(s) rejected; first: {first.source}: "
            f"{first.field or ''}: {first.reason}"
        )


def evaluate_findings(
    packs: PackSet,
    facts: Facts | FactSet,
    as_of: date,
    *,
    explain: bool = False,
    show_unmapped: bool = False,
    encoding: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Result, list[Finding]]:
    """The Python evaluator's result with its violations apart, as sorted plain
    :class:`~hazard_rules.evaluate.Finding` tuples — for writers that stream large reports
    (``Result.violations`` is empty; ``Finding.violation()`` makes each model). A path or a
    mapping is read and judged in one streaming pass."""
    compiled = compile_pack(packs)
    if isinstance(facts, FactSet):
        return judge_findings(compiled, facts, as_of, explain=explain, show_unmapped=show_unmapped)
    sources, mixed = _sources(packs, facts, encoding)
    return judge_stream(
        compiled,
        sources,
        as_of,
        explain=explain,
        show_unmapped=show_unmapped,
        reject_unknown_types=mixed,
        progress=progress,
    )
