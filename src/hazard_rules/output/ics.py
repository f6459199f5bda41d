"""``hazard-rules due --format ics``: the compliance calendar as an iCalendar file (RFC 5545)
that calendar programs import — one all-day event per obligation due in the window, with a
reminder a few days before.

Each event: the summary (the obligation's title and the subject), the due date, a
description naming the rule, its citation, the subject, the period or record, and the
evidence held so far; categories (pack, severity); a ``UID`` that stays the same for the
same obligation, so importing a newer calendar updates events instead of duplicating them.
``DTSTAMP`` is the ``as_of`` date (no clock is read: the same export and date give the same
file). The ``icalendar`` package is optional: ``pip install 'hazard-rules[calendar]'``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

from hazard_rules.errors import HazardRulesError
from hazard_rules.packs import PackSet

if TYPE_CHECKING:
    from hazard_rules.engine.calendar import Upcoming

__all__ = ["calendar_ics", "require_icalendar"]

MISSING = (
    "--format ics needs the icalendar package: pip install 'hazard-rules[calendar]' "
    "(or pip install icalendar)"
)


def require_icalendar() -> Any:
    """The ``icalendar`` module, or :class:`HazardRulesError` saying how to install it."""
    try:
        import icalendar
    except ImportError as exc:
        raise HazardRulesError(MISSING) from exc
    return icalendar


def _uid(u: Upcoming) -> str:
    key = "\x1f".join([u.rule, u.subject_type, u.subject, u.period or "", u.record or ""])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24] + "@hazard-rules"


def calendar_ics(
    items: Sequence[Upcoming], packs: PackSet, as_of: date, *, alarm_days: int = 3
) -> str:
    """The iCalendar text of ``items``; each event reminds ``alarm_days`` before its due
    date at 09:00 (0: no reminder)."""
    from hazard_rules import __version__

    ical = require_icalendar()
    cal = ical.Calendar()
    cal.add("prodid", f"-//hazard-rules//due {__version__}//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "安全生产到期事项 hazard-rules due")
    cal.add("x-wr-timezone", packs.timezone)
    stamp = datetime.combine(as_of, time(), timezone.utc)
    for u in items:
        try:
            meta = packs.rule(u.rule).meta
            cite, severity, pack = meta.cite, meta.severity, meta.pack
        except KeyError:
            cite, severity, pack = "", "", u.rule.split(".")[0]
        who = f"{u.subject_name}（{u.subject}）" if u.subject_name else u.subject
        what = u.period or u.record or ""
        ev = ical.Event()
        ev.add("uid", _uid(u))
        ev.add("dtstamp", stamp)
        ev.add("dtstart", u.due)
        ev.add("dtend", u.due + timedelta(days=1))
        ev.add("summary", f"{u.title} — {who}")
        lines = [
            f"规则 rule: {u.rule}",
            f"依据 cite: {cite}",
            f"主体 subject: {u.subject_type} {u.subject}"
            + (f" {u.subject_name}" if u.subject_name else ""),
        ]
        if u.period:
            lines.append(f"期间 period: {u.period}")
        if u.record:
            lines.append(f"记录 record: {u.record}")
        lines.append(f"截止 due: {u.due.isoformat()}; 已有/需要 have/need: {u.have}/{u.need}")
        lines.append(f"hazard-rules explain {u.rule}")
        ev.add("description", "\n".join(lines))
        ev.add("categories", [c for c in (pack, severity) if c])
        ev.add("transp", "TRANSPARENT")
        if what:
            ev.add("x-hazard-rules-period-or-record", what)
        if alarm_days > 0:
            alarm = ical.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{alarm_days} 天后截止 due in {alarm_days} days: {u.title}")
            alarm.add("trigger", -timedelta(days=alarm_days - 1, hours=15))
            ev.add_component(alarm)
        cal.add_component(ev)
    return str(cal.to_ical().decode("utf-8"))
