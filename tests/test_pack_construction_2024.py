"""The construction-2024 pack: exactly the 53 items of 建质规〔2024〕5号, cited, in force from 2024-12-13.

The item list per article is the research notes' (criteria.yaml CONS24-*): 第四条至第十五条 51 listed
items, 第十六条 and 第十七条 whole articles.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from hazard_rules import load_packs
from hazard_rules.ir import Criterion

PACK = "construction-2024"
ITEMS_PER_ARTICLE = {4: 5, 5: 4, 6: 4, 7: 3, 8: 9, 9: 5, 10: 2, 11: 4, 12: 2, 13: 7, 14: 3, 15: 3}
WHOLE_ARTICLES = (16, 17)
DIGITS = "一二三四五六七八九"
CN_NUMBER = {w: i + 1 for i, w in enumerate(DIGITS)} | {"十": 10}
CN_NUMBER |= {"十" + w: 11 + i for i, w in enumerate(DIGITS)}
CN_ITEM = {f"（{w}）": i + 1 for i, w in enumerate(DIGITS)}
CITE = re.compile(r"建质规〔2024〕5号 第([一二三四五六七八九十]+)条(（[一二三四五六七八九]）)?")


def _expected_ids() -> set[str]:
    ids = {f"{PACK}.{a}-{i}" for a, n in ITEMS_PER_ARTICLE.items() for i in range(1, n + 1)}
    return ids | {f"{PACK}.{a}" for a in WHOLE_ARTICLES}


def _own_rules() -> list[Criterion]:
    packs = load_packs(PACK)
    own = [r for r in packs.rules if r.meta.pack == PACK]
    criteria = [r for r in own if isinstance(r, Criterion)]
    assert len(criteria) == len(own), "every construction-2024 rule is a criterion"
    return criteria


def _article(rule_id: str) -> int:
    return int(rule_id.split(".", 1)[1].split("-")[0])


def test_exactly_the_53_items() -> None:
    ids = [r.meta.id for r in _own_rules()]
    assert len(ids) == len(set(ids)) == 53
    assert set(ids) == _expected_ids()
    per_article = Counter(_article(i) for i in ids)
    assert dict(per_article) == ITEMS_PER_ARTICLE | {a: 1 for a in WHOLE_ARTICLES}


def test_every_cite_names_its_article_and_item() -> None:
    for rule in _own_rules():
        cite = rule.meta.cite
        assert cite.startswith("建质规〔2024〕5号 第"), rule.meta.id
        m = CITE.fullmatch(cite)
        assert m, f"{rule.meta.id}: {cite}"
        tail = rule.meta.id.split(".", 1)[1]
        article, _, item = tail.partition("-")
        assert CN_NUMBER[m.group(1)] == int(article), rule.meta.id
        if item:
            assert m.group(2) and CN_ITEM[m.group(2)] == int(item), rule.meta.id
        else:
            assert m.group(2) is None, rule.meta.id


def test_every_rule_is_in_force_from_the_issue_date() -> None:
    for rule in _own_rules():
        assert rule.meta.effective_from == date(2024, 12, 13), rule.meta.id
        assert rule.meta.effective_until is None, rule.meta.id
        why = rule.meta.why or ""
        assert "2024-12-13" in why and "发布" in why, rule.meta.id
        ref = "CONS24-" + rule.meta.id.split(".", 1)[1]
        assert ref in why, f"{rule.meta.id}: `why` must name {ref}"


def test_every_rule_labels_major_against_level_and_has_a_scope() -> None:
    for rule in _own_rules():
        assert rule.type == "hazard" and rule.label == "major", rule.meta.id
        assert rule.declared == "level", rule.meta.id
        assert rule.applies is not None, rule.meta.id


def _coverage_rows() -> list[list[str]]:
    packs = load_packs(PACK)
    text = (packs.pack(PACK).path / "README.md").read_text(encoding="utf-8")
    section = text[text.index("| article |") :]
    rows = []
    for line in section.splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_readme_coverage_matches_the_pack() -> None:
    rows = _coverage_rows()
    per_article = Counter(_article(r.meta.id) for r in _own_rules())
    encoded: dict[int, int] = {}
    for row in rows:
        if not row[0].startswith("第"):
            continue
        m = re.match(r"第([一二三四五六七八九十]+)条", row[0])
        assert m, row[0]
        n = re.match(r"\**(\d+)", row[2])
        assert n, row
        encoded[CN_NUMBER[m.group(1)]] = int(n.group(1))
    assert encoded == dict(per_article)
    total = [r for r in rows if r[0].strip("*").lower() == "total"]
    assert len(total) == 1 and total[0] is rows[-1]
    assert total[0][2] == "**53**"
    assert sum(encoded.values()) == 53
