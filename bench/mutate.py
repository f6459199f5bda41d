"""Operator mutation testing of the modules whose boundaries matter most.

Each mutant changes one operator token of one module — a comparison (``<`` → ``<=``, ``>=`` →
``>``, ``==`` → ``!=`` …), a boolean (``and`` ↔ ``or``, ``not`` dropped, ``is`` ↔ ``is not``,
``in`` ↔ ``not in``), arithmetic (``+`` ↔ ``-``), ``True`` ↔ ``False``, an integer ``n`` →
``n + 1``, ``break`` ↔ ``continue`` — and runs that module's tests (``pytest -x``) against it.
A mutant is *killed* when a test fails or the run times out (an endless loop), *survives*
when every test passes. Docstrings, comments, type annotations and ``__all__`` are left alone.

Usage::

    .venv/bin/python bench/mutate.py                       # every module below, 2 workers
    .venv/bin/python bench/mutate.py --module periods --jobs 1 --list   # just list mutants

Each worker mutates its own copy of ``src/`` (put first on ``PYTHONPATH``), so the work tree
is never touched. Survivors are printed with their line, so a test can be written for each.
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# module → the tests that judge it
MODULES: dict[str, tuple[str, list[str]]] = {
    "periods": (
        "src/hazard_rules/periods.py",
        ["tests/test_periods.py", "tests/test_time_rules.py"],
    ),
    "python": (
        "src/hazard_rules/backends/python.py",
        ["tests/test_operator_conformance.py", "tests/test_operators.py"],
    ),
    "time_rules": (
        "src/hazard_rules/engine/time_rules.py",
        ["tests/test_time_rules.py", "tests/test_bundled_cases.py"],
    ),
    "windows": (
        "src/hazard_rules/engine/windows.py",
        ["tests/test_windows.py", "tests/test_time_rules.py", "tests/test_bundled_cases.py"],
    ),
}

SWAPS: dict[str, list[str]] = {
    "<": ["<="],
    "<=": ["<"],
    ">": [">="],
    ">=": [">"],
    "==": ["!="],
    "!=": ["=="],
    "+": ["-"],
    "-": ["+"],
    "and": ["or"],
    "or": ["and"],
    "True": ["False"],
    "False": ["True"],
    "break": ["continue"],
    "continue": ["break"],
}


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    col: int
    old: str
    new: str

    def apply(self, source: str) -> str:
        lines = source.splitlines(keepends=True)
        text = lines[self.line - 1]
        assert text[self.col : self.col + len(self.old)] == self.old, (self, text)
        lines[self.line - 1] = text[: self.col] + self.new + text[self.col + len(self.old) :]
        return "".join(lines)

    def __str__(self) -> str:
        return f"{MODULES[self.module][0]}:{self.line}:{self.col + 1}: {self.old!r} → {self.new!r}"


def _skipped_lines(source: str) -> set[int]:
    """Lines not to mutate: docstrings, annotations, ``__all__``."""
    skip: set[int] = set()
    tree = ast.parse(source)

    def span(node: ast.AST) -> range:
        return range(node.lineno, (node.end_lineno or node.lineno) + 1)  # type: ignore[attr-defined]

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                if arg.annotation is not None:
                    skip.update(span(arg.annotation))
            if node.returns is not None:
                skip.update(span(node.returns))
        if isinstance(node, ast.AnnAssign):
            skip.update(span(node.annotation))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            skip.update(span(node))
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            skip.update(span(node))
    return skip


def mutants(module: str) -> list[Mutant]:
    path = REPO / MODULES[module][0]
    source = path.read_text(encoding="utf-8")
    skip = _skipped_lines(source)
    out: list[Mutant] = []
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for i, tok in enumerate(tokens):
        (line, col) = tok.start
        if line in skip or tok.type not in (tokenize.OP, tokenize.NAME, tokenize.NUMBER):
            continue
        text = tok.string
        nxt = tokens[i + 1].string if i + 1 < len(tokens) else ""
        prev = tokens[i - 1].string if i else ""
        if text in SWAPS:
            if text == "-" and prev in ("(", ",", "=", "[", "return"):
                continue  # a unary minus
            out.extend(Mutant(module, line, col, text, new) for new in SWAPS[text])
        elif text == "is":
            if nxt == "not":
                continue  # `is not` is mutated at `not`
            out.append(Mutant(module, line, col, "is", "is not"))
        elif text == "not":
            if prev == "is":
                out.append(Mutant(module, line, col - 1, " not", ""))
            elif nxt == "in":
                out.append(Mutant(module, line, col, "not in", "in"))
            else:
                out.append(Mutant(module, line, col, "not ", ""))
        elif text == "in" and prev != "not" and _is_membership(tokens, i):
            out.append(Mutant(module, line, col, "in", "not in"))
        elif tok.type == tokenize.NUMBER and text.isdigit():
            out.append(Mutant(module, line, col, text, str(int(text) + 1)))
    return out


def _is_membership(tokens: list[tokenize.TokenInfo], i: int) -> bool:
    """``in`` as a test, not the ``in`` of a ``for`` (loop or comprehension) on its line."""
    line = tokens[i].start[0]
    depth = 0
    for tok in reversed(tokens[:i]):
        if tok.start[0] != line and tok.type == tokenize.NEWLINE:
            break
        if tok.string in (")", "]", "}"):
            depth += 1
        elif tok.string in ("(", "[", "{"):
            if depth == 0:
                break
            depth -= 1
        elif tok.string == "for" and depth == 0:
            return False
    return True


def run(mutant: Mutant, workdir: Path, timeout: float) -> str:
    """'killed', 'survived' or 'timeout' for one mutant, in ``workdir``'s copy of src."""
    rel, tests = MODULES[mutant.module]
    target = workdir / rel
    original = (REPO / rel).read_text(encoding="utf-8")
    target.write_text(mutant.apply(original), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(workdir / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
            cwd=REPO,
            env=env,
            capture_output=True,
            timeout=timeout,
        )
        return "survived" if proc.returncode == 0 else "killed"
    except subprocess.TimeoutExpired:
        return "timeout"
    finally:
        target.write_text(original, encoding="utf-8")


def _workdir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="hr-mutate-"))
    shutil.copytree(REPO / "src", d / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (d / "rules").symlink_to(REPO / "rules")  # bundled packs, found beside src/ as in the repo
    return d


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--module", action="append", choices=sorted(MODULES))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--list", action="store_true", help="list the mutants and stop")
    args = ap.parse_args(argv)
    modules = args.module or list(MODULES)
    todo = [m for mod in modules for m in mutants(mod)]
    if args.list:
        for m in todo:
            print(m)
        print(f"{len(todo)} mutants")
        return 0
    workdirs = [_workdir() for _ in range(max(1, args.jobs))]
    free = list(workdirs)
    start = time.monotonic()

    def one(m: Mutant) -> tuple[Mutant, str]:
        wd = free.pop()
        try:
            return m, run(m, wd, args.timeout)
        finally:
            free.append(wd)

    outcome: dict[Mutant, str] = {}
    try:
        with ThreadPoolExecutor(max_workers=len(workdirs)) as pool:
            for n, (m, status) in enumerate(pool.map(one, todo), 1):
                outcome[m] = status
                if status == "survived":
                    print(f"survived  {m}", flush=True)
                if n % 25 == 0:
                    print(f"... {n}/{len(todo)}", file=sys.stderr, flush=True)
    finally:
        for wd in workdirs:
            shutil.rmtree(wd, ignore_errors=True)
    print()
    for mod in modules:
        mine = [s for m, s in outcome.items() if m.module == mod]
        killed = sum(1 for s in mine if s != "survived")
        print(f"{MODULES[mod][0]}: {killed}/{len(mine)} killed")
    killed = sum(1 for s in outcome.values() if s != "survived")
    print(f"total: {killed}/{len(outcome)} killed ({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
