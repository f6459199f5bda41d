"""Coercion of raw records (CSV text, JSON values, Python objects) to typed plain dicts.

A :class:`RecordCoercer` is built once per record type and converts one raw mapping into a
plain ``dict`` whose values are canonical Python values: ``str``, ``int``, ``float``,
``bool``, ``datetime.date``, aware ``datetime`` in the pack's zone, :class:`Period`, or a
``tuple`` for lists. Empty text, whitespace-only text and empty lists become ``None``
(SPEC §3.4.5). A value that cannot be coerced raises :class:`Rejection` naming the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, tzinfo
from typing import Any

from hazard_rules.periods import FORMS, check_year, parse_date, parse_datetime, parse_period
from hazard_rules.schema import FieldDef, TypeDef, did_you_mean, value_key

__all__ = ["RecordCoercer", "Rejection", "coerce_value"]

Record = dict[str, Any]
_LIST_SPLIT = re.compile(r"\s*[;；、]\s*")
_TRUE = {"true", "t", "yes", "y", "1", "是", "对", "有", "√", "✓", "✔"}
_FALSE = {"false", "f", "no", "n", "0", "否", "不", "无", "×", "✗", "✘"}


class Rejection(Exception):
    """A record does not fit the schema: ``field`` and a human ``reason``."""

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, set, frozenset)):
        return len(value) == 0
    return isinstance(value, float) and math.isnan(value)


_SURROGATE = re.compile("[\ud800-\udfff]")
INT_LIMIT = 2**63  # integers are 64-bit signed: what every output format can hold
TEXT_LIMIT = 1 << 20  # characters in one text value


def _text(value: Any) -> str:
    if isinstance(value, str):
        if not value.isascii():
            bad = _SURROGATE.search(value)
            if bad is not None:
                raise ValueError(
                    f"not valid Unicode: a lone surrogate U+{ord(bad.group()):04X} at "
                    f"character {bad.start() + 1}"
                )
        if len(value) > TEXT_LIMIT:
            raise ValueError(f"text longer than {TEXT_LIMIT:,} characters")
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected text, got {type(value).__name__}")
    if isinstance(value, int) and not -INT_LIMIT <= value < INT_LIMIT:
        raise ValueError("a number too large to be an id or text")
    return str(value)


def _in_range(n: int) -> int:
    if not -INT_LIMIT <= n < INT_LIMIT:
        raise ValueError("an integer outside the 64-bit range")
    return n


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return _in_range(value)
    if isinstance(value, float) and value.is_integer():
        return _in_range(int(value))
    if isinstance(value, str):
        s = value.strip().replace(",", "")
        if len(s) <= 40 and re.fullmatch(r"[+-]?\d+(\.0*)?", s):
            return _in_range(int(float(s)) if "." in s else int(s))
    raise ValueError(f"not an integer: {value!r}" if len(repr(value)) < 80 else "not an integer")


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value.strip().replace(",", ""))
        except ValueError:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise ValueError(f"not a number: {value!r}")
    if not math.isfinite(out):
        raise ValueError(f"not a finite number: {value!r}")
    return out


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        s = value.strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise ValueError(f"not a boolean: {value!r} (use 是/否, 有/无, √/×, Y/N, true/false or 1/0)")


def coerce_value(fdef: FieldDef, value: Any, zone: tzinfo) -> Any:
    """Coerce one non-empty value to ``fdef``'s type; ``ValueError`` when impossible."""
    kind = fdef.kind
    if kind in ("string", "ref"):
        return _text(value)
    if kind == "enum":
        s = _text(value)
        if s in fdef.values:
            return s
        found = fdef.lookup().get(value_key(s))
        if found is None:
            spellings = [*fdef.values, *fdef.value_labels.values()]
            raise ValueError(
                f"{s!r} is not one of {fdef.show_values()}{did_you_mean(s, spellings)}"
            )
        return found
    if kind == "int":
        return _int(value)
    if kind == "float":
        return _float(value)
    if kind == "bool":
        return _bool(value)
    if kind == "date":
        if isinstance(value, datetime):
            day = value.astimezone(zone).date() if value.tzinfo else value.date()
            return check_year(day, value)
        if isinstance(value, date):
            return check_year(value, value)
        if isinstance(value, str):
            return parse_date(value, zone)
        raise ValueError(f"not a date: {value!r}; write it as {FORMS}")
    if kind == "datetime":
        if isinstance(value, datetime):
            moment = value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)
            check_year(moment.date(), value)
            return moment
        if isinstance(value, date):
            return datetime.combine(check_year(value, value), time(), zone)
        if isinstance(value, str):
            return parse_datetime(value, zone)
        raise ValueError(f"not a datetime: {value!r}; write it as {FORMS}")
    if kind == "period":
        return parse_period(value.strip() if isinstance(value, str) else value)
    if kind in ("list[string]", "list[enum]"):
        items = _LIST_SPLIT.split(value.strip()) if isinstance(value, str) else value
        if not isinstance(items, (list, tuple, set, frozenset)):
            raise ValueError(f"not a list: {value!r}")
        item_def = FieldDef(
            fdef.name,
            "enum" if kind == "list[enum]" else "string",
            values=fdef.values,
            value_labels=fdef.value_labels,
            aliases=fdef.aliases,
        )
        out = tuple(coerce_value(item_def, v, zone) for v in items if not _is_empty(v))
        return out or None
    raise ValueError(f"unsupported field type {kind}")  # pragma: no cover


class RecordCoercer:
    """Turns raw mappings of one record type into typed plain dicts (built once per type)."""

    def __init__(self, tdef: TypeDef, zone: tzinfo) -> None:
        self.type = tdef
        self.zone = zone
        self.fields: tuple[FieldDef, ...] = tuple(tdef.fields.values())
        self.required: tuple[str, ...] = tuple(f.name for f in self.fields if not f.optional)
        converters = {f.name: self._converter(f) for f in self.fields}
        # header (field name or Chinese label) → (field name, converter)
        plan: dict[str, tuple[str, Callable[[Any], Any]]] = {}
        for f in self.fields:
            plan[f.name] = (f.name, converters[f.name])
        for f in self.fields:
            if f.label:
                plan.setdefault(f.label, (f.name, converters[f.name]))
        self._plan = plan
        self.headers: Mapping[str, str] = {h: name for h, (name, _) in plan.items()}

    def _converter(self, fdef: FieldDef) -> Callable[[Any], Any]:
        # Repeated values share one object (enum values, referenced ids, dates, flags): a
        # million records hold a few hundred distinct dates and a few thousand ids.
        zone = self.zone
        if fdef.kind == "string":
            return _text
        if fdef.kind == "ref":
            seen: dict[str, str] = {}

            def conv_ref(value: Any) -> str:
                text = _text(value)
                return seen.setdefault(text, text) if len(seen) < 1_000_000 else text

            return conv_ref
        if fdef.kind == "enum":
            # every spelling seen (value, label, alias) → the canonical value object
            canonical = {v: v for v in fdef.values}
            spellings = fdef.lookup()

            def conv_enum(value: Any) -> str:
                if value.__class__ is str:
                    got = canonical.get(value)
                    if got is not None:
                        return got
                    got = spellings.get(value_key(value))
                    if got is not None:
                        if len(canonical) < 10_000:
                            canonical[value] = got
                        return got
                return str(coerce_value(fdef, value, zone))

            return conv_enum
        if fdef.kind == "date":
            iso = re.compile(r"^\d{4}-\d{2}-\d{2}$")
            dates: dict[str, date] = {}

            def conv_date(value: Any) -> Any:
                if isinstance(value, str) and iso.match(value):
                    cached = dates.get(value)
                    if cached is not None:
                        return cached
                    parsed = parse_date(value, zone)
                    if len(dates) < 100_000:
                        dates[value] = parsed
                    return parsed
                return coerce_value(fdef, value, zone)

            return conv_date
        return lambda value: coerce_value(fdef, value, zone)

    def coerce(self, raw: Mapping[str, Any], unknown: set[str] | None = None) -> dict[str, Any]:
        """Coerce one raw mapping keyed by field names or labels; raises :class:`Rejection`.

        The result is sparse: a missing optional field has no key (readers use ``.get``), so
        a record of a wide type costs memory only for the facts it has. Keys that are
        neither fields nor labels are added to ``unknown`` (when given) and ignored.
        """
        out: dict[str, Any] = {}
        plan = self._plan
        for key, value in raw.items():
            if value is None:
                continue
            if value.__class__ is str:
                value = value.strip()
                if not value:
                    continue
            elif _is_empty(value):
                continue
            entry = plan.get(key)
            if entry is None:
                if unknown is not None and key != "type":
                    unknown.add(key)
                continue
            name, conv = entry
            try:
                coerced = conv(value)
            except (ValueError, TypeError, OverflowError) as exc:
                raise Rejection(name, str(exc)) from None
            if coerced is not None:
                out[name] = coerced
        if len(out) < len(self.required) or not all(n in out for n in self.required):
            for name in self.required:
                if name not in out:
                    raise Rejection(name, "required field is missing or empty")
        return out
