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
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from hazard_rules.errors import InputError
from hazard_rules.packs import PackSet, bundled_packs, bundled_root, load_packs
from hazard_rules.results import Result

__all__ = [
    "SEVERITIES",
    "SHANGHAI",
    "Progress",
    "add_config_flags",
    "as_of_arg",
    "dask_client",
    "dask_option",
    "exit_code",
    "local_packs",
    "open_binary_output",
    "open_output",
    "output_fits",
    "pack_hint",
    "pack_option",
    "packs_of",
    "reading_options",
    "report_rejections",
    "run_options",
    "select_rules",
    "selection_options",
    "today",
]

SHANGHAI = "Asia/Shanghai"
SEVERITIES = ("critical", "high", "medium", "low")  # highest first


def today(zone: str = SHANGHAI) -> date:
    """Today's date in ``zone`` (only the command line reads the clock)."""
    from hazard_rules.periods import timezone

    return datetime.now(timezone(zone)).date()


def as_of_arg(text: str | None) -> date:
    """``--as-of``: a date, or today in Asia/Shanghai (``None`` or ``"today"``)."""
    if text is None or text == "today":
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


_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox"}


def local_packs(root: Path | None = None, depth: int = 4) -> dict[str, Path]:
    """Packs found below ``root`` (default: the current folder), ``id → folder``, at most
    ``depth`` folders down, skipping hidden folders and environments."""
    import yaml

    base = root or Path(".")
    found: dict[str, Path] = {}

    def walk(folder: Path, level: int) -> None:
        pack_yaml = folder / "pack.yaml"
        if pack_yaml.is_file():
            try:
                data = yaml.safe_load(pack_yaml.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                data = None
            pid = data.get("id") if isinstance(data, dict) else None
            if isinstance(pid, str):
                found.setdefault(pid, folder)
        if level >= depth:
            return
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir())
        except OSError:
            return
        for child in children:
            if child.name.startswith(".") or child.name in _SKIP_DIRS:
                continue
            walk(child, level + 1)

    walk(base, 0)
    return found


def pack_hint(rule_or_pack: str, command: str) -> str:
    """`` — a pack in this folder has it: hazard-rules COMMAND … --pack PATH`` when a pack
    below the current folder has the id (or is the pack of the rule id), else ``""``."""
    from hazard_rules.source import display_path

    pid = rule_or_pack.split(".", 1)[0]
    folder = local_packs().get(pid)
    if folder is None or folder.resolve().is_relative_to(bundled_root().resolve()):
        return ""
    shown = display_path(folder)
    if command == "explain":
        return f"; a pack in this folder has it: hazard-rules explain {rule_or_pack} --pack {shown}"
    return f"; a pack in this folder has it: hazard-rules {command} {shown}"


def pack_option(sp: argparse.ArgumentParser) -> None:
    """Add ``--pack ID|PATH`` (repeatable)."""
    sp.add_argument(
        "--pack",
        action="append",
        metavar="ID|PATH",
        help="rule pack to load (repeatable; default: every bundled pack)",
    )


def _comma_list(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def selection_options(sp: argparse.ArgumentParser) -> None:
    """``--select`` and ``--ignore``: rule ids, pack ids and globs, comma-separated or
    repeated (the way ruff takes rule codes)."""
    g = sp.add_argument_group("rule selection")
    g.add_argument(
        "--select",
        action="extend",
        type=_comma_list,
        metavar="RULE",
        help="judge only these rules: ids, pack ids or globs, e.g. 'gm-2023.*' (default: all)",
    )
    g.add_argument(
        "--ignore",
        action="extend",
        type=_comma_list,
        metavar="RULE",
        help="leave these rules out: ids, pack ids or globs (applied after --select)",
    )


def _matches(rule_id: str, pattern: str) -> bool:
    return fnmatchcase(rule_id, pattern) or rule_id.startswith(pattern.rstrip(".") + ".")


def select_rules(
    packs: PackSet, select: Sequence[str] | None, ignore: Sequence[str] | None
) -> PackSet:
    """The packs with only the rules ``select`` names (all when ``None``) less those
    ``ignore`` names. A pattern is a rule id, a pack id (``gm-2023``: all its rules) or a
    glob (``gm-2023.1*``). A pattern that names no rule is an error with a suggestion: a
    misspelt selection must not silently judge nothing."""
    from hazard_rules.schema import did_you_mean

    if not select and not ignore:
        return packs
    ids = [r.meta.id for r in packs.rules]
    unknown = []
    for flag, patterns in (("--select", select or ()), ("--ignore", ignore or ())):
        for pat in patterns:
            if not any(_matches(i, pat) for i in ids):
                hint = did_you_mean(pat, [*ids, *(p.id for p in packs.packs)])
                unknown.append(f"{flag} {pat!r} matches no rule of the loaded packs{hint}")
    if unknown:
        raise argparse.ArgumentTypeError("; ".join(unknown))
    chosen = {
        i
        for i in ids
        if (not select or any(_matches(i, p) for p in select))
        and not any(_matches(i, p) for p in ignore or ())
    }
    return packs.only(chosen)


def dask_option(sp: argparse.ArgumentParser) -> None:
    """``--dask ADDRESS``: run on a Dask cluster (docs/scale-out.md)."""
    sp.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="read and judge the export in parts on a Dask cluster (same result): "
        "tcp://HOST:8786 for a running scheduler, or local:N for N worker processes "
        "started for this run; needs hazard-rules[dask]",
    )


def dask_client(args: argparse.Namespace) -> Any:
    """The connection ``--dask`` asks for (close it after the run), or None."""
    address = getattr(args, "dask", None)
    if not address:
        return None
    if (getattr(args, "jobs", None) or 1) > 1:
        raise argparse.ArgumentTypeError("--dask and --jobs: choose one")
    if getattr(args, "backend", None) not in (None, "python"):
        raise argparse.ArgumentTypeError("--dask runs the python backend only")
    from hazard_rules.scale.on_dask import connect

    return connect(address)


def run_options(sp: argparse.ArgumentParser) -> None:
    """``--exit-zero``, ``--fail-on``, ``--statistics`` and ``--quiet``."""
    g = sp.add_argument_group("run control")
    g.add_argument(
        "--exit-zero",
        action="store_true",
        default=None,
        help="exit 0 even when violations are found (2 still means unusable input)",
    )
    g.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        metavar="SEVERITY",
        help="exit 1 only for findings of this severity or higher "
        "(critical, high, medium, low; default low: any finding)",
    )
    g.add_argument(
        "--statistics",
        action="store_true",
        help="print the number of findings per rule and status instead of the findings",
    )
    g.add_argument(
        "--quiet", "-q", action="store_true", help="the summary only; no progress display"
    )


def exit_code(severities: Sequence[str], exit_zero: bool, fail_on: str | None) -> int:
    """1 when a finding is at or above ``fail_on`` (default: any finding), else 0;
    always 0 with ``exit_zero``."""
    if exit_zero:
        return 0
    rank = SEVERITIES.index(fail_on or "low")
    return 1 if any(SEVERITIES.index(s) <= rank for s in severities) else 0


def reading_options(sp: argparse.ArgumentParser, *, limit: bool = True) -> None:
    """``--encoding``, ``--map`` and (with ``limit``) ``--max-rejected``."""
    sp.add_argument("--encoding", help="text encoding of CSV/JSONL files (default: detected)")
    sp.add_argument(
        "--map",
        metavar="MAP.yaml",
        help="column map: how a ledger's headers and values become fields",
    )
    if limit:
        sp.add_argument(
            "--max-rejected",
            metavar="N|P%",
            default=None,
            help="stop (exit 2) when more rows of a file are rejected "
            "(default 10%%; 100%% never stops)",
        )


def add_config_flags(sp: argparse.ArgumentParser) -> None:
    """Every flag the configuration governs (for ``hazard-rules config``)."""
    from hazard_rules.output.writers import CHECK_FORMATS

    pack_option(sp)
    sp.add_argument("--as-of", help="evaluation date, or today")
    reading_options(sp)
    sp.add_argument("--lang", choices=("zh", "en"))
    sp.add_argument("--format", choices=CHECK_FORMATS)
    sp.add_argument("--backend", choices=("python", "durable"))
    sp.add_argument("--jobs", "-j", type=int, metavar="N")
    selection_options(sp)
    sp.add_argument("--exit-zero", action="store_true", default=None)
    sp.add_argument("--fail-on", choices=SEVERITIES, metavar="SEVERITY")


# what a file's extension says it holds: the formats that may be written to it ("*": any
# text format). Extensions not listed say nothing and are accepted.
_SUFFIX_FITS: dict[str, tuple[str, ...]] = {
    "": ("*",),
    ".txt": ("*",),
    ".log": ("*",),
    ".out": ("*",),
    ".json": ("json", "sarif"),
    ".jsonl": ("jsonl",),
    ".ndjson": ("jsonl",),
    ".csv": ("csv",),
    ".sarif": ("sarif",),
    ".xml": ("junit",),
    ".ics": ("ics",),
    # documents and workbooks: no text format fits them
    **dict.fromkeys((".html", ".htm", ".xlsx", ".xlsm", ".xls", ".ods", ".pdf", ".docx"), ()),
}
_REPORTS = (".html", ".htm", ".xlsx", ".xlsm", ".xls", ".ods", ".pdf", ".docx")


def output_fits(output: str | None, fmt: str, command: str) -> None:
    """Refuse ``-o FILE`` when its extension says it holds something else than ``fmt``
    (``check -o report.xlsx`` must not write a text table into a workbook): a usage error
    saying which ``--format`` fits, or that reports are ``hazard-rules report``'s."""
    if not output:
        return
    suffix = Path(output).suffix.lower()
    fits = _SUFFIX_FITS.get(suffix)
    if fits is None or "*" in fits or fmt in fits:
        return
    if suffix in _REPORTS:
        hint = (
            "; an HTML or Excel report to hand on is written by "
            "`hazard-rules report EXPORT -o report.html` (or report.xlsx)"
        )
    else:
        hint = f"; for a {suffix} file use --format {fits[0]}"
    raise argparse.ArgumentTypeError(
        f"-o {output}: `{command} --format {fmt}` does not write {suffix} files{hint}"
    )


@contextmanager
def open_output(output: str | None, out: TextIO) -> Iterator[TextIO]:
    """``out``, or a file written under a temporary name and renamed into place only when
    everything was written (a failed run never leaves half a report)."""
    if not output:
        yield out
        return
    with _replacing(output) as fd, os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        yield fh


@contextmanager
def open_binary_output(output: str) -> Iterator[BinaryIO]:
    """The file ``output`` opened for bytes (a workbook), written the way
    :func:`open_output` writes: under a temporary name, renamed into place when complete."""
    with _replacing(output) as fd, os.fdopen(fd, "wb") as fh:
        yield fh


def _file_mode(target: Path) -> int:
    """The permissions a written file gets: those of the file it replaces, else what the
    umask leaves of 0666 — as if it had been opened with ``open(target, "w")``."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


@contextmanager
def _replacing(output: str) -> Iterator[int]:
    """A descriptor of a new temporary file beside ``output``; renamed to ``output`` when the
    block ends normally, removed when it raises."""
    target = Path(output)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    except OSError as exc:
        raise InputError(f"{output}: cannot write: {exc.strerror or exc}") from exc
    ok = False
    try:
        yield fd
        ok = True
    finally:
        if ok:
            try:
                os.chmod(tmp, _file_mode(target))  # mkstemp made it private (0600)
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
