"""Marked code blocks of the Markdown docs, for the test that runs them (tests/test_docs.py).

A fenced block runs when the line just before its opening fence is a marker comment::

    <!-- run -->                      sh/console: every command; YAML/JSON: parsed; Python: run
    <!-- run: exit=2 -->              the commands are expected to exit 2 (default: 0 or 1)
    <!-- run: matches PATH -->        YAML: a (possibly abridged) copy of the file at PATH

In a ``console`` block, lines starting with ``$ `` are commands and the lines under one are
output it must print (each line somewhere in its output, in order; ``...`` skips). In an
``sh`` block every line is a command; text after `` #`` is a comment. A block without a
marker is not run: sections written later opt in by adding one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Block", "Command", "blocks", "commands"]

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)(?P<lang>[\w+-]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*run(?::\s*(?P<args>.*?))?\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """A marked block: where it is, its language, its text and the marker's arguments."""

    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    args: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


@dataclass(frozen=True)
class Command:
    """One command of a block and the output lines it must print."""

    text: str
    expect: tuple[str, ...] = ()


def _args(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
        else:
            k, _, v = part.partition(" ")
            out[k.strip()] = v.strip()
    return out


def blocks(path: Path) -> list[Block]:
    """The marked blocks of one Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, start = m.group("fence"), i
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        marker = _MARKER.match(lines[start - 1]) if start > 0 else None
        if marker:
            out.append(
                Block(
                    path,
                    start + 1,
                    m.group("lang").lower(),
                    "\n".join(lines[start + 1 : j]) + "\n",
                    _args(marker.group("args")),
                )
            )
        i = j + 1
    return out


def _strip_comment(line: str) -> str:
    """The command without a trailing `` # comment`` (a ``#`` inside quotes stays)."""
    quote = None
    for k, ch in enumerate(line):
        if ch in "'\"":
            quote = None if quote == ch else (quote or ch)
        elif ch == "#" and quote is None and (k == 0 or line[k - 1].isspace()):
            return line[:k].rstrip()
    return line.rstrip()


def commands(block: Block) -> list[Command]:
    """The commands of an ``sh``/``console`` block with the output each must print."""
    out: list[Command] = []
    if block.lang == "console":
        current: list[str] | None = None
        text = ""
        for line in block.text.splitlines():
            if line.startswith("$ "):
                if current is not None:
                    out.append(Command(text, tuple(current)))
                text, current = _strip_comment(line[2:]), []
            elif current is not None and line.strip():
                current.append(line.strip())
        if current is not None:
            out.append(Command(text, tuple(current)))
        return out
    for line in block.text.splitlines():
        cmd = _strip_comment(line)
        if cmd.strip():
            out.append(Command(cmd.strip()))
    return out
