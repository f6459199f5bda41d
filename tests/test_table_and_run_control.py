"""The terminal table (issue 16, item 5) and run control (item 4): widths, wrapping, the
compact layout, colour, language; --select/--ignore, --exit-zero, --fail-on, --statistics,
--quiet."""

from __future__ import annotations

import json
import re

import pytest

from conftest import REPO
from hazard_rules.cli import main
from hazard_rules.output.table import display_width, wrap

ALL = [
    "check",
    "examples/export",
    "--as-of",
    "2026-01-15",
    "--pack",
    "baoshan-2024",
    "--pack",
    "gm-2023",
    "--pack",
    "chem-2017",
    "--show-unmapped",
]
ANSI = re.compile(r"\033\[[0-9;]*m")


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(REPO)
    for name in ("COLUMNS", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)

    def go(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        code = main(list(argv))
        out, err = capsys.readouterr()
        for k in env or {}:
            monkeypatch.delenv(k)
        return code, out, err

    return go


def test_wrap_keeps_chinese_line_breaking_rules() -> None:
    lines = wrap(
        "上海宝山商业发展集团有限公司在2025-Q3期间主要负责人带队检查不足1次（实有0次）", 76
    )
    assert lines == [
        "上海宝山商业发展集团有限公司在2025-Q3期间主要负责人带队检查不足1次（实有0",
        "次）",
    ]
    assert wrap("甲乙丙丁（戊己", 5) == ["甲乙", "丙丁", "（戊", "己"]
    assert wrap("a verylongwordindeed b", 6) == ["a", "verylo", "ngword", "indeed", "b"]


@pytest.mark.parametrize("width", [60, 80, 99, 100, 120, 160, 200])
def test_every_line_fits_the_terminal(run, width: int) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(*ALL, env={"COLUMNS": str(width)})
    assert code == 1
    for line in out.splitlines():
        assert display_width(line) <= width, line
    # compact under 100 columns; the wide table once its message column keeps 40 cells
    if width < 100 or width >= 160:
        assert out.splitlines()[0].startswith("主体") is (width >= 160)


def test_wide_layout_keeps_messages_whole(run) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = run(*ALL, env={"COLUMNS": "200"})
    assert "（实有0次）" in out  # wrapped or not, never cut with an ellipsis
    assert "…" not in out.split("判定")[0]


def test_no_width_limit_in_a_pipe(run) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = run(*ALL)
    assert max(display_width(ln) for ln in out.splitlines()) > 200


def test_colour_rules(run) -> None:  # type: ignore[no-untyped-def]
    _, plain, _ = run(*ALL, env={"COLUMNS": "200"})
    assert not ANSI.search(plain)  # captured output is not a terminal
    _, forced, _ = run(*ALL, env={"COLUMNS": "200", "FORCE_COLOR": "1"})
    assert "\033[31m缺失\033[0m" in forced
    assert ANSI.sub("", forced) == plain
    _, off, _ = run(*ALL, env={"COLUMNS": "200", "FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert off == plain


def test_language_applies_to_headers_statuses_reasons_notes(run) -> None:  # type: ignore[no-untyped-def]
    _, zh, _ = run(*ALL, env={"COLUMNS": "200"})
    assert zh.splitlines()[0].split()[:3] == ["主体", "规则", "状态"]
    assert "逾期未完成" in zh and "overdue" not in zh
    assert "'2024-13-45' 不是有效的日历日期" in zh
    assert "截至 2026-01-15：读取" in zh
    _, en, _ = run(*ALL, "--lang", "en", env={"COLUMNS": "200"})
    head = en.splitlines()[0]
    assert head.split()[:3] == ["subject", "rule", "status"]
    assert not re.search(r"[\u4e00-\u9fff]", head)
    assert "'2024-13-45' is not a date of the calendar" in en
    assert "Rejected records (3):" in en and "as of 2026-01-15: read" in en


def test_select_and_ignore_take_ids_packs_and_globs(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(*ALL, "--format", "json", "--select", "gm-2023")
    assert {v["rule"] for v in json.loads(out)["violations"]} == {"gm-2023.12-2"}
    code, out, _ = run(
        *ALL,
        "--format",
        "json",
        "--select",
        "baoshan-2024.*",
        "--ignore",
        "baoshan-2024.monthly-report,baoshan-2024.leader-*",
    )
    rules = {v["rule"] for v in json.loads(out)["violations"]}
    assert rules and all(r.startswith("baoshan-2024.") for r in rules)
    assert not rules & {"baoshan-2024.monthly-report", "baoshan-2024.leader-inspection"}
    code, _, err = run(*ALL, "--select", "gm-2032.*")
    assert code == 2
    assert "--select 'gm-2032.*' matches no rule" in err and "did you mean" in err


def test_exit_zero_and_fail_on(run) -> None:  # type: ignore[no-untyped-def]
    assert run(*ALL, "-q")[0] == 1
    assert run(*ALL, "-q", "--exit-zero")[0] == 0
    assert run(*ALL, "-q", "--fail-on", "critical")[0] == 1  # gm-2023.12-2 is critical
    assert run(*ALL, "-q", "--fail-on", "critical", "--ignore", "gm-2023.12-2")[0] == 0
    assert run(*ALL, "-q", "--fail-on", "high", "--select", "baoshan-2024.monthly-report")[0] == 0
    assert run(*ALL, "-q", "--fail-on", "medium", "--select", "baoshan-2024.monthly-report")[0] == 1


def test_statistics_and_quiet(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(*ALL, "--statistics", "--format", "json")
    assert code == 1
    stats = json.loads(out)
    assert sum(s["count"] for s in stats) == 24
    assert stats[0] == {
        "rule": "baoshan-2024.leader-inspection",
        "status": "missing",
        "count": 2,
        "severity": "high",
        "title": stats[0]["title"],
    }
    _, table, _ = run(*ALL, "--statistics", "--lang", "en", env={"COLUMNS": "120"})
    assert table.splitlines()[0].split() == ["count", "rule", "status", "severity", "title"]
    code, quiet, err = run(*ALL, "-q", "--lang", "en")
    assert code == 1 and err == ""
    assert quiet.splitlines() == [quiet.strip()]
    assert re.match(r"as of 2026-01-15: read \d+, evaluated \d+, rejected 3; 24 violations", quiet)
    code, _, err = run(*ALL, "--statistics", "--format", "csv")
    assert code == 2 and "--statistics" in err
