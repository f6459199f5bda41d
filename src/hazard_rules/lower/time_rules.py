"""Lowering of the time-based rule kinds: ``deadline``, ``recurring`` and ``trend`` — subjects,
evidence linked through its reference field, frequencies, windows and trend comparisons."""

from __future__ import annotations

from typing import Any

from hazard_rules._yaml import Path_
from hazard_rules.ir import (
    Deadline,
    EvidenceSpec,
    Recurring,
    RuleMeta,
    SubjectSpec,
    Trend,
    Variant,
)
from hazard_rules.lower.base import RuleFile
from hazard_rules.operators import COMPARISONS
from hazard_rules.periods import EVERY, Period, parse_period
from hazard_rules.schema import did_you_mean

__all__ = ["TimeRuleLowerer"]

_DUE_OF = ("this", "next")  # ``due: {day: N, of: ...}``: the period itself or the one after


class TimeRuleLowerer:
    """The time-based rule kinds, lowered against one :class:`RuleFile`."""

    def __init__(self, file: RuleFile) -> None:
        self.file = file

    def subject(self, doc: Any, where: Path_) -> SubjectSpec | None:
        if not self.file.keys(doc, {"type", "where"}, ("type",), where, "subject"):
            return None
        tname = self.file.type_name(doc["type"], (*where, "type"))
        if tname is None:
            return None
        wh = self.file.cond(tname, doc.get("where"), (*where, "where"))
        return SubjectSpec(tname, wh)

    def evidence(
        self, subject: str | None, doc: Any, where: Path_, what: str
    ) -> EvidenceSpec | None:
        allowed = {"type", "where", "date", "via"} | ({"period"} if what == "evidence" else set())
        if not self.file.keys(doc, allowed, ("type",), where, what):
            return None
        tname = self.file.type_name(doc["type"], (*where, "type"))
        if tname is None or subject is None:
            return None
        tdef = self.file.schema.types[tname]
        links = tdef.ref_fields_to(subject)
        via = doc.get("via")
        if via is not None:
            if via not in links:
                self.file.err(
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
            self.file.err(where, code, msg)
            return None
        date_name = doc.get("date", tdef.date_field)
        if date_name is None:
            self.file.err(where, "missing_key", f"{what} needs `date` ({tname} has no own date)")
            return None
        date_field = self.file.date_field(tname, date_name, (*where, "date"))
        period_field = doc.get("period")
        if period_field is not None:
            fdef = tdef.fields.get(str(period_field))
            if fdef is None or fdef.kind != "period":
                self.file.err(
                    (*where, "period"),
                    "unknown_field",
                    f"{tname} has no period field {period_field!r}",
                )
                return None
        wh = self.file.cond(tname, doc.get("where"), (*where, "where"))
        if date_field is None:
            return None
        return EvidenceSpec(
            tname, str(via), date_field, wh, str(period_field) if period_field else None
        )

    def at_least(self, doc: dict[str, Any], where: Path_) -> int:
        if "at_least" not in doc:
            return 1
        return self.file.positive_int(doc["at_least"], (*where, "at_least"), "at_least") or 1

    def subject_and_evidence(
        self, doc: dict[str, Any], where: Path_
    ) -> tuple[SubjectSpec | None, EvidenceSpec | None]:
        """The ``subject`` and the ``evidence`` linked to it, as far as they lower."""
        subject = self.subject(doc["subject"], (*where, "subject")) if "subject" in doc else None
        if "evidence" not in doc:
            return subject, None
        owner = subject.type if subject else None
        return subject, self.evidence(owner, doc["evidence"], (*where, "evidence"), "evidence")

    def deadline(self, doc: dict[str, Any], where: Path_, meta: RuleMeta | None) -> Deadline | None:
        subject, ev = self.subject_and_evidence(doc, where)
        due = self.file.date_value(doc["due"], (*where, "due")) if "due" in doc else None
        n = self.at_least(doc, where)
        if meta is None or subject is None or ev is None or due is None:
            return None
        return Deadline(meta, subject, ev, due, n)

    def every(self, value: Any, where: Path_) -> str | None:
        if value not in EVERY:
            hint = did_you_mean(str(value), EVERY)
            self.file.err(
                where, "invalid_value", f"every {value!r}: one of {', '.join(EVERY)}{hint}"
            )
            return None
        return str(value)

    def due_day(self, doc: dict[str, Any], where: Path_) -> tuple[int | None, bool]:
        """``due: {day: N}`` (day N of the period) or ``{day: N, of: next}`` (day N of the
        period that follows) → (N, of next); no ``due``: (None, False), the period's last day."""
        if "due" not in doc:
            return None, False
        due = doc["due"]
        if not isinstance(due, dict) or "day" not in due or not set(due) <= {"day", "of"}:
            self.file.err(
                (*where, "due"),
                "invalid_value",
                "a recurring due is {day: N} or {day: N, of: next}",
            )
            return None, False
        of = due.get("of", "this")
        if of not in _DUE_OF:
            hint = did_you_mean(str(of), _DUE_OF)
            self.file.err(
                (*where, "due", "of"),
                "invalid_value",
                f"due of {of!r}: one of {', '.join(_DUE_OF)}{hint}",
            )
        return self.file.positive_int(due["day"], (*where, "due", "day"), "day"), of == "next"

    def recurring(
        self, doc: dict[str, Any], where: Path_, meta: RuleMeta | None
    ) -> Recurring | None:
        subject, ev = self.subject_and_evidence(doc, where)
        every = self.every(doc.get("every"), (*where, "every")) if "every" in doc else None
        n = self.at_least(doc, where)
        day, nxt = self.due_day(doc, where)
        variants: list[Variant] = []
        for i, v in enumerate(doc.get("stricter") or []):
            vw = (*where, "stricter", i)
            if not self.file.keys(
                v, {"when", "every", "at_least", "due"}, ("when",), vw, "a stricter variant"
            ):
                continue
            when = self.file.cond(subject.type if subject else None, v["when"], (*vw, "when"))
            v_every = self.every(v["every"], (*vw, "every")) if "every" in v else every
            v_n = self.at_least(v, vw) if "at_least" in v else n
            v_day, v_nxt = self.due_day(v, vw) if "due" in v else (day, nxt)
            if when is not None and v_every is not None:
                variants.append(Variant(when, v_every, v_n, v_day, v_nxt))
        w_from = w_until = None
        win = doc.get("window")
        if win is not None and self.file.keys(
            win, {"from", "until"}, (), (*where, "window"), "window"
        ):
            w_from = (
                self.file.date_value(win["from"], (*where, "window", "from"))
                if "from" in win
                else None
            )
            w_until = (
                self.file.date_value(win["until"], (*where, "window", "until"))
                if "until" in win
                else None
            )
            if w_from and w_until and w_from > w_until:
                self.file.err((*where, "window"), "invalid_value", "window ends before it starts")
        if (
            ev is not None
            and ev.period_field is None
            and (nxt or any(v.due_next for v in variants))
        ):
            # evidence placed by its date could never be late (what is dated inside the period
            # is before a due date in the next one) and what is filed on time would count for
            # the next period: the evidence must name the period it is for
            self.file.err(
                (*where, "evidence"),
                "missing_key",
                "a due date in the next period (due: {day: N, of: next}) needs evidence "
                "that names its period: `period: FIELD`",
            )
            return None
        if meta is None or subject is None or ev is None or every is None:
            return None
        return Recurring(
            meta, subject, ev, every, n, day, tuple(variants), w_from, w_until, due_next=nxt
        )

    def trend(self, doc: dict[str, Any], where: Path_, meta: RuleMeta | None) -> Trend | None:
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
        if cmp is not None and self.file.keys(
            cmp, {"period", "to", "op"}, ("period", "to", "op"), (*where, "compare"), "compare"
        ):
            for i, key in enumerate(("period", "to")):
                try:
                    periods[i] = parse_period(cmp[key])
                except ValueError as exc:
                    self.file.err((*where, "compare", key), "malformed_period", str(exc))
            op = cmp["op"]
            if op not in COMPARISONS:
                self.file.err(
                    (*where, "compare", "op"),
                    "invalid_value",
                    f"op {op!r}: one of {', '.join(COMPARISONS)}",
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
