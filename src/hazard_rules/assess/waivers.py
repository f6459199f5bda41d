"""Waivers: findings a supervisor has approved as exceptions, reported as ``waived``.

::

    waivers:
      - id: W2025-03
        rule: baoshan-2024.monthly-report     # a rule id, or a glob: baoshan-2024.*
        subject: E06                          # the finding's subject
        period: 2025-08                       # optional: one period (recurring, trend) …
        record: H030                          # … or one record (check, criterion)
        reason: 系统切换期间延期报送，已书面说明
        approved_by: 区国资委安全生产工作领导小组办公室
        approved_on: 2025-09-05
        expires_on: 2026-06-30                # optional

A finding a waiver matches keeps every field; its status becomes ``waived`` and it carries
the waiver with the status it had. It is never dropped, is counted apart and never vetoes.
A waiver that has expired on the evaluation date, was approved after it, or matches no
finding is reported in the notes. Every key is checked when the file is loaded; errors are
located and reported together.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from hazard_rules._yaml import SourceMap, YamlError, load_yaml
from hazard_rules.errors import Diagnostic, InputError, WaiverError
from hazard_rules.periods import parse_period
from hazard_rules.results import WaiverRef
from hazard_rules.schema import did_you_mean
from hazard_rules.source import SourceSpan, display_path

__all__ = ["Waiver", "Waivers", "load_waivers"]

_KEYS = (
    "id",
    "rule",
    "subject",
    "period",
    "record",
    "reason",
    "approved_by",
    "approved_on",
    "expires_on",
)
_REQUIRED = ("id", "rule", "subject", "reason", "approved_by", "approved_on")


@dataclass(frozen=True)
class Waiver:
    """One approved exception (see the module docstring)."""

    id: str
    rule: str
    subject: str
    reason: str
    approved_by: str
    approved_on: date
    span: SourceSpan
    period: str | None = None
    record: str | None = None
    expires_on: date | None = None

    def matches(self, rule: str, subject: str, period: str | None, record: str | None) -> bool:
        """True when this waiver covers a finding with these keys."""
        if subject != self.subject or not fnmatch.fnmatchcase(rule, self.rule):
            return False
        if self.period is not None and period != self.period:
            return False
        return self.record is None or record == self.record

    def ref(self, status: str) -> WaiverRef:
        """What a waived finding carries."""
        return WaiverRef(
            id=self.id,
            reason=self.reason,
            approved_by=self.approved_by,
            approved_on=self.approved_on,
            expires_on=self.expires_on,
            status=status,  # type: ignore[arg-type]
        )


class Waivers:
    """The waivers in force on one evaluation date, and what became of each."""

    def __init__(self, waivers: Sequence[Waiver], as_of: date, rule_ids: Iterable[str]) -> None:
        self.notes: list[str] = []
        self.used: set[str] = set()
        ids = set(rule_ids)
        self.active: list[Waiver] = []
        for w in waivers:
            if not any(fnmatch.fnmatchcase(r, w.rule) for r in ids):
                self.notes.append(f"{w.span}: waiver {w.id}: no loaded rule matches {w.rule!r}")
            elif w.expires_on is not None and w.expires_on < as_of:
                self.notes.append(
                    f"{w.span}: waiver {w.id} expired on {w.expires_on}; its findings are reported"
                )
            elif w.approved_on > as_of:
                self.notes.append(
                    f"{w.span}: waiver {w.id} was approved on {w.approved_on}, after {as_of}; "
                    "not applied"
                )
            else:
                self.active.append(w)

    def __bool__(self) -> bool:
        return bool(self.active)

    def find(
        self, rule: str, status: str, subject: str, period: str | None, record: str | None
    ) -> WaiverRef | None:
        """The waiver covering this finding (the first in file order), if any."""
        if status == "waived":
            return None
        for w in self.active:
            if w.matches(rule, subject, period, record):
                self.used.add(w.id)
                return w.ref(status)
        return None

    def unused(self) -> list[str]:
        """Notes for the waivers in force that matched no finding."""
        return [
            f"{w.span}: waiver {w.id} ({w.rule}, {w.subject}) matches no finding"
            for w in self.active
            if w.id not in self.used
        ]


def load_waivers(path: str | os.PathLike[str]) -> list[Waiver]:
    """Load and check a waiver file; :class:`WaiverError` lists every problem, located."""
    p = Path(path)
    name = display_path(p)
    if not p.is_file():
        raise InputError(f"{name}: no such waiver file")
    try:
        data, smap = load_yaml(p, name)
    except YamlError as exc:
        raise WaiverError(exc.diagnostics) from None
    diags: list[Diagnostic] = []
    out: list[Waiver] = []
    if not isinstance(data, dict) or not isinstance(data.get("waivers"), list):
        diags.append(
            Diagnostic(
                smap.span(()), "invalid_waiver", "a waiver file is a mapping with a list `waivers`"
            )
        )
        raise WaiverError(diags)
    for key in data:
        if key != "waivers":
            diags.append(Diagnostic(smap.key_span((key,)), "unknown_key", f"unknown key {key!r}"))
    seen: dict[str, SourceSpan] = {}
    for i, doc in enumerate(data["waivers"]):
        w = _waiver(doc, ("waivers", i), smap, diags)
        if w is None:
            continue
        if w.id in seen:
            diags.append(
                Diagnostic(
                    w.span,
                    "duplicate_waiver",
                    f"waiver id {w.id!r} is already used at {seen[w.id]}",
                )
            )
            continue
        seen[w.id] = w.span
        out.append(w)
    if diags:
        raise WaiverError(diags)
    return out


def _waiver(
    doc: Any, where: tuple[Any, ...], smap: SourceMap, diags: list[Diagnostic]
) -> Waiver | None:
    span = smap.span(where)
    if not isinstance(doc, dict):
        diags.append(Diagnostic(span, "invalid_waiver", "a waiver is a mapping"))
        return None
    bad = False
    for key in doc:
        if key not in _KEYS:
            hint = did_you_mean(str(key), _KEYS)
            diags.append(
                Diagnostic(
                    smap.key_span((*where, key)), "unknown_key", f"unknown key {key!r}{hint}"
                )
            )
            bad = True
    for key in _REQUIRED:
        value = doc.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            diags.append(Diagnostic(span, "invalid_waiver", f"a waiver needs `{key}`"))
            bad = True
    dates: dict[str, date | None] = {}
    for key in ("approved_on", "expires_on"):
        raw = doc.get(key)
        if raw is None:
            dates[key] = None
            continue
        try:
            dates[key] = raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())
        except ValueError:
            diags.append(
                Diagnostic(
                    smap.span((*where, key)),
                    "malformed_date",
                    f"`{key}`: {raw!r} is not a date (YYYY-MM-DD)",
                )
            )
            bad = True
    if doc.get("period") is not None:
        try:
            parse_period(str(doc["period"]))
        except ValueError as exc:
            diags.append(Diagnostic(smap.span((*where, "period")), "invalid_waiver", str(exc)))
            bad = True
    if doc.get("period") is not None and doc.get("record") is not None:
        diags.append(Diagnostic(span, "invalid_waiver", "give `period` or `record`, not both"))
        bad = True
    approved, expires = dates.get("approved_on"), dates.get("expires_on")
    if approved is not None and expires is not None and expires < approved:
        diags.append(
            Diagnostic(
                smap.span((*where, "expires_on")),
                "invalid_waiver",
                "`expires_on` is before `approved_on`",
            )
        )
        bad = True
    if bad or approved is None:
        return None
    return Waiver(
        id=str(doc["id"]).strip(),
        rule=str(doc["rule"]).strip(),
        subject=str(doc["subject"]).strip(),
        reason=str(doc["reason"]).strip(),
        approved_by=str(doc["approved_by"]).strip(),
        approved_on=approved,
        span=span,
        period=str(doc["period"]).strip() if doc.get("period") is not None else None,
        record=str(doc["record"]).strip() if doc.get("record") is not None else None,
        expires_on=expires,
    )
