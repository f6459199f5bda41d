"""Partitioned evaluation: an export read and judged in parts by workers, merged into exactly
the result one process gives (``--jobs N`` in local processes, or a Dask cluster).

The pipeline (docs/scale-out.md), independent of who runs its tasks:

1. **Plan** (:func:`plan`): the export's parts — a file, a sheet, or a block of a large
   CSV/JSONL file (:mod:`hazard_rules.io.blocks`) — in reading order: record types in
   reference order, then files in name order, then lines.
2. **Broadcast** (:func:`read_broadcast`, in the planning process): the types other records
   refer to and the subjects of rules (``retention`` keeps them whole: enterprise, site) are
   read whole, in order, exactly as ``collect_facts`` reads them, and their record rules
   judged. Workers get them (fork shares them; Dask scatters them).
3. **Read** (:func:`read_part`, one task per part): coerce, check references against the
   broadcast records, de-duplicate within the part, judge the criterion and check rules of
   each record as it is read (as one streaming process does), and keep of each record only
   what time-based rules need, filed by the *bucket* of the subject it is evidence for (the
   subject a recurring, deadline or trend rule names through the record's ``via`` field).
   The summary that comes back holds rejections with their sources, notes, read counts,
   findings as plain tuples, and 64-bit digests of the ids accepted.
4. **De-duplicate** (:func:`find_duplicates`): an id accepted in an earlier part makes a later
   row with that id a rejected duplicate naming the first one's source, as in one process.
   Digests are compared group by group; a shared digest is confirmed on the ids themselves
   by reading those parts again (:func:`lookup`), so a digest collision never rejects a row.
5. **Assign** (:func:`assign`): buckets go to partitions, heaviest first to the lightest
   partition (balanced by record count, not only by hash).
6. **Judge** (:func:`judge_partition`): each partition judges the deadline, recurring and
   trend rules of the subjects it owns, with all of their evidence.
7. **Merge** (:func:`merge`): findings, classifications, candidates, rejections, notes and
   counts in exactly the order and content of one process; ``api._finish`` then does the
   one post-processing (doubtful marks, waivers, the rejection limit).
"""

from __future__ import annotations

import heapq
import os
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hazard_rules.engine.compile import CompiledPack, Finding
from hazard_rules.engine.judge import Evaluation, retention
from hazard_rules.facts.collect import FactSet, LostRow, collect_facts, rows_from_mapping
from hazard_rules.facts.rows import RawRow
from hazard_rules.io.blocks import Block, BlockReading, block_rows, plan_blocks, totals_note
from hazard_rules.io.export import Export, read_export
from hazard_rules.io.maps import ColumnMap
from hazard_rules.io.remote import is_url, mirror, viewed
from hazard_rules.ir import Deadline, Recurring, Trend
from hazard_rules.results import Candidate, Classification, RecordRef, Rejected, Result
from hazard_rules.source import display_view

__all__ = [
    "BUCKETS",
    "Absorber",
    "Context",
    "Duplicates",
    "PartSpec",
    "PartSummary",
    "Phase1",
    "Plan",
    "Rendered",
    "Unpartitionable",
    "assign",
    "bucket",
    "find_duplicates",
    "judge_partition",
    "lookup",
    "merge",
    "plan",
    "read_broadcast",
    "read_part",
    "select",
]

BUCKETS = 256  # subject buckets: the unit of assignment to partitions
ID_GROUPS = 16  # the digests of accepted ids are compared one group at a time
MIN_BLOCK = 4 << 20
MAX_BLOCK = 128 << 20

Rows = Iterable[RawRow]
Packed = tuple[Any, ...]  # a finding, classification or candidate as plain data
Found = tuple[str, str, int, dict[str, str]]  # id, source, row ordinal, readable references


class Unpartitionable(Exception):
    """The export cannot be read in parts (a mixed JSONL file: its rows are grouped by type
    in memory); the caller evaluates it in one process."""


def bucket(subject_id: str) -> int:
    """The bucket of a subject id (every record routed to a subject goes to its bucket)."""
    return zlib.crc32(subject_id.encode("utf-8", "surrogatepass")) % BUCKETS


def _digest(rid: str) -> int:
    """A 64-bit digest of an id: two cheap checksums side by side (a shared digest is only a
    reason to compare the ids themselves, so it needs to be rare, not unforgeable)."""
    raw = rid.encode("utf-8", "surrogatepass")
    return zlib.crc32(raw) << 32 | zlib.adler32(raw)


# -- plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartSpec:
    """One part: ``slot`` is its place in ``Export.parts[type]``; a block of that file, or
    rows given as Python objects (a mapping's records, for Dask)."""

    type: str
    slot: int
    block: Block | None = None
    rows: tuple[RawRow, ...] | None = None
    file: str | None = None  # the file's name, in the export's folder (a URL's: to fetch it)

    @property
    def file_key(self) -> tuple[str, int]:
        return (self.type, self.slot)


@dataclass(frozen=True)
class Plan:
    """What every task needs to find its part: the export as given and where it is."""

    source: str | None  # the export as given (None: records given as a mapping)
    absolute: str | None
    cwd: str
    encoding: str | None
    column_map: ColumnMap | None
    broadcast: tuple[str, ...]
    parts: tuple[PartSpec, ...]
    remote: bool = False  # ``source`` is an fsspec URL (io/remote.py)


def broadcast_types(compiled: CompiledPack) -> tuple[str, ...]:
    """The types read whole before the others: those other records refer to, and subjects."""
    kept = retention(compiled)
    return tuple(t for t in compiled.packs.schema.order if kept[t] is None)


def block_size(total: int, workers: int) -> int:
    """Blocks of about a quarter of a worker's share, within [4 MiB, 128 MiB]."""
    return max(MIN_BLOCK, min(MAX_BLOCK, total // max(4 * workers, 1)))


def plan(
    compiled: CompiledPack,
    source: str | os.PathLike[str],
    *,
    encoding: str | None,
    column_map: ColumnMap | None,
    workers: int,
    block_bytes: int | None = None,
) -> tuple[Plan, Export]:
    """The parts of the export at ``source`` (see the module docstring), and the export as
    read lazily by the planning process (it reads the broadcast types from it)."""
    schema = compiled.packs.schema
    shared = broadcast_types(compiled)
    remote = is_url(source)
    if remote:
        url = str(source)
        local = mirror(url, lambda name: False)
        with viewed(url, local):
            first = read_export(local, schema, encoding=encoding, column_map=column_map)
        names = {o.path.name for t in shared for o in first.origins.get(t, ())}
        local = mirror(url, lambda name: name in names)  # the broadcast types' files
        with viewed(url, local):
            export = read_export(local, schema, encoding=encoding, column_map=column_map)
    else:
        export = read_export(source, schema, encoding=encoding, column_map=column_map)
    if export.mixed:
        raise Unpartitionable('a mixed JSONL file (lines with "type") is read in one process')
    sizes = [
        _size(o.path) for t, origins in export.origins.items() if t not in shared for o in origins
    ]
    size = block_bytes or block_size(sum(sizes), workers)
    specs: list[PartSpec] = []
    for tname in schema.order:
        if tname in shared or tname not in export.origins:
            continue
        for slot, origin in enumerate(export.origins[tname]):
            if origin.kind not in ("csv", "tsv", "jsonl") or remote:
                specs.append(PartSpec(tname, slot, file=origin.path.name))
                continue
            blocks = plan_blocks(
                origin.path,
                origin.name,
                tname,
                origin.kind,
                schema,
                encoding=encoding,
                column_map=column_map,
                block_bytes=size,
            )
            if len(blocks) == 1:
                specs.append(PartSpec(tname, slot, file=origin.path.name))
            else:
                specs.extend(PartSpec(tname, slot, b) for b in blocks)
    where = os.fspath(source)
    the_plan = Plan(
        where,
        None if remote else os.path.abspath(where),
        os.getcwd(),
        encoding,
        column_map,
        shared,
        tuple(specs),
        remote,
    )
    return the_plan, export


def plan_mapping(
    compiled: CompiledPack, facts: Mapping[str, Iterable[Any]], *, chunk: int | None = None
) -> tuple[Plan, dict[str, Rows]]:
    """Parts of records given as Python objects: one per type (``chunk``: rows per part,
    materialised, for executors that ship parts to other machines)."""
    sources = rows_from_mapping(facts)
    shared = broadcast_types(compiled)
    unknown = [t for t in sources if t not in compiled.packs.schema.types]
    if unknown:
        raise Unpartitionable("records of types the packs do not know")
    specs: list[PartSpec] = []
    for tname in compiled.packs.schema.order:
        if tname in shared or tname not in sources:
            continue
        if chunk is None:
            specs.append(PartSpec(tname, 0))
            continue
        rows = list(sources[tname])
        for i in range(0, max(len(rows), 1), chunk):
            specs.append(PartSpec(tname, i, rows=tuple(rows[i : i + chunk])))
    return Plan(None, None, os.getcwd(), None, None, shared, tuple(specs)), sources


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# -- what every task is given -----------------------------------------------------------------


@dataclass
class Context:
    """What tasks read: the compiled packs, the broadcast records, the options, the plan;
    ``mapping``: records given as Python objects (processes forked from the caller only)."""

    compiled: CompiledPack
    records: dict[str, dict[str, dict[str, Any]]]
    as_of: date
    explain: bool
    show_unmapped: bool
    plan: Plan
    mapping: Mapping[str, Iterable[Any]] | None = None
    render: str | None = None  # "jsonl": findings also travel as their output lines
    _routes: dict[str, tuple[str, ...]] | None = None

    @property
    def routes(self) -> dict[str, tuple[str, ...]]:
        """Type → the fields naming the subjects its records are evidence for."""
        if self._routes is None:
            out: dict[str, set[str]] = {}
            for cr in self.compiled.timed:
                rule = cr.rule
                assert isinstance(rule, (Deadline, Recurring, Trend))
                ev = rule.count if isinstance(rule, Trend) else rule.evidence
                if ev.type not in self.plan.broadcast:
                    out.setdefault(ev.type, set()).add(ev.via)
            self._routes = {t: tuple(sorted(v)) for t, v in out.items()}
        return self._routes


# -- phase 1: the broadcast types ---------------------------------------------------------------


@dataclass
class TypeSlice:
    """What reading one type produced, in reading order."""

    rejected: list[Rejected] = field(default_factory=list)
    lost: list[LostRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # collect_facts's (unknown fields)
    reading: list[str] = field(default_factory=list)  # the readers' (export notes)


@dataclass
class Phase1:
    """The broadcast types read whole, with their record rules judged."""

    records: dict[str, dict[str, dict[str, Any]]]
    slices: dict[str, TypeSlice]
    read: int
    read_by_file: Counter[str]
    findings: list[Finding]
    classifications: list[Classification]
    candidates: list[Candidate]
    unmapped: list[RecordRef]
    initial_notes: list[str]


def read_broadcast(
    compiled: CompiledPack,
    sources: Mapping[str, Rows],
    export_notes: list[str] | None,
    as_of: date,
    *,
    explain: bool,
    show_unmapped: bool,
    progress: Callable[[int, int], None] | None = None,
) -> Phase1:
    """Read the broadcast types whole, in reference order, judging their record rules."""
    schema = compiled.packs.schema
    facts = FactSet(records={t: {} for t in schema.order})
    ev = Evaluation(compiled, facts, as_of, explain=explain, show_unmapped=show_unmapped)
    notes = export_notes if export_notes is not None else []
    initial = list(notes)
    kept = retention(compiled)
    slices: dict[str, TypeSlice] = {}
    for tname in broadcast_types(compiled):
        if tname not in sources:
            continue
        marks = (len(facts.rejected), len(facts.lost), len(facts.notes), len(notes))
        collect_facts(
            schema,
            {tname: sources[tname]},
            into=facts,
            on_batch=ev.record_rules.record_batch,
            retain=kept,
            progress=progress,
        )
        slices[tname] = TypeSlice(
            facts.rejected[marks[0] :],
            facts.lost[marks[1] :],
            facts.notes[marks[2] :],
            notes[marks[3] :],
        )
    j = ev.judging
    return Phase1(
        facts.records,
        slices,
        facts.read,
        facts.read_by_file,
        j.violations,
        j.classifications,
        j.candidates,
        j.unmapped,
        initial,
    )


# -- phase 2: one part -------------------------------------------------------------------------


class _PartFacts(FactSet):
    """A fact set that also remembers at which row of the part each rejection happened."""

    ordinals: list[int]

    def reject(
        self,
        tname: str,
        rid: str | None,
        source: str,
        field_name: str | None,
        reason: str,
        refs: Mapping[str, str] | None,
    ) -> None:
        super().reject(tname, rid, source, field_name, reason, refs)
        self.ordinals.append(self.read)


@dataclass
class PartSummary:
    """What a part task sends back (plain data; records stay with the worker)."""

    type: str
    slot: int
    name: str | None  # the file's shown name, when the part is one of its blocks
    read: int
    read_by_file: dict[str, int]
    rejected: list[tuple[str, str | None, str, str | None, str]]
    ordinals: list[int]  # the row (1-based, within the part) of each rejection
    lost: list[LostRow]
    notes: list[str]
    reading: list[str]
    totals: list[int]
    anomalous: bool
    accepted: int
    digests: list[bytes]  # per id group: array('Q') of the accepted ids' digests
    findings: list[Packed]
    classifications: list[Packed]
    candidates: list[Packed]
    unmapped: list[tuple[str, str]]
    weights: dict[int, int]  # bucket → records routed to it
    where: Any = None  # where the executor keeps the part's records
    # findings, classifications, candidates, unmapped as objects, once absorbed (Absorber)
    absorbed: (
        tuple[list[Finding], list[Classification], list[Candidate], list[RecordRef]] | None
    ) = None


PartData = dict[int, list[dict[str, Any]]]  # bucket → records (projections) routed to it


def _root(ctx: Context, spec: PartSpec) -> str | None:
    """Where the part's export is on this machine (a URL's mirror, with the part's file)."""
    p = ctx.plan
    if p.remote and p.source is not None:
        return str(mirror(p.source, lambda name: name == spec.file))
    return p.absolute


def _rows(
    ctx: Context, spec: PartSpec, reading: BlockReading, root: str | None
) -> tuple[Rows, Export | None]:
    p = ctx.plan
    schema = ctx.compiled.packs.schema
    if spec.rows is not None:
        return spec.rows, None
    if p.source is None:
        assert ctx.mapping is not None, "records given as a mapping are read in forked processes"
        return rows_from_mapping(ctx.mapping)[spec.type], None
    if spec.block is not None:
        rows = block_rows(
            spec.block, schema, encoding=p.encoding, column_map=p.column_map, out=reading
        )
        return rows, None
    export = read_export(root or p.source, schema, encoding=p.encoding, column_map=p.column_map)
    del export.notes[:]  # what listing the folder noted, the planning process noted already
    return export.parts[spec.type][spec.slot], export


def _viewed(ctx: Context, root: str | None) -> Any:
    p = ctx.plan
    if p.source is None or root is None:
        from contextlib import nullcontext

        return nullcontext()
    if p.remote:
        return viewed(p.source, Path(root))
    return display_view(p.cwd, root, p.source)


def read_part(ctx: Context, spec: PartSpec) -> tuple[PartSummary, PartData]:
    """Read, check and judge one part (step 3 of the module docstring)."""
    compiled = ctx.compiled
    schema = compiled.packs.schema
    tname = spec.type
    records = {**ctx.records, tname: {}}
    facts = _PartFacts(records=records)
    facts.ordinals = []
    ev = Evaluation(
        compiled, facts, ctx.as_of, explain=ctx.explain, show_unmapped=ctx.show_unmapped
    )
    reading = BlockReading()
    first_seen: dict[str, dict[str, str]] = {}
    kept = retention(compiled)
    root = _root(ctx, spec)
    with _viewed(ctx, root):
        rows, export = _rows(ctx, spec, reading, root)
        collect_facts(
            schema,
            {tname: rows},
            into=facts,
            on_batch=ev.record_rules.record_batch,
            retain=kept,
            first_seen=first_seen,
        )
    accepted = records[tname]
    digests = [array("Q") for _ in range(ID_GROUPS)]
    for rid in accepted:
        d = _digest(rid)
        digests[d % ID_GROUPS].append(d)
    data: PartData = {}
    weights: Counter[int] = Counter()
    vias = ctx.routes.get(tname, ())
    for rec in accepted.values() if vias else ():
        seen: set[int] = set()
        for via in vias:
            owner = rec.get(via)
            if owner is None:
                continue
            b = bucket(str(owner))
            if b not in seen:
                seen.add(b)
                data.setdefault(b, []).append(rec)
                weights[b] += 1
    j = ev.judging
    reading_notes = reading.notes if export is None else export.notes
    summary = PartSummary(
        type=tname,
        slot=spec.slot,
        name=spec.block.name if spec.block is not None else None,
        read=facts.read,
        read_by_file=dict(facts.read_by_file),
        rejected=[(r.type, r.id, r.source, r.field, r.reason) for r in facts.rejected],
        ordinals=facts.ordinals,
        lost=facts.lost,
        notes=facts.notes,
        reading=reading_notes,
        totals=reading.totals,
        anomalous=reading.anomalous,
        accepted=len(accepted),
        digests=[a.tobytes() for a in digests],
        findings=[pack_finding(f, ctx.render) for f in j.violations],
        classifications=[_pack_label(c) for c in j.classifications],
        candidates=[_pack_label(c) for c in j.candidates],
        unmapped=[(r.type, r.id) for r in j.unmapped],
        weights=dict(weights),
    )
    return summary, data


def lookup(ctx: Context, spec: PartSpec, digests: set[int]) -> list[Found]:
    """The accepted rows of a part whose id has one of ``digests``: (id, source, row
    ordinal, the references readable from the row). Reads the part again (rare: only parts
    sharing an id digest with an earlier part)."""
    schema = ctx.compiled.packs.schema
    tname = spec.type
    records = {**ctx.records, tname: {}}
    facts = FactSet(records=records)
    first_seen: dict[str, dict[str, str]] = {}
    ordinal: dict[str, int] = {}

    def counted(rows: Rows) -> Iterator[RawRow]:
        for n, row in enumerate(rows, 1):
            ordinal[row[1]] = n
            yield row

    root = _root(ctx, spec)
    with _viewed(ctx, root):
        rows, _ = _rows(ctx, spec, BlockReading(), root)
        collect_facts(schema, {tname: counted(rows)}, into=facts, first_seen=first_seen)
    refs = [f.name for f in schema.types[tname].fields.values() if f.kind == "ref"]
    out = []
    for rid, src in first_seen.get(tname, {}).items():
        if _digest(rid) in digests:
            rec = records[tname][rid]
            readable = {f: str(rec[f]) for f in refs if rec.get(f) is not None}
            readable["id"] = rid
            out.append((rid, src, ordinal[src], readable))
    return out


# -- findings and labels as plain data ----------------------------------------------------------


class Rendered(Finding):
    """A finding with its JSONL line, made by the worker that judged it (``line``): the
    writer of a partitioned run's report only writes it. A finding changed after judging
    (doubtful, waived: ``_replace``) is a new tuple without the line, and is rendered again."""


def pack_finding(f: Finding, render: str | None = None) -> Packed:
    """A finding as plain tuples (no pydantic model crosses a process boundary); with
    ``render="jsonl"``, its output line too."""
    line = (f.violation().model_dump_json(),) if render == "jsonl" else ()
    return (
        f.meta.id,
        f.status,
        (f.subject.type, f.subject.id),
        (f.record.type, f.record.id) if f.record is not None else None,
        f.period,
        f.due,
        tuple((e.type, e.id) for e in f.evidence),
        f.message,
        f.message_en,
        f.explain,
        *line,
    )


def _pack_label(c: Classification | Candidate) -> Packed:
    """A classification or candidate as plain data: the refs as pairs, then every other field
    in the model's order (the merge rebuilds the model from them, so nothing is lost)."""
    rest = tuple(getattr(c, name) for name in type(c).model_fields if name not in _REFS)
    return ((c.record.type, c.record.id), (c.subject.type, c.subject.id), *rest)


_REFS = ("record", "subject")


def _unpack_label(model: type[Any], packed: Packed, ref: Callable[[Any], RecordRef]) -> Any:
    """The inverse of :func:`_pack_label` (without validation: the values came from a model)."""
    names = [name for name in model.model_fields if name not in _REFS]
    r, sj, *rest = packed
    values = dict(zip(names, rest, strict=True))
    if "hints" in values:
        values["hints"] = list(values["hints"])
    return model.model_construct(record=ref(r), subject=ref(sj), **values)


# -- de-duplication across parts ------------------------------------------------------------------


@dataclass
class Duplicates:
    """Rows of later parts whose id an earlier part accepted: per part, the accepted rows
    now rejected (id → (source, ordinal, refs, first source)) and the rejections that now
    name the first source (index into the part's rejections → first source)."""

    dropped: dict[int, dict[str, tuple[str, int, dict[str, str], str]]] = field(
        default_factory=dict
    )
    renamed: dict[int, dict[int, str]] = field(default_factory=dict)

    def ids(self, part: int) -> frozenset[str]:
        return frozenset(self.dropped.get(part, {}))


def _after_coercion(ref_fields: Sequence[str], fname: str | None, reason: str) -> bool:
    """A rejection that came after the row was coerced (a duplicate, or a dangling reference):
    in one process, an id accepted earlier would have made it a duplicate."""
    if fname == "id" and reason.startswith("duplicate id "):
        return True
    return fname in ref_fields and reason.endswith("which is not among the accepted records")


def find_duplicates(
    ctx: Context,
    summaries: Sequence[PartSummary],
    lookups: Callable[[dict[int, set[int]]], dict[int, list[Found]]],
) -> Duplicates:
    """Step 4 of the module docstring. ``lookups({part: digests})`` runs :func:`lookup` on
    each part named (wherever the executor runs tasks) and returns the rows found, by part."""
    schema = ctx.compiled.packs.schema
    by_type: dict[str, list[int]] = {}
    for i, s in enumerate(summaries):
        by_type.setdefault(s.type, []).append(i)
    suspects: dict[int, set[int]] = {}  # part → digests of ids to read back
    to_rename: dict[int, list[tuple[int, str]]] = {}  # part → (rejection, id) to check
    for tname, parts in by_type.items():
        if len(parts) < 2:
            continue
        refs = [f.name for f in schema.types[tname].fields.values() if f.kind == "ref"]
        asked = {
            p: [
                (ri, rid, _digest(rid))
                for ri, (_, rid, _, fname, reason) in enumerate(summaries[p].rejected)
                if rid is not None and _after_coercion(refs, fname, reason)
            ]
            for p in parts
        }
        for g in range(ID_GROUPS):
            before: set[int] = set()
            owners: list[tuple[int, set[int]]] = []

            def suspect(d: int, owners: list[tuple[int, set[int]]] = owners) -> None:
                for q, theirs in owners:
                    if d in theirs:
                        suspects.setdefault(q, set()).add(d)

            for p in parts:
                mine = set(array("Q", summaries[p].digests[g]))
                for d in mine & before:
                    suspects.setdefault(p, set()).add(d)
                    suspect(d)
                for ri, rid, d in asked[p]:
                    if d % ID_GROUPS == g and d in before:
                        to_rename.setdefault(p, []).append((ri, rid))
                        suspect(d)
                before |= mine
                owners.append((p, mine))
    out = Duplicates()
    if not suspects:
        return out
    found = lookups(suspects)
    for parts in by_type.values():
        first: dict[str, str] = {}  # id → the source of its first acceptance
        for p in parts:
            for ri, rid in to_rename.get(p, ()):
                if rid in first:
                    out.renamed.setdefault(p, {})[ri] = first[rid]
            for rid, src, n, readable in found.get(p, ()):
                if rid in first:
                    out.dropped.setdefault(p, {})[rid] = (src, n, readable, first[rid])
                else:
                    first[rid] = src
    return out


# -- assignment and judging -------------------------------------------------------------------------


def assign(summaries: Sequence[PartSummary], subjects: Iterable[str], partitions: int) -> list[int]:
    """Bucket → partition: the heaviest bucket first, each to the lightest partition so far
    (weights: the records routed to the bucket, and its subjects)."""
    weight: Counter[int] = Counter()
    for s in summaries:
        weight.update(s.weights)
    for sid in subjects:
        weight[bucket(sid)] += 1
    load = [(0, k) for k in range(partitions)]
    out = [0] * BUCKETS
    for b in sorted(range(BUCKETS), key=lambda b: (-weight[b], b)):
        w, k = heapq.heappop(load)
        out[b] = k
        heapq.heappush(load, (w + weight[b], k))
    return out


def select(
    data: PartData, buckets: frozenset[int], dropped: frozenset[str]
) -> list[dict[str, Any]]:
    """The records of a part routed to ``buckets`` (a partition's), less duplicates."""
    out: list[dict[str, Any]] = []
    for b in sorted(buckets & data.keys()):
        out.extend(r for r in data[b] if r["id"] not in dropped)
    return out


def judge_partition(
    ctx: Context, buckets: frozenset[int], chunks: Iterable[tuple[str, list[dict[str, Any]]]]
) -> list[Packed]:
    """Judge the deadline, recurring and trend rules of the subjects in ``buckets``, over the
    broadcast records and the ``(type, records)`` chunks routed to them."""
    shared = ctx.plan.broadcast
    records: dict[str, dict[str, dict[str, Any]]] = {
        t: ctx.records.get(t, {}) if t in shared else {} for t in ctx.compiled.packs.schema.order
    }
    for tname, recs in chunks:
        got = records[tname]
        for r in recs:
            got.setdefault(r["id"], r)
    facts = FactSet(records=records)

    def owns(subject_id: str) -> bool:
        return bucket(subject_id) in buckets

    ev = Evaluation(
        ctx.compiled,
        facts,
        ctx.as_of,
        explain=ctx.explain,
        show_unmapped=ctx.show_unmapped,
        part=owns,
    )
    ev.judge_time_rules()
    return [pack_finding(f, ctx.render) for f in ev.judging.violations]


# -- merge --------------------------------------------------------------------------------------------


class _Merged(FactSet):
    """The fact set of a merged run for ``api._finish``: counts, rejections and notes, no
    records (they stayed with the workers)."""

    accepted: int = 0

    @property
    def evaluated(self) -> int:
        return self.accepted


def merge(
    ctx: Context,
    phase1: Phase1,
    summaries: Sequence[PartSummary],
    dups: Duplicates,
    judged: Iterable[list[Packed]],
    absorb: Absorber | None = None,
) -> tuple[Result, list[Finding], FactSet, list[str]]:
    """Step 7 of the module docstring: the result (violations apart, as sorted findings), the
    fact set ``api._finish`` reads, and the readers' notes — as one process gives them."""
    compiled = ctx.compiled
    schema = compiled.packs.schema
    absorb = absorb or Absorber(ctx)
    facts = _Merged(records={})
    facts.read = phase1.read
    facts.read_by_file.update(phase1.read_by_file)
    accepted = sum(len(phase1.records.get(t, {})) for t in ctx.plan.broadcast)
    reading = list(phase1.initial_notes)
    findings = list(phase1.findings)
    classifications = list(phase1.classifications)
    candidates = list(phase1.candidates)
    unmapped = list(phase1.unmapped)
    by_type: dict[str, list[int]] = {}
    for i, s in enumerate(summaries):
        by_type.setdefault(s.type, []).append(i)
    for tname in schema.order:
        if tname in phase1.slices:
            sl = phase1.slices[tname]
            facts.rejected.extend(sl.rejected)
            facts.lost.extend(sl.lost)
            facts.notes.extend(sl.notes)
            reading.extend(sl.reading)
            continue
        unknown_fields: set[str] = set()
        totals: list[int] = []
        for n, p in enumerate(by_type.get(tname, ())):
            s = summaries[p]
            gone = dups.dropped.get(p, {})
            facts.read += s.read
            facts.read_by_file.update(s.read_by_file)
            accepted += s.accepted - len(gone)
            _merge_rejections(facts, s, gone, dups.renamed.get(p, {}))
            for note in s.notes:
                _, _, rest = note.partition(f": {tname} has no field ")
                if rest not in unknown_fields:
                    unknown_fields.add(rest)
                    facts.notes.append(note)
            reading.extend(s.reading)
            totals.extend(s.totals)
            nxt = by_type[tname][n + 1] if n + 1 < len(by_type[tname]) else None
            if s.name is not None and (nxt is None or summaries[nxt].slot != s.slot):
                reading.extend(totals_note(s.name, tname, totals))  # after the file's last block
                totals = []
            found, labels, leads, unmapped_here = absorb(s)
            if gone:
                key = frozenset(gone)

                def mine(r: RecordRef | None, key: frozenset[str] = key, t: str = tname) -> bool:
                    return r is not None and r.type == t and r.id in key

                found = [f for f in found if not mine(f.record)]
                labels = [c for c in labels if not mine(c.record)]
                leads = [c for c in leads if not mine(c.record)]
                unmapped_here = [u for u in unmapped_here if not mine(u)]
            findings.extend(found)
            classifications.extend(labels)
            candidates.extend(leads)
            unmapped.extend(unmapped_here)
    for part in judged:
        findings.extend(absorb.findings(part))
    facts.accepted = accepted
    ev = Evaluation(
        compiled, facts, ctx.as_of, explain=ctx.explain, show_unmapped=ctx.show_unmapped
    )
    j = ev.judging
    j.violations, j.classifications, j.candidates, j.unmapped = (
        findings,
        classifications,
        candidates,
        unmapped,
    )
    result, ordered = ev.finish(ctx.show_unmapped)
    return result, ordered, facts, reading


def _merge_rejections(
    facts: FactSet,
    s: PartSummary,
    gone: Mapping[str, tuple[str, int, dict[str, str], str]],
    renamed: Mapping[int, str],
) -> None:
    """The part's rejections, with its rows that duplicate an earlier part's ids rejected
    in their place (by row) and rejections renamed to the duplicates they are."""
    rows: list[tuple[int, int, Rejected, LostRow]] = []
    for i, (t, rid, src, fname, reason) in enumerate(s.rejected):
        if i in renamed:
            fname, reason = "id", f"duplicate id {rid!r}: first seen at {renamed[i]}"
        rej = Rejected(type=t, id=rid, source=src, field=fname, reason=reason)
        rows.append((s.ordinals[i], 0, rej, s.lost[i]))
    for rid, (src, n, readable, first) in gone.items():
        reason = f"duplicate id {rid!r}: first seen at {first}"
        rej = Rejected(type=s.type, id=rid, source=src, field="id", reason=reason)
        rows.append((n, 1, rej, LostRow(s.type, readable, src)))
    if gone:
        rows.sort(key=lambda r: (r[0], r[1]))
    for _, _, rej, lost in rows:
        facts.rejected.append(rej)
        facts.lost.append(lost)


class Absorber:
    """Turns what parts send back into the objects one process makes (findings, shared
    :class:`RecordRef`, classifications): called on each summary as it arrives, while the
    workers go on, so that little is left for the end of the run."""

    def __init__(self, ctx: Context) -> None:
        self.metas = {r.meta.id: r.meta for r in ctx.compiled.packs.rules}
        self.refs: dict[tuple[str, str], RecordRef] = {}

    def ref(self, key: tuple[str, str]) -> RecordRef:
        got = self.refs.get(key)
        if got is None:
            # every field given, as validated models are built in one process: no validation
            got = self.refs[key] = RecordRef.model_construct(type=key[0], id=key[1])
        return got

    def findings(self, packed: Iterable[Packed]) -> list[Finding]:
        metas, refs, ref = self.metas, self.refs, self.ref
        out: list[Finding] = []
        for rule, status, subject, record, period, due, evidence, zh, en, explain, *line in packed:
            f = (Rendered if line else Finding)(
                metas[rule],
                status,
                refs.get(subject) or ref(subject),
                None if record is None else refs.get(record) or ref(record),
                period,
                due,
                tuple([refs.get(e) or ref(e) for e in evidence]),
                zh,
                en,
                explain,
            )
            if line:
                f.line = line[0]  # type: ignore[attr-defined]
            out.append(f)
        return out

    def __call__(
        self, s: PartSummary
    ) -> tuple[list[Finding], list[Classification], list[Candidate], list[RecordRef]]:
        if s.absorbed is None:
            ref = self.ref
            s.absorbed = (
                self.findings(s.findings),
                [_unpack_label(Classification, c, ref) for c in s.classifications],
                [_unpack_label(Candidate, c, ref) for c in s.candidates],
                [ref(u) for u in s.unmapped],
            )
            s.findings, s.classifications, s.candidates, s.unmapped = [], [], [], []
        return s.absorbed
