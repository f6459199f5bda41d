"""Layers in one direction (issue 17): checked on the import statements of the source.

* the core (``facts/``, ``engine/``) imports neither ``testing/`` nor ``io/`` — with the
  exceptions listed in ``KNOWN`` and why;
* nothing imports a private name (``_x``) from another module of the package;
* the durable backend and the due calendar use only the public names (``__all__``) of the
  engine's modules;
* lowering and judging are composed, not chains of base classes.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from conftest import REPO

SRC = REPO / "src" / "hazard_rules"

# (importing module, imported module) → why it is still there
KNOWN: dict[tuple[str, str], str] = {}


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every ``from hazard_rules… import names`` in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").startswith("hazard_rules")
        ):
            out.append((str(node.module), [a.name for a in node.names]))
    return out


def _files(*folders: str) -> list[Path]:
    return [p for f in folders for p in sorted((SRC / f).rglob("*.py"))]


def test_the_core_imports_neither_testing_nor_io() -> None:
    bad = []
    for path in _files("facts", "engine"):
        rel = path.relative_to(SRC).as_posix()
        for module, _ in _imports(path):
            outside = module.startswith(("hazard_rules.testing", "hazard_rules.io"))
            outside |= module in ("hazard_rules.api", "hazard_rules.cli")
            if outside and (rel, module) not in KNOWN:
                bad.append(f"{rel} imports {module}")
    assert not bad


def test_no_private_name_is_imported_from_another_module() -> None:
    bad = [
        f"{path.relative_to(SRC)}: {name} from {module}"
        for path in _files(".")
        for module, names in _imports(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not bad


def test_the_durable_backend_and_the_calendar_use_public_engine_names() -> None:
    for path in [*_files("backends/durable"), SRC / "engine" / "calendar.py"]:
        for module, names in _imports(path):
            if not module.startswith("hazard_rules.engine"):
                continue
            public = set(importlib.import_module(module).__all__)
            assert set(names) <= public, (path.name, module, set(names) - public)


def test_lowering_and_judging_are_composed() -> None:
    """No class of lower/ or engine/ derives from another class of the package."""
    ours = set()
    classes = []
    for path in _files("."):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                ours.add(node.name)
                if path.parent.name in ("lower", "engine"):
                    classes.append((path.name, node))
    for fname, node in classes:
        bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
        assert not bases & ours, f"{fname}: {node.name} derives from {bases & ours}"
