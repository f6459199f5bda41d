"""The diagnostic codes: every code a :class:`~hazard_rules.errors.Diagnostic` can carry, with
its meaning and an example, declared once here.

Codes are stable snake_case names that users and tools match on
(``path:line:column: code: message``). :class:`~hazard_rules.errors.Diagnostic` refuses a
code this table does not declare, so a code is added by adding its row here (and a case that
produces it to ``tests/test_diagnostic_codes.py``). ``docs/diagnostics.md`` is generated from
the table by :func:`render_markdown` (``make docs``), and a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CODES", "STAGES", "Code", "render_markdown"]


@dataclass(frozen=True)
class Code:
    """One diagnostic code: where it is found, what it means, a minimal example."""

    code: str
    stage: str  # a key of STAGES
    meaning: str
    example: str  # the YAML (or situation) that produces it


# where codes are found, in pipeline order
STAGES = {
    "yaml": "reading any YAML file (`_yaml.py`)",
    "pack": "`pack.yaml`, `extends` and named lists (`packs.py`)",
    "schema": "`schema.yaml` (`schema.py`)",
    "rule": "rule files: keys, kinds, messages, dates (`lower/rules.py`, `lower/time_rules.py`)",
    "condition": "conditions: fields, operators, operands (`lower/conditions.py`)",
    "case": "case files, `*.cases.yaml` (`testing/cases.py`)",
    "map": "column maps, `--map` (`io/maps.py`)",
    "waiver": "waiver files, `--waivers` (`assess/waivers.py`)",
    "assessment": "a pack's `assessment:` section (`assess/config.py`)",
    "config": "configuration files, `hazard-rules.toml` or `[tool.hazard-rules]` (`cli/config.py`)",
    "lint": "authoring checks of `hazard-rules lint` (`testing/lint.py`; most with `--strict`)",
}

_ROWS = (
    # -- yaml -----------------------------------------------------------------------------------
    Code("unreadable_file", "yaml", "A file cannot be opened or is not UTF-8 text.",
         "a rule file saved as GBK"),
    Code("yaml_syntax", "yaml", "The file is not valid YAML.",
         "when: {level: major"),
    Code("yaml_too_large", "yaml",
         "Aliases expand the document past the size limit (a \"billion laughs\").",
         'a: &a ["x", "x"]\nb: &b [*a, *a]\n# … nine levels deep'),
    Code("yaml_too_deep", "yaml", "Mappings and lists nest more than 200 levels deep.",
         "when: {not: {not: {not: …}}}   # 200 levels"),
    Code("duplicate_key", "yaml", "A mapping names the same key twice.",
         "label: major\nlabel: general"),
    Code("bad_key", "yaml", "A mapping key is a list or a mapping, not a scalar.",
         "? [a, b]\n: 1"),
    Code("yaml_tag", "yaml",
         "A YAML tag (`!!python/…`, `!!set`, `!!binary`, `!custom`): only plain values are read.",
         "message: !!python/object/apply:os.system {args: [ls]}"),
    # -- pack -----------------------------------------------------------------------------------
    Code("unknown_pack", "pack", "No bundled pack has this id and no folder with `pack.yaml` this path.",
         "extends: [cor]"),
    Code("invalid_pack", "pack",
         "`pack.yaml` is not a mapping, its id is not lower-case letters, digits and `-`, or "
         "its time zone is unknown.",
         "id: My_Pack"),
    Code("duplicate_pack", "pack", "Two folders loaded together declare the same pack id.",
         "two copies of a pack, loaded together"),
    Code("extends_cycle", "pack", "Packs extend each other in a cycle.",
         "a: extends: [b]; b: extends: [a]"),
    Code("timezone_conflict", "pack", "Packs loaded together declare different time zones.",
         "timezone: Asia/Tokyo   # while core uses Asia/Shanghai"),
    Code("invalid_list", "pack", "A named list file is not `values: [...]`, or an entry has no value.",
         "values: [{label: 甲}]"),
    Code("duplicate_list", "pack", "Two packs loaded together define a named list of the same name.",
         "lists/sectors.yaml in two packs"),
    # -- schema ---------------------------------------------------------------------------------
    Code("invalid_schema", "schema",
         "A schema file, its `types` or a type is not a mapping, or a type's `date` is not a "
         "date field.",
         "types: [hazard]"),
    Code("invalid_field_name", "schema", "A field name is not an identifier.",
         "fields: {\"site name\": string}"),
    Code("invalid_field", "schema",
         "A field declaration is malformed: no type, `ref` and `type` together, `values` on a "
         "non-enum, an enum without values, repeated values.",
         "fields: {level: {type: enum}}"),
    Code("unknown_field_type", "schema", "A field's type is not one of the field types.",
         "fields: {count: integer}"),
    Code("duplicate_field", "schema",
         "A field (or a type's label/date, or an enum value's label) is declared again with a "
         "different meaning.",
         "hazard.level declared as enum, then as string"),
    Code("invalid_enum_value", "schema", "An enum value is not plain text without surrounding spaces.",
         'values: [" major"]'),
    Code("ambiguous_enum_alias", "schema",
         "An alias or label would stand for two different values of one enum.",
         "values: {major: {aliases: [重大]}, general: {aliases: [重大]}}"),
    Code("reference_cycle", "schema", "Reference fields form a cycle of required references.",
         "a: {b_id: {ref: b}}; b: {a_id: {ref: a}}"),
    Code("unknown_type", "schema",
         "A record type is not in the schema (a reference's target, a rule's `for`, a subject, "
         "evidence, or the pack's `subject`).",
         "for: hazzard"),
    # -- rule -----------------------------------------------------------------------------------
    Code("invalid_rule", "rule", "A rule file is empty, or a rule is not a mapping.",
         "- just text"),
    Code("missing_key", "rule",
         "A required key is absent (a rule's `kind`, `id`, `message` …; a case's `as_of` …).",
         "kind: criterion   # without `when`"),
    Code("unknown_key", "rule", "A key that is not allowed here (with a \"did you mean\").",
         "lable: major"),
    Code("unknown_rule_kind", "rule", "`kind` is not criterion, check, deadline, recurring or trend.",
         "kind: critter"),
    Code("invalid_rule_id", "rule", "A rule id is not `<pack>.<name>` of the pack declaring it.",
         "id: leader-inspection"),
    Code("duplicate_rule_id", "rule", "A rule id is declared twice in the packs loaded together.",
         "two rules with id: t.same"),
    Code("invalid_value", "rule",
         "A value has the wrong shape: severity, every, at_least, label, message, window, "
         "`due`, and the like.",
         "severity: severe"),
    Code("malformed_date", "rule", "A date is not a valid `YYYY-MM-DD` date.",
         "due: 2024-02-30"),
    Code("malformed_period", "rule", "A period label is not `2024-05`, `2024-Q2`, `2024-H1` or `2024`.",
         "compare: {period: 2025-Q5, to: 2024, op: lte}"),
    Code("invalid_template", "rule",
         "A message placeholder is not a plain `{name}` (no attributes, indexes, formats).",
         'message: {zh: "{subject.name}", en: "x"}'),
    Code("unknown_placeholder", "rule", "A message placeholder names no value a finding has.",
         'message: {zh: "{enterprize}", en: "x"}'),
    Code("no_link", "rule", "The evidence type has no reference field to the subject type.",
         "subject: {type: site}\nevidence: {type: drill}"),
    Code("ambiguous_link", "rule",
         "The evidence type refers to the subject type through several fields; name one with `via`.",
         "evidence: {type: transfer}   # from_id and to_id both refer to enterprise"),
    # -- condition ------------------------------------------------------------------------------
    Code("invalid_condition", "condition",
         "A condition is not a mapping, `all`/`any` is not a list, `at_least` is malformed, or a "
         "value is null.",
         "when: {any: {level: major}}"),
    Code("condition_too_deep", "condition",
         "Conditions nest more than 32 levels of all/any/not/at_least.",
         "when: {not: {not: {not: …}}}   # 33 levels"),
    Code("condition_too_wide", "condition",
         "An all/any/at_least list has more than 256 conditions (use a named list).",
         "when: {any: [ … 257 conditions … ]}"),
    Code("unknown_field", "condition",
         "A field path names a field (or reference) the record type does not have.",
         "when: {levle: major}"),
    Code("unknown_operator", "condition", "An operator that is not in the operator table.",
         "when: {people_count: {lessthan: 3}}"),
    Code("operator_type_mismatch", "condition", "The operator does not fit the field's type.",
         "when: {description: {gt: 3}}"),
    Code("operand_type_mismatch", "condition",
         "The operand cannot be compared with the field (a literal or a `{ref: field}` of "
         "another type).",
         "when: {discovered_on: {lt: yes}}"),
    Code("invalid_operand", "condition",
         "The operand has the wrong shape for its operator (between's pair, a non-empty list, "
         "exists' true/false …).",
         "when: {people_count: {between: [9, 3]}}"),
    Code("unknown_enum_value", "condition", "An enum literal (or a criterion's label) is not a declared value.",
         "when: {level: majr}"),
    Code("invalid_regex", "condition", "A regular expression (matches, hints) does not compile.",
         'when: {description: {matches: "动火("}}'),
    Code("unknown_list", "condition", "`{list: NAME}` names no list in the loaded packs.",
         "when: {sectors: {contains_any: {list: no_such_list}}}"),
    # -- case -----------------------------------------------------------------------------------
    Code("invalid_case", "case",
         "A case file, case or expectation has the wrong shape (`facts`, `expect`, `scope` …).",
         "cases: [{name: x, as_of: 2024-01-01, facts: [], expect: []}]"),
    Code("duplicate_case", "case", "Two cases of one file share a name.",
         "two cases named: 正常"),
    Code("unknown_rule", "case",
         "An expectation, classification or candidate names a rule no loaded pack has (also: a "
         "veto of a pack's `assessment` whose rules match no loaded rule).",
         "expect: [{rule: t.nope, status: failed}]"),
    Code("rule_out_of_scope", "case",
         "A case beside a rule file expects a finding of another file's rule, which it never "
         "judges (`scope: pack` at the top of the case file judges every rule).",
         "x.cases.yaml: expect: [{rule: t.rule-of-y, status: failed}]"),
    Code("invalid_status", "case", "An expectation's `status` is not a status findings have.",
         "expect: [{rule: t.r, status: fail}]"),
    Code("invalid_severity", "case", "An expectation's `severity` is not critical, high, medium or low.",
         "expect: [{rule: t.r, status: failed, severity: severe}]"),
    Code("invalid_kind", "case", "An expectation's `kind` is not a rule kind.",
         "expect: [{rule: t.r, status: failed, kind: criteria}]"),
    # -- lint -----------------------------------------------------------------------------------
    Code("unbounded_recurring", "lint",
         "A recurring rule has neither `window.from` nor `effective.from`, so no period is ever "
         "required.",
         "kind: recurring   # without window"),
    Code("rule_without_cases", "lint", "(--strict) No case file covers the rule.",
         "x.rule.yaml without x.cases.yaml"),
    Code("rule_never_fires", "lint", "(--strict) No case makes the rule produce a finding.",
         "every case of the rule expects []"),
    Code("unsatisfiable_criterion", "lint", "(--strict) No record can satisfy the criterion's `when`.",
         "when: {all: [{level: major}, {level: general}]}"),
    Code("always_true_criterion", "lint",
         "(--strict) Every record the criterion applies to satisfies its `when`.",
         "when: {level: {in: [general, major]}}"),
    Code("window_outside_effective", "lint",
         "(--strict) A recurring rule's window lies outside its effective span.",
         "window: {from: 2027-01-01}\neffective: {until: 2026-12-31}"),
    Code("overlapping_stricter", "lint",
         "(--strict) A stricter variant repeats an earlier one's condition and never applies.",
         "stricter: [{when: {high_risk: true}, …}, {when: {high_risk: true}, …}]"),
    # -- map ------------------------------------------------------------------------------------
    Code("invalid_map", "map",
         "A column map's shape is wrong: no `types`, a `header_row` that is not a row number, a "
         "value map on a field that is not an enum or bool, a column both mapped and ignored.",
         "types: {hazard: {header_row: 0}}"),
    Code("duplicate_column", "map", "Two source columns are mapped to one field.",
         "columns: {隐患编号: id, 编码: id}"),
    Code("unknown_value", "map", "A value map names a value the field does not have.",
         "values: {level: {Ⅰ级: majr}}"),
    # -- waiver ---------------------------------------------------------------------------------
    Code("invalid_waiver", "waiver",
         "A waiver lacks a required key, names both `period` and `record`, has a bad period, or "
         "expires before it was approved.",
         "- {id: W1, rule: t.r, subject: E1}   # no reason, approved_by, approved_on"),
    Code("duplicate_waiver", "waiver", "Two waivers have the same id.",
         "two waivers with id: W1"),
    # -- assessment -----------------------------------------------------------------------------
    Code("invalid_assessment", "assessment",
         "The `assessment` section is malformed: an unknown period or severity, a weight that "
         "is not a number ≥ 0, a veto status that is not a status, a `where` on rules of "
         "different record types or on time-based rules.",
         "assessment: {period: decade}"),
    # -- config ---------------------------------------------------------------------------------
    Code("invalid_toml", "config", "The configuration file is not valid TOML.",
         'lang = "en'),
    Code("unreadable_config", "config",
         "The configuration file cannot be read (missing, not UTF-8) — also a `--config` that names no file.",
         "--config no-such.toml"),
    Code("invalid_config", "config", "`tool.hazard-rules` in pyproject.toml is not a table.",
         "[tool]\nhazard-rules = 1"),
)  # fmt: skip

CODES: dict[str, Code] = {c.code: c for c in _ROWS}


def render_markdown() -> str:
    """docs/diagnostics.md: every code, by stage, with its meaning and example."""
    out = [
        "# Diagnostic codes",
        "",
        "Every problem found in a rule pack is reported as `path:line:column: code: message`",
        "(exit code 2). The codes below are stable: match on them, not on messages. This page is",
        "generated from the table in `src/hazard_rules/diagnostics.py` (`make docs`);",
        "`tests/test_diagnostic_codes.py` checks that it is current, that the code uses no other",
        "code, and that a test produces every one of them.",
        "",
        f"{len(CODES)} codes.",
    ]
    for stage, where in STAGES.items():
        out += ["", f"## {stage}: {where}", "", "| code | meaning | example |", "|---|---|---|"]
        for c in _ROWS:
            if c.stage == stage:
                example = c.example.replace("|", "\\|").replace("\n", "; ")
                out.append(f"| `{c.code}` | {c.meaning} | `{example}` |")
    return "\n".join(out) + "\n"
