"""Load-time errors of SPEC §3.2: each kind with its code, line and column; all of them at once.

Positions are 1-based; expected columns are computed from the rule text itself (``at``), so a
test states *which token* the error must point at.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from hazard_rules import Diagnostic, PackError, load_packs
from hazard_rules.cli import main

HEAD = """\
- id: {rid}
  kind: criterion
  title: 测试规则
  cite: 测试 一、1
  severity: high
  message: {{zh: "{{record}}", en: "{{record}}"}}
  for: hazard
  label: major
"""


def criterion(rid: str, when: str) -> str:
    """A criterion rule (as a list item) on hazard whose ``when`` is the given YAML block."""
    return HEAD.format(rid=rid) + "  when:\n" + textwrap.indent(textwrap.dedent(when), "    ")


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """(line, column), 1-based, of the ``nth`` occurrence of ``needle`` in ``text``."""
    pos = -1
    for _ in range(nth):
        pos = text.index(needle, pos + 1)
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


Errors = Callable[..., list[Diagnostic]]


@pytest.fixture
def errors(make_pack: Callable[..., Path]) -> Errors:
    """``errors({file: text})`` → the diagnostics of loading that pack (it must fail)."""

    def go(files: dict[str, str], **kw: object) -> list[Diagnostic]:
        folder = make_pack(files, **kw)
        with pytest.raises(PackError) as info:
            load_packs(folder)
        for diag in info.value.diagnostics:
            assert Path(diag.span.path).resolve().parent == folder.resolve()
        return info.value.diagnostics

    return go


def located(diags: list[Diagnostic]) -> list[tuple[str, int, int, str]]:
    return [(Path(x.span.path).name, x.span.line, x.span.column, x.code) for x in diags]


def test_unknown_field_with_did_you_mean(errors: Errors):
    text = criterion("t.a", "levle: major\n")
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, "levle"), "unknown_field")]
    assert "did you mean 'level'" in diags[0].message


def test_unknown_field_in_dotted_path(errors: Errors):
    text = criterion("t.a", "enterprise.high_risc: true\n")
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, "enterprise.high_risc"), "unknown_field")]
    assert "did you mean 'high_risk'" in diags[0].message


def test_unknown_reference_in_dotted_path(errors: Errors):
    text = criterion("t.a", "enterprize.high_risk: true\n")
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, "enterprize"), "unknown_field")]
    assert "did you mean 'enterprise'" in diags[0].message


@pytest.mark.parametrize(
    ("when", "op"),
    [
        ("description: {gt: 3}\n", "gt"),  # string: no ordering
        ("discovered_on: {contains: 2024}\n", "contains"),  # date
        ("level: {matches: maj}\n", "matches"),  # enum
        ("enterprise.high_risk: {lt: true}\n", "lt"),  # bool
        ("enterprise.sectors: {eq: commerce}\n", "eq"),  # list
        ("enterprise.sectors: {in: [commerce]}\n", "in"),  # list
        ("discovered_on: {in: [2024-01-01]}\n", "in"),  # date
        ("level: {contains_any: [major]}\n", "contains_any"),  # enum
    ],
)
def test_operator_that_does_not_fit_the_field_type(errors: Errors, when: str, op: str):
    text = criterion("t.a", when)
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, op + ":"), "operator_type_mismatch")]


def test_scalar_on_a_list_field_is_an_operator_mismatch(errors: Errors):
    text = criterion("t.a", "enterprise.sectors: commerce\n")
    diags = errors({"a.rule.yaml": text})
    assert [x.code for x in diags] == ["operator_type_mismatch"]
    assert (diags[0].span.line, diags[0].span.column) == at(text, "commerce")


def test_unknown_operator(errors: Errors):
    text = criterion("t.a", "discovered_on: {lessthan: 2024-01-01}\n")
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, "lessthan"), "unknown_operator")]


@pytest.mark.parametrize(
    ("when", "needle"),
    [
        ("level: majr\n", "majr"),
        ("level: {in: [general, severe]}\n", "severe"),
        ("found_by: {ne: boss}\n", "boss"),
        ("enterprise.sectors: {contains: retail}\n", "retail"),
        ("enterprise.sectors: {contains_all: [commerce, shops]}\n", "shops"),
    ],
)
def test_enum_value_not_declared(errors: Errors, when: str, needle: str):
    text = criterion("t.a", when)
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, needle), "unknown_enum_value")]


def test_enum_value_not_declared_with_did_you_mean(errors: Errors):
    text = criterion("t.a", "level: majr\n")
    (diag,) = errors({"a.rule.yaml": text})
    assert "did you mean 'major'" in diag.message


@pytest.mark.parametrize(
    ("when", "needle"),
    [
        ("discovered_on: {lte: 2024-13-45}\n", "2024-13-45"),
        ('rectify_by: {gt: "2024-02-30"}\n', '"2024-02-30"'),
        ("discovered_on: {between: [2024-01-01, 2024-1x-01]}\n", "2024-1x-01"),
        ("discovered_on: 31/12/2024\n", "31/12/2024"),
    ],
)
def test_malformed_date(errors: Errors, when: str, needle: str):
    text = criterion("t.a", when)
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, needle), "malformed_date")]


RULE_WITH_DUE = {
    "check": """\
        id: t.d
        kind: check
        title: 测试
        cite: 测试 一、1
        severity: low
        message: {zh: "{record}", en: "{record}"}
        for: hazard
        due: 2024-06-31
        done: rectified_on
        """,
    "deadline": """\
        id: t.d
        kind: deadline
        title: 测试
        cite: 测试 一、1
        severity: low
        message: {zh: "{subject}", en: "{subject}"}
        subject: {type: enterprise}
        evidence: {type: document, where: {doc_type: work_plan}, date: submitted_on}
        due: 2024-06-31
        """,
}


@pytest.mark.parametrize(
    "kind",
    [
        "check",
        "deadline",
    ],
)
def test_malformed_date_in_a_rule_key(errors: Errors, kind: str):
    text = textwrap.dedent(RULE_WITH_DUE[kind])
    diags = errors({"d.rule.yaml": text})
    assert located(diags) == [("d.rule.yaml", *at(text, "2024-06-31"), "malformed_date")]


def test_invalid_regular_expression(errors: Errors):
    text = criterion("t.a", 'description: {matches: "动火("}\n')
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, '"动火("'), "invalid_regex")]


def test_duplicate_rule_id_in_one_file(errors: Errors):
    text = criterion("t.a", "level: major\n") + criterion("t.a", "level: general\n")
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, "id: t.a", 2), "duplicate_rule_id")]
    assert "a.rule.yaml:1:3" in diags[0].message  # names the first definition


def test_duplicate_rule_id_across_files(errors: Errors):
    a = criterion("t.a", "level: major\n")
    b = criterion("t.b", "level: major\n") + criterion("t.a", "level: general\n")
    diags = errors({"a.rule.yaml": a, "b.rule.yaml": b})
    assert located(diags) == [("b.rule.yaml", *at(b, "id: t.a"), "duplicate_rule_id")]
    assert "a.rule.yaml:1:3" in diags[0].message


def test_duplicate_rule_id_reported_with_other_errors(errors: Errors):
    text = criterion("t.a", "levle: major\n") + criterion("t.a", "level: general\n")
    diags = errors({"a.rule.yaml": text})
    assert sorted(x.code for x in diags) == ["duplicate_rule_id", "unknown_field"]


def test_unknown_rule_kind(errors: Errors):
    text = HEAD.format(rid="t.a").replace("kind: criterion", "kind: critter")
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, "critter"), "unknown_rule_kind")]
    assert "did you mean 'criterion'" in diags[0].message


def test_unknown_key_in_a_rule(errors: Errors):
    text = criterion("t.a", "level: major\n") + "  lable: x\n"
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, "lable"), "unknown_key")]
    assert "did you mean 'label'" in diags[0].message


def test_unknown_key_in_a_nested_mapping(errors: Errors):
    text = textwrap.dedent(
        """\
        id: t.r
        kind: recurring
        title: 测试
        cite: 测试 一、1
        severity: low
        message: {zh: "{subject}", en: "{subject}"}
        subject: {type: enterprise}
        evidence: {type: inspection, date: held_on, wehre: {led_by: principal}}
        every: quarter
        window: {from: 2024-01-01, untill: 2024-12-31}
        """
    )
    diags = errors({"r.rule.yaml": text})
    assert located(diags) == [
        ("r.rule.yaml", *at(text, "wehre"), "unknown_key"),
        ("r.rule.yaml", *at(text, "untill"), "unknown_key"),
    ]


def test_unknown_key_in_pack_yaml(make_pack: Callable[..., Path]):
    folder = make_pack({"a.rule.yaml": criterion("t.a", "level: major\n")})
    text = (folder / "pack.yaml").read_text(encoding="utf-8") + "extend: [core]\n"
    (folder / "pack.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PackError) as info:
        load_packs(folder)
    assert located(info.value.diagnostics) == [("pack.yaml", *at(text, "extend:"), "unknown_key")]


@pytest.mark.parametrize(
    ("when", "needle"),
    [
        ("level: {eq: 3}\n", "3"),
        ("discovered_on: {gt: 5}\n", "5"),
        ('enterprise.high_risk: "yes"\n', '"yes"'),
    ],
)
def test_comparing_different_types_is_a_load_error(errors: Errors, when: str, needle: str):
    text = criterion("t.a", when)
    diags = errors({"a.rule.yaml": text})
    assert [x.code for x in diags] == ["operand_type_mismatch"]
    assert (diags[0].span.line, diags[0].span.column) == at(text, needle)


def test_ref_operand_of_another_type_is_a_load_error(errors: Errors):
    text = criterion("t.a", "discovered_on: {lt: {ref: description}}\n")
    diags = errors({"a.rule.yaml": text})
    assert [x.code for x in diags] == ["operand_type_mismatch"]
    assert diags[0].span.line == at(text, "discovered_on")[0]


def test_message_template_with_attribute_access_is_refused(errors: Errors):
    text = criterion("t.a", "level: major\n").replace(
        '{zh: "{record}", en: "{record}"}', '{zh: "{a.b}", en: "{record[0]}"}'
    )
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [
        ("a.rule.yaml", *at(text, '"{a.b}"'), "invalid_template"),
        ("a.rule.yaml", *at(text, '"{record[0]}"'), "invalid_template"),
    ]


def test_message_template_unknown_placeholder(errors: Errors):
    text = criterion("t.a", "level: major\n").replace('en: "{record}"', 'en: "{recrod}"')
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, '"{recrod}"'), "unknown_placeholder")]


THREE_MISTAKES = criterion(
    "t.a",
    """\
    levle: major
    description: {gt: 3}
    found_by: {in: [self_inspection, boss]}
    """,
)


def test_three_mistakes_are_reported_together(errors: Errors):
    diags = errors({"a.rule.yaml": THREE_MISTAKES})
    assert located(diags) == [
        ("a.rule.yaml", *at(THREE_MISTAKES, "levle"), "unknown_field"),
        ("a.rule.yaml", *at(THREE_MISTAKES, "gt:"), "operator_type_mismatch"),
        ("a.rule.yaml", *at(THREE_MISTAKES, "boss"), "unknown_enum_value"),
    ]


def test_lint_prints_three_located_errors_and_exits_2(
    make_pack: Callable[..., Path], capsys: pytest.CaptureFixture[str]
):
    folder = make_pack({"a.rule.yaml": THREE_MISTAKES})
    assert main(["lint", str(folder)]) == 2
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ".rule.yaml:" in ln]
    assert len(lines) == 3
    for ln, needle, code in zip(
        lines,
        ["levle", "gt:", "boss"],
        ["unknown_field", "operator_type_mismatch", "unknown_enum_value"],
        strict=True,
    ):
        line, col = at(THREE_MISTAKES, needle)
        assert f"a.rule.yaml:{line}:{col}: {code}: " in ln


def test_errors_in_several_files_are_reported_together(errors: Errors):
    a = criterion("t.a", "levle: major\n")
    b = "- id: t.b\n  kind: [unclosed\n"
    c = HEAD.format(rid="t.c").replace("kind: criterion", "kind: crit")
    diags = errors({"a.rule.yaml": a, "b.rule.yaml": b, "c.rule.yaml": c})
    assert [(Path(x.span.path).name, x.code) for x in diags] == [
        ("a.rule.yaml", "unknown_field"),
        ("b.rule.yaml", "yaml_syntax"),
        ("c.rule.yaml", "unknown_rule_kind"),
    ]


def test_yaml_syntax_error_is_located(errors: Errors):
    text = textwrap.dedent(
        """\
        id: t.a
        kind: criterion
        title: 测试
        cite: 测试
        severity: high
        message: {zh: "{record}", en: "{record}"}
        for: hazard
        when: {level: major
        label: major
        """
    )
    diags = errors({"a.rule.yaml": text})
    assert [(x.code, x.span.line) for x in diags] == [("yaml_syntax", 9)]
    assert diags[0].span.column >= 1


def test_duplicate_yaml_key_is_located(errors: Errors):
    text = criterion("t.a", "level: major\n").replace(
        "  cite: 测试 一、1\n", "  cite: 测试 一、1\n  cite: 测试 一、2\n"
    )
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, "cite:", 2), "duplicate_key")]


def test_diagnostic_renders_as_file_line_column_code_message(errors: Errors):
    text = criterion("t.a", "levle: major\n")
    (diag,) = errors({"a.rule.yaml": text})
    line, col = at(text, "levle")
    assert str(diag) == f"{diag.span.path}:{line}:{col}: unknown_field: {diag.message}"


def test_yaml_tags_are_not_constructed(errors: Errors):
    # a safe loader: a Python tag is a YAML error, never an object
    text = criterion("t.a", "level: !!python/name:os.system major\n")
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, "!!python"), "yaml_tag")]


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:os.system {args: [ls]}",
        "!!python/object/apply:os.system [ls]",
        "!!set {a, b}",
        "!!binary aGk=",
        "!custom x",
    ],
)
def test_yaml_tags_anywhere_are_refused_where_they_are(errors: Errors, value: str):
    text = HEAD.format(rid="t.a") + f"  why: {value}\n" + "  when: {level: major}\n"
    diags = errors({"a.rule.yaml": text})
    assert located(diags) == [("a.rule.yaml", *at(text, value.split()[0]), "yaml_tag")]


def test_merge_keys_work_as_yaml_defines(make_pack):
    text = (
        "- &base\n  "
        + HEAD.format(rid="t.a")[2:]
        + "  when: {level: major}\n"
        + "- <<: *base\n  id: t.b\n  severity: low\n"
    )
    packs = load_packs(make_pack({"a.rule.yaml": text}))
    rules = {r.meta.id: r.meta.severity for r in packs.rules}
    assert rules == {"t.a": "high", "t.b": "low"}


def test_a_type_that_refers_to_itself_is_refused_in_the_schema_file(make_pack):
    schema = "types:\n  hazard:\n    fields:\n      parent_id: {ref: hazard, optional: true}\n"
    with pytest.raises(PackError) as exc:
        load_packs(make_pack(schema=schema))
    (d,) = exc.value.diagnostics
    assert d.code == "reference_cycle" and d.span.path.endswith("schema.yaml")
    assert d.span.line == 4


def test_a_cycle_of_references_is_located_in_the_schema_file(make_pack):
    schema = (
        "types:\n  a:\n    fields:\n      b_id: {ref: b}\n  b:\n    fields:\n      a_id: {ref: a}\n"
    )
    with pytest.raises(PackError) as exc:
        load_packs(make_pack(schema=schema))
    (d,) = exc.value.diagnostics
    assert d.code == "reference_cycle" and d.span.path.endswith("schema.yaml")
    assert d.span.line in (4, 7) and "cycle" in d.message


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [
        (r"(动火)\\1", "backreferences"),
        ("动火(?=作业)", "lookaround"),
        ("(?<!未)整改", "lookaround"),
    ],
)
def test_patterns_the_linear_engine_cannot_run_are_located_with_a_suggestion(
    errors: Errors, pattern: str, needle: str
):
    text = criterion("t.a", f'description: {{matches: "{pattern}"}}\n')
    diags = errors({"a.rule.yaml": text})
    assert [(d.code, needle in d.message) for d in diags] == [("invalid_regex", True)]
    assert (diags[0].span.line, diags[0].span.column) == at(text, '"' + pattern[:2])


def test_a_huge_pattern_is_refused_quickly(errors: Errors):
    text = criterion("t.a", "description: {matches: '" + "a" * 200_000 + "'}\n")
    diags = errors({"a.rule.yaml": text})
    assert [d.code for d in diags] == ["invalid_regex"]
    assert "longer than 10,000 characters" in diags[0].message
    assert len(diags[0].message) < 400


def test_hints_go_through_the_same_engine(errors: Errors):
    text = criterion("t.a", "level: major\n") + '  hints: ["(a)\\\\1"]\n'
    diags = errors({"a.rule.yaml": text})
    assert [d.code for d in diags] == ["invalid_regex"]
