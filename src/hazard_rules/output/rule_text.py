"""Readable renderings of rules, for ``hazard-rules explain`` and the docs."""

from __future__ import annotations

from hazard_rules.engine.explain import describe_condition
from hazard_rules.ir import Check, Criterion, Deadline, Recurring, Rule, Trend

__all__ = ["describe_rule"]


def describe_rule(rule: Rule) -> str:
    """Title, citation, rationale and conditions of a rule, as plain text."""
    m = rule.meta
    lines = [f"{m.id}  [{m.kind}, {m.severity}]", f"  {m.title}"]
    if m.title_en:
        lines.append(f"  {m.title_en}")
    lines.append(f"  依据 cite: {m.cite}")
    if m.effective_from or m.effective_until:
        lines.append(f"  effective: {m.effective_from or '…'} – {m.effective_until or '…'}")
    if m.why:
        lines.append("  why: " + m.why.replace("\n", "\n       "))

    def block(name: str, cond: object) -> None:
        if cond is not None:
            lines.append(f"  {name}:")
            lines.append(describe_condition(cond, 2))  # type: ignore[arg-type]

    if isinstance(rule, Criterion):
        lines.append(
            f"  for: {rule.type} → label {rule.label}"
            + (f" (declared in {rule.declared})" if rule.declared else "")
        )
        block("applies", rule.applies)
        block("when", rule.when)
        if rule.hints:
            lines.append(f"  hints (editorial, on {rule.hint_field}): {' | '.join(rule.hints)}")
    elif isinstance(rule, Check):
        lines.append(f"  for: {rule.type}")
        block("where", rule.where)
        block("require", rule.require)
        if rule.due:
            due = rule.due.date or f"{rule.due.field}" + (
                f" + {rule.due.days} days" if rule.due.days else ""
            )
            lines.append(f"  due: {due}; done: {rule.done}")
    else:
        lines.append(f"  subject: {rule.subject.type}")
        block("subject where", rule.subject.where)
        ev = rule.count if isinstance(rule, Trend) else rule.evidence
        lines.append(
            f"  {'count' if isinstance(rule, Trend) else 'evidence'}: {ev.type} via {ev.via}, dated by {ev.date_field}"
            + (f", period from {ev.period_field}" if ev.period_field else "")
        )
        block("  where", ev.where)
        if isinstance(rule, Deadline):
            lines.append(f"  due: {rule.due}; at least {rule.at_least}")
        elif isinstance(rule, Recurring):
            day = (
                f", due day {rule.due_day} of the {'next' if rule.due_next else 'same'} period"
                if rule.due_day
                else ", due on the period's last day"
            )
            lines.append(f"  every: {rule.every}, at least {rule.at_least}{day}")
            for v in rule.stricter:
                lines.append(f"  stricter: every {v.every}, at least {v.at_least} when:")
                lines.append(describe_condition(v.when, 2))
            lines.append(f"  window: {rule.window_from or '…'} – {rule.window_until or '…'}")
        elif isinstance(rule, Trend):
            lines.append(f"  compare: count in {rule.period} {rule.op} count in {rule.to}")
    lines.append(f"  message (zh): {m.message_zh.source}")
    lines.append(f"  message (en): {m.message_en.source}")
    return "\n".join(lines)
