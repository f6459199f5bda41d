"""The command line (SPEC §6) through its real entry points: ``python -m hazard_rules`` in a
subprocess, and :func:`hazard_rules.cli.main` in-process."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, d
from hazard_rules import Result, evaluate, load_packs
from hazard_rules.cli import main

CHECK = ["check", "examples/export", "--as-of", "2026-01-15", "--pack", "baoshan-2024"]

# The deliberate problems of the example export (examples/README.md), as of 2026-01-15:
# (subject, rule, period, due, record, status)
B = "baoshan-2024."
EXAMPLE_FINDINGS = [
    ("E01", B + "leader-inspection", "2025-Q3", "2025-09-30", None, "missing"),
    ("E01", B + "legacy-hazards-cleared", None, "2024-12-31", "H001", "overdue"),
    ("E01", B + "monthly-report", "2025-02", "2025-02-20", None, "late"),
    ("E02", B + "hazard-rectified-on-time", None, "2025-04-15", "H022", "late"),
    ("E02", B + "legacy-hazards-cleared", None, "2024-12-31", "H002", "late"),
    ("E02", B + "mobilization-meeting", None, "2024-04-30", None, "missing"),
    ("E03", B + "evacuation-drill", "2025-H1", "2025-06-30", None, "missing"),
    ("E03", B + "risk-assessment-report", None, "2024-06-30", None, "late"),
    ("E03", B + "task-list-format", None, None, "T007", "failed"),
    ("E04", B + "leader-inspection", "2024-08", "2024-08-31", None, "missing"),
    ("E04", B + "major-hazards-curbed", "2025", "2025-12-31", None, "exceeded"),
    ("E04", B + "obsolete-equipment", None, None, "EQ01", "failed"),
    ("E04", B + "rescue-team", None, "2024-12-31", None, "late"),
    ("E05", B + "criteria-training", None, "2024-12-31", None, "missing"),
    ("E05", B + "outlet-inventory", None, "2024-12-31", None, "late"),
    ("E06", B + "hazard-baseline", None, "2024-12-31", None, "missing"),
    ("E06", B + "hazard-rectified-on-time", None, "2025-12-15", "H030", "overdue"),
    ("E06", B + "major-hazards-curbed", "2025", "2025-12-31", None, "exceeded"),
    ("E06", B + "monthly-report", "2025-08", "2025-08-20", None, "missing"),
    ("E06", B + "principal-law-training", None, "2024-06-30", None, "missing"),
    ("E06", B + "task-list-format", None, None, "T015", "failed"),
    ("E06", B + "work-plan", None, "2024-04-30", None, "late"),
    ("S13", B + "focus-site-screening", "2025", "2025-12-31", None, "missing"),
]


def example_rows() -> int:
    """Records in the example export, counted independently of the engine's readers."""
    total = 0
    for path in (REPO / "examples" / "export").glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            total += sum(
                1 for row in csv.DictReader(fh) if any(v.strip() for v in row.values() if v)
            )
    return total


def cli(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m hazard_rules ARGS`` and capture bytes; the terminal's settings
    (``COLUMNS``, ``NO_COLOR``, ``FORCE_COLOR``) are left out unless ``env`` gives them."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")
    }
    return subprocess.run(
        [sys.executable, "-m", "hazard_rules", *args],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        check=False,
        env={**base, **(env or {})},
    )


Main = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Main:
    """``run_main(*argv)`` → (exit code, stdout, stderr), run in the repository folder."""
    monkeypatch.chdir(REPO)

    def go(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return go


def rows_of(violations: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            v["subject"]["id"],
            v["rule"],
            v["period"],
            v["due"],
            v["record"]["id"] if v["record"] else None,
            v["status"],
        )
        for v in violations
    ]


# -- check ------------------------------------------------------------------------------------


def test_check_prints_a_table_and_exits_1():
    proc = cli(*CHECK, "--lang", "en")
    assert proc.returncode == 1, proc.stderr.decode()
    out = proc.stdout.decode("utf-8")
    assert proc.stderr == b""
    lines = out.splitlines()
    assert lines[0].split() == [
        "subject",
        "rule",
        "status",
        "severity",
        "period",
        "due",
        "record",
        "message",
    ]
    body = [ln for ln in lines if re.match(r"^(E0\d|S13)\s+baoshan-2024\.", ln)]
    assert len(body) == 23
    for (subject, rule, period, due, record, status), line in zip(
        EXAMPLE_FINDINGS, body, strict=True
    ):
        cells = line.split()
        assert cells[:2] == [subject, rule]
        assert status in [c.lstrip("⚠") for c in cells]  # "⚠missing": doubtful
        for value in (period, due, record):
            if value:
                assert value in cells
    n = example_rows()
    assert f"read {n}, evaluated {n - 3}, rejected 3; 23 violations" in out
    assert "examples/export/hazard.csv:20" in out


def test_check_json_round_trips_into_result(run_main: Main):
    code, out, err = run_main(*CHECK, "--format", "json")
    assert code == 1, err
    data = json.loads(out)
    assert rows_of(data["violations"]) == EXAMPLE_FINDINGS
    parsed = Result.model_validate_json(out)
    original = evaluate(load_packs("baoshan-2024"), "examples/export", as_of=d("2026-01-15"))
    assert parsed == original
    assert Result.model_validate_json(parsed.model_dump_json()) == parsed
    assert [(r.source, r.id, r.field) for r in parsed.rejected] == [
        ("examples/export/hazard.csv:20", "H019", "discovered_on"),
        ("examples/export/inspection.csv:48", "I047", "enterprise_id"),
        ("examples/export/training.csv:19", "TR018", "role"),
    ]


def test_check_json_through_the_subprocess():
    proc = cli(*CHECK, "--format", "json")
    assert proc.returncode == 1
    result = Result.model_validate_json(proc.stdout)
    assert len(result.violations) == 23
    n = example_rows()
    assert (result.counts.read, result.counts.evaluated, result.counts.rejected) == (n, n - 3, 3)


def test_check_jsonl(run_main: Main):
    code, out, _ = run_main(*CHECK, "--format", "jsonl")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 23
    assert rows_of([json.loads(ln) for ln in lines]) == EXAMPLE_FINDINGS


def test_check_csv_has_bom_and_rows():
    proc = cli(*CHECK, "--format", "csv")
    assert proc.returncode == 1
    assert proc.stdout.startswith(b"\xef\xbb\xbf")
    text = proc.stdout.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 23
    assert [(r["subject"], r["rule"], r["status"]) for r in rows] == [
        (f[0], f[1], f[5]) for f in EXAMPLE_FINDINGS
    ]


def test_check_csv_output_file_has_bom(run_main: Main, tmp_path: Path):
    target = tmp_path / "out.csv"
    code, out, _ = run_main(*CHECK, "--format", "csv", "--output", str(target))
    assert code == 1
    assert out == ""
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == 24  # header + 23 rows


def test_check_strict_with_rejected_rows_exits_2(run_main: Main):
    code, out, err = run_main(*CHECK, "--strict")
    assert code == 2
    assert "3 record(s) rejected" in err
    assert "hazard.csv:20" in err
    assert "Traceback" not in err + out


def test_check_strict_without_rejections_uses_normal_codes(run_main: Main, tmp_path: Path):
    export = tmp_path / "ok"
    export.mkdir()
    (export / "enterprise.csv").write_text(
        "id,name,sectors,high_risk\nE1,甲公司,commerce,false\n", encoding="utf-8"
    )
    code, out, _ = run_main(
        "check", str(export), "--pack", "baoshan-2024", "--as-of", "2024-04-02", "--strict"
    )
    assert code == 0
    assert "未发现违规" in out


def test_check_no_violations_exits_0(tmp_path: Path):
    export = tmp_path / "ok"
    export.mkdir()
    (export / "enterprise.csv").write_text(
        "id,name,sectors,high_risk\nE1,甲公司,commerce,false\n", encoding="utf-8"
    )
    proc = cli("check", str(export), "--pack", "baoshan-2024", "--as-of", "2024-04-02")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "未发现违规。" in proc.stdout.decode()
    proc = cli(
        "check", str(export), "--pack", "baoshan-2024", "--as-of", "2024-04-02", "--lang", "en"
    )
    assert "No violations." in proc.stdout.decode()
    proc = cli(
        "check", str(export), "--pack", "baoshan-2024", "--as-of", "2024-04-02", "--format", "json"
    )
    assert proc.returncode == 0
    assert Result.model_validate_json(proc.stdout).violations == []


def test_check_missing_export_exits_2_without_traceback(tmp_path: Path):
    missing = tmp_path / "no-such-export"
    proc = cli("check", str(missing), "--pack", "baoshan-2024", "--as-of", "2026-01-15")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert str(missing) in err
    assert "Traceback" not in err
    assert proc.stdout == b""


def test_check_unknown_record_type_file_exits_2(tmp_path: Path):
    export = tmp_path / "bad"
    export.mkdir()
    (export / "hazards.csv").write_text("id\nH1\n", encoding="utf-8")
    proc = cli("check", str(export), "--pack", "baoshan-2024", "--as-of", "2026-01-15")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "hazards.csv" in err and "Traceback" not in err


def test_check_bad_as_of_exits_2(run_main: Main):
    code, _, err = run_main(
        "check", "examples/export", "--pack", "baoshan-2024", "--as-of", "2026-13-01"
    )
    assert code == 2
    assert "2026-13-01" in err


def test_check_single_jsonl_export(run_main: Main, tmp_path: Path):
    lines = [
        {
            "type": "enterprise",
            "id": "E1",
            "name": "甲公司",
            "sectors": ["commerce"],
            "high_risk": False,
        },
        {
            "type": "document",
            "id": "D1",
            "enterprise_id": "E1",
            "doc_type": "work_plan",
            "submitted_on": "2024-05-06",
        },
    ]
    path = tmp_path / "export.jsonl"
    path.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8"
    )
    code, out, _ = run_main(
        "check", str(path), "--pack", "baoshan-2024", "--as-of", "2024-05-10", "--format", "json"
    )
    assert code == 1
    data = json.loads(out)
    assert rows_of(data["violations"]) == [
        ("E1", B + "mobilization-meeting", None, "2024-04-30", None, "missing"),
        ("E1", B + "work-plan", None, "2024-04-30", None, "late"),
    ]


# -- lint -------------------------------------------------------------------------------------


def test_lint_bad_pack_prints_located_errors_and_exits_2(make_pack: Callable[..., Path]):
    text = (
        "id: t.a\nkind: criterion\ntitle: 测试\ncite: 测试\nseverity: high\n"
        'message: {zh: "{record}", en: "{record}"}\nfor: hazard\nlabel: major\n'
        "when:\n  levle: major\n  description: {gt: 3}\n  found_by: {in: [boss]}\n"
    )
    folder = make_pack({"a.rule.yaml": text})
    proc = cli("lint", str(folder))
    assert proc.returncode == 2
    out = proc.stdout.decode()
    located = re.findall(r"a\.rule\.yaml:(\d+):(\d+): (\w+): ", out)
    assert located == [
        ("10", "3", "unknown_field"),
        ("11", "17", "operator_type_mismatch"),
        ("12", "19", "unknown_enum_value"),
    ]
    assert "Traceback" not in out + proc.stderr.decode()


def test_lint_bundled_packs_is_clean(run_main: Main):
    code, out, _ = run_main("lint", "baoshan-2024", "gm-2023")
    assert code == 0
    assert out.startswith("ok: ")


# -- packs, explain, schema -------------------------------------------------------------------


def test_packs_lists_bundled_packs_with_rules_and_citations(run_main: Main):
    code, out, _ = run_main("packs")
    assert code == 0
    assert re.search(r"^baoshan-2024\s", out, re.M)
    assert re.search(r"^gm-2023\s", out, re.M)
    assert re.search(r"^core\s", out, re.M)
    assert "宝国资委〔2024〕11号" in out
    for rule in load_packs("baoshan-2024").rules:
        assert rule.meta.id in out


def test_explain_rule(run_main: Main):
    code, out, _ = run_main("explain", "baoshan-2024.leader-inspection")
    assert code == 0
    assert out.startswith("baoshan-2024.leader-inspection")
    for text in (
        "主要负责人每季度带队检查重大事故隐患排查整治（高危行业每月）",
        "宝国资委〔2024〕11号 二、7",
        "led_by eq principal",
        "high_risk eq true",
        "every: quarter",
        "2024-04-01",
        "2026-12-31",
        "why:",
    ):
        assert text in out


def test_explain_unknown_rule_exits_2_with_a_suggestion(run_main: Main):
    code, _, err = run_main("explain", "baoshan-2024.leader-inspections", "--pack", "baoshan-2024")
    assert code == 2
    assert "baoshan-2024.leader-inspection" in err


def test_schema_json_schema_is_valid_json():
    proc = cli("schema", "--json-schema", "--pack", "core")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    defs = schema["$defs"]
    for tname in (
        "enterprise",
        "site",
        "hazard",
        "inspection",
        "drill",
        "training",
        "document",
        "report",
        "task",
        "equipment",
        "rescue_team",
    ):
        assert tname in defs
        assert "id" in defs[tname]["properties"]
    assert "held_on" in defs["inspection"]["properties"]
    assert "id" in defs["hazard"]["required"]


def test_schema_table(run_main: Main):
    code, out, _ = run_main("schema", "--pack", "core")
    assert code == 0
    assert "enterprise" in out and "discovered_on" in out and "发现日期" in out


# -- due --------------------------------------------------------------------------------------

DUE = ["due", "examples/export", "--within", "30d", "--pack", "baoshan-2024"]


def test_due_lists_exactly_what_falls_due(run_main: Main):
    # Derived by hand from the export, as of 2025-11-25, window [2025-11-25, 2025-12-25]:
    # * monthly-report 2025-12 is due 2025-12-20; every December report is submitted on
    #   2025-12-08..17, after as_of, so none exists yet: all six enterprises.
    # * H030 (E06) must be rectified by 2025-12-15 and is open.
    # * high-risk E03/E04 had their November principal-led inspections (11-12, 11-23);
    #   quarterly and yearly items fall due 2025-12-31, outside the window.
    code, out, err = run_main(*DUE, "--as-of", "2025-11-25", "--format", "json")
    assert code == 0, err
    items = [
        (x["due"], x["subject"], x["rule"], x["period"], x["record"], x["have"], x["need"])
        for x in json.loads(out)
    ]
    assert items == [
        ("2025-12-15", "E06", B + "hazard-rectified-on-time", None, "H030", 0, 1),
        *[
            ("2025-12-20", f"E0{i}", B + "monthly-report", "2025-12", None, 0, 1)
            for i in range(1, 7)
        ],
    ]


def test_due_early_november(run_main: Main):
    # As of 2025-11-01, window [2025-11-01, 2025-12-01]: the November reports (submitted
    # 11-08..17) and the high-risk November inspections (11-12, 11-23) do not exist yet;
    # H025 and H030 are found after as_of.
    code, out, _ = run_main(*DUE, "--as-of", "2025-11-01", "--format", "json")
    assert code == 0
    items = [(x["due"], x["subject"], x["rule"], x["period"]) for x in json.loads(out)]
    assert items == [
        *[("2025-11-20", f"E0{i}", B + "monthly-report", "2025-11") for i in range(1, 7)],
        ("2025-11-30", "E03", B + "leader-inspection", "2025-11"),
        ("2025-11-30", "E04", B + "leader-inspection", "2025-11"),
    ]


def test_due_table_through_the_subprocess():
    proc = cli(*DUE, "--as-of", "2025-11-25", "--lang", "en")
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "as of 2025-11-25: 7 obligation(s) fall due in the window." in out
    zh = cli(*DUE, "--as-of", "2025-11-25").stdout.decode()
    assert "截至 2025-11-25：窗口内有 7 项义务到期。" in zh
    rows = [ln.split() for ln in out.splitlines() if re.match(r"^\d{4}-\d{2}-\d{2}\s", ln)]
    assert [(r[0], r[2]) for r in rows] == [("2025-12-15", "E06")] + [
        ("2025-12-20", f"E0{i}") for i in range(1, 7)
    ]


# -- test -------------------------------------------------------------------------------------


def test_test_command_runs_the_bundled_cases():
    proc = cli("test", "baoshan-2024")
    assert proc.returncode == 0, proc.stdout.decode()[-2000:]
    last = proc.stdout.decode().splitlines()[-1]
    m = re.fullmatch(r"(\d+) passed, 0 failed", last)
    assert m and int(m.group(1)) > 0


def test_test_command_reports_a_failing_case(make_pack: Callable[..., Path], run_main: Main):
    rule = (
        "id: t.plan\nkind: deadline\ntitle: 测试\ncite: 测试\nseverity: low\n"
        'message: {zh: "{subject}", en: "{subject}"}\n'
        "subject: {type: enterprise}\n"
        "evidence: {type: document, where: {doc_type: work_plan}, date: submitted_on}\n"
        "due: 2024-04-30\n"
    )
    cases = (
        "cases:\n"
        "  - name: right\n    as_of: 2024-05-01\n"
        "    facts: {enterprise: [{id: E1, name: 甲, sectors: [commerce], high_risk: false}]}\n"
        "    expect: [{rule: t.plan, subject: E1, status: missing}]\n"
        "  - name: wrong\n    as_of: 2024-05-01\n"
        "    facts: {enterprise: [{id: E1, name: 甲, sectors: [commerce], high_risk: false}]}\n"
        "    expect: []\n"
    )
    folder = make_pack({"plan.rule.yaml": rule}, cases={"plan.cases.yaml": cases})
    code, out, _ = run_main("test", str(folder), "--backend", "python")
    assert code == 1
    assert out.splitlines()[-1] == "1 passed, 1 failed"


def test_default_as_of_is_today_in_shanghai(run_main: Main):
    from datetime import datetime

    from dateutil import tz

    shanghai = tz.gettz("Asia/Shanghai")
    before = datetime.now(shanghai).date()
    code, out, _ = run_main(
        "check", "examples/export", "--pack", "baoshan-2024", "--format", "json"
    )
    after = datetime.now(shanghai).date()
    assert code in (0, 1)
    assert Result.model_validate_json(out).as_of in {before, after}


@pytest.mark.parametrize(
    ("within", "as_of", "last_day"),
    [
        ("30d", "2025-01-31", "2025-03-02"),
        ("30", "2025-01-31", "2025-03-02"),
        ("6w", "2025-01-31", "2025-03-14"),
        ("1m", "2025-01-31", "2025-02-28"),
        ("1M", "2024-01-31", "2024-02-29"),
        ("2m", "2025-11-30", "2026-01-30"),
        ("1y", "2024-02-29", "2025-02-28"),
        ("100y", "2025-01-01", "2125-01-01"),
        ("36500d", "2025-01-01", "2124-12-08"),
    ],
)
def test_due_within_units_end_on_their_last_day(within: str, as_of: str, last_day: str) -> None:
    from datetime import date

    from hazard_rules.cli.check import _due_until, _within

    assert _due_until(date.fromisoformat(as_of), _within(within)) == date.fromisoformat(last_day)


@pytest.mark.parametrize(
    ("within", "as_of", "says"),
    [
        ("99999999999d", "2025-01-01", "--within"),
        ("36501d", "2025-01-01", "at most 100 years"),
        ("101y", "2025-01-01", "at most 100 years"),
        ("5215w", "2025-01-01", "at most 100 years"),
        ("1201m", "2025-01-01", "at most 100 years"),
        ("2y", "9998-06-01", "ends after 9998-12-31"),
        ("-3d", "2025-01-01", "--within"),
        ("3q", "2025-01-01", "--within"),
        ("", "2025-01-01", "--within"),
    ],
)
def test_due_within_out_of_range_is_a_usage_error(
    run_main: Main, within: str, as_of: str, says: str
) -> None:
    code, out, err = run_main(
        "due", "examples/export", "--pack", "baoshan-2024", "--as-of", as_of, f"--within={within}"
    )
    assert (code, out) == (2, ""), err
    assert says in err
    assert "Traceback" not in err


def test_due_within_a_calendar_month_through_the_command(run_main: Main) -> None:
    """The window's last day is in it: from 07-21, 1m ends on 08-21 and 29d on 08-19."""
    args = ["due", "examples/export", "--pack", "baoshan-2024", "--format", "json"]
    _, short, _ = run_main(*args, "--as-of", "2025-07-21", "--within", "29d")
    _, month, _ = run_main(*args, "--as-of", "2025-07-21", "--within", "1m")
    assert "2025-08-20" in {i["due"] for i in json.loads(month)}  # July's report, due the 20th
    assert "2025-08-20" not in {i["due"] for i in json.loads(short)}
    _, last, _ = run_main(*args, "--as-of", "2025-07-21", "--within", "30d")  # ends on 08-20
    assert "2025-08-20" in {i["due"] for i in json.loads(last)}
