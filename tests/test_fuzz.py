"""Fuzzing (issue 12): exports and rule files mutated from the bundled ones, and conditions
generated from the grammar. Whatever the input:

* the only exceptions are the documented ones (``InputError`` and its kin for input,
  ``PackError`` for rule packs) — never one from inside the engine or a dependency;
* the command exits 0, 1 or 2, and on 2 prints a message, never a traceback;
* ``read = evaluated + rejected``;
* no example runs past a generous time guard (a hang detector, not a performance test).

CI runs the ``ci`` profile (at least 2,000 inputs in all); ``make fuzz`` runs the ``fuzz``
profile (at least 10,000) and prints the counts.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import time
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout, suppress
from datetime import date, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXPORT, REPO
from hazard_rules import HazardRulesError, InputError, PackError, evaluate, load_packs
from hazard_rules.cli import main

PROFILE = os.environ.get("HAZARD_RULES_FUZZ", "ci")
# examples per test: ci 3 × 500 + 2 × 250 = 2,000; fuzz 3 × 2,500 + 2 × 1,500 = 10,500
BIG, SMALL = (2500, 1500) if PROFILE == "fuzz" else ((500, 250) if PROFILE == "ci" else (20, 10))
GUARD = timedelta(seconds=30)  # per example: a hang, not slowness
COUNTS: Counter[str] = Counter()
FILES = ("enterprise.csv", "site.csv", "hazard.csv", "inspection.csv", "training.csv", "report.csv")
AUTHORING = REPO / "examples" / "authoring" / "acme-hotwork"
SETTINGS = dict(
    deadline=GUARD,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=PROFILE != "fuzz",
    database=None,
)


@pytest.fixture(scope="module")
def packs() -> Any:
    return load_packs("baoshan-2024", "gm-2023", "mem-16")


# -- mutations --------------------------------------------------------------------------------


def mutate(data: bytes, seed: int, n: int) -> bytes:
    """``n`` random edits of ``data``: flips, deletions, insertions of hostile bytes and text,
    truncation, duplicated lines, re-encoding."""
    r = random.Random(seed)
    hostile = [
        b'"', b",", b"\n", b"\r", b"\x00", b"\xff", b"\xfe\xff", b"\xe4\xb8", b";", b"\t",
        b"9" * 5000, "重大".encode(), b"2024/13/45", b"=HYPERLINK()", b"\x1b[2J",
        "是".encode("gb18030"), b'"""', b"\\ud800", b"NaN", b"-1e309", b"2024-02-30",
    ]  # fmt: skip
    out = bytearray(data)
    for _ in range(n):
        op = r.randrange(7)
        pos = r.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(pos, len(out) - 1)] = r.randrange(256)
        elif op == 1:
            del out[pos : pos + r.randrange(1, 40)]
        elif op == 2:
            out[pos:pos] = r.choice(hostile)
        elif op == 3:
            del out[pos:]
        elif op == 4:
            lines = bytes(out).split(b"\n")
            i = r.randrange(len(lines))
            lines.insert(i, lines[i])
            out = bytearray(b"\n".join(lines))
        elif op == 5:
            with suppress(UnicodeDecodeError, UnicodeEncodeError):
                out = bytearray(
                    bytes(out)
                    .decode("utf-8")
                    .encode(r.choice(["gb18030", "utf-16", "utf-16-le", "utf-32"]))
                )
        else:
            out[pos:pos] = bytes(r.randrange(256) for _ in range(r.randrange(1, 12)))
    return bytes(out)


def check_result(result: Any) -> None:
    c = result.counts
    assert c.read == c.evaluated + c.rejected, "read = evaluated + rejected"
    assert len(result.rejected) == c.rejected


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def check_cli(code: int, err: str, out: str = "") -> None:
    assert code in (0, 1, 2), code
    for text in (err, out):
        assert "Traceback" not in text and "internal error" not in text, text[-2000:]
    if code == 2:
        assert (err + out).strip(), "exit 2 without a message"


# -- exports ----------------------------------------------------------------------------------


@settings(max_examples=BIG, **SETTINGS)  # type: ignore[arg-type]
@given(seed=st.integers(0, 2**32), edits=st.integers(1, 12), which=st.sampled_from(FILES))
def test_mutated_exports(
    packs: Any, tmp_path_factory: pytest.TempPathFactory, seed: int, edits: int, which: str
) -> None:
    folder = tmp_path_factory.mktemp("export")
    for name in FILES:
        data = (EXPORT / name).read_bytes()
        (folder / name).write_bytes(mutate(data, seed, edits) if name == which else data)
    started = time.monotonic()
    try:
        result = evaluate(packs, folder, date(2026, 1, 15), max_rejected=None)
    except InputError:
        COUNTS["exports: refused (InputError)"] += 1
    else:
        check_result(result)
        COUNTS["exports: evaluated"] += 1
    assert time.monotonic() - started < GUARD.total_seconds()


@settings(max_examples=BIG, **SETTINGS)  # type: ignore[arg-type]
@given(seed=st.integers(0, 2**32), edits=st.integers(1, 8))
def test_mutated_jsonl(
    packs: Any, tmp_path_factory: pytest.TempPathFactory, seed: int, edits: int
) -> None:
    folder = tmp_path_factory.mktemp("jsonl")
    lines = [
        '{"type": "enterprise", "id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": false}',
        '{"type": "hazard", "id": "H1", "enterprise_id": "E1", "discovered_on": "2025-01-02", '
        '"found_by": "自查", "level": "重大", "description": "动火作业"}',
        '{"type": "inspection", "id": "I1", "enterprise_id": "E1", "held_on": "2025-03-01", "led_by": "principal"}',
    ]
    path = folder / "mixed.jsonl"
    path.write_bytes(mutate("\n".join(lines * 5).encode(), seed, edits))
    try:
        result = evaluate(packs, path, date(2026, 1, 15), max_rejected=None)
    except InputError:
        COUNTS["jsonl: refused (InputError)"] += 1
    else:
        check_result(result)
        COUNTS["jsonl: evaluated"] += 1


@settings(max_examples=SMALL, **SETTINGS)  # type: ignore[arg-type]
@given(
    seed=st.integers(0, 2**32),
    edits=st.integers(1, 10),
    fmt=st.sampled_from(["table", "json", "jsonl", "csv", "sarif"]),
)
def test_mutated_exports_through_the_command(
    tmp_path_factory: pytest.TempPathFactory, seed: int, edits: int, fmt: str
) -> None:
    folder = tmp_path_factory.mktemp("cli")
    for name in ("enterprise.csv", "site.csv", "hazard.csv", "inspection.csv"):
        data = (EXPORT / name).read_bytes()
        (folder / name).write_bytes(mutate(data, seed, edits) if name == "hazard.csv" else data)
    code, _, err = run_cli(
        [
            "check",
            str(folder),
            "--pack",
            "baoshan-2024",
            "--as-of",
            "2026-01-15",
            "--format",
            fmt,
            "--no-config",
        ]
    )
    check_cli(code, err)
    COUNTS[f"command: exit {code}"] += 1


# -- rule files -------------------------------------------------------------------------------


def _mutate_yaml(text: str, r: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(r.randrange(1, 5)):
        op = r.randrange(6)
        i = r.randrange(len(lines)) if lines else 0
        if op == 0 and lines:
            del lines[i]
        elif op == 1 and lines:
            lines.insert(i, lines[i])  # duplicate keys and ids
        elif op == 2 and lines:
            lines[i] = lines[i][: r.randrange(len(lines[i]) + 1)]  # truncation
        elif op == 3 and lines:
            k = lines[i].find(":")
            if k > 0:
                value = r.choice(
                    [
                        "[]",
                        "{}",
                        "null",
                        "true",
                        "9" * 400,
                        "'2024-13-45'",
                        "{not: " * 40 + "{}" + "}" * 40,
                        "!!python/name:os.system",
                        "*nope",
                        "&a [*a]",
                        "'(a+)+$'",
                    ]
                )
                lines[i] = lines[i][: k + 1] + " " + value
        elif op == 4:
            lines.insert(
                i,
                "  " * r.randrange(8)
                + r.choice(
                    [
                        "when:",
                        "- id: x.y",
                        "kind: trend",
                        "every: decade",
                        "due: {day: 40, of: next}",
                    ]
                ),
            )
        else:
            lines.insert(i, "\t" + "\x00" * r.randrange(2))
    return "\n".join(lines) + "\n"


@settings(max_examples=BIG, **SETTINGS)  # type: ignore[arg-type]
@given(
    seed=st.integers(0, 2**32),
    which=st.sampled_from(
        ["welding.rule.yaml", "permit.rule.yaml", "schema.yaml", "pack.yaml", "welding.cases.yaml"]
    ),
)
def test_mutated_rule_packs(
    tmp_path_factory: pytest.TempPathFactory, seed: int, which: str
) -> None:
    folder = tmp_path_factory.mktemp("pack") / "acme-hotwork"
    shutil.copytree(AUTHORING, folder)
    path = folder / which
    path.write_text(
        _mutate_yaml(path.read_text(encoding="utf-8"), random.Random(seed)), encoding="utf-8"
    )
    try:
        packs = load_packs(folder)
    except PackError as exc:
        assert exc.diagnostics and all(d.span.path for d in exc.diagnostics)
        COUNTS["rule packs: refused (PackError)"] += 1
        return
    facts = yaml.safe_load((AUTHORING / "welding.cases.yaml").read_text(encoding="utf-8"))["cases"][
        0
    ]["facts"]
    try:
        result = evaluate(packs, facts, date(2025, 6, 30))
    except HazardRulesError as exc:
        assert not isinstance(exc, PackError)
        COUNTS["rule packs: loaded, input refused"] += 1
        return
    check_result(result)
    COUNTS["rule packs: loaded and evaluated"] += 1


@settings(max_examples=SMALL, **SETTINGS)  # type: ignore[arg-type]
@given(seed=st.integers(0, 2**32), command=st.sampled_from(["lint", "test", "explain"]))
def test_mutated_rule_packs_through_the_command(
    tmp_path_factory: pytest.TempPathFactory, seed: int, command: str
) -> None:
    folder = tmp_path_factory.mktemp("packcli") / "acme-hotwork"
    shutil.copytree(AUTHORING, folder)
    r = random.Random(seed)
    path = folder / r.choice(["welding.rule.yaml", "permit.rule.yaml", "schema.yaml"])
    path.write_text(_mutate_yaml(path.read_text(encoding="utf-8"), r), encoding="utf-8")
    argv = {
        "lint": ["lint", str(folder)],
        "test": ["test", str(folder), "--backend", "python"],
        "explain": ["explain", "acme-hotwork.welding-near-flammables", "--pack", str(folder)],
    }[command]
    code, out, err = run_cli(argv)
    check_cli(code, err, out)
    COUNTS[f"rule commands: {command} exit {code}"] += 1


def test_print_the_counts() -> None:
    """Runs last in this file: the counts of the inputs tried (make fuzz shows them)."""
    total = sum(COUNTS.values())
    lines = [
        f"fuzz profile {PROFILE}: {total:,} inputs, no traceback, hang or conservation failure"
    ]
    lines += [f"  {k}: {v:,}" for k, v in sorted(COUNTS.items())]
    print("\n".join(lines))
    if PROFILE == "fuzz":
        assert total >= 10_000, total
