"""The installed wheel (issue 16, item 8): built from this tree and installed into a fresh
virtual environment, it holds the bundled packs and the example export, and the README's
library example runs there as written — no source tree, no examples/ folder around it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from docblocks import blocks

pytestmark = pytest.mark.wheel


def _run(argv: list[str], cwd: Path, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode in (0, 1), (
        f"{argv}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the python of a fresh venv with it installed)."""
    root = tmp_path_factory.mktemp("wheel")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "-q",
            "-w",
            str(root / "dist"),
        ],
        root,
    )
    (wheel,) = (root / "dist").glob("hazard_rules-*.whl")
    _run([sys.executable, "-m", "venv", str(root / "venv")], root)
    python = root / "venv" / ("Scripts" if os.name == "nt" else "bin") / "python"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], root)
    return wheel, python


def test_the_wheel_holds_packs_and_example_and_nothing_else(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "hazard_rules/rules/core/pack.yaml" in names
    assert "hazard_rules/example_export/hazard.csv" in names
    assert "hazard_rules/py.typed" in names
    # the HTML report's template, style and script are package data
    for asset in ("report.html.j2", "report.css", "report.js"):
        assert f"hazard_rules/output/templates/{asset}" in names
    assert not [
        n for n in names if n.startswith(("tests/", ".venv", "examples/")) or "__pycache__" in n
    ]


def test_the_readme_library_example_runs_from_the_wheel(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, python = installed
    (example,) = [b for b in blocks(REPO / "README.md") if b.lang == "python"]
    proc = _run([str(python), "-c", example.text], tmp_path)
    assert "baoshan-2024.leader-inspection" in proc.stdout
    assert re.search(r"read=\d+ evaluated=\d+ rejected=3", proc.stdout)
    out = _run([str(python), "-m", "hazard_rules", "--version"], tmp_path).stdout
    assert out.strip() == "hazard-rules 0.2.0"
    code = (
        "import hazard_rules, pathlib; "
        "p = hazard_rules.example_export(); "
        "assert 'site-packages' in str(p) and (p / 'enterprise.csv').is_file(), p"
    )
    _run([str(python), "-c", code], tmp_path)
    # the report's template is read from the installed package
    code = (
        "from importlib import resources; "
        "t = resources.files('hazard_rules.output') / 'templates' / 'report.html.j2'; "
        "assert 'Content-Security-Policy' in t.read_text('utf-8')"
    )
    _run([str(python), "-c", code], tmp_path)
