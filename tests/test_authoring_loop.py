"""The authoring loop (issue 16, item 7): lint shows every problem of a pack at once and
checks case files; explain and test point at a local pack; the pytest plugin's names, ini
option and backend errors; the record JSON Schema in the public API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import hazard_rules
from conftest import REPO
from hazard_rules.cli import main
from hazard_rules.testing.lint import lint_packs

pytest_plugins = ["pytester"]
QUIET = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")
EXAMPLE = REPO / "examples" / "authoring"


def _pack(root: Path) -> Path:
    folder = root / "lp"
    folder.mkdir()
    (folder / "pack.yaml").write_text(
        'id: lp\ntitle: x\nversion: "1"\nextends: [core]\nfoo: 1\n', "utf-8"
    )
    (folder / "schema.yaml").write_text(
        "types:\n  hazard:\n    fields:\n      extra: strin\n", "utf-8"
    )
    (folder / "a.rule.yaml").write_text(
        "id: lp.a\nkind: criterion\ntitle: t\ncite: c\nseverity: high\nfor: hazard\n"
        "when: {levle: major}\nlabel: major\nmessage: {zh: x, en: x}\n",
        "utf-8",
    )
    return folder


def test_lint_reports_pack_yaml_schema_and_rules_together(tmp_path: Path) -> None:
    folder = _pack(tmp_path)
    codes = {(Path(d.span.path).name, d.code) for d in lint_packs([folder])}
    assert codes == {
        ("pack.yaml", "missing_key"),  # no cite: it used to hide everything below
        ("pack.yaml", "unknown_key"),
        ("schema.yaml", "unknown_field_type"),
        ("a.rule.yaml", "unknown_field"),
    }


def test_lint_checks_case_files(tmp_path: Path) -> None:
    folder = _pack(tmp_path)
    (folder / "pack.yaml").write_text(
        'id: lp\ntitle: x\nversion: "1"\ncite: c\nextends: [core]\n', "utf-8"
    )
    (folder / "schema.yaml").unlink()
    rule = folder / "a.rule.yaml"
    rule.write_text(rule.read_text("utf-8").replace("levle", "level"), "utf-8")
    (folder / "a.cases.yaml").write_text(
        "cases:\n"
        "  - name: x\n"
        "    as_of: 2025-01-01\n"
        "    facts:\n"
        "      hazard: [{id: H1, enterprise_id: E1, levle: major}]\n"
        "      hazrd: []\n"
        "    expect:\n"
        "      - {rule: lp.b, status: fail}\n"
        "      - {rule: lp.a, status: misclassified, severity: severe}\n"
        "      - {rule: baoshan-2024.work-plan, status: missing}\n",
        "utf-8",
    )
    found = sorted((d.span.line, d.code, d.message) for d in lint_packs([folder]))
    assert [(line, code) for line, code, _ in found] == [
        (5, "unknown_field"),
        (6, "unknown_type"),
        (8, "invalid_status"),
        (8, "unknown_rule"),
        (9, "invalid_severity"),
        (10, "unknown_rule"),
    ]
    messages = " | ".join(m for _, _, m in found)
    assert "hazard has no field 'levle' (did you mean 'level'?)" in messages
    assert "status 'fail' is not one of failed" in messages and "did you mean 'failed'?" in messages


def test_a_rule_the_case_never_judges_is_named(tmp_path: Path) -> None:
    pack = shutil.copytree(EXAMPLE / "acme-hotwork", tmp_path / "acme-hotwork")
    cases = pack / "welding.cases.yaml"
    cases.write_text(
        cases.read_text("utf-8").replace(
            "rule: acme-hotwork.welding-near-flammables, status: misclassified",
            "rule: acme-hotwork.permit-before-work, status: misclassified",
            1,
        ),
        "utf-8",
    )
    (problem,) = lint_packs([pack])
    assert problem.code == "rule_out_of_scope" and "scope: pack" in problem.message


def test_explain_and_test_point_at_a_local_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(EXAMPLE / "acme-hotwork", tmp_path / "packs" / "acme-hotwork")
    monkeypatch.chdir(tmp_path)
    assert main(["explain", "acme-hotwork.welding-near-flammables"]) == 2
    err = capsys.readouterr().err
    assert (
        "a pack in this folder has it: hazard-rules explain "
        "acme-hotwork.welding-near-flammables --pack packs/acme-hotwork"
    ) in err
    assert main(["test", "acme-hotwork"]) == 2
    assert "hazard-rules test packs/acme-hotwork" in capsys.readouterr().err


def test_plugin_names_items_like_pytest(pytester: pytest.Pytester) -> None:
    shutil.copytree(
        EXAMPLE,
        pytester.path / "authoring",
        ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"),
    )
    result = pytester.runpytest(
        *QUIET, "authoring/acme-hotwork", "-v", "--hazard-rules-backend", "python"
    )
    out = result.stdout.str()
    assert "authoring/acme-hotwork/permit.cases.yaml::没有作业票号：failed[python] PASSED" in out
    assert "::cases::yaml" not in out


def test_plugin_ini_option(pytester: pytest.Pytester) -> None:
    shutil.copytree(EXAMPLE / "acme-hotwork", pytester.path / "acme-hotwork")
    pytester.makeini("[pytest]\nhazard_rules_backend = python\n")
    result = pytester.runpytest(*QUIET, "acme-hotwork")
    result.assert_outcomes(passed=7)


def test_plugin_missing_backend_is_one_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hazard_rules.testing import pytest_plugin

    shutil.copytree(EXAMPLE / "acme-hotwork", pytester.path / "acme-hotwork")
    monkeypatch.setattr(pytest_plugin, "available_backends", lambda: ["python"])
    result = pytester.runpytest(*QUIET, "acme-hotwork", "--hazard-rules-backend", "durable")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert err.count("the durable backend is not installed") == 1
    assert "pip install 'hazard-rules[durable]'" in err


def test_record_json_schema_is_public() -> None:
    packs = hazard_rules.load_packs("baoshan-2024")
    schema = hazard_rules.record_json_schema(packs)
    assert schema == hazard_rules.record_json_schema(packs.schema)
    text = json.dumps(schema, ensure_ascii=False)
    assert "discovered_on" in text and "enterprise" in text
