"""What ``check`` writes, by format: one entry point over the table, the machine formats
and the CI formats, and the statistics of ``--statistics``."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from hazard_rules.output.lang import severity_name, status_name, text
from hazard_rules.packs import PackSet
from hazard_rules.results import Result

if TYPE_CHECKING:
    from hazard_rules.engine.compile import Finding

__all__ = ["Context", "statistics", "write"]


@dataclass(frozen=True)
class Context:
    """What the writers need besides the result: the packs judged, where the export is (for
    record locations), the language, and the terminal's width and colour."""

    packs: PackSet
    export: str | os.PathLike[str] | None = None
    lang: str = "zh"
    encoding: str | None = None
    column_map: str | None = None
    quiet: bool = False
    color: bool = False
    width: int | None = None


def _full(result: Result, findings: Sequence[Finding]) -> Result:
    return result.model_copy(update={"violations": [f.violation() for f in findings]})


def _sources(full: Result, ctx: Context) -> dict[tuple[str, str], str]:
    from hazard_rules.output.locations import record_sources

    if ctx.export is None:
        return {}
    wanted = [r for v in full.violations for r in ([v.record] if v.record else []) + v.evidence[:1]]
    return record_sources(
        ctx.packs, ctx.export, wanted, encoding=ctx.encoding, column_map=ctx.column_map
    )


def write(result: Result, findings: Sequence[Finding], fmt: str, out: TextIO, ctx: Context) -> None:
    """Write the result in ``fmt`` (see :data:`~hazard_rules.output.writers.CHECK_FORMATS`)."""
    from hazard_rules.output.writers import format_result, write_findings

    if fmt in ("jsonl", "csv"):
        write_findings(findings, fmt, out)  # streamed, never all held as models
        return
    full = _full(result, findings)
    if fmt == "table":
        from hazard_rules.output.table import format_table

        out.write(format_table(full, ctx.lang, width=ctx.width, color=ctx.color, quiet=ctx.quiet))
    elif fmt == "json":
        out.write(format_result(full, "json"))
    elif fmt == "sarif":
        from hazard_rules.output.sarif import result_sarif

        out.write(result_sarif(full, ctx.packs.rules, _sources(full, ctx), ctx.lang))
    elif fmt == "junit":
        from hazard_rules.output.junit import result_junit

        out.write(result_junit(full, ctx.packs.rules, _sources(full, ctx), ctx.lang))
    elif fmt == "github":
        from hazard_rules.output.github import result_annotations

        out.write(result_annotations(full, ctx.packs.rules, _sources(full, ctx), ctx.lang))
    else:
        raise ValueError(f"unknown format {fmt!r}")


def statistics(result: Result, findings: Sequence[Finding], fmt: str, ctx: Context) -> str:
    """Findings counted per rule and status, most frequent first (the way ``ruff
    --statistics`` counts per code): a table, or JSON with ``--format json``."""
    counts = Counter((f.meta.id, f.status) for f in findings)
    metas = {f.meta.id: f.meta for f in findings}
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if fmt == "json":
        doc = [
            {
                "rule": rule,
                "status": status,
                "count": n,
                "severity": metas[rule].severity,
                "title": metas[rule].title,
            }
            for (rule, status), n in rows
        ]
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    from hazard_rules.output.table import render_table, summary_line

    lang = ctx.lang
    if not rows:
        return text("no_violations", lang) + "\n\n" + summary_line(result, lang) + "\n"
    table = render_table(
        [text(k, lang) for k in ("count", "rule", "status", "severity", "title")],
        [
            [
                str(n),
                rule,
                status_name(status, lang),
                severity_name(metas[rule].severity, lang),
                metas[rule].title,
            ]
            for (rule, status), n in rows
        ],
        width=ctx.width,
        flex=[4, 1],
        color=ctx.color,
    )
    return f"{table}\n\n{summary_line(result, lang)}\n"
