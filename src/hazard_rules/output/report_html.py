"""The assessment as one self-contained HTML page to hand on (督查考核报告): the 晾晒 ranking,
one scorecard per enterprise with its 一票否优 verdict and calendar heatmap, the findings
(filterable), classifications, review candidates, unmapped and rejected records, notes.

Rendered from ``templates/report.html.j2`` by Jinja2 with autoescaping on: rule and record
text is always escaped, never markup. The page loads nothing (its style and its small filter
script are inline, and a Content-Security-Policy allows those two by hash and nothing else),
reads fully without the script, and prints on A4 (the findings on landscape pages).
Jinja2 is the ``report`` extra, imported only here.
"""

from __future__ import annotations

import base64
import hashlib
from importlib import resources
from typing import Any

from hazard_rules.errors import HazardRulesError
from hazard_rules.output.lang import translate
from hazard_rules.output.report_view import (
    CALENDAR_STATUSES,
    Naming,
    calendar_grid,
    finding_row,
    severity_zh,
    status_zh,
)
from hazard_rules.packs import PackSet
from hazard_rules.results import STATUSES, Result, Scorecard, VetoReason

__all__ = ["MISSING", "render_html", "require_jinja2"]

MISSING = (
    "writing an HTML report needs Jinja2: pip install 'hazard-rules[report]' "
    "(or write .xlsx or .json)"
)
_SEVERITIES = ("critical", "high", "medium", "low")


def require_jinja2() -> Any:
    """The ``jinja2`` module, or :class:`HazardRulesError` naming the extra to install."""
    try:
        import jinja2
    except ImportError as exc:
        raise HazardRulesError(MISSING) from exc
    return jinja2


def _asset(name: str) -> str:
    folder = resources.files("hazard_rules.output") / "templates"
    return (folder / name).read_text("utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f}"


def _rank_change(value: int | None) -> str:
    if value is None:
        return ""
    return "=" if value == 0 else (f"↑{value}" if value > 0 else f"↓{-value}")


def _reason(r: VetoReason, naming: Naming) -> dict[str, Any]:
    return {
        "veto": r.veto,
        "cite": r.cite or "",
        "rule": r.rule,
        "title": naming.title(r.rule),
        "status": status_zh(r.status),
        "where": r.period or (str(r.record) if r.record else ""),
        "due": r.due.isoformat() if r.due else "",
        "doubtful": r.doubtful,
    }


def _card(c: Scorecard, prev: Scorecard | None, naming: Naming, grid: Any) -> dict[str, Any]:
    statuses = [s for s in STATUSES if s in c.findings]
    return {
        "id": c.subject.id,
        "name": c.name or naming.enterprise_name(c.subject.id),
        "period": c.period,
        "vetoed": c.vetoed,
        "score": _num(c.score),
        "previous": _num(prev.score) if prev is not None else "—",
        "judged": c.judged,
        "met": c.met,
        "rate": "—" if c.on_time_rate is None else f"{100 * c.on_time_rate:.1f}%",
        "reasons": [_reason(r, naming) for r in c.veto_reasons],
        "obligations": [
            {
                "rule": o.rule,
                "title": o.title,
                "severity": severity_zh(o.severity),
                "judged": o.judged,
                "met": o.met,
                "late": o.late,
                "missing": o.missing,
                "waived": o.waived,
                "pending": o.pending,
            }
            for o in c.obligations
        ],
        "findings": [
            (
                status_zh(s),
                s,
                [c.findings[s].get(sev, 0) for sev in _SEVERITIES],
                sum(c.findings[s].values()),
            )
            for s in statuses
        ],
        "majors": c.major_hazards,
        "misclassified": c.misclassified,
        "doubtful": c.doubtful,
        "waived": c.waived,
        "grid": grid,
    }


def _context(result: Result, packs: PackSet | None) -> dict[str, Any]:
    from hazard_rules import __version__

    a = result.assessment
    naming = Naming(result, packs)
    grids = calendar_grid(result, naming)
    prev_cards = {c.subject.id: c for c in (a.previous_scorecards if a else [])}
    cards = [
        _card(c, prev_cards.get(c.subject.id), naming, grids.get(c.subject.id))
        for c in (a.scorecards if a else [])
    ]
    ranking = [
        {
            "rank": e.rank,
            "id": e.subject.id,
            "name": e.name or naming.enterprise_name(e.subject.id),
            "score": _num(e.score),
            "previous": _num(e.previous_score),
            "change": _signed(e.score_change),
            "previous_rank": "" if e.previous_rank is None else str(e.previous_rank),
            "rank_change": _rank_change(e.rank_change),
            "up": (e.rank_change or 0) > 0,
            "down": (e.rank_change or 0) < 0,
        }
        for e in (a.ranking if a else [])
    ]
    rows = [(v, finding_row(v, naming)) for v in result.violations]
    findings = [{"v": v, "row": row, "waiver": v.waiver} for v, row in rows]
    enterprises = sorted({(row["enterprise"], row["enterprise_name"]) for _, row in rows})
    rules = sorted({(v.rule, row["rule_title"]) for v, row in rows})
    statuses = [
        (s, status_zh(s)) for s in STATUSES if any(v.status == s for v in result.violations)
    ]

    def label(ref: Any, subject: Any) -> dict[str, str]:
        enterprise = naming.enterprise(subject)
        return {
            "enterprise": enterprise,
            "enterprise_name": naming.enterprise_name(enterprise),
            "record": str(ref),
        }

    css = _asset("report.css")
    script = _asset("report.js")
    return {
        "version": __version__,
        "result": result,
        "a": a,
        "counts": result.counts,
        "by_status": [(status_zh(s), n) for s, n in result.counts.by_status.items()],
        "ranked": [e for e in ranking if e["rank"] is not None],
        "vetoed": [e for e in ranking if e["rank"] is None],
        "cards": cards,
        "legend": [(k, *v) for k, v in CALENDAR_STATUSES.items()],
        "legend_names": {k: v[0] for k, v in CALENDAR_STATUSES.items()},
        "marks": {k: v[2] for k, v in CALENDAR_STATUSES.items()},
        "subject_label": naming.subject,
        "findings": findings,
        "filter_enterprises": enterprises,
        "filter_rules": rules,
        "filter_statuses": statuses,
        "classifications": [
            {**label(c.record, c.subject), "c": c, "title": naming.title(c.rule)}
            for c in result.classifications
        ],
        "candidates": [
            {**label(c.record, c.subject), "c": c, "title": naming.title(c.rule)}
            for c in result.candidates
        ],
        "unmapped": result.unmapped,
        "rejected": [
            {"r": r, "reason": translate(r.reason, "zh"), "original": r.reason}
            for r in result.rejected
        ],
        "notes": [translate(n, "zh", "note") for n in result.notes],
        "css": css,
        "script": script,
        "csp": (
            "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; "
            f"style-src '{_sha256(css)}'; script-src '{_sha256(script)}'"
        ),
        "status_zh": status_zh,
        "severity_zh": severity_zh,
    }


def render_html(result: Result, packs: PackSet | None = None) -> str:
    """The report of ``result`` (with its ``assessment``) as one HTML document; ``packs``
    (those evaluated) give the title of every rule named, a candidate's criterion too."""
    jinja2 = require_jinja2()
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    template = env.from_string(_asset("report.html.j2"))
    return str(template.render(**_context(result, packs)))
