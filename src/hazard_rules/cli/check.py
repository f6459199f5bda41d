"""``check``, ``due`` and ``inspect``: the commands that read an export."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import timedelta
from typing import Any, TextIO

from hazard_rules.cli.common import (
    Progress,
    as_of_arg,
    open_output,
    pack_option,
    packs_of,
    report_rejections,
)

__all__ = ["max_rejected_arg", "reading_options", "register"]


def _within(text: str) -> timedelta:
    m = re.fullmatch(r"(\d+)\s*([dwm]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"--within {text!r}: use e.g. 30d, 6w or 2m")
    n, unit = int(m.group(1)), m.group(2) or "d"
    return timedelta(days=n * {"d": 1, "w": 7, "m": 30}[unit])


def reading_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--encoding", help="text encoding of CSV/JSONL files (default: detected)")
    sp.add_argument(
        "--map",
        metavar="MAP.yaml",
        help="column map: how a ledger's headers and values become fields (docs/input-formats.md)",
    )
    sp.add_argument(
        "--max-rejected",
        metavar="N|P%",
        default=None,
        help="stop (exit 2) when more rows of a file are rejected (default 10%%; 100%% never stops)",
    )


def max_rejected_arg(args: argparse.Namespace) -> Any:
    from hazard_rules.api import DEFAULT_MAX_REJECTED

    value = args.max_rejected
    if value is None:
        return DEFAULT_MAX_REJECTED
    return int(value) if value.strip().isdigit() else value


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.api import evaluate_findings
    from hazard_rules.output.writers import format_result, write_findings

    packs = packs_of(args.pack)
    progress = Progress(sys.stderr) if not args.quiet and sys.stderr.isatty() else None
    as_of = as_of_arg(args.as_of)
    try:
        result, findings = evaluate_findings(
            packs,
            args.export,
            as_of,
            explain=args.explain,
            show_unmapped=args.show_unmapped,
            encoding=args.encoding,
            column_map=args.map,
            strict=args.strict,
            max_rejected=max_rejected_arg(args),
            backend=args.backend,
            jobs=args.jobs,
            waivers=args.waivers,
            progress=progress,
        )
    finally:
        if progress is not None:
            progress.done()
    with open_output(args.output, out) as stream:
        if args.format in ("jsonl", "csv"):
            # streamed one violation at a time, never all held as models
            write_findings(findings, args.format, stream)
        else:
            full = result.model_copy(update={"violations": [f.violation() for f in findings]})
            stream.write(format_result(full, args.format, args.lang))
    if args.format != "table" or args.output:
        report_rejections(result)
    return 1 if any(f.waiver is None for f in findings) else 0


def cmd_due(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.api import check_rejected, load_facts
    from hazard_rules.engine.calendar import format_upcoming, upcoming
    from hazard_rules.results import Counts, Result

    packs = packs_of(args.pack)
    as_of = as_of_arg(args.as_of)
    facts = load_facts(packs, args.export, encoding=args.encoding, column_map=args.map)
    check_rejected(facts, max_rejected_arg(args))
    items = upcoming(packs, facts, as_of, as_of + args.within)
    with open_output(args.output, out) as stream:
        stream.write(format_upcoming(items, as_of, args.format))
    summary = Result(
        as_of=as_of,
        rejected=facts.rejected,
        counts=Counts(
            read=facts.read,
            evaluated=facts.evaluated,
            rejected=len(facts.rejected),
            read_by_file=dict(facts.read_by_file),
        ),
    )
    report_rejections(summary)
    for note in facts.notes:
        sys.stderr.write(f"hazard-rules: note: {note}\n")
    return 0


def cmd_inspect(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.io.inspect import format_inspection, inspect_export

    packs = packs_of(args.pack)
    report = inspect_export(packs, args.export, encoding=args.encoding, column_map=args.map)
    with open_output(args.output, out) as stream:
        stream.write(format_inspection(report, args.format))
    return 2 if report.unusable else 0


def register(sub: Any) -> None:
    """Add the commands of this module to the ``hazard-rules`` parser."""
    from hazard_rules.output.writers import FORMATS

    c = sub.add_parser("check", help="evaluate an export against rule packs")
    c.add_argument(
        "export", help='a folder with one file per record type, or one JSONL file with "type"'
    )
    pack_option(c)
    c.add_argument("--as-of", help="evaluation date (default: today in Asia/Shanghai)")
    c.add_argument("--format", choices=FORMATS, default="table")
    c.add_argument("--output", "-o", metavar="FILE")
    c.add_argument("--strict", action="store_true", help="any rejected record exits 2")
    c.add_argument("--explain", action="store_true", help="show the conditions behind each finding")
    c.add_argument("--show-unmapped", action="store_true", help="list records no criterion matched")
    c.add_argument("--backend", choices=("python", "durable"), default="python")
    c.add_argument(
        "--waivers",
        metavar="WAIVERS.yaml",
        help="approved exceptions: matching findings are reported as waived (docs/assessment.md)",
    )
    reading_options(c)
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
    pack_option(d)
    d.add_argument(
        "--within", type=_within, default=timedelta(days=30), help="e.g. 30d (default), 6w, 2m"
    )
    d.add_argument("--as-of")
    d.add_argument("--format", choices=("table", "json", "csv"), default="table")
    d.add_argument("--output", "-o", metavar="FILE")
    reading_options(d)
    d.set_defaults(func=cmd_due)

    i = sub.add_parser(
        "inspect", help="how an export would be read: sheets, headers, columns, values, dates"
    )
    i.add_argument("export")
    pack_option(i)
    i.add_argument("--format", choices=("table", "json"), default="table")
    i.add_argument("--output", "-o", metavar="FILE")
    i.add_argument("--encoding", help="text encoding of CSV/JSONL files (default: detected)")
    i.add_argument("--map", metavar="MAP.yaml", help="column map to apply")
    i.set_defaults(func=cmd_inspect)
