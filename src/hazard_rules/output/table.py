"""The terminal table: columns measured in display cells (a CJK character is two), fitted
to the terminal, long text wrapped rather than cut, a compact layout under 100 columns, and
colour by status and severity.

Width: the terminal's (``shutil.get_terminal_size``, which honours ``COLUMNS``) when the
output is a terminal; ``COLUMNS`` when it is set; otherwise (a pipe, a file) no limit, so a
line is never broken for a reader that is a program. Colour: off under ``NO_COLOR``, on under
``FORCE_COLOR``, otherwise on for a terminal only (and never for ``TERM=dumb``); ``NO_COLOR``
wins when both are set.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Sequence
from typing import TextIO

from hazard_rules.output.lang import severity_name, status_name, text, translate
from hazard_rules.results import Result, Violation

__all__ = [
    "COMPACT_BELOW",
    "clip",
    "color_enabled",
    "display_width",
    "format_table",
    "paint",
    "render_table",
    "terminal_width",
    "wrap",
]

COMPACT_BELOW = 100
GAP = "  "

_ANSI = {
    "red": "31",
    "bold_red": "1;31",
    "yellow": "33",
    "magenta": "35",
    "cyan": "36",
    "dim": "2",
    "bold": "1",
}


def terminal_width(stream: TextIO | None) -> int | None:
    """Columns to fit in: the terminal's, or ``COLUMNS``; ``None`` (no limit) for a pipe or
    a file without ``COLUMNS``."""
    env = os.environ.get("COLUMNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    if stream is not None and _isatty(stream):
        return shutil.get_terminal_size((100, 24)).columns
    return None


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def color_enabled(stream: TextIO | None) -> bool:
    """Colour for ``stream``: ``NO_COLOR`` off, ``FORCE_COLOR`` on, else a terminal only."""
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force is not None and force not in ("", "0", "false"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return stream is not None and _isatty(stream)


# control characters that a terminal would act on: C0 but the line feed, DEL, C1, and the
# bidirectional overrides that reorder what is shown (record and rule text must stay inert)
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_OUR_SGR = re.compile("\x1b\\[[0-9;]*m")


def escape_controls(text: str, *, keep_sgr: bool = False) -> str:
    """``text`` with every control character written out (``\\x1b``, ``\\u202e``), so that no
    record or rule text can move the cursor, set a title, make a link or reorder a line; with
    ``keep_sgr``, colour sequences (``ESC [ … m``) stay as they are."""
    if keep_sgr:
        parts = _OUR_SGR.split(text)
        sgrs = _OUR_SGR.findall(text)
        out = [escape_controls(parts[0])]
        for sgr, part in zip(sgrs, parts[1:], strict=True):
            out.append(sgr)
            out.append(escape_controls(part))
        return "".join(out)
    return _CONTROL.sub(_written_out, text)


def _written_out(m: re.Match[str]) -> str:
    ch = m.group()
    if ch == "\t":
        return " "
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def paint(text: str, style: str | None, color: bool) -> str:
    """``text`` in ``style`` (a key of the palette) when ``color``; as it is otherwise."""
    if not color or not style or not text:
        return text
    return f"\033[{_ANSI[style]}m{text}\033[0m"


def _cell(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes (CJK characters count double)."""
    return sum(_cell(ch) for ch in text)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` cells with an ellipsis (for places that must stay one line)."""
    if display_width(text) <= limit:
        return text
    out, w = [], 0
    for ch in text:
        cw = _cell(ch)
        if w + cw > limit - 1:
            break
        out.append(ch)
        w += cw
    return "".join(out) + "…"


def _tokens(text: str) -> list[str]:
    """Words (runs of non-space, non-CJK characters), single CJK characters and spaces."""
    out: list[str] = []
    word = ""
    for ch in text:
        if ch == " " or _cell(ch) == 2:
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        else:
            word += ch
    if word:
        out.append(word)
    return out


_NO_LINE_START = set("，。、；：！？）》」』】〕〉…,.;:!?)]}%·")
_NO_LINE_END = set("（《「『【〔〈([{")


def wrap(text: str, width: int) -> list[str]:
    """``text`` broken into lines of at most ``width`` cells: between words, between CJK
    characters, and inside a word only when it is longer than a line. Newlines are kept, and
    the usual Chinese line-breaking rules hold: no line starts with a closing mark (``）``,
    ``。``, ``、`` …) nor ends with an opening one (``（``, ``《`` …)."""
    width = max(width, 4)
    lines: list[str] = []
    for para in text.split("\n"):
        line: list[str] = []
        used = 0
        for tok in _tokens(para):
            tw = display_width(tok)
            if tok == " " and not line:
                continue
            if used + tw <= width:
                line.append(tok)
                used += tw
                continue
            carry: list[str] = []
            if tok != " ":
                # keep a closing mark with the character before it, an opening mark with
                # the one after it
                while len(line) > 1 and (
                    (carry[0] if carry else tok)[0] in _NO_LINE_START
                    or line[-1][-1] in _NO_LINE_END
                ):
                    carry.insert(0, line.pop())
            if line:
                lines.append("".join(line).rstrip())
            line = [*carry]
            used = sum(display_width(t) for t in line)
            if tok == " ":
                continue
            while display_width(tok) > width - used:  # a word longer than a line: cut it
                head = _take(tok, width - used)
                lines.append("".join(line) + head)
                line, used = [], 0
                tok = tok[len(head) :]
            line.append(tok)
            used += display_width(tok)
        lines.append("".join(line).rstrip())
    return lines or [""]


def _take(text: str, width: int) -> str:
    out, w = [], 0
    for ch in text:
        if w + _cell(ch) > width:
            break
        out.append(ch)
        w += _cell(ch)
    return "".join(out) or text[:1]


def _fit(natural: list[int], floors: list[int], flex: Sequence[int], width: int) -> list[int]:
    """Column widths that add up (with the gaps) to at most ``width``: the ``flex`` columns
    give up cells, the widest first, down to their floor."""
    widths = list(natural)
    total = sum(widths) + len(GAP) * (len(widths) - 1)
    while total > width:
        candidates = [i for i in flex if widths[i] > floors[i]]
        if not candidates:
            break
        i = max(candidates, key=lambda c: widths[c])
        widths[i] -= 1
        total -= 1
    return widths


def render_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    limits: Sequence[int] | None = None,
    *,
    width: int | None = None,
    flex: Sequence[int] | None = None,
    styles: Sequence[Sequence[str | None]] | None = None,
    color: bool = False,
) -> str:
    """Columns aligned by display width. With ``width``, the ``flex`` columns (default: the
    last) are narrowed to fit and their cells wrapped onto further lines; ``limits`` cut
    cells to a number of cells instead (one line each). ``styles`` gives a palette style per
    cell, used when ``color``."""
    if limits:
        rows = [[clip(c, lim) for c, lim in zip(r, limits, strict=False)] for r in rows]
    n = len(header)
    natural = [
        max([display_width(header[i])] + [display_width(r[i]) for r in rows]) for i in range(n)
    ]
    flex = list(flex) if flex is not None else [n - 1]
    if width is not None:
        floors = [max(display_width(header[i]), 8) if i in flex else natural[i] for i in range(n)]
        widths = _fit(natural, floors, flex, width)
    else:
        widths = natural

    def lines_of(cells: Sequence[str], row_styles: Sequence[str | None] | None) -> list[str]:
        wrapped = [
            wrap(c, widths[i]) if (width is not None and i in flex) else [c]
            for i, c in enumerate(cells)
        ]
        out = []
        for k in range(max(len(w) for w in wrapped)):
            parts = []
            for i, w in enumerate(wrapped):
                text = w[k] if k < len(w) else ""
                pad = " " * max(widths[i] - display_width(text), 0)
                style = row_styles[i] if row_styles and i < len(row_styles) else None
                parts.append(paint(text, style, color) + pad)
            out.append(GAP.join(parts).rstrip())
        return out

    sep = GAP.join("─" * w for w in widths)
    body: list[str] = []
    for j, r in enumerate(rows):
        body.extend(lines_of(r, styles[j] if styles else None))
    head = lines_of(header, ["bold"] * n if color else None)
    return "\n".join([*head, sep, *body])


# -- the result of a check ----------------------------------------------------------------------

STATUS_STYLE = {
    "failed": "red",
    "overdue": "red",
    "missing": "red",
    "misclassified": "magenta",
    "exceeded": "red",
    "late": "yellow",
    "waived": "dim",
}
SEVERITY_STYLE = {"critical": "bold_red", "high": "red", "medium": "yellow", "low": "dim"}
MIN_MESSAGE = 40  # the wide layout is used when the message column keeps this many cells


def _status(v: Violation, lang: str) -> str:
    return ("⚠" if v.doubtful else "") + status_name(v.status, lang)


def _record(v: Violation) -> str:
    if v.record:
        return v.record.id
    return ",".join(e.id for e in v.evidence[:3]) + ("…" if len(v.evidence) > 3 else "")


def _findings_wide(
    vs: Sequence[Violation], lang: str, width: int | None, color: bool
) -> str | None:
    header = [
        text(k, lang)
        for k in ("subject", "rule", "status", "severity", "period", "due", "record", "message")
    ]
    rows = [
        [
            v.subject.id,
            v.rule,
            _status(v, lang),
            severity_name(v.severity, lang),
            v.period or "",
            v.due.isoformat() if v.due else "",
            _record(v),
            v.message if lang == "zh" else v.message_en,
        ]
        for v in vs
    ]
    styles: list[list[str | None]] = [
        [
            "bold",
            "cyan",
            STATUS_STYLE.get(v.status),
            SEVERITY_STYLE.get(v.severity),
            None,
            None,
            None,
            None,
        ]
        for v in vs
    ]
    if width is not None:
        fixed = [
            max([display_width(header[i])] + [display_width(r[i]) for r in rows]) for i in range(7)
        ]
        room = width - sum(fixed[:6]) - min(fixed[6], 12) - len(GAP) * 7
        if room < MIN_MESSAGE:
            return None
    return render_table(header, rows, width=width, flex=[7, 6], styles=styles, color=color)


def _findings_compact(vs: Sequence[Violation], lang: str, width: int, color: bool) -> str:
    """One block per finding: what, where and when on the first line(s), the message
    indented below; a blank line between subjects."""
    out: list[str] = []
    last = None
    due_word = text("due", lang)
    record_word = text("record", lang)
    for v in vs:
        if last is not None and v.subject != last:
            out.append("")
        last = v.subject
        parts = [
            (v.subject.id, "bold"),
            (v.rule, "cyan"),
            (_status(v, lang), STATUS_STYLE.get(v.status)),
            (severity_name(v.severity, lang), SEVERITY_STYLE.get(v.severity)),
        ]
        if v.period:
            parts.append((v.period, None))
        if v.due:
            parts.append((f"{due_word} {v.due.isoformat()}", None))
        rec = _record(v)
        if rec:
            parts.append((f"{record_word} {rec}", None))
        indent, used = "", 0
        current: list[str] = []
        for word, style in parts:
            ww = display_width(word)
            if current and used + len(GAP) + ww > width:
                out.append(indent + GAP.join(current))
                indent, current, used = "    ", [], 4
            used += (len(GAP) if current else 0) + ww
            current.append(paint(word, style, color))
        out.append(indent + GAP.join(current))
        message = v.message if lang == "zh" else v.message_en
        out.extend("    " + ln for ln in wrap(message, width - 4))
    return "\n".join(out)


def format_table(
    result: Result,
    lang: str = "zh",
    *,
    width: int | None = None,
    color: bool = False,
    quiet: bool = False,
) -> str:
    """The result for people: findings, explanations, classifications, candidates,
    unmapped and rejected records, notes and the summary; with ``quiet``, the summary only."""
    parts: list[str] = []
    compact = width is not None and width < COMPACT_BELOW
    vs = result.violations
    if not quiet:
        if vs:
            table = None if compact else _findings_wide(vs, lang, width, color)
            parts.append(
                table if table is not None else _findings_compact(vs, lang, width or 80, color)
            )
            if any(v.doubtful for v in vs):
                legend = text("doubtful", lang)
                parts.extend(["", *(wrap(legend, width) if width else [legend])])
        else:
            parts.append(text("no_violations", lang))
        parts.extend(_sections(result, lang, width, color))
    if parts:
        parts.append("")
    line = _summary(result, lang)
    parts.extend(wrap(line, width) if width else [line])
    return escape_controls("\n".join(parts), keep_sgr=color) + "\n"


def _sections(result: Result, lang: str, width: int | None, color: bool) -> list[str]:
    out: list[str] = []
    explained = [v for v in result.violations if v.explain]
    if explained:
        out += ["", text("why", lang)]
        for v in explained:
            rec = v.record.id if v.record else ""
            out.append(f"  {v.subject.id} {v.rule} {rec} {status_name(v.status, lang)}")
            for e in v.explain or ():
                mark = "✓" if e.get("held") else "✗"
                seen = f"  ({text('value', lang)}: {e['value']})" if "value" in e else ""
                out.append(f"    {mark} {e['at']}: {e['condition']}{seen}")
    if result.classifications:
        out += ["", f"{text('classifications', lang)} ({len(result.classifications)}):"]
        out.append(
            render_table(
                [text(k, lang) for k in ("record", "subject", "label", "rule", "cite")],
                [
                    [
                        c.record.id,
                        c.subject.id,
                        (c.label_name or c.label) if lang == "zh" else c.label,
                        c.rule,
                        c.cite,
                    ]
                    for c in result.classifications
                ],
                width=width,
                flex=[4, 3],
                color=color,
            )
        )
    if result.candidates:
        out += ["", f"{text('candidates', lang)} ({len(result.candidates)}):"]
        out.append(
            render_table(
                [text(k, lang) for k in ("record", "subject", "label", "rule", "hints")],
                [
                    [c.record.id, c.subject.id, c.label, c.rule, "、".join(c.hints)]
                    for c in result.candidates
                ],
                width=width,
                flex=[4, 3],
                color=color,
            )
        )
    if result.unmapped:
        ids = ", ".join(r.id for r in result.unmapped[:30])
        more = f" … (+{len(result.unmapped) - 30})" if len(result.unmapped) > 30 else ""
        line = f"{text('unmapped', lang)} ({len(result.unmapped)}): {ids}{more}"
        out += ["", *(wrap(line, width) if width else [line])]
    if result.rejected:
        out += ["", f"{text('rejected', lang)} ({len(result.rejected)}):"]
        if width is not None and width < COMPACT_BELOW:
            for r in result.rejected:
                head = "  ".join(x for x in (r.source, r.type, r.id or "", r.field or "") if x)
                out.extend(wrap(head, width))
                out.extend("    " + ln for ln in wrap(translate(r.reason, lang), width - 4))
        else:
            out.append(
                render_table(
                    [text(k, lang) for k in ("source", "type", "id", "field", "reason")],
                    [
                        [r.source, r.type, r.id or "", r.field or "", translate(r.reason, lang)]
                        for r in result.rejected
                    ],
                    width=width,
                    flex=[4, 0],
                    color=color,
                )
            )
    for note in result.notes:
        line = f"{text('note', lang)}: {translate(note, lang, 'note')}"
        out.extend(wrap(line, width) if width else [line])
    return out


def summary_line(result: Result, lang: str) -> str:
    """The closing line of a check: date, counts, violations by status."""
    return _summary(result, lang)


def _summary(result: Result, lang: str) -> str:
    c = result.counts
    sep = "、" if lang == "zh" else ", "
    statuses = sep.join(f"{status_name(k, lang)} {n}" for k, n in c.by_status.items()) or text(
        "none", lang
    )
    if c.doubtful:
        statuses += text("doubtful_count", lang, n=c.doubtful)
    return text(
        "summary",
        lang,
        as_of=result.as_of,
        read=c.read,
        evaluated=c.evaluated,
        rejected=c.rejected,
        violations=c.violations,
        statuses=statuses,
        classifications=c.classifications,
        candidates=c.candidates,
    )
