"""Calendar periods, due dates, time zones and date parsing — the only module using dateutil.

A :class:`Period` is a calendar month, quarter, half year or year, named ``2024-05``,
``2024-Q2``, ``2024-H1`` and ``2024``. Periods are **closed** intervals of dates:
``[start, end]`` where ``end`` is the period's last day, both inclusive — the same convention
as every other span in hazard-rules (``active_from``/``active_until``, ``window``,
``effective``, due dates). A datetime is first converted to the pack's time zone, then its
date decides the period: 2024-03-31T23:30Z is 2024-04-01 in Asia/Shanghai, so ``2024-Q2``.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from datetime import timezone as dt_timezone
from functools import lru_cache

from dateutil import tz as _dttz

__all__ = [
    "EVERY",
    "FORMS",
    "Period",
    "add_months",
    "check_year",
    "date_of",
    "local_date",
    "parse_date",
    "parse_datetime",
    "parse_period",
    "period_of",
    "periods_within",
    "timezone",
]

EVERY = ("month", "quarter", "half_year", "year")
_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}
_COUNT = {"month": 12, "quarter": 4, "half_year": 2, "year": 1}
_LABEL = re.compile(r"^\s*(\d{4})(?:-(?:(\d{1,2})|[Qq]([1-4])|[Hh]([12])))?\s*$")


@dataclass(frozen=True)
class Period:
    """One calendar period: ``index`` is 1-based within ``year`` (month 1–12, quarter 1–4 …)."""

    every: str
    year: int
    index: int = 1

    def __post_init__(self) -> None:
        if self.every not in _MONTHS:
            raise ValueError(f"unknown period kind {self.every!r}")
        if not 1 <= self.index <= _COUNT[self.every] or not 1 <= self.year <= 9998:
            raise ValueError(f"no such {self.every}: {self.year}/{self.index}")

    @property
    def start(self) -> date:
        """First day of the period (inclusive)."""
        return _bounds(self.every, self.year, self.index)[0]

    @property
    def end(self) -> date:
        """Last day of the period (inclusive)."""
        return _bounds(self.every, self.year, self.index)[1]

    @property
    def label(self) -> str:
        """The period's name: ``2024-05``, ``2024-Q2``, ``2024-H1`` or ``2024``."""
        if self.every == "month":
            return f"{self.year:04d}-{self.index:02d}"
        if self.every == "quarter":
            return f"{self.year:04d}-Q{self.index}"
        if self.every == "half_year":
            return f"{self.year:04d}-H{self.index}"
        return f"{self.year:04d}"

    @property
    def sort_key(self) -> tuple[date, int]:
        """Chronological order; at equal starts the shorter period first."""
        return (self.start, _MONTHS[self.every])

    def contains(self, day: date) -> bool:
        """True when ``day`` lies in ``[start, end]``."""
        return self.start <= day <= self.end

    def next(self) -> Period:
        """The period that follows this one."""
        if self.index < _COUNT[self.every]:
            return Period(self.every, self.year, self.index + 1)
        return Period(self.every, self.year + 1, 1)

    def due(self, day: int | None = None, *, of_next: bool = False) -> date:
        """The due date: day ``day`` of the period (1 = its first day), or its last day.

        With ``of_next``, the day is counted in the period that follows instead: a quarter's
        ``due(15, of_next=True)`` is the 15th of the next quarter's first month, a year's
        ``due(31, of_next=True)`` is 31 January of the next year. A day past the end of the
        period it is counted in is that period's last day.
        """
        year, index = self.year, self.index
        if of_next:
            year, index = (year, index + 1) if index < _COUNT[self.every] else (year + 1, 1)
        start, end = _bounds(self.every, year, index)
        if day is None:
            return end
        return min(start + timedelta(days=day - 1), end)

    def __str__(self) -> str:
        return self.label


@lru_cache(maxsize=4096)
def _bounds(every: str, year: int, index: int) -> tuple[date, date]:
    start = date(year, (index - 1) * _MONTHS[every] + 1, 1)
    last = start.month + _MONTHS[every] - 1  # within the year: no overflow past 9999-12-31
    return start, date(year, last, monthrange(year, last)[1])


def parse_period(value: object) -> Period:
    """Parse a period label (``2024-05``, ``2024-Q2``, ``2024-H1``, ``2024`` or int ``2024``).

    Raises ``ValueError`` for anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a period: {value!r}")
    if isinstance(value, int):
        return Period("year", value)
    if isinstance(value, Period):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a period: {value!r}")
    m = _LABEL.match(value)
    if not m:
        raise ValueError(
            f"not a period label: {value!r} (expected 2024-05, 2024-Q2, 2024-H1, 2024)"
        )
    year = int(m.group(1))
    try:
        return _labelled(m, year)
    except ValueError:
        raise ValueError(f"not a period: {value!r} (no such period)") from None


def _labelled(m: re.Match[str], year: int) -> Period:
    if m.group(2):
        return Period("month", year, int(m.group(2)))
    if m.group(3):
        return Period("quarter", year, int(m.group(3)))
    if m.group(4):
        return Period("half_year", year, int(m.group(4)))
    return Period("year", year)


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months; the day is kept, or the month's last day when it has
    fewer (2024-01-31 + 1 month = 2024-02-29)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def period_of(day: date, every: str) -> Period:
    """The period of kind ``every`` that contains ``day``."""
    return Period(every, day.year, (day.month - 1) // _MONTHS[every] + 1)


def periods_within(start: date, end: date, every: str) -> Iterator[Period]:
    """Every period of kind ``every`` lying wholly inside the closed span ``[start, end]``."""
    p = period_of(start, every)
    if p.start < start:
        p = p.next()
    while p.end <= end:
        yield p
        if p.year >= 9998 and p.index == _COUNT[every]:
            return
        p = p.next()


@lru_cache(maxsize=32)
def timezone(name: str) -> tzinfo:
    """The IANA time zone ``name``; ``ValueError`` when unknown."""
    zone = _dttz.gettz(name)
    if zone is None:
        raise ValueError(f"unknown time zone {name!r}")
    return zone


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# a date as people write it, optionally followed by a time and an offset
_WRITTEN = re.compile(
    r"^(?P<y>\d{4})(?:(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"|\s*年\s*(?P<cm>\d{1,2})\s*月\s*(?P<cd>\d{1,2})\s*日?"
    r"|(?P<cm8>\d{2})(?P<cd8>\d{2}))"
    r"(?:(?:T|\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{2}|\d{4})(?:[T\s].*)?$")
_SHORT_YEAR = re.compile(r"^(\d{2})([-/.])(\d{1,2})\2(\d{1,2})(?:[T\s].*)?$")
FORMS = "2024-05-20, 2024/5/20, 2024.5.20 or 2024年5月20日 (a time such as 14:30 may follow)"
MIN_YEAR, MAX_YEAR = 1900, 9998  # record dates outside these years are rejected


def _written(text: str, zone: tzinfo, day_first: bool | None = None) -> datetime | date:
    """A date or datetime from the forms in :data:`FORMS`; ``ValueError`` naming them."""
    s = unicodedata.normalize("NFKC", text).strip()
    m = _WRITTEN.match(s)
    if m is None:
        dmy = _DAY_MONTH_YEAR.match(s)
        if dmy is not None and day_first is not None and len(dmy.group(4)) == 4:
            first, second = int(dmy.group(1)), int(dmy.group(3))
            d, mo = (first, second) if day_first else (second, first)
            return _make(int(dmy.group(4)), mo, d, text)
        if dmy is not None:
            raise ValueError(
                f"{text!r} is ambiguous: day and month order unknown; write it as {FORMS}, "
                "or give the ledger's order in a column map (date_order: dmy or mdy)"
            )
        if _SHORT_YEAR.match(s):
            raise ValueError(f"{text!r} has a two-digit year; write it as {FORMS}")
        raise ValueError(f"{text!r} is not a date; write it as {FORMS}")
    g = m.groupdict()
    month = g["m"] or g["cm"] or g["cm8"]
    day = g["d"] or g["cd"] or g["cd8"]
    day_ = _make(int(g["y"]), int(month), int(day), text)
    if g["H"] is None:
        return day_
    try:
        micro = int((g["f"] or "0").ljust(6, "0"))
        moment = datetime.combine(day_, time(int(g["H"]), int(g["M"]), int(g["S"] or 0), micro))
    except ValueError:
        raise ValueError(f"{text!r} has an invalid time of day") from None
    if g["tz"] is None:
        return moment.replace(tzinfo=zone)
    tz = g["tz"]
    if tz == "Z":
        offset = timedelta(0)
    else:
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"{text!r} has an invalid time zone offset")
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if tz[0] == "-" else 1)
    return moment.replace(tzinfo=dt_timezone(offset)).astimezone(zone)


def check_year(day: date, text: object) -> date:
    """``day`` itself, or ``ValueError`` when its year is outside the supported range."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError(f"{text!r}: the year is outside {MIN_YEAR}–{MAX_YEAR}")
    return day


def _make(year: int, month: int, day: int, text: str) -> date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"{text!r}: the year is outside {MIN_YEAR}–{MAX_YEAR}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a date of the calendar") from None


def parse_date(text: str, zone: tzinfo, day_first: bool | None = None) -> date:
    """A date from text as people write it (:data:`FORMS`): a date, or a datetime whose
    local date in ``zone`` is taken (an offset is converted first, SPEC §3.4.6).
    ``day_first`` reads ``5/6/2024`` as 5 June (True) or May 6 (False); without it that
    form is ambiguous and refused. ``ValueError`` names the accepted forms."""
    s = text.strip()
    if _ISO_DATE.match(s):
        return _make(int(s[:4]), int(s[5:7]), int(s[8:]), text)
    value = _written(s, zone, day_first)
    return local_date(value, zone) if isinstance(value, datetime) else value


def parse_datetime(text: str, zone: tzinfo, day_first: bool | None = None) -> datetime:
    """A datetime in ``zone`` from text as people write it (naive input is local time; a
    date alone is its midnight)."""
    value = _written(text, zone, day_first)
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), zone)


def date_of(value: object) -> date | None:
    """The date of a typed record value: a date itself, a datetime's date (coercion has
    already put it in the pack's time zone, SPEC §3.4.6), None for anything else (missing)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def local_date(value: date | datetime, zone: tzinfo) -> date:
    """The local date of ``value`` in ``zone``: aware datetimes are converted, naive ones and
    plain dates are taken as they are."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(zone)
        return value.date()
    return value
