"""Evaluation in parallel processes, partitioned by subject (``--jobs N``).

The fact set is read and checked once in the parent; ``fork`` hands it to the workers
without copying (as the arguments of each forked process), each worker judges the subjects whose id hashes to its partition, and the
parent merges the parts into one result, identical to a single process's (the sort order of
SPEC §4 is applied again to the union). Where ``fork`` is unavailable, it runs sequentially.
"""

from __future__ import annotations

import multiprocessing as mp
from datetime import date
from multiprocessing.connection import Connection

from hazard_rules.engine.compile import CompiledPack
from hazard_rules.engine.judge import judge
from hazard_rules.facts.collect import FactSet
from hazard_rules.results import Result, label_key, summarize, violation_key

__all__ = ["judge_parallel"]


def _work(
    conn: Connection,
    compiled: CompiledPack,
    facts: FactSet,
    as_of: date,
    explain: bool,
    show_unmapped: bool,
    part: tuple[int, int],
) -> None:
    """One forked worker: judge one partition and send the result back."""
    try:
        conn.send(
            judge(compiled, facts, as_of, explain=explain, show_unmapped=show_unmapped, part=part)
        )
    except BaseException as exc:  # the parent raises it
        conn.send(exc)
    finally:
        conn.close()


def judge_parallel(
    compiled: CompiledPack,
    facts: FactSet,
    as_of: date,
    jobs: int,
    *,
    explain: bool = False,
    show_unmapped: bool = False,
) -> Result:
    """Like :func:`~hazard_rules.engine.judge.judge`, in ``jobs`` processes.

    Each worker is forked with its arguments (fork copies them, nothing is pickled on the way
    in and no module state is needed to hand them over); its result comes back on a pipe.
    """
    if jobs <= 1 or "fork" not in mp.get_all_start_methods():
        return judge(compiled, facts, as_of, explain=explain, show_unmapped=show_unmapped)
    ctx = mp.get_context("fork")
    workers = []
    for k in range(jobs):
        receive, send = ctx.Pipe(duplex=False)
        args = (send, compiled, facts, as_of, explain, show_unmapped, (k, jobs))
        proc = ctx.Process(target=_work, args=args, daemon=True)
        proc.start()
        send.close()  # the child holds its own end
        workers.append((proc, receive))
    parts: list[Result] = []
    try:
        for _proc, receive in workers:
            got = receive.recv()
            if isinstance(got, BaseException):
                raise got
            parts.append(got)
    finally:
        for proc, receive in workers:
            receive.close()
            proc.join()
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
