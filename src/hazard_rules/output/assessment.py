"""The assessment (督查考核) as text: the 晾晒 ranking, then one compact scorecard per subject
with its 一票否优 verdict and reasons."""

from __future__ import annotations

import io

from hazard_rules.output.writers import render_table
from hazard_rules.results import Result, Scorecard

__all__ = ["format_assessment"]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _change(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:+.1f}"


def _rank_change(value: int | None) -> str:
    if not value:
        return "" if value is None else "="
    return f"↑{value}" if value > 0 else f"↓{-value}"


def format_assessment(result: Result, lang: str = "zh") -> str:
    """The ranking and the scorecards of ``result.assessment`` as text."""
    a = result.assessment
    if a is None:
        return "no assessment in this result\n"
    out = io.StringIO()
    zh = lang == "zh"
    out.write(
        (
            f"晾晒排名 {a.period}（对比 {a.previous}）"
            if zh
            else f"Ranking {a.period} (against {a.previous})"
        )
        + f", as of {result.as_of}\n"
    )
    rows = []
    for e in a.ranking:
        rows.append(
            [
                str(e.rank) if e.rank is not None else ("一票否优" if zh else "vetoed"),
                e.subject.id,
                e.name or "",
                _pct(e.score),
                _pct(e.previous_score),
                _change(e.score_change),
                _rank_change(e.rank_change),
            ]
        )
    header = (
        ["名次", "主体", "名称", "得分", "上期得分", "变化", "名次变化"]
        if zh
        else ["rank", "subject", "name", "score", "previous", "change", "rank change"]
    )
    out.write(render_table(header, rows) + "\n")
    for card in a.scorecards:
        out.write("\n" + _card(card, zh))
    out.write(
        "\n"
        + (
            "得分 = 按严重程度加权的义务按时完成率（critical 4、high 3、medium 2、low 1）× 100；"
            "一票否优的主体不参加排名。详见 docs/assessment.md。\n"
            if zh
            else "score = on-time rate of obligations weighted by severity (critical 4, high 3, "
            "medium 2, low 1) × 100; vetoed subjects are ranked apart. See docs/assessment.md.\n"
        )
    )
    return out.getvalue()


def _card(c: Scorecard, zh: bool) -> str:
    out = io.StringIO()
    verdict = ("一票否优" if zh else "VETOED") if c.vetoed else ("未否优" if zh else "not vetoed")
    out.write(
        f"{c.subject.id} {c.name or ''}  {c.period}  "
        + (
            f"得分 {_pct(c.score)}  按时 {c.met}/{c.judged}  "
            if zh
            else f"score {_pct(c.score)}  on time {c.met}/{c.judged}  "
        )
        + verdict
        + "\n"
    )
    for r in c.veto_reasons:
        where = r.period or (r.record.id if r.record else "")
        mark = (" （存疑）" if zh else " (doubtful)") if r.doubtful else ""
        out.write(f"  ✗ {r.veto}: {r.rule} {r.status} {where}{mark}\n")
    rows = [
        [o.rule, f"{o.met}/{o.judged}", str(o.late), str(o.missing), str(o.waived), str(o.pending)]
        for o in c.obligations
        if o.judged or o.waived or o.pending
    ]
    if rows:
        header = (
            ["规则", "按时/应查", "逾期完成", "缺失", "豁免", "未到期"]
            if zh
            else ["rule", "on time/judged", "late", "missing", "waived", "not yet due"]
        )
        out.write("  " + render_table(header, rows).replace("\n", "\n  ") + "\n")
    m = c.major_hazards
    out.write(
        (
            f"  重大事故隐患：发现 {m.found}，按期整改 {m.rectified_on_time}，逾期整改 "
            f"{m.rectified_late}，逾期未整改 {m.overdue}，未整改 {m.open}；定级错误 {c.misclassified}；"
            f"存疑 {c.doubtful}；豁免 {c.waived}\n"
        )
        if zh
        else (
            f"  major hazards: found {m.found}, rectified on time {m.rectified_on_time}, late "
            f"{m.rectified_late}, overdue {m.overdue}, open {m.open}; misclassified "
            f"{c.misclassified}; doubtful {c.doubtful}; waived {c.waived}\n"
        )
    )
    return out.getvalue()
