"""Writers of results for programs: JSON, JSONL and CSV (UTF-8 with BOM, so that Excel opens
it correctly). The table for people is :mod:`hazard_rules.output.table`; the CI formats are
:mod:`~hazard_rules.output.sarif`, :mod:`~hazard_rules.output.junit` and
:mod:`~hazard_rules.output.github`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from hazard_rules.output.lang import STATUS_ZH
from hazard_rules.output.table import render_table
from hazard_rules.results import Result, Violation

if TYPE_CHECKING:
    from hazard_rules.engine.compile import Finding

__all__ = [
    "CHECK_FORMATS",
    "FORMATS",
    "STATUS_ZH",
    "format_result",
    "render_table",
    "write_findings",
]

FORMATS = ("table", "json", "jsonl", "csv")
CHECK_FORMATS = (*FORMATS, "sarif", "junit", "github")
CSV_COLUMNS = (
    "subject_type",
    "subject",
    "rule",
    "kind",
    "status",
    "severity",
    "period",
    "due",
    "record_type",
    "record",
    "evidence",
    "message",
    "message_en",
    "cite",
    "doubtful",
    "doubtful_because",
)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A text cell a spreadsheet will not run as a formula: one starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (OWASP's advice on CSV
    injection). Applied to every text cell of CSV output."""
    return "'" + cell if cell.startswith(_FORMULA) else cell


def _csv_row(v: Violation) -> list[str]:
    return [spreadsheet_safe(c) for c in _csv_cells(v)]


def _csv_cells(v: Violation) -> list[str]:
    return [
        v.subject.type,
        v.subject.id,
        v.rule,
        v.kind,
        v.status,
        v.severity,
        v.period or "",
        v.due.isoformat() if v.due else "",
        v.record.type if v.record else "",
        v.record.id if v.record else "",
        ";".join(f"{e.type}:{e.id}" for e in v.evidence),
        v.message,
        v.message_en,
        v.cite,
        "true" if v.doubtful else "",
        ";".join(v.doubtful_because) + (" …" if v.doubtful_count > len(v.doubtful_because) else ""),
    ]


def _csv(result: Result) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for v in result.violations:
        w.writerow(_csv_row(v))
    return buf.getvalue()


def write_findings(findings: Iterable[Finding], fmt: str, out: TextIO) -> None:
    """Stream violations as JSONL or CSV, one model at a time (for reports too large to hold
    as models): the same text as :func:`format_result` gives for the whole result."""
    if fmt == "jsonl":
        for f in findings:
            # a partitioned run's worker may have made the line already (scale/partition.py)
            line = getattr(f, "line", None)
            out.write((line if line is not None else f.violation().model_dump_json()) + "\n")
        return
    if fmt != "csv":
        raise ValueError(f"streaming is for jsonl and csv, not {fmt}")
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for f in findings:
        w.writerow(_csv_row(f.violation()))


def format_result(
    result: Result, fmt: str, lang: str = "zh", *, width: int | None = None, color: bool = False
) -> str:
    """The result as text in ``fmt`` (one of :data:`FORMATS`); the table fits ``width``
    cells (``None``: no limit)."""
    if fmt == "json":
        return result.model_dump_json(indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(v.model_dump_json() + "\n" for v in result.violations)
    if fmt == "csv":
        return _csv(result)
    from hazard_rules.output.table import format_table

    return format_table(result, lang, width=width, color=color)
