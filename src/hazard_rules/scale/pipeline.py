"""Running the partitioned pipeline (:mod:`hazard_rules.scale.partition`) on an executor:
local processes (``--jobs N``, :mod:`hazard_rules.scale.processes`) or a Dask cluster
(:mod:`hazard_rules.scale.on_dask`).

An executor runs three kinds of task over the parts of one run — read a part and keep its
records, read a part again to look ids up, judge a partition over the records kept — and
holds what the read tasks keep between the steps (files, or the workers' memory). The
planning process plans, reads the broadcast types, de-duplicates, assigns and merges; it
reads no record of the other types.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from hazard_rules.engine.compile import Finding, compile_pack
from hazard_rules.facts.collect import FactSet
from hazard_rules.io.maps import ColumnMap
from hazard_rules.ir import Deadline, Recurring, Trend
from hazard_rules.packs import PackSet
from hazard_rules.results import Result
from hazard_rules.scale.partition import (
    Absorber,
    Context,
    Duplicates,
    Found,
    Packed,
    PartSpec,
    PartSummary,
    Unpartitionable,
    assign,
    find_duplicates,
    judge_partition,
    lookup,
    merge,
    plan,
    plan_mapping,
    read_broadcast,
    read_part,
    select,
)

__all__ = ["Executor", "ExecutorFactory", "InlineExecutor", "Unpartitionable", "run_partitioned"]


class Executor(Protocol):
    """Runs the tasks of one partitioned run (see the module docstring)."""

    partitions: int

    def read(
        self, specs: Mapping[int, PartSpec], done: Callable[[PartSummary], None]
    ) -> dict[int, PartSummary]:
        """Read every part (``id → spec``), keeping its records; ``done`` is called as each
        summary arrives."""
        ...

    def lookup(self, asks: Mapping[int, tuple[PartSpec, set[int]]]) -> dict[int, list[Found]]:
        """:func:`~hazard_rules.scale.partition.lookup` on each part asked."""
        ...

    def judge(
        self, assignment: Sequence[int], order: Sequence[int], dups: Duplicates
    ) -> list[list[Packed]]:
        """Judge every partition over the records the parts in ``order`` kept."""
        ...

    def close(self) -> None: ...


ExecutorFactory = Callable[[Context], Executor]


def run_partitioned(
    packs: PackSet,
    facts: Mapping[str, Iterable[Any]] | str | os.PathLike[str],
    as_of: date,
    executor: ExecutorFactory,
    *,
    workers: int,
    explain: bool = False,
    show_unmapped: bool = False,
    encoding: str | None = None,
    column_map: ColumnMap | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk: int | None = None,
    block_bytes: int | None = None,
    render: str | None = None,
) -> tuple[Result, list[Finding], FactSet, list[str]]:
    """Evaluate in parts on the executor ``executor(context)`` makes; returns what
    ``api._finish`` takes: the result (violations apart), the sorted findings, the fact set
    (counts, rejections, notes) and the readers' notes. :class:`Unpartitionable` when the
    export cannot be read in parts (the caller evaluates it in one process). ``render="jsonl"``:
    the workers also make each finding's JSONL line (the writer only writes them)."""
    compiled = compile_pack(packs)
    mapping = None
    if isinstance(facts, (str, os.PathLike)):
        the_plan, export = plan(
            compiled,
            facts,
            encoding=encoding,
            column_map=column_map,
            workers=workers,
            block_bytes=block_bytes,
        )
        sources, notes = export.sources, export.notes
    else:
        the_plan, sources = plan_mapping(compiled, facts, chunk=chunk)
        notes = None
        mapping = facts
    phase1 = read_broadcast(
        compiled,
        sources,
        notes,
        as_of,
        explain=explain,
        show_unmapped=show_unmapped,
        progress=progress,
    )
    ctx = Context(
        compiled,
        {t: phase1.records[t] for t in the_plan.broadcast},
        as_of,
        explain,
        show_unmapped,
        the_plan,
        mapping,
        render,
    )
    read = [phase1.read, sum(len(s.rejected) for s in phase1.slices.values())]
    absorb = Absorber(ctx)

    def done(summary: PartSummary) -> None:
        absorb(summary)  # while the workers go on
        read[0] += summary.read
        read[1] += len(summary.rejected)
        if progress is not None:
            progress(read[0], read[1])

    ex = executor(ctx)
    try:
        specs = dict(enumerate(the_plan.parts))
        got = ex.read(specs, done)
        order = list(specs)
        bad = {specs[i].file_key for i in order if got[i].anomalous}
        if bad:
            order, more = _read_whole(specs, order, bad)
            got.update(ex.read(more, lambda s: None))
            specs.update(more)
        summaries = [got[i] for i in order]

        def lookups(asks: dict[int, set[int]]) -> dict[int, list[Found]]:
            found = ex.lookup({order[p]: (specs[order[p]], d) for p, d in asks.items()})
            return {order.index(i): rows for i, rows in found.items()}

        dups = find_duplicates(ctx, summaries, lookups)
        by_id = Duplicates(
            {order[p]: v for p, v in dups.dropped.items()},
            {order[p]: v for p, v in dups.renamed.items()},
        )
        assignment = assign(summaries, _subjects(ctx), ex.partitions)
        judged = ex.judge(assignment, order, by_id)
    finally:
        ex.close()
    return merge(ctx, phase1, summaries, dups, judged, absorb)


def _read_whole(
    specs: Mapping[int, PartSpec], order: list[int], bad: set[tuple[str, int]]
) -> tuple[list[int], dict[int, PartSpec]]:
    """The order with the blocks of each file in ``bad`` replaced by the whole file."""
    more: dict[int, PartSpec] = {}
    out: list[int] = []
    nxt = max(specs) + 1
    for i in order:
        spec = specs[i]
        if spec.file_key not in bad or spec.block is None:
            out.append(i)
        elif spec.block.index == 0:
            more[nxt] = PartSpec(spec.type, spec.slot)
            out.append(nxt)
            nxt += 1
    return out, more


def _subjects(ctx: Context) -> list[str]:
    types = set()
    for cr in ctx.compiled.timed:
        rule = cr.rule
        assert isinstance(rule, (Deadline, Recurring, Trend))
        types.add(rule.subject.type)
    return [rid for t in sorted(types) for rid in ctx.records.get(t, {})]


class InlineExecutor:
    """Every task in this process, one after another: for tests (``assignment`` replaces
    the balanced one: bucket → partition) and for debugging a partitioned run."""

    def __init__(
        self, ctx: Context, partitions: int, assignment: Sequence[int] | None = None
    ) -> None:
        self.ctx = ctx
        self.partitions = partitions
        self.assignment = assignment
        self.data: dict[int, Any] = {}
        self.types: dict[int, str] = {}

    def read(
        self, specs: Mapping[int, PartSpec], done: Callable[[PartSummary], None]
    ) -> dict[int, PartSummary]:
        out = {}
        for pid, spec in specs.items():
            out[pid], self.data[pid] = read_part(self.ctx, spec)
            self.types[pid] = spec.type
            done(out[pid])
        return out

    def lookup(self, asks: Mapping[int, tuple[PartSpec, set[int]]]) -> dict[int, list[Found]]:
        return {pid: lookup(self.ctx, spec, d) for pid, (spec, d) in asks.items()}

    def judge(
        self, assignment: Sequence[int], order: Sequence[int], dups: Duplicates
    ) -> list[list[Packed]]:
        chosen = self.assignment if self.assignment is not None else assignment
        out = []
        for k in range(self.partitions):
            buckets = frozenset(b for b, p in enumerate(chosen) if p == k)
            chunks = [(self.types[i], select(self.data[i], buckets, dups.ids(i))) for i in order]
            out.append(judge_partition(self.ctx, buckets, chunks))
        return out

    def close(self) -> None:
        self.data.clear()
