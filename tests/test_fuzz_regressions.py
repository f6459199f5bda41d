"""What the fuzzing suite (tests/test_fuzz.py) found, kept as plain regression tests, and the
systematic form of its most common find: a value of the wrong shape anywhere in a rule file
(a mapping or a list where text or a number belongs) is a located pack error, never an
internal one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from hazard_rules import PackError, load_packs
from hazard_rules.cli import main

AUTHORING = REPO / "examples" / "authoring" / "acme-hotwork"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "acme-hotwork"
    shutil.copytree(AUTHORING, folder)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_rule_kind_that_is_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the fuzzing suite: ``kind: {}`` was an internal TypeError (unhashable)."""
    folder = _copy(tmp_path)
    _edit(folder / "permit.rule.yaml", "kind: check", "kind: {}")
    with pytest.raises(PackError) as exc:
        load_packs(folder)
    (d,) = exc.value.diagnostics
    assert (d.code, Path(d.span.path).name, d.span.line) == (
        "unknown_rule_kind",
        "permit.rule.yaml",
        2,
    )
    assert main(["lint", str(folder)]) == 2
    out, err = capsys.readouterr()
    assert "permit.rule.yaml:2" in out + err and "internal error" not in out + err


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    label: 动火作业", "    label: {zh: 动火作业}"),
        ("    label: 动火作业", "    label: [动火作业]"),
    ],
)
def test_a_type_label_that_is_not_text(tmp_path: Path, old: str, new: str) -> None:
    """Found by the fuzzing suite: a type's label of another shape was an internal error."""
    folder = _copy(tmp_path)
    _edit(folder / "schema.yaml", old, new)
    with pytest.raises(PackError) as exc:
        load_packs(folder)
    assert all(Path(d.span.path).name == "schema.yaml" for d in exc.value.diagnostics)


def test_a_pack_name_no_file_system_accepts() -> None:
    """Found by the fuzzing suite: a 5,000-character pack name was an OSError
    (ENAMETOOLONG) from the file system."""
    with pytest.raises(PackError, match=r"x{20}"):
        load_packs("x" * 5000)


def _leaves(doc: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _leaves(v, (*at, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _leaves(v, (*at, i))
    elif at:
        yield at


def _wrong_shapes() -> list[tuple[str, tuple[Any, ...], Any]]:
    out = []
    for f in sorted(AUTHORING.glob("*.yaml")):
        if f.name.endswith(".cases.yaml"):
            continue
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        for at in _leaves(doc):
            for value in ({}, [], {"k": 1}, [1, 2]):
                out.append((f.name, at, value))
    return out


WRONG = _wrong_shapes()


def test_every_value_of_the_example_pack_given_the_wrong_shape(tmp_path: Path) -> None:
    """Each scalar of the example pack's pack.yaml, schema and rule files, replaced in turn by
    a mapping or a list: a PackError naming that file, or (where any value is allowed, e.g.
    a `why` text given as a list) a pack that loads — never another exception."""
    assert len(WRONG) > 200
    failures = []
    for i, (name, at, value) in enumerate(WRONG):
        folder = tmp_path / str(i) / "acme-hotwork"
        shutil.copytree(AUTHORING, folder)
        doc = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        node = doc
        for key in at[:-1]:
            node = node[key]
        node[at[-1]] = value
        (folder / name).write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        try:
            load_packs(folder)
        except PackError as exc:
            if not any(Path(d.span.path).name == name for d in exc.diagnostics):
                failures.append(f"{name} {at} = {value!r}: not located in {name}: {exc}")
        except Exception as exc:  # the test is that nothing else escapes
            failures.append(f"{name} {at} = {value!r}: {type(exc).__name__}: {exc}")
        shutil.rmtree(folder.parent)
    assert not failures, "\n".join(failures[:20])
