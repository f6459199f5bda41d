"""The assessment as an Excel workbook to hand on: 汇总 (scorecards), 义务 (obligations per
rule), 晾晒 (ranking), 违规明细 (findings), 判定 (classifications, candidates, unmapped),
拒收 (rejected records), 日历 (the calendar, coloured), 说明 (what the report is).

Every sheet has a frozen header row, an autofilter and column widths fitted to its content,
and prints on A4 landscape, one page wide. Text that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``, a tab or a carriage return first: the OWASP advice on CSV
injection) is stored as text with Excel's quote prefix — the typed leading apostrophe — so
that it shows as written and never runs, not even after the cell is edited. Written with
openpyxl (the ``excel`` extra), imported only here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO

from hazard_rules.errors import HazardRulesError
from hazard_rules.output.lang import translate
from hazard_rules.output.report_view import (
    CALENDAR_STATUSES,
    EVERY_ZH,
    FINDING_COLUMNS,
    Naming,
    calendar_grid,
    finding_row,
    severity_zh,
    status_zh,
    veto_text,
)
from hazard_rules.packs import PackSet
from hazard_rules.results import STATUSES, Result

__all__ = ["FORMULA_STARTS", "MISSING", "SHEETS", "neutralise", "require_openpyxl", "write_xlsx"]

MISSING = (
    "writing an Excel report needs openpyxl: pip install 'hazard-rules[excel]' "
    "(or write .html or .json)"
)
SHEETS = ("汇总", "义务", "晾晒", "违规明细", "判定", "拒收", "日历", "说明")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CALENDAR_FILLS = {
    "met": "5FB36B",
    "late": "F2B33D",
    "missing": "D6453D",
    "waived": "7C8FD6",
    "pending": "E4E7EB",
}
_HEADER_FILL = "DDE4EA"
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0
_SEVERITIES = ("critical", "high", "medium", "low")


def require_openpyxl() -> Any:
    """The ``openpyxl`` module, or :class:`HazardRulesError` naming the extra to install."""
    try:
        import openpyxl
    except ImportError as exc:
        raise HazardRulesError(MISSING) from exc
    return openpyxl


def neutralise(value: str) -> tuple[str, bool]:
    """``(text, quoted)``: the text with characters XML cannot hold replaced by U+FFFD, and
    whether it must be stored with the quote prefix because a spreadsheet would run it."""
    text = _ILLEGAL.sub("\ufffd", value)
    return text, text.startswith(FORMULA_STARTS)


class _Sheet:
    """One worksheet being filled: a header row, then rows; widths measured as it goes."""

    def __init__(self, book: Any, title: str, header: Sequence[str]) -> None:
        from openpyxl.styles import Alignment, Font, PatternFill

        self.ws = book.create_sheet(title)
        self.widths = [0] * len(header)
        self.row = 0
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.append(header)
        self.widths = [w + 3 for w in self.widths]  # room for the filter's button
        for cell in self.ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        self.columns = len(header)

    def put(self, row: int, col: int, value: object) -> Any:
        cell = self.ws.cell(row=row, column=col)
        if isinstance(value, str):
            text, quoted = neutralise(value)
            cell.value = text
            if quoted:
                cell.data_type = "s"  # openpyxl took it for a formula
                cell.quotePrefix = True
            width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in max(text.split("\n"), key=len))
        else:
            cell.value = value
            width = len(str(value)) if value is not None else 0
        if col <= len(self.widths):
            self.widths[col - 1] = max(self.widths[col - 1], width)
        return cell

    def append(self, values: Iterable[object]) -> int:
        self.row += 1
        for col, value in enumerate(values, 1):
            self.put(self.row, col, value)
        return self.row

    def finish(self, freeze: str = "A2", wrap_over: int = 50) -> None:
        from openpyxl.utils import get_column_letter

        ws = self.ws
        last = get_column_letter(self.columns)
        ws.freeze_panes = freeze
        ws.auto_filter.ref = f"A1:{last}{max(self.row, 1)}"
        for i, width in enumerate(self.widths, 1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = min(max(width + 2, 6), wrap_over + 2)
            if width > wrap_over:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.alignment = self.wrap
        ws.print_title_rows = "1:1"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True


def _summary(book: Any, result: Result, naming: Naming) -> None:
    a = result.assessment
    statuses = list(STATUSES)
    sheet = _Sheet(
        book,
        "汇总",
        [
            "企业编号",
            "企业名称",
            "考核期",
            "得分",
            "上期得分",
            "按时完成",
            "应查",
            "按时率",
            "一票否优",
            "否优事由",
            "定级错误",
            "存疑",
            "豁免",
            "重大隐患发现",
            "按期整改",
            "逾期整改",
            "逾期未整改",
            "尚未整改",
            "违规合计",
            *(f"违规·{status_zh(s)}" for s in statuses),
        ],
    )
    if a is None:
        sheet.finish()
        return
    prev = {c.subject.id: c for c in a.previous_scorecards}
    for c in a.scorecards:
        p = prev.get(c.subject.id)
        reasons = "\n".join(veto_text(r, naming) for r in c.veto_reasons)
        m = c.major_hazards
        by_status = [sum(c.findings.get(s, {}).values()) for s in statuses]
        sheet.append(
            [
                c.subject.id,
                c.name or naming.enterprise_name(c.subject.id),
                c.period,
                c.score,
                p.score if p is not None else None,
                c.met,
                c.judged,
                c.on_time_rate,
                "是" if c.vetoed else "否",
                reasons,
                c.misclassified,
                c.doubtful,
                c.waived,
                m.found,
                m.rectified_on_time,
                m.rectified_late,
                m.overdue,
                m.open,
                sum(by_status),
                *by_status,
            ]
        )
        sheet.ws.cell(row=sheet.row, column=8).number_format = "0.0%"
    sheet.finish(freeze="C2", wrap_over=60)


def _obligations(book: Any, result: Result, naming: Naming) -> None:
    header = ["企业编号", "企业名称", "考核期", "规则", "事项", "严重程度"]
    header += ["应查", "按时完成", "逾期完成", "缺失", "豁免", "未到期"]
    sheet = _Sheet(book, "义务", header)
    cards = result.assessment.scorecards if result.assessment else []
    for c in cards:
        for o in c.obligations:
            sheet.append(
                [
                    c.subject.id,
                    c.name or naming.enterprise_name(c.subject.id),
                    c.period,
                    o.rule,
                    o.title,
                    severity_zh(o.severity),
                    o.judged,
                    o.met,
                    o.late,
                    o.missing,
                    o.waived,
                    o.pending,
                ]
            )
    sheet.finish(freeze="C2")


def _ranking(book: Any, result: Result, naming: Naming) -> None:
    header = ["名次", "企业编号", "企业名称", "得分", "上期得分", "变化", "上期名次", "名次变化"]
    sheet = _Sheet(book, "晾晒", header)
    for e in result.assessment.ranking if result.assessment else []:
        sheet.append(
            [
                e.rank if e.rank is not None else "一票否优",
                e.subject.id,
                e.name or naming.enterprise_name(e.subject.id),
                e.score,
                e.previous_score,
                e.score_change,
                e.previous_rank,
                e.rank_change,
            ]
        )
    sheet.finish()


def _findings(book: Any, result: Result, naming: Naming) -> None:
    sheet = _Sheet(book, "违规明细", [zh for _, zh, _ in FINDING_COLUMNS])
    for v in result.violations:
        row = finding_row(v, naming)
        sheet.append([row[key] for key, _, _ in FINDING_COLUMNS])
    sheet.finish(freeze="C2", wrap_over=48)


def _labels(book: Any, result: Result, naming: Naming) -> None:
    header = ["类别", "企业编号", "企业名称", "记录", "判定", "规则", "事项", "条款", "命中提示"]
    sheet = _Sheet(book, "判定", header)
    for c in result.classifications:
        enterprise = naming.enterprise(c.subject)
        label = c.label_name or c.label
        sheet.append(
            [
                "判定",
                enterprise,
                naming.enterprise_name(enterprise),
                str(c.record),
                label,
                c.rule,
                naming.title(c.rule),
                c.cite,
                "",
            ]
        )
    for d in result.candidates:
        enterprise = naming.enterprise(d.subject)
        sheet.append(
            [
                "待复核",
                enterprise,
                naming.enterprise_name(enterprise),
                str(d.record),
                "疑似重大事故隐患",
                d.rule,
                naming.title(d.rule),
                d.cite,
                "\n".join(d.hints),
            ]
        )
    for ref in result.unmapped or []:
        enterprise = naming.enterprise(ref)
        sheet.append(["未匹配", enterprise, naming.enterprise_name(enterprise), str(ref)])
    sheet.finish(wrap_over=50)


def _rejected(book: Any, result: Result) -> None:
    sheet = _Sheet(book, "拒收", ["类型", "编号", "来源", "字段", "原因", "原因（原文）"])
    for r in result.rejected:
        sheet.append(
            [r.type, r.id or "", r.source, r.field or "", translate(r.reason, "zh"), r.reason]
        )
    sheet.finish(wrap_over=60)


def _calendar(book: Any, result: Result, naming: Naming) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    grids = calendar_grid(result, naming)
    columns = next(iter(grids.values())).columns if grids else ()
    fixed = ["企业编号", "企业名称", "主体", "规则", "事项", "周期"]
    sheet = _Sheet(book, "日历", [*fixed, *(c.period.label for c in columns)])
    fills = {k: PatternFill("solid", fgColor=v) for k, v in CALENDAR_FILLS.items()}
    white = Font(color="FFFFFF", bold=True)
    centre = Alignment(horizontal="center", vertical="center")
    for owner, grid in grids.items():
        for gr in grid.rows:
            r = gr.row
            row = sheet.append(
                [
                    owner,
                    naming.enterprise_name(owner),
                    naming.subject(r.subject),
                    r.rule,
                    r.title,
                    EVERY_ZH.get(r.every, r.every),
                ]
            )
            col = len(fixed) + 1
            for cell in gr.cells:
                if cell.status is not None:
                    name = CALENDAR_STATUSES.get(cell.status, (cell.status,))[0]
                    xl = sheet.put(row, col, name)
                    xl.alignment = centre
                    if cell.status in fills:
                        xl.fill = fills[cell.status]
                    if cell.status in ("met", "missing", "waived"):
                        xl.font = white
                    if cell.span > 1:
                        sheet.ws.merge_cells(
                            start_row=row,
                            start_column=col,
                            end_row=row,
                            end_column=col + cell.span - 1,
                        )
                col += cell.span
    table_end = sheet.row
    sheet.finish(freeze=f"{get_column_letter(len(fixed) + 1)}2", wrap_over=40)
    sheet.ws.auto_filter.ref = f"A1:F{max(table_end, 1)}"
    for i in range(len(fixed) + 1, len(fixed) + len(columns) + 1):
        sheet.ws.column_dimensions[get_column_letter(i)].width = 9
    # the legend, below the table after an empty row
    legend = table_end + 2
    sheet.put(legend, 1, "图例").font = Font(bold=True)
    for i, (key, (zh, en, _)) in enumerate(CALENDAR_STATUSES.items()):
        cell = sheet.put(legend + 1 + i, 1, zh)
        cell.fill = fills[key]
        cell.alignment = centre
        if key in ("met", "missing", "waived"):
            cell.font = white
        sheet.put(legend + 1 + i, 2, en)
    sheet.put(legend + 1 + len(CALENDAR_STATUSES), 1, "（空白）")
    sheet.put(legend + 1 + len(CALENDAR_STATUSES), 2, "无此义务 no obligation")


def _about(book: Any, result: Result) -> None:
    from hazard_rules import __version__

    a = result.assessment
    c = result.counts
    sheet = _Sheet(book, "说明", ["项目", "内容"])
    rows: list[tuple[str, object]] = [
        ("报告", "安全生产督查考核报告 Safety assessment report"),
        ("考核期", a.period if a else ""),
        ("对比上期", (a.previous or "") if a else ""),
        ("评估日期", result.as_of.isoformat()),
        ("规则包", "、".join(result.packs)),
        ("读取记录", c.read),
        ("评估", c.evaluated),
        ("拒收", c.rejected),
        ("违规", c.violations),
        *((f"违规·{status_zh(s)}", n) for s, n in c.by_status.items()),
        *(
            (f"严重程度·{severity_zh(s)}", c.by_severity[s])
            for s in _SEVERITIES
            if s in c.by_severity
        ),
        ("其中豁免", c.waived),
        ("其中存疑", c.doubtful),
        ("判定", c.classifications),
        ("待复核", c.candidates),
        (
            "得分",
            "按严重程度加权的义务按时完成率 × 100（权重：特别严重 4、严重 3、一般 2、轻微 1）；"
            "有一票否优情形的企业不参加排名。",
        ),
        ("生成", f"hazard-rules {__version__}"),
        *(("说明", translate(n, "zh", "note")) for n in result.notes),
    ]
    for key, value in rows:
        sheet.append([key, value])
    sheet.finish(wrap_over=90)


def write_xlsx(result: Result, stream: BinaryIO, packs: PackSet | None = None) -> None:
    """Write the workbook of ``result`` (with its ``assessment``) to ``stream``; ``packs``
    (those evaluated) give the title of every rule named, a candidate's criterion too."""
    openpyxl = require_openpyxl()
    book = openpyxl.Workbook()
    book.remove(book.active)
    book.properties.creator = "hazard-rules"
    book.properties.title = "安全生产督查考核报告"
    naming = Naming(result, packs)
    _summary(book, result, naming)
    _obligations(book, result, naming)
    _ranking(book, result, naming)
    _findings(book, result, naming)
    _labels(book, result, naming)
    _rejected(book, result)
    _calendar(book, result, naming)
    _about(book, result)
    book.save(stream)
