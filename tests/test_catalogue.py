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


# -- every pack's README coverage table (issue 14, item 6) ------------------------------------

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}


def _cn_number(text: str) -> int:
    """一 … 九十九 (the numbers of articles and items)."""
    if "十" not in text:
        return _CN_DIGITS[text]
    tens, _, units = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def _count(cell: str) -> int:
    """The number a count cell starts with (``**65** (64 items + …)`` → 65; no number → 0)."""
    m = re.match(r"[*\s]*(\d+)", cell)
    return int(m.group(1)) if m else 0


def _item_numbers(label: str) -> set[int]:
    """Item numbers a row lists in parentheses: ``人员资质 （1–2）``, ``（3, 8, 9, 13）``."""
    out: set[int] = set()
    for group in re.findall(r"[（(]([\d\s,，、–—~-]+)[）)]", label):
        for part in re.split(r"[,，、]", group):
            bounds = [int(n) for n in re.findall(r"\d+", part)]
            if len(bounds) == 2:
                out.update(range(bounds[0], bounds[1] + 1))
            elif bounds:
                out.add(bounds[0])
    return out


def _clause(cite: str, pack_cite: str) -> str:
    """The clause a rule cites, without the document: ``应急管理部令第10号 第三条（一）`` → ``第三条（一）``."""
    cite = cite.strip()
    if cite.startswith(pack_cite):
        return cite[len(pack_cite) :].strip()
    return cite.split()[-1]


def _clause_number(clause: str) -> int | None:
    """The number of a clause that is an item or an article: ``第十二项`` → 12."""
    m = re.match(r"第([零一二三四五六七八九十]+)[项条]", clause)
    return _cn_number(m.group(1)) if m else None


def _row_covers(label: str, clause: str) -> bool:
    """A coverage row covers a rule when the row's first word begins the rule's clause
    (``第三条 管理类`` covers ``第三条（一）``; ``第十四条第一款 …`` covers ``第十四条第一款``), or
    when the row lists item numbers in parentheses that include the clause's number
    (``人员资质 （1–2）`` covers ``第一项`` and ``第二项``)."""
    first = label.replace("*", "").split()[0] if label.replace("*", "").split() else ""
    if first and clause.startswith(first):
        return True
    number = _clause_number(clause)
    return number is not None and number in _item_numbers(label)


def _is_total(row: list[str]) -> bool:
    return "total" in row[0].lower() or "合计" in row[0]


COVERED = [
    p
    for p in PACKS
    if "| article |" in (load_packs(p).pack(p).path / "README.md").read_text(encoding="utf-8")
]


def test_the_coverage_tables_are_found() -> None:
    assert {"gm-2023", "chem-2017", "mem-16", "gas-2023", "construction-2024"} <= set(COVERED)


@pytest.mark.parametrize("pack", COVERED)
def test_readme_coverage_table_matches_the_rules(pack: str) -> None:
    """For every bundled pack whose README has a coverage table (header ``| article |``):
    the third column of each row is the number of the pack's rules that row covers (see
    :func:`_row_covers`), no rule is covered by two rows, every rule by one, and the third
    column of the total row is the number of the pack's rules."""
    packs = load_packs(pack)
    meta = packs.pack(pack)
    rules = [r for r in packs.rules if r.meta.pack == pack]
    rows = _coverage_rows(meta.path / "README.md")
    assert rows, f"{pack}: the coverage table has no rows"
    totals = [r for r in rows if _is_total(r)]
    assert len(totals) == 1, f"{pack}: the coverage table needs one total row"
    assert all(len(r) >= 3 for r in rows), f"{pack}: every row needs a third column"
    assert _count(totals[0][2]) == len(rules), (
        f"{pack}: the total row says {totals[0][2]!r}, the pack has {len(rules)} rules"
    )
    clauses = {r.meta.id: _clause(r.meta.cite, meta.cite) for r in rules}
    covered_by: dict[str, list[str]] = {rid: [] for rid in clauses}
    for row in rows:
        if _is_total(row):
            continue
        mine = [rid for rid, clause in clauses.items() if _row_covers(row[0], clause)]
        for rid in mine:
            covered_by[rid].append(row[0])
        assert _count(row[2]) == len(mine), (
            f"{pack}: README says {row[2]!r} for {row[0]!r}, the pack has {len(mine)}: {mine}"
        )
    for rid, labels in covered_by.items():
        assert len(labels) == 1, f"{pack}: {rid} ({clauses[rid]}) is covered by rows {labels}"


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
