"""``hazard-rules inspect``: a dry run of reading, before any verdict.

Per file and sheet: the record type it was taken as (or why not), the header row found,
each column and the field it gives (or why none), per enum field the values seen with their
counts (values the schema does not know are marked), the date forms seen per date field,
and the rows read, accepted and rejected with the most common reasons. Nothing is judged.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from hazard_rules.errors import InputError
from hazard_rules.facts.collect import collect_facts
from hazard_rules.facts.rejections import per_file
from hazard_rules.facts.rows import RawRow, Unreadable, source_file
from hazard_rules.io.export import read_export
from hazard_rules.io.maps import ColumnMap, load_column_map
from hazard_rules.packs import PackSet
from hazard_rules.schema import value_key

__all__ = ["Inspection", "TableReport", "format_inspection", "inspect_export"]

_FORMS = [
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "2024-05-20"),
    (re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"), "2024-5-20"),
    (re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"), "2024/5/20"),
    (re.compile(r"^\d{4}\.\d{1,2}\.\d{1,2}$"), "2024.5.20"),
    (re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日?$"), "2024年5月20日"),
    (re.compile(r"^\d{8}$"), "20240520"),
    (re.compile(r"^\d{4}[-/.年].*\d{1,2}:\d{2}.*(Z|[+-]\d{2}:?\d{2})$"), "date, time and offset"),
    (re.compile(r"^\d{4}[-/.年].*\d{1,2}:\d{2}"), "date and time"),
    (re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}"), "5/6/2024 (day/month order unknown)"),
    (re.compile(r"^\d{2}[-/.]\d{1,2}[-/.]\d{1,2}$"), "24/5/6 (two-digit year)"),
]


def _form(value: Any) -> str:
    if isinstance(value, datetime):
        return (
            "Excel date cell (with time)"
            if value.time() != datetime.min.time()
            else "Excel date cell"
        )
    if isinstance(value, date):
        return "Excel date or serial"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    text = str(value).strip()
    for pattern, name in _FORMS:
        if pattern.match(text):
            return name
    return "not a date form"


@dataclass
class TableReport:
    """What reading one file or sheet found."""

    source: str
    type: str | None
    how: str
    header_row: int | None = None
    encoding: str | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)
    values: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown_values: dict[str, list[str]] = field(default_factory=dict)
    dates: dict[str, dict[str, int]] = field(default_factory=dict)
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    reasons: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass
class Inspection:
    """The whole dry run: every table, the notes of reading, and what cannot be used."""

    export: str
    tables: list[TableReport]
    notes: list[str]
    unusable: list[str]


def inspect_export(
    packs: PackSet,
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    column_map: ColumnMap | str | os.PathLike[str] | None = None,
) -> Inspection:
    """Read ``path`` as :func:`~hazard_rules.evaluate` would, and report how (nothing judged).

    An export that cannot be read at all is reported in ``unusable`` rather than raised.
    """
    schema = packs.schema
    cmap = (
        column_map
        if column_map is None or isinstance(column_map, ColumnMap)
        else load_column_map(column_map, schema)
    )
    try:
        export = read_export(path, schema, encoding=encoding, column_map=cmap)
    except InputError as exc:
        return Inspection(os.fspath(path), [], [], [str(exc)])
    stats: dict[str, TableReport] = {}
    unusable: list[str] = []
    errors: dict[int, str] = {}

    def guarded(rows: Iterable[RawRow], key: int) -> Iterator[RawRow]:
        try:
            yield from rows
        except InputError as exc:
            errors[key] = str(exc)
            unusable.append(str(exc))

    def tapped(rows: Iterable[RawRow]) -> Iterator[RawRow]:
        for row in rows:
            tname, source, raw = row
            where = source_file(source)
            rep = stats.get(where)
            if rep is None:
                rep = stats[where] = TableReport(where, tname, "")
            rep.read += 1
            if not isinstance(raw, Unreadable) and tname in schema.types:
                _observe(rep, schema.types[tname], raw, cmap)
            yield row

    sources = {}
    key = 0
    for tname, parts in export.parts.items():
        wrapped = []
        for part in parts:
            wrapped.append(tapped(guarded(part, key)))
            key += 1
        sources[tname] = _chain(wrapped)
    try:
        facts = collect_facts(schema, sources, reject_unknown_types=export.mixed)
    except InputError as exc:
        unusable.append(str(exc))
        return Inspection(export.path, list(stats.values()), export.notes, unusable)
    rejected_by = {f.file: f for f in per_file(facts.rejected, facts.read_by_file)}
    tables: list[TableReport] = []
    for info in export.tables:
        rep = stats.pop(info.source, None) or TableReport(info.source, info.type, "")
        rep.type, rep.how, rep.encoding = info.type, info.why, info.encoding
        if info.header is not None:
            rep.header_row = info.header.row
            rep.columns = [
                {"column": c.index + 1, "header": c.header, "field": c.field, "how": c.how}
                for c in info.header.columns
            ]
        tables.append(rep)
    tables.extend(stats.values())  # rows of mixed files, by file
    for rep in tables:
        f = rejected_by.get(rep.source)
        if f is not None:
            rep.rejected = f.rejected
            rep.reasons = [
                {"field": r.field, "reason": r.example, "rows": r.count, "example": r.source}
                for r in f.reasons[:10]
            ]
        rep.accepted = rep.read - rep.rejected
    return Inspection(export.path, tables, export.notes, unusable)


def _chain(parts: list[Iterator[RawRow]]) -> Iterator[RawRow]:
    for part in parts:
        yield from part


def _observe(rep: TableReport, tdef: Any, raw: Any, cmap: ColumnMap | None) -> None:
    for fname, value in raw.items():
        fdef = tdef.fields.get(fname)
        if fdef is None:
            continue
        if fdef.kind in ("enum", "list[enum]"):
            seen = rep.values.setdefault(fname, {})
            items = value if isinstance(value, (list, tuple)) else [value]
            if fdef.kind == "list[enum]" and isinstance(value, str):
                items = [v for v in re.split(r"\s*[;；、]\s*", value) if v.strip()]
            lookup = fdef.lookup()
            for item in items:
                text = str(item).strip()
                seen[text] = seen.get(text, 0) + 1
                if value_key(text) not in lookup:
                    unknown = rep.unknown_values.setdefault(fname, [])
                    if text not in unknown:
                        unknown.append(text)
        elif fdef.kind in ("date", "datetime"):
            forms = rep.dates.setdefault(fname, {})
            form = _form(value)
            forms[form] = forms.get(form, 0) + 1


def format_inspection(report: Inspection, fmt: str = "table") -> str:
    """The inspection as a readable report, or JSON."""
    if fmt == "json":
        return json.dumps(asdict(report), ensure_ascii=False, indent=2) + "\n"
    out: list[str] = [f"读取检查 Inspection of {report.export}", ""]
    for t in report.tables:
        if t.type is None:
            out.append(f"✗ {t.source}: not read — {t.how}")
            continue
        enc = f", {t.encoding}" if t.encoding and t.encoding != "utf-8" else ""
        head = f"header row {t.header_row}" if t.header_row else "no header (JSON Lines)"
        out.append(f"● {t.source} → {t.type} ({t.how}{enc}); {head}")
        out.append(f"  rows read {t.read:,}: accepted {t.accepted:,}, rejected {t.rejected:,}")
        for c in t.columns:
            target = (
                f"→ {c['field']}"
                if c["field"]
                else {
                    "counter": "(a row counter, ignored)",
                    "ignored": "(ignored by the map)",
                    "blank": "(no header)",
                    "unknown": "(not a field: ignored)",
                }.get(c["how"], "")
            )
            how = f"  [{c['how']}]" if c["field"] else ""
            out.append(f"    {c['column']:>3}  {c['header'] or '—'}  {target}{how}")
        for fname, seen in t.values.items():
            unknown = set(t.unknown_values.get(fname, ()))
            shown = ", ".join(
                f"{v} ×{n}" + (" (unknown)" if v in unknown else "")
                for v, n in sorted(seen.items(), key=lambda kv: -kv[1])[:12]
            )
            out.append(f"  values {fname}: {shown}")
        for fname, forms in t.dates.items():
            shown = ", ".join(f"{k} ×{n}" for k, n in sorted(forms.items(), key=lambda kv: -kv[1]))
            out.append(f"  dates {fname}: {shown}")
        for r in t.reasons[:5]:
            fld = f"{r['field']}: " if r["field"] else ""
            out.append(f"  rejected {fld}{r['reason']} — {r['rows']:,} row(s), e.g. {r['example']}")
        out.append("")
    for note in report.notes:
        out.append(f"注意 note: {note}")
    for problem in report.unusable:
        out.append(f"无法使用 cannot be used: {problem}")
    if report.unusable:
        out.append("\nSome input cannot be used (exit 2): see above.")
    else:
        total = sum(t.read for t in report.tables)
        bad = sum(t.rejected for t in report.tables)
        out.append(f"\n{len(report.tables)} table(s); {total:,} rows read, {bad:,} rejected.")
    return "\n".join(out) + "\n"
