"""The ``hazard-rules`` command: parse arguments, call the API, format, return an exit code.

Exit codes: 0 no violations (or all cases passed), 1 violations found (or a case failed),
2 the rules or the input could not be used. Errors print as messages, never tracebacks.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from hazard_rules.errors import HazardRulesError, InputError, PackError
from hazard_rules.packs import PackSet, bundled_packs, load_packs

__all__ = ["main"]

_SHANGHAI = "Asia/Shanghai"


def _today(zone: str = _SHANGHAI) -> date:
    from hazard_rules.periods import timezone

    return datetime.now(timezone(zone)).date()


def _as_of(text: str | None) -> date:
    if text is None:
        return _today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from None


def _within(text: str) -> timedelta:
    m = re.fullmatch(r"(\d+)\s*([dwm]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"--within {text!r}: use e.g. 30d, 6w or 2m")
    n, unit = int(m.group(1)), m.group(2) or "d"
    return timedelta(days=n * {"d": 1, "w": 7, "m": 30}[unit])


def _packs(refs: Sequence[str] | None) -> PackSet:
    return load_packs(*(refs or bundled_packs()))


def _write(text: str, output: str | None, out: TextIO) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8", newline="")
    else:
        out.write(text)


class _Progress:
    """Records read, rate and rejected so far, redrawn on one terminal line (never in a pipe)."""

    def __init__(self, stream: TextIO) -> None:
        import time

        self.stream = stream
        self.clock = time.monotonic
        self.start = self.clock()
        self.shown = False

    def __call__(self, read: int, rejected: int) -> None:
        rate = read / max(self.clock() - self.start, 1e-9)
        self.stream.write(f"\rread {read:,} records ({rate:,.0f}/s), rejected {rejected:,} …")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.api import evaluate, evaluate_findings, load_facts
    from hazard_rules.errors import StrictRejectionError
    from hazard_rules.output.writers import format_result, write_findings

    packs = _packs(args.pack)
    progress = _Progress(sys.stderr) if not args.quiet and sys.stderr.isatty() else None
    as_of = _as_of(args.as_of)
    if args.backend == "python" and args.jobs <= 1:
        # one streaming pass: records judged as they are read; reports written one violation
        # at a time, never all held as models
        result, findings = evaluate_findings(
            packs,
            args.export,
            as_of,
            explain=args.explain,
            show_unmapped=args.show_unmapped,
            encoding=args.encoding,
            progress=progress,
        )
        if progress is not None:
            progress.done()
        if args.strict and result.rejected:
            raise StrictRejectionError(_strict_message(result.rejected))
        with _open_output(args.output, out) as stream:
            if args.format in ("jsonl", "csv"):
                write_findings(findings, args.format, stream)
            else:
                full = result.model_copy(update={"violations": [f.violation() for f in findings]})
                stream.write(format_result(full, args.format, args.lang))
        return 1 if findings else 0
    facts = load_facts(packs, args.export, encoding=args.encoding, progress=progress)
    if progress is not None:
        progress.done()
    result = evaluate(
        packs,
        facts,
        as_of,
        backend=args.backend,
        explain=args.explain,
        show_unmapped=args.show_unmapped,
        strict=args.strict,
        jobs=args.jobs,
    )
    with _open_output(args.output, out) as stream:
        stream.write(format_result(result, args.format, args.lang))
    return 1 if result.violations else 0


@contextmanager
def _open_output(output: str | None, out: TextIO) -> Iterator[TextIO]:
    if not output:
        yield out
        return
    try:
        fh = open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from exc
    with fh:
        yield fh


def _strict_message(rejected: Sequence[Any]) -> str:
    first = rejected[0]
    return (
        f"{len(rejected)} record(s) rejected; first: {first.source}: "
        f"{first.field or ''}: {first.reason}"
    )


def cmd_due(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.engine.calendar import format_upcoming, upcoming

    packs = _packs(args.pack)
    as_of = _as_of(args.as_of)
    items = upcoming(packs, args.export, as_of, as_of + args.within, encoding=args.encoding)
    _write(format_upcoming(items, as_of, args.format), args.output, out)
    return 0


def cmd_lint(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.testing.lint import lint_packs

    refs = args.packs or bundled_packs()
    problems = lint_packs(refs, strict=args.strict)
    for d in problems:
        out.write(f"{d}\n")
    if problems:
        out.write(f"{len(problems)} problem(s)\n")
        return 2
    out.write(f"ok: {', '.join(map(str, refs))}\n")
    return 0


def cmd_test(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.testing.runner import run_packs

    return run_packs(
        args.packs or bundled_packs(), backends=args.backend, out=out, verbose=args.verbose
    )


def cmd_packs(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.output.writers import render_table

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
                    [40, 9, 8, 40, 40],
                )
                + "\n"
            )
    return 0


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders chem-2017.2 before chem-2017.10."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text))


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.output.rule_text import describe_rule

    packs = _packs(args.pack)
    try:
        rule = packs.rule(args.rule_id)
    except KeyError:
        from hazard_rules.schema import did_you_mean

        hint = did_you_mean(args.rule_id, [r.meta.id for r in packs.rules])
        sys.stderr.write(f"hazard-rules: no rule {args.rule_id!r}{hint}\n")
        return 2
    out.write(describe_rule(rule) + "\n")
    return 0


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.output.writers import render_table
    from hazard_rules.schema import json_schema

    packs = _packs(args.pack)
    if args.json_schema:
        out.write(json.dumps(json_schema(packs.schema), ensure_ascii=False, indent=2) + "\n")
        return 0
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
            render_table(["field", "type", "label", "values / doc"], rows, [34, 22, 20, 70]) + "\n"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``hazard-rules``."""
    from hazard_rules import __version__
    from hazard_rules.output.writers import FORMATS

    p = argparse.ArgumentParser(
        prog="hazard-rules", description="Check safety records against declarative rule packs."
    )
    p.add_argument("--version", action="version", version=f"hazard-rules {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def pack_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--pack",
            action="append",
            metavar="ID|PATH",
            help="rule pack to load (repeatable; default: every bundled pack)",
        )

    c = sub.add_parser("check", help="evaluate an export against rule packs")
    c.add_argument(
        "export", help='a folder with one file per record type, or one JSONL file with "type"'
    )
    pack_opt(c)
    c.add_argument("--as-of", help="evaluation date (default: today in Asia/Shanghai)")
    c.add_argument("--format", choices=FORMATS, default="table")
    c.add_argument("--output", "-o", metavar="FILE")
    c.add_argument("--strict", action="store_true", help="any rejected record exits 2")
    c.add_argument("--explain", action="store_true", help="show the conditions behind each finding")
    c.add_argument("--show-unmapped", action="store_true", help="list records no criterion matched")
    c.add_argument("--backend", choices=("python", "durable"), default="python")
    c.add_argument("--encoding", help="CSV encoding (default: UTF-8, GB18030 detected)")
    c.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="message language in the table"
    )
    c.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    c.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=1,
        metavar="N",
        help="evaluate partitions of the subjects in N processes (same result)",
    )
    c.set_defaults(func=cmd_check)

    d = sub.add_parser("due", help="obligations falling due soon, per subject")
    d.add_argument("export")
    pack_opt(d)
    d.add_argument(
        "--within", type=_within, default=timedelta(days=30), help="e.g. 30d (default), 6w, 2m"
    )
    d.add_argument("--as-of")
    d.add_argument("--format", choices=("table", "json", "csv"), default="table")
    d.add_argument("--output", "-o", metavar="FILE")
    d.add_argument("--encoding")
    d.set_defaults(func=cmd_due)

    lint = sub.add_parser("lint", help="load-time checks of rule packs")
    lint.add_argument("packs", nargs="*", metavar="PACK")
    lint.add_argument(
        "--strict", action="store_true", help="also authoring checks (cases, dead rules …)"
    )
    lint.set_defaults(func=cmd_lint)

    t = sub.add_parser("test", help="run the packs' *.cases.yaml")
    t.add_argument("packs", nargs="*", metavar="PACK")
    t.add_argument("--backend", action="append", choices=("python", "durable"))
    t.add_argument("--verbose", "-v", action="store_true")
    t.set_defaults(func=cmd_test)

    sub.add_parser("packs", help="bundled packs, their rules and citations").set_defaults(
        func=cmd_packs
    )

    e = sub.add_parser("explain", help="a rule's title, citation, rationale and condition")
    e.add_argument("rule_id")
    pack_opt(e)
    e.set_defaults(func=cmd_explain)

    s = sub.add_parser("schema", help="the record types and fields of the loaded packs")
    pack_opt(s)
    s.add_argument("--json-schema", action="store_true", help="print JSON Schema")
    s.set_defaults(func=cmd_schema)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    out = sys.stdout
    try:
        return int(args.func(args, out))
    except argparse.ArgumentTypeError as exc:
        sys.stderr.write(f"hazard-rules: {exc}\n")
        return 2
    except PackError as exc:
        for d in exc.diagnostics:
            sys.stderr.write(f"{d}\n")
        sys.stderr.write(f"hazard-rules: {len(exc.diagnostics)} problem(s) in the rule packs\n")
        return 2
    except HazardRulesError as exc:
        sys.stderr.write(f"hazard-rules: {exc}\n")
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("hazard-rules: interrupted\n")
        return 130
    except Exception as exc:  # the last line of defence: a message, never a traceback
        sys.stderr.write(
            f"hazard-rules: internal error: {type(exc).__name__}: {exc}\n"
            "Please report it with the command that caused it.\n"
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
