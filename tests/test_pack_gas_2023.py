"""The gas-2023 pack: 建城规〔2023〕4号, all 22 judgment items, and its README coverage table.

The standard's judgment items are the numbered items of articles 4, 5, 6, 7 and 9 (5 + 5 + 3 +
3 + 4) and the whole articles 8 and 10 (reference notes: criteria.yaml GAS-*, addendum §4.1).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

from hazard_rules import bundled_packs, load_packs
from hazard_rules.ir import Criterion

PACK = "gas-2023"
ITEMS = {"4": 5, "5": 5, "6": 3, "7": 3, "8": 0, "9": 4, "10": 0}  # 0 = a whole article
EXPECTED_IDS = {
    f"{PACK}.{art}-{item}" if n else f"{PACK}.{art}"
    for art, n in ITEMS.items()
    for item in (range(1, n + 1) if n else [None])
}
IN_FORCE = date(2023, 9, 8)
NUMERALS = dict(zip("一二三四五六七八九", range(1, 10), strict=True)) | {"十": 10}
CITE = re.compile(
    r"^建城规〔2023〕4号 第([一二三四五六七八九十]+)条(?:（([一二三四五六七八九十]+)）)?$"
)
SHARED_WITH_CHEM = {"hazard_system_established", "explosion_hazard_area"}


def _number(word: str) -> int:
    if word in NUMERALS:
        return NUMERALS[word]
    tens, _, ones = word.partition("十")
    return (NUMERALS[tens] if tens else 1) * 10 + (NUMERALS[ones] if ones else 0)


def _own_rules() -> list[Criterion]:
    packs = load_packs(PACK)
    rules = [r for r in packs.rules if r.meta.pack == PACK]
    assert all(isinstance(r, Criterion) for r in rules)
    return rules  # type: ignore[return-value]


def _coverage_rows(readme: Path) -> list[list[str]]:
    text = readme.read_text(encoding="utf-8")
    section = text[text.index("| article |") :]
    rows = []
    for line in section.splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_the_pack_encodes_exactly_the_22_items() -> None:
    rules = _own_rules()
    ids = [r.meta.id for r in rules]
    assert len(ids) == len(set(ids)) == 22
    assert set(ids) == EXPECTED_IDS
    per_article = Counter(i.split(".")[1].split("-")[0] for i in ids)
    assert dict(per_article) == {a: max(n, 1) for a, n in ITEMS.items()}


def test_every_rule_is_a_major_criterion_on_hazards_declared_in_level() -> None:
    for rule in _own_rules():
        assert rule.type == "hazard", rule.meta.id
        assert rule.label == "major", rule.meta.id
        assert rule.declared == "level", rule.meta.id
        assert rule.applies is not None, rule.meta.id
        assert rule.hints, rule.meta.id


def test_every_rule_cites_its_own_article_and_item() -> None:
    for rule in _own_rules():
        cite = rule.meta.cite
        assert cite.startswith("建城规〔2023〕4号 第"), rule.meta.id
        m = CITE.match(cite)
        assert m, f"{rule.meta.id}: {cite!r}"
        article, item = m.group(1), m.group(2)
        expected = str(_number(article)) + (f"-{_number(item)}" if item else "")
        assert rule.meta.id == f"{PACK}.{expected}", (rule.meta.id, cite)


def test_every_rule_is_in_force_from_the_chosen_date_and_says_why() -> None:
    for rule in _own_rules():
        assert rule.meta.effective_from == IN_FORCE, rule.meta.id
        assert rule.meta.effective_until is None, rule.meta.id
        why = rule.meta.why or ""
        ref = "GAS-" + rule.meta.id.split(".")[1]
        assert ref in why, f"{rule.meta.id}: `why` does not name {ref}"
        assert "2023-09-08" in why and "2023-09-21" in why, rule.meta.id
        assert "domain" in why, f"{rule.meta.id}: `why` does not state the scope reading"


def test_readme_coverage_counts_match_the_pack() -> None:
    packs = load_packs(PACK)
    rows = _coverage_rows(packs.pack(PACK).path / "README.md")
    per_article = Counter(r.meta.id.split(".")[1].split("-")[0] for r in _own_rules())
    encoded: dict[str, int] = {}
    total: int | None = None
    for row in rows:
        m = re.match(r"\**(\d+)", row[2])
        assert m, row
        if row[0].strip("*").lower().startswith("total"):
            total = int(m.group(1))
            continue
        article = re.match(r"第([一二三四五六七八九十]+)条", row[0])
        assert article, row
        encoded[str(_number(article.group(1)))] = int(m.group(1))
    assert encoded == dict(per_article)
    assert total == sum(per_article.values()) == 22


def test_all_bundled_packs_load_together() -> None:
    """Field names shared with other packs are identical re-declarations, labels stay unique."""
    names = [p for p in bundled_packs() if p != "core"]
    assert PACK in names
    together = load_packs(*names)
    assert {r.meta.id for r in together.rules if r.meta.pack == PACK} == EXPECTED_IDS

    core = set(load_packs("core").schema["hazard"].fields)
    own = set(load_packs(PACK).schema["hazard"].fields) - core
    assert len(own) == 37
    others: dict[str, set[str]] = {
        p: set(load_packs(p).schema["hazard"].fields) - core for p in names if p != PACK
    }
    for pack, fields in others.items():
        shared = own & fields
        assert shared <= SHARED_WITH_CHEM, (pack, shared)
    assert others["chem-2017"] >= SHARED_WITH_CHEM
    gas_fields = load_packs(PACK).schema["hazard"].fields
    chem_fields = load_packs("chem-2017").schema["hazard"].fields
    for name in SHARED_WITH_CHEM:
        g, c = gas_fields[name], chem_fields[name]
        assert (g.kind, g.optional, g.values, g.label, g.doc) == (
            c.kind,
            c.optional,
            c.values,
            c.label,
            c.doc,
        )

    for tname, tdef in together.schema.types.items():
        labels = Counter(f.label for f in tdef.fields.values() if f.label)
        assert not [lab for lab, n in labels.items() if n > 1], tname
