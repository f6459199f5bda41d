"""Lowering of rule documents (``*.rule.yaml``) to the rule IR, with diagnostics.

Checks the keys of every rule kind (unknown keys with a "did you mean"), resolves record
types, evidence links and dates, parses message templates (plain ``{name}`` placeholders
only), and hands conditions to :class:`~hazard_rules.lower.conditions.ConditionLowerer`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from hazard_rules._yaml import Path_, SourceMap
from hazard_rules.errors import Diagnostic
from hazard_rules.ir import (
    Band,
    Check,
    Compute,
    Criterion,
    DueSpec,
    Rule,
    RuleMeta,
    Template,
)
from hazard_rules.lower.base import RuleFile
from hazard_rules.lower.time_rules import TimeRuleLowerer
from hazard_rules.regex import RegexError, compile_regex
from hazard_rules.schema import Schema, did_you_mean
from hazard_rules.source import SourceSpan

__all__ = ["KINDS", "SEVERITIES", "lower_rule_file"]

MAX_DAYS = 36_500  # `due: {after: F, days: N}`: at most 100 years

SEVERITIES = ("critical", "high", "medium", "low")
_COMMON = {
    "id",
    "title",
    "title_en",
    "kind",
    "cite",
    "severity",
    "why",
    "message",
    "effective",
    "tags",
}
_REQUIRED = ("id", "title", "kind", "cite", "severity", "message")
KINDS: dict[str, set[str]] = {
    "criterion": {"for", "when", "applies", "label", "declared", "hints"},
    "check": {"for", "where", "require", "due", "done", "compute"},
    "deadline": {"subject", "evidence", "due", "at_least"},
    "recurring": {"subject", "evidence", "every", "at_least", "stricter", "window", "due"},
    "trend": {"subject", "count", "compare"},
}
_KIND_REQUIRED = {
    "criterion": ("for", "when", "label"),
    "check": ("for",),
    "deadline": ("subject", "evidence", "due"),
    "recurring": ("subject", "evidence", "every"),
    "trend": ("subject", "count", "compare"),
}
BASE_PLACEHOLDERS = frozenset(
    [
        "rule",
        "subject",
        "subject_name",
        "record",
        "period",
        "due",
        "status",
        "count",
        "required",
        "label",
        "declared",
        "compare_count",
        "title",
    ]
)
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[A-Za-z0-9_-]+)+$")


class _RuleLowerer:
    """Every rule kind: common keys, messages, criterion and check here; the time-based kinds
    by a :class:`TimeRuleLowerer` sharing the same :class:`RuleFile`."""

    def __init__(self, file: RuleFile) -> None:
        self.file = file
        time = TimeRuleLowerer(file)
        self.kinds: dict[str, Callable[[dict[str, Any], Path_, RuleMeta | None], Rule | None]] = {
            "criterion": self.criterion,
            "check": self.check,
            "deadline": time.deadline,
            "recurring": time.recurring,
            "trend": time.trend,
        }

    def template(self, text: Any, where: Path_, names: frozenset[str]) -> Template | None:
        if not isinstance(text, str) or not text.strip():
            self.file.err(where, "invalid_value", "a message is non-empty text")
            return None
        parts: list[tuple[str, str | None]] = []
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            self.file.err(where, "invalid_template", f"message template: {exc}")
            return None
        ok = True
        for literal, name, spec, conversion in parsed:
            if name is None:
                parts.append((literal, None))
                continue
            if not name.isidentifier() or spec or conversion:
                self.file.err(
                    where,
                    "invalid_template",
                    f"placeholder {{{name}{'!' + conversion if conversion else ''}"
                    f"{':' + spec if spec else ''}}} is not allowed: use plain {{name}}",
                )
                ok = False
            elif name not in names:
                hint = did_you_mean(name, names)
                self.file.err(where, "unknown_placeholder", f"unknown placeholder {{{name}}}{hint}")
                ok = False
            parts.append((literal, name))
        return Template(tuple(parts), text) if ok else None

    # -- rules -----------------------------------------------------------------------------

    def rule(self, doc: Any, where: Path_) -> Rule | None:
        if not isinstance(doc, dict):
            self.file.err(where, "invalid_rule", "a rule is a mapping")
            return None
        kind = doc.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            if "kind" in doc:
                hint = did_you_mean(str(kind), KINDS) if isinstance(kind, str) else ""
                self.file.err(
                    (*where, "kind"), "unknown_rule_kind", f"unknown rule kind {kind!r}{hint}"
                )
            else:
                self.file.err(where, "missing_key", "a rule needs `kind`")
            return None
        allowed = _COMMON | KINDS[kind]
        self.file.keys(doc, allowed, (*_REQUIRED, *_KIND_REQUIRED[kind]), where, f"a {kind} rule")
        n_before = len(self.file.diags)
        meta = self.meta(doc, where, kind)
        lowered = self.kinds[kind](doc, where, meta)
        if meta is None or len(self.file.diags) > n_before:
            return None
        return lowered

    def meta(self, doc: dict[str, Any], where: Path_, kind: str) -> RuleMeta | None:
        rid = doc.get("id")
        ok = True
        if not isinstance(rid, str) or not _ID.match(rid):
            self.file.err((*where, "id"), "invalid_rule_id", f"rule id {rid!r}: use <pack>.<name>")
            ok = False
        elif not rid.startswith(self.file.pack_id + "."):
            self.file.err(
                (*where, "id"),
                "invalid_rule_id",
                f"rule id {rid!r} must start with {self.file.pack_id}.",
            )
            ok = False
        for key in ("title", "cite"):
            if key in doc and (not isinstance(doc[key], str) or not doc[key].strip()):
                self.file.err((*where, key), "invalid_value", f"`{key}` is non-empty text")
                ok = False
        severity = doc.get("severity")
        if "severity" in doc and severity not in SEVERITIES:
            hint = did_you_mean(str(severity), SEVERITIES)
            self.file.err(
                (*where, "severity"),
                "invalid_value",
                f"severity {severity!r}: one of {', '.join(SEVERITIES)}{hint}",
            )
            ok = False
        names = BASE_PLACEHOLDERS
        tname = doc.get("for")
        if (
            kind in ("criterion", "check")
            and isinstance(tname, str)
            and tname in self.file.schema.types
        ):
            names = names | frozenset(self.file.schema.types[tname].fields)
        if kind == "check" and isinstance(doc.get("compute"), dict):
            names = names | frozenset(str(k) for k in doc["compute"])
        msg = doc.get("message")
        zh = en = None
        if isinstance(msg, dict):
            self.file.keys(msg, {"zh", "en"}, ("zh", "en"), (*where, "message"), "message")
            zh = (
                self.template(msg.get("zh"), (*where, "message", "zh"), names)
                if "zh" in msg
                else None
            )
            en = (
                self.template(msg.get("en"), (*where, "message", "en"), names)
                if "en" in msg
                else None
            )
        elif "message" in doc:
            self.file.err((*where, "message"), "invalid_value", "message is {zh: ..., en: ...}")
        eff_from = eff_until = None
        eff = doc.get("effective")
        if eff is not None and self.file.keys(
            eff, {"from", "until"}, (), (*where, "effective"), "effective"
        ):
            if "from" in eff:
                eff_from = self.file.date_value(eff["from"], (*where, "effective", "from"))
            if "until" in eff:
                eff_until = self.file.date_value(eff["until"], (*where, "effective", "until"))
        if not ok or zh is None or en is None or not isinstance(rid, str):
            return None
        return RuleMeta(
            id=rid,
            kind=kind,
            title=str(doc.get("title", "")),
            cite=str(doc.get("cite", "")),
            severity=str(severity),
            message_zh=zh,
            message_en=en,
            pack=self.file.pack_id,
            span=self.file.smap.span(where),
            why=str(doc["why"]).strip() if doc.get("why") else None,
            title_en=str(doc["title_en"]) if doc.get("title_en") else None,
            effective_from=eff_from,
            effective_until=eff_until,
        )

    def criterion(
        self, doc: dict[str, Any], where: Path_, meta: RuleMeta | None
    ) -> Criterion | None:
        tname = self.file.type_name(doc.get("for"), (*where, "for")) if "for" in doc else None
        when = self.file.cond(tname, doc.get("when"), (*where, "when"))
        applies = self.file.cond(tname, doc.get("applies"), (*where, "applies"))
        label = doc.get("label")
        if "label" in doc and (not isinstance(label, str) or not label):
            self.file.err((*where, "label"), "invalid_value", "label is non-empty text")
        declared = doc.get("declared")
        if declared is not None and tname is not None:
            fdef = self.file.schema.types[tname].fields.get(str(declared))
            if fdef is None:
                hint = did_you_mean(str(declared), self.file.schema.types[tname].fields)
                self.file.err(
                    (*where, "declared"),
                    "unknown_field",
                    f"{tname} has no field {declared!r}{hint}",
                )
            elif isinstance(label, str) and fdef.kind == "enum" and label not in fdef.values:
                self.file.err(
                    (*where, "label"),
                    "unknown_enum_value",
                    f"label {label!r} is not a value of {declared}",
                )
        hints, hint_field = self.hints(tname, doc.get("hints"), (*where, "hints"))
        if meta is None or tname is None or when is None or not isinstance(label, str):
            return None
        return Criterion(
            meta,
            tname,
            when,
            label,
            applies,
            str(declared) if declared else None,
            hints,
            hint_field,
        )

    def hints(
        self, tname: str | None, doc: Any, where: Path_
    ) -> tuple[tuple[str, ...], str | None]:
        if doc is None or tname is None:
            return (), None
        field = "description"
        patterns = doc
        if isinstance(doc, dict):
            self.file.keys(doc, {"field", "patterns"}, ("patterns",), where, "hints")
            field = str(doc.get("field", field))
            patterns = doc.get("patterns")
        fdef = self.file.schema.types[tname].fields.get(field)
        if fdef is None or fdef.kind != "string":
            self.file.err(where, "unknown_field", f"hints need a text field {field!r} on {tname}")
            return (), None
        if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
            self.file.err(where, "invalid_value", "hints are a list of regular expressions")
            return (), None
        for i, p in enumerate(patterns):
            try:
                compile_regex(p)
            except RegexError as exc:
                shown = p if len(p) <= 80 else p[:77] + "…"
                self.file.err(
                    (*where, i) if not isinstance(doc, dict) else (*where, "patterns", i),
                    "invalid_regex",
                    f"invalid regular expression {shown!r}: {exc}",
                )
        return tuple(patterns), field

    def check(self, doc: dict[str, Any], where: Path_, meta: RuleMeta | None) -> Check | None:
        tname = self.file.type_name(doc.get("for"), (*where, "for")) if "for" in doc else None
        computes: tuple[Compute, ...] = ()
        if "compute" in doc and tname is not None:
            computes = self.computes(tname, doc["compute"], (*where, "compute"))
        self.file.conds.computes = {c.name: c for c in computes}
        try:
            wh = self.file.cond(tname, doc.get("where"), (*where, "where"))
            req = self.file.cond(tname, doc.get("require"), (*where, "require"))
        finally:
            self.file.conds.computes = {}
        due: DueSpec | None = None
        done = doc.get("done")
        if "due" in doc and tname is not None:
            due = self.due_spec(tname, doc["due"], (*where, "due"))
        if done is not None and tname is not None:
            self.file.date_field(tname, done, (*where, "done"))
        if ("due" in doc) != ("done" in doc):
            self.file.err(
                where, "missing_key", "a check with a deadline needs both `due` and `done`"
            )
        if "require" not in doc and "due" not in doc:
            self.file.err(where, "missing_key", "a check needs `require`, or `due` and `done`")
        if meta is None or tname is None:
            return None
        return Check(meta, tname, wh, req, due, str(done) if done else None, computes)

    def computes(self, tname: str, doc: Any, where: Path_) -> tuple[Compute, ...]:
        """A check's ``compute: {NAME: {base, brackets | rate_of + rates | rate, spread}}``."""
        if not isinstance(doc, dict) or not doc:
            self.file.err(where, "invalid_value", "compute maps names to computed amounts")
            return ()
        out = []
        for name, spec in doc.items():
            at = (*where, name)
            if not isinstance(name, str) or not name.isidentifier() or name in BASE_PLACEHOLDERS:
                self.file.err(
                    at,
                    "invalid_value",
                    f"a computed amount's name is an identifier other than "
                    f"{', '.join(sorted(BASE_PLACEHOLDERS))}",
                )
                continue
            c = self.compute(tname, name, spec, at)
            if c is not None:
                out.append(c)
        return tuple(out)

    def compute(self, tname: str, name: str, spec: Any, at: Path_) -> Compute | None:
        keys = {"base", "brackets", "rate_of", "rates", "rate", "spread"}
        if not isinstance(spec, dict) or "base" not in spec:
            self.file.err(at, "invalid_value", "a computed amount needs `base` (a number field)")
            return None
        self.file.keys(spec, keys, ("base",), at, "a computed amount")
        kinds = [k for k in ("brackets", "rates", "rate") if k in spec]
        if len(kinds) != 1:
            self.file.err(
                at, "invalid_value", "give one of `brackets`, `rate_of` with `rates`, or `rate`"
            )
            return None
        conds = self.file.conds
        base = conds.path(tname, str(spec["base"]), (*at, "base"))
        ok = base is not None
        if base is not None and base.field.kind not in ("int", "float"):
            self.file.err(
                (*at, "base"), "operand_type_mismatch", f"base {base.text} is not a number field"
            )
            ok = False
        bands: list[Band] = []
        rates: list[tuple[str, float]] = []
        rate_of = None
        rate = None
        if "brackets" in spec:
            raw = spec["brackets"]
            if not isinstance(raw, list) or not raw:
                self.file.err(
                    (*at, "brackets"), "invalid_value", "brackets is a list of {upto, rate}"
                )
                return None
            last = 0.0
            for i, b in enumerate(raw):
                bat = (*at, "brackets", i)
                if not isinstance(b, dict) or "rate" not in b or set(b) - {"upto", "rate"}:
                    self.file.err(
                        bat,
                        "invalid_value",
                        "a bracket is {upto: N, rate: P%} (the last: {rate: P%})",
                    )
                    ok = False
                    continue
                r = self.rate_value(b["rate"], (*bat, "rate"))
                upto = b.get("upto")
                if upto is None and i != len(raw) - 1:
                    self.file.err(bat, "invalid_value", "only the last bracket has no `upto`")
                    ok = False
                if upto is not None and (
                    isinstance(upto, bool) or not isinstance(upto, (int, float)) or upto <= last
                ):
                    self.file.err(
                        (*bat, "upto"),
                        "invalid_value",
                        "brackets rise: each `upto` is a number above the last",
                    )
                    ok = False
                    continue
                if r is None:
                    ok = False
                    continue
                bands.append(Band(float(upto) if upto is not None else None, r))
                last = float(upto) if upto is not None else last
        elif "rates" in spec:
            if "rate_of" not in spec:
                self.file.err(
                    at,
                    "missing_key",
                    "`rates` needs `rate_of` (the enum field that picks the rate)",
                )
                return None
            rate_of = conds.path(tname, str(spec["rate_of"]), (*at, "rate_of"))
            if rate_of is None or rate_of.field.kind != "enum":
                if rate_of is not None:
                    self.file.err(
                        (*at, "rate_of"),
                        "operand_type_mismatch",
                        f"rate_of {rate_of.text} is not an enum field",
                    )
                return None
            raw_rates = spec["rates"]
            if not isinstance(raw_rates, dict) or not raw_rates:
                self.file.err((*at, "rates"), "invalid_value", "rates map enum values to rates")
                return None
            for value, r in raw_rates.items():
                if value not in rate_of.field.values:
                    hint = did_you_mean(str(value), rate_of.field.values)
                    self.file.err(
                        (*at, "rates", value),
                        "unknown_enum_value",
                        f"{value!r} is not a value of {rate_of.text}{hint}",
                        key=True,
                    )
                    ok = False
                    continue
                rv = self.rate_value(r, (*at, "rates", value))
                if rv is None:
                    ok = False
                    continue
                rates.append((str(value), rv))
        else:
            rate = self.rate_value(spec["rate"], (*at, "rate"))
            ok = ok and rate is not None
        spread = None
        if "spread" in spec:
            spread = conds.path(tname, str(spec["spread"]), (*at, "spread"))
            if spread is not None and spread.field.kind != "period":
                self.file.err(
                    (*at, "spread"),
                    "operand_type_mismatch",
                    f"spread {spread.text} is not a period field",
                )
                ok = False
        if not ok or base is None:
            return None
        return Compute(
            name, base, tuple(bands), rate_of, tuple(rates), rate, spread, self.file.smap.span(at)
        )

    def rate_value(self, raw: Any, where: Path_) -> float | None:
        """A rate: ``4.5%`` or a fraction ``0.045``, from 0 to 100%."""
        value: float | None = None
        if isinstance(raw, str) and raw.strip().endswith("%"):
            try:
                value = float(raw.strip()[:-1]) / 100
            except ValueError:
                value = None
        elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
            value = float(raw)
        if value is None or not 0 <= value <= 1:
            self.file.err(
                where,
                "invalid_value",
                f"a rate is a percentage (4.5%) or a fraction (0.045) from 0 to 1, not {raw!r}",
            )
            return None
        return value

    def due_spec(self, tname: str, doc: Any, where: Path_) -> DueSpec | None:
        if isinstance(doc, date):
            return DueSpec(date=doc)
        if isinstance(doc, str):
            self.file.err(where, "malformed_date", f"{doc!r} is not a valid date (YYYY-MM-DD)")
            return None
        if isinstance(doc, dict) and set(doc) == {"field"}:
            f = self.file.date_field(tname, doc["field"], (*where, "field"))
            return DueSpec(field=f) if f else None
        if isinstance(doc, dict) and set(doc) == {"after", "months"}:
            f = self.file.date_field(tname, doc["after"], (*where, "after"))
            months = doc["months"]
            if isinstance(months, bool) or not isinstance(months, int) or not 0 <= months <= 1200:
                self.file.err(
                    (*where, "months"), "invalid_value", "months is a whole number from 0 to 1,200"
                )
                return None
            return DueSpec(field=f, months=months) if f else None
        if isinstance(doc, dict) and set(doc) == {"after", "days"}:
            f = self.file.date_field(tname, doc["after"], (*where, "after"))
            days = doc["days"]
            if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
                self.file.err(
                    (*where, "days"),
                    "invalid_value",
                    f"days is a whole number from 0 to {MAX_DAYS:,} (100 years)",
                )
                return None
            return DueSpec(field=f, days=days) if f else None
        self.file.err(
            where,
            "invalid_value",
            "due is a date, {field: F}, {after: F, days: N} or {after: F, months: N}",
        )
        return None


def lower_rule_file(
    data: Any,
    smap: SourceMap,
    schema: Schema,
    lists: Mapping[str, tuple[Any, ...]],
    pack_id: str,
    subject_type: str,
    diags: list[Diagnostic],
    seen: dict[str, SourceSpan] | None = None,
) -> list[Rule]:
    """Lower one ``*.rule.yaml`` (a rule mapping or a list of them) to IR rules.

    ``seen`` maps rule ids already declared (in this or earlier files) to where; a repeated id
    is a ``duplicate_rule_id`` even when the first declaration has errors of its own.
    """
    seen = {} if seen is None else seen
    lowerer = _RuleLowerer(RuleFile(schema, lists, smap, pack_id, subject_type, diags))
    if data is None:
        diags.append(Diagnostic(smap.span(()), "invalid_rule", "empty rule file"))
        return []
    docs = data if isinstance(data, list) else [data]
    where: list[Path_] = [(i,) for i in range(len(docs))] if isinstance(data, list) else [()]
    out: list[Rule] = []
    for doc, w in zip(docs, where, strict=False):
        rid = doc.get("id") if isinstance(doc, dict) else None
        duplicate = isinstance(rid, str) and rid in seen
        if duplicate:
            diags.append(
                Diagnostic(
                    smap.span(w),
                    "duplicate_rule_id",
                    f"rule id {rid!r} is already defined at {seen[str(rid)]}",
                )
            )
        elif isinstance(rid, str):
            seen[rid] = smap.span(w)
        rule = lowerer.rule(doc, w)
        if rule is not None and not duplicate:
            out.append(rule)
    return out
