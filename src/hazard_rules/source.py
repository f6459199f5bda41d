"""Source positions: where a value came from in a rule file or an export."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# (working directory, absolute export path, the export path as given): set while a worker of a
# partitioned run reads part of an export, so that sources read as in the process that planned it
_VIEW: ContextVar[tuple[str | None, str, str] | None] = ContextVar(
    "hazard_rules_view", default=None
)


@dataclass(frozen=True, order=True)
class SourceSpan:
    """A 1-based position in a file; ``line`` 0 means the whole file."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the working directory when it lies below it, else as given."""
    view = _VIEW.get()
    if view is not None:
        cwd, absolute, given = view
        text = os.fspath(path)
        if text == absolute or text.startswith(absolute.rstrip(os.sep) + os.sep):
            rest = text[len(absolute) :]
            if cwd is None:  # a mirror of a URL: shown as the URL
                return given + rest.replace(os.sep, "/")
            rel = os.path.relpath(text, cwd)
            return given + rest if rel.startswith("..") else rel
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return os.fspath(path)
    return os.fspath(path) if rel.startswith("..") else rel


@contextmanager
def display_view(cwd: str | None, absolute: str, given: str) -> Iterator[None]:
    """Show the paths below ``absolute`` as :func:`display_path` does in a process working in
    ``cwd`` that was given the export as ``given`` (a worker of a partitioned run, whose
    working directory may differ from the planning process's); ``cwd`` None: always as
    ``given`` (a local mirror of a URL)."""
    token = _VIEW.set((cwd, absolute, given))
    try:
        yield
    finally:
        _VIEW.reset(token)
