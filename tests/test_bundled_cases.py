"""Every case of every bundled pack, under every available backend (SPEC §8).

The pytest plugin would collect the same cases from the YAML files when ``rules/`` is among
the collected paths; each item here carries the ``hazard_rules_case`` marker, so the plugin
deselects it then and no case runs twice.
"""

from __future__ import annotations

import pytest

from hazard_rules.packs import PackSet, bundled_packs
from hazard_rules.testing.cases import Case, iter_cases, run_case
from hazard_rules.testing.runner import available_backends


def _params() -> list[object]:
    out: list[object] = []
    for backend in available_backends():
        for pack in bundled_packs():
            for packs, case in iter_cases(pack):
                out.append(
                    pytest.param(
                        packs,
                        case,
                        backend,
                        id=f"{case.id}[{backend}]",
                        marks=pytest.mark.hazard_rules_case(case.id, backend),
                    )
                )
    return out


@pytest.mark.parametrize(("packs", "case", "backend"), _params())
def test_bundled_case(packs: PackSet, case: Case, backend: str) -> None:
    outcome = run_case(case, packs, backend)
    if outcome.error and outcome.error.startswith("skip:"):
        pytest.skip(outcome.error[5:].strip())
    assert outcome.ok, outcome.report()


def test_every_bundled_pack_with_rules_has_cases() -> None:
    with_cases = {packs.packs[-1].id for pack in bundled_packs() for packs, _ in iter_cases(pack)}
    assert {"baoshan-2024", "gm-2023", "chem-2017"} <= with_cases
