"""``hazard-rules test``: run every case of the given packs under each backend, report
failures side by side, and end with the summary line ``N passed, M failed``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from hazard_rules.errors import BackendUnavailableError, PackError
from hazard_rules.testing.cases import CaseOutcome, iter_cases, run_case

__all__ = ["available_backends", "run_packs"]


def available_backends() -> list[str]:
    """``python`` always; ``durable`` when durable-rules can be imported."""
    out = ["python"]
    import importlib

    try:
        module = importlib.import_module("hazard_rules.backends.durable.engine")
    except ImportError:
        return out
    if getattr(module, "durable_available", lambda: False)():
        out.append("durable")
    return out


def run_packs(
    refs: Sequence[str], backends: Sequence[str] | None, out: TextIO, verbose: bool = False
) -> int:
    """Run the cases; exit code 0 all passed, 1 a case failed, 2 a pack could not be loaded."""
    chosen = list(backends or available_backends())
    passed = failed = skipped = 0
    outcomes: list[CaseOutcome] = []
    try:
        cases = list(iter_cases(*refs))
    except PackError as exc:
        for d in exc.diagnostics:
            out.write(f"{d}\n")
        out.write(f"{len(exc.diagnostics)} problem(s) in the rule packs\n")
        return 2
    for backend in chosen:
        for packs, case in cases:
            try:
                outcome = run_case(case, packs, backend)
            except BackendUnavailableError as exc:
                out.write(f"hazard-rules: {exc}\n")
                return 2
            if outcome.error and outcome.error.startswith("skip:"):
                skipped += 1
                if verbose:
                    out.write(f"SKIP {case.id} [{backend}]: {outcome.error[5:].strip()}\n")
                continue
            outcomes.append(outcome)
            if outcome.ok:
                passed += 1
                if verbose:
                    out.write(f"ok   {case.id} [{backend}]\n")
            else:
                failed += 1
                out.write(outcome.report() + "\n")
    tail = f", {skipped} skipped" if skipped else ""
    out.write(f"{passed} passed, {failed} failed{tail}\n")
    return 1 if failed else 0
