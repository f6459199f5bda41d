"""The public API checks its arguments at the boundary: a wrong argument raises the library's
own error — also a ``TypeError`` or ``ValueError`` — whose message names the argument, never an
exception from inside the engine or a dependency. Values no output can represent are
rejected records, located."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import hazard_rules
from hazard_rules import (
    ArgumentTypeError,
    ArgumentValueError,
    HazardRulesError,
    evaluate,
    load_facts,
    load_packs,
)
from hazard_rules.api import evaluate_findings
from hazard_rules.output.writers import format_result

PACKS = load_packs("baoshan-2024")
D = date(2025, 1, 15)
E = {"enterprise": [{"id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": False}]}

CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("packs None", lambda: evaluate(None, E, D), TypeError, "packs"),  # type: ignore[arg-type]
    ("packs str", lambda: evaluate("baoshan-2024", E, D), TypeError, "packs"),  # type: ignore[arg-type]
    ("facts int", lambda: evaluate(PACKS, 42, D), TypeError, "facts"),  # type: ignore[arg-type]
    ("facts None list", lambda: evaluate(PACKS, {"hazard": None}, D), TypeError, "facts['hazard']"),  # type: ignore[dict-item]
    ("facts str list", lambda: evaluate(PACKS, {"hazard": "H1"}, D), TypeError, "facts['hazard']"),
    ("facts int key", lambda: evaluate(PACKS, {1: []}, D), TypeError, "facts"),  # type: ignore[dict-item]
    ("as_of str", lambda: evaluate(PACKS, E, "2025-01-15"), TypeError, "as_of"),  # type: ignore[arg-type]
    ("as_of None", lambda: evaluate(PACKS, E, None), TypeError, "as_of"),  # type: ignore[arg-type]
    ("as_of naive", lambda: evaluate(PACKS, E, datetime(2025, 1, 15, 10)), ValueError, "as_of"),
    ("jobs str", lambda: evaluate(PACKS, E, D, jobs="2"), TypeError, "jobs"),  # type: ignore[arg-type]
    ("jobs 0", lambda: evaluate(PACKS, E, D, jobs=0), ValueError, "jobs"),
    ("jobs bool", lambda: evaluate(PACKS, E, D, jobs=True), TypeError, "jobs"),
    ("backend", lambda: evaluate(PACKS, E, D, backend="drools"), ValueError, "backend"),
    ("backend int", lambda: evaluate(PACKS, E, D, backend=1), TypeError, "backend"),  # type: ignore[arg-type]
    ("explain", lambda: evaluate(PACKS, E, D, explain="yes"), TypeError, "explain"),  # type: ignore[arg-type]
    ("strict", lambda: evaluate(PACKS, E, D, strict=None), TypeError, "strict"),  # type: ignore[arg-type]
    ("encoding", lambda: evaluate(PACKS, E, D, encoding="klingon"), HazardRulesError, "encoding"),
    ("encoding type", lambda: evaluate(PACKS, E, D, encoding=8), TypeError, "encoding"),  # type: ignore[arg-type]
    ("max_rejected", lambda: evaluate(PACKS, E, D, max_rejected="lots"), ValueError, "max_rejected"),
    ("max_rejected type", lambda: evaluate(PACKS, E, D, max_rejected=1.5), TypeError, "max_rejected"),  # type: ignore[arg-type]
    ("max_rejected 200%", lambda: evaluate(PACKS, E, D, max_rejected="200%"), ValueError, "max_rejected"),
    ("column_map", lambda: evaluate(PACKS, E, D, column_map=3), TypeError, "column_map"),  # type: ignore[arg-type]
    ("waivers", lambda: evaluate(PACKS, E, D, waivers=[1]), TypeError, "waivers"),  # type: ignore[list-item]
    ("findings packs", lambda: evaluate_findings([], E, D), TypeError, "packs"),  # type: ignore[arg-type]
    ("load_facts packs", lambda: load_facts(None, E), TypeError, "packs"),  # type: ignore[arg-type]
    ("load_facts facts", lambda: load_facts(PACKS, 3.5), TypeError, "facts"),  # type: ignore[arg-type]
    ("load_packs int", lambda: load_packs(42), TypeError, "load_packs"),  # type: ignore[arg-type]
    ("load_packs None", lambda: load_packs(None), TypeError, "load_packs"),  # type: ignore[arg-type]
    ("map missing", lambda: hazard_rules.load_column_map("/no/such.yaml", PACKS.schema), HazardRulesError, "no such column map"),
    ("waivers missing", lambda: hazard_rules.load_waivers("/no/such.yaml"), HazardRulesError, "no such waiver file"),
    ("parse_period", lambda: hazard_rules.parse_period("2024-13"), ValueError, "2024-13"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "call", "kind", "names"), CASES, ids=[c[0] for c in CASES])
def test_wrong_arguments_raise_the_documented_errors_naming_them(
    name: str, call: Callable[[], Any], kind: type[Exception], names: str
) -> None:
    with pytest.raises(Exception) as exc:
        call()
    err = exc.value
    assert isinstance(err, kind), f"{name}: {type(err).__name__}: {err}"
    assert isinstance(err, (HazardRulesError, ValueError)), f"{name}: {type(err).__module__}"
    assert names in str(err), f"{name}: {err}"


def test_argument_errors_are_both_library_and_builtin_errors() -> None:
    assert issubclass(ArgumentTypeError, HazardRulesError) and issubclass(
        ArgumentTypeError, TypeError
    )
    assert issubclass(ArgumentValueError, HazardRulesError) and issubclass(
        ArgumentValueError, ValueError
    )


def test_an_aware_datetime_as_of_is_its_local_date() -> None:
    facts = {
        **E,
        "document": [
            {
                "id": "D1",
                "enterprise_id": "E1",
                "doc_type": "work_plan",
                "submitted_on": "2024-04-20",
            }
        ],
    }
    # 2024-07-01 00:30 in Shanghai is still 2024-06-30 in UTC
    utc = datetime(2024, 6, 30, 16, 30, tzinfo=timezone.utc)
    assert evaluate(PACKS, facts, utc).as_of == date(2024, 7, 1)
    west = datetime(2024, 6, 30, 10, tzinfo=timezone(timedelta(hours=-5)))
    assert evaluate(PACKS, facts, west).as_of == date(2024, 6, 30)


@pytest.mark.parametrize("backend_jobs", [("python", 1), ("python", 2), ("durable", 1)])
def test_every_path_checks_as_of(backend_jobs: tuple[str, int]) -> None:
    backend, jobs = backend_jobs
    if backend == "durable" and "durable" not in _available():
        pytest.skip("durable-rules is not installed")
    with pytest.raises(ArgumentValueError, match="as_of"):
        evaluate(PACKS, E, datetime(2025, 1, 1), backend=backend, jobs=jobs)


def _available() -> set[str]:
    from hazard_rules.testing.runner import available_backends

    return set(available_backends())


# -- values no output can represent -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("甲\ud800", "lone surrogate U+D800"),
        (10**5000, "too large"),
        (2**70, "too large"),
    ],
    ids=["surrogate", "5000 digits", "2**70"],
)
def test_unrepresentable_text_is_a_rejected_record(value: Any, reason: str) -> None:
    facts = {
        "enterprise": [{"id": "E1", "name": value, "sectors": ["commerce"], "high_risk": False}]
    }
    result = evaluate(PACKS, facts, D)
    (r,) = result.rejected
    assert r.field == "name" and reason in r.reason
    # and every output format still writes
    for fmt in ("table", "json", "jsonl", "csv"):
        format_result(result, fmt).encode("utf-8")


def test_an_unrepresentable_id_never_crashes() -> None:
    facts = {"enterprise": [{"id": 10**5000, "name": "甲", "sectors": ["commerce"], "high_risk": False},
                            {"id": "E\udfff", "name": "乙", "sectors": ["commerce"], "high_risk": False}]}  # fmt: skip
    result = evaluate(PACKS, facts, D)
    assert result.counts.read == 2 and result.counts.rejected == 2
    for fmt in ("table", "json", "jsonl", "csv"):
        format_result(result, fmt).encode("utf-8")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"type": "enterprise", "id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": ' + "9" * 5000 + "}", "invalid JSON"),
        ('{"type": "enterprise", "id": "E1", "name": "\\ud800", "sectors": ["commerce"], "high_risk": false}', "lone surrogate"),
        ('{"type": "enterprise", "id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": NaN}', "missing"),
    ],
    ids=["5000 digits", "surrogate", "NaN"],
)  # fmt: skip
def test_unrepresentable_json_values_are_rejected_lines(
    tmp_path: Path, line: str, reason: str
) -> None:
    export = tmp_path / "mixed.jsonl"
    export.write_text(line + "\n", encoding="utf-8")
    result = evaluate(PACKS, export, D, max_rejected=None)
    (r,) = result.rejected
    assert r.source.endswith("mixed.jsonl:1") and reason in r.reason
    format_result(result, "json").encode("utf-8")


def test_nan_in_a_number_field_is_rejected() -> None:
    packs = load_packs("gm-2023")
    hazard = {
        "id": "H1", "enterprise_id": "E1", "discovered_on": "2024-05-01", "found_by": "自查",
        "level": "一般", "description": "x", "quick_freezer_room_workers": float("inf"),
    }  # fmt: skip
    result = evaluate(packs, {**E, "hazard": [hazard]}, D)
    (r,) = result.rejected
    assert r.field == "quick_freezer_room_workers"


@pytest.mark.parametrize(
    ("as_of", "ok"),
    [
        ("2025-01-01T10:00+08:00", True),
        ("'2025-01-01'", True),
        ("2025-01-01", True),
        ("2025-01-01T10:00", False),  # naive: ambiguous
        ("yesterday", False),
    ],
)
def test_a_case_as_of_may_be_a_date_text_or_an_aware_datetime(
    tmp_path: Path, as_of: str, ok: bool
) -> None:
    import io

    from conftest import write_pack
    from hazard_rules.testing.runner import run_packs

    folder = write_pack(tmp_path, [])
    (folder / "c.cases.yaml").write_text(
        f"scope: pack\ncases:\n  - name: a\n    as_of: {as_of}\n    facts: {{}}\n    expect: []\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    code = run_packs([folder], backends=["python"], out=out)
    assert (code == 0) is ok, out.getvalue()
    if not ok:
        assert "malformed_date" in out.getvalue() and "Traceback" not in out.getvalue()


# -- dates and durations at the ends of the calendar -------------------------------------------


def test_as_of_outside_the_range_is_an_argument_error_and_a_usage_error(capsys: Any) -> None:
    from hazard_rules.cli import main

    with pytest.raises(ArgumentValueError, match="as_of 9999-12-25 is outside"):
        evaluate(PACKS, E, date(9999, 12, 25))
    assert main(["check", "examples/export", "--as-of", "9999-12-25"]) == 2
    assert "evaluation dates run from 1900-01-01 to 9998-12-31" in capsys.readouterr().err


def test_the_last_day_judges_every_bundled_rule_kind() -> None:
    packs = load_packs()
    result = evaluate(packs, "examples/export", date(9998, 12, 31), max_rejected=None)
    assert result.counts.read == result.counts.evaluated + result.counts.rejected


@pytest.mark.parametrize(("days", "ok"), [(36_500, True), (36_501, False), (999_999_999, False)])
def test_due_days_have_a_range(load: Any, days: int, ok: bool) -> None:
    from conftest import rule

    doc = rule(
        "t.k",
        "check",
        **{"for": "hazard"},
        due={"after": "discovered_on", "days": days},
        done="rectified_on",
    )
    if not ok:
        with pytest.raises(hazard_rules.PackError, match="days is a whole number from 0 to 36,500"):
            load([doc])
        return
    packs = load([doc])
    facts = {
        **E,
        "hazard": [{"id": "H1", "enterprise_id": "E1", "discovered_on": "9998-06-01",
                    "found_by": "自查", "level": "一般", "description": "x"}],
    }  # fmt: skip
    assert evaluate(packs, facts, date(9998, 12, 31)).violations == []
