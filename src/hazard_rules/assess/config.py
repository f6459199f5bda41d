"""A pack's ``assessment:`` section: how findings become a scorecard, and which findings veto
an excellent rating (一票否优). Data, not code: type-checked at load with located errors.

::

    assessment:
      period: year                       # the default assessment period (month … year)
      weights: {critical: 4, high: 3, medium: 2, low: 1}   # of obligations, in the score
      veto:                              # any matching finding vetoes an excellent rating
        - name: 重大事故隐患逾期未整改
          cite: 宝国资委〔2024〕11号 二、7（查出后拒不整改）
          rules: [baoshan-2024.hazard-rectified-on-time]   # ids or globs
          statuses: [overdue]
          severities: [high, critical]   # optional
          where: {level: major}          # optional: a condition on the finding's record

The section of the last pack loaded that has one applies: a user's pack that extends a bundled
one overrides its list. Waived findings never veto.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hazard_rules._yaml import SourceMap
from hazard_rules.errors import Diagnostic
from hazard_rules.ir import Check, Condition, Criterion, Rule
from hazard_rules.lower.conditions import ConditionLowerer
from hazard_rules.periods import EVERY, timezone
from hazard_rules.schema import Schema, did_you_mean
from hazard_rules.source import SourceSpan

__all__ = ["DEFAULT_WEIGHTS", "Assessment", "VetoRule", "lower_assessment"]

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"critical": 4.0, "high": 3.0, "medium": 2.0, "low": 1.0}
)
_KEYS = ("period", "weights", "veto")
_VETO_KEYS = ("name", "cite", "rules", "statuses", "severities", "where")
_STATUSES = ("failed", "overdue", "late", "missing", "misclassified", "exceeded")


@dataclass(frozen=True)
class VetoRule:
    """Findings that veto an excellent rating: of these rules, with one of these statuses
    (and severities), about a record satisfying ``where``."""

    name: str
    rules: frozenset[str]  # the rule ids the globs matched, resolved at load
    statuses: frozenset[str]
    span: SourceSpan
    cite: str | None = None
    severities: frozenset[str] | None = None
    where: Condition | None = None

    def applies(self, rule: str, status: str, severity: str) -> bool:
        """True when a finding of ``rule`` with this status and severity is of this kind
        (``where`` aside: it needs the finding's record)."""
        return (
            rule in self.rules
            and status in self.statuses
            and (self.severities is None or severity in self.severities)
        )


@dataclass(frozen=True)
class Assessment:
    """The assessment settings of a pack set (see the module docstring)."""

    pack: str
    period: str = "year"
    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    veto: tuple[VetoRule, ...] = ()


def lower_assessment(
    pack: str,
    doc: Any,
    smap: SourceMap,
    rules: Sequence[Rule],
    schema: Schema,
    lists: Mapping[str, tuple[Any, ...]],
    diags: list[Diagnostic],
) -> Assessment | None:
    """The ``assessment`` section of ``pack`` (``doc``), checked against the loaded rules."""
    where = ("assessment",)
    before = len(diags)

    def err(at: tuple[Any, ...], code: str, msg: str, *, key: bool = False) -> None:
        diags.append(Diagnostic(smap.key_span(at) if key else smap.span(at), code, msg))

    if not isinstance(doc, dict):
        err(where, "invalid_assessment", "`assessment` is a mapping of period, weights, veto")
        return None
    for key in doc:
        if key not in _KEYS:
            err(
                (*where, key),
                "unknown_key",
                f"unknown key {key!r}{did_you_mean(str(key), _KEYS)}",
                key=True,
            )
    period = doc.get("period", "year")
    if period not in EVERY:
        err((*where, "period"), "invalid_assessment", f"period is one of {', '.join(EVERY)}")
    weights = dict(DEFAULT_WEIGHTS)
    raw_weights = doc.get("weights") or {}
    if not isinstance(raw_weights, dict):
        err((*where, "weights"), "invalid_assessment", "weights map severities to numbers")
        raw_weights = {}
    for sev, w in raw_weights.items():
        if sev not in DEFAULT_WEIGHTS:
            err(
                (*where, "weights", sev),
                "invalid_assessment",
                f"unknown severity {sev!r}",
                key=True,
            )
        elif isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
            err((*where, "weights", sev), "invalid_assessment", "a weight is a number ≥ 0")
        else:
            weights[sev] = float(w)
    vetoes: list[VetoRule] = []
    raw_veto = doc.get("veto") or []
    if not isinstance(raw_veto, list):
        err((*where, "veto"), "invalid_assessment", "veto is a list of kinds of findings")
        raw_veto = []
    lowerer = ConditionLowerer(schema, lists, smap, timezone(schema.timezone), diags)
    ids = [r.meta.id for r in rules]
    by_id = {r.meta.id: r for r in rules}
    for i, item in enumerate(raw_veto):
        at = (*where, "veto", i)
        v = _veto(item, at, err, ids, by_id, lowerer)
        if v is not None:
            vetoes.append(v)
    if len(diags) > before:
        return None
    return Assessment(pack, str(period), MappingProxyType(weights), tuple(vetoes))


def _veto(
    item: Any,
    at: tuple[Any, ...],
    err: Any,
    ids: list[str],
    by_id: Mapping[str, Rule],
    lowerer: ConditionLowerer,
) -> VetoRule | None:
    if not isinstance(item, dict):
        err(at, "invalid_assessment", "a veto is a mapping with name, rules, statuses")
        return None
    bad = False
    for key in item:
        if key not in _VETO_KEYS:
            err(
                (*at, key),
                "unknown_key",
                f"unknown key {key!r}{did_you_mean(str(key), _VETO_KEYS)}",
                key=True,
            )
            bad = True
    for key in ("name", "rules", "statuses"):
        if not item.get(key):
            err(at, "missing_key", f"a veto needs `{key}`")
            bad = True
    if bad:
        return None
    globs = item["rules"] if isinstance(item["rules"], list) else [item["rules"]]
    matched: set[str] = set()
    for j, g in enumerate(globs):
        hits = [r for r in ids if fnmatch.fnmatchcase(r, str(g))]
        if not hits:
            err(
                (*at, "rules", j),
                "unknown_rule",
                f"no loaded rule matches {g!r}{did_you_mean(str(g), ids)}",
            )
            bad = True
        matched.update(hits)
    statuses = item["statuses"] if isinstance(item["statuses"], list) else [item["statuses"]]
    for j, s in enumerate(statuses):
        if s not in _STATUSES:
            err(
                (*at, "statuses", j),
                "invalid_assessment",
                f"unknown status {s!r}; one of {', '.join(_STATUSES)}",
            )
            bad = True
    severities = None
    if item.get("severities") is not None:
        raw = item["severities"] if isinstance(item["severities"], list) else [item["severities"]]
        for j, s in enumerate(raw):
            if s not in DEFAULT_WEIGHTS:
                err((*at, "severities", j), "invalid_assessment", f"unknown severity {s!r}")
                bad = True
        severities = frozenset(str(s) for s in raw)
    where = None
    if item.get("where") is not None:
        types = {r.type for rid in matched if isinstance((r := by_id[rid]), (Check, Criterion))}
        timed = [rid for rid in matched if not isinstance(by_id[rid], (Check, Criterion))]
        if timed or len(types) != 1:
            err(
                (*at, "where"),
                "invalid_assessment",
                "`where` reads the finding's record: the rules must all be checks or criteria "
                "of one record type",
            )
            bad = True
        else:
            where = lowerer.lower(next(iter(types)), item["where"], (*at, "where"))
            bad = bad or where is None
    if bad:
        return None
    return VetoRule(
        name=str(item["name"]),
        rules=frozenset(matched),
        statuses=frozenset(str(s) for s in statuses),
        span=lowerer.smap.span(at),
        cite=str(item["cite"]) if item.get("cite") else None,
        severities=severities,
        where=where,
    )
