"""What the reports to hand on (HTML, Excel) show, as plain rows computed from a
:class:`~hazard_rules.results.Result` with its assessment: the enterprise and names of each
finding, the rule titles, and the calendar heatmap as a grid of columns and spans.

Both :mod:`~hazard_rules.output.report_html` and :mod:`~hazard_rules.output.report_xlsx`
draw from here, so that the two reports say the same thing; neither adds a number of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hazard_rules.output.lang import SEVERITY_ZH, STATUS_ZH
from hazard_rules.packs import PackSet
from hazard_rules.periods import Period, parse_period
from hazard_rules.results import Assessed, CalendarRow, RecordRef, Result, VetoReason, Violation

__all__ = [
    "CALENDAR_STATUSES",
    "EVERY_ZH",
    "FINDING_COLUMNS",
    "Grid",
    "GridCell",
    "GridColumn",
    "GridRow",
    "Naming",
    "calendar_grid",
    "finding_row",
    "severity_zh",
    "status_zh",
    "veto_text",
]

# status of a calendar cell → (Chinese, English, the mark printed in the cell)
CALENDAR_STATUSES: dict[str, tuple[str, str, str]] = {
    "met": ("按时完成", "met", "✓"),
    "late": ("逾期完成", "late", "迟"),
    "missing": ("缺失", "missing", "✗"),
    "waived": ("已豁免", "waived", "免"),
    "pending": ("未到期", "not yet due", "…"),
}

# the findings table of both reports: (key, Chinese header, English header)
FINDING_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("enterprise", "企业编号", "enterprise"),
    ("enterprise_name", "企业名称", "enterprise name"),
    ("subject", "主体", "subject"),
    ("rule_title", "事项", "rule title"),
    ("rule", "规则", "rule"),
    ("cite", "条款", "cite"),
    ("status", "状态", "status"),
    ("severity", "严重程度", "severity"),
    ("period", "期间", "period"),
    ("due", "截止日期", "due"),
    ("record", "记录", "record"),
    ("message", "说明", "message"),
    ("doubtful", "存疑", "doubtful"),
    ("waiver", "豁免", "waiver"),
)

_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}
EVERY_ZH = {"month": "月", "quarter": "季度", "half_year": "半年", "year": "年"}


def status_zh(status: str) -> str:
    """The Chinese name of a finding's status (``waived``: 已豁免)."""
    return STATUS_ZH.get(status, status)


def severity_zh(severity: str) -> str:
    """The Chinese name of a severity."""
    return SEVERITY_ZH.get(severity, severity)


class Naming:
    """Names and enterprises of the subjects a result speaks of (``assessment.names`` and
    ``assessment.owners``), and the title of each rule it mentions."""

    def __init__(self, result: Result, packs: PackSet | None = None) -> None:
        a = result.assessment
        self.names = dict(a.names) if a is not None else {}
        self.owners = dict(a.owners) if a is not None else {}
        cards = a.scorecards if a is not None else []
        self.subject_type = cards[0].subject.type if cards else "enterprise"
        # the packs know every rule (a candidate's criterion too); without them, the titles
        # the result carries
        titles: dict[str, str] = {r.meta.id: r.meta.title for r in packs.rules} if packs else {}
        for v in result.violations:
            titles.setdefault(v.rule, v.title)
        if a is not None:
            for c in [*a.scorecards, *a.previous_scorecards]:
                for o in c.obligations:
                    titles.setdefault(o.rule, o.title)
            for r in a.calendar:
                titles.setdefault(r.rule, r.title)
        self.titles = titles

    def name(self, ref: RecordRef) -> str:
        """The subject's name, or ``""``."""
        return self.names.get(str(ref), "")

    def enterprise(self, ref: RecordRef) -> str:
        """The id of the enterprise (the assessment's subject) ``ref`` counts for, or ``""``."""
        if ref.type == self.subject_type:
            return ref.id
        return self.owners.get(str(ref), "")

    def enterprise_name(self, enterprise: str) -> str:
        """The name of an enterprise by its id, or ``""``."""
        return self.names.get(f"{self.subject_type}:{enterprise}", "")

    def subject(self, ref: RecordRef) -> str:
        """``site S01 宝山商业广场`` for a subject that is not an enterprise, else ``""``."""
        if ref.type == self.subject_type:
            return ""
        return f"{ref.type} {ref.id} {self.name(ref)}".strip()

    def title(self, rule: str) -> str:
        """The rule's title, or ``""`` when the result does not mention it."""
        return self.titles.get(rule, "")


def veto_text(r: VetoReason, naming: Naming) -> str:
    """A 一票否优 reason in one line: the veto, the finding that caused it, the citation."""
    where = r.period or (str(r.record) if r.record else "")
    due = f"，截止 {r.due}" if r.due else ""
    doubt = "（存疑）" if r.doubtful else ""
    cite = f"；依据 {r.cite}" if r.cite else ""
    return (
        f"{r.veto}：{naming.title(r.rule)}（{r.rule}）{status_zh(r.status)} {where}{due}{doubt}"
        f"{cite}"
    )


def _waiver_text(v: Violation) -> str:
    w = v.waiver
    if w is None:
        return ""
    until = f"，有效期至 {w.expires_on}" if w.expires_on else ""
    return (
        f"{w.id}（原状态：{status_zh(w.status)}）：{w.reason}；批准：{w.approved_by} "
        f"{w.approved_on}{until}"
    )


def finding_row(v: Violation, naming: Naming) -> dict[str, str]:
    """One finding as the cells of :data:`FINDING_COLUMNS` (plain text)."""
    enterprise = naming.enterprise(v.subject)
    return {
        "enterprise": enterprise,
        "enterprise_name": naming.enterprise_name(enterprise),
        "subject": naming.subject(v.subject),
        "rule_title": v.title or naming.title(v.rule),
        "rule": v.rule,
        "cite": v.cite,
        "status": status_zh(v.status),
        "severity": severity_zh(v.severity),
        "period": v.period or "",
        "due": v.due.isoformat() if v.due else "",
        "record": str(v.record) if v.record else "",
        "message": v.message,
        "doubtful": "存疑" if v.doubtful else "",
        "waiver": _waiver_text(v),
    }


# -- the calendar heatmap ----------------------------------------------------------------------


@dataclass(frozen=True)
class GridColumn:
    """One column of the heatmap: a month (or a quarter …) and the year it belongs to."""

    period: Period
    year: int
    short: str  # "1" … "12", "Q1" …


@dataclass(frozen=True)
class GridCell:
    """One cell of a row: the period it stands for (``None``: no obligation there), its
    status, and how many columns it spans."""

    label: str | None
    status: str | None
    span: int


@dataclass(frozen=True)
class GridRow:
    """One periodic obligation of one subject: the cells, left to right, covering every column."""

    row: CalendarRow
    cells: tuple[GridCell, ...]


@dataclass(frozen=True)
class Grid:
    """The heatmap of the calendar rows of one enterprise over the window of the assessment."""

    unit: str  # month, quarter, half_year or year
    columns: tuple[GridColumn, ...]
    rows: tuple[GridRow, ...]

    @property
    def unit_zh(self) -> str:
        """The column unit in Chinese (月, 季度 …)."""
        return EVERY_ZH[self.unit]

    def years(self) -> list[tuple[int, int]]:
        """(year, number of columns) for the header above the columns."""
        out: list[tuple[int, int]] = []
        for c in self.columns:
            if out and out[-1][0] == c.year:
                out[-1] = (c.year, out[-1][1] + 1)
            else:
                out.append((c.year, 1))
        return out


def _window(a: Assessed) -> tuple[date, date]:
    """From the start of the previous period (or of the assessed one) to the assessed end."""
    assessed = parse_period(a.period)
    first = parse_period(a.previous) if a.previous else assessed
    return first.start, assessed.end


def _unit_of(rows: list[CalendarRow]) -> str:
    units = [r.every for r in rows if r.every in _MONTHS]
    return min(units, key=lambda u: _MONTHS[u]) if units else "month"


def _columns(unit: str, start: date, end: date) -> list[GridColumn]:
    step = _MONTHS[unit]
    out: list[GridColumn] = []
    year, index = start.year, (start.month - 1) // step + 1
    while True:
        p = Period(unit, year, index)
        if p.start > end:
            return out
        short = {"month": f"{index}", "quarter": f"Q{index}", "half_year": f"H{index}"}
        out.append(GridColumn(p, year, short.get(unit, str(year))))
        index += 1
        if index > 12 // step:
            year, index = year + 1, 1


def _cells(row: CalendarRow, columns: list[GridColumn]) -> tuple[GridCell, ...]:
    # the column each period of the row starts in, and how many columns it covers
    placed: dict[int, tuple[str, str, int]] = {}
    for label, status in row.cells.items():
        try:
            p = parse_period(label)
        except ValueError:
            continue
        covered = [i for i, c in enumerate(columns) if p.start <= c.period.start <= p.end]
        if covered:
            placed.setdefault(covered[0], (label, status, len(covered)))
    cells: list[GridCell] = []
    i = 0
    while i < len(columns):
        if i in placed:
            label, status, span = placed[i]
            cells.append(GridCell(label, status, span))
            i += span
        else:
            cells.append(GridCell(None, None, 1))
            i += 1
    return tuple(cells)


def calendar_grid(result: Result, naming: Naming | None = None) -> dict[str, Grid]:
    """The heatmap per enterprise id (sites under their enterprise), in the order of the
    scorecards: month columns (quarters when no obligation is monthly) from the start of the
    previous period to the end of the assessed one."""
    a = result.assessment
    if a is None:
        return {}
    start, end = _window(a)
    unit = _unit_of(list(a.calendar))
    columns = _columns(unit, start, end)
    naming = naming or Naming(result)
    by_owner: dict[str, list[GridRow]] = {}
    for r in a.calendar:
        owner = r.owner or naming.enterprise(r.subject)
        cells = _cells(r, columns)
        if any(c.status is not None for c in cells):
            by_owner.setdefault(owner, []).append(GridRow(r, cells))
    order = [c.subject.id for c in a.scorecards]
    keys = sorted(by_owner, key=lambda k: (order.index(k) if k in order else len(order), k))
    return {k: Grid(unit, tuple(columns), tuple(by_owner[k])) for k in keys}
