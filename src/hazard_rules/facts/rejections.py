"""Rejected records, summarised per file, and the limit above which a run is no verdict.

A run whose input is mostly rejected would report every obligation whose evidence sat in
the rejected rows as missing: a wrong verdict that looks like a normal one. ``max_rejected``
(``--max-rejected``) bounds the rejected rows of each file (``file`` or ``file:sheet``; the
record type for records given to the API); above it the run stops with
:class:`~hazard_rules.errors.TooManyRejectedError`, naming the file, the count, the most
common reasons and what would fix them.

The default, ``10%``, stops a file when more than one row in ten is rejected; one bad row
alone never stops a file. It stops an export whose dates are all in a form hazard-rules
does not read, and lets a clean export with a few bad rows through (its rows are rejected,
listed, and the findings they could change are marked doubtful).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hazard_rules.facts.rows import source_file
from hazard_rules.results import Rejected

__all__ = [
    "DEFAULT_MAX_REJECTED",
    "FileRejections",
    "Limit",
    "parse_limit",
    "per_file",
]

DEFAULT_MAX_REJECTED = "10%"
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


@dataclass(frozen=True)
class Limit:
    """At most ``count`` rejected rows per file, or ``percent`` of a file's rows (and at
    least one row, unless the percent is 0)."""

    text: str
    count: int | None = None
    percent: float | None = None

    def allows(self, rejected: int, read: int) -> bool:
        """True when ``rejected`` of ``read`` rows is within the limit."""
        if self.count is not None:
            return rejected <= self.count
        assert self.percent is not None
        if self.percent >= 100:
            return True
        tolerated = self.percent / 100 * read
        if self.percent > 0:
            tolerated = max(tolerated, 1)
        return rejected <= tolerated


def parse_limit(value: int | str | None) -> Limit | None:
    """``N`` (rows per file), ``"P%"`` (percent of a file's rows) or ``None`` (no limit);
    ``ValueError`` for anything else."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"max_rejected must be N or P%, not {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("max_rejected must not be negative")
        return Limit(str(value), count=value)
    if isinstance(value, str):
        text = value.strip()
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", text)
        if m:
            pct = float(m.group(1))
            if pct > 100:
                raise ValueError(f"max_rejected {text!r}: a percentage is at most 100%")
            return Limit(text, percent=pct)
        if text.isdigit():
            return Limit(text, count=int(text))
    raise ValueError(
        f"max_rejected {value!r}: give a number of rows (e.g. 50) or a percentage (e.g. 10%)"
    )


@dataclass(frozen=True)
class Reason:
    """One kind of rejection in a file: how many rows, one example and its source."""

    field: str | None
    example: str
    source: str
    count: int


@dataclass(frozen=True)
class FileRejections:
    """The rejections of one file: counts and the most common reasons."""

    file: str
    read: int
    rejected: int
    reasons: tuple[Reason, ...]

    @property
    def percent(self) -> float:
        return 100 * self.rejected / self.read if self.read else 100.0

    def describe(self, top: int = 3) -> str:
        """``hazard.csv: 4,530 of 4,730 rows rejected (95.8%)`` and the top reasons."""
        lines = [
            f"{self.file}: {self.rejected:,} of {self.read:,} rows rejected ({self.percent:.1f}%)"
        ]
        for r in self.reasons[:top]:
            field = f"{r.field}: " if r.field else ""
            lines.append(f"  {field}{r.example} — {r.count:,} row(s), e.g. {r.source}")
        if len(self.reasons) > top:
            rest = sum(r.count for r in self.reasons[top:])
            lines.append(f"  … and {rest:,} row(s) for {len(self.reasons) - top} other reason(s)")
        return "\n".join(lines)

    def advice(self) -> str:
        """What would fix the most common reason."""
        text = self.reasons[0].example if self.reasons else ""
        if "ambiguous" in text:
            return (
                "give the ledger's day/month order in a column map (--map; date_order: dmy or mdy)"
            )
        if "not a date" in text or "two-digit year" in text:
            return "write the dates as 2024-05-20, 2024/5/20, 2024.5.20 or 2024年5月20日"
        if "is not one of" in text:
            return "map the ledger's values to the schema's in a column map (--map; values:)"
        if "required field" in text:
            return (
                "map the ledger's column to the field in a column map (--map; columns:); "
                "`hazard-rules inspect` shows how each column was taken"
            )
        if "not among the accepted records" in text:
            return "the records they refer to were rejected or are missing: fix those first"
        return "`hazard-rules inspect` shows how each column and value was read"


def per_file(rejected: Iterable[Rejected], read_by_file: Mapping[str, int]) -> list[FileRejections]:
    """Rejections grouped by file, most rejected first; reasons grouped by field and wording
    (quoted values aside), most common first."""
    groups: dict[str, Counter[tuple[str | None, str]]] = {}
    examples: dict[tuple[str, str | None, str], tuple[str, str]] = {}
    for r in rejected:
        file = source_file(r.source)
        key = (r.field, _QUOTED.sub("…", r.reason))
        groups.setdefault(file, Counter())[key] += 1
        examples.setdefault((file, *key), (r.reason, r.source))
    out = []
    for file, reasons in groups.items():
        items = tuple(
            Reason(f, *examples[(file, f, text)], n)
            for (f, text), n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0][1]))
        )
        total = sum(reasons.values())
        out.append(FileRejections(file, max(read_by_file.get(file, total), total), total, items))
    out.sort(key=lambda f: (-f.rejected, f.file))
    return out
