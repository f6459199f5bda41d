"""The diagnostic-code table (``hazard_rules.diagnostics``) is the whole truth about codes:

* every code the source passes to ``Diagnostic``/``err`` is in the table, and every code in the
  table is used by the source (a static scan);
* every code in the table is produced by a case below (``SCENARIOS``: a small pack, linted);
* :class:`~hazard_rules.errors.Diagnostic` refuses an undeclared code;
* ``docs/diagnostics.md`` is the table rendered (``make docs`` regenerates it).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import REPO
from hazard_rules.diagnostics import CODES, STAGES, render_markdown
from hazard_rules.errors import Diagnostic
from hazard_rules.source import SourceSpan
from hazard_rules.testing.lint import lint_packs

SRC = REPO / "src" / "hazard_rules"

PACK = "id: t\ntitle: 测试包\nversion: '1'\ncite: 测试\nextends: [core]\n"
HEAD = """\
id: t.r
kind: criterion
title: 测试
cite: 测试 一、1
severity: high
message: {zh: "{record}", en: "{record}"}
for: hazard
label: major
"""
RECURRING = """\
id: t.r
kind: recurring
title: 测试
cite: 测试 一、1
severity: high
message: {zh: "{subject}", en: "{subject}"}
subject: {type: enterprise}
evidence: {type: inspection, date: held_on}
every: quarter
"""
TREND = """\
id: t.r
kind: trend
title: 测试
cite: 测试 一、1
severity: high
message: {zh: "{subject}", en: "{subject}"}
subject: {type: enterprise}
count: {type: hazard, date: discovered_on}
"""
DEADLINE = TREND.replace("kind: trend", "kind: deadline").replace(
    "count: {type: hazard, date: discovered_on}\n", ""
)
BOMB = "".join(
    [
        'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]\n',
        *(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)),
    ]
)
CASE = "{name: %s, as_of: 2025-01-01, facts: {}, expect: []}"

# code → the files of a pack under a temporary root ("t/…" is the pack linted; "{root}" is the
# root folder), written as UTF-8 (bytes as they are)
SCENARIOS: dict[str, dict[str, str | bytes]] = {
    "unreadable_file": {"t/x.rule.yaml": b"\xff\xfe\x00 not utf-8"},
    "yaml_syntax": {"t/x.rule.yaml": HEAD + "when: {level: major\n"},
    "yaml_too_large": {"t/x.rule.yaml": BOMB},
    "yaml_too_deep": {
        "t/x.rule.yaml": HEAD + "when: " + "{not: " * 210 + "{level: major}" + "}" * 210 + "\n"
    },
    "condition_too_deep": {
        "t/x.rule.yaml": HEAD + "when: " + "{not: " * 33 + "{level: major}" + "}" * 33 + "\n"
    },
    "condition_too_wide": {
        "t/x.rule.yaml": HEAD + "when: {any: [" + ", ".join(["{level: major}"] * 257) + "]}\n"
    },
    "duplicate_key": {"t/x.rule.yaml": HEAD + "label: general\nwhen: {level: major}\n"},
    "bad_key": {"t/x.rule.yaml": HEAD + "when: {level: major}\n? [a, b]\n: 1\n"},
    "unknown_pack": {"t/pack.yaml": PACK.replace("[core]", "[core, cor]")},
    "invalid_pack": {"t/pack.yaml": PACK.replace("id: t", "id: My_Pack")},
    "duplicate_pack": {
        "t/pack.yaml": PACK.replace("[core]", "[core, '{root}/a', '{root}/b']"),
        "a/pack.yaml": PACK.replace("id: t", "id: dup"),
        "b/pack.yaml": PACK.replace("id: t", "id: dup"),
    },
    "extends_cycle": {
        "t/pack.yaml": PACK.replace("[core]", "[core, c1]"),
        "c1/pack.yaml": PACK.replace("id: t", "id: c1").replace("[core]", "[t]"),
    },
    "timezone_conflict": {"t/pack.yaml": PACK + "timezone: Asia/Tokyo\n"},
    "invalid_list": {"t/lists/x.yaml": "values: [{label: 甲}]\n"},
    "duplicate_list": {
        "t/pack.yaml": PACK.replace("[core]", "[core, l2]"),
        "t/lists/x.yaml": "values: [a]\n",
        "l2/pack.yaml": PACK.replace("id: t", "id: l2"),
        "l2/lists/x.yaml": "values: [a]\n",
    },
    "invalid_schema": {"t/schema.yaml": "types: [hazard]\n"},
    "invalid_field_name": {"t/schema.yaml": "types: {thing: {fields: {'site name': string}}}\n"},
    "invalid_field": {"t/schema.yaml": "types: {thing: {fields: {level: {type: enum}}}}\n"},
    "unknown_field_type": {"t/schema.yaml": "types: {thing: {fields: {count: integer}}}\n"},
    "duplicate_field": {"t/schema.yaml": "types: {hazard: {fields: {level: string}}}\n"},
    "invalid_enum_value": {
        "t/schema.yaml": "types: {thing: {fields: {level: {type: enum, values: [' major']}}}}\n"
    },
    "ambiguous_enum_alias": {
        "t/schema.yaml": "types: {thing: {fields: {level: {type: enum, values: "
        "{major: {aliases: [重大]}, general: {aliases: [重大]}}}}}}\n"
    },
    "reference_cycle": {
        "t/schema.yaml": "types: {a: {fields: {b_id: {ref: b}}}, b: {fields: {a_id: {ref: a}}}}\n"
    },
    "unknown_type": {
        "t/x.rule.yaml": HEAD.replace("for: hazard", "for: hazzard") + "when: {a: 1}\n"
    },
    "invalid_rule": {"t/x.rule.yaml": "- just text\n"},
    "missing_key": {"t/x.rule.yaml": HEAD},
    "unknown_key": {"t/x.rule.yaml": HEAD + "when: {level: major}\nlable: x\n"},
    "unknown_rule_kind": {"t/x.rule.yaml": HEAD.replace("criterion", "critter")},
    "invalid_rule_id": {"t/x.rule.yaml": HEAD.replace("t.r", "leader") + "when: {level: major}\n"},
    "duplicate_rule_id": {
        "t/x.rule.yaml": "- "
        + (HEAD + "when: {level: major}\n").replace("\n", "\n  ") * 1
        + "\n- "
        + (HEAD + "when: {level: general}\n").replace("\n", "\n  ")
    },
    "invalid_value": {"t/x.rule.yaml": HEAD.replace("high", "severe") + "when: {level: major}\n"},
    "malformed_date": {"t/x.rule.yaml": DEADLINE + "evidence: {type: drill}\ndue: soon\n"},
    "malformed_period": {
        "t/x.rule.yaml": TREND + "compare: {period: 2025-Q5, to: 2024, op: lte}\n"
    },
    "invalid_template": {
        "t/x.rule.yaml": HEAD.replace('"{record}", en', '"{subject.name}", en')
        + "when: {level: major}\n"
    },
    "unknown_placeholder": {
        "t/x.rule.yaml": HEAD.replace('"{record}", en', '"{enterprize}", en')
        + "when: {level: major}\n"
    },
    "no_link": {
        "t/x.rule.yaml": DEADLINE.replace("{type: enterprise}", "{type: site}")
        + "evidence: {type: drill}\ndue: 2024-06-30\n"
    },
    "ambiguous_link": {
        "t/schema.yaml": "types: {transfer: {fields: {from_id: {ref: enterprise}, "
        "to_id: {ref: enterprise}, on: date}}}\n",
        "t/x.rule.yaml": DEADLINE + "evidence: {type: transfer, date: on}\ndue: 2024-06-30\n",
    },
    "invalid_condition": {"t/x.rule.yaml": HEAD + "when: {any: {level: major}}\n"},
    "unknown_field": {"t/x.rule.yaml": HEAD + "when: {levle: major}\n"},
    "unknown_operator": {"t/x.rule.yaml": HEAD + "when: {level: {lessthan: 3}}\n"},
    "operator_type_mismatch": {"t/x.rule.yaml": HEAD + "when: {description: {gt: 3}}\n"},
    "operand_type_mismatch": {"t/x.rule.yaml": HEAD + "when: {discovered_on: {lt: true}}\n"},
    "invalid_operand": {"t/x.rule.yaml": HEAD + "when: {level: {in: []}}\n"},
    "unknown_enum_value": {"t/x.rule.yaml": HEAD + "when: {level: majr}\n"},
    "invalid_regex": {"t/x.rule.yaml": HEAD + "when: {description: {matches: '动火('}}\n"},
    "unknown_list": {"t/x.rule.yaml": HEAD + "when: {level: {in: {list: nope}}}\n"},
    "invalid_case": {
        "t/x.rule.yaml": HEAD + "when: {level: major}\n",
        "t/x.cases.yaml": "cases: [{name: a, as_of: 2025-01-01, facts: [1], expect: []}]\n",
    },
    "duplicate_case": {
        "t/x.rule.yaml": HEAD + "when: {level: major}\n",
        "t/x.cases.yaml": f"cases: [{CASE % 'a'}, {CASE % 'a'}]\n",
    },
    "unknown_rule": {
        "t/x.rule.yaml": HEAD + "when: {level: major}\n",
        "t/x.cases.yaml": "cases: [{name: a, as_of: 2025-01-01, facts: {}, "
        "expect: [{rule: t.nope, status: failed}]}]\n",
    },
    "rule_out_of_scope": {
        "t/x.rule.yaml": HEAD + "when: {level: major}\n",
        "t/y.rule.yaml": HEAD.replace("id: t.r", "id: t.y") + "when: {level: general}\n",
        "t/x.cases.yaml": "cases: [{name: a, as_of: 2025-01-01, facts: {}, "
        "expect: [{rule: t.y, status: misclassified}]}]\n",
    },
    "invalid_status": {
        "t/x.rule.yaml": HEAD + "when: {level: major}\n",
        "t/x.cases.yaml": "cases: [{name: a, as_of: 2025-01-01, facts: {}, "
        "expect: [{rule: t.r, status: fail}]}]\n",
    },
    "invalid_severity": {
        "t/x.rule.yaml": HEAD + "when: {level: major}\n",
        "t/x.cases.yaml": "cases: [{name: a, as_of: 2025-01-01, facts: {}, "
        "expect: [{rule: t.r, status: failed, severity: severe}]}]\n",
    },
    "invalid_kind": {
        "t/x.rule.yaml": HEAD + "when: {level: major}\n",
        "t/x.cases.yaml": "cases: [{name: a, as_of: 2025-01-01, facts: {}, "
        "expect: [{rule: t.r, status: failed, kind: criteria}]}]\n",
    },
    "invalid_toml": {"hazard-rules.toml": 'lang = "en\n'},
    "unreadable_config": {"hazard-rules.toml": b"lang = '\xff'\n"},
    "invalid_config": {"pyproject.toml": "[tool]\nhazard-rules = 1\n"},
    "unbounded_recurring": {"t/x.rule.yaml": RECURRING},
    "rule_without_cases": {"t/x.rule.yaml": HEAD + "when: {level: major}\n"},
    "rule_never_fires": {
        "t/x.rule.yaml": HEAD + "when: {level: major}\n",
        "t/x.cases.yaml": f"cases: [{CASE % 'a'}]\n",
    },
    "unsatisfiable_criterion": {
        "t/x.rule.yaml": HEAD + "when: {all: [{level: major}, {level: general}]}\n"
    },
    "always_true_criterion": {"t/x.rule.yaml": HEAD + "when: {level: {in: [general, major]}}\n"},
    "window_outside_effective": {
        "t/x.rule.yaml": RECURRING
        + "window: {from: 2027-01-01}\neffective: {from: 2024-01-01, until: 2026-12-31}\n"
    },
    "overlapping_stricter": {
        "t/x.rule.yaml": RECURRING
        + "window: {from: 2024-01-01}\nstricter:\n"
        + "  - {when: {high_risk: true}, every: month}\n" * 2
    },
    "yaml_tag": {
        "t/x.rule.yaml": HEAD + "why: !!python/object/apply:os.system [ls]\nwhen: {level: major}\n"
    },
    "invalid_map": {"map.yaml": "types: {hazard: {header_row: 0}}\n"},
    "duplicate_column": {"map.yaml": "types: {hazard: {columns: {隐患编号: id, 编码: id}}}\n"},
    "unknown_value": {"map.yaml": "types: {hazard: {values: {level: {Ⅰ级: majr}}}}\n"},
    "invalid_waiver": {"waivers.yaml": "waivers: [{id: W1, rule: t.r, subject: E1}]\n"},
    "duplicate_waiver": {
        "waivers.yaml": "waivers:\n"
        + "  - {id: W1, rule: t.r, subject: E1, reason: r, approved_by: a, approved_on: 2025-01-01}\n"
        * 2
    },
    "invalid_assessment": {"t/pack.yaml": PACK + "assessment: {period: decade}\n"},
}


def _lint(root: Path, files: dict[str, str | bytes]) -> list[Diagnostic]:
    """Lint the scenario's pack; a scenario with ``map.yaml`` or ``waivers.yaml`` loads that
    document instead (against the core schema)."""
    if "map.yaml" in files or "waivers.yaml" in files:
        return _document(root, files)
    if "hazard-rules.toml" in files or "pyproject.toml" in files:
        return _config(root, files)
    files = {"t/pack.yaml": PACK, **files}
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{root}", str(root)), encoding="utf-8")
    return lint_packs([root / "t"], strict=True)


def _document(root: Path, files: dict[str, str | bytes]) -> list[Diagnostic]:
    from hazard_rules import load_column_map, load_packs
    from hazard_rules.assess.waivers import load_waivers
    from hazard_rules.errors import DocumentError

    ((name, content),) = files.items()
    path = root / name
    path.write_text(str(content), encoding="utf-8")
    try:
        if name == "map.yaml":
            load_column_map(path, load_packs("core").schema)
        else:
            load_waivers(path)
    except DocumentError as exc:
        return exc.diagnostics
    return []


def _config(root: Path, files: dict[str, str | bytes]) -> list[Diagnostic]:
    from hazard_rules.cli.config import load_config
    from hazard_rules.errors import ConfigError

    ((name, content),) = files.items()
    path = root / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as exc:
        return exc.diagnostics
    return []


def test_every_code_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_is_produced(tmp_path: Path, code: str) -> None:
    found = _lint(tmp_path, SCENARIOS[code])
    assert code in {d.code for d in found}, [str(d) for d in found]


def _source_codes() -> dict[str, list[str]]:
    """Code literals in the source: the code argument of ``Diagnostic(...)``/``…err(...)``
    calls, and text chosen between two codes (``a if … else b``) for one."""
    out: dict[str, list[str]] = {}
    word = re.compile(r"[a-z]+(_[a-z]+)+|[a-z]+")
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if name != "Diagnostic" and not name.endswith("err"):
                continue
            arg = node.args[1]
            choices = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            for c in choices:
                if isinstance(c, ast.Constant) and isinstance(c.value, str):
                    assert word.fullmatch(c.value), (path, node.lineno, c.value)
                    out.setdefault(c.value, []).append(f"{path.name}:{node.lineno}")
    return out


def test_the_source_uses_exactly_the_codes_of_the_table() -> None:
    used = _source_codes()
    # the two lint codes chosen by a variable, and the case-file and link codes
    variable = {"unsatisfiable_criterion", "always_true_criterion", "no_link", "ambiguous_link"}
    assert set(used) - set(CODES) == set(), "undeclared codes: add them to diagnostics.py"
    assert set(CODES) - set(used) - variable == set(), "codes in the table that nothing uses"
    for code in variable:
        assert any(f'"{code}"' in p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))


def test_an_undeclared_code_is_refused() -> None:
    with pytest.raises(ValueError, match="undeclared diagnostic code 'no_such_code'"):
        Diagnostic(SourceSpan("x"), "no_such_code", "message")


def test_the_table_is_well_formed() -> None:
    for c in CODES.values():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", c.code)
        assert c.stage in STAGES and c.meaning.endswith(".") and c.example


def test_docs_are_the_table_rendered() -> None:
    doc = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert doc == render_markdown(), "docs/diagnostics.md is stale: run `make docs`"
