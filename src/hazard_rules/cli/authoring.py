"""``lint``, ``test``, ``packs``, ``explain`` and ``schema``: the commands about rule packs."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from hazard_rules.cli.common import open_output, pack_hint, pack_option, packs_of
from hazard_rules.cli.config import config_options
from hazard_rules.packs import bundled_packs, load_packs

__all__ = ["register"]


def cmd_lint(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.testing.lint import lint_packs

    refs = args.packs or bundled_packs()
    problems = lint_packs(refs, strict=args.strict)
    with open_output(args.output, out) as stream:
        stream.write(_lint_text(problems, refs, args.format))
    return 2 if problems else 0


def _lint_text(problems: list[Any], refs: list[str], fmt: str) -> str:
    if fmt == "json":
        doc = {
            "packs": [str(r) for r in refs],
            "count": len(problems),
            "problems": [
                {
                    "path": d.span.path,
                    "line": d.span.line,
                    "column": d.span.column,
                    "code": d.code,
                    "message": d.message,
                }
                for d in problems
            ],
        }
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if fmt == "sarif":
        from hazard_rules.output.sarif import lint_sarif

        return lint_sarif(problems)
    if fmt == "github":
        from hazard_rules.output.github import lint_annotations

        return lint_annotations(problems)
    if problems:
        return "".join(f"{d}\n" for d in problems) + f"{len(problems)} problem(s)\n"
    return f"ok: {', '.join(map(str, refs))}\n"


def cmd_test(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.testing.runner import run_packs

    refs = args.packs or bundled_packs()
    for ref in refs:
        hint = "" if Path(ref).exists() or ref in bundled_packs() else pack_hint(ref, "test")
        if hint:
            sys.stderr.write(f"hazard-rules: no bundled pack {ref!r}{hint}\n")
            return 2
    return run_packs(refs, backends=args.backend, out=out, verbose=args.verbose)


def cmd_packs(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.output.table import render_table, terminal_width

    width = terminal_width(out)

    for pid in bundled_packs():
        packs = load_packs(pid)
        info = packs.packs[-1]
        own = sorted(
            (r for r in packs.rules if r.meta.pack == pid), key=lambda r: _natural(r.meta.id)
        )
        out.write(f"\n{info.id}  {info.title}  (v{info.version}; {info.cite}; {len(own)} rules)\n")
        if info.extends:
            out.write(f"  extends: {', '.join(info.extends)}\n")
        if own:
            out.write(
                render_table(
                    ["rule", "kind", "severity", "title", "cite"],
                    [
                        [r.meta.id, r.meta.kind, r.meta.severity, r.meta.title, r.meta.cite]
                        for r in own
                    ],
                    width=width,
                    flex=[3, 4, 0],
                )
                + "\n"
            )
    return 0


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders chem-2017.2 before chem-2017.10."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text))


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.output.rule_text import describe_rule

    packs = packs_of(args.pack)
    try:
        rule = packs.rule(args.rule_id)
    except KeyError:
        from hazard_rules.schema import did_you_mean

        hint = did_you_mean(args.rule_id, [r.meta.id for r in packs.rules])
        local = pack_hint(args.rule_id, "explain")
        sys.stderr.write(f"hazard-rules: no rule {args.rule_id!r}{hint}{local}\n")
        return 2
    out.write(describe_rule(rule) + "\n")
    return 0


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.output.table import render_table, terminal_width
    from hazard_rules.schema import json_schema

    packs = packs_of(args.pack)
    if args.json_schema:
        out.write(json.dumps(json_schema(packs.schema), ensure_ascii=False, indent=2) + "\n")
        return 0
    width = terminal_width(out)
    for t in packs.schema.types.values():
        out.write(
            f"\n{t.name}  {t.label or ''}"
            + (f"  (own date: {t.date_field})" if t.date_field else "")
            + "\n"
        )
        rows = [
            [f.name, f.describe(), f.label or "", f.show_values() or (f.doc or "")]
            for f in t.fields.values()
        ]
        out.write(
            render_table(
                ["field", "type", "label", "values / doc"], rows, width=width, flex=[3, 2, 0]
            )
            + "\n"
        )
    return 0


def register(sub: Any) -> None:
    """Add the commands of this module to the ``hazard-rules`` parser."""
    lint = sub.add_parser("lint", help="load-time checks of rule packs")
    lint.add_argument("packs", nargs="*", metavar="PACK")
    lint.add_argument(
        "--strict", action="store_true", help="also authoring checks (cases, dead rules …)"
    )
    lint.add_argument(
        "--format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help="text (default), json, sarif (code scanning), github (workflow annotations)",
    )
    lint.add_argument("--output", "-o", metavar="FILE")
    config_options(lint)
    lint.set_defaults(func=cmd_lint)

    t = sub.add_parser("test", help="run the packs' *.cases.yaml")
    t.add_argument("packs", nargs="*", metavar="PACK")
    t.add_argument("--backend", action="append", choices=("python", "durable"))
    t.add_argument("--verbose", "-v", action="store_true")
    config_options(t)
    t.set_defaults(func=cmd_test)

    sub.add_parser("packs", help="bundled packs, their rules and citations").set_defaults(
        func=cmd_packs
    )

    e = sub.add_parser("explain", help="a rule's title, citation, rationale and condition")
    e.add_argument("rule_id")
    pack_option(e)
    config_options(e)
    e.set_defaults(func=cmd_explain)

    s = sub.add_parser("schema", help="the record types and fields of the loaded packs")
    pack_option(s)
    s.add_argument(
        "--json-schema",
        action="store_true",
        help="print the JSON Schema of a record (also hazard_rules.record_json_schema())",
    )
    config_options(s)
    s.set_defaults(func=cmd_schema)
