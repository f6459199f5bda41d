"""``hazard-rules lint``: load-time checks of packs and their case files — every problem of
a pack at once: pack.yaml, schema, rule files, and case files (unknown record types and
fields in ``facts``, invalid statuses, severities, kinds and keys in ``expect``, rule ids that
do not exist or that the case never judges); with ``strict``,
authoring checks too (rules without cases, cases that never fire their rule, criteria whose
condition is unsatisfiable or always true, overlapping stricter variants, windows outside the
effective span); always: unbounded recurring rules."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hazard_rules.errors import Diagnostic, PackError
from hazard_rules.ir import Criterion, Recurring
from hazard_rules.packs import load_packs
from hazard_rules.testing.cases import Case, load_cases, run_case
from hazard_rules.testing.satisfiability import criterion_problems

__all__ = ["lint_packs"]


def _case_yaml_problems(ref: str | Path) -> list[Diagnostic]:
    """YAML errors of the case files of a pack that could not be loaded."""
    from hazard_rules._yaml import YamlError, load_yaml
    from hazard_rules.source import display_path

    folder = Path(ref)
    if not (folder / "pack.yaml").is_file():
        return []
    found: list[Diagnostic] = []
    for file in sorted(folder.rglob("*.cases.yaml")):
        try:
            load_yaml(file, display_path(file))
        except YamlError as exc:
            found.extend(exc.diagnostics)
    return found


def lint_packs(refs: Sequence[str | Path], *, strict: bool = False) -> list[Diagnostic]:
    """Every problem found in the packs (and, with ``strict``, every authoring problem)."""
    out: list[Diagnostic] = []
    for ref in refs:
        try:
            packs = load_packs(ref)
        except PackError as exc:
            out.extend(exc.diagnostics)
            out.extend(_case_yaml_problems(ref))  # what can be said of them without the pack
            continue
        info = packs.packs[-1]
        cases: list[Case] = []
        for file in info.case_files:
            try:
                cases.extend(load_cases(file, packs, info.id))
            except PackError as exc:
                out.extend(exc.diagnostics)
        own = [r for r in packs.rules if r.meta.pack == info.id]
        for rule in own:
            if (
                isinstance(rule, Recurring)
                and rule.window_from is None
                and rule.meta.effective_from is None
            ):
                out.append(
                    Diagnostic(
                        rule.meta.span,
                        "unbounded_recurring",
                        f"{rule.meta.id}: give window.from or effective.from, or no period is ever required",
                    )
                )
        if not strict:
            continue
        fired: dict[str, int] = {r.meta.id: 0 for r in own}
        covered: set[str] = set()
        for case in cases:
            ids = case.rule_ids if case.rule_ids is not None else frozenset(fired)
            covered |= ids
            outcome = run_case(case, packs)
            if outcome.result is None:
                continue
            for v in outcome.result.violations:
                fired[v.rule] = fired.get(v.rule, 0) + 1
            for c in outcome.result.classifications:
                fired[c.rule] = fired.get(c.rule, 0) + 1
            for k in outcome.result.candidates:
                fired[k.rule] = fired.get(k.rule, 0) + 1
        for rule in own:
            rid = rule.meta.id
            if rid not in covered:
                out.append(Diagnostic(rule.meta.span, "rule_without_cases", f"{rid} has no cases"))
            elif not fired.get(rid):
                out.append(
                    Diagnostic(rule.meta.span, "rule_never_fires", f"no case makes {rid} fire")
                )
            if isinstance(rule, Criterion):
                for problem in criterion_problems(rule, packs.schema):
                    code = (
                        "unsatisfiable_criterion"
                        if problem.startswith("unsatisfiable")
                        else "always_true_criterion"
                    )
                    out.append(Diagnostic(rule.meta.span, code, f"{rid}: {problem}"))
            if isinstance(rule, Recurring):
                m = rule.meta
                if (
                    rule.window_from and m.effective_until and rule.window_from > m.effective_until
                ) or (
                    rule.window_until and m.effective_from and rule.window_until < m.effective_from
                ):
                    out.append(
                        Diagnostic(
                            m.span,
                            "window_outside_effective",
                            f"{rid}: the window lies outside the rule's effective span",
                        )
                    )
                whens = [v.when for v in rule.stricter]
                for i, w in enumerate(whens):
                    if w in whens[:i]:
                        out.append(
                            Diagnostic(
                                m.span,
                                "overlapping_stricter",
                                f"{rid}: stricter variant {i + 1} repeats an earlier condition and never applies",
                            )
                        )
    return sorted(set(out))
