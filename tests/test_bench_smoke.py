"""Smoke test of bench/: generated exports load and evaluate, and the hand-written ceiling
agrees with the engine. No timing is asserted here (bench/run.py measures)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import gen  # noqa: E402
import handwritten  # noqa: E402

from hazard_rules import evaluate, load_packs  # noqa: E402
from hazard_rules.api import load_facts  # noqa: E402

AS_OF = date(2026, 1, 15)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("bench-export")
    counts = gen.generate(out, 2000, seed=7)
    return out, counts


def test_generator_is_deterministic(tmp_path: Path, export: tuple[Path, dict[str, int]]) -> None:
    folder, counts = export
    again = gen.generate(tmp_path, 2000, seed=7)
    assert again == counts
    for f in sorted(folder.glob("*.csv")):
        assert (tmp_path / f.name).read_bytes() == f.read_bytes(), f.name


def test_generated_export_loads_and_evaluates(export: tuple[Path, dict[str, int]]) -> None:
    folder, counts = export
    total = sum(counts.values())
    assert abs(total - 2000) <= 20
    packs = load_packs("baoshan-2024", "gm-2023")
    facts = load_facts(packs, folder)
    assert facts.read == total
    assert facts.read == facts.evaluated + len(facts.rejected)
    assert len(facts.rejected) < total * 0.01  # ~0.1 % bad rows, nothing else rejected
    result = evaluate(packs, facts, AS_OF)
    assert result.counts.read == result.counts.evaluated + result.counts.rejected
    assert result.violations  # the synthetic data exercises the rules


def test_handwritten_matches_engine(export: tuple[Path, dict[str, int]]) -> None:
    folder, _ = export
    packs = load_packs("baoshan-2024", "gm-2023")
    facts = load_facts(packs, folder)
    result = evaluate(packs, facts, AS_OF)
    wanted = set(handwritten.RULES)
    engine = sorted((c.record.id, c.rule) for c in result.classifications if c.rule in wanted)
    hand = sorted(
        handwritten.classify(facts.records["hazard"].values(), facts.records["enterprise"], AS_OF)
    )
    assert hand == engine
    assert engine  # some of the 20 rules fire on the generated data


def test_scale_out_rows_measure_a_process_tree(tmp_path: Path) -> None:
    """bench/scale.py's sampler sees the workers of a forked run and their memory."""
    import scale

    got = scale.tree_run(
        [
            sys.executable,
            "-c",
            "import multiprocessing as mp, time\n"
            "def f(_):\n    x = bytearray(60 << 20); time.sleep(0.5); return len(x)\n"
            "if __name__ == '__main__':\n"
            "    with mp.get_context('fork').Pool(2) as p: p.map(f, range(2))\n",
        ]
    )
    assert len(got["workers"]) == 2
    assert min(got["workers"]) > 50 << 20
    assert got["sum_rss"] >= sum(got["workers"])
    assert got["cpu"] > 0
