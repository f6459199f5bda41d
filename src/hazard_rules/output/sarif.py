"""SARIF 2.1.0 (OASIS) for code-scanning tools: the findings of ``check`` and the problems of
``lint``.

A check run describes every rule judged (id, title, citation, severity, kind, pack; its
``why`` as the full description) and one result per finding, located at the record's row
(``hazard.csv`` line 20), else its first evidence's, else the rule's file and line; the
subject is a logical location. Severity maps to SARIF levels: critical and high →
``error``, medium → ``warning``, low → ``note``. ``partialFingerprints`` identify a finding
across runs (rule, subject, record, period), so a code-scanning service tracks it rather than
reopening it. A lint run has one result per diagnostic, its code as the rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from hazard_rules.errors import Diagnostic
from hazard_rules.ir import Rule
from hazard_rules.output.locations import Location, finding_location
from hazard_rules.results import Result, Violation

__all__ = ["LEVELS", "SCHEMA_URI", "lint_sarif", "result_sarif"]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _driver(rules: list[dict[str, Any]]) -> dict[str, Any]:
    from hazard_rules import __version__

    return {
        "name": "hazard-rules",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": rules,
    }


def _physical(loc: Location) -> dict[str, Any]:
    out: dict[str, Any] = {"artifactLocation": {"uri": loc.uri}}
    if loc.line > 0:
        out["region"] = {"startLine": loc.line}
    return out


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    m = rule.meta
    help_text = f"{m.title}\n依据 cite: {m.cite}" + (f"\n{m.why.strip()}" if m.why else "")
    return {
        "id": m.id,
        "shortDescription": {"text": m.title},
        "fullDescription": {"text": (m.why or m.title).strip()},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": LEVELS[m.severity]},
        "properties": {
            "cite": m.cite,
            "severity": m.severity,
            "kind": m.kind,
            "pack": m.pack,
            "tags": [m.pack, m.kind, m.severity],
            **({"title_en": m.title_en} if m.title_en else {}),
        },
    }


def fingerprint(v: Violation) -> str:
    """A stable hash of what makes a finding the same finding from one run to the next."""
    key = "\x1f".join(
        [
            v.rule,
            v.subject.type,
            v.subject.id,
            f"{v.record.type}:{v.record.id}" if v.record else "",
            v.period or "",
            v.due.isoformat() if v.due else "",
        ]
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def result_sarif(
    result: Result,
    rules: Sequence[Rule],
    sources: dict[tuple[str, str], str],
    lang: str = "zh",
) -> str:
    """A SARIF log of one check run: ``rules`` are the rules judged, ``sources`` the rows of
    the records findings name (see :mod:`hazard_rules.output.locations`)."""
    ordered = sorted(rules, key=lambda r: r.meta.id)
    index = {r.meta.id: i for i, r in enumerate(ordered)}
    spans = {r.meta.id: str(r.meta.span) for r in ordered}
    results = []
    for v in result.violations:
        loc = finding_location(v, sources, spans.get(v.rule, ""))
        text = v.message if lang == "zh" else v.message_en
        if loc.sheet is not None:
            text += f" ({loc.sheet}:{loc.row})"
        props: dict[str, Any] = {
            "status": v.status,
            "severity": v.severity,
            "subject": f"{v.subject.type}:{v.subject.id}",
            "cite": v.cite,
        }
        if v.record:
            props["record"] = f"{v.record.type}:{v.record.id}"
        if v.period:
            props["period"] = v.period
        if v.due:
            props["due"] = v.due.isoformat()
        if v.evidence:
            props["evidence"] = [f"{e.type}:{e.id}" for e in v.evidence]
        if v.doubtful:
            props["doubtful"] = True
            props["doubtful_because"] = list(v.doubtful_because)
        entry: dict[str, Any] = {
            "ruleId": v.rule,
            "level": LEVELS[v.severity],
            "kind": "fail",
            "message": {"text": text or v.rule},
            "locations": [
                {
                    "physicalLocation": _physical(loc),
                    "logicalLocations": [
                        {
                            "name": v.subject.id,
                            "fullyQualifiedName": f"{v.subject.type}:{v.subject.id}",
                            "kind": "object",
                        }
                    ],
                }
            ],
            "partialFingerprints": {"hazardRulesFinding/v1": fingerprint(v)},
            "properties": props,
        }
        if v.rule in index:
            entry["ruleIndex"] = index[v.rule]
        results.append(entry)
    run: dict[str, Any] = {
        "tool": {"driver": _driver([_rule_descriptor(r) for r in ordered])},
        "invocations": [
            {
                "executionSuccessful": True,
                "properties": {
                    "as_of": _iso(result.as_of),
                    "read": result.counts.read,
                    "evaluated": result.counts.evaluated,
                    "rejected": result.counts.rejected,
                },
                "toolExecutionNotifications": [
                    {
                        "level": "warning",
                        "message": {
                            "text": f"rejected {r.type} {r.id or ''}: {r.field or ''}: {r.reason}"
                        },
                        "locations": _maybe_location(r.source),
                    }
                    for r in result.rejected
                ],
            }
        ],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return _dump(run)


def _maybe_location(source: str) -> list[dict[str, Any]]:
    from hazard_rules.output.locations import parse_source

    loc = parse_source(source)
    return [{"physicalLocation": _physical(loc)}] if loc else []


def _iso(d: date) -> str:
    return d.isoformat()


def lint_sarif(diagnostics: Sequence[Diagnostic]) -> str:
    """A SARIF log of a lint run: one result per diagnostic, its code as the rule id."""
    codes = sorted({d.code for d in diagnostics})
    index = {c: i for i, c in enumerate(codes)}
    rules = [
        {
            "id": c,
            "shortDescription": {"text": c.replace("_", " ")},
            "defaultConfiguration": {"level": "error"},
        }
        for c in codes
    ]
    results = []
    for d in diagnostics:
        phys: dict[str, Any] = {"artifactLocation": {"uri": Location(d.span.path).uri}}
        if d.span.line > 0:
            region: dict[str, Any] = {"startLine": d.span.line}
            if d.span.column > 0:
                region["startColumn"] = d.span.column
            phys["region"] = region
        results.append(
            {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": "error",
                "message": {"text": d.message},
                "locations": [{"physicalLocation": phys}],
            }
        )
    run = {
        "tool": {"driver": _driver(rules)},
        "invocations": [{"executionSuccessful": True}],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return _dump(run)


def _dump(run: dict[str, Any]) -> str:
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, ensure_ascii=False, indent=2) + "\n"
