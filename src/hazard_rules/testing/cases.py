"""The case runner: ``*.cases.yaml`` files (SPEC §8) evaluated and compared with what they expect.

A case file beside a rule file (``x.cases.yaml`` next to ``x.rule.yaml``) is judged with that
file's rules only; without such a sibling, or with ``scope: pack``, with every rule of its
pack and the packs it extends. ``expect`` lists exactly the findings produced: each
expectation names the fields that matter and must match a distinct finding.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hazard_rules._yaml import SourceMap, YamlError, load_yaml
from hazard_rules.errors import Diagnostic, HazardRulesError, PackError
from hazard_rules.packs import PackSet, load_packs
from hazard_rules.results import Result
from hazard_rules.schema import did_you_mean
from hazard_rules.source import SourceSpan, display_path

__all__ = ["Case", "CaseOutcome", "iter_cases", "load_cases", "run_case"]

_CASE_KEYS = {
    "name",
    "as_of",
    "facts",
    "expect",
    "classifications",
    "candidates",
    "rejected",
    "description",
    "unmapped",
}
_EXPECT_KEYS = {"rule", "status", "subject", "record", "period", "due", "severity", "kind"}
_LABEL_KEYS = {"record", "label", "rule"}
_REJECT_KEYS = {"type", "id", "field"}


@dataclass(frozen=True)
class Case:
    """One example fact set with the findings expected."""

    name: str
    file: Path
    span: SourceSpan
    pack: str
    as_of: date
    facts: Mapping[str, Any]
    expect: tuple[Mapping[str, Any], ...]
    rule_ids: frozenset[str] | None  # None: every rule of the pack set
    classifications: tuple[Mapping[str, Any], ...] | None = None
    candidates: tuple[Mapping[str, Any], ...] | None = None
    rejected: tuple[Mapping[str, Any], ...] = ()

    @property
    def id(self) -> str:
        return f"{self.pack}/{self.file.name}::{self.name}"


@dataclass
class CaseOutcome:
    """What running a case gave: ``ok`` and, when not, the differences."""

    case: Case
    backend: str
    ok: bool
    missing: list[str] = field(default_factory=list)  # expected, not produced
    unexpected: list[str] = field(default_factory=list)  # produced, not expected
    error: str | None = None
    result: Result | None = None

    def report(self) -> str:
        """A readable failure report: the case, where it is, expected vs actual."""
        head = f"FAIL {self.case.id} [{self.backend}]  ({self.case.span})"
        if self.error:
            return f"{head}\n  error: {self.error}"
        lines = [head]
        width = max([len(m) for m in self.missing] + [8])
        lines.append(f"  {'expected, not produced'.ljust(width)} | produced, not expected")
        for i in range(max(len(self.missing), len(self.unexpected))):
            left = self.missing[i] if i < len(self.missing) else ""
            right = self.unexpected[i] if i < len(self.unexpected) else ""
            lines.append(f"  {left.ljust(width)} | {right}")
        return "\n".join(lines)


def _fmt(d: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in d.items() if v is not None) + "}"


def _violation_view(v: Any) -> dict[str, Any]:
    return {
        "rule": v.rule,
        "status": v.status,
        "subject": v.subject.id,
        "record": v.record.id if v.record else None,
        "period": v.period,
        "due": v.due.isoformat() if v.due else None,
        "severity": v.severity,
        "kind": v.kind,
        "_subject_type": v.subject.type,
    }


def _match(exp: Mapping[str, Any], act: Mapping[str, Any]) -> bool:
    for key, want in exp.items():
        have = act.get(key)
        if key == "subject" and isinstance(want, dict):
            if str(want.get("id")) != str(have) or (
                "type" in want and want["type"] != act["_subject_type"]
            ):
                return False
            continue
        if isinstance(want, date):
            want = want.isoformat()
        if want is None:
            if have is not None:
                return False
        elif str(want) != str(have):
            return False
    return True


def _pair(
    expected: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]]
) -> tuple[list[int], list[int]]:
    """Maximum matching of expectations to findings; returns unmatched indexes of each side."""
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j, act in enumerate(actual):
            if j in seen or not _match(expected[i], act):
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        augment(i, set())  # fills `owner`: a maximum matching of actual to expected
    matched = set(owner.values())
    return [i for i in range(len(expected)) if i not in matched], [
        j for j in range(len(actual)) if j not in owner
    ]


def _compare(
    out: CaseOutcome,
    label: str,
    expected: Sequence[Mapping[str, Any]],
    actual: Sequence[Mapping[str, Any]],
) -> None:
    miss, extra = _pair(expected, actual)
    for i in miss:
        out.missing.append(label + _fmt(expected[i]))
    for j in extra:
        out.unexpected.append(
            label + _fmt({k: v for k, v in actual[j].items() if not k.startswith("_")})
        )


def run_case(case: Case, packs: PackSet, backend: str = "python") -> CaseOutcome:
    """Evaluate one case and compare its findings with what it expects."""
    from hazard_rules.api import evaluate

    scoped = packs.only(set(case.rule_ids)) if case.rule_ids is not None else packs
    out = CaseOutcome(case, backend, ok=False)
    try:
        result = evaluate(scoped, case.facts, case.as_of, backend=backend, show_unmapped=True)
    except HazardRulesError as exc:
        out.error = str(exc)
        return out
    out.result = result
    _compare(out, "", list(case.expect), [_violation_view(v) for v in result.violations])
    if case.classifications is not None:
        _compare(
            out,
            "classification ",
            list(case.classifications),
            [
                {"record": c.record.id, "label": c.label, "rule": c.rule}
                for c in result.classifications
            ],
        )
    if case.candidates is not None:
        _compare(
            out,
            "candidate ",
            list(case.candidates),
            [{"record": c.record.id, "rule": c.rule, "label": c.label} for c in result.candidates],
        )
    _compare(
        out,
        "rejected ",
        list(case.rejected),
        [
            {"type": r.type, "id": r.id, "field": r.field, "_reason": r.reason}
            for r in result.rejected
        ],
    )
    out.ok = not out.missing and not out.unexpected
    return out


class _CaseLoader:
    def __init__(self, smap: SourceMap, diags: list[Diagnostic]) -> None:
        self.smap = smap
        self.diags = diags

    def keys(
        self,
        doc: Any,
        allowed: set[str],
        required: tuple[str, ...],
        where: tuple[Any, ...],
        what: str,
    ) -> bool:
        if not isinstance(doc, dict):
            self.diags.append(
                Diagnostic(self.smap.span(where), "invalid_case", f"{what} must be a mapping")
            )
            return False
        ok = True
        for key in doc:
            if key not in allowed:
                self.diags.append(
                    Diagnostic(
                        self.smap.key_span((*where, key)),
                        "unknown_key",
                        f"unknown key {key!r} in {what}{did_you_mean(str(key), allowed)}",
                    )
                )
                ok = False
        for key in required:
            if key not in doc:
                self.diags.append(
                    Diagnostic(self.smap.span(where), "missing_key", f"{what} needs `{key}`")
                )
                ok = False
        return ok

    def items(
        self, doc: Any, allowed: set[str], where: tuple[Any, ...], what: str
    ) -> tuple[Mapping[str, Any], ...] | None:
        if doc is None:
            return ()
        if not isinstance(doc, list):
            self.diags.append(
                Diagnostic(self.smap.span(where), "invalid_case", f"{what} is a list")
            )
            return None
        ok = all(self.keys(d, allowed, (), (*where, i), what) for i, d in enumerate(doc))
        return tuple(doc) if ok else None


_KINDS = ("criterion", "check", "deadline", "recurring", "trend")
_SEVERITIES = ("critical", "high", "medium", "low")


def _check_facts(
    cl: _CaseLoader, facts: Mapping[Any, Any], packs: PackSet, w: tuple[Any, ...]
) -> None:
    """Every type of ``facts`` in the schema, every record a mapping of its fields (by name
    or label): a misspelt field is an error here, not a case that fails for no clear reason."""
    types = packs.schema.types
    for tname, records in facts.items():
        at = (*w, "facts", tname)
        tdef = types.get(str(tname))
        if tdef is None:
            cl.diags.append(
                Diagnostic(
                    cl.smap.key_span(at),
                    "unknown_type",
                    f"no record type {tname!r}{did_you_mean(str(tname), types)}",
                )
            )
            continue
        if not isinstance(records, list):
            cl.diags.append(
                Diagnostic(cl.smap.span(at), "invalid_case", f"{tname}: a list of records")
            )
            continue
        names = {*tdef.fields, *(f.label for f in tdef.fields.values() if f.label)}
        for i, rec in enumerate(records):
            if not isinstance(rec, dict):
                cl.diags.append(
                    Diagnostic(cl.smap.span((*at, i)), "invalid_case", "a record is a mapping")
                )
                continue
            for key in rec:
                if str(key) not in names:
                    cl.diags.append(
                        Diagnostic(
                            cl.smap.key_span((*at, i, key)),
                            "unknown_field",
                            f"{tname} has no field {key!r}{did_you_mean(str(key), tdef.fields)}",
                        )
                    )


def _check_rule_ids(
    cl: _CaseLoader,
    items: Sequence[Mapping[str, Any]] | None,
    where: tuple[Any, ...],
    packs: PackSet,
    scope: frozenset[str] | None,
    file: Path,
) -> None:
    if not items:
        return
    known = [r.meta.id for r in packs.rules]
    for j, e in enumerate(items):
        rid = e.get("rule")
        if rid is None:
            continue
        span = cl.smap.span((*where, j, "rule"))
        if str(rid) not in known:
            cl.diags.append(
                Diagnostic(span, "unknown_rule", f"no rule {rid!r}{did_you_mean(str(rid), known)}")
            )
        elif scope is not None and str(rid) not in scope:
            cl.diags.append(
                Diagnostic(
                    span,
                    "rule_out_of_scope",
                    f"{rid} is not a rule of {file.name[: -len('.cases.yaml')]}.rule.yaml, "
                    "so this case never judges it (add `scope: pack` at the top of the file)",
                )
            )


def _check_values(
    cl: _CaseLoader, items: Sequence[Mapping[str, Any]] | None, where: tuple[Any, ...]
) -> None:
    from hazard_rules.results import STATUSES

    allowed = (("status", STATUSES), ("severity", _SEVERITIES), ("kind", _KINDS))
    for j, e in enumerate(items or ()):
        for key, choices in allowed:
            value = e.get(key)
            if value is None or value in choices:
                continue
            span = cl.smap.span((*where, j, key))
            text = (
                f"{key} {value!r} is not one of {', '.join(choices)}"
                f"{did_you_mean(str(value), choices)}"
            )
            if key == "status":
                cl.diags.append(Diagnostic(span, "invalid_status", text))
            elif key == "severity":
                cl.diags.append(Diagnostic(span, "invalid_severity", text))
            else:
                cl.diags.append(Diagnostic(span, "invalid_kind", text))


def load_cases(file: Path, packs: PackSet, pack_id: str) -> list[Case]:
    """Read one case file; raises :class:`PackError` with every problem found."""
    diags: list[Diagnostic] = []
    try:
        data, smap = load_yaml(file, display_path(file))
    except YamlError as exc:
        raise PackError(exc.diagnostics) from exc
    cl = _CaseLoader(smap, diags)
    if not cl.keys(data, {"cases", "scope"}, ("cases",), (), "a case file"):
        raise PackError(diags)
    sibling = file.with_name(file.name[: -len(".cases.yaml")] + ".rule.yaml")
    rule_ids: frozenset[str] | None = None
    if data.get("scope", "file") not in ("pack", "file"):
        diags.append(Diagnostic(smap.span(("scope",)), "invalid_case", "scope is `pack` or `file`"))
    if data.get("scope") != "pack" and sibling.is_file():
        rule_ids = frozenset(
            r.meta.id
            for r in packs.rules
            if Path(r.meta.span.path).resolve() == sibling.resolve()
            or (Path(r.meta.span.path).name == sibling.name and r.meta.pack == pack_id)
        )
    cases = []
    names: set[str] = set()
    for i, doc in enumerate(data.get("cases") or []):
        w = ("cases", i)
        if not cl.keys(doc, _CASE_KEYS, ("name", "as_of", "facts", "expect"), w, "a case"):
            continue
        name = str(doc["name"])
        if name in names:
            diags.append(
                Diagnostic(smap.span((*w, "name")), "duplicate_case", f"case name {name!r} repeats")
            )
        names.add(name)
        as_of = _as_of(doc["as_of"])
        if as_of is None:
            diags.append(
                Diagnostic(
                    smap.span((*w, "as_of")),
                    "malformed_date",
                    f"as_of {doc['as_of']!r} is not a date (YYYY-MM-DD, or a date and time "
                    "with its offset)",
                )
            )
            continue
        facts = doc["facts"] or {}
        if not isinstance(facts, dict):
            diags.append(
                Diagnostic(smap.span((*w, "facts")), "invalid_case", "facts: {type: [records]}")
            )
            continue
        _check_facts(cl, facts, packs, w)
        expect = cl.items(doc["expect"], _EXPECT_KEYS, (*w, "expect"), "an expectation")
        _check_values(cl, expect, (*w, "expect"))
        _check_rule_ids(cl, expect, (*w, "expect"), packs, rule_ids, file)
        for j, e in enumerate(expect or ()):
            for key in ("rule", "status"):
                if key not in e:
                    diags.append(
                        Diagnostic(
                            smap.span((*w, "expect", j)),
                            "missing_key",
                            f"an expectation needs `{key}`",
                        )
                    )
        classes = (
            cl.items(
                doc.get("classifications"), _LABEL_KEYS, (*w, "classifications"), "a classification"
            )
            if "classifications" in doc
            else None
        )
        cands = (
            cl.items(doc.get("candidates"), _LABEL_KEYS, (*w, "candidates"), "a candidate")
            if "candidates" in doc
            else None
        )
        rejected = cl.items(
            doc.get("rejected"), _REJECT_KEYS, (*w, "rejected"), "a rejected record"
        )
        for key, items in (("classifications", classes), ("candidates", cands)):
            _check_rule_ids(cl, items, (*w, key), packs, rule_ids, file)
        if expect is None or rejected is None:
            continue
        cases.append(
            Case(
                name,
                file,
                smap.span(w),
                pack_id,
                as_of,
                facts,
                expect,
                rule_ids,
                classes,
                cands,
                rejected,
            )
        )
    if diags:
        raise PackError(diags)
    return cases


def iter_cases(*refs: str) -> Iterator[tuple[PackSet, Case]]:
    """Every case of the given packs (their own case files, not those of packs they extend)."""
    for ref in refs:
        packs = load_packs(ref)
        info = packs.packs[-1]  # dependencies load first; the pack asked for is last
        for file in info.case_files:
            for case in load_cases(file, packs, info.id):
                yield packs, case


def _as_of(raw: object) -> date | None:
    """A case's ``as_of``: a date, a date written as text, or a datetime with an offset (its
    local date is taken when the case runs); None for anything else."""
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            try:
                raw = datetime.fromisoformat(text)
            except ValueError:
                return None
    if isinstance(raw, datetime):
        return raw if raw.utcoffset() is not None else None
    return raw if isinstance(raw, date) else None
