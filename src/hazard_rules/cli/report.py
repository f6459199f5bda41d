"""``report``: the assessment (督查考核) of an export — scorecards with 一票否优, the 晾晒
ranking — as a table, JSON, or a report to hand on (HTML, Excel), by the output's extension."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from hazard_rules.cli.common import as_of_arg, open_output, pack_option, packs_of, report_rejections

__all__ = ["REPORT_FORMATS", "register"]

REPORT_FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".xlsx": "xlsx",
    ".json": "json",
    ".txt": "table",
}


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.api import assess
    from hazard_rules.cli.check import max_rejected_arg

    fmt = "table"
    if args.output:
        suffix = Path(args.output).suffix.lower()
        if suffix not in REPORT_FORMATS:
            raise argparse.ArgumentTypeError(
                f"-o {args.output}: a report is {', '.join(REPORT_FORMATS)} (the format follows "
                "the extension)"
            )
        fmt = REPORT_FORMATS[suffix]
    packs = packs_of(args.pack)
    result = assess(
        packs,
        args.export,
        as_of_arg(args.as_of),
        period=args.period,
        waivers=args.waivers,
        column_map=args.map,
        encoding=args.encoding,
        max_rejected=max_rejected_arg(args),
    )
    if fmt == "json":
        with open_output(args.output, out) as stream:
            stream.write(result.model_dump_json(indent=2) + "\n")
    else:
        from hazard_rules.output.assessment import format_assessment

        with open_output(args.output, out) as stream:
            stream.write(format_assessment(result, args.lang))
    if args.output:
        report_rejections(result)
        sys.stderr.write(f"hazard-rules: wrote {args.output}\n")
    return 0


def register(sub: Any) -> None:
    """Add ``report`` to the ``hazard-rules`` parser."""
    from hazard_rules.cli.common import reading_options

    r = sub.add_parser(
        "report", help="督查考核: scorecards, 一票否优, 晾晒 ranking (table, .json, .html, .xlsx)"
    )
    r.add_argument("export")
    pack_option(r)
    r.add_argument("--as-of", help="evaluation date (default: today in Asia/Shanghai)")
    r.add_argument(
        "--period",
        help="a label (2025, 2025-Q4, 2025-12) or a kind (year, quarter, month: the last one "
        "ended before --as-of); default: the packs' assessment period",
    )
    r.add_argument("--waivers", metavar="WAIVERS.yaml", help="approved exceptions")
    r.add_argument("--output", "-o", metavar="FILE", help="report.html, report.xlsx or report.json")
    r.add_argument("--lang", choices=("zh", "en"), default="zh")
    reading_options(r)
    r.set_defaults(func=cmd_report)
