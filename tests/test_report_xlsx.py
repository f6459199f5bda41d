"""The Excel report (issue 13 item 6): ``hazard-rules report EXPORT -o report.xlsx``, read back
with openpyxl, holds the Result — scorecards, ranking, findings, classifications and
candidates, rejected records, the calendar with its colours — with frozen headers,
autofilters and column widths; text a spreadsheet would run as a formula is stored as text."""

from __future__ import annotations

import builtins
import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import EXPORT, REPO
from hazard_rules import Result, evaluate, load_packs
from hazard_rules.api import assess
from hazard_rules.cli import main
from hazard_rules.output.lang import SEVERITY_ZH, STATUS_ZH
from hazard_rules.packs import bundled_packs
from hazard_rules.periods import parse_period
from hazard_rules.results import Rejected

openpyxl = pytest.importorskip("openpyxl")

from hazard_rules.output.report_xlsx import CALENDAR_FILLS, SHEETS, write_xlsx  # noqa: E402

AS_OF = date(2026, 1, 15)
WAIVERS = REPO / "examples" / "waivers.yaml"
ARGS = [str(EXPORT), "--as-of", AS_OF.isoformat(), "--waivers", str(WAIVERS)]


@pytest.fixture(scope="module")
def expected() -> Result:
    packs = load_packs(*bundled_packs())
    result = assess(packs, EXPORT, AS_OF, waivers=WAIVERS)
    unmapped = evaluate(packs, EXPORT, AS_OF, show_unmapped=True).unmapped
    return result.model_copy(update={"unmapped": unmapped})


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Any:
    target = tmp_path_factory.mktemp("xlsx") / "report.xlsx"
    assert main(["report", *ARGS, "-o", str(target)]) == 0
    return openpyxl.load_workbook(target)


def _rows(ws: Any) -> list[list[Any]]:
    """The table of a sheet below its header, up to the first empty row; "" for empty cells."""
    out = []
    for row in ws.iter_rows(min_row=2, max_col=ws.max_column, values_only=True):
        if all(v is None for v in row):
            break
        out.append(["" if v is None else v for v in row])
    return out


def _header(ws: Any) -> list[Any]:
    return [c.value for c in ws[1]]


def _enterprise(result: Result, subject: Any) -> str:
    a = result.assessment
    assert a is not None
    return str(subject.id if subject.type == "enterprise" else a.owners.get(str(subject), ""))


def test_the_sheets_have_frozen_headers_filters_and_widths(book: Any) -> None:
    assert book.sheetnames == list(SHEETS)
    for ws in book:
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert all(c.font.bold for c in ws[1]), ws.title
        for cell in ws[1]:  # wide enough for the header and its filter button
            shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(cell.value))
            width = ws.column_dimensions[cell.column_letter].width
            assert width >= shown + 2, (ws.title, cell.value, width)


def test_summary_is_the_scorecards(book: Any, expected: Result) -> None:
    a = expected.assessment
    assert a is not None
    ws = book["汇总"]
    header = _header(ws)
    col = {name: i for i, name in enumerate(header)}
    rows = _rows(ws)
    previous = {c.subject.id: c for c in a.previous_scorecards}
    assert [r[0] for r in rows] == [c.subject.id for c in a.scorecards]
    for row, card in zip(rows, a.scorecards, strict=True):
        prev = previous.get(card.subject.id)
        assert row[col["企业名称"]] == card.name
        assert row[col["考核期"]] == card.period
        assert row[col["得分"]] == (card.score if card.score is not None else "")
        assert row[col["上期得分"]] == (prev.score if prev and prev.score is not None else "")
        assert row[col["按时完成"]] == card.met and row[col["应查"]] == card.judged
        assert row[col["按时率"]] == pytest.approx(card.on_time_rate)
        assert row[col["一票否优"]] == ("是" if card.vetoed else "否")
        reasons = str(row[col["否优事由"]])
        assert len(reasons.splitlines()) == len(card.veto_reasons)
        for line, r in zip(reasons.splitlines(), card.veto_reasons, strict=True):
            assert line.startswith(r.veto) and r.rule in line
            assert ("存疑" in line) == r.doubtful
        assert row[col["定级错误"]] == card.misclassified
        assert row[col["存疑"]] == card.doubtful and row[col["豁免"]] == card.waived
        assert row[col["重大隐患发现"]] == card.major_hazards.found
        assert row[col["逾期未整改"]] == card.major_hazards.overdue
        assert row[col["违规合计"]] == sum(sum(s.values()) for s in card.findings.values())
        for status, by_severity in card.findings.items():
            assert row[col[f"违规·{STATUS_ZH[status]}"]] == sum(by_severity.values())
    # the obligations behind the numbers, one row per enterprise and rule
    obligations = _rows(book["义务"])
    assert len(obligations) == sum(len(c.obligations) for c in a.scorecards)


def test_ranking_is_the_results(book: Any, expected: Result) -> None:
    a = expected.assessment
    assert a is not None
    rows = _rows(book["晾晒"])
    assert _header(book["晾晒"])[:4] == ["名次", "企业编号", "企业名称", "得分"]
    want = [
        [
            e.rank if e.rank is not None else "一票否优",
            e.subject.id,
            e.name,
            e.score,
            e.previous_score,
            e.score_change,
            e.previous_rank,
            e.rank_change,
        ]
        for e in a.ranking
    ]
    assert rows == [["" if v is None else v for v in r] for r in want]


def test_findings_are_the_results(book: Any, expected: Result) -> None:
    a = expected.assessment
    assert a is not None
    ws = book["违规明细"]
    header = _header(ws)
    assert header[:2] == ["企业编号", "企业名称"] and "条款" in header and "事项" in header
    col = {name: i for i, name in enumerate(header)}
    rows = _rows(ws)
    assert len(rows) == len(expected.violations)
    for row, v in zip(rows, expected.violations, strict=True):
        enterprise = _enterprise(expected, v.subject)
        assert row[col["企业编号"]] == enterprise
        assert row[col["企业名称"]] == a.names[f"enterprise:{enterprise}"]
        assert row[col["规则"]] == v.rule and row[col["事项"]] == v.title
        assert row[col["条款"]] == v.cite
        assert row[col["状态"]] == STATUS_ZH[v.status]
        assert row[col["严重程度"]] == SEVERITY_ZH[v.severity]
        assert row[col["期间"]] == (v.period or "")
        assert row[col["截止日期"]] == (v.due.isoformat() if v.due else "")
        assert row[col["记录"]] == (str(v.record) if v.record else "")
        assert row[col["说明"]] == v.message
        assert row[col["存疑"]] == ("存疑" if v.doubtful else "")
        if v.waiver is None:
            assert row[col["豁免"]] == ""
        else:
            assert str(row[col["豁免"]]).startswith(v.waiver.id)
            assert v.waiver.approved_by in row[col["豁免"]]
        if v.subject.type != "enterprise":
            assert str(v.subject.id) in row[col["主体"]]
    statuses = [r[col["状态"]] for r in rows]
    for status, n in expected.counts.by_status.items():
        assert statuses.count(STATUS_ZH[status]) == n


def test_labels_and_rejected_are_the_results(book: Any, expected: Result) -> None:
    rows = _rows(book["判定"])
    assert expected.unmapped is not None
    kinds = [r[0] for r in rows]
    assert kinds == (
        ["判定"] * len(expected.classifications)
        + ["待复核"] * len(expected.candidates)
        + ["未匹配"] * len(expected.unmapped)
    )
    records = [r[3] for r in rows]
    assert records == [
        *(str(c.record) for c in expected.classifications),
        *(str(c.record) for c in expected.candidates),
        *(str(r) for r in expected.unmapped),
    ]
    for row, c in zip(rows[len(expected.classifications) :], expected.candidates, strict=False):
        assert row[5] == c.rule and row[7] == c.cite and row[6]  # the criterion's title
        assert row[8].split("\n") == c.hints
    rejected = _rows(book["拒收"])
    assert [[r[0], r[1], r[2], r[3], r[5]] for r in rejected] == [
        [r.type, r.id or "", r.source, r.field or "", r.reason] for r in expected.rejected
    ]
    assert len(rejected) == expected.counts.rejected


def test_the_calendar_is_the_results_and_coloured(book: Any, expected: Result) -> None:
    a = expected.assessment
    assert a is not None and a.previous is not None
    ws = book["日历"]
    header = _header(ws)
    first, last = parse_period(a.previous).start, parse_period(a.period).end
    months = header[6:]
    assert months[0] == f"{first.year}-01" and months[-1] == f"{last.year}-12"
    names = {"met": "按时完成", "late": "逾期完成", "missing": "缺失", "waived": "已豁免"}
    names["pending"] = "未到期"
    table = _rows(ws)
    checked = 0
    for row in a.calendar:
        want = {
            label: status
            for label, status in row.cells.items()
            if parse_period(label).start <= last and parse_period(label).end >= first
        }
        if not want:
            continue
        # a site's row names the site, under its enterprise
        who = "" if row.subject.type == "enterprise" else f"{row.subject.type} {row.subject.id}"
        (r,) = [
            i + 2
            for i, t in enumerate(table)
            if (t[0], t[3]) == (row.owner, row.rule)
            and (t[2].startswith(who + " ") if who else t[2] == "")
        ]
        for label, status in want.items():
            start = parse_period(label).start
            column = 7 + max(0, months.index(f"{max(start, first):%Y-%m}"))
            cell = ws.cell(row=r, column=column)
            assert cell.value == names[status], (row.rule, label)
            assert cell.fill.fgColor.rgb.endswith(CALENDAR_FILLS[status]), (row.rule, label)
            checked += 1
    assert checked > 50
    # quarters and years span their months
    assert any(len(range(m.min_col, m.max_col + 1)) == 12 for m in ws.merged_cells.ranges)
    assert any(len(range(m.min_col, m.max_col + 1)) == 3 for m in ws.merged_cells.ranges)
    # the legend below the table
    legend = [ws.cell(row=i, column=1).value for i in range(len(table) + 3, len(table) + 9)]
    assert legend[0] == "图例" and set(names.values()) <= set(legend)


# -- formula injection ------------------------------------------------------------------------

DANGEROUS = [
    '=HYPERLINK("http://example.invalid","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
    "\t=1",
]


def test_text_a_spreadsheet_would_run_is_stored_as_text(expected: Result) -> None:
    v = expected.violations[0]
    violations = [v.model_copy(update={"message": text, "cite": text}) for text in DANGEROUS]
    rejected = [
        Rejected(type="hazard", id=text, source=f"{text}.csv:2", field="x", reason=text)
        for text in DANGEROUS
    ]
    result = expected.model_copy(update={"violations": violations, "rejected": rejected})
    buf = io.BytesIO()
    write_xlsx(result, buf)
    raw = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    ws = wb["违规明细"]
    col = {c.value: c.column for c in ws[1]}
    for i, text in enumerate(DANGEROUS, start=2):
        for name in ("说明", "条款"):
            cell = ws.cell(row=i, column=col[name])
            assert cell.value == text and cell.data_type == "s", (name, text)
            assert cell.quotePrefix, (name, text)  # Excel's typed leading apostrophe
    ws = wb["拒收"]
    for i, text in enumerate(DANGEROUS, start=2):
        cells = [ws.cell(row=i, column=c) for c in (2, 3, 6)]
        assert [c.value for c in cells] == [text, f"{text}.csv:2", text]
        assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    # ordinary text has no prefix, numbers stay numbers
    assert not wb["汇总"].cell(row=2, column=1).quotePrefix
    assert isinstance(wb["汇总"].cell(row=2, column=4).value, float)


def test_without_openpyxl_the_command_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real = builtins.__import__

    def no_openpyxl(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "openpyxl" or name.startswith("openpyxl."):
            raise ImportError("No module named 'openpyxl'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openpyxl)
    assert main(["report", *ARGS, "-o", str(tmp_path / "report.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'hazard-rules[excel]'" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())
