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
from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache

from dateutil import parser as _dtparser
from dateutil import tz as _dttz

__all__ = [
    "EVERY",
    "Period",
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
    if m.group(2):
        return Period("month", year, int(m.group(2)))
    if m.group(3):
        return Period("quarter", year, int(m.group(3)))
    if m.group(4):
        return Period("half_year", year, int(m.group(4)))
    return Period("year", year)


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


def parse_date(text: str, zone: tzinfo) -> date:
    """Parse ISO text as a date: a date, a naive datetime (its date), or an aware datetime
    converted to ``zone`` first (SPEC §3.4.6). ``ValueError`` when it is none of these."""
    s = text.strip()
    if _ISO_DATE.match(s):
        try:
            return date.fromisoformat(s)
        except ValueError:
            raise ValueError(f"not a valid date: {text!r}") from None
    return local_date(parse_datetime(s, zone), zone)


def parse_datetime(text: str, zone: tzinfo) -> datetime:
    """Parse ISO text as a datetime in ``zone`` (naive input is taken as local time)."""
    s = text.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}", s):
        raise ValueError(f"not an ISO date or datetime: {text!r}")
    try:
        value = _dtparser.isoparse(s)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a valid date or datetime: {text!r}") from exc
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def local_date(value: date | datetime, zone: tzinfo) -> date:
    """The local date of ``value`` in ``zone``: aware datetimes are converted, naive ones and
    plain dates are taken as they are."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(zone)
        return value.date()
    return value
