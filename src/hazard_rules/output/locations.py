"""Where a finding points in the files a CI system knows: the row of the record it is about
(``hazard.csv:20``), else the row of its first evidence, else the rule's own file and line.

Accepted records do not carry their source through evaluation (the hot path keeps plain
values only), so the CI formats read the export's raw rows a second time for the ids of
the records that findings name — only when one of those formats is asked for, and without
coercing anything. A record given as Python objects has no file; its finding points to
its rule.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hazard_rules.packs import PackSet
from hazard_rules.results import RecordRef, Violation

__all__ = ["Location", "finding_location", "record_sources"]

_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)$")
_SHEET = re.compile(r"^(?P<file>.+?\.xls[xm]):(?P<sheet>.+):(?P<row>\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Location:
    """A file and, for text files, a 1-based line (0: the whole file); ``sheet`` and ``row``
    for a workbook."""

    path: str
    line: int = 0
    sheet: str | None = None
    row: int | None = None

    @property
    def uri(self) -> str:
        """The path as a SARIF artifact URI: relative with ``/``, or ``file://`` when absolute."""
        p = Path(self.path)
        return p.as_uri() if p.is_absolute() else self.path.replace(os.sep, "/")

    def __str__(self) -> str:
        if self.sheet is not None:
            return f"{self.path}:{self.sheet}:{self.row}"
        return f"{self.path}:{self.line}" if self.line else self.path


def parse_source(source: str) -> Location | None:
    """``hazard.csv:20`` or ``台账.xlsx:隐患:7`` as a :class:`Location`; ``None`` for a
    record given as a Python object (``hazard[3]``)."""
    m = _SHEET.match(source)
    if m:
        return Location(m["file"], 0, m["sheet"], int(m["row"]))
    m = _LINE.match(source)
    if m and not source.endswith("]"):
        return Location(m["file"], int(m["line"]))
    return None


def record_sources(
    packs: PackSet,
    export: str | os.PathLike[str],
    wanted: Iterable[RecordRef],
    *,
    encoding: str | None = None,
    column_map: str | None = None,
) -> dict[tuple[str, str], str]:
    """``(type, id) → source`` of the first row with that id, for the records ``wanted``."""
    from hazard_rules.io.export import read_export
    from hazard_rules.io.maps import load_column_map

    need: dict[str, set[str]] = {}
    for ref in wanted:
        need.setdefault(ref.type, set()).add(ref.id)
    if not need:
        return {}
    cmap = load_column_map(column_map, packs.schema) if column_map else None
    exp = read_export(export, packs.schema, encoding=encoding, column_map=cmap)
    found: dict[tuple[str, str], str] = {}
    for tname, rows in exp.sources.items():
        ids = need.get(tname)
        if not ids:
            continue
        for _, source, raw in rows:
            if not hasattr(raw, "get"):
                continue
            rid = raw.get("id")
            key = (tname, str(rid).strip()) if rid is not None else None
            if key and key[1] in ids and key not in found:
                found[key] = source
    return found


def finding_location(v: Violation, sources: dict[tuple[str, str], str], rule_span: str) -> Location:
    """The record's row, else the first evidence's, else the rule (``path:line:column``)."""
    for ref in ([v.record] if v.record else []) + list(v.evidence):
        source = sources.get((ref.type, ref.id))
        loc = parse_source(source) if source else None
        if loc is not None:
            return loc
    m = re.match(r"^(?P<file>.+?)(?::(?P<line>\d+)(?::\d+)?)?$", rule_span)
    if m is None:  # pragma: no cover - a span always matches
        return Location(rule_span)
    return Location(m["file"], int(m["line"] or 0))
