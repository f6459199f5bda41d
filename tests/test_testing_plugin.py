"""The pytest plugin: *.cases.yaml files become items `<pack>/<file>::<case>[<backend>]`."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from hazard_rules.testing.pytest_plugin import find_pack_dir
from hazard_rules.testing.runner import available_backends

pytest_plugins = ["pytester"]

# hypothesis is not needed here; pytester would re-import it for every inner run
QUIET = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "authoring"


def _copy_example(dest: Path) -> Path:
    target = dest / "authoring"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    return target


def test_case_files_are_collected_with_pack_ids(pytester: pytest.Pytester) -> None:
    pack = _copy_example(pytester.path) / "acme-hotwork"
    result = pytester.runpytest(*QUIET, str(pack), "--collect-only", "-q")
    out = result.stdout.str()
    for backend in available_backends():
        assert f"acme-hotwork/welding.cases.yaml::49千克：不构成[{backend}]" in out
        assert f"acme-hotwork/permit.cases.yaml::没有作业票号：failed[{backend}]" in out
    assert result.ret == 0


def test_cases_pass_and_a_node_id_selects_one(pytester: pytest.Pytester) -> None:
    pack = _copy_example(pytester.path) / "acme-hotwork"
    result = pytester.runpytest(*QUIET, str(pack))
    result.assert_outcomes(passed=7 * len(available_backends()))
    one = pytester.runpytest(*QUIET, f"{pack / 'welding.cases.yaml'}::49千克：不构成[python]")
    one.assert_outcomes(passed=1)


def test_a_failing_case_shows_the_case_report(pytester: pytest.Pytester) -> None:
    pack = _copy_example(pytester.path) / "acme-hotwork"
    rule = pack / "welding.rule.yaml"
    rule.write_text(rule.read_text(encoding="utf-8").replace("gte: 50", "gt: 50"), "utf-8")
    result = pytester.runpytest(
        *QUIET, str(pack / "welding.cases.yaml"), "--hazard-rules-backend", "python"
    )
    assert result.ret == 1
    out = result.stdout.str()
    result.assert_outcomes(passed=3, failed=1)
    assert "FAIL acme-hotwork/welding.cases.yaml::恰好50千克" in out
    assert "expected, not produced" in out
    assert "rule: acme-hotwork.welding-near-flammables" in out
    assert "Traceback" not in out


def test_a_broken_case_file_is_a_collection_error(pytester: pytest.Pytester) -> None:
    pack = _copy_example(pytester.path) / "acme-hotwork"
    (pack / "broken.cases.yaml").write_text(
        textwrap.dedent(
            """\
            cases:
              - name: typo
                as_of: 2025-01-01
                facts: {}
                expcet: []
            """
        ),
        "utf-8",
    )
    result = pytester.runpytest(*QUIET, str(pack / "broken.cases.yaml"))
    assert result.ret == 2
    out = result.stdout.str()
    assert "unknown key 'expcet'" in out
    assert "broken.cases.yaml:5" in out


def test_case_files_outside_a_pack_and_opt_out(pytester: pytest.Pytester) -> None:
    (pytester.path / "loose.cases.yaml").write_text("cases: []\n", "utf-8")
    assert find_pack_dir(pytester.path / "loose.cases.yaml") is None
    result = pytester.runpytest(*QUIET, "--collect-only", "-q")
    assert "loose.cases.yaml" not in result.stdout.str()
    pack = _copy_example(pytester.path) / "acme-hotwork"
    off = pytester.runpytest(*QUIET, str(pack), "--no-hazard-rules-cases", "--collect-only")
    assert "cases.yaml" not in off.stdout.str()


def test_marked_duplicates_are_deselected(pytester: pytest.Pytester) -> None:
    pack = _copy_example(pytester.path) / "acme-hotwork"
    pytester.makepyfile(
        test_dupe=f"""
        import pytest
        from hazard_rules.packs import load_packs
        from hazard_rules.testing.cases import iter_cases, run_case

        PARAMS = [
            pytest.param(p, c, marks=pytest.mark.hazard_rules_case(c.id, "python"))
            for p, c in iter_cases({str(pack)!r})
        ]

        @pytest.mark.parametrize(("packs", "case"), PARAMS)
        def test_case(packs, case):
            assert run_case(case, packs).ok
        """
    )
    alone = pytester.runpytest(*QUIET, "test_dupe.py")
    alone.assert_outcomes(passed=7)
    both = pytester.runpytest(*QUIET, "test_dupe.py", str(pack), "--hazard-rules-backend", "python")
    both.assert_outcomes(passed=7, deselected=7)
