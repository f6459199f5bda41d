"""``report``: the assessment (督查考核) of an export — scorecards with 一票否优, the 晾晒
ranking — as a table, JSON, or a report to hand on (HTML, Excel), by the output's extension."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from hazard_rules.cli.common import (
    as_of_arg,
    dask_client,
    dask_option,
    open_binary_output,
    open_output,
    pack_option,
    packs_of,
    report_rejections,
)

__all__ = ["REPORT_FORMATS", "register", "report_format"]

REPORT_FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".xlsx": "xlsx",
    ".json": "json",
    ".txt": "table",
}


def report_format(output: str | None) -> str:
    """The format of ``-o FILE`` by its extension (``table`` on stdout); an extension that
    fits no format is a usage error naming the ones that do."""
    if not output:
        return "table"
    suffix = Path(output).suffix.lower()
    if suffix not in REPORT_FORMATS:
        shown = f"{suffix} is not a report format" if suffix else "the file has no extension"
        raise argparse.ArgumentTypeError(
            f"-o {output}: {shown}; the format follows the extension, one of "
            f"{', '.join(REPORT_FORMATS)}"
        )
    return REPORT_FORMATS[suffix]


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    from hazard_rules.api import assess, load_facts
    from hazard_rules.cli.check import max_rejected_arg

    fmt = report_format(args.output)
    # a missing extra is a usage error, found before the export is read
    if fmt == "html":
        from hazard_rules.output.report_html import require_jinja2

        require_jinja2()
    elif fmt == "xlsx":
        from hazard_rules.output.report_xlsx import require_openpyxl

        require_openpyxl()
    packs = packs_of(args.pack)
    as_of = as_of_arg(args.as_of)
    limit = max_rejected_arg(args)
    cluster = dask_client(args)
    try:
        client = cluster.client if cluster is not None else None
        reading: dict[str, Any] = {"encoding": args.encoding, "column_map": args.map}
        # on Dask the evaluation reads the export on the cluster (assess reads it here too,
        # for the scorecards); else it is read once, here
        facts = args.export if client is not None else load_facts(packs, args.export, **reading)
        result = assess(
            packs,
            facts,
            as_of,
            period=args.period,
            waivers=args.waivers,
            max_rejected=limit,
            # the reports list the records no criterion matched
            show_unmapped=fmt in ("html", "xlsx", "json"),
            client=client,
            **reading,
        )
    finally:
        if cluster is not None:
            cluster.close()
    if fmt == "xlsx":
        from hazard_rules.output.report_xlsx import write_xlsx

        with open_binary_output(args.output) as fh:
            write_xlsx(result, fh, packs)
    elif fmt == "html":
        from hazard_rules.output.report_html import render_html

        with open_output(args.output, out) as stream:
            stream.write(render_html(result, packs))
    elif fmt == "json":
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
    dask_option(r)
    r.set_defaults(func=cmd_report)
