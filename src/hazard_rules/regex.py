"""Regular expressions from rule files (``matches``, ``hints``) on a linear-time engine.

Patterns run on RE2 (google-re2): matching time grows linearly with the text whatever the
pattern, so no rule can make evaluation hang (``^(a+)+$`` against 41 ``a`` takes microseconds,
not minutes). RE2 has no backreferences and no lookaround; a pattern that uses them is a
load-time error with the location and a suggestion. A pattern is at most
:data:`PATTERN_CAP` characters and RE2 may use at most :data:`MEMORY_CAP` bytes compiling
it; texts are at most 1 MiB characters (``facts.coerce.TEXT_LIMIT``: a longer value is a
rejected field). Search semantics are Python's ``re.search``: anywhere in the text.

Speed. RE2's Python binding costs a few microseconds per call, Python's own engine well
under one for the short texts rules match (hazard descriptions). So each pattern also gets a
bound on the work a backtracking engine could do: a pattern without nested repetition is
costed as ``C · n^(u+1)`` steps for a text of ``n`` characters (``u`` unbounded repeats,
``C`` the product of its alternatives and bounded repeats), and a text short enough for that
to stay under :data:`STEP_CAP` is searched by Python's engine — with ``re.ASCII``, so that
``\\d``, ``\\w``, ``\\s`` and ``\b`` mean what they mean in RE2 — and any other text, or any
text for a pattern with nested repetition, by RE2. Both give the same answer (a property
test holds them equal); only the time differs, and it is bounded either way.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import re2

_parser: Any = __import__(
    "re._parser" if sys.version_info >= (3, 11) else "sre_parse", fromlist=["parse"]
)

_BACKREF = re.compile(r"\\[1-9]")
_LOOKAROUND = re.compile(r"\(\?<?[=!]")

__all__ = ["MEMORY_CAP", "PATTERN_CAP", "Regex", "RegexError", "compile_regex", "pattern_set"]

PATTERN_CAP = 10_000  # characters in one pattern
TEXT_CAP = 1 << 20  # characters in one text value (facts.coerce.TEXT_LIMIT)
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


STEP_CAP = 2_000_000  # backtracking steps a search may take on Python's engine
_MAXREPEAT = _parser.MAXREPEAT
_BIG_REPEAT = 64  # a bounded repeat above this counts as unbounded


_ATOMS = frozenset({"LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"})


def _atom(body: Any) -> bool:
    """True when a repeat's body is one character (a literal, a class, ``.``): each
    iteration can match in one way only."""
    return len(body) == 1 and str(body[0][0]) in _ATOMS


def _cost(items: Any) -> tuple[float, int] | None:
    """(C, u) of a parsed pattern (see the module docstring), or None when backtracking could
    be exponential — an unbounded repeat of anything but one character (``(a+)+``,
    ``(a|aa)+``, ``(.*a){12}``): those run on RE2 only."""
    c, u = 1.0, 0
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, body = arg
            unbounded = hi is _MAXREPEAT or hi > _BIG_REPEAT
            if _atom(body):
                if unbounded:
                    u += 1
                else:
                    c *= hi - lo + 1
                continue
            if unbounded:
                return None
            inner = _cost(body)
            if inner is None or inner[1] > 0:
                return None
            c *= (hi - lo + 1) * inner[0] ** max(hi, 1)
        elif name == "BRANCH":
            total, most = 0.0, 0
            for alt in arg[1]:
                got = _cost(alt)
                if got is None:
                    return None
                total += got[0]
                most = max(most, got[1])
            c *= total
            u += most
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            got = _cost(arg[-1])
            if got is None:
                return None
            c *= got[0]
            u += got[1]
        elif name in ("GROUPREF", "GROUPREF_EXISTS", "ASSERT", "ASSERT_NOT"):
            return None
    return c, u


def _python_engine(pattern: str) -> tuple[re.Pattern[str], int] | None:
    """Python's compiled pattern and the longest text it may search, or None (RE2 only)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compiled = re.compile(pattern, re.ASCII)
            cost = _cost(_parser.parse(pattern, re.ASCII))
    except (re.error, Warning, RecursionError, OverflowError, ValueError):
        return None
    if cost is None:
        return None
    c, u = cost
    longest = int((STEP_CAP / max(c, 1.0)) ** (1 / (u + 1)))
    return (compiled, longest) if longest >= 1 else None


class Regex:
    """A compiled pattern with ``search`` (as ``re.search``) and ``pattern``; equal when the
    patterns are equal; picklable."""

    __slots__ = ("_compiled", "pattern", "python_up_to", "search")

    def __init__(self, pattern: str) -> None:
        if len(pattern) > PATTERN_CAP:
            raise RegexError(f"the pattern is longer than {PATTERN_CAP:,} characters")
        try:
            compiled = re2.compile(pattern, _options())
        except re2.error as exc:
            raise RegexError(_explain(pattern, _text(exc))) from None
        self.pattern = pattern
        self._compiled = compiled
        fast = _python_engine(pattern)
        # the longest text Python's engine searches (0: RE2 for every text)
        self.python_up_to = fast[1] if fast is not None else 0
        if fast is None:
            self.search = compiled.search
        elif fast[1] >= TEXT_CAP:
            self.search = fast[0].search  # cheap for any text hazard-rules accepts
        else:
            py, limit, slow = fast[0].search, fast[1], compiled.search

            def search(text: str) -> Any:
                return py(text) if len(text) <= limit else slow(text)

            self.search = search

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
