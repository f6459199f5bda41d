"""The Dask executor of partitioned runs: ``evaluate(..., client=...)``, ``--dask``.

The client plans the run and reads the broadcast types; the broadcast records are scattered
to every worker, and each task is a plain function of its arguments (a part's spec, the
records it needs), so Dask may run it anywhere and run it again when a worker is lost. A
read task's result (its summary and the records it keeps, by subject bucket) stays in the
worker's memory; the client gathers only summaries, and each judge task receives the
records of its buckets from the read tasks' workers.

Workers rebuild the compiled packs from a :class:`PackRecipe` (bundled pack ids, or the
paths of a user's packs, which every worker must be able to read) and check that they run
the client's version of hazard-rules. A run that cannot finish — a worker that keeps dying,
a lost connection — raises :class:`~hazard_rules.errors.BackendError`; Dask's own retries
(a task whose worker died is run again elsewhere) give the complete result or none.

Requires the ``dask`` extra (``pip install 'hazard-rules[dask]'``: dask and distributed).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from hazard_rules.engine.compile import CompiledPack, compile_pack
from hazard_rules.errors import BackendError, BackendUnavailableError, HazardRulesError
from hazard_rules.packs import PackSet, bundled_root, load_packs
from hazard_rules.scale.partition import (
    Context,
    Duplicates,
    Found,
    Packed,
    PartSpec,
    PartSummary,
    Plan,
    judge_partition,
    lookup,
    read_part,
    select,
)

__all__ = ["DaskExecutor", "PackRecipe", "connect", "recipe_of", "require_dask"]

MISSING = (
    "Dask is not installed: pip install 'hazard-rules[dask]' (dask and distributed) to run on "
    "a Dask cluster, or use --jobs N for processes on this machine"
)


def require_dask() -> None:
    """:class:`BackendUnavailableError` with the extra to install, when Dask is missing."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise BackendUnavailableError(MISSING) from None


@dataclass(frozen=True)
class PackRecipe:
    """How a worker loads the client's packs: bundled ids or folder paths, the rules
    selected, and the client's version of hazard-rules."""

    refs: tuple[str, ...]
    rules: tuple[str, ...]
    version: str


def recipe_of(packs: PackSet) -> PackRecipe:
    """The recipe of a loaded pack set (:class:`BackendError` when a worker could not load
    the same packs: none of them has a folder)."""
    from hazard_rules import __version__

    root = bundled_root().resolve()
    refs = []
    for p in packs.packs:
        folder = p.path.resolve()
        refs.append(p.id if folder.is_relative_to(root) else str(folder))
    return PackRecipe(tuple(refs), tuple(r.meta.id for r in packs.rules), __version__)


_COMPILED: dict[PackRecipe, CompiledPack] = {}  # per worker process: packs loaded once
_CONTEXTS: dict[str, Context] = {}  # per worker process: the runs it takes part in


def _compiled(recipe: PackRecipe) -> CompiledPack:
    from hazard_rules import __version__

    if recipe.version != __version__:
        raise BackendError(
            f"a Dask worker runs hazard-rules {__version__}, the client {recipe.version}: "
            "install the same version on every machine"
        )
    got = _COMPILED.get(recipe)
    if got is None:
        packs = load_packs(*recipe.refs)
        if tuple(r.meta.id for r in packs.rules) != recipe.rules:
            packs = packs.only(set(recipe.rules))
        if len(_COMPILED) >= 4:
            _COMPILED.clear()
        got = _COMPILED[recipe] = compile_pack(packs)
    return got


@dataclass(frozen=True)
class _Run:
    """What every task of one run is given (the broadcast records come apart, scattered)."""

    key: str
    recipe: PackRecipe
    as_of: date
    explain: bool
    show_unmapped: bool
    plan: Plan
    render: str | None = None


def _context(run: _Run, records: dict[str, dict[str, dict[str, Any]]]) -> Context:
    got = _CONTEXTS.get(run.key)
    if got is None:
        if len(_CONTEXTS) >= 4:
            _CONTEXTS.clear()
        got = _CONTEXTS[run.key] = Context(
            _compiled(run.recipe),
            records,
            run.as_of,
            run.explain,
            run.show_unmapped,
            run.plan,
            render=run.render,
        )
    return got


def _read(run: _Run, records: Any, spec: PartSpec) -> tuple[PartSummary, Any]:
    return read_part(_context(run, records), spec)


def _summary(part: tuple[PartSummary, Any]) -> PartSummary:
    return part[0]


def _records(part: tuple[PartSummary, Any]) -> tuple[str, Any]:
    return part[0].type, part[1]


def _lookup(run: _Run, records: Any, spec: PartSpec, digests: set[int]) -> list[Found]:
    return lookup(_context(run, records), spec, digests)


def _select(
    part: tuple[str, Any], buckets: frozenset[int], dropped: frozenset[str]
) -> tuple[str, list[dict[str, Any]]]:
    return part[0], select(part[1], buckets, dropped)


def _judge(
    run: _Run, records: Any, buckets: frozenset[int], *chunks: tuple[str, list[dict[str, Any]]]
) -> list[Packed]:
    return judge_partition(_context(run, records), buckets, chunks)


class DaskExecutor:
    """Tasks on a ``distributed.Client`` (see the module docstring)."""

    def __init__(self, ctx: Context, client: Any, packs: PackSet) -> None:
        self.client = client
        workers = client.scheduler_info().get("workers", {})
        self.partitions = max(sum(w.get("nthreads", 1) for w in workers.values()), 1)
        self.run = _Run(
            f"hazard-rules-{uuid.uuid4().hex}",
            recipe_of(packs),
            ctx.as_of,
            ctx.explain,
            ctx.show_unmapped,
            replace(ctx.plan),
            ctx.render,
        )
        # one future for the whole dict (a dict given to scatter becomes a future per key,
        # named by the key: the next run's "enterprise" would be this run's)
        self.records = self._guard(
            lambda: client.scatter([ctx.records], broadcast=True, hash=False)[0]
        )
        self.parts: dict[int, Any] = {}

    def _guard(self, call: Callable[[], Any]) -> Any:
        """Run ``call``, mapping Dask's failures to :class:`BackendError`."""
        try:
            return call()
        except HazardRulesError:
            raise
        except Exception as exc:
            name = type(exc).__name__
            if name == "KilledWorker":
                raise BackendError(
                    "Dask workers died while running a task of this run, more often than "
                    f"Dask retries it ({exc}); no result was made: give the workers more "
                    "memory, or smaller parts"
                ) from None
            if isinstance(exc, (OSError, TimeoutError)) or name in (
                "CancelledError",
                "FutureCancelledError",
                "CommClosedError",
            ):
                raise BackendError(
                    f"the Dask cluster failed during the run ({name}: {exc}); no result was made"
                ) from None
            raise

    def _key(self, what: str) -> str:
        return f"{what}-{self.run.key}-{uuid.uuid4().hex[:8]}"

    def read(
        self, specs: Mapping[int, PartSpec], done: Callable[[PartSummary], None]
    ) -> dict[int, PartSummary]:
        from distributed import as_completed

        c = self.client
        summaries = {}
        for pid, spec in specs.items():
            read = c.submit(
                _read, self.run, self.records, spec, key=self._key(f"read-{pid}"), pure=False
            )
            # the records stay on the worker for the judge tasks; the summary (findings) is
            # released once gathered, with the read task's result
            self.parts[pid] = c.submit(_records, read, key=self._key(f"records-{pid}"))
            summaries[c.submit(_summary, read, key=self._key(f"summary-{pid}"))] = pid
            del read

        def gather() -> dict[int, PartSummary]:
            out: dict[int, PartSummary] = {}
            for fut in as_completed(summaries):
                out[summaries[fut]] = got = fut.result()
                done(got)
            return out

        got: dict[int, PartSummary] = self._guard(gather)
        return got

    def lookup(self, asks: Mapping[int, tuple[PartSpec, set[int]]]) -> dict[int, list[Found]]:
        c = self.client
        futures = {
            pid: c.submit(_lookup, self.run, self.records, spec, d, key=self._key(f"lookup-{pid}"))
            for pid, (spec, d) in asks.items()
        }
        found = self._guard(lambda: c.gather(list(futures.values())))
        return dict(zip(futures, found, strict=True))

    def judge(
        self, assignment: Sequence[int], order: Sequence[int], dups: Duplicates
    ) -> list[list[Packed]]:
        c = self.client
        futures = []
        for k in range(self.partitions):
            buckets = frozenset(b for b, p in enumerate(assignment) if p == k)
            chunks = [
                c.submit(_select, self.parts[pid], buckets, dups.ids(pid), key=self._key("select"))
                for pid in order
            ]
            futures.append(
                c.submit(_judge, self.run, self.records, buckets, *chunks, key=self._key("judge"))
            )
        got: list[list[Packed]] = self._guard(lambda: c.gather(futures))
        return got

    def close(self) -> None:
        # dropping the futures releases their results (and tasks no one waits for any more);
        # an explicit cancel of futures already released upsets the scheduler
        self.parts = {}
        self.records = None


@dataclass
class Connection:
    """A client for a run, and what to close after it (a local cluster started for it)."""

    client: Any
    cluster: Any = None

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def connect(address: str) -> Connection:
    """A client for ``--dask``: ``tcp://HOST:PORT`` (a running scheduler) or ``local:N`` (a
    local cluster of N worker processes, started for the run and closed after it)."""
    require_dask()
    import logging

    from distributed import Client, LocalCluster

    for name in ("distributed", "tornado"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if address.startswith("local:") or address == "local":
        text = address.partition(":")[2] or str(os.cpu_count() or 1)
        if not text.isdigit() or int(text) < 1:
            raise BackendError(f"--dask {address}: local:N takes a number of workers, e.g. local:2")
        cluster = LocalCluster(
            n_workers=int(text),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: several clusters may run on one host
            silence_logs=logging.ERROR,
        )
        return Connection(Client(cluster), cluster)
    try:
        return Connection(Client(address, timeout="20s"))
    except (OSError, TimeoutError) as exc:
        raise BackendError(f"--dask {address}: cannot reach the Dask scheduler: {exc}") from None
