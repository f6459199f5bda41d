"""Doubtful findings: a verdict that rejected records could have changed says so.

A ``missing``, ``late`` or ``exceeded`` finding of a deadline, recurring or trend rule rests
on the absence (or the count) of records of one type for one subject: its evidence or
counted type. A rejected row *could have been* one of them when its type is that type (or
unknown) and the reference that links it to the finding's subject is that subject (or could
not be read). An ``overdue`` or ``late`` finding of a check is about one record that was
read: only a rejected row that could be that same record (same type and id, or an id that
could not be read) could change it. Such a finding is marked
``doubtful`` with the sources of those rows (SPEC §4): it may be false, and the rows that
would tell are listed. ``failed`` and ``misclassified`` findings are about a record that
was read, and are never doubtful.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from hazard_rules.facts.collect import LostRow
from hazard_rules.ir import Check, Deadline, Recurring, Rule, Trend

__all__ = ["DOUBTFUL_STATUSES", "MAX_SOURCES", "Doubts", "doubt_links", "source_order"]

DOUBTFUL_STATUSES = frozenset({"missing", "late", "overdue", "exceeded"})
MAX_SOURCES = 20  # sources listed per finding; the count says how many there are


def source_order(source: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key of sources in reading order: ``hazard.csv:9`` before ``hazard.csv:10``."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", source))


class Link(NamedTuple):
    """How a rule's findings depend on records: their type and the field that names the
    finding's subject (``id``: the finding's own record, for checks)."""

    type: str
    via: str


def doubt_links(rules: Iterable[Rule]) -> dict[str, Link]:
    """Rule id → the records its findings rest on (rules that cannot be doubtful are absent)."""
    out: dict[str, Link] = {}
    for rule in rules:
        if isinstance(rule, (Deadline, Recurring)):
            out[rule.meta.id] = Link(rule.evidence.type, rule.evidence.via)
        elif isinstance(rule, Trend):
            out[rule.meta.id] = Link(rule.count.type, rule.count.via)
        elif isinstance(rule, Check) and rule.due is not None:
            out[rule.meta.id] = Link(rule.type, "id")
    return out


class Doubts:
    """Which rejected rows could have changed a finding (see the module docstring)."""

    def __init__(self, lost: Sequence[LostRow], links: Mapping[str, Link]) -> None:
        self.links = links
        self._lost = lost
        self._index: dict[Link, tuple[dict[str, list[str]], list[str]]] = {}

    def __bool__(self) -> bool:
        return bool(self._lost)

    def _for(self, link: Link) -> tuple[dict[str, list[str]], list[str]]:
        got = self._index.get(link)
        if got is None:
            by_subject: dict[str, list[str]] = defaultdict(list)
            anyone: list[str] = []
            for row in self._lost:
                if row.type is not None and row.type != link.type:
                    continue
                subject = row.refs.get(link.via) if row.refs is not None else None
                if subject is None:
                    anyone.append(row.source)
                else:
                    by_subject[subject].append(row.source)
            got = self._index[link] = (dict(by_subject), anyone)
        return got

    def sources(self, rule: str, status: str, subject: str, record: str | None) -> list[str]:
        """Sources of the rejected rows that could have changed this finding (may be empty):
        ``subject`` is the finding's subject id, ``record`` its record's id (checks)."""
        if status not in DOUBTFUL_STATUSES:
            return []
        link = self.links.get(rule)
        if link is None:
            return []
        key = record if link.via == "id" else subject
        if key is None:
            return []
        by_key, anyone = self._for(link)
        return sorted([*by_key.get(key, ()), *anyone], key=source_order)
