"""督查考核 (issue 13): scorecards, 一票否优 as pack data, the 晾晒 ranking — asserted on the
example export, with the attribution rules, the pack override and located errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import EXPORT, REPO, write_pack
from hazard_rules import PackError, Result, load_packs
from hazard_rules.api import assess
from hazard_rules.assess.scorecard import assessed_period, previous_period
from hazard_rules.cli import main
from hazard_rules.periods import parse_period

AS_OF = date(2026, 1, 15)
WAIVERS = REPO / "examples" / "waivers.yaml"


@pytest.fixture(scope="module")
def year() -> Result:
    return assess(load_packs(), EXPORT, AS_OF, waivers=WAIVERS)


def card(result: Result, sid: str) -> Any:
    assert result.assessment is not None
    return next(c for c in result.assessment.scorecards if c.subject.id == sid)


def test_the_ranking_of_2025(year: Result) -> None:
    a = year.assessment
    assert a is not None and (a.period, a.previous) == ("2025", "2024")
    ranked = [(e.rank, e.subject.id) for e in a.ranking if not e.vetoed]
    assert ranked == [(1, "E02"), (2, "E03")]
    assert [e.subject.id for e in a.ranking if e.vetoed] == ["E01", "E04", "E05", "E06"]
    assert all(e.rank is None for e in a.ranking if e.vetoed)
    e02 = a.ranking[0]
    assert e02.score == 95.7 and e02.previous_rank == 3 and e02.rank_change == 2
    # E03 was vetoed in 2024 (H037, construction-2024.5-3): no previous rank, no rank change
    e03 = a.ranking[1]
    assert e03.score == 95.1 and e03.previous_score == 97.8
    assert e03.previous_rank is None and e03.rank_change is None


@pytest.mark.parametrize(
    ("sid", "veto", "rule"),
    [
        ("E01", "主要负责人未按期带队开展重大事故隐患排查", "baoshan-2024.leader-inspection"),
        ("E04", "重大事故隐患增量未得到遏制", "baoshan-2024.major-hazards-curbed"),
        ("E05", "判定为重大事故隐患却按一般隐患记录", "gm-2023.12-2"),
    ],
)
def test_the_veto_reasons(year: Result, sid: str, veto: str, rule: str) -> None:
    c = card(year, sid)
    assert c.vetoed
    assert [(r.veto, r.rule) for r in c.veto_reasons] == [(veto, rule)]
    assert c.veto_reasons[0].cite and "宝国资委〔2024〕11号" in c.veto_reasons[0].cite


def test_e06_is_vetoed_for_its_increase_and_its_misrecorded_gas_hazard(year: Result) -> None:
    c = card(year, "E06")
    assert c.vetoed
    assert [(r.veto, r.rule, r.record.id if r.record else None) for r in c.veto_reasons] == [
        ("重大事故隐患增量未得到遏制", "baoshan-2024.major-hazards-curbed", None),
        ("判定为重大事故隐患却按一般隐患记录", "gas-2023.6-1", "H034"),
    ]
    # H034 proved major by gas-2023.6-1, H035 recorded major: both found in 2025, on time
    assert (c.major_hazards.found, c.major_hazards.rectified_on_time) == (2, 2)


def test_e03_was_vetoed_in_2024_for_a_misrecorded_construction_hazard() -> None:
    result = assess(load_packs(), EXPORT, AS_OF, period="2024", waivers=WAIVERS)
    c = card(result, "E03")
    assert [(r.veto, r.rule, r.record.id if r.record else None) for r in c.veto_reasons] == [
        ("判定为重大事故隐患却按一般隐患记录", "construction-2024.5-3", "H037")
    ]
    assert c.major_hazards.found == 3  # H010, H011 recorded major; H037 proved major


def test_a_scorecard_counts_obligations_findings_and_major_hazards(year: Result) -> None:
    e04 = card(year, "E04")
    obligations = {o.rule: o for o in e04.obligations}
    monthly = obligations["baoshan-2024.leader-inspection"]  # high-risk: monthly
    assert (monthly.judged, monthly.met, monthly.missing) == (12, 12, 0)
    curbed = obligations["baoshan-2024.major-hazards-curbed"]
    assert (curbed.judged, curbed.met, curbed.missing) == (1, 0, 1)
    assert e04.major_hazards.found == 2 and e04.major_hazards.open == 1
    assert e04.findings["exceeded"] == {"high": 1}
    assert e04.judged == sum(o.judged for o in e04.obligations)
    assert e04.met == sum(o.met for o in e04.obligations)
    # the quarterly statistics of 2025-Q4 are due 2026-01-15 — not before as_of: pending
    stats = obligations["mem-16.quarterly-statistics"]
    assert stats.pending == 1 and stats.judged == 3


def test_a_waived_obligation_is_counted_apart_and_never_vetoes(year: Result) -> None:
    e06 = card(year, "E06")
    monthly = next(o for o in e06.obligations if o.rule == "baoshan-2024.monthly-report")
    assert (monthly.judged, monthly.met, monthly.waived) == (11, 11, 1)
    assert e06.waived == 1
    # E06 is vetoed (major-hazards-curbed, H034), but never for the waived report
    assert e06.vetoed and "baoshan-2024.monthly-report" not in {r.rule for r in e06.veto_reasons}


def test_site_obligations_count_for_their_enterprise(year: Result) -> None:
    e06 = card(year, "E06")
    screening = next(o for o in e06.obligations if o.rule == "baoshan-2024.focus-site-screening")
    assert screening.missing == 1  # S13, 沪太路加油站, in 2025
    a = year.assessment
    assert a is not None and a.owners["site:S13"] == "E06" and a.names["site:S13"] == "沪太路加油站"


def test_score_is_the_weighted_on_time_rate(year: Result) -> None:
    weights = {"critical": 4, "high": 3, "medium": 2, "low": 1}
    for c in year.assessment.scorecards:  # type: ignore[union-attr]
        judged = sum(weights[o.severity] * o.judged for o in c.obligations)
        met = sum(weights[o.severity] * o.met for o in c.obligations)
        assert c.score == (round(100 * met / judged, 1) if judged else None)


def test_an_enterprise_improves_between_two_months() -> None:
    result = assess(load_packs(), EXPORT, AS_OF, period="2025-03")
    a = result.assessment
    assert a is not None and (a.period, a.previous) == ("2025-03", "2025-02")
    e01 = next(e for e in a.ranking if e.subject.id == "E01")
    assert e01.previous_score == 0.0 and e01.score == 100.0 and e01.score_change == 100.0


def test_the_calendar_rows(year: Result) -> None:
    a = year.assessment
    assert a is not None
    row = next(r for r in a.calendar if r.subject.id == "E06" and r.rule.endswith("monthly-report"))
    assert row.cells["2025-08"] == "waived" and row.cells["2025-07"] == "met"
    e01 = next(r for r in a.calendar if r.subject.id == "E01" and r.rule.endswith("monthly-report"))
    assert e01.cells["2025-02"] == "late"
    q = next(
        r for r in a.calendar if r.subject.id == "E01" and r.rule.endswith("quarterly-statistics")
    )
    assert q.cells["2025-Q4"] == "pending"


@pytest.mark.parametrize(
    ("text", "label"),
    [("year", "2025"), ("quarter", "2025-Q4"), ("month", "2025-12"), ("half_year", "2025-H2"),
     ("2024-Q2", "2024-Q2")],
)  # fmt: skip
def test_the_period_assessed(text: str, label: str) -> None:
    assert assessed_period(text, AS_OF).label == label
    assert assessed_period("month", date(2026, 1, 1)).label == "2025-12"  # ended before as_of


def test_previous_periods() -> None:
    assert [
        previous_period(parse_period(p)).label for p in ("2025-01", "2025-Q1", "2025-H1", "2025")
    ] == [
        "2024-12",
        "2024-Q4",
        "2024-H2",
        "2024",
    ]


def test_a_users_pack_replaces_the_veto_list(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, [], extends=("baoshan-2024",), pack_id="mine")
    pack_yaml = folder / "pack.yaml"
    pack_yaml.write_text(
        pack_yaml.read_text(encoding="utf-8")
        + "assessment:\n  period: year\n  veto:\n"
        + "    - {name: 月报缺报, rules: [baoshan-2024.monthly-report], statuses: [missing]}\n",
        encoding="utf-8",
    )
    packs = load_packs(folder)
    assert packs.assessment is not None and packs.assessment.pack == "mine"
    result = assess(packs, EXPORT, AS_OF)
    vetoed = {c.subject.id for c in result.assessment.scorecards if c.vetoed}  # type: ignore[union-attr]
    assert vetoed == {"E06"}  # the August report; nothing else vetoes now
    waived = assess(packs, EXPORT, AS_OF, waivers=WAIVERS)  # the August report, waived
    assert not any(c.vetoed for c in waived.assessment.scorecards)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("section", "code"),
    [
        ("assessment: {period: decade}", "invalid_assessment"),
        ("assessment: {weights: {high: -1}}", "invalid_assessment"),
        ("assessment: {veto: [{name: x, rules: [t.nope], statuses: [missing]}]}", "unknown_rule"),
        ("assessment: {veto: [{name: x, rules: ['*'], statuses: [bad]}]}", "invalid_assessment"),
        ("assessment: {veto: [{name: x, rules: [baoshan-2024.leader-inspection], statuses: [missing], where: {level: major}}]}", "invalid_assessment"),
        ("assessment: {veto: [{rules: ['*'], statuses: [missing]}]}", "missing_key"),
        ("assessment: {vetoes: []}", "unknown_key"),
    ],
)  # fmt: skip
def test_malformed_assessments_are_located(tmp_path: Path, section: str, code: str) -> None:
    folder = write_pack(tmp_path, [], extends=("baoshan-2024",), pack_id="mine")
    pack_yaml = folder / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text(encoding="utf-8") + section + "\n", "utf-8")
    with pytest.raises(PackError) as exc:
        load_packs(folder)
    assert code in {d.code for d in exc.value.diagnostics}
    assert all(d.span.path.endswith("pack.yaml") for d in exc.value.diagnostics)


def test_report_command_table_and_json(tmp_path: Path, capsys: Any) -> None:
    base = ["report", "examples/export", "--as-of", "2026-01-15", "--waivers", str(WAIVERS)]
    assert main(base) == 0
    out = capsys.readouterr().out
    assert "晾晒排名 2025（对比 2024）" in out and "一票否优" in out
    target = tmp_path / "r.json"
    assert main([*base, "-o", str(target)]) == 0
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["assessment"]["period"] == "2025"
    assert Result.model_validate(doc).assessment is not None


def test_report_refuses_an_unknown_extension(tmp_path: Path, capsys: Any) -> None:
    assert main(["report", "examples/export", "-o", str(tmp_path / "r.pdf")]) == 2
    assert "the format follows the extension" in capsys.readouterr().err
