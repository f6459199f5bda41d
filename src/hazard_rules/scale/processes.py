"""The local executor of partitioned runs: ``--jobs N`` forked worker processes.

Workers are forked after the planning process has read the broadcast types, so they share
those records (and the compiled packs) without copying or pickling them. A read task keeps
its records in a file of the run's temporary folder, one pickled section per subject bucket,
so that a judge task loads only its buckets; summaries and findings come back as plain data.
A worker that dies (killed, out of memory) fails the run with :class:`BackendError`: no
partial result is ever given as complete.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from hazard_rules.errors import BackendError
from hazard_rules.scale.partition import (
    Context,
    Duplicates,
    Found,
    Packed,
    PartSpec,
    PartSummary,
    judge_partition,
    lookup,
    read_part,
)

__all__ = ["LocalExecutor", "fork_available"]

_STATE: tuple[Context, str] | None = None  # set in each forked worker by _start


def fork_available() -> bool:
    return "fork" in mp.get_all_start_methods()


def _start(ctx: Context, folder: str) -> None:
    global _STATE
    _STATE = (ctx, folder)


def _state() -> tuple[Context, str]:
    assert _STATE is not None, "a task of a partitioned run outside its worker"
    return _STATE


def _read(pid: int, spec: PartSpec) -> PartSummary:
    ctx, folder = _state()
    summary, data = read_part(ctx, spec)
    offsets: dict[int, tuple[int, int]] = {}
    if data:
        path = os.path.join(folder, f"part-{pid}.pickle")
        with open(path, "wb") as fh:
            for b in sorted(data):
                blob = pickle.dumps(data[b], protocol=pickle.HIGHEST_PROTOCOL)
                offsets[b] = (fh.tell(), len(blob))
                fh.write(blob)
        summary.where = (path, offsets)
    return summary


def _lookup(spec: PartSpec, digests: set[int]) -> list[Found]:
    ctx, _ = _state()
    return lookup(ctx, spec, digests)


def _chunks(
    buckets: frozenset[int], parts: Sequence[tuple[str, Any, frozenset[str]]]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for tname, where, dropped in parts:
        if where is None:
            continue
        path, offsets = where
        mine = sorted(buckets & offsets.keys())
        if not mine:
            continue
        with open(path, "rb") as fh:
            for b in mine:
                start, size = offsets[b]
                fh.seek(start)
                recs: list[dict[str, Any]] = pickle.loads(fh.read(size))
                yield tname, [r for r in recs if r["id"] not in dropped] if dropped else recs


def _judge(
    buckets: frozenset[int], parts: Sequence[tuple[str, Any, frozenset[str]]]
) -> list[Packed]:
    ctx, _ = _state()
    return judge_partition(ctx, buckets, _chunks(buckets, parts))


class LocalExecutor:
    """``jobs`` forked processes (see the module docstring)."""

    def __init__(self, ctx: Context, jobs: int) -> None:
        self.partitions = jobs
        self.folder = tempfile.mkdtemp(prefix="hazard-rules-jobs-")
        self.pool = ProcessPoolExecutor(
            jobs, mp_context=mp.get_context("fork"), initializer=_start, initargs=(ctx, self.folder)
        )
        self.summaries: dict[int, PartSummary] = {}

    def _results(
        self, futures: Mapping[Future[Any], int], done: Callable[[Any], None]
    ) -> dict[int, Any]:
        out: dict[int, Any] = {}
        try:
            for fut in as_completed(futures):
                out[futures[fut]] = got = fut.result()
                done(got)
        except BrokenProcessPool:
            raise BackendError(
                "a worker process of --jobs died before it finished (killed, or out of "
                "memory?); no result was made: run again, with fewer --jobs or on a machine "
                "with more memory"
            ) from None
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        return out

    def read(
        self, specs: Mapping[int, PartSpec], done: Callable[[PartSummary], None]
    ) -> dict[int, PartSummary]:
        futures = {self.pool.submit(_read, pid, spec): pid for pid, spec in specs.items()}
        got: dict[int, PartSummary] = self._results(futures, done)
        self.summaries.update(got)
        return got

    def lookup(self, asks: Mapping[int, tuple[PartSpec, set[int]]]) -> dict[int, list[Found]]:
        futures = {self.pool.submit(_lookup, spec, d): pid for pid, (spec, d) in asks.items()}
        return self._results(futures, lambda _: None)

    def judge(
        self, assignment: Sequence[int], order: Sequence[int], dups: Duplicates
    ) -> list[list[Packed]]:
        parts = [(self.summaries[i].type, self.summaries[i].where, dups.ids(i)) for i in order]
        futures = {
            self.pool.submit(
                _judge, frozenset(b for b, k in enumerate(assignment) if k == part), parts
            ): part
            for part in range(self.partitions)
        }
        got = self._results(futures, lambda _: None)
        return [got[k] for k in range(self.partitions)]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.folder, ignore_errors=True)
