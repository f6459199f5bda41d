"""Evaluation in parallel processes, partitioned by subject (``--jobs N``).

The fact set is read and checked once in the parent; ``fork`` hands it to the workers
without copying, each worker judges the subjects whose id hashes to its partition, and the
parent merges the parts into one result, identical to a single process's (the sort order of
SPEC §4 is applied again to the union). Where ``fork`` is unavailable, it runs sequentially.
"""

from __future__ import annotations

import multiprocessing as mp
from datetime import date
from typing import Any

from hazard_rules.engine.judge import CompiledPack, judge
from hazard_rules.facts.collect import FactSet
from hazard_rules.results import Result, label_key, summarize, violation_key

__all__ = ["judge_parallel"]

# Set in the parent just before forking; workers read it (fork shares it copy-on-write).
_SHARED: dict[str, Any] = {}


def _work(k: int) -> Result:
    s = _SHARED
    return judge(
        s["compiled"],
        s["facts"],
        s["as_of"],
        explain=s["explain"],
        show_unmapped=s["show_unmapped"],
        part=(k, s["n"]),
    )


def judge_parallel(
    compiled: CompiledPack,
    facts: FactSet,
    as_of: date,
    jobs: int,
    *,
    explain: bool = False,
    show_unmapped: bool = False,
) -> Result:
    """Like :func:`~hazard_rules.evaluate.judge`, in ``jobs`` processes."""
    if jobs <= 1 or "fork" not in mp.get_all_start_methods():
        return judge(compiled, facts, as_of, explain=explain, show_unmapped=show_unmapped)
    _SHARED.update(
        compiled=compiled,
        facts=facts,
        as_of=as_of,
        explain=explain,
        show_unmapped=show_unmapped,
        n=jobs,
    )
    try:
        with mp.get_context("fork").Pool(jobs) as pool:
            parts = pool.map(_work, range(jobs))
    finally:
        _SHARED.clear()
    return merge(parts, show_unmapped=show_unmapped)


def merge(parts: list[Result], *, show_unmapped: bool) -> Result:
    """One result from the results of disjoint partitions of the same fact set."""
    first = parts[0]
    violations = sorted((v for p in parts for v in p.violations), key=violation_key)
    classifications = sorted((c for p in parts for c in p.classifications), key=label_key)
    candidates = sorted((c for p in parts for c in p.candidates), key=label_key)
    unmapped = None
    if show_unmapped:
        unmapped = sorted(
            (r for p in parts for r in p.unmapped or []), key=lambda r: (r.type, r.id)
        )
    c = first.counts
    counts = summarize(
        (c.read, c.evaluated, c.rejected),
        ((v.status, v.severity) for v in violations),
        len(classifications),
        len(candidates),
    )
    return first.model_copy(
        update={
            "violations": violations,
            "classifications": classifications,
            "candidates": candidates,
            "unmapped": unmapped,
            "counts": counts,
        }
    )
