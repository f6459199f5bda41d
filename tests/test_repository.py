"""Repository hygiene (issue 16): no environment or generated file is tracked, and the check
that ``make test`` runs (tools/check_tracked.py) finds each kind of offender."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from conftest import REPO


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_tracked", REPO / "tools/check_tracked.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checker_names_each_kind_of_offender(tmp_path: Path) -> None:
    (tmp_path / "run").write_bytes(b"#!/home/me/project/.venv/bin/python3\nprint(1)\n")
    (tmp_path / "ok").write_bytes(b"#!/usr/bin/env bash\ntrue\n")
    found = _checker().problems(
        tmp_path,
        [
            "venv2/pyvenv.cfg",
            "src/x/__pycache__/a.cpython-311.pyc",
            "src/x.egg-info/PKG-INFO",
            ".venv/.installed",
            "run",
            "ok",
            "README.md",
        ],
        ["report.json"],
    )
    assert found == [
        ".venv/.installed: an environment or build file",
        "report.json: tracked, but .gitignore excludes it",
        "run: its first line names a machine path (#!/home/me/project/.venv/bin/python3)",
        "src/x.egg-info/PKG-INFO: an environment or build file",
        "src/x/__pycache__/a.cpython-311.pyc: an environment or build file",
        "venv2/pyvenv.cfg: an environment or build file",
    ]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_this_repository_tracks_no_environment() -> None:
    if subprocess.run(["git", "rev-parse"], cwd=REPO, capture_output=True).returncode:
        pytest.skip("not a git checkout")
    assert _checker().main([str(REPO)]) == 0


def test_the_makefile_names_no_machine_path() -> None:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "/home/" not in text and "/root/" not in text and "/usr/local" not in text
    assert "-m hazard_rules" in text  # the demo does not rely on a console script's shebang
