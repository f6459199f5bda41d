"""The ready-made property suite holds for every bundled pack (and catches a broken one)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hazard_rules.packs import bundled_packs
from hazard_rules.testing.invariants import (
    INVARIANTS,
    InvariantError,
    check_invariants,
    default_settings,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "authoring" / "acme-hotwork"
# Modest and derandomized: the whole file stays well under a minute and never flakes.
SETTINGS = default_settings(12, derandomize=True, database=None)


def test_every_bundled_pack_is_covered() -> None:
    assert {"core", "baoshan-2024", "gm-2023", "chem-2017"} <= set(bundled_packs())


@pytest.mark.parametrize("name", INVARIANTS)
@pytest.mark.parametrize("pack", bundled_packs())
def test_bundled_pack_invariants(pack: str, name: str) -> None:
    check_invariants(pack, only=[name], hypothesis_settings=SETTINGS)


def test_example_pack_invariants() -> None:
    check_invariants(EXAMPLE, hypothesis_settings=SETTINGS)


def test_an_always_true_criterion_is_reported(tmp_path: Path) -> None:
    pack = tmp_path / "acme-hotwork"
    shutil.copytree(EXAMPLE, pack)
    rule = pack / "welding.rule.yaml"
    text = rule.read_text(encoding="utf-8")
    start, end = text.index("when:"), text.index("label:")
    always = "when: {any: [{fire_watch: true}, {fire_watch: false}]}\n"
    rule.write_text(text[:start] + always + text[end:], "utf-8")
    with pytest.raises(InvariantError, match="criteria_decidable") as info:
        check_invariants(pack, only=["criteria_decidable"], hypothesis_settings=SETTINGS)
    assert "acme-hotwork.welding-near-flammables is always true" in str(info.value)


def test_unknown_invariant_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown invariant"):
        check_invariants("core", only=["fast"])
