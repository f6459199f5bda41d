"""Configuration: ``hazard-rules.toml`` or ``[tool.hazard-rules]`` in ``pyproject.toml``, found
from the current folder upwards, validated with located errors, overridden by flags; and the
``hazard-rules config`` command that shows the effective values and where each came from.

Discovery works the way ruff and pytest find theirs: in the current folder, then each parent,
``hazard-rules.toml`` (its keys at the top level) wins over ``pyproject.toml``; a
``pyproject.toml`` without a ``[tool.hazard-rules]`` table is passed over. ``--config FILE``
names the file; ``--no-config`` reads none. Paths in a file (``packs`` given as folders,
``map``, ``waivers``) are relative to the file's folder; paths in flags to the current one.
Keys are spelled ``max_rejected`` or ``max-rejected`` alike.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from hazard_rules.errors import ConfigError, Diagnostic
from hazard_rules.source import SourceSpan, display_path

__all__ = [
    "KEYS",
    "Config",
    "Setting",
    "apply_config",
    "config_options",
    "find_config",
    "load_config",
    "register",
]

SEVERITIES = ("critical", "high", "medium", "low")
FILE_NAME = "hazard-rules.toml"
SECTION = "tool.hazard-rules"


@dataclass(frozen=True)
class Setting:
    """One effective value and where it came from: ``default``, ``file:line`` or ``--flag``."""

    value: Any
    source: str


@dataclass(frozen=True)
class Key:
    """A configuration key: its argparse destination, default, the commands that use it."""

    name: str
    dest: str
    flag: str
    default: Any
    commands: frozenset[str]
    help: str


_READING = frozenset({"check", "due", "inspect"})
_ALL = frozenset({"check", "due", "inspect", "lint", "test", "explain", "schema"})

KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key("packs", "pack", "--pack", None, _ALL, "rule packs: bundled ids or folders"),
        Key("as_of", "as_of", "--as-of", "today", frozenset({"check", "due"}), "date or today"),
        Key("encoding", "encoding", "--encoding", None, _READING, "text encoding of CSV/JSONL"),
        Key("map", "map", "--map", None, _READING, "column map (YAML)"),
        Key("waivers", "waivers", "--waivers", None, frozenset({"check"}), "waiver file"),
        Key(
            "max_rejected",
            "max_rejected",
            "--max-rejected",
            "10%",
            frozenset({"check", "due"}),
            "N rows or P% of a file",
        ),
        Key("lang", "lang", "--lang", "zh", frozenset({"check", "due"}), "zh or en"),
        Key("format", "format", "--format", "table", frozenset({"check"}), "output format"),
        Key("backend", "backend", "--backend", "python", frozenset({"check"}), "python, durable"),
        Key("select", "select", "--select", None, frozenset({"check", "due"}), "rule ids, globs"),
        Key("ignore", "ignore", "--ignore", [], frozenset({"check", "due"}), "rule ids, globs"),
        Key("jobs", "jobs", "--jobs", 1, frozenset({"check"}), "processes"),
        Key("exit_zero", "exit_zero", "--exit-zero", False, frozenset({"check"}), "always exit 0"),
        Key("fail_on", "fail_on", "--fail-on", "low", frozenset({"check"}), "lowest severity"),
    )
}


@dataclass(frozen=True)
class Config:
    """A configuration file read and validated: each value with its ``file:line``."""

    path: Path | None
    values: Mapping[str, Setting]


# -- finding and reading ------------------------------------------------------------------------


def _has_section(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return _section_line(text) is not None


def find_config(start: Path | None = None) -> Path | None:
    """The configuration file that applies in ``start`` (default: the current folder)."""
    folder = (start or Path.cwd()).resolve()
    for d in (folder, *folder.parents):
        own = d / FILE_NAME
        if own.is_file():
            return own
        pyproject = d / "pyproject.toml"
        if pyproject.is_file() and _has_section(pyproject):
            return pyproject
    return None


_HEADER = re.compile(r"^\s*\[\s*tool\s*\.\s*(?:\"hazard-rules\"|'hazard-rules'|hazard-rules)\s*\]")
_ANY_HEADER = re.compile(r"^\s*\[")


def _section_line(text: str) -> int | None:
    for n, line in enumerate(text.splitlines(), 1):
        if _HEADER.match(line):
            return n
    return None


def _key_lines(text: str, in_pyproject: bool) -> dict[str, tuple[int, int]]:
    """Line and column of each key of the table (top level of hazard-rules.toml)."""
    lines = text.splitlines()
    start = 0
    if in_pyproject:
        got = _section_line(text)
        if got is None:
            return {}
        start = got
    out: dict[str, tuple[int, int]] = {}
    for n in range(start, len(lines)):
        line = lines[n]
        if _ANY_HEADER.match(line):
            break
        m = re.match(r"^(\s*)([A-Za-z0-9_\-]+|\"[^\"]+\")\s*=", line)
        if m:
            out.setdefault(m.group(2).strip('"'), (n + 1, len(m.group(1)) + 1))
    return out


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    data: dict[str, Any] = tomllib.loads(text)
    return data


def _toml_error(exc: Exception, shown: str) -> Diagnostic:
    m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    line, col = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "invalid TOML"
    return Diagnostic(SourceSpan(shown, line, col), "invalid_toml", message)


def load_config(path: Path) -> Config:
    """Read and validate one configuration file; :class:`ConfigError` lists every problem."""
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [Diagnostic(SourceSpan(shown), "unreadable_config", f"cannot read: {exc}")]
        ) from exc
    try:
        data = _toml_loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError([_toml_error(exc, shown)]) from exc
    in_pyproject = path.name == "pyproject.toml"
    table: Any = data
    if in_pyproject:
        table = data.get("tool", {}).get("hazard-rules", {})
    where = _key_lines(text, in_pyproject)
    head = _section_line(text) or 0
    diags: list[Diagnostic] = []
    values: dict[str, Setting] = {}
    if not isinstance(table, dict):
        span = SourceSpan(shown, head, 1 if head else 0)
        raise ConfigError([Diagnostic(span, "invalid_config", f"[{SECTION}] must be a table")])
    for raw_key, raw in table.items():
        line, col = where.get(raw_key, (head, 1 if head else 0))
        span = SourceSpan(shown, line, col)
        name = str(raw_key).replace("-", "_")
        key = KEYS.get(name)
        if key is None:
            hint = _hint(str(raw_key))
            diags.append(
                Diagnostic(span, "unknown_key", f"unknown key {raw_key!r} in {shown}{hint}")
            )
            continue
        try:
            value = _VALIDATORS[name](raw, path.parent)
        except ValueError as exc:
            diags.append(Diagnostic(span, "invalid_value", f"{name}: {exc}"))
            continue
        values[name] = Setting(value, f"{shown}:{line}" if line else shown)
    if diags:
        raise ConfigError(diags)
    return Config(path, values)


def _hint(word: str) -> str:
    from hazard_rules.schema import did_you_mean

    names = [*KEYS, *(k.replace("_", "-") for k in KEYS)]
    return did_you_mean(word.replace("-", "_"), list(KEYS)) or did_you_mean(word, names)


# -- validation -------------------------------------------------------------------------------


def _str_list(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise ValueError("expected a list of strings")
    return [x.strip() for x in raw]


def _rel(folder: Path, text: str) -> str:
    p = Path(os.path.expanduser(text))
    return display_path(p if p.is_absolute() else folder / p)


def _packs(raw: Any, folder: Path) -> list[str]:
    out = []
    for ref in _str_list(raw):
        looks_like_path = "/" in ref or "\\" in ref or ref.startswith(".")
        out.append(_rel(folder, ref) if looks_like_path or (folder / ref).is_dir() else ref)
    return out


def _as_of(raw: Any, folder: Path) -> str:
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, str):
        if raw.strip() == "today":
            return "today"
        try:
            return date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    raise ValueError(f'{raw!r} is neither a date (YYYY-MM-DD) nor "today"')


def _encoding(raw: Any, folder: Path) -> str:
    import codecs

    if not isinstance(raw, str):
        raise ValueError('expected the name of a text encoding, e.g. "gb18030"')
    try:
        codecs.lookup(raw)
    except LookupError:
        raise ValueError(f"unknown text encoding {raw!r}") from None
    return raw


def _path(raw: Any, folder: Path, what: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"expected the path of a {what}")
    shown = _rel(folder, raw.strip())
    if not Path(shown).is_file():
        raise ValueError(f"{shown}: no such file")
    return shown


def _max_rejected(raw: Any, folder: Path) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValueError('expected a number of rows (20) or a share of a file\'s rows ("5%")')
    text = str(raw).strip()
    if not re.fullmatch(r"\d+|\d+(\.\d+)?%", text):
        raise ValueError(f'{raw!r}: give a number of rows (20) or a share ("5%")')
    return text


def _choice(choices: Sequence[str]) -> Callable[[Any, Path], str]:
    def check(raw: Any, folder: Path) -> str:
        from hazard_rules.schema import did_you_mean

        if not isinstance(raw, str) or raw not in choices:
            hint = did_you_mean(str(raw), choices)
            raise ValueError(f"{raw!r} is not one of {', '.join(choices)}{hint}")
        return raw

    return check


def _jobs(raw: Any, folder: Path) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ValueError(f"{raw!r}: expected a whole number of processes, 1 or more")
    return raw


def _bool(raw: Any, folder: Path) -> bool:
    if not isinstance(raw, bool):
        raise ValueError(f"{raw!r}: expected true or false")
    return raw


def _formats() -> tuple[str, ...]:
    from hazard_rules.output.writers import CHECK_FORMATS

    return CHECK_FORMATS


_VALIDATORS: dict[str, Callable[[Any, Path], Any]] = {
    "packs": _packs,
    "as_of": _as_of,
    "encoding": _encoding,
    "map": lambda raw, folder: _path(raw, folder, "column map"),
    "waivers": lambda raw, folder: _path(raw, folder, "waiver file"),
    "max_rejected": _max_rejected,
    "lang": _choice(("zh", "en")),
    "format": lambda raw, folder: _choice(_formats())(raw, folder),
    "backend": _choice(("python", "durable")),
    "select": lambda raw, folder: _str_list(raw),
    "ignore": lambda raw, folder: _str_list(raw),
    "jobs": _jobs,
    "exit_zero": _bool,
    "fail_on": _choice(SEVERITIES),
}


# -- applying ---------------------------------------------------------------------------------


def config_options(sp: argparse.ArgumentParser) -> None:
    """Add ``--config FILE`` and ``--no-config`` to a command that reads the configuration."""
    g = sp.add_argument_group("configuration")
    g.add_argument(
        "--config",
        metavar="FILE",
        dest="config_file",
        help="read this hazard-rules.toml or pyproject.toml (default: found upwards)",
    )
    g.add_argument(
        "--no-config", action="store_true", help="read no configuration file (defaults and flags)"
    )


def _config_for(args: argparse.Namespace) -> Config:
    if getattr(args, "no_config", False):
        return Config(None, {})
    named = getattr(args, "config_file", None)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(
                [Diagnostic(SourceSpan(named), "unreadable_config", "no such file (--config)")]
            )
        return load_config(path)
    found = find_config()
    return load_config(found) if found else Config(None, {})


def _given(value: Any) -> bool:
    return value is not None and value != []


def apply_config(args: argparse.Namespace) -> dict[str, Setting]:
    """Fill every option of ``args.command`` that the configuration governs: a flag given
    wins, then the file's value, then the default. Returns each key's :class:`Setting`
    (also left in ``args.settings``)."""
    command = str(getattr(args, "command", ""))
    config = _config_for(args)
    settings: dict[str, Setting] = {}
    for key in KEYS.values():
        if command not in key.commands and command != "config":
            continue
        dest = "packs" if key.name == "packs" and command in ("lint", "test") else key.dest
        if command != "config" and not hasattr(args, dest):
            continue  # an option this command does not have
        flag_value = getattr(args, dest, None)
        if _given(flag_value):
            settings[key.name] = Setting(flag_value, key.flag)
        elif key.name in config.values:
            settings[key.name] = config.values[key.name]
            setattr(args, dest, config.values[key.name].value)
        else:
            settings[key.name] = Setting(key.default, "default")
            if command != "config":
                setattr(args, dest, key.default)
    args.settings = settings
    args.config_path = config.path
    return settings


# -- the command ------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "[]"
    return str(value)


def cmd_config(args: argparse.Namespace, out: TextIO) -> int:
    """Print the effective configuration and where each value came from."""
    from hazard_rules.output.table import render_table

    settings: dict[str, Setting] = args.settings
    path: Path | None = args.config_path
    if args.json:
        doc = {
            "file": display_path(path) if path else None,
            "values": {
                name: {"value": s.value, "source": s.source} for name, s in settings.items()
            },
        }
        out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return 0
    if path is None:
        out.write("configuration file: none (defaults and flags)\n\n")
    else:
        table = f"[{SECTION}] in " if path.name == "pyproject.toml" else ""
        out.write(f"configuration file: {table}{display_path(path)}\n\n")
    rows = []
    for name, s in settings.items():
        rows.append([name, _show(s.value), s.source])
    out.write(render_table(["key", "value", "source"], rows) + "\n")
    return 0


def register(sub: Any) -> None:
    """Add ``hazard-rules config``: it takes every flag the configuration governs."""
    from hazard_rules.cli.common import add_config_flags

    c = sub.add_parser("config", help="the effective configuration and where each value came from")
    add_config_flags(c)
    c.add_argument("--json", action="store_true", help="as JSON")
    config_options(c)
    c.set_defaults(func=cmd_config)
