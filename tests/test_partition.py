"""Partitioned evaluation (scale/partition.py): any partitioning gives one process's result —
findings, classifications, rejected records, notes, counts and doubtful marks."""

from __future__ import annotations

import io
import json
import multiprocessing as mp
import os
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from hazard_rules import Result, load_packs
from hazard_rules.api import _finish, evaluate_findings
from hazard_rules.cli import main
from hazard_rules.engine.compile import Finding
from hazard_rules.errors import BackendError
from hazard_rules.io.blocks import plan_blocks
from hazard_rules.output.writers import format_result
from hazard_rules.scale.partition import BUCKETS
from hazard_rules.scale.pipeline import InlineExecutor, run_partitioned
from hazard_rules.testing.strategies import fact_sets

EXPORT = REPO / "examples" / "export"
AS_OF = date(2026, 1, 15)
PACKS = load_packs("baoshan-2024", "gm-2023", "chem-2017")
BAOSHAN = load_packs("baoshan-2024")


def whole(result: Result, findings: list[Finding]) -> Result:
    return result.model_copy(update={"violations": [f.violation() for f in findings]})


def one_process(packs: Any, source: Any, as_of: date = AS_OF) -> Result:
    return whole(*evaluate_findings(packs, source, as_of, max_rejected=None))


def inline(
    packs: Any,
    source: Any,
    as_of: date = AS_OF,
    *,
    partitions: int = 2,
    assignment: list[int] | None = None,
    block_bytes: int | None = None,
) -> Result:
    """The partitioned pipeline with every task in this process (any assignment)."""
    result, findings, facts, notes = run_partitioned(
        packs,
        source,
        as_of,
        lambda ctx: InlineExecutor(ctx, partitions, assignment),
        workers=partitions,
        block_bytes=block_bytes,
    )
    return whole(*_finish(packs, facts, as_of, result, findings, notes, [], None))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args])
    out, err = capsys.readouterr()
    return code, out, err


# -- the example export, through the command line --------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_example_export_with_jobs_is_byte_identical(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", str(EXPORT), "--as-of", "2026-01-15", "--format", fmt]
    one = cli(capsys, *args)
    assert one[0] == 1 and one[1]
    assert cli(capsys, *args, "--jobs", "2") == one


# -- a generated export of 100,000 records ----------------------------------------------------------


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import sys

    sys.path.insert(0, str(REPO / "bench"))
    import gen  # type: ignore[import-not-found]

    folder = tmp_path_factory.mktemp("b100k")
    gen.generate(folder, 100_000, 1)
    return folder


BENCH = load_packs("baoshan-2024", "gm-2023")


def outputs(result: Result, findings: list[Finding]) -> dict[str, str]:
    from hazard_rules.output.writers import write_findings

    stream = io.StringIO()
    write_findings(findings, "jsonl", stream)
    return {"json": format_result(whole(result, findings), "json"), "jsonl": stream.getvalue()}


def assert_same(got: dict[str, str], want: dict[str, str]) -> None:
    """``got == want`` for outputs of 100k records, failing with the first line that differs
    (pytest's own diff of two such texts takes minutes)."""
    assert got.keys() == want.keys()
    for fmt in want:
        if got[fmt] != want[fmt]:
            a, b = got[fmt].splitlines(), want[fmt].splitlines()
            at = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)),
            )
            pytest.fail(
                f"{fmt}: line {at + 1} differs ({len(a)} lines, one process {len(b)}):\n"
                f"  got: {(a[at] if at < len(a) else '<end>')[:300]}\n"
                f" want: {(b[at] if at < len(b) else '<end>')[:300]}"
            )


@pytest.fixture(scope="module")
def big_one(big_export: Path) -> dict[str, str]:
    return outputs(*evaluate_findings(BENCH, big_export, AS_OF))


def test_generated_export_with_jobs_is_byte_identical(
    big_export: Path, big_one: dict[str, str]
) -> None:
    many = outputs(*evaluate_findings(BENCH, big_export, AS_OF, jobs=2, render="jsonl"))
    assert json.loads(big_one["json"])["counts"]["read"] >= 100_000
    assert_same(many, big_one)


# -- any partitioning, any block cuts -----------------------------------------------------------------


def _write_jsonl(folder: Path, name: str, rows: list[dict[str, Any]]) -> None:
    with (folder / name).open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")


@st.composite
def exports(draw: st.DrawFn) -> tuple[dict[str, list[dict[str, Any]]], list[tuple[str, int]]]:
    """Fact sets with some rows repeated (as duplicates, maybe changed) and some spoilt, and
    how each type's rows are shared out over 1–3 files."""
    facts = draw(fact_sets(BAOSHAN.schema, max_size=5, near=BAOSHAN))
    rnd = random.Random(draw(st.integers(0, 2**16)))
    for tname, rows in facts.items():
        if tname in ("enterprise", "site") or not rows:
            continue
        for _ in range(rnd.randint(0, 2)):
            again = dict(rnd.choice(rows))
            if rnd.random() < 0.5 and "enterprise_id" in again:
                again["enterprise_id"] = rnd.choice(["E1", "NOPE"])
            rows.insert(rnd.randint(0, len(rows)), again)
        for r in rows:
            if rnd.random() < 0.3:  # a field the schema does not have: one note per type
                r["备注"] = "x"
        if rnd.random() < 0.3:
            bad = dict(rnd.choice(rows))
            date_field = BAOSHAN.schema.types[tname].date_field
            bad[date_field or "id"] = "2024-13-45" if date_field else ""
            rows.append(bad)
    files = [(t, rnd.randint(1, 3)) for t in facts]
    return facts, files


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=exports(),
    partitions=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    block=st.integers(60, 600),
)
def test_any_partitioning_gives_one_process_result(
    tmp_path_factory: pytest.TempPathFactory,
    drawn: tuple[dict[str, list[dict[str, Any]]], list[tuple[str, int]]],
    partitions: int,
    seed: int,
    block: int,
) -> None:
    facts, files = drawn
    folder = tmp_path_factory.mktemp("export")
    rnd = random.Random(seed)
    for tname, n in files:
        rows = facts[tname]
        cuts = sorted(rnd.randint(0, len(rows)) for _ in range(n - 1))
        for i, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(rows)], strict=True)):
            _write_jsonl(folder, f"{tname}{'' if i == 0 else 2023 + i}.jsonl", rows[a:b])
    as_of = date(2025, 7, 1)
    one = one_process(BAOSHAN, folder, as_of)
    assignment = [rnd.randrange(partitions) for _ in range(BUCKETS)]
    got = inline(
        BAOSHAN, folder, as_of, partitions=partitions, assignment=assignment, block_bytes=block
    )
    assert got == one


def test_blocks_of_a_csv_file_with_quoted_line_breaks(tmp_path: Path) -> None:
    """Cuts fall outside quoted cells; the rows, their lines and the notes are the file's."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "enterprise.csv").write_text(
        "id,name,sectors,high_risk\nE1,甲,commerce,true\nE2,乙,machinery,false\n", encoding="utf-8"
    )
    lines = ["序号,id,enterprise_id,discovered_on,level,description,备注"]
    for i in range(1, 400):
        text = f'"第{i}项,\n跨行描述 ""引号""\n第三行"' if i % 3 == 0 else f"描述{i}"
        lines.append(f"{i},H{i},E{1 + i % 2},2024-0{1 + i % 9}-1{i % 10},general,{text},x")
        if i % 50 == 0:
            lines.append("合计,,,,,,")
    (folder / "hazard.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    blocks = plan_blocks(
        folder / "hazard.csv",
        "hazard.csv",
        "hazard",
        "csv",
        BAOSHAN.schema,
        encoding=None,
        column_map=None,
        block_bytes=900,
    )
    assert len(blocks) > 5
    one = one_process(BAOSHAN, folder)
    assert any("total row" in n for n in one.notes)
    assert inline(BAOSHAN, folder, block_bytes=900) == one


def test_an_unterminated_quote_reads_the_file_whole(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "enterprise.csv").write_text(
        "id,name,sectors,high_risk\nE1,甲,commerce,false\n", encoding="utf-8"
    )
    rows = ["id,enterprise_id,discovered_on,level,description"]
    rows += [f"H{i},E1,2024-03-0{1 + i % 9},general,d{i}" for i in range(200)]
    rows[120] = 'H119,E1,2024-03-01,general,"never closed'
    (folder / "hazard.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    one = one_process(BAOSHAN, folder)
    assert any("unterminated quote" in r.reason for r in one.rejected)
    assert inline(BAOSHAN, folder, block_bytes=500) == one


# -- duplicate ids across parts -------------------------------------------------------------------------


def duplicates_export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "enterprise.csv").write_text(
        "id,name,sectors,high_risk\nE1,甲,commerce,false\nE2,乙,commerce,true\n", encoding="utf-8"
    )
    head = "id,enterprise_id,held_on,led_by\n"
    first = [f"I{i},E1,2024-0{1 + i % 9}-15,principal" for i in range(60)]
    (folder / "inspection.csv").write_text(head + "\n".join(first) + "\n", encoding="utf-8")
    second = [
        "I5,E2,2024-05-01,principal",  # a duplicate of inspection.csv:7
        "I7,E9,2024-05-01,principal",  # a duplicate, whose enterprise does not exist
        "I100,E2,2024-06-01,principal",
        "I100,E2,2024-06-02,principal",  # a duplicate within the file
        "I5,E1,2024-07-01,principal",  # again: still names inspection.csv:7
        "I8,E1,2024-13-01,principal",  # a bad date: rejected for it, not as a duplicate
    ]
    (folder / "inspection2025.csv").write_text(head + "\n".join(second) + "\n", encoding="utf-8")
    return folder


def test_duplicate_ids_across_files_and_blocks(tmp_path: Path) -> None:
    """The first row with an id (file order, then line) is kept; a later one, in another file
    or block, is rejected naming the first one's source — also when its reference dangles,
    and when it repeats a row the first file already made a duplicate of."""
    folder = duplicates_export(tmp_path)
    one = one_process(BAOSHAN, folder)
    reasons = {(r.source, r.reason) for r in one.rejected}
    first = f"{folder}/inspection.csv:7"
    assert (
        f"{folder}/inspection2025.csv:2",
        f"duplicate id 'I5': first seen at {first}",
    ) in reasons
    assert (
        f"{folder}/inspection2025.csv:6",
        f"duplicate id 'I5': first seen at {first}",
    ) in reasons
    for partitions in (1, 2, 3):
        assert inline(BAOSHAN, folder, partitions=partitions, block_bytes=200) == one
    assert whole(*evaluate_findings(BAOSHAN, folder, AS_OF, jobs=2, max_rejected=None)) == one


# -- other inputs ------------------------------------------------------------------------------------------


def test_records_given_as_python_objects(tmp_path: Path) -> None:
    facts = {
        "enterprise": [{"id": "E1", "name": "甲", "sectors": ["gas"], "high_risk": True}],
        "inspection": [
            {
                "id": f"I{i}",
                "enterprise_id": "E1",
                "held_on": f"2024-0{1 + i}-10",
                "led_by": "principal",
            }
            for i in range(5)
        ]
        + [{"id": "I1", "enterprise_id": "E1", "held_on": "2024-09-01", "led_by": "principal"}],
    }
    one = whole(*evaluate_findings(BAOSHAN, facts, AS_OF))
    assert whole(*evaluate_findings(BAOSHAN, facts, AS_OF, jobs=2)) == one
    assert inline(BAOSHAN, facts) == one


def test_a_mixed_jsonl_file_is_evaluated_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    rows = [
        {"type": "enterprise", "id": "E1", "name": "甲", "sectors": ["gas"], "high_risk": True},
        {"type": "inspection", "id": "I1", "enterprise_id": "E1", "held_on": "2024-05-01"},
        {"type": "inspection", "id": "I2", "enterprise_id": "E1", "led_by": "principal"},
    ]
    _write_jsonl(tmp_path, "export.jsonl", rows)
    one = whole(*evaluate_findings(BAOSHAN, path, AS_OF, max_rejected=None))
    assert one.rejected
    assert whole(*evaluate_findings(BAOSHAN, path, AS_OF, jobs=2, max_rejected=None)) == one


# -- a worker that dies -------------------------------------------------------------------------------------


def test_a_killed_worker_process_fails_the_run(big_export: Path) -> None:
    killed: list[int] = []

    def progress(read: int, rejected: int) -> None:
        if not killed:
            children = mp.active_children()
            if children and children[0].pid is not None:
                killed.append(children[0].pid)
                os.kill(children[0].pid, 9)

    with pytest.raises(BackendError, match="worker process of --jobs died"):
        evaluate_findings(BENCH, big_export, AS_OF, jobs=2, progress=progress)
    assert killed


# -- Dask ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Any:
    pytest.importorskip("distributed")
    from hazard_rules.scale.on_dask import connect

    conn = connect("local:2")
    yield conn.client
    conn.close()


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl"])
def test_example_export_on_dask_prints_what_one_process_prints(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("distributed")
    args = ["check", str(EXPORT), "--as-of", "2026-01-15", "--format", fmt]
    one = cli(capsys, *args)
    assert cli(capsys, *args, "--dask", "local:2") == one


def test_report_on_dask_prints_what_one_process_prints(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed")
    args = ["report", str(EXPORT), "--as-of", "2026-01-15"]
    one = cli(capsys, *args)
    assert one[1]
    assert cli(capsys, *args, "--dask", "local:2") == one


def test_generated_export_on_dask_is_byte_identical(
    client: Any, big_export: Path, big_one: dict[str, str]
) -> None:
    got = evaluate_findings(BENCH, big_export, AS_OF, client=client, render="jsonl")
    assert_same(outputs(*got), big_one)


def test_duplicates_and_records_given_as_objects_on_dask(client: Any, tmp_path: Path) -> None:
    folder = duplicates_export(tmp_path)
    one = one_process(BAOSHAN, folder)
    assert (
        whole(*evaluate_findings(BAOSHAN, folder, AS_OF, client=client, max_rejected=None)) == one
    )
    facts = {
        "enterprise": [{"id": "E1", "name": "甲", "sectors": ["gas"], "high_risk": True}],
        "drill": [{"id": "D1", "enterprise_id": "E1", "held_on": "2024-05-01", "kind": "fire"}],
    }
    assert whole(*evaluate_findings(BAOSHAN, facts, AS_OF, client=client)) == whole(
        *evaluate_findings(BAOSHAN, facts, AS_OF)
    )


def test_a_dask_worker_killed_mid_run_gives_the_whole_result_or_an_error(
    big_export: Path, big_one: dict[str, str]
) -> None:
    """Dask runs the lost tasks again on a worker that lives (the result is complete), or the
    run fails with BackendError: never a partial result."""
    pytest.importorskip("distributed")
    from hazard_rules.scale.on_dask import connect

    conn = connect("local:2")
    try:
        pids = list(conn.client.run(os.getpid).values())
        killed: list[int] = []

        def progress(read: int, rejected: int) -> None:
            if read > 20_000 and not killed:
                killed.append(pids[0])
                os.kill(pids[0], 9)

        try:
            got = outputs(
                *evaluate_findings(BENCH, big_export, AS_OF, client=conn.client, progress=progress)
            )
        except BackendError as exc:
            assert "no result was made" in str(exc)
        else:
            assert_same(got, big_one)
        assert killed
    finally:
        conn.close()


def test_without_dask_the_message_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from hazard_rules.errors import BackendUnavailableError
    from hazard_rules.scale.on_dask import require_dask

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(BackendUnavailableError, match=r"hazard-rules\[dask\]"):
        require_dask()


def test_an_export_at_a_url(tmp_path: Path, client: Any) -> None:
    """An fsspec URL (file:// here; s3:// and others alike, with their driver) is read through
    a local mirror; sources name the URL; --jobs and Dask give one process's result."""
    import shutil

    folder = tmp_path / "export"
    shutil.copytree(EXPORT, folder)
    url = f"file://{folder}"
    one = whole(*evaluate_findings(PACKS, url, AS_OF))
    assert one.rejected and all(r.source.startswith(url + "/") for r in one.rejected)
    assert whole(*evaluate_findings(PACKS, url, AS_OF, jobs=2)) == one
    assert whole(*evaluate_findings(PACKS, url, AS_OF, client=client)) == one
