"""The generated classifier agrees with the reference closures, and stays inert on hostile text."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from hazard_rules import evaluate, load_packs
from hazard_rules.engine.compile import CompiledPack, compile_pack
from hazard_rules.engine.judge import judge
from hazard_rules.facts.collect import collect_facts, rows_from_mapping
from hazard_rules.testing.strategies import fact_sets

PACKS = load_packs("gm-2023", "chem-2017")


def _both(facts: dict[str, list[dict[str, object]]], as_of: date) -> tuple[object, object]:
    compiled = compile_pack(PACKS)
    reference = CompiledPack(PACKS, compiled.by_type, compiled.timed)  # no classifiers
    fact_set = collect_facts(PACKS.schema, rows_from_mapping(facts))
    fast = judge(compiled, fact_set, as_of, show_unmapped=True)
    slow = judge(reference, fact_set, as_of, show_unmapped=True)
    return fast, slow


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=fact_sets(PACKS.schema, types=["enterprise", "hazard"], max_size=4, near=PACKS))
def test_generated_classifier_equals_reference(facts: dict[str, list[dict[str, object]]]) -> None:
    fast, slow = _both(facts, date(2026, 1, 1))
    assert fast == slow


def test_classifier_source_holds_no_rule_text(tmp_path: Path) -> None:
    hostile = "x'); import os; os.system('touch PWNED'); ('"
    (tmp_path / "pack.yaml").write_text(
        "id: evil\ntitle: 测试\nversion: '1'\ncite: t\nextends: [core]\n", encoding="utf-8"
    )
    (tmp_path / "x.rule.yaml").write_text(
        textwrap.dedent(
            f"""\
            id: evil.text
            kind: criterion
            title: 恶意文本
            cite: t
            severity: low
            message: {{zh: "命中 {{record}}", en: "hit {{record}}"}}
            for: hazard
            when:
              any:
                - description: {{eq: "{hostile}"}}
                - description: {{matches: "__import__"}}
            label: major
            hints: ["{{__class__}}"]
            """
        ),
        encoding="utf-8",
    )
    packs = load_packs(tmp_path)
    source = compile_pack(packs).classifiers["hazard"][0].__doc__ or ""
    assert "os" not in source.split() and "import" not in source and "__" not in source
    facts = {
        "enterprise": [{"id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": False}],
        "hazard": [
            {
                "id": "H1",
                "enterprise_id": "E1",
                "discovered_on": "2024-01-02",
                "found_by": "other",
                "level": "general",
                "description": hostile,
            },
        ],
    }
    result = evaluate(packs, facts, date(2024, 6, 1))
    assert [c.record.id for c in result.classifications] == ["H1"]
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()
