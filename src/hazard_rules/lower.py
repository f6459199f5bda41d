"""Lowering of rule documents (``*.rule.yaml``) to the rule IR, with diagnostics.

Checks the keys of every rule kind (unknown keys with a "did you mean"), resolves record
types, evidence links and dates, parses message templates (plain ``{name}`` placeholders
only), and hands conditions to :class:`~hazard_rules.lower_conditions.ConditionLowerer`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import date
from typing import Any

from hazard_rules._yaml import Path_, SourceMap
from hazard_rules.errors import Diagnostic
from hazard_rules.ir import (
    Check,
    Condition,
    Criterion,
    Deadline,
    DueSpec,
    EvidenceSpec,
    Recurring,
    Rule,
    RuleMeta,
    SubjectSpec,
    Template,
    Trend,
    Variant,
)
from hazard_rules.lower_conditions import ConditionLowerer
from hazard_rules.periods import EVERY, Period, parse_period
from hazard_rules.schema import Schema, did_you_mean
from hazard_rules.source import SourceSpan

__all__ = ["KINDS", "SEVERITIES", "lower_rule_file"]

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
    "check": {"for", "where", "require", "due", "done"},
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
_COMPARE_OPS = ("lt", "lte", "gt", "gte", "eq", "ne")


class _RuleLowerer:
    def __init__(
        self,
        schema: Schema,
        lists: Mapping[str, tuple[Any, ...]],
        smap: SourceMap,
        pack_id: str,
        subject_type: str,
        diags: list[Diagnostic],
    ) -> None:
        from hazard_rules.periods import timezone

        self.schema = schema
        self.smap = smap
        self.pack_id = pack_id
        self.subject_type = subject_type
        self.diags = diags
        self.conds = ConditionLowerer(schema, lists, smap, timezone(schema.timezone), diags)

    def err(self, where: Path_, code: str, msg: str, *, key: bool = False) -> None:
        span = self.smap.key_span(where) if key else self.smap.span(where)
        self.diags.append(Diagnostic(span, code, msg))

    def keys(
        self, doc: Any, allowed: set[str], required: tuple[str, ...], where: Path_, what: str
    ) -> bool:
        if not isinstance(doc, dict):
            self.err(where, "invalid_value", f"{what} must be a mapping")
            return False
        ok = True
        for key in doc:
            if key not in allowed:
                hint = did_you_mean(str(key), allowed)
                self.err(
                    (*where, key), "unknown_key", f"unknown key {key!r} in {what}{hint}", key=True
                )
                ok = False
        for key in required:
            if key not in doc:
                self.err(where, "missing_key", f"{what} needs `{key}`")
                ok = False
        return ok

    def type_name(self, value: Any, where: Path_) -> str | None:
        if not isinstance(value, str) or value not in self.schema.types:
            hint = did_you_mean(str(value), self.schema.types)
            self.err(where, "unknown_type", f"unknown record type {value!r}{hint}")
            return None
        return value

    def date_value(self, value: Any, where: Path_) -> date | None:
        if isinstance(value, date):
            return value
        self.err(where, "malformed_date", f"{value!r} is not a valid date (YYYY-MM-DD)")
        return None

    def positive_int(self, value: Any, where: Path_, what: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.err(where, "invalid_value", f"{what} must be a positive integer")
            return None
        return value

    def cond(self, tname: str | None, doc: Any, where: Path_) -> Condition | None:
        if tname is None or doc is None:
            return None
        return self.conds.lower(tname, doc, where)

    def template(self, text: Any, where: Path_, names: frozenset[str]) -> Template | None:
        if not isinstance(text, str) or not text.strip():
            self.err(where, "invalid_value", "a message is non-empty text")
            return None
        parts: list[tuple[str, str | None]] = []
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            self.err(where, "invalid_template", f"message template: {exc}")
            return None
        ok = True
        for literal, name, spec, conversion in parsed:
            if name is None:
                parts.append((literal, None))
                continue
            if not name.isidentifier() or spec or conversion:
                self.err(
                    where,
                    "invalid_template",
                    f"placeholder {{{name}{'!' + conversion if conversion else ''}"
                    f"{':' + spec if spec else ''}}} is not allowed: use plain {{name}}",
                )
                ok = False
            elif name not in names:
                hint = did_you_mean(name, names)
                self.err(where, "unknown_placeholder", f"unknown placeholder {{{name}}}{hint}")
                ok = False
            parts.append((literal, name))
        return Template(tuple(parts), text) if ok else None

    # -- rules -----------------------------------------------------------------------------

    def rule(self, doc: Any, where: Path_) -> Rule | None:
        if not isinstance(doc, dict):
            self.err(where, "invalid_rule", "a rule is a mapping")
            return None
        kind = doc.get("kind")
        if kind not in KINDS:
            if "kind" in doc:
                hint = did_you_mean(str(kind), KINDS)
                self.err((*where, "kind"), "unknown_rule_kind", f"unknown rule kind {kind!r}{hint}")
            else:
                self.err(where, "missing_key", "a rule needs `kind`")
            return None
        allowed = _COMMON | KINDS[kind]
        self.keys(doc, allowed, (*_REQUIRED, *_KIND_REQUIRED[kind]), where, f"a {kind} rule")
        n_before = len(self.diags)
        meta = self.meta(doc, where, kind)
        lowered = getattr(self, "_" + kind)(doc, where, meta)
        if meta is None or len(self.diags) > n_before:
            return None
        return lowered  # type: ignore[no-any-return]

    def meta(self, doc: dict[str, Any], where: Path_, kind: str) -> RuleMeta | None:
        rid = doc.get("id")
        ok = True
        if not isinstance(rid, str) or not _ID.match(rid):
            self.err((*where, "id"), "invalid_rule_id", f"rule id {rid!r}: use <pack>.<name>")
            ok = False
        elif not rid.startswith(self.pack_id + "."):
            self.err(
                (*where, "id"),
                "invalid_rule_id",
                f"rule id {rid!r} must start with {self.pack_id}.",
            )
            ok = False
        for key in ("title", "cite"):
            if key in doc and (not isinstance(doc[key], str) or not doc[key].strip()):
                self.err((*where, key), "invalid_value", f"`{key}` is non-empty text")
                ok = False
        severity = doc.get("severity")
        if "severity" in doc and severity not in SEVERITIES:
            hint = did_you_mean(str(severity), SEVERITIES)
            self.err(
                (*where, "severity"),
                "invalid_value",
                f"severity {severity!r}: one of {', '.join(SEVERITIES)}{hint}",
            )
            ok = False
        names = BASE_PLACEHOLDERS
        tname = doc.get("for")
        if kind in ("criterion", "check") and isinstance(tname, str) and tname in self.schema.types:
            names = names | frozenset(self.schema.types[tname].fields)
        msg = doc.get("message")
        zh = en = None
        if isinstance(msg, dict):
            self.keys(msg, {"zh", "en"}, ("zh", "en"), (*where, "message"), "message")
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
            self.err((*where, "message"), "invalid_value", "message is {zh: ..., en: ...}")
        eff_from = eff_until = None
        eff = doc.get("effective")
        if eff is not None and self.keys(
            eff, {"from", "until"}, (), (*where, "effective"), "effective"
        ):
            if "from" in eff:
                eff_from = self.date_value(eff["from"], (*where, "effective", "from"))
            if "until" in eff:
                eff_until = self.date_value(eff["until"], (*where, "effective", "until"))
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
            pack=self.pack_id,
            span=self.smap.span(where),
            why=str(doc["why"]).strip() if doc.get("why") else None,
            title_en=str(doc["title_en"]) if doc.get("title_en") else None,
            effective_from=eff_from,
            effective_until=eff_until,
        )

    def _criterion(
        self, doc: dict[str, Any], where: Path_, meta: RuleMeta | None
    ) -> Criterion | None:
        tname = self.type_name(doc.get("for"), (*where, "for")) if "for" in doc else None
        when = self.cond(tname, doc.get("when"), (*where, "when"))
        applies = self.cond(tname, doc.get("applies"), (*where, "applies"))
        label = doc.get("label")
        if "label" in doc and (not isinstance(label, str) or not label):
            self.err((*where, "label"), "invalid_value", "label is non-empty text")
        declared = doc.get("declared")
        if declared is not None and tname is not None:
            fdef = self.schema.types[tname].fields.get(str(declared))
            if fdef is None:
                hint = did_you_mean(str(declared), self.schema.types[tname].fields)
                self.err(
                    (*where, "declared"),
                    "unknown_field",
                    f"{tname} has no field {declared!r}{hint}",
                )
            elif isinstance(label, str) and fdef.kind == "enum" and label not in fdef.values:
                self.err(
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
            self.keys(doc, {"field", "patterns"}, ("patterns",), where, "hints")
            field = str(doc.get("field", field))
            patterns = doc.get("patterns")
        fdef = self.schema.types[tname].fields.get(field)
        if fdef is None or fdef.kind != "string":
            self.err(where, "unknown_field", f"hints need a text field {field!r} on {tname}")
            return (), None
        if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
            self.err(where, "invalid_value", "hints are a list of regular expressions")
            return (), None
        for i, p in enumerate(patterns):
            try:
                re.compile(p)
            except re.error as exc:
                self.err(
                    (*where, i) if not isinstance(doc, dict) else (*where, "patterns", i),
                    "invalid_regex",
                    f"invalid regular expression {p!r}: {exc}",
                )
        return tuple(patterns), field

    def _check(self, doc: dict[str, Any], where: Path_, meta: RuleMeta | None) -> Check | None:
        tname = self.type_name(doc.get("for"), (*where, "for")) if "for" in doc else None
        wh = self.cond(tname, doc.get("where"), (*where, "where"))
        req = self.cond(tname, doc.get("require"), (*where, "require"))
        due: DueSpec | None = None
        done = doc.get("done")
        if "due" in doc and tname is not None:
            due = self.due_spec(tname, doc["due"], (*where, "due"))
        if done is not None and tname is not None:
            self.date_field(tname, done, (*where, "done"))
        if ("due" in doc) != ("done" in doc):
            self.err(where, "missing_key", "a check with a deadline needs both `due` and `done`")
        if "require" not in doc and "due" not in doc:
            self.err(where, "missing_key", "a check needs `require`, or `due` and `done`")
        if meta is None or tname is None:
            return None
        return Check(meta, tname, wh, req, due, str(done) if done else None)

    def date_field(self, tname: str, name: Any, where: Path_) -> str | None:
        fdef = self.schema.types[tname].fields.get(str(name))
        if fdef is None or fdef.kind not in ("date", "datetime"):
            hint = did_you_mean(str(name), self.schema.types[tname].fields)
            self.err(where, "unknown_field", f"{tname} has no date field {name!r}{hint}")
            return None
        return str(name)

    def due_spec(self, tname: str, doc: Any, where: Path_) -> DueSpec | None:
        if isinstance(doc, date):
            return DueSpec(date=doc)
        if isinstance(doc, str):
            self.err(where, "malformed_date", f"{doc!r} is not a valid date (YYYY-MM-DD)")
            return None
        if isinstance(doc, dict) and set(doc) == {"field"}:
            f = self.date_field(tname, doc["field"], (*where, "field"))
            return DueSpec(field=f) if f else None
        if isinstance(doc, dict) and set(doc) == {"after", "days"}:
            f = self.date_field(tname, doc["after"], (*where, "after"))
            days = doc["days"]
            if isinstance(days, bool) or not isinstance(days, int) or days < 0:
                self.err((*where, "days"), "invalid_value", "days is a whole number ≥ 0")
                return None
            return DueSpec(field=f, days=days) if f else None
        self.err(where, "invalid_value", "due is a date, {field: F} or {after: F, days: N}")
        return None

    def subject(self, doc: Any, where: Path_) -> SubjectSpec | None:
        if not self.keys(doc, {"type", "where"}, ("type",), where, "subject"):
            return None
        tname = self.type_name(doc["type"], (*where, "type"))
        if tname is None:
            return None
        wh = self.cond(tname, doc.get("where"), (*where, "where"))
        return SubjectSpec(tname, wh)

    def evidence(
        self, subject: str | None, doc: Any, where: Path_, what: str
    ) -> EvidenceSpec | None:
        allowed = {"type", "where", "date", "via"} | ({"period"} if what == "evidence" else set())
        if not self.keys(doc, allowed, ("type",), where, what):
            return None
        tname = self.type_name(doc["type"], (*where, "type"))
        if tname is None or subject is None:
            return None
        tdef = self.schema.types[tname]
        links = tdef.ref_fields_to(subject)
        via = doc.get("via")
        if via is not None:
            if via not in links:
                self.err(
                    (*where, "via"),
                    "unknown_field",
                    f"{tname} has no reference field {via!r} to {subject}{did_you_mean(str(via), links)}",
                )
                return None
        elif len(links) == 1:
            via = links[0]
        else:
            code = "no_link" if not links else "ambiguous_link"
            msg = (
                f"{tname} has no reference to {subject}"
                if not links
                else f"{tname} refers to {subject} through {', '.join(links)}: name one with `via`"
            )
            self.err(where, code, msg)
            return None
        date_name = doc.get("date", tdef.date_field)
        if date_name is None:
            self.err(where, "missing_key", f"{what} needs `date` ({tname} has no own date)")
            return None
        date_field = self.date_field(tname, date_name, (*where, "date"))
        period_field = doc.get("period")
        if period_field is not None:
            fdef = tdef.fields.get(str(period_field))
            if fdef is None or fdef.kind != "period":
                self.err(
                    (*where, "period"),
                    "unknown_field",
                    f"{tname} has no period field {period_field!r}",
                )
                return None
        wh = self.cond(tname, doc.get("where"), (*where, "where"))
        if date_field is None:
            return None
        return EvidenceSpec(
            tname, str(via), date_field, wh, str(period_field) if period_field else None
        )

    def at_least(self, doc: dict[str, Any], where: Path_) -> int:
        if "at_least" not in doc:
            return 1
        return self.positive_int(doc["at_least"], (*where, "at_least"), "at_least") or 1

    def _deadline(
        self, doc: dict[str, Any], where: Path_, meta: RuleMeta | None
    ) -> Deadline | None:
        subject = (
            self.subject(doc.get("subject"), (*where, "subject")) if "subject" in doc else None
        )
        ev = (
            self.evidence(
                subject.type if subject else None,
                doc.get("evidence"),
                (*where, "evidence"),
                "evidence",
            )
            if "evidence" in doc
            else None
        )
        due = self.date_value(doc["due"], (*where, "due")) if "due" in doc else None
        n = self.at_least(doc, where)
        if meta is None or subject is None or ev is None or due is None:
            return None
        return Deadline(meta, subject, ev, due, n)

    def every(self, value: Any, where: Path_) -> str | None:
        if value not in EVERY:
            hint = did_you_mean(str(value), EVERY)
            self.err(where, "invalid_value", f"every {value!r}: one of {', '.join(EVERY)}{hint}")
            return None
        return str(value)

    def due_day(self, doc: dict[str, Any], where: Path_) -> int | None:
        if "due" not in doc:
            return None
        due = doc["due"]
        if not isinstance(due, dict) or set(due) != {"day"}:
            self.err((*where, "due"), "invalid_value", "a recurring due is {day: N}")
            return None
        return self.positive_int(due["day"], (*where, "due", "day"), "day")

    def _recurring(
        self, doc: dict[str, Any], where: Path_, meta: RuleMeta | None
    ) -> Recurring | None:
        subject = (
            self.subject(doc.get("subject"), (*where, "subject")) if "subject" in doc else None
        )
        ev = (
            self.evidence(
                subject.type if subject else None,
                doc.get("evidence"),
                (*where, "evidence"),
                "evidence",
            )
            if "evidence" in doc
            else None
        )
        every = self.every(doc.get("every"), (*where, "every")) if "every" in doc else None
        n = self.at_least(doc, where)
        day = self.due_day(doc, where)
        variants: list[Variant] = []
        for i, v in enumerate(doc.get("stricter") or []):
            vw = (*where, "stricter", i)
            if not self.keys(
                v, {"when", "every", "at_least", "due"}, ("when",), vw, "a stricter variant"
            ):
                continue
            when = self.cond(subject.type if subject else None, v["when"], (*vw, "when"))
            v_every = self.every(v["every"], (*vw, "every")) if "every" in v else every
            v_n = self.at_least(v, vw) if "at_least" in v else n
            v_day = self.due_day(v, vw) if "due" in v else day
            if when is not None and v_every is not None:
                variants.append(Variant(when, v_every, v_n, v_day))
        w_from = w_until = None
        win = doc.get("window")
        if win is not None and self.keys(win, {"from", "until"}, (), (*where, "window"), "window"):
            w_from = (
                self.date_value(win["from"], (*where, "window", "from")) if "from" in win else None
            )
            w_until = (
                self.date_value(win["until"], (*where, "window", "until"))
                if "until" in win
                else None
            )
            if w_from and w_until and w_from > w_until:
                self.err((*where, "window"), "invalid_value", "window ends before it starts")
        if ev is not None and ev.period_field is None and day is not None and every is not None:
            pass  # evidence placed by date with a due day inside the period: lateness by date
        if meta is None or subject is None or ev is None or every is None:
            return None
        return Recurring(meta, subject, ev, every, n, day, tuple(variants), w_from, w_until)

    def _trend(self, doc: dict[str, Any], where: Path_, meta: RuleMeta | None) -> Trend | None:
        subject = (
            self.subject(doc.get("subject"), (*where, "subject")) if "subject" in doc else None
        )
        count = (
            self.evidence(
                subject.type if subject else None, doc.get("count"), (*where, "count"), "count"
            )
            if "count" in doc
            else None
        )
        cmp = doc.get("compare")
        periods: list[Period | None] = [None, None]
        op = None
        if cmp is not None and self.keys(
            cmp, {"period", "to", "op"}, ("period", "to", "op"), (*where, "compare"), "compare"
        ):
            for i, key in enumerate(("period", "to")):
                try:
                    periods[i] = parse_period(cmp[key])
                except ValueError as exc:
                    self.err((*where, "compare", key), "malformed_period", str(exc))
            op = cmp["op"]
            if op not in _COMPARE_OPS:
                self.err(
                    (*where, "compare", "op"),
                    "invalid_value",
                    f"op {op!r}: one of {', '.join(_COMPARE_OPS)}",
                )
                op = None
        p, to = periods
        if (
            meta is None
            or subject is None
            or count is None
            or p is None
            or to is None
            or op is None
        ):
            return None
        return Trend(meta, subject, count, p, to, str(op))


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
    lowerer = _RuleLowerer(schema, lists, smap, pack_id, subject_type, diags)
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
