"""``jobs > 1`` gives exactly the single-process result."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings

from hazard_rules import evaluate, load_packs
from hazard_rules.api import load_facts
from hazard_rules.engine.compile import compile_pack
from hazard_rules.engine.parallel import judge_parallel
from hazard_rules.testing.strategies import fact_sets

EXPORT = Path(__file__).resolve().parents[1] / "examples" / "export"
PACKS = load_packs("baoshan-2024", "gm-2023", "chem-2017")


@pytest.mark.parametrize("jobs", [2, 3, 5])
def test_example_export_in_parallel_equals_one_process(jobs: int) -> None:
    as_of = date(2026, 1, 15)
    one = evaluate(PACKS, EXPORT, as_of, show_unmapped=True)
    many = evaluate(PACKS, EXPORT, as_of, show_unmapped=True, jobs=jobs)
    assert many == one
    assert many.violations  # the comparison is not vacuous


BAOSHAN = load_packs("baoshan-2024")


@settings(max_examples=15, deadline=None)
@given(facts=fact_sets(BAOSHAN.schema, max_size=4, near=BAOSHAN))
def test_partitions_cover_every_subject_once(facts: dict[str, list[dict[str, object]]]) -> None:
    fact_set = load_facts(BAOSHAN, facts)
    compiled = compile_pack(BAOSHAN)
    as_of = date(2025, 7, 1)
    one = judge_parallel(compiled, fact_set, as_of, 1, show_unmapped=True)
    assert judge_parallel(compiled, fact_set, as_of, 3, show_unmapped=True) == one


def test_streamed_report_equals_the_whole_result() -> None:
    """The CLI streams jsonl/csv from plain findings; the text equals the full model's."""
    from hazard_rules.api import evaluate_findings
    from hazard_rules.output.writers import format_result, write_findings

    as_of = date(2026, 1, 15)
    facts = load_facts(PACKS, EXPORT)
    whole = evaluate(PACKS, facts, as_of)
    _, findings = evaluate_findings(PACKS, facts, as_of)
    import io

    for fmt in ("jsonl", "csv"):
        buf = io.StringIO()
        write_findings(findings, fmt, buf)
        assert buf.getvalue() == format_result(whole, fmt)


@pytest.mark.parametrize("explain", [False, True])
def test_streaming_equals_a_loaded_fact_set(explain: bool) -> None:
    """A path is read and judged in one pass keeping only what time rules need; a loaded
    fact set keeps everything. Same result."""
    as_of = date(2026, 1, 15)
    streamed = evaluate(PACKS, EXPORT, as_of, show_unmapped=True, explain=explain)
    loaded = evaluate(PACKS, load_facts(PACKS, EXPORT), as_of, show_unmapped=True, explain=explain)
    assert streamed == loaded


@settings(max_examples=25, deadline=None)
@given(facts=fact_sets(BAOSHAN.schema, max_size=4, near=BAOSHAN))
def test_streaming_equals_loaded_on_generated_facts(
    facts: dict[str, list[dict[str, object]]],
) -> None:
    as_of = date(2025, 7, 1)
    assert evaluate(BAOSHAN, facts, as_of) == evaluate(BAOSHAN, load_facts(BAOSHAN, facts), as_of)


def test_retention_keeps_only_what_time_rules_read() -> None:
    from hazard_rules.engine.judge import retention

    kept = retention(compile_pack(PACKS))
    assert kept["enterprise"] is None and kept["site"] is None  # referenced: whole
    assert kept["hazard"] == {"id", "enterprise_id", "discovered_on", "level"}  # the trend's count
    assert kept["task"] == {"id"} and kept["equipment"] == {"id"}  # record rules only
