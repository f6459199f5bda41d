"""Ledgers as enterprises keep them read exactly like their clean twin: a workbook with a cover
sheet, title rows, 序号, 合计 rows, merged cells, Chinese headers, values and every date form
(examples/ledger), through the API and the command line; and an export that is mostly
rejected is no verdict."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import EXPORT, REPO
from hazard_rules import Result, TooManyRejectedError, evaluate, load_packs
from hazard_rules.cli import main

openpyxl = pytest.importorskip("openpyxl")

LEDGER = REPO / "examples" / "ledger"
MAP = LEDGER / "map.yaml"
AS_OF = "2026-01-15"


def _builder() -> Any:
    spec = importlib.util.spec_from_file_location("make_ledger", LEDGER / "make_ledger.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unsourced(result: Result) -> list[Any]:
    """Violations without the sources of doubt (file:line against file:sheet:row)."""
    return [v.model_copy(update={"doubtful_because": []}) for v in result.violations]


def _counts(result: Result) -> Any:
    return result.counts.model_copy(update={"read_by_file": {}, "rejected_by_file": {}})


@pytest.fixture(scope="module")
def packs() -> Any:
    return load_packs(*[p for p in ("baoshan-2024", "gm-2023", "chem-2017", "mem-16")])


@pytest.fixture(scope="module")
def twins(packs: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Result]:
    """(the clean export, the ledger built from it now) evaluated as of 2026-01-15."""
    folder = tmp_path_factory.mktemp("ledger")
    _builder().build(folder / "2025年安全生产台账.xlsx", EXPORT)
    as_of = __import__("datetime").date.fromisoformat(AS_OF)
    clean = evaluate(packs, EXPORT, as_of)
    ledger = evaluate(packs, folder, as_of, column_map=MAP)
    return clean, ledger


def test_the_ledger_gives_exactly_the_violations_of_its_clean_twin(
    twins: tuple[Result, Result],
) -> None:
    clean, ledger = twins
    assert clean.violations, "the example has findings"
    assert _unsourced(ledger) == _unsourced(clean)
    assert ledger.classifications == clean.classifications
    assert ledger.candidates == clean.candidates
    assert _counts(ledger) == _counts(clean)
    c = ledger.counts
    assert c.read == c.evaluated + c.rejected


def test_the_same_records_are_rejected_located_in_the_workbook(
    twins: tuple[Result, Result],
) -> None:
    clean, ledger = twins
    assert [(r.type, r.id, r.field) for r in ledger.rejected] == [
        (r.type, r.id, r.field) for r in clean.rejected
    ]
    # the bad date of H019: row 21 of 隐患台账 (title row 1, header row 2, H019 is the 19th)
    (h019,) = [r for r in ledger.rejected if r.id == "H019"]
    assert h019.source.endswith("2025年安全生产台账.xlsx:隐患台账:21")


def test_what_was_skipped_is_in_the_notes(twins: tuple[Result, Result]) -> None:
    _, ledger = twins
    notes = "\n".join(ledger.notes)
    assert "填表说明: sheet skipped" in notes
    assert "隐患台账: 1 row(s) above the header (row 2) skipped: rows 1" in notes
    assert "隐患台账: column A ('序号') is a row counter; ignored" in notes
    assert "隐患台账: 1 total row(s) (合计/小计/总计) skipped" in notes


def test_the_committed_ledger_is_what_the_script_writes(tmp_path: Path) -> None:
    fresh = _builder().build(tmp_path / "fresh.xlsx", EXPORT)

    def cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
        book = openpyxl.load_workbook(path, read_only=True)
        out = {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book}
        book.close()
        return out

    assert cells(LEDGER / "2025年安全生产台账.xlsx") == cells(fresh), (
        "examples/ledger is stale: run python examples/ledger/make_ledger.py"
    )


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hazard_rules", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def test_check_on_the_ledger_through_the_command(tmp_path: Path) -> None:
    def lines(*extra: str) -> list[dict[str, Any]]:
        out = tmp_path / "out.jsonl"
        proc = _run("check", *extra, "--as-of", AS_OF, "--format", "jsonl", "-o", str(out))
        assert proc.returncode == 1, proc.stderr
        # jsonl to a file: the rejected records are summarised on stderr
        assert ("record(s) rejected" in proc.stderr and "hazard.csv" in proc.stderr) or (
            "隐患台账" in proc.stderr
        )
        rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
        for r in rows:
            r.pop("doubtful_because")
        return rows

    assert lines("examples/ledger", "--map", "examples/ledger/map.yaml") == lines("examples/export")


def test_without_the_map_the_ledger_cannot_be_used() -> None:
    proc = _run("check", "examples/ledger", "--as-of", AS_OF)
    assert proc.returncode == 2
    assert "隐患台账: no header row in the first 20 rows" in proc.stderr
    assert "--map" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_inspect_shows_how_the_ledger_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", "examples/ledger", "--map", "examples/ledger/map.yaml"])
    out = capsys.readouterr().out
    assert code == 0
    assert "隐患台账 → hazard (column map (sheets)); header row 2" in out
    assert "排查日期  → discovered_on  [map]" in out
    assert "序号  (a row counter, ignored)" in out
    assert "values level: 一般隐患 ×28, 重大 ×11" in out
    assert "2024年5月20日" in out and "Excel date or serial" in out
    assert "safety_officer ×1 (unknown)" in out
    assert "填表说明: not read" in out


def test_inspect_json_and_exit_2_without_the_map(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inspect", "examples/ledger", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 2
    assert any("隐患台账" in u for u in report["unusable"])
    by_source = {t["source"].split(":", 1)[1]: t for t in report["tables"]}
    training = by_source["培训记录"]
    assert training["type"] == "training" and training["header_row"] == 2
    assert training["unknown_values"] == {"role": ["safety_officer"]}
    assert training["read"] == training["accepted"] + training["rejected"]


# -- a mostly rejected export is no verdict ---------------------------------------------------


def _mostly_rejected(root: Path, bad: int = 4530, good: int = 200) -> Path:
    """An export whose inspections mostly carry dates in day/month/year order."""
    folder = root / "export"
    folder.mkdir()
    (folder / "enterprise.csv").write_text(
        "id,name,sectors,high_risk\n"
        + "".join(f"E{i:03d},企业{i},commerce,false\n" for i in range(50)),
        encoding="utf-8",
    )
    rows = ["id,enterprise_id,held_on,led_by"]
    for n in range(bad + good):
        e = f"E{n % 50:03d}"
        month = 4 + n % 9
        if n < bad:
            rows.append(f"I{n:05d},{e},{(n % 27) + 1:02d}/{month:02d}/2024,principal")
        else:
            rows.append(f"I{n:05d},{e},2024-{month:02d}-15,principal")
    (folder / "inspection.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_a_mostly_rejected_export_exits_2_naming_file_count_reason_and_fix(
    tmp_path: Path,
) -> None:
    folder = _mostly_rejected(tmp_path)
    proc = _run("check", str(folder), "--pack", "baoshan-2024", "--as-of", "2025-01-15")
    assert proc.returncode == 2, proc.stdout[-2000:]
    err = proc.stderr
    assert "inspection.csv: 4,530 of 4,730 rows rejected (95.8%)" in err
    assert "is ambiguous: day and month order unknown" in err
    assert "4,530 row(s)" in err
    assert "date_order" in err and "--max-rejected 100%" in err
    assert "Traceback" not in err


def test_with_max_rejected_100_the_findings_are_marked_doubtful(tmp_path: Path) -> None:
    folder = _mostly_rejected(tmp_path)
    packs = load_packs("baoshan-2024")
    as_of = __import__("datetime").date(2025, 1, 15)
    with pytest.raises(TooManyRejectedError) as exc:
        evaluate(packs, folder, as_of)
    assert isinstance(exc.value.result, Result)
    result = evaluate(packs, folder, as_of, max_rejected="100%")
    inspections = [v for v in result.violations if v.rule == "baoshan-2024.leader-inspection"]
    assert inspections and all(v.doubtful for v in inspections)
    first = inspections[0]
    assert first.doubtful_count > len(first.doubtful_because) == 20
    assert all("inspection.csv:" in s for s in first.doubtful_because)
    # sources in reading order
    lines = [int(s.rsplit(":", 1)[1]) for s in first.doubtful_because]
    assert lines == sorted(lines)
    assert result.counts.doubtful == sum(v.doubtful for v in result.violations)
    # findings no rejected row could change are not doubtful
    others = [v for v in result.violations if v.rule != "baoshan-2024.leader-inspection"]
    assert others and not any(v.doubtful for v in others)
    c = result.counts
    assert c.read == c.evaluated + c.rejected == 4730 + 50
    assert c.rejected_by_file == {str(folder / "inspection.csv"): 4530} or (
        list(c.rejected_by_file.values()) == [4530]
    )


def test_doubtful_in_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _mostly_rejected(tmp_path, bad=30, good=200)
    base = ["check", str(folder), "--pack", "baoshan-2024", "--as-of", "2025-01-15"]
    assert main([*base, "--max-rejected", "100%"]) == 1
    table = capsys.readouterr()
    assert "⚠缺失" in table.out and "⚠ 存疑" in table.out
    assert "；存疑 10 项）" in table.out
    assert main([*base, "--max-rejected", "100%", "--format", "csv"]) == 1
    csv_out = capsys.readouterr()
    header = csv_out.out.splitlines()[0]
    assert "doubtful" in header and "doubtful_because" in header
    assert "finding(s) are doubtful" in csv_out.err
    assert main([*base, "--max-rejected", "100%", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["counts"]["doubtful"] > 0
    assert any(v["doubtful"] for v in doc["violations"])


def test_a_date_order_in_the_map_reads_day_first_dates(tmp_path: Path) -> None:
    folder = _mostly_rejected(tmp_path)
    cmap = tmp_path / "map.yaml"
    cmap.write_text("types:\n  inspection:\n    date_order: dmy\n", encoding="utf-8")
    result = evaluate(
        load_packs("baoshan-2024"),
        folder,
        __import__("datetime").date(2025, 1, 15),
        column_map=cmap,
    )
    assert result.rejected == []
    assert result.counts.read == 4780


def test_the_example_export_still_exits_1_with_the_default() -> None:
    proc = _run("check", "examples/export", "--as-of", AS_OF)
    assert proc.returncode == 1, proc.stderr
