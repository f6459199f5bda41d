"""``check``, ``due`` and ``inspect``: the commands that read an export."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TextIO

from dateutil.relativedelta import relativedelta

from hazard_rules.cli.common import (
    Progress,
    as_of_arg,
    dask_client,
    dask_option,
    exit_code,
    open_output,
    output_fits,
    pack_option,
    packs_of,
    reading_options,
    report_rejections,
    run_options,
    select_rules,
    selection_options,
)
from hazard_rules.cli.config import config_options

__all__ = ["max_rejected_arg", "register"]


# --within: a count and a unit; calendar months and years end on the same day of the month
# (the last day when the month is shorter: 2025-01-31 + 1m = 2025-02-28)
# at most about 100 years ahead, in any unit (docs/cli.md)
WITHIN_MAX = {"d": 36500, "w": 5214, "m": 1200, "y": 100}


@dataclass(frozen=True)
class Within:
    """A ``--within`` duration: ``count`` units of ``d``, ``w``, ``m`` (calendar months) or ``y``."""

    count: int
    unit: str

    def end(self, start: date) -> date:
        """The last day of the window that begins on ``start``."""
        if self.unit in ("m", "y"):
            months = self.count * (12 if self.unit == "y" else 1)
            return start + relativedelta(months=months)
        return start + timedelta(days=self.count * (7 if self.unit == "w" else 1))


def _within(text: str) -> Within:
    m = re.fullmatch(r"(\d{1,7})\s*([dwmy]?)", text.strip(), flags=re.ASCII | re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(
            f"--within {text!r}: a count and a unit, e.g. 30d, 6w, 1m (calendar months) or 1y"
        )
    within = Within(int(m.group(1)), (m.group(2) or "d").lower())
    if within.count > WITHIN_MAX[within.unit]:
        most = ", ".join(f"{n}{u}" for u, n in WITHIN_MAX.items())
        raise argparse.ArgumentTypeError(f"--within {text!r}: at most 100 years ahead ({most})")
    return within


def _due_until(as_of: date, within: Within) -> date:
    """The end of the ``due`` window; past the last supported day is a usage error."""
    last = date(9998, 12, 31)
    try:
        until = within.end(as_of)
    except (OverflowError, ValueError):
        until = date.max
    if until > last:
        raise argparse.ArgumentTypeError(
            f"--within {within.count}{within.unit} from {as_of}: the window ends after {last}, "
            "the last day hazard-rules judges"
        )
    return until


def max_rejected_arg(args: argparse.Namespace) -> Any:
    from hazard_rules.api import DEFAULT_MAX_REJECTED

    value = args.max_rejected
    if value is None:
        return DEFAULT_MAX_REJECTED
    return int(value) if value.strip().isdigit() else value


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.api import evaluate_findings
    from hazard_rules.output import report
    from hazard_rules.output.table import color_enabled, terminal_width

    output_fits(args.output, args.format, "check")
    packs = select_rules(packs_of(args.pack), args.select, args.ignore)
    if args.statistics and args.format not in ("table", "json"):
        raise argparse.ArgumentTypeError("--statistics prints a table or, with --format json, JSON")
    progress = Progress(sys.stderr) if not args.quiet and sys.stderr.isatty() else None
    as_of = as_of_arg(args.as_of)
    cluster = dask_client(args)
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
            client=cluster.client if cluster is not None else None,
            # a partitioned run's workers make the lines of a JSONL report
            render="jsonl" if args.format == "jsonl" and not args.statistics else None,
        )
    finally:
        if progress is not None:
            progress.done()
        if cluster is not None:
            cluster.close()
    context = report.Context(
        packs=packs,
        export=args.export,
        lang=args.lang,
        encoding=args.encoding,
        column_map=args.map,
        quiet=args.quiet,
        color=color_enabled(out if not args.output else None),
        width=terminal_width(out if not args.output else None),
    )
    with open_output(args.output, out) as stream:
        if args.statistics:
            stream.write(report.statistics(result, findings, args.format, context))
        else:
            report.write(result, findings, args.format, stream, context)
    if (args.format != "table" or args.output) and not args.quiet:
        report_rejections(result)
    # a waived finding is reported, never a failure (SPEC §4)
    severities = [f.meta.severity for f in findings if f.waiver is None]
    return exit_code(severities, args.exit_zero, args.fail_on)


def cmd_due(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.api import check_rejected, load_facts
    from hazard_rules.engine.calendar import upcoming
    from hazard_rules.output import due
    from hazard_rules.output.table import color_enabled, terminal_width
    from hazard_rules.results import Counts, Result

    output_fits(args.output, args.format, "due")
    packs = select_rules(packs_of(args.pack), args.select, args.ignore)
    as_of = as_of_arg(args.as_of)
    until = _due_until(as_of, args.within)  # before the export is read
    if args.format == "ics":
        due.require_icalendar()  # before the export is read: a missing extra is a usage error
    facts = load_facts(packs, args.export, encoding=args.encoding, column_map=args.map)
    check_rejected(facts, max_rejected_arg(args))
    items = upcoming(packs, facts, as_of, until)
    to_terminal = out if not args.output else None
    with open_output(args.output, out) as stream:
        stream.write(
            due.format_due(
                items,
                packs,
                as_of,
                args.format,
                lang=args.lang,
                width=terminal_width(to_terminal),
                color=color_enabled(to_terminal),
                alarm_days=args.alarm,
            )
        )
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

    output_fits(args.output, args.format, "inspect")
    packs = packs_of(args.pack)
    report = inspect_export(packs, args.export, encoding=args.encoding, column_map=args.map)
    with open_output(args.output, out) as stream:
        stream.write(format_inspection(report, args.format))
    return 2 if report.unusable else 0


def register(sub: Any) -> None:
    """Add the commands of this module to the ``hazard-rules`` parser."""
    from hazard_rules.output.writers import CHECK_FORMATS

    c = sub.add_parser("check", help="evaluate an export against rule packs")
    c.add_argument(
        "export", help='a folder with one file per record type, or one JSONL file with "type"'
    )
    pack_option(c)
    c.add_argument("--as-of", help="evaluation date, or today (default: today in Asia/Shanghai)")
    c.add_argument(
        "--format",
        choices=CHECK_FORMATS,
        help="table (default), json, jsonl, csv; for CI: sarif, junit, github",
    )
    c.add_argument("--output", "-o", metavar="FILE")
    c.add_argument("--strict", action="store_true", help="any rejected record exits 2")
    c.add_argument("--explain", action="store_true", help="show the conditions behind each finding")
    c.add_argument("--show-unmapped", action="store_true", help="list records no criterion matched")
    c.add_argument("--backend", choices=("python", "durable"))
    c.add_argument(
        "--waivers",
        metavar="WAIVERS.yaml",
        help="approved exceptions: matching findings are reported as waived (docs/assessment.md)",
    )
    reading_options(c)
    c.add_argument(
        "--lang",
        choices=("zh", "en"),
        help="language of the table and of messages in CI formats (default zh)",
    )
    c.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="read and judge the export in parts in N processes (same result)",
    )
    dask_option(c)
    selection_options(c)
    run_options(c)
    config_options(c)
    c.set_defaults(func=cmd_check, command="check")

    d = sub.add_parser("due", help="obligations falling due soon, per subject")
    d.add_argument("export")
    pack_option(d)
    d.add_argument(
        "--within",
        type=_within,
        default=Within(30, "d"),
        help="how far ahead: 30d (default), 6w, 1m (calendar months), 1y; at most 100 years",
    )
    d.add_argument("--as-of", help="from this date, or today (default: today in Asia/Shanghai)")
    d.add_argument(
        "--format",
        choices=("table", "json", "csv", "ics"),
        default="table",
        help="ics: an iCalendar file, one event per obligation (needs hazard-rules[calendar])",
    )
    d.add_argument(
        "--alarm",
        type=int,
        default=3,
        metavar="DAYS",
        help="ics: remind this many days before each due date (default 3; 0: no alarm)",
    )
    d.add_argument("--output", "-o", metavar="FILE")
    d.add_argument("--lang", choices=("zh", "en"), help="language of the table (default zh)")
    reading_options(d)
    selection_options(d)
    config_options(d)
    d.set_defaults(func=cmd_due, command="due")

    i = sub.add_parser(
        "inspect", help="how an export would be read: sheets, headers, columns, values, dates"
    )
    i.add_argument("export")
    pack_option(i)
    i.add_argument("--format", choices=("table", "json"), default="table")
    i.add_argument("--output", "-o", metavar="FILE")
    reading_options(i, limit=False)
    config_options(i)
    i.set_defaults(func=cmd_inspect, command="inspect")
