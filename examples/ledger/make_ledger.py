"""Write examples/ledger/2025年安全生产台账.xlsx: the records of examples/export/ laid out the
way enterprises keep their ledgers, so that reading them can be shown and tested.

What a ledger has that a clean export does not (each is read as the clean export reads):

* a cover sheet 填表说明 before the data sheets, one sheet per record type, named by its
  Chinese label (企业, 隐患台账, 检查记录 …);
* a title row merged across the table above the header, and a 序号 counter column;
* Chinese column headers — the schema's labels, except on 隐患台账, whose headers are the
  ledger's own (隐患编号, 所属单位编码 …) and need the column map ``map.yaml``;
* Chinese values (重大, 一般隐患, 自查, 主要负责人 …), booleans as 是/否;
* dates in every form people write: 2024-05-20, 2024/5/20, 2024.5.20, 2024年5月20日,
  Excel date cells, serial numbers and date-times;
* an enterprise id merged over the consecutive rows of one enterprise, and a 合计 row.

Run: ``python examples/ledger/make_ledger.py [OUT.xlsx]`` (needs openpyxl).
"""

from __future__ import annotations

import csv
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent
EXPORT = HERE.parent / "export"
OUT = HERE / "2025年安全生产台账.xlsx"

# 隐患台账 uses the ledger's own headers (map.yaml maps them to fields)
HAZARD_HEADERS = {
    "id": "隐患编号",
    "企业编号": "所属单位编码",
    "场所编号": "场所编码",
    "发现日期": "排查日期",
    "发现方式": "隐患来源",
    "隐患等级": "隐患级别",
    "隐患描述": "隐患内容",
    "整改期限": "整改时限",
    "整改完成日期": "整改完成时间",
    "验收日期": "验收时间",
    "隐患类别": "隐患类别",
}
# value → how the ledger writes it (per field); the rest stay as they are
WRITTEN = {
    "level": {"major": "重大", "general": "一般隐患"},
    "found_by": {
        "self_inspection": "自查",
        "leader_inspection": "领导带队检查",
        "authority": "监管部门检查",
        "third_party": "第三方",
        "other": "其他",
    },
    "led_by": {
        "principal": "主要负责人",
        "deputy": "分管负责人",
        "safety_manager": "安全员",
        "staff": "员工",
        "external": "外部专家",
    },
    "kind": {"evacuation": "疏散逃生演练", "fire": "消防演练", "rescue": "应急救援演练"},
    "role": {"principal": "主要负责人", "safety_manager": "安全管理人员", "special_ops": "特种作业人员"},
    "domain": {"fire": "消防", "industry_trade": "工贸", "gas": "燃气", "special_equipment": "特种设备"},
    "bool": {"true": "是", "false": "否"},
}
SHEETS = {  # file stem → sheet name
    "enterprise": "企业",
    "site": "场所",
    "hazard": "隐患台账",
    "inspection": "检查记录",
    "drill": "演练记录",
    "training": "培训记录",
    "document": "文件清单",
    "report": "报告",
    "task": "任务清单",
    "equipment": "设备",
    "rescue_team": "救援队伍",
    "hazard_statistics": "隐患排查治理统计分析表",
    "governance_plan": "重大事故隐患治理方案",
    "major_hazard_report": "重大事故隐患报告",
    "safety_fee": "安全生产费用",
    "safety_fee_advance": "安全生产费用预付",
}
DATE_FIELDS = {
    "discovered_on",
    "rectify_by",
    "rectified_on",
    "verified_on",
    "held_on",
    "completed_on",
    "submitted_on",
    "due_on",
    "established_on",
    "drawn_up_on",
    "accrued_on",
    "commenced_on",
    "paid_on",
    "active_from",
    "active_until",
    "发现日期",
    "整改期限",
    "整改完成日期",
    "验收日期",
}
BOOL_FIELDS = {"high_risk", "in_service", "exam_passed", "signed_by_principal"}


def written_date(text: str, n: int) -> Any:
    """The n-th date of a sheet in one of the forms people write (cycled)."""
    try:
        d = date.fromisoformat(text)
    except ValueError:
        return text  # a bad date stays bad: it must be rejected in the ledger too
    form = n % 7
    if form == 0:
        return d.isoformat()
    if form == 1:
        return f"{d.year}/{d.month}/{d.day}"
    if form == 2:
        return f"{d.year}.{d.month}.{d.day}"
    if form == 3:
        return f"{d.year}年{d.month}月{d.day}日"
    if form == 4:
        return d  # an Excel date cell
    if form == 5:
        return (d - date(1899, 12, 30)).days  # a serial number in a General cell
    return datetime(d.year, d.month, d.day, 9, 30).strftime("%Y-%m-%d %H:%M")


def labels_of(stem: str) -> dict[str, str]:
    """Field → Chinese label of a core record type (the headers of most sheets)."""
    from hazard_rules import load_packs

    tdef = load_packs("core").schema.types[stem]
    return {f.name: f.label for f in tdef.fields.values() if f.label}


def cell_value(field: str, text: str, n: int) -> Any:
    if text == "":
        return None
    if field in DATE_FIELDS:
        return written_date(text, n)
    if field in BOOL_FIELDS:
        return WRITTEN["bool"].get(text, text)
    key = {"隐患等级": "level", "发现方式": "found_by", "隐患类别": "domain"}.get(field, field)
    return WRITTEN.get(key, {}).get(text, text)


def add_sheet(book: Any, stem: str, rows: list[list[str]]) -> None:
    header, data = rows[0], rows[1:]
    sheet = book.create_sheet(SHEETS[stem])
    if stem == "hazard":
        titles = [HAZARD_HEADERS.get(h, h) for h in header]
    else:
        labels = labels_of(stem)
        titles = [labels.get(h, h) if h != "id" else "编号" for h in header]
    width = len(header) + 1
    sheet.append([f"{SHEETS[stem]}（2024—2025年）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(["序号", *titles])
    first = 3
    for n, row in enumerate(data):
        sheet.append([n + 1, *(cell_value(h, v, n) for h, v in zip(header, row, strict=False))])
    if stem in ("hazard", "inspection"):
        merge_runs(sheet, header.index("企业编号" if stem == "hazard" else "enterprise_id") + 2, first)
    sheet.append(["合计", *([None] * (width - 2)), f"共 {len(data)} 条"])
    for col in "BCDEFGHIJKLMN":
        sheet.column_dimensions[col].width = 16


def merge_runs(sheet: Any, column: int, first: int) -> None:
    """Merge the cells of ``column`` over each run of equal values (as ledgers do for the
    enterprise of consecutive rows)."""
    last = sheet.max_row
    start = first
    for r in range(first + 1, last + 2):
        same = r <= last and sheet.cell(r, column).value == sheet.cell(start, column).value
        if not same:
            if r - 1 > start:
                sheet.merge_cells(start_row=start, start_column=column, end_row=r - 1, end_column=column)
            start = r


def build(out: Path = OUT, export: Path = EXPORT) -> Path:
    """Write the ledger workbook from the CSV files of ``export``; returns its path."""
    book = openpyxl.Workbook()
    cover = book.active
    cover.title = "填表说明"
    for line in (
        ["2025年安全生产台账"],
        ["填表说明：1. 日期按“年/月/日”填写；2. 隐患级别填“重大”或“一般”；3. 每月20日前报送。"],
        ["报送单位：区国资委安全生产工作领导小组办公室"],
    ):
        cover.append(line)
    for stem in SHEETS:
        path = export / f"{stem}.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        add_sheet(book, stem, rows)
    book.save(out)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
