"""Waivers (issue 13 item 5): a waived finding keeps every field, has status ``waived`` and
carries its waiver; expired, not yet approved and unused waivers are notes; a malformed file
is a located error."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import EXPORT, REPO
from hazard_rules import WaiverError, evaluate, load_packs
from hazard_rules.assess.waivers import load_waivers
from hazard_rules.cli import main

AS_OF = date(2026, 1, 15)
RULE = "baoshan-2024.monthly-report"


@pytest.fixture(scope="module")
def packs():
    return load_packs("baoshan-2024")


def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "waivers.yaml"
    p.write_text("waivers:\n" + body, encoding="utf-8")
    return p


def _one(**kw: str) -> str:
    fields = {
        "id": "W1",
        "rule": RULE,
        "subject": "E06",
        "period": "2025-08",
        "reason": "平台切换",
        "approved_by": "区国资委",
        "approved_on": "2025-08-18",
        **kw,
    }
    return "  - " + "\n    ".join(f"{k}: {v}" for k, v in fields.items() if v != "-") + "\n"


def test_a_waived_finding_keeps_its_fields_and_carries_the_waiver(packs, tmp_path: Path) -> None:
    plain = evaluate(packs, EXPORT, AS_OF)
    waived = evaluate(packs, EXPORT, AS_OF, waivers=REPO / "examples" / "waivers.yaml")
    assert len(waived.violations) == len(plain.violations)
    (before,) = [v for v in plain.violations if v.rule == RULE and v.subject.id == "E06"]
    (after,) = [v for v in waived.violations if v.rule == RULE and v.subject.id == "E06"]
    assert before.status == "missing" and after.status == "waived"
    assert after.waiver is not None and after.waiver.id == "W2025-07"
    assert after.waiver.status == "missing"
    assert after.model_copy(update={"status": "missing", "waiver": None}) == before
    assert waived.counts.waived == 1 and waived.counts.by_status["waived"] == 1
    assert waived.counts.by_status["missing"] == plain.counts.by_status["missing"] - 1
    # everything else is untouched
    rest = [v for v in waived.violations if v is not after and v.waiver is None]
    assert len(rest) == len(plain.violations) - 1


@pytest.mark.parametrize(
    ("kw", "note"),
    [
        ({"expires_on": "2025-12-31"}, "expired on 2025-12-31"),
        ({"approved_on": "2026-02-01"}, "approved on 2026-02-01, after 2026-01-15"),
        ({"period": "2025-09"}, "matches no finding"),
        ({"rule": "gm-2023.*"}, "no loaded rule matches"),
    ],
)
def test_waivers_that_do_not_apply_are_notes(packs, tmp_path: Path, kw, note) -> None:
    result = evaluate(packs, EXPORT, AS_OF, waivers=_write(tmp_path, _one(**kw)))
    assert result.counts.waived == 0
    assert any(note in n and "waiver W1" in n for n in result.notes), result.notes


def test_a_glob_and_a_record(packs, tmp_path: Path) -> None:
    body = _one(rule="baoshan-2024.*", period="-") + _one(
        id="W2",
        rule="baoshan-2024.hazard-rectified-on-time",
        subject="E02",
        period="-",
        record="H022",
    )
    result = evaluate(packs, EXPORT, AS_OF, waivers=_write(tmp_path, body))
    waived = {(v.subject.id, v.rule, v.waiver.id) for v in result.violations if v.waiver}
    assert ("E02", "baoshan-2024.hazard-rectified-on-time", "W2") in waived
    assert {w for s, _, w in waived if s == "E06"} == {"W1"}
    assert sum(1 for v in result.violations if v.subject.id == "E06" and v.waiver is None) == 0


def test_the_command_reports_waived_and_exits_by_what_is_left(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "enterprise.csv").write_text(
        "id,name,sectors,high_risk\nE1,甲,commerce,否\n", "utf-8"
    )
    (folder / "document.csv").write_text("id,enterprise_id,doc_type,submitted_on\n", "utf-8")
    body = _one(rule="baoshan-2024.*", subject="E1", period="-", approved_on="2024-01-01")
    code = main(
        ["check", str(folder), "--pack", "baoshan-2024", "--as-of", "2024-07-01",
         "--waivers", str(_write(tmp_path, body))]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "已豁免" in out
    assert code == 0  # every finding is waived


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        (_one(approved_on="2025-13-01"), "malformed_date", 8),
        (_one(reason="-"), "invalid_waiver", 2),
        (_one(colour="red"), "unknown_key", 9),
        (_one() + _one(), "duplicate_waiver", 9),
        (_one(record="H1"), "invalid_waiver", 2),
        (_one(expires_on="2025-01-01"), "invalid_waiver", 9),
    ],
)
def test_malformed_waivers_are_located(tmp_path: Path, body: str, code: str, line: int) -> None:
    with pytest.raises(WaiverError) as exc:
        load_waivers(_write(tmp_path, body))
    assert [(d.code, d.span.line) for d in exc.value.diagnostics] == [(code, line)]


def test_a_malformed_waiver_file_through_the_command(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, _one(approved_on="昨天"))
    code = main(["check", "examples/export", "--waivers", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "waivers.yaml:8:" in err and "problem(s) in the waiver file" in err
