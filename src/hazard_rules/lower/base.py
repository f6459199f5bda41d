"""What lowering every rule kind shares (:class:`RuleFile`): key checks with "did you mean", record types,
dates, positive integers, date fields and conditions, all reporting located diagnostics."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from hazard_rules._yaml import Path_, SourceMap
from hazard_rules.errors import Diagnostic
from hazard_rules.ir import Condition
from hazard_rules.lower.conditions import ConditionLowerer
from hazard_rules.schema import Schema, did_you_mean

__all__ = ["RuleFile"]


class RuleFile:
    """One rule file being lowered: its source map, the schema and pack it belongs to, the
    diagnostics found so far, and the checks every rule kind uses (each reporting a located
    diagnostic). The lowerers of the rule kinds hold one and share it."""

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

    def date_field(self, tname: str, name: Any, where: Path_) -> str | None:
        fdef = self.schema.types[tname].fields.get(str(name))
        if fdef is None or fdef.kind not in ("date", "datetime"):
            hint = did_you_mean(str(name), self.schema.types[tname].fields)
            self.err(where, "unknown_field", f"{tname} has no date field {name!r}{hint}")
            return None
        return str(name)
