"""Output safety: record and rule text cannot drive the terminal (control characters are
written out) or run in a spreadsheet (formula cells neutralised, OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from hazard_rules import evaluate, load_packs
from hazard_rules.output.table import escape_controls
from hazard_rules.output.writers import format_result, spreadsheet_safe

HOSTILE = "\x1b]8;;http://evil.example\x07点这里\x1b]8;;\x07\x1b[2J\x1b[H\u202e反向\r覆盖"
E = [{"id": "E1", "name": HOSTILE, "sectors": ["commerce"], "high_risk": False}]


@pytest.fixture(scope="module")
def result() -> Any:
    packs = load_packs("baoshan-2024")
    facts = {
        "enterprise": E,
        "task": [{"id": '=HYPERLINK("http://evil")', "enterprise_id": "E1", "content": "+1+1"}],
    }
    return evaluate(packs, facts, date(2024, 7, 1))


@pytest.mark.parametrize("color", [False, True])
def test_the_table_writes_control_characters_out(result: Any, color: bool) -> None:
    from hazard_rules.output.table import format_table

    out = format_table(result, "zh", width=120, color=color)
    assert "\x07" not in out and "\u202e" not in out and "\r" not in out
    assert "\x1b]" not in out and "\x1b[2J" not in out and "\x1b[H" not in out
    assert "\\x1b]8;;http://evil.example\\x07" in out and "\\u202e" in out
    if not color:
        assert "\x1b" not in out


def test_escape_controls_keeps_line_feeds_and_our_colours() -> None:
    assert escape_controls("a\nb\tc") == "a\nb c"
    assert escape_controls("\x1b[31m甲\x1b[0m", keep_sgr=True) == "\x1b[31m甲\x1b[0m"
    assert escape_controls("\x1b[31m甲", keep_sgr=False) == "\\x1b[31m甲"


@pytest.mark.parametrize(
    ("cell", "safe"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("甲=1", "甲=1"), ("", "")],
)  # fmt: skip
def test_spreadsheet_safe(cell: str, safe: str) -> None:
    assert spreadsheet_safe(cell) == safe


def test_csv_output_neutralises_formula_cells(result: Any) -> None:
    text = format_result(result, "csv").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for row in rows[1:] for c in row]
    assert cells, "the hostile task is a finding"
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert any(c.startswith("'=HYPERLINK") for c in cells)
