"""The ``hazard-rules`` command: parse arguments, call the API, format, return an exit code.

Exit codes: 0 no violations (or all cases passed), 1 violations found (or a case failed),
2 the rules or the input could not be used. Errors print as messages, never tracebacks.
Each command lives in a module of this package (:mod:`.check`: check, due, inspect;
:mod:`.authoring`: lint, test, packs, explain, schema; :mod:`.config`: the configuration
file and ``config``). Options the configuration governs default to ``None`` in the parser;
:func:`~hazard_rules.cli.config.apply_config` fills them (flag, then file, then default).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hazard_rules.errors import ConfigError, DocumentError, HazardRulesError, PackError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``hazard-rules``."""
    from hazard_rules import __version__
    from hazard_rules.cli import authoring, check, config, report

    p = argparse.ArgumentParser(
        prog="hazard-rules", description="Check safety records against declarative rule packs."
    )
    p.add_argument("--version", action="version", version=f"hazard-rules {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check.register(sub)
    report.register(sub)
    authoring.register(sub)
    config.register(sub)
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
        if getattr(args, "command", None) is not None:
            from hazard_rules.cli.config import apply_config

            apply_config(args)
        return int(args.func(args, out))
    except argparse.ArgumentTypeError as exc:
        sys.stderr.write(f"hazard-rules: {exc}\n")
        return 2
    except PackError as exc:
        for d in exc.diagnostics:
            sys.stderr.write(f"{d}\n")
        sys.stderr.write(f"hazard-rules: {len(exc.diagnostics)} problem(s) in the rule packs\n")
        return 2
    except ConfigError as exc:
        for d in exc.diagnostics:
            sys.stderr.write(f"{d}\n")
        sys.stderr.write(f"hazard-rules: {len(exc.diagnostics)} problem(s) in the configuration\n")
        return 2
    except DocumentError as exc:
        for d in exc.diagnostics:
            sys.stderr.write(f"{d}\n")
        sys.stderr.write(f"hazard-rules: {len(exc.diagnostics)} problem(s) in the {exc.what}\n")
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
