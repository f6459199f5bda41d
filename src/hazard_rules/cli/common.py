"""What the commands share: pack loading, dates, output files, the progress line and the
summary of rejected records on stderr."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from hazard_rules.errors import InputError
from hazard_rules.packs import PackSet, bundled_packs, load_packs
from hazard_rules.results import Result

__all__ = [
    "SHANGHAI",
    "Progress",
    "as_of_arg",
    "open_output",
    "pack_option",
    "packs_of",
    "report_rejections",
    "today",
]

SHANGHAI = "Asia/Shanghai"


def today(zone: str = SHANGHAI) -> date:
    """Today's date in ``zone`` (only the command line reads the clock)."""
    from hazard_rules.periods import timezone

    return datetime.now(timezone(zone)).date()


def as_of_arg(text: str | None) -> date:
    """``--as-of``: a date, or today in Asia/Shanghai."""
    if text is None:
        return today()
    from hazard_rules.api import AS_OF_RANGE

    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from None
    if not AS_OF_RANGE[0] <= day <= AS_OF_RANGE[1]:
        raise argparse.ArgumentTypeError(
            f"--as-of {text}: evaluation dates run from {AS_OF_RANGE[0]} to {AS_OF_RANGE[1]}"
        )
    return day


def packs_of(refs: Sequence[str] | None) -> PackSet:
    """The packs named by ``--pack`` (every bundled pack when none is named)."""
    return load_packs(*(refs or bundled_packs()))


def pack_option(sp: argparse.ArgumentParser) -> None:
    """Add ``--pack ID|PATH`` (repeatable)."""
    sp.add_argument(
        "--pack",
        action="append",
        metavar="ID|PATH",
        help="rule pack to load (repeatable; default: every bundled pack)",
    )


@contextmanager
def open_output(output: str | None, out: TextIO) -> Iterator[TextIO]:
    """``out``, or a file written under a temporary name and renamed into place only when
    everything was written (a failed run never leaves half a report)."""
    if not output:
        yield out
        return
    target = Path(output)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from exc
    ok = False
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        ok = True
    finally:
        if ok:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                os.unlink(tmp)
                raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from exc
        else:
            os.unlink(tmp)


class Progress:
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


def report_rejections(result: Result, stream: TextIO | None = None) -> None:
    """The rejected records on stderr, per file with the most common reasons, and the
    doubtful findings — for every output that does not show them itself."""
    from hazard_rules.facts.rejections import per_file

    stream = stream or sys.stderr
    c = result.counts
    if result.rejected:
        stream.write(
            f"hazard-rules: {c.rejected:,} of {c.read:,} record(s) rejected "
            "(not evaluated; see `rejected` in JSON output):\n"
        )
        files = per_file(result.rejected, c.read_by_file)
        for f in files[:10]:
            stream.write(f.describe() + "\n")
        if len(files) > 10:
            stream.write(f"… and {len(files) - 10} more file(s)\n")
    if c.doubtful:
        stream.write(
            f"hazard-rules: {c.doubtful:,} finding(s) are doubtful: rejected records could have "
            "been their evidence (`doubtful_because` lists them)\n"
        )
