"""JUnit XML for CI dashboards: one test suite per pack, one test case per rule × subject.

A subject with findings of a rule is a failing case (``classname`` the rule id, ``name`` the
subject), its ``<failure>`` listing each finding (status, period or record, due date,
message); a rule with no finding at all is one passing case named ``(all subjects)``, so a
report of ten thousand enterprises does not hold a million passing cases. Rejected records
are written to the run's ``<system-err>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from hazard_rules.ir import Rule
from hazard_rules.output.locations import finding_location
from hazard_rules.results import Result, Violation

__all__ = ["result_junit"]

PASSED = "(all subjects)"


def _line(v: Violation, lang: str) -> str:
    where = [v.period or (f"{v.record.type} {v.record.id}" if v.record else "")]
    if v.due:
        where.append(f"due {v.due.isoformat()}")
    message = v.message if lang == "zh" else v.message_en
    return f"{v.status}: {', '.join(w for w in where if w)} — {message}"


def result_junit(
    result: Result,
    rules: Sequence[Rule],
    sources: dict[tuple[str, str], str],
    lang: str = "zh",
) -> str:
    """The JUnit XML of one check run."""
    by_rule: dict[str, dict[tuple[str, str], list[Violation]]] = {}
    for v in result.violations:
        by_rule.setdefault(v.rule, {}).setdefault((v.subject.type, v.subject.id), []).append(v)
    root = ET.Element("testsuites", name="hazard-rules")
    total = failures = 0
    packs: dict[str, list[Rule]] = {}
    for r in sorted(rules, key=lambda r: r.meta.id):
        packs.setdefault(r.meta.pack, []).append(r)
    for pack, pack_rules in packs.items():
        suite = ET.SubElement(root, "testsuite", name=pack)
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="as_of", value=result.as_of.isoformat())
        tests = fails = 0
        for r in pack_rules:
            m = r.meta
            span = m.span
            found = by_rule.get(m.id, {})
            if not found:
                ET.SubElement(
                    suite,
                    "testcase",
                    classname=m.id,
                    name=PASSED,
                    file=span.path,
                    line=str(span.line),
                    time="0",
                )
                tests += 1
                continue
            for (stype, sid), vs in sorted(found.items()):
                loc = finding_location(vs[0], sources, str(span))
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=m.id,
                    name=sid if stype == "enterprise" else f"{stype} {sid}",
                    file=loc.path,
                    line=str(loc.line or loc.row or 0),
                    time="0",
                )
                failure = ET.SubElement(
                    case,
                    "failure",
                    type=",".join(sorted({v.status for v in vs})),
                    message=f"{m.title} ({m.cite}): {len(vs)} finding(s), severity {m.severity}",
                )
                failure.text = "\n".join(_line(v, lang) for v in vs)
                tests += 1
                fails += 1
        suite.set("tests", str(tests))
        suite.set("failures", str(fails))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        suite.set("time", "0")
        total += tests
        failures += fails
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", "0")
    if result.rejected:
        err = ET.SubElement(root, "system-err")
        err.text = "\n".join(
            f"rejected {r.source}: {r.type} {r.id or ''} {r.field or ''}: {r.reason}"
            for r in result.rejected
        )
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
