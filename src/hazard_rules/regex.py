"""Regular expressions from rule files (``matches``, ``hints``) on a linear-time engine.

Patterns run on RE2 (google-re2): matching time grows linearly with the text whatever the
pattern, so no rule can make evaluation hang (``^(a+)+$`` against 41 ``a`` takes microseconds,
not minutes). RE2 has no backreferences and no lookaround; a pattern that uses them is a
load-time error with the location and a suggestion. A pattern is at most
:data:`PATTERN_CAP` characters and RE2 may use at most :data:`MEMORY_CAP` bytes compiling
it; texts are at most 1 MiB characters (``facts.coerce.TEXT_LIMIT``: a longer value is a
rejected field). Search semantics are Python's ``re.search``: anywhere in the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import re2

_BACKREF = re.compile(r"\\[1-9]")
_LOOKAROUND = re.compile(r"\(\?<?[=!]")

__all__ = ["MEMORY_CAP", "PATTERN_CAP", "Regex", "RegexError", "compile_regex", "pattern_set"]

PATTERN_CAP = 10_000  # characters in one pattern
MEMORY_CAP = 8 << 20  # bytes RE2 may use for one compiled pattern


class RegexError(ValueError):
    """A pattern RE2 cannot run; the message says why and what to write instead."""


def _options() -> Any:
    opts = re2.Options()
    opts.log_errors = False
    opts.max_mem = MEMORY_CAP
    return opts


def _explain(pattern: str, error: str) -> str:
    if _BACKREF.search(pattern):
        return f"{error}: backreferences (\\1) are not supported; repeat the group's text"
    if _LOOKAROUND.search(pattern):
        return (
            f"{error}: lookaround ((?=…), (?!…), (?<=…)) is not supported; express the "
            "condition with `all`/`not` and a second `matches`"
        )
    if "pattern too large" in error:
        return f"{error}: the compiled pattern needs more than {MEMORY_CAP >> 20} MiB; simplify it"
    return error


class Regex:
    """A compiled pattern with ``search`` (as ``re.search``) and ``pattern``; equal when the
    patterns are equal; picklable."""

    __slots__ = ("_compiled", "pattern", "search")

    def __init__(self, pattern: str) -> None:
        if len(pattern) > PATTERN_CAP:
            raise RegexError(f"the pattern is longer than {PATTERN_CAP:,} characters")
        try:
            compiled = re2.compile(pattern, _options())
        except re2.error as exc:
            raise RegexError(_explain(pattern, _text(exc))) from None
        self.pattern = pattern
        self._compiled = compiled
        self.search = compiled.search  # bound once: no Python frame per match

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Regex) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(("regex", self.pattern))

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Regex, (self.pattern,))


def _text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)


def compile_regex(pattern: str) -> Regex:
    """``pattern`` compiled for RE2; :class:`RegexError` when it cannot run there."""
    return Regex(pattern)


def pattern_set(patterns: Sequence[str]) -> Regex:
    """One pattern matching where any of ``patterns`` matches (one pass over the text)."""
    return Regex("|".join(f"(?:{p})" for p in patterns))
