"""Fact sets: raw rows → typed, de-duplicated, reference-checked records and rejected rows.

Types are processed in reference order (a referenced type before the types that refer to
it), so every reference is checked against records already accepted; a record that points
to a missing or rejected record is itself rejected (SPEC §7). ``read == evaluated +
rejected`` holds by construction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from hazard_rules.errors import InputError
from hazard_rules.facts.coerce import RecordCoercer, Rejection
from hazard_rules.facts.rows import UNKNOWN_TYPE, RawRow, Unreadable, source_file
from hazard_rules.periods import timezone
from hazard_rules.results import Rejected
from hazard_rules.schema import Schema, did_you_mean

__all__ = ["FactSet", "LostRow", "RawRow", "collect_facts", "rows_from_mapping"]


class LostRow(NamedTuple):
    """What is known of a rejected row for judging which findings it could have changed:
    its type (``None``: unknown) and the reference fields that could be read from it
    (field → id; ``None``: none could be read)."""

    type: str | None
    refs: Mapping[str, str] | None
    source: str


@dataclass
class FactSet:
    """Accepted records by type and id, with what was rejected and why.

    ``read_by_file`` counts the rows read per file (``file`` or ``file:sheet``; ``type``
    for records given to the API); ``lost`` describes every rejected row for the doubtful
    marking of findings (:mod:`hazard_rules.engine.doubt`)."""

    records: dict[str, dict[str, dict[str, Any]]]
    read: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    read_by_file: Counter[str] = field(default_factory=Counter)
    lost: list[LostRow] = field(default_factory=list)

    @property
    def evaluated(self) -> int:
        return sum(len(v) for v in self.records.values())

    def reject(
        self,
        tname: str,
        rid: str | None,
        source: str,
        field_name: str | None,
        reason: str,
        refs: Mapping[str, str] | None,
    ) -> None:
        """Record a rejected row (SPEC §7) and what could be read of its references."""
        self.rejected.append(
            Rejected(type=tname, id=rid, source=source, field=field_name, reason=reason)
        )
        known = tname if tname != UNKNOWN_TYPE else None
        self.lost.append(LostRow(known, refs, source))


def rows_from_mapping(facts: Mapping[str, Iterable[Any]]) -> dict[str, Iterable[RawRow]]:
    """Raw rows from ``{type: [dict or pydantic model, ...]}``; sources are ``type[n]``."""

    def rows(tname: str, items: Iterable[Any]) -> Iterator[RawRow]:
        for n, item in enumerate(items, 1):
            if hasattr(item, "model_dump"):
                item = item.model_dump()
            if not isinstance(item, Mapping):
                raise InputError(
                    f"{tname}[{n}]: a record must be a mapping, not {type(item).__name__}"
                )
            yield tname, f"{tname}[{n}]", item

    if not isinstance(facts, Mapping):
        raise InputError("facts must be a mapping of record type to a list of records, or a path")
    return {str(t): rows(str(t), items) for t, items in facts.items()}


def collect_facts(
    schema: Schema,
    sources: Mapping[str, Iterable[RawRow]],
    *,
    reject_unknown_types: bool = False,
    progress: Callable[[int, int], None] | None = None,
    into: FactSet | None = None,
    on_batch: Callable[[str, list[dict[str, Any]]], None] | None = None,
    retain: Mapping[str, frozenset[str] | None] | None = None,
    batch_size: int = 2000,
    first_seen: dict[str, dict[str, str]] | None = None,
) -> FactSet:
    """Coerce, de-duplicate and reference-check every row; see the module docstring.

    A type the schema does not know raises :class:`InputError`, or, with
    ``reject_unknown_types`` (rows of a mixed JSONL file), rejects each of its rows.
    ``progress(read, rejected)`` is called every 10,000 rows and once at the end.

    Streaming: ``on_batch(type, records)`` receives the accepted records in batches as they
    are read, and ``retain`` says what the fact set keeps of each type afterwards (``None``:
    whole records; a set of fields: a projection). ``into`` fills an existing fact set.
    ``first_seen`` (type → id → source), when given, holds the source of every accepted
    record, and duplicates are also looked for among the ids it already holds.
    """
    out = into if into is not None else FactSet(records={t: {} for t in schema.order})
    for tname, rows in sources.items():
        if tname in schema.types:
            continue
        hint = did_you_mean(tname, schema.types)
        known = ", ".join(
            f"{t.name}（{t.label}）" if t.label else t.name
            for t in sorted(schema.types.values(), key=lambda t: t.name)
        )
        if not reject_unknown_types:
            raise InputError(f"unknown record type {tname!r}{hint}; known: {known}")
        for _, source, raw in rows:
            out.read += 1
            out.read_by_file[source_file(source)] += 1
            if isinstance(raw, Unreadable):
                out.reject(tname, _id_text(raw.id), source, raw.field, raw.reason, raw.refs)
                continue
            # a row of a type the packs do not know is evidence of nothing they judge
            out.reject(
                tname,
                _id_text(raw.get("id")),
                source,
                "type",
                f"unknown record type {tname!r}{hint}; known: {known}",
                {},
            )
    zone = timezone(schema.timezone)
    for tname in schema.order:
        if tname not in sources:
            continue
        tdef = schema.types[tname]
        coercer = RecordCoercer(tdef, zone)
        refs = [(f.name, f.ref) for f in tdef.fields.values() if f.kind == "ref" and f.ref]
        kept = out.records[tname]
        first_source: dict[str, str] = (
            {} if first_seen is None else first_seen.setdefault(tname, {})
        )
        warned: set[str] = set()
        headers = coercer.headers
        id_keys = [h for h, name in headers.items() if name == "id"]
        ref_keys = {fname: [h for h, name in headers.items() if name == fname] for fname, _ in refs}
        keep = retain.get(tname) if retain is not None else None
        batch: list[dict[str, Any]] = []
        by_file = out.read_by_file
        for _, source, raw in sources[tname]:
            out.read += 1
            by_file[source_file(source)] += 1
            if progress is not None and not out.read % 10_000:
                progress(out.read, len(out.rejected))
            if isinstance(raw, Unreadable):
                out.reject(tname, _id_text(raw.id), source, raw.field, raw.reason, raw.refs)
                continue
            unknown: set[str] = set()
            rid_text = _id_text(_raw_id(raw, id_keys))
            try:
                rec = coercer.coerce(raw, unknown)
                rid_text = rec["id"]
                if rid_text in kept:
                    raise Rejection(
                        "id", f"duplicate id {rid_text!r}: first seen at {first_source[rid_text]}"
                    )
                for fname, target in refs:
                    value = rec.get(fname)
                    if value is not None and value not in out.records[target]:
                        raise Rejection(
                            fname,
                            f"refers to {target} {value!r}, which is not among the accepted records",
                        )
            except Rejection as rej:
                readable = {}
                for fname, keys in ref_keys.items():
                    ref = _id_text(_raw_id(raw, keys))
                    if ref is not None:
                        readable[fname] = ref
                if rid_text is not None:
                    readable["id"] = rid_text
                out.reject(tname, rid_text, source, rej.field, rej.reason, readable)
                continue
            finally:
                for key in unknown - warned:
                    warned.add(key)
                    hint = did_you_mean(str(key), headers)
                    out.notes.append(
                        f"{source}: {tname} has no field {key!r}{hint}; the column was ignored"
                    )
            if on_batch is not None:
                batch.append(rec)
                if len(batch) >= batch_size:
                    on_batch(tname, batch)
                    batch = []
            kept[rid_text] = rec if keep is None else {k: v for k, v in rec.items() if k in keep}
            first_source[rid_text] = source
        if on_batch is not None and batch:
            on_batch(tname, batch)
    if progress is not None:
        progress(out.read, len(out.rejected))
    return out


def _id_text(value: Any) -> str | None:
    """An id as it can be shown in a rejection (whatever the row held)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return None
    try:
        text = str(value).strip()
    except ValueError:
        return None
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates → ?
    return text[:200] or None


def _raw_id(raw: Mapping[str, Any], keys: list[str]) -> Any:
    for key in keys:
        value = raw.get(key)
        if value is not None:
            return value
    return None
