"""Docs that run (issue 16, item 8): every marked block of README.md, docs/*.md and
examples/README.md is run or loaded against the example data, so a doc that stops working
fails ``make test``. How blocks are marked: tests/docblocks.py."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from docblocks import Block, blocks, commands

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "examples/README.md"]
BLOCKS = [b for path in DOCS for b in blocks(path)]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a copy of examples/, where the documented commands run (they may
    write report files)."""
    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(
        REPO / "examples",
        root / "examples",
        ignore=shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache"),
    )
    return root


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "PYTEST_ADDOPTS")
    }
    env["PYTHONPATH"] = str(REPO / "src")
    return env


def _argv(text: str) -> list[str]:
    words = shlex.split(text)
    assert words, text
    assert not {"|", ">", "<", "&&", ";"} & set(words), (
        f"a documented command is one command: {text}"
    )
    program, rest = words[0], words[1:]
    if program == "hazard-rules":
        return [sys.executable, "-m", "hazard_rules", *rest]
    if program == "pytest":
        return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *rest]
    if program in ("python", "python3"):
        return [sys.executable, *rest]
    raise AssertionError(f"a marked block may run hazard-rules, pytest or python, not {program!r}")


def _expect_in_order(expected: tuple[str, ...], output: str, where: str) -> None:
    lines = [ln.strip() for ln in output.splitlines()]
    k = 0
    for want in expected:
        if want in ("...", "…"):
            continue
        while k < len(lines) and want not in lines[k]:
            k += 1
        assert k < len(lines), f"{where}: expected a line with {want!r} in:\n{output}"
        k += 1


def _subset(doc: Any, actual: Any, where: str) -> None:
    """``doc`` (an abridged copy) agrees with ``actual`` wherever it does not say ``...``."""
    if doc in ("...", "…") or doc is Ellipsis:
        return
    if isinstance(doc, dict):
        assert isinstance(actual, dict), where
        for key, value in doc.items():
            assert key in actual, f"{where}: {key!r} is not in the file"
            _subset(value, actual[key], f"{where}.{key}")
        return
    if isinstance(doc, list):  # an abridged list: the first items
        assert isinstance(actual, list) and len(doc) <= len(actual), where
        for k, item in enumerate(doc):
            _subset(item, actual[k], f"{where}[{k}]")
        return
    assert doc == actual, f"{where}: the doc says {doc!r}, the file {actual!r}"


def test_the_docs_mark_blocks() -> None:
    readme = [b for b in BLOCKS if b.path.name == "README.md" and b.path.parent == REPO]
    assert {b.lang for b in readme} >= {"sh", "python", "yaml", "json", "toml"}
    assert any(b.path.name == "authoring.md" for b in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.id)
def test_marked_block_works(block: Block, workdir: Path) -> None:
    where = f"{block.path.relative_to(REPO)}:{block.line}"
    if block.lang in ("yaml", "yml"):
        doc = yaml.safe_load(block.text)
        if "matches" in block.args:
            actual = yaml.safe_load((REPO / block.args["matches"]).read_text(encoding="utf-8"))
            _subset(doc, actual, where)
        return
    if block.lang == "json":
        json.loads(block.text)
        return
    if block.lang == "toml":
        from hazard_rules.cli.config import load_config

        folder = workdir / f"toml-{block.line}"
        folder.mkdir(exist_ok=True)
        name = "pyproject.toml" if "[tool.hazard-rules]" in block.text else "hazard-rules.toml"
        (folder / name).write_text(block.text, encoding="utf-8")
        load_config(folder / name)  # ConfigError names the line of the doc's mistake
        return
    if block.lang == "python":
        proc = subprocess.run(
            [sys.executable, "-c", block.text],
            cwd=workdir,
            env=_env(),
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, f"{where}:\n{proc.stderr.decode()}"
        return
    assert block.lang in ("sh", "console", "shell", "bash"), f"{where}: cannot run {block.lang!r}"
    allowed = {int(x) for x in block.args.get("exit", "0,1").split(",")}
    for cmd in commands(block):
        proc = subprocess.run(
            _argv(cmd.text),
            cwd=workdir,
            env=_env(),
            capture_output=True,
            timeout=300,
            check=False,
        )
        output = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
        assert proc.returncode in allowed, (
            f"{where}: `{cmd.text}` exited {proc.returncode}:\n{output}"
        )
        assert "Traceback" not in output, f"{where}: `{cmd.text}`:\n{output}"
        _expect_in_order(cmd.expect, output, f"{where}: `{cmd.text}`")
