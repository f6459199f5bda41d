"""The words of the terminal output in Chinese and English: headers, statuses, severities,
section titles, and the reasons and notes that reading produces.

Reasons and notes arrive as English sentences from the readers; the common ones are
recognised here by their shape and given in Chinese. One not recognised is shown as it came
(English), never dropped. JSON, JSONL and CSV keep the original text: they are for programs.
"""

from __future__ import annotations

import re

__all__ = ["LANGS", "SEVERITY_ZH", "STATUS_ZH", "severity_name", "status_name", "text", "translate"]

LANGS = ("zh", "en")

STATUS_ZH = {
    "failed": "不符合",
    "overdue": "逾期未完成",
    "late": "逾期完成",
    "missing": "缺失",
    "misclassified": "定级错误",
    "exceeded": "超出",
    "waived": "已豁免",
}
SEVERITY_ZH = {"critical": "特别严重", "high": "严重", "medium": "一般", "low": "轻微"}

_TEXT: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "subject": ("主体", "subject"),
    "rule": ("规则", "rule"),
    "status": ("状态", "status"),
    "severity": ("严重程度", "severity"),
    "period": ("期间", "period"),
    "due": ("截止", "due"),
    "record": ("记录", "record"),
    "message": ("说明", "message"),
    "source": ("来源", "source"),
    "type": ("类型", "type"),
    "id": ("编号", "id"),
    "field": ("字段", "field"),
    "reason": ("原因", "reason"),
    "label": ("标签", "label"),
    "cite": ("条款", "cite"),
    "hints": ("命中提示", "hints"),
    "title": ("事项", "title"),
    "name": ("名称", "name"),
    "left": ("剩余", "left"),
    "have_need": ("已有/需要", "have/need"),
    "period_record": ("期间/记录", "period/record"),
    "count": ("数量", "count"),
    "no_violations": ("未发现违规。", "No violations."),
    "why": (
        "判定依据（✓ 成立、✗ 不成立的条件及所见取值）：",
        "Why each finding (conditions that held ✓ and failed ✗, with the values seen):",
    ),
    "value": ("取值", "value"),
    "classifications": ("判定", "Classifications"),
    "candidates": ("疑似重大隐患（待复核）", "Candidates for review"),
    "unmapped": ("未匹配任何判定标准", "Unmapped"),
    "rejected": ("拒收记录", "Rejected records"),
    "note": ("注意", "note"),
    "doubtful": (
        "⚠ 存疑：被拒收的记录可能是该结论的证据（JSON 输出的 doubtful_because 列出来源）。",
        "⚠ doubtful: rejected records could have been the finding's evidence "
        "(doubtful_because in JSON output lists them).",
    ),
    "doubtful_count": ("；存疑 {n} 项", "; {n} doubtful"),
    "nothing_due": (
        "截至 {as_of}：窗口内没有到期事项。",
        "as of {as_of}: nothing falls due in the window.",
    ),
    "due_summary": (
        "截至 {as_of}：窗口内有 {n} 项义务到期。",
        "as of {as_of}: {n} obligation(s) fall due in the window.",
    ),
    "summary": (
        "截至 {as_of}：读取 {read} 条，评估 {evaluated} 条，拒收 {rejected} 条；"
        "违规 {violations} 项（{statuses}）；判定 {classifications} 项，待复核 {candidates} 项",
        "as of {as_of}: read {read}, evaluated {evaluated}, rejected {rejected}; "
        "{violations} violations ({statuses}); {classifications} classifications, "
        "{candidates} candidates",
    ),
    "none": ("无", "none"),
    "statistics": ("按规则与状态统计", "Findings per rule and status"),
}


def text(key: str, lang: str, **values: object) -> str:
    """The phrase ``key`` in ``lang``, with ``{name}`` values filled in."""
    zh, en = _TEXT[key]
    return (zh if lang == "zh" else en).format(**values)


def status_name(status: str, lang: str) -> str:
    """``missing`` → ``缺失`` in Chinese; the status itself in English."""
    return STATUS_ZH.get(status, status) if lang == "zh" else status


def severity_name(severity: str, lang: str) -> str:
    """``high`` → ``严重`` in Chinese; the severity itself in English."""
    return SEVERITY_ZH.get(severity, severity) if lang == "zh" else severity


# (pattern, Chinese template with {1}, {2} … for the groups)
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^required field is missing or empty$"), "必填字段缺失或为空"),
    (re.compile(r"^(.+) is not a date of the calendar$"), "{1} 不是有效的日历日期"),
    (re.compile(r"^not a date: (.+?); write it as .*$"), "{1} 不是日期；请写作 2024-05-20 等形式"),
    (re.compile(r"^not a datetime: (.+?); write it as .*$"), "{1} 不是日期时间"),
    (re.compile(r"^not an integer: (.+)$"), "{1} 不是整数"),
    (re.compile(r"^not a number: (.+)$"), "{1} 不是数字"),
    (re.compile(r"^not a finite number: (.+)$"), "{1} 不是有限数值"),
    (
        re.compile(r"^not a boolean: (.+?) \(use .*\)$"),
        "{1} 不是是/否值（可用 是/否、有/无、√/×、Y/N）",
    ),
    (re.compile(r"^not a list: (.+)$"), "{1} 不是列表"),
    (re.compile(r"^expected an integer, got a boolean$"), "应为整数，却是是/否值"),
    (re.compile(r"^expected a number, got a boolean$"), "应为数字，却是是/否值"),
    (
        re.compile(r"^(.+?) is not one of (.+?)(?: \(did you mean (.+)\?\))?$"),
        "{1} 不是可选取值（{2}）之一[3|；是否应为 {3}？]",
    ),
    (
        re.compile(r"^refers to (\S+) (.+), which is not among the accepted records$"),
        "引用的{1} {2} 不在已接收的记录中",
    ),
    (re.compile(r"^duplicate id (.+): first seen at (.+)$"), "编号 {1} 重复：首次出现于 {2}"),
]

_NOTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(.+): ignored \(a hidden or lock file\)$"), "{1}：已忽略（隐藏文件或锁文件）"),
    (
        re.compile(r"^(.+): a subfolder; ignored \(files in subfolders are not read\)$"),
        "{1}：子文件夹，已忽略（不读取子文件夹中的文件）",
    ),
    (
        re.compile(r"^(.+): ignored \(not \.csv, \.tsv, \.jsonl or \.xlsx\)$"),
        "{1}：已忽略（不是 .csv、.tsv、.jsonl 或 .xlsx 文件）",
    ),
    (re.compile(r"^(.+): read as (\S+) \(not UTF-8\)$"), "{1}：按 {2} 编码读取（不是 UTF-8）"),
    (
        re.compile(
            r"^(.+): (\S+) has no field (.+?)(?: \(did you mean (.+)\?\))?; the column was ignored$"
        ),
        "{1}：{2} 没有字段 {3}[4|（是否应为 {4}？）]，该列已忽略",
    ),
    (re.compile(r"^(.+): sheet skipped: (.+)$"), "{1}：已跳过该工作表：{2}"),
]

_OPTIONAL = re.compile(r"\[(\d)\|([^\]]*)\]")  # [3|text with {3}]: only when group 3 matched
_SLOT = re.compile(r"\{(\d)\}")


def _fill(template: str, m: re.Match[str]) -> str:
    def optional(o: re.Match[str]) -> str:
        return (
            _SLOT.sub(lambda s: m.group(int(s.group(1))) or "", o.group(2))
            if m.group(int(o.group(1)))
            else ""
        )

    done = _OPTIONAL.sub(optional, template)
    return _SLOT.sub(lambda s: m.group(int(s.group(1))) or "", done)


def translate(sentence: str, lang: str, kind: str = "reason") -> str:
    """A rejection reason (``kind="reason"``) or a reading note (``"note"``) in ``lang``;
    unchanged in English, or when its shape is not known."""
    if lang != "zh":
        return sentence
    for pattern, template in _REASONS if kind == "reason" else _NOTES:
        m = pattern.match(sentence)
        if m:
            return _fill(template, m)
    return sentence
