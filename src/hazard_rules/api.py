"""The public entry points: :func:`load_facts`, :func:`evaluate` and :func:`evaluate_findings`.

Every path through them ends the same way (:func:`_finish`): the notes of reading come
first, findings that rejected records could have changed are marked doubtful, counts are
completed, and strict mode or ``max_rejected`` may refuse the run as no verdict.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from hazard_rules.engine.compile import Finding, compile_pack
from hazard_rules.engine.doubt import MAX_SOURCES, Doubts, doubt_links
from hazard_rules.engine.judge import judge, judge_findings, judge_stream
from hazard_rules.errors import InputError, StrictRejectionError, TooManyRejectedError
from hazard_rules.facts.collect import FactSet, collect_facts, rows_from_mapping
from hazard_rules.facts.rejections import DEFAULT_MAX_REJECTED, Limit, parse_limit, per_file
from hazard_rules.facts.rows import RawRow
from hazard_rules.io.export import read_export
from hazard_rules.io.maps import ColumnMap, load_column_map
from hazard_rules.packs import PackSet
from hazard_rules.results import Rejected, Result

__all__ = [
    "BACKENDS",
    "DEFAULT_MAX_REJECTED",
    "check_rejected",
    "evaluate",
    "evaluate_findings",
    "load_facts",
    "strict_message",
]

BACKENDS = ("python", "durable")
Facts = Mapping[str, Iterable[Any]] | str | os.PathLike[str]
MapArg = ColumnMap | str | os.PathLike[str] | None


def _column_map(packs: PackSet, column_map: MapArg) -> ColumnMap | None:
    if column_map is None or isinstance(column_map, ColumnMap):
        return column_map
    return load_column_map(column_map, packs.schema)


def _sources(
    packs: PackSet, facts: Facts, encoding: str | None, column_map: MapArg
) -> tuple[Mapping[str, Iterable[RawRow]], bool, list[str]]:
    """Raw rows by type, whether unknown types are rejected row by row (a mixed JSONL
    file), and the notes reading makes (filled while the rows are read)."""
    if isinstance(facts, (str, os.PathLike)):
        export = read_export(
            facts, packs.schema, encoding=encoding, column_map=_column_map(packs, column_map)
        )
        return export.sources, export.mixed, export.notes
    return rows_from_mapping(facts), False, []


def load_facts(
    packs: PackSet,
    facts: Facts,
    *,
    encoding: str | None = None,
    column_map: MapArg = None,
    progress: Callable[[int, int], None] | None = None,
) -> FactSet:
    """Read, coerce and reference-check facts: a mapping ``{type: [records]}`` or an export path.

    The fact set keeps every record whole (for repeated evaluation, other backends and the
    ``due`` calendar); :func:`evaluate` on a path or mapping streams instead.
    ``column_map`` (a :class:`~hazard_rules.io.maps.ColumnMap` or the path of one) says how a
    ledger's headers and values become fields. ``progress(read, rejected)`` is called every
    10,000 rows (the CLI draws it on a terminal).
    """
    sources, mixed, notes = _sources(packs, facts, encoding, column_map)
    fact_set = collect_facts(packs.schema, sources, reject_unknown_types=mixed, progress=progress)
    fact_set.notes[:0] = notes
    return fact_set


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
    column_map: MapArg = None,
    max_rejected: int | str | None = "auto",
) -> Result:
    """Evaluate every rule of ``packs`` over ``facts`` as of ``as_of``.

    ``facts`` is a mapping of record type → records (dicts or pydantic models), a path to an
    export (folder, or one file), or a :class:`FactSet` already loaded. With ``strict``, any
    rejected record raises :class:`StrictRejectionError`; more rejected rows in a file than
    ``max_rejected`` allows (``N`` rows, ``"P%"`` of its rows, ``None`` for no limit; default
    ``"10%"``) raise :class:`TooManyRejectedError`. Findings that rejected rows could have
    changed are marked ``doubtful``. ``jobs > 1`` judges partitions of the subjects in
    parallel processes (same result). On a path or a mapping, the Python evaluator streams.
    """
    if not isinstance(as_of, date):
        raise InputError(f"as_of must be a date, not {type(as_of).__name__}")
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}: one of {', '.join(BACKENDS)}")
    limit = _limit(max_rejected, facts)
    if backend == "python" and jobs <= 1 and not isinstance(facts, FactSet):
        result, findings = evaluate_findings(
            packs,
            facts,
            as_of,
            explain=explain,
            show_unmapped=show_unmapped,
            encoding=encoding,
            column_map=column_map,
            strict=strict,
            max_rejected=max_rejected,
        )
        return result.model_copy(update={"violations": [f.violation() for f in findings]})
    fact_set = (
        facts
        if isinstance(facts, FactSet)
        else load_facts(packs, facts, encoding=encoding, column_map=column_map)
    )
    _check_strict(strict, fact_set.rejected)
    if backend == "durable":
        from hazard_rules.backends.durable.engine import evaluate_durable

        result = evaluate_durable(
            packs, fact_set, as_of, explain=explain, show_unmapped=show_unmapped
        )
    elif jobs > 1:
        from hazard_rules.engine.parallel import judge_parallel

        result = judge_parallel(
            compile_pack(packs), fact_set, as_of, jobs, explain=explain, show_unmapped=show_unmapped
        )
    else:
        result = judge(
            compile_pack(packs), fact_set, as_of, explain=explain, show_unmapped=show_unmapped
        )
    doubts = _doubts(packs, fact_set)
    if doubts:
        violations = [_doubt_violation(v, doubts) for v in result.violations]
        result = result.model_copy(update={"violations": violations})
    doubtful = sum(v.doubtful for v in result.violations)
    return _checked(_complete(result, fact_set, doubtful, []), limit)


def evaluate_findings(
    packs: PackSet,
    facts: Facts | FactSet,
    as_of: date,
    *,
    explain: bool = False,
    show_unmapped: bool = False,
    encoding: str | None = None,
    column_map: MapArg = None,
    strict: bool = False,
    max_rejected: int | str | None = "auto",
    backend: str = "python",
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Result, list[Finding]]:
    """The result with its violations apart, as sorted plain
    :class:`~hazard_rules.engine.compile.Finding` tuples — for writers that stream large
    reports (``Result.violations`` is empty; ``Finding.violation()`` makes each model). With
    the Python evaluator in one process, a path or a mapping is read and judged in one
    streaming pass; other backends and ``jobs > 1`` go through :func:`evaluate`. Arguments
    as for :func:`evaluate`."""
    if backend != "python" or jobs > 1:
        if max_rejected == "auto":
            max_rejected = _auto(facts)
        if isinstance(facts, FactSet):
            fact_set = facts
        else:
            fact_set = load_facts(
                packs, facts, encoding=encoding, column_map=column_map, progress=progress
            )
        full = evaluate(
            packs,
            fact_set,
            as_of,
            backend=backend,
            explain=explain,
            show_unmapped=show_unmapped,
            strict=strict,
            jobs=jobs,
            max_rejected=max_rejected,
        )
        metas = {r.meta.id: r.meta for r in packs.rules}
        found = [Finding.of(v, metas[v.rule]) for v in full.violations]
        return full.model_copy(update={"violations": []}), found
    limit = _limit(max_rejected, facts)
    compiled = compile_pack(packs)
    notes: list[str] = []
    if isinstance(facts, FactSet):
        fact_set = facts
        result, findings = judge_findings(
            compiled, facts, as_of, explain=explain, show_unmapped=show_unmapped
        )
    else:
        sources, mixed, notes = _sources(packs, facts, encoding, column_map)
        fact_set = FactSet(records={t: {} for t in packs.schema.order})
        result, findings = judge_stream(
            compiled,
            sources,
            as_of,
            explain=explain,
            show_unmapped=show_unmapped,
            reject_unknown_types=mixed,
            progress=progress,
            into=fact_set,
        )
    _check_strict(strict, fact_set.rejected)
    doubts = _doubts(packs, fact_set)
    if doubts:
        findings = [_doubt_finding(f, doubts) for f in findings]
    result = _complete(result, fact_set, sum(1 for f in findings if f.doubt_count), notes)
    _checked(result, limit, findings)
    return result, findings


def _auto(facts: object) -> str | None:
    """``"auto"``: the default limit for an export read from files, none for records given
    as Python objects (the calling system sees ``rejected`` and ``doubtful`` in the result)."""
    return DEFAULT_MAX_REJECTED if isinstance(facts, (str, os.PathLike)) else None


def _limit(max_rejected: int | str | None, facts: object = None) -> Limit | None:
    if max_rejected == "auto":
        max_rejected = _auto(facts)
    try:
        return parse_limit(max_rejected)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _doubts(packs: PackSet, facts: FactSet) -> Doubts:
    return Doubts(facts.lost, doubt_links(packs.rules))


def _doubt_finding(f: Finding, doubts: Doubts) -> Finding:
    sources = doubts.sources(f.meta.id, f.status, f.subject.id, f.record.id if f.record else None)
    if not sources:
        return f
    return f._replace(doubt=tuple(sources[:MAX_SOURCES]), doubt_count=len(sources))


def _doubt_violation(v: Any, doubts: Doubts) -> Any:
    sources = doubts.sources(v.rule, v.status, v.subject.id, v.record.id if v.record else None)
    if not sources:
        return v
    return v.model_copy(
        update={
            "doubtful": True,
            "doubtful_because": sources[:MAX_SOURCES],
            "doubtful_count": len(sources),
        }
    )


def _complete(result: Result, facts: FactSet, doubtful: int, notes: list[str]) -> Result:
    """The result with reading's notes first and the counts completed."""
    rejected_by_file: dict[str, int] = {}
    for f in per_file(facts.rejected, facts.read_by_file):
        rejected_by_file[f.file] = f.rejected
    counts = result.counts.model_copy(
        update={
            "doubtful": doubtful,
            "read_by_file": dict(sorted(facts.read_by_file.items())),
            "rejected_by_file": dict(sorted(rejected_by_file.items())),
        }
    )
    update: dict[str, Any] = {"counts": counts}
    if notes:
        update["notes"] = [*notes, *result.notes]
    return result.model_copy(update=update)


def _checked(result: Result, limit: Limit | None, findings: list[Finding] | None = None) -> Result:
    """``result``, or :class:`TooManyRejectedError` when a file exceeds ``limit``."""
    message = _over_limit(result.rejected, result.counts.read_by_file, limit)
    if message is None:
        return result
    full = result
    if findings is not None:
        full = result.model_copy(update={"violations": [f.violation() for f in findings]})
    raise TooManyRejectedError(message, full)


def check_rejected(facts: FactSet, max_rejected: int | str | None = DEFAULT_MAX_REJECTED) -> None:
    """:class:`TooManyRejectedError` when more rows of a file of ``facts`` were rejected than
    ``max_rejected`` allows (see :func:`evaluate`)."""
    message = _over_limit(facts.rejected, facts.read_by_file, _limit(max_rejected))
    if message is not None:
        raise TooManyRejectedError(message)


def _over_limit(
    rejected: list[Rejected], read_by_file: Mapping[str, int], limit: Limit | None
) -> str | None:
    """The message naming the files over ``limit``, or None when none is."""
    if limit is None or not rejected:
        return None
    over = [f for f in per_file(rejected, read_by_file) if not limit.allows(f.rejected, f.read)]
    if not over:
        return None
    parts = [
        f"{len(over)} file(s) with more rejected rows than --max-rejected {limit.text} allows; "
        "this run is no verdict:"
    ]
    for f in over[:5]:
        parts.append(f.describe())
        parts.append(f"  to fix: {f.advice()}")
    parts.append(
        "Or run with --max-rejected 100% to judge the rest: findings the rejected rows could "
        "change are then marked doubtful."
    )
    return "\n".join(parts)


def strict_message(rejected: list[Rejected]) -> str:
    """The message of strict mode: how many were rejected, and the first."""
    first = rejected[0]
    return (
        f"{len(rejected)} record(s) rejected; first: {first.source}: "
        f"{first.field or ''}: {first.reason}"
    )


def _check_strict(strict: bool, rejected: list[Rejected]) -> None:
    if strict and rejected:
        raise StrictRejectionError(strict_message(rejected))
