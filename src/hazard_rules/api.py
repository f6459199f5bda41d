"""The public entry points: :func:`load_facts`, :func:`evaluate` and :func:`evaluate_findings`.

Every path through them ends the same way (:func:`_finish`): the notes of reading come
first, findings that rejected records could have changed are marked doubtful, counts are
completed, and strict mode or ``max_rejected`` may refuse the run as no verdict.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from hazard_rules.assess.waivers import Waiver, Waivers, load_waivers
from hazard_rules.engine.compile import Finding, compile_pack
from hazard_rules.engine.doubt import MAX_SOURCES, Doubts, doubt_links
from hazard_rules.engine.judge import judge_findings, judge_stream
from hazard_rules.errors import (
    ArgumentTypeError,
    ArgumentValueError,
    StrictRejectionError,
    TooManyRejectedError,
)
from hazard_rules.facts.collect import FactSet, collect_facts, rows_from_mapping
from hazard_rules.facts.rejections import DEFAULT_MAX_REJECTED, Limit, parse_limit, per_file
from hazard_rules.facts.rows import RawRow
from hazard_rules.io.export import read_export
from hazard_rules.io.maps import ColumnMap, load_column_map
from hazard_rules.io.remote import is_url, mirror, viewed
from hazard_rules.packs import PackSet
from hazard_rules.results import Rejected, Result

__all__ = [
    "BACKENDS",
    "DEFAULT_MAX_REJECTED",
    "as_of_date",
    "assess",
    "check_rejected",
    "evaluate",
    "evaluate_findings",
    "load_facts",
    "strict_message",
]

BACKENDS = ("python", "durable")
AS_OF_RANGE = (date(1900, 1, 1), date(9998, 12, 31))  # evaluation dates hazard-rules judges
Facts = Mapping[str, Iterable[Any]] | str | os.PathLike[str]
MapArg = ColumnMap | str | os.PathLike[str] | None
WaiversArg = Sequence[Waiver] | str | os.PathLike[str] | None


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
        cmap = _column_map(packs, column_map)
        if is_url(facts):  # an fsspec URL: read through a local mirror (io/remote.py)
            local = mirror(str(facts), lambda name: True)
            with viewed(str(facts), local):
                export = read_export(local, packs.schema, encoding=encoding, column_map=cmap)
        else:
            export = read_export(facts, packs.schema, encoding=encoding, column_map=cmap)
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
    _check_arguments(
        packs,
        facts,
        date(2000, 1, 1),
        backend="python",
        jobs=1,
        flags={},
        encoding=encoding,
        column_map=column_map,
        waivers=None,
    )
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
    waivers: WaiversArg = None,
    client: Any = None,
) -> Result:
    """Evaluate every rule of ``packs`` over ``facts`` as of ``as_of``.

    ``facts`` is a mapping of record type → records (dicts or pydantic models), a path to an
    export (folder, or one file), or a :class:`FactSet` already loaded. With ``strict``, any
    rejected record raises :class:`StrictRejectionError`; more rejected rows in a file than
    ``max_rejected`` allows (``N`` rows, ``"P%"`` of its rows, ``None`` for no limit; the
    default ``"auto"`` is ``"10%"`` for an export read from files and no limit for records
    given as Python objects) raise :class:`TooManyRejectedError`. Findings that rejected rows
    could have changed are marked ``doubtful``; findings a waiver covers (``waivers``: a
    waiver file or loaded waivers) are ``waived``. ``column_map`` (a ``ColumnMap`` or the
    path of one) says how a ledger's headers and values become fields. ``jobs > 1`` judges
    partitions of the subjects in parallel processes (same result); ``client`` (a
    ``distributed.Client``, with the ``dask`` extra) reads and judges the export in parts on
    its Dask cluster (same result; docs/scale-out.md). On a path or a mapping, the Python
    evaluator streams.
    """
    result, findings = evaluate_findings(
        packs,
        facts,
        as_of,
        backend=backend,
        explain=explain,
        show_unmapped=show_unmapped,
        strict=strict,
        encoding=encoding,
        jobs=jobs,
        column_map=column_map,
        max_rejected=max_rejected,
        waivers=waivers,
        client=client,
    )
    return result.model_copy(update={"violations": [f.violation() for f in findings]})


def assess(
    packs: PackSet,
    facts: Facts | FactSet,
    as_of: date,
    *,
    period: str | None = None,
    waivers: WaiversArg = None,
    column_map: MapArg = None,
    encoding: str | None = None,
    max_rejected: int | str | None = "auto",
    backend: str = "python",
    show_unmapped: bool = False,
    client: Any = None,
) -> Result:
    """Evaluate, then assess (督查考核): the result with ``assessment`` — every subject's
    scorecard for the assessed period and the one before, with the 一票否优 verdicts and the
    晾晒 ranking (docs/assessment.md). ``period`` is a label (``2025``, ``2025-Q4``,
    ``2025-12``) or a kind (``year``, ``quarter``, ``month``: the last one ended before
    ``as_of``); default: the packs' ``assessment.period``, else ``year``. Other arguments as
    for :func:`evaluate`; with ``client``, the evaluation runs on the Dask cluster and the
    scorecards are made in this process, from the export read here as well."""
    if period is not None and not isinstance(period, str):
        raise ArgumentTypeError(f"period must be a label or a kind of period, not {_type(period)}")
    if max_rejected == "auto":
        max_rejected = _auto(facts)
    fact_set = (
        facts
        if isinstance(facts, FactSet)
        else load_facts(packs, facts, encoding=encoding, column_map=column_map)
    )
    if client is not None and not isinstance(facts, FactSet):
        # on Dask the cluster reads the export again for the evaluation
        result = evaluate(
            packs,
            facts,
            as_of,
            waivers=waivers,
            max_rejected=max_rejected,
            encoding=encoding,
            column_map=column_map,
            show_unmapped=show_unmapped,
            client=client,
        )
    else:
        result = evaluate(
            packs,
            fact_set,
            as_of,
            waivers=waivers,
            max_rejected=max_rejected,
            backend=backend,
            show_unmapped=show_unmapped,
        )
    from hazard_rules.assess.scorecard import assess_result

    try:
        assessed = assess_result(packs, fact_set, result, result.as_of, period)
    except ValueError as exc:
        raise ArgumentValueError(f"period: {exc}") from None
    return result.model_copy(update={"assessment": assessed})


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
    waivers: WaiversArg = None,
    progress: Callable[[int, int], None] | None = None,
    client: Any = None,
    render: str | None = None,
) -> tuple[Result, list[Finding]]:
    """Like :func:`evaluate`, with the violations apart as sorted plain
    :class:`~hazard_rules.engine.compile.Finding` tuples — for writers that stream large
    reports (``Result.violations`` is empty; ``Finding.violation()`` makes each model). With
    the Python evaluator in one process, a path or a mapping is read and judged in one
    streaming pass. ``render="jsonl"``: in a partitioned run (``jobs``, ``client``) the
    workers also make each finding's JSONL line, which ``write_findings`` then writes as it
    is (the lines of a large report are made by the workers, not by this process)."""
    as_of = _check_arguments(
        packs,
        facts,
        as_of,
        backend=backend,
        jobs=jobs,
        flags={"explain": explain, "show_unmapped": show_unmapped, "strict": strict},
        encoding=encoding,
        column_map=column_map,
        waivers=waivers,
        client=client,
    )
    limit = _limit(max_rejected, facts)
    loaded = _waivers(waivers)
    notes: list[str] = []
    partitioned = _partitioned(
        packs,
        facts,
        as_of,
        jobs,
        client,
        backend,
        {"explain": explain, "show_unmapped": show_unmapped},
        encoding,
        column_map,
        progress,
        render,
    )
    if partitioned is not None:
        result, findings, fact_set, notes = partitioned
        _check_strict(strict, fact_set.rejected)
    elif backend == "python" and jobs <= 1:
        compiled = compile_pack(packs)
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
    else:
        if isinstance(facts, FactSet):
            fact_set = facts
        else:
            fact_set = load_facts(
                packs, facts, encoding=encoding, column_map=column_map, progress=progress
            )
        _check_strict(strict, fact_set.rejected)
        if backend == "durable":
            from hazard_rules.backends.durable.engine import evaluate_durable

            full = evaluate_durable(
                packs, fact_set, as_of, explain=explain, show_unmapped=show_unmapped
            )
        else:
            from hazard_rules.engine.parallel import judge_parallel

            full = judge_parallel(
                compile_pack(packs),
                fact_set,
                as_of,
                jobs,
                explain=explain,
                show_unmapped=show_unmapped,
            )
        metas = {r.meta.id: r.meta for r in packs.rules}
        findings = [Finding.of(v, metas[v.rule]) for v in full.violations]
        result = full.model_copy(update={"violations": []})
    return _finish(packs, fact_set, as_of, result, findings, notes, loaded, limit)


def _partitioned(
    packs: PackSet,
    facts: Facts | FactSet,
    as_of: date,
    jobs: int,
    client: Any,
    backend: str,
    flags: Mapping[str, bool],
    encoding: str | None,
    column_map: MapArg,
    progress: Callable[[int, int], None] | None,
    render: str | None = None,
) -> tuple[Result, list[Finding], FactSet, list[str]] | None:
    """An export or a mapping read and judged in parts (scale/partition.py): on a Dask
    cluster (``client``) or by ``jobs`` forked processes. None when not: one process, a
    loaded fact set, another backend, or an export that cannot be read in parts (a mixed
    JSONL file), which is then evaluated in this process."""
    if isinstance(facts, FactSet) or backend != "python" or (jobs <= 1 and client is None):
        return None
    from hazard_rules.scale.pipeline import ExecutorFactory, Unpartitionable, run_partitioned

    chunk = None
    factory: ExecutorFactory
    if client is not None:
        from hazard_rules.scale.on_dask import DaskExecutor

        def factory(ctx: Any) -> Any:
            return DaskExecutor(ctx, client, packs)

        info = client.scheduler_info().get("workers", {})
        workers = max(sum(w.get("nthreads", 1) for w in info.values()), 1)
        chunk = 50_000  # records given as Python objects travel to the workers in parts
    else:
        from hazard_rules.scale.processes import LocalExecutor, fork_available

        if not fork_available():
            return None

        def factory(ctx: Any) -> Any:
            return LocalExecutor(ctx, jobs)

        workers = jobs
    try:
        return run_partitioned(
            packs,
            facts,
            as_of,
            factory,
            workers=workers,
            explain=flags["explain"],
            show_unmapped=flags["show_unmapped"],
            encoding=encoding,
            column_map=_column_map(packs, column_map),
            progress=progress,
            chunk=chunk,
            render=render,
        )
    except Unpartitionable:
        return None


def _type(value: object) -> str:
    return "None" if value is None else type(value).__name__


def as_of_date(as_of: object, timezone_name: str) -> date:
    """``as_of`` as a date: a date, or an aware datetime's local date in ``timezone_name``;
    :class:`ArgumentTypeError` / :class:`ArgumentValueError` naming ``as_of`` otherwise."""
    if isinstance(as_of, datetime):
        if as_of.tzinfo is None or as_of.utcoffset() is None:
            raise ArgumentValueError(
                f"as_of: a naive datetime ({as_of.isoformat()}) is ambiguous; give a date or a "
                "datetime with a time zone (it is taken as its local date in the packs' zone)"
            )
        from hazard_rules.periods import timezone

        as_of = as_of.astimezone(timezone(timezone_name)).date()
    if not isinstance(as_of, date):
        raise ArgumentTypeError(f"as_of must be a date, not {_type(as_of)}")
    if not AS_OF_RANGE[0] <= as_of <= AS_OF_RANGE[1]:
        raise ArgumentValueError(
            f"as_of {as_of.isoformat()} is outside {AS_OF_RANGE[0]} – {AS_OF_RANGE[1]}"
        )
    return as_of


def _check_arguments(
    packs: object,
    facts: object,
    as_of: object,
    *,
    backend: object,
    jobs: object,
    flags: Mapping[str, object],
    encoding: object,
    column_map: object,
    waivers: object,
    client: object = None,
) -> date:
    """The arguments of :func:`evaluate_findings` checked at the boundary (issue: nothing
    from inside the engine or a dependency may leak); returns ``as_of`` as a date."""
    if not isinstance(packs, PackSet):
        raise ArgumentTypeError(f"packs must be a PackSet from load_packs(...), not {_type(packs)}")
    day = as_of_date(as_of, packs.schema.timezone)
    if isinstance(facts, Mapping):
        for tname, items in facts.items():
            if not isinstance(tname, str):
                raise ArgumentTypeError(f"facts: record types are strings, not {_type(tname)}")
            if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
                raise ArgumentTypeError(
                    f"facts[{tname!r}] must be an iterable of records (dicts), not {_type(items)}"
                )
    elif not isinstance(facts, (str, os.PathLike, FactSet)):
        raise ArgumentTypeError(
            "facts must be a mapping of record type to records, a path to an export, or a "
            f"FactSet, not {_type(facts)}"
        )
    if not isinstance(backend, str):
        raise ArgumentTypeError(f"backend must be a string, not {_type(backend)}")
    if backend not in BACKENDS:
        raise ArgumentValueError(
            f"backend: unknown backend {backend!r}: one of {', '.join(BACKENDS)}"
        )
    if not isinstance(jobs, int) or isinstance(jobs, bool):
        raise ArgumentTypeError(f"jobs must be an int, not {_type(jobs)}")
    if jobs < 1:
        raise ArgumentValueError(f"jobs must be at least 1, not {jobs}")
    if client is not None:
        if not all(hasattr(client, a) for a in ("submit", "scatter", "scheduler_info")):
            raise ArgumentTypeError(
                f"client must be a distributed.Client (dask extra), not {_type(client)}"
            )
        if isinstance(facts, FactSet):
            raise ArgumentValueError(
                "client: a loaded FactSet is judged in this process; give the export's path "
                "(or a mapping of records) to evaluate on the Dask cluster"
            )
        if backend != "python":
            raise ArgumentValueError("client: the Dask cluster runs the python backend only")
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ArgumentTypeError(f"{name} must be True or False, not {_type(value)}")
    if encoding is not None:
        if not isinstance(encoding, str):
            raise ArgumentTypeError(f"encoding must be a string, not {_type(encoding)}")
        from hazard_rules.io.text import check_encoding

        check_encoding(encoding)
    if column_map is not None and not isinstance(column_map, (ColumnMap, str, os.PathLike)):
        raise ArgumentTypeError(
            f"column_map must be a ColumnMap or the path of one, not {_type(column_map)}"
        )
    if (
        waivers is not None
        and not isinstance(waivers, (str, os.PathLike))
        and (not isinstance(waivers, Sequence) or not all(isinstance(w, Waiver) for w in waivers))
    ):
        raise ArgumentTypeError(
            f"waivers must be a waiver file's path or a list of Waiver, not {_type(waivers)}"
        )
    return day


def _waivers(waivers: WaiversArg) -> list[Waiver]:
    if waivers is None:
        return []
    if isinstance(waivers, (str, os.PathLike)):
        return load_waivers(waivers)
    return list(waivers)


def _finish(
    packs: PackSet,
    facts: FactSet,
    as_of: date,
    result: Result,
    findings: list[Finding],
    notes: list[str],
    waivers: list[Waiver],
    limit: Limit | None,
) -> tuple[Result, list[Finding]]:
    """What every evaluation ends with: doubtful and waived findings, reading's notes first,
    the counts completed, and the rejection limit checked."""
    doubts = Doubts(facts.lost, doubt_links(packs.rules))
    in_force = Waivers(waivers, as_of, (r.meta.id for r in packs.rules)) if waivers else None
    if doubts or in_force:
        findings = [_adjusted(f, doubts, in_force) for f in findings]
    rejected_by_file = {f.file: f.rejected for f in per_file(facts.rejected, facts.read_by_file)}
    counts = result.counts.model_copy(
        update={
            "by_status": dict(sorted(Counter(f.status for f in findings).items())),
            "doubtful": sum(1 for f in findings if f.doubt_count),
            "waived": sum(1 for f in findings if f.waiver is not None),
            "read_by_file": dict(sorted(facts.read_by_file.items())),
            "rejected_by_file": dict(sorted(rejected_by_file.items())),
        }
    )
    more = [*in_force.notes, *in_force.unused()] if in_force is not None else []
    result = result.model_copy(update={"counts": counts, "notes": [*notes, *result.notes, *more]})
    message = _over_limit(result.rejected, counts.read_by_file, limit)
    if message is not None:
        full = result.model_copy(update={"violations": [f.violation() for f in findings]})
        raise TooManyRejectedError(message, full)
    return result, findings


def _adjusted(f: Finding, doubts: Doubts, waivers: Waivers | None) -> Finding:
    record = f.record.id if f.record else None
    sources = doubts.sources(f.meta.id, f.status, f.subject.id, record) if doubts else []
    if sources:
        f = f._replace(doubt=tuple(sources[:MAX_SOURCES]), doubt_count=len(sources))
    if waivers is not None:
        label = f.period.label if f.period is not None else None
        ref = waivers.find(f.meta.id, f.status, f.subject.id, label, record)
        if ref is not None:
            f = f._replace(status="waived", waiver=ref)
    return f


def _auto(facts: object) -> str | None:
    """``"auto"``: the default limit for an export read from files, none for records given
    as Python objects (the calling system sees ``rejected`` and ``doubtful`` in the result)."""
    return DEFAULT_MAX_REJECTED if isinstance(facts, (str, os.PathLike)) else None


def _limit(max_rejected: int | str | None, facts: object = None) -> Limit | None:
    if max_rejected == "auto":
        max_rejected = _auto(facts)
    if max_rejected is not None and not isinstance(max_rejected, (int, str)):
        raise ArgumentTypeError(f"max_rejected must be N, 'P%' or None, not {_type(max_rejected)}")
    try:
        return parse_limit(max_rejected)
    except ValueError as exc:
        raise ArgumentValueError(str(exc)) from None


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
