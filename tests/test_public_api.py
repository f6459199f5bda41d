"""The public facade: a sorted, importable ``__all__``, JSON Schema for other languages, and no
dependency exception leaking through it (STYLE: errors are mapped where they arise)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import hazard_rules
from hazard_rules import HazardRulesError, InputError, PackError, Result, evaluate, load_packs


def test_all_is_sorted_and_importable() -> None:
    names = hazard_rules.__all__
    assert list(names) == sorted(names)
    for name in names:
        assert hasattr(hazard_rules, name), name


def test_result_models_export_json_schema() -> None:
    schema = Result.model_json_schema()
    assert {"violations", "classifications", "rejected", "counts"} <= set(schema["properties"])
    json.dumps(schema)  # serialisable as is


def test_yaml_errors_do_not_leak(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(
        "id: p\ntitle: t\nversion: '1'\ncite: c\n", encoding="utf-8"
    )
    (tmp_path / "a.rule.yaml").write_text("- id: p.a\n  kind: [unclosed\n", encoding="utf-8")
    with pytest.raises(PackError) as err:
        load_packs(tmp_path)
    assert "yaml_syntax" in {d.code for d in err.value.diagnostics}
    assert any(d.span.path.endswith("a.rule.yaml") for d in err.value.diagnostics)


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(
        "id: p\ntitle: !!python/object/apply:os.system ['touch PWNED']\nversion: '1'\ncite: c\n",
        encoding="utf-8",
    )
    with pytest.raises(PackError):
        load_packs(tmp_path)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("hazard.csv", b"id,enterprise_id\n\xff\xfe\x00bad"),  # neither UTF-8 nor GB18030 text
        ("hazard.xlsx", b"this is not a zip file"),
    ],
)
def test_unreadable_files_are_input_errors(tmp_path: Path, name: str, content: bytes) -> None:
    (tmp_path / name).write_bytes(content)
    packs = load_packs("baoshan-2024")
    with pytest.raises(HazardRulesError) as info:  # fails the test when nothing is raised
        evaluate(packs, tmp_path, date(2025, 1, 1))
    assert isinstance(info.value, InputError)
    assert name in str(info.value)


def test_facts_of_the_wrong_shape_are_input_errors() -> None:
    packs = load_packs("baoshan-2024")
    with pytest.raises(InputError):
        evaluate(packs, {"enterprise": [42]}, date(2025, 1, 1))  # type: ignore[list-item]
    with pytest.raises(InputError):
        evaluate(packs, {"no_such_type": []}, date(2025, 1, 1))
    with pytest.raises(InputError):
        evaluate(packs, {}, "2025-01-01")  # type: ignore[arg-type]


def test_alias_bombs_are_refused_quickly(tmp_path: Path) -> None:
    """SPEC §7: no input makes the program hang or exhaust memory on a small file."""
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    (tmp_path / "pack.yaml").write_text(
        "id: p\ntitle: t\nversion: '1'\ncite: c\nextends: [core]\n", encoding="utf-8"
    )
    (tmp_path / "bomb.rule.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(PackError) as err:
        load_packs(tmp_path)
    assert "yaml_too_large" in {d.code for d in err.value.diagnostics}


def test_deeply_nested_json_is_a_rejected_line(tmp_path: Path) -> None:
    export = tmp_path / "mixed.jsonl"
    good = '{"type": "enterprise", "id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": false}'
    export.write_text(good + "\n" + "[" * 100_000 + "\n", encoding="utf-8")
    result = evaluate(load_packs("baoshan-2024"), export, date(2024, 1, 2))
    assert result.counts.read == 2 and result.counts.rejected == 1
    assert result.rejected[0].source.endswith("mixed.jsonl:2")
