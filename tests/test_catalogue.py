"""The catalogue of bundled rules: every rule documented, cited and proven by cases.

Modelled on ruff's "every rule has docs" check: a rule without a citation, a Chinese title,
messages, a violating case and a passing case fails the build.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from hazard_rules import bundled_packs, load_packs
from hazard_rules.ir import Criterion
from hazard_rules.testing.cases import iter_cases

CJK = re.compile(r"[\u4e00-\u9fff]")
PACKS = [p for p in bundled_packs() if p != "core"]


def _cases_by_rule(pack: str) -> tuple[Counter[str], Counter[str]]:
    """(rule id → cases where it fires, rule id → cases in scope where it does not)."""
    fires: Counter[str] = Counter()
    quiet: Counter[str] = Counter()
    for packs, case in iter_cases(pack):
        scope = case.rule_ids if case.rule_ids is not None else {r.meta.id for r in packs.rules}
        named = {e["rule"] for e in case.expect}
        named |= {c["rule"] for c in case.classifications or ()}
        for rid in scope:
            (fires if rid in named else quiet)[rid] += 1
    return fires, quiet


@pytest.mark.parametrize("pack", PACKS)
def test_every_rule_is_documented(pack: str) -> None:
    packs = load_packs(pack)
    own = [r for r in packs.rules if r.meta.pack == pack]
    assert own, f"{pack} has no rules"
    for rule in own:
        m = rule.meta
        assert CJK.search(m.title), f"{m.id}: the title must be Chinese"
        assert m.cite.strip(), f"{m.id}: no citation"
        assert CJK.search(m.message_zh.source), f"{m.id}: the zh message must be Chinese"
        assert m.message_en.source.strip(), f"{m.id}: no en message"
        assert m.why, f"{m.id}: no `why`"


@pytest.mark.parametrize("pack", PACKS)
def test_every_rule_has_a_violating_and_a_passing_case(pack: str) -> None:
    packs = load_packs(pack)
    fires, quiet = _cases_by_rule(pack)
    for rule in packs.rules:
        if rule.meta.pack != pack:
            continue
        assert fires[rule.meta.id] >= 1, f"{rule.meta.id}: no case where it fires"
        assert quiet[rule.meta.id] >= 1, f"{rule.meta.id}: no passing case"


def test_baoshan_has_three_cases_per_rule() -> None:
    fires, quiet = _cases_by_rule("baoshan-2024")
    packs = load_packs("baoshan-2024")
    for rule in packs.rules:
        if rule.meta.pack == "baoshan-2024":
            assert fires[rule.meta.id] + quiet[rule.meta.id] >= 3, rule.meta.id


def test_baoshan_rule_ids_are_the_contract() -> None:
    expected = {
        "outlet-inventory",
        "hazard-baseline",
        "legacy-hazards-cleared",
        "major-hazards-curbed",
        "major-hazards-zeroed",
        "focus-site-screening",
        "risk-assessment-report",
        "principal-law-training",
        "criteria-training",
        "leader-inspection",
        "hazard-rectified-on-time",
        "obsolete-equipment",
        "evacuation-drill",
        "rescue-team",
        "mobilization-meeting",
        "work-plan",
        "task-list-format",
        "monthly-report",
    }
    ids = {r.meta.id for r in load_packs("baoshan-2024").rules if r.meta.pack == "baoshan-2024"}
    assert ids == {f"baoshan-2024.{n}" for n in expected}


def _coverage_rows(readme: Path) -> list[list[str]]:
    text = readme.read_text(encoding="utf-8")
    section = text[text.index("| article |") :]
    rows = []
    for line in section.splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_gm_2023_encodes_all_64_items_and_article_14() -> None:
    packs = load_packs("gm-2023")
    ids = [r.meta.id for r in packs.rules if r.meta.pack == "gm-2023"]
    assert all(isinstance(r, Criterion) for r in packs.rules if r.meta.pack == "gm-2023")
    per_article = Counter(i.split(".")[1].split("-")[0] for i in ids)
    assert dict(per_article) == {
        "3": 3,
        "4": 8,
        "5": 13,
        "6": 8,
        "7": 7,
        "8": 7,
        "9": 2,
        "10": 2,
        "11": 10,
        "12": 2,
        "13": 2,
        "14": 1,
    }
    assert sum(per_article.values()) - per_article["14"] == 64
    for rule in packs.rules:
        if rule.meta.pack == "gm-2023":
            assert rule.meta.cite.startswith("应急管理部令第10号 第"), rule.meta.id
            assert rule.meta.effective_from is not None, rule.meta.id


def test_gm_2023_readme_coverage_matches_the_pack() -> None:
    packs = load_packs("gm-2023")
    rows = _coverage_rows(packs.pack("gm-2023").path / "README.md")
    encoded = {
        r[0]: int(re.match(r"\**(\d+)", r[2]).group(1)) for r in rows if r[0].startswith("第")
    }  # type: ignore[union-attr]
    digits = "一二三四五六七八九"
    numbers = {w: i + 1 for i, w in enumerate(digits)} | {"十": 10}
    numbers |= {"十" + w: 11 + i for i, w in enumerate(digits)}
    per_article = Counter(
        r.meta.id.split(".")[1].split("-")[0] for r in packs.rules if r.meta.pack == "gm-2023"
    )
    assert len(encoded) == 12
    for label, n in encoded.items():
        m = re.match(r"第([一二三四五六七八九十]+)条", label)
        assert m, label
        number = numbers[m.group(1)]
        assert per_article[str(number)] == n, f"README says {n} for {label}"


def test_chem_2017_encodes_all_20_items() -> None:
    packs = load_packs("chem-2017")
    ids = sorted(int(r.meta.id.split(".")[1]) for r in packs.rules if r.meta.pack == "chem-2017")
    assert ids == list(range(1, 21))
    rows = _coverage_rows(packs.pack("chem-2017").path / "README.md")
    total = [r for r in rows if "total" in r[0].lower() or "合计" in r[0]]
    assert total and total[0][2].strip("*").startswith("20"), total
