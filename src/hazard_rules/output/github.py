"""GitHub Actions workflow commands: one annotation per finding (``check``) or diagnostic
(``lint``), shown on the file and line in a pull request and in the run's summary.

Severity maps to the command: critical and high → ``::error``, medium → ``::warning``, low →
``::notice``. Values are escaped as the runner expects (``%``, CR and LF in the message;
also ``:`` and ``,`` in properties).
"""

from __future__ import annotations

from collections.abc import Sequence

from hazard_rules.errors import Diagnostic
from hazard_rules.ir import Rule
from hazard_rules.output.locations import finding_location
from hazard_rules.results import Result

__all__ = ["lint_annotations", "result_annotations"]

COMMANDS = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, message: str, **props: object) -> str:
    shown = ",".join(f"{k}={_prop(str(v))}" for k, v in props.items() if v not in (None, "", 0))
    return f"::{kind} {shown}::{_data(message)}" if shown else f"::{kind}::{_data(message)}"


def result_annotations(
    result: Result,
    rules: Sequence[Rule],
    sources: dict[tuple[str, str], str],
    lang: str = "zh",
) -> str:
    """One workflow command per finding, then a notice with the totals."""
    spans = {r.meta.id: str(r.meta.span) for r in rules}
    lines = []
    for v in result.violations:
        loc = finding_location(v, sources, spans.get(v.rule, ""))
        where = v.period or (v.record.id if v.record else "")
        title = f"{v.rule} {v.status} {v.subject.id}" + (f" {where}" if where else "")
        message = (v.message if lang == "zh" else v.message_en) + f" [{v.cite}]"
        if loc.sheet is not None:
            message += f" ({loc.sheet}:{loc.row})"
        lines.append(
            _command(COMMANDS[v.severity], message, file=loc.path, line=loc.line, title=title)
        )
    c = result.counts
    lines.append(
        _command(
            "notice",
            f"as of {result.as_of}: {c.violations} violation(s); read {c.read}, "
            f"evaluated {c.evaluated}, rejected {c.rejected}",
            title="hazard-rules",
        )
    )
    return "\n".join(lines) + "\n"


def lint_annotations(diagnostics: Sequence[Diagnostic]) -> str:
    """One ``::error`` per diagnostic, at its file, line and column."""
    return "".join(
        _command(
            "error",
            d.message,
            file=d.span.path,
            line=d.span.line,
            col=d.span.column,
            title=d.code,
        )
        + "\n"
        for d in diagnostics
    )
