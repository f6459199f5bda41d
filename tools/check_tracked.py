"""Fail when the repository tracks a generated or environment file (``make test`` runs it).

Three checks over ``git ls-files``:

* a tracked file that ``.gitignore`` excludes (``git ls-files -ci --exclude-standard``);
* a file that belongs to an environment or a build wherever it lies: ``pyvenv.cfg`` (a
  virtual environment of any name), ``__pycache__/``, ``*.pyc``, ``site-packages/``,
  ``*.egg-info/``, a ``.installed`` stamp;
* a script whose first line names a machine path (``#!/home/me/.venv/bin/python``): only
  ``#!/usr/bin/env …`` and interpreters under ``/bin`` and ``/usr/bin`` are portable.

Outside a git checkout (an unpacked sdist) there is nothing to check: it says so, exit 0.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

_ENV_PARTS = {"__pycache__", "site-packages"}
_ENV_NAMES = {"pyvenv.cfg", ".installed"}
_PORTABLE_SHEBANG = re.compile(rb"^#!\s*(/usr/bin/env\s|/bin/|/usr/bin/)")


def _git(root: Path, *args: str) -> list[str]:
    out = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, check=True, timeout=60
    ).stdout
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def problems(root: Path, tracked: Iterable[str], ignored: Iterable[str]) -> list[str]:
    """What is wrong with the tracked files, one line each."""
    out = [f"{p}: tracked, but .gitignore excludes it" for p in ignored]
    for path in tracked:
        parts = path.split("/")
        if (
            _ENV_PARTS & set(parts[:-1])
            or parts[-1] in _ENV_NAMES
            or path.endswith((".pyc", ".pyo"))
            or any(p.endswith(".egg-info") for p in parts[:-1])
        ):
            out.append(f"{path}: an environment or build file")
            continue
        file = root / path
        try:
            with file.open("rb") as fh:
                head = fh.readline(200)
        except OSError:
            continue
        if head.startswith(b"#!") and not _PORTABLE_SHEBANG.match(head):
            shown = head.decode("utf-8", "replace").strip()
            out.append(f"{path}: its first line names a machine path ({shown})")
    return sorted(set(out))


def main(argv: Sequence[str] | None = None) -> int:
    root = Path(argv[0] if argv else ".").resolve()
    try:
        tracked = _git(root, "ls-files", "-z")
        ignored = _git(root, "ls-files", "-z", "-ci", "--exclude-standard")
    except (OSError, subprocess.CalledProcessError):
        print("check_tracked: not a git checkout; nothing to check")
        return 0
    found = problems(root, tracked, ignored)
    for line in found[:50]:
        print(line)
    if found:
        more = " (first 50 shown)" if len(found) > 50 else ""
        print(
            f"check_tracked: {len(found)} generated or environment file(s) are tracked{more}; "
            "remove them with `git rm --cached`"
        )
        return 1
    print(f"check_tracked: ok ({len(tracked)} tracked files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
