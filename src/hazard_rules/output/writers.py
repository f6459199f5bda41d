"""Writers of results: an aligned table for people, JSON, JSONL and CSV (UTF-8 with BOM, so
that Excel opens it correctly)."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from hazard_rules.results import Result, Violation

if TYPE_CHECKING:
    from hazard_rules.engine.judge import Finding

__all__ = ["FORMATS", "STATUS_ZH", "format_result", "render_table", "write_findings"]

FORMATS = ("table", "json", "jsonl", "csv")
STATUS_ZH = {
    "failed": "不符合",
    "overdue": "逾期未完成",
    "late": "逾期完成",
    "missing": "缺失",
    "misclassified": "定级错误",
    "exceeded": "超出",
    "waived": "已豁免",
}
SEVERITY_ZH = {"critical": "特别严重", "high": "严重", "medium": "一般", "low": "轻微"}
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


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _clip(text: str, limit: int) -> str:
    if _width(text) <= limit:
        return text
    out, w = [], 0
    for ch in text:
        cw = _width(ch)
        if w + cw > limit - 1:
            break
        out.append(ch)
        w += cw
    return "".join(out) + "…"


def render_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], limits: Sequence[int] | None = None
) -> str:
    """Columns aligned by display width (CJK characters count double)."""
    if limits:
        rows = [[_clip(c, lim) for c, lim in zip(r, limits, strict=False)] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=False)
        ).rstrip()

    sep = "  ".join("─" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def _table(result: Result, lang: str) -> str:
    out = io.StringIO()
    rows = []
    for v in result.violations:
        rows.append(
            [
                f"{v.subject.id}",
                v.rule,
                ("⚠存疑 " if v.doubtful else "")
                + (
                    STATUS_ZH.get(v.status, v.status) + f" {v.status}" if lang == "zh" else v.status
                ),
                v.severity,
                v.period or "",
                v.due.isoformat() if v.due else "",
                v.record.id if v.record else ",".join(e.id for e in v.evidence[:3]),
                v.message if lang == "zh" else v.message_en,
            ]
        )
    if rows:
        out.write(
            render_table(
                [
                    "主体 subject",
                    "规则 rule",
                    "状态 status",
                    "severity",
                    "期间 period",
                    "截止 due",
                    "记录 record",
                    "说明 message",
                ],
                rows,
                [12, 44, 24, 8, 8, 10, 14, 70],
            )
        )
        out.write("\n")
    else:
        out.write("未发现违规 No violations.\n")
    explained = [v for v in result.violations if v.explain]
    if explained:
        out.write(
            "\n依据 Why each finding (conditions that held ✓ and failed ✗, with the values seen):\n"
        )
        for v in explained:
            rec = v.record.id if v.record else ""
            out.write(f"  {v.subject.id} {v.rule} {rec} {v.status}\n")
            for e in v.explain or ():
                mark = "✓" if e.get("held") else "✗"
                seen = f"  (value: {e['value']})" if "value" in e else ""
                out.write(f"    {mark} {e['at']}: {e['condition']}{seen}\n")
    if result.classifications:
        out.write(f"\n判定 Classifications ({len(result.classifications)}):\n")
        out.write(
            render_table(
                ["记录 record", "主体 subject", "标签 label", "依据 rule", "条款 cite"],
                [
                    [c.record.id, c.subject.id, c.label, c.rule, c.cite]
                    for c in result.classifications
                ],
            )
        )
        out.write("\n")
    if result.candidates:
        out.write(f"\n疑似重大隐患（待复核）Candidates for review ({len(result.candidates)}):\n")
        out.write(
            render_table(
                ["记录 record", "主体 subject", "标签 label", "依据 rule", "命中提示 hints"],
                [
                    [c.record.id, c.subject.id, c.label, c.rule, "、".join(c.hints)]
                    for c in result.candidates
                ],
                [12, 12, 16, 20, 30],
            )
        )
        out.write("\n")
    if result.unmapped:
        ids = ", ".join(r.id for r in result.unmapped[:30])
        more = f" … (+{len(result.unmapped) - 30})" if len(result.unmapped) > 30 else ""
        out.write(f"\n未匹配任何判定标准 Unmapped ({len(result.unmapped)}): {ids}{more}\n")
    if result.rejected:
        out.write(f"\n拒收记录 Rejected records ({len(result.rejected)}):\n")
        out.write(
            render_table(
                ["来源 source", "类型 type", "编号 id", "字段 field", "原因 reason"],
                [[r.source, r.type, r.id or "", r.field or "", r.reason] for r in result.rejected],
                [36, 12, 10, 16, 80],
            )
        )
        out.write("\n")
    for note in result.notes:
        out.write(f"注意 note: {note}\n")
    c = result.counts
    statuses = ", ".join(f"{k} {n}" for k, n in c.by_status.items()) or "none"
    if c.doubtful:
        out.write(
            f"\n⚠ 存疑 {c.doubtful} finding(s) are doubtful: rejected records could have been "
            "their evidence (see the rejected records above; JSON lists them per finding).\n"
        )
    out.write(
        f"\nas of {result.as_of}: read {c.read}, evaluated {c.evaluated}, rejected {c.rejected}; "
        f"{c.violations} violations ({statuses}"
        + (f"; {c.doubtful} doubtful" if c.doubtful else "")
        + f"); {c.classifications} classifications, {c.candidates} candidates\n"
    )
    return out.getvalue()


def _csv_row(v: Violation) -> list[str]:
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
            out.write(f.violation().model_dump_json() + "\n")
        return
    if fmt != "csv":
        raise ValueError(f"streaming is for jsonl and csv, not {fmt}")
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for f in findings:
        w.writerow(_csv_row(f.violation()))


def format_result(result: Result, fmt: str, lang: str = "zh") -> str:
    """The result as text in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return result.model_dump_json(indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(v.model_dump_json() + "\n" for v in result.violations)
    if fmt == "csv":
        return _csv(result)
    return _table(result, lang)
