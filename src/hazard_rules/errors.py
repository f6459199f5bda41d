"""The one exception tree of hazard-rules, and :class:`Diagnostic`.

::

    HazardRulesError                 every error this library raises
     ├── PackError                   rule packs could not be used; carries every Diagnostic found
     ├── InputError                  an export or fact set could not be read at all
     │    ├── ArgumentTypeError      an API argument of the wrong type (also a TypeError)
     │    ├── ArgumentValueError     an API argument of the right type, wrong value (a ValueError)
     │    ├── DocumentError          a column map or waiver file could not be used; carries
     │    │    │                     its Diagnostics
     │    │    ├── MapError          … a column map
     │    │    └── WaiverError       … a waiver file
     │    ├── StrictRejectionError   records were rejected and strict mode was asked for
     │    └── TooManyRejectedError   more rows of a file were rejected than max_rejected allows
     ├── ConfigError                 a configuration file could not be used; carries its Diagnostics
     ├── BackendUnavailableError     an optional backend (durable-rules) is not installed
     └── BackendError                a backend failed or cannot express a rule

Violations are data, never exceptions; a bad record is a rejected row, not an abort.
Dependency exceptions (yaml, pydantic, dateutil, durable_rules) are mapped where they arise,
with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hazard_rules.diagnostics import CODES
from hazard_rules.source import SourceSpan

__all__ = [
    "ArgumentTypeError",
    "ArgumentValueError",
    "BackendError",
    "BackendUnavailableError",
    "ConfigError",
    "Diagnostic",
    "DocumentError",
    "HazardRulesError",
    "InputError",
    "MapError",
    "PackError",
    "StrictRejectionError",
    "TooManyRejectedError",
    "WaiverError",
]

MAX_DIAGNOSTICS = 200


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One located problem in a rule pack: ``path:line:column: code: message``; ``code`` is
    one of :data:`hazard_rules.diagnostics.CODES`."""

    span: SourceSpan
    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in CODES:  # a programming error: declare it in diagnostics.py
            raise ValueError(f"undeclared diagnostic code {self.code!r}")

    def __str__(self) -> str:
        return f"{self.span}: {self.code}: {self.message}"


class HazardRulesError(Exception):
    """Root of every error raised by hazard-rules."""


class PackError(HazardRulesError):
    """Rule packs could not be loaded; ``diagnostics`` lists every problem, sorted."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = sorted(set(diagnostics))[:MAX_DIAGNOSTICS]
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class InputError(HazardRulesError):
    """An export, a file in it, or a fact set could not be read at all."""


class DocumentError(InputError):
    """A YAML document given with the input (a column map, a waiver file) could not be
    used; ``diagnostics`` lists every problem, located."""

    what = "document"

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = sorted(set(diagnostics))[:MAX_DIAGNOSTICS]
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class ArgumentTypeError(InputError, TypeError):
    """A public function was given an argument of the wrong type; the message names it."""


class ArgumentValueError(InputError, ValueError):
    """A public function was given an argument whose value it cannot use; the message names it."""


class MapError(DocumentError):
    """A column map could not be used."""

    what = "column map"


class WaiverError(DocumentError):
    """A waiver file could not be used."""

    what = "waiver file"


class StrictRejectionError(InputError):
    """Strict mode: at least one record was rejected."""


class TooManyRejectedError(InputError):
    """More rows of a file were rejected than ``max_rejected`` allows: the run is no verdict.

    ``result`` holds what was judged anyway (its findings may be doubtful), for callers
    that want to look at it."""

    def __init__(self, message: str, result: object = None) -> None:
        self.result = result
        super().__init__(message)


class ConfigError(HazardRulesError):
    """A configuration file (``hazard-rules.toml``, ``[tool.hazard-rules]`` in
    ``pyproject.toml``) could not be used; ``diagnostics`` lists every problem, located."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = sorted(set(diagnostics))[:MAX_DIAGNOSTICS]
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class BackendUnavailableError(HazardRulesError):
    """An optional backend was asked for but its dependency is not installed."""


class BackendError(HazardRulesError):
    """A backend failed, or refused a rule it cannot express faithfully."""
