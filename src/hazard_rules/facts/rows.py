"""Raw rows: what readers hand to the fact set before any value is coerced.

A raw row is ``(record type, source, mapping)``; the mapping's keys are field names (readers
resolve headers) or, from the API, field names or labels. A row that could not even be read
as a mapping is an :class:`Unreadable` in place of the mapping, rejected with its source like
any other bad row. Sources are ``file:line`` (CSV, JSONL; 1-based physical lines),
``file:sheet:row`` (Excel) or ``type[n]`` (records given to the API).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["UNKNOWN_TYPE", "RawRow", "Unreadable", "source_file"]

# the record type of a row whose type could not be read (a bad line of a mixed JSONL file)
UNKNOWN_TYPE = "?"


@dataclass(frozen=True)
class Unreadable:
    """A row that could not be read as a record; it is rejected with ``reason``.

    ``refs`` holds whatever reference fields could still be read from it (field → raw id),
    so that findings it could have changed are marked doubtful for the right subject."""

    reason: str
    field: str | None = None
    id: str | None = None
    refs: Mapping[str, str] | None = None


RawRow = tuple[str, str, "Mapping[str, Any] | Unreadable"]

_POSITION = re.compile(r":\d+$|\[\d+\]$")


def source_file(source: str) -> str:
    """The file (or ``file:sheet``, or record type) a source names: ``hazard.csv:20`` →
    ``hazard.csv``; ``台账.xlsx:隐患:7`` → ``台账.xlsx:隐患``; ``hazard[3]`` → ``hazard``."""
    return _POSITION.sub("", source)
