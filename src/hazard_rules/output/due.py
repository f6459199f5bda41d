"""What ``due`` writes: the compliance calendar as a table, JSON, CSV (with BOM) or an
iCalendar file (:mod:`hazard_rules.output.ics`). Every format names the rule's citation."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING

from hazard_rules.output.lang import text
from hazard_rules.output.writers import spreadsheet_safe
from hazard_rules.packs import PackSet

if TYPE_CHECKING:
    from hazard_rules.engine.calendar import Upcoming

__all__ = ["CSV_COLUMNS", "format_due", "require_icalendar"]

CSV_COLUMNS = (
    "due",
    "subject_type",
    "subject",
    "subject_name",
    "rule",
    "title",
    "period",
    "record",
    "have",
    "need",
    "cite",
    "severity",
)


def require_icalendar() -> None:
    """:class:`~hazard_rules.errors.HazardRulesError` naming the extra to install when
    the ``icalendar`` package is missing."""
    from hazard_rules.output.ics import require_icalendar as require

    require()


def _meta(packs: PackSet, rule_id: str) -> tuple[str, str]:
    try:
        m = packs.rule(rule_id).meta
    except KeyError:
        return "", ""
    return m.cite, m.severity


def format_due(
    items: Sequence[Upcoming],
    packs: PackSet,
    as_of: date,
    fmt: str = "table",
    *,
    lang: str = "zh",
    width: int | None = None,
    color: bool = False,
    alarm_days: int = 3,
) -> str:
    """The calendar in ``fmt``: ``table``, ``json``, ``csv`` or ``ics``."""
    if fmt == "ics":
        from hazard_rules.output.ics import calendar_ics

        return calendar_ics(items, packs, as_of, alarm_days=alarm_days)
    if fmt == "json":
        docs = []
        for u in items:
            cite, severity = _meta(packs, u.rule)
            docs.append({**asdict(u), "due": u.due.isoformat(), "cite": cite, "severity": severity})
        return json.dumps(docs, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(CSV_COLUMNS)
        for u in items:
            cite, severity = _meta(packs, u.rule)
            w.writerow(
                spreadsheet_safe(c) if isinstance(c, str) else c
                for c in [
                    u.due.isoformat(),
                    u.subject_type,
                    u.subject,
                    u.subject_name or "",
                    u.rule,
                    u.title,
                    u.period or "",
                    u.record or "",
                    u.have,
                    u.need,
                    cite,
                    severity,
                ]
            )
        return buf.getvalue()
    from hazard_rules.output.table import render_table

    if not items:
        return text("nothing_due", lang, as_of=as_of) + "\n"
    days = "天" if lang == "zh" else "d"
    rows = [
        [
            u.due.isoformat(),
            f"{(u.due - as_of).days}{days}",
            u.subject,
            u.subject_name or "",
            u.rule,
            u.title,
            u.period or u.record or "",
            f"{u.have}/{u.need}",
        ]
        for u in items
    ]
    header = [
        text(k, lang)
        for k in ("due", "left", "subject", "name", "rule", "title", "period_record", "have_need")
    ]
    table = render_table(header, rows, width=width, flex=[5, 3, 4], color=color)
    return f"{table}\n\n{text('due_summary', lang, as_of=as_of, n=len(items))}\n"
