"""Reading that cannot lose rows (docs/input-formats.md): every way an export used to be read
wrongly in silence now reads correctly or fails loudly, and ``read = evaluated + rejected``
holds in all of them."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hazard_rules import InputError, MapError, load_column_map, load_facts, load_packs
from hazard_rules.cli import main
from hazard_rules.facts.collect import FactSet
from hazard_rules.io import text as text_module

ENTERPRISE = "id,name,sectors,high_risk\nE1,甲公司,commerce,否\nE2,乙公司,其他,是\n"
HAZARD_HEAD = "id,enterprise_id,discovered_on,found_by,level,description\n"


@pytest.fixture(scope="module")
def core() -> Any:
    return load_packs("core")


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def read(core: Any, folder: Path, **kw: Any) -> FactSet:
    fs = load_facts(core, folder, **kw)
    assert fs.read == fs.evaluated + len(fs.rejected)
    return fs


def hazards(n: int, start: int = 1) -> str:
    return "".join(
        f"H{i},E1,2024-05-{i % 28 + 1:02d},自查,一般,描述{i}\n" for i in range(start, start + n)
    )


# -- CSV structure ---------------------------------------------------------------------------


def test_an_unterminated_quote_rejects_its_line_and_the_rest_is_read(
    tmp_path: Path, core: Any
) -> None:
    body = hazards(4) + 'H5,E1,2024-05-06,自查,一般,"断开的引号\n' + hazards(6, start=6)
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.csv": HAZARD_HEAD + body})
    fs = read(core, folder)
    assert sorted(fs.records["hazard"], key=lambda k: int(k[1:])) == [
        f"H{i}" for i in (1, 2, 3, 4, 6, 7, 8, 9, 10, 11)
    ]
    (bad,) = fs.rejected
    assert bad.source.endswith("hazard.csv:6")
    assert "unterminated quote" in bad.reason
    assert fs.read == 13  # 2 enterprises + 11 hazard lines


def test_a_quoted_line_break_inside_a_cell_is_kept(tmp_path: Path, core: Any) -> None:
    body = 'H1,E1,2024-05-06,自查,一般,"第一行\n第二行"\n' + hazards(1, start=2)
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.csv": HAZARD_HEAD + body})
    fs = read(core, folder)
    assert fs.rejected == []
    assert fs.records["hazard"]["H1"]["description"] == "第一行\n第二行"
    assert "H2" in fs.records["hazard"]


def test_a_cell_over_the_field_limit_rejects_its_record_and_reading_goes_on(
    tmp_path: Path, core: Any
) -> None:
    big = "长" * 200_000
    body = hazards(1) + f"H2,E1,2024-05-06,自查,一般,{big}\n" + hazards(1, start=3)
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.csv": HAZARD_HEAD + body})
    fs = read(core, folder)
    (bad,) = fs.rejected
    assert bad.source.endswith("hazard.csv:3") and bad.field == "description"
    assert "longer than the limit" in bad.reason
    assert sorted(fs.records["hazard"]) == ["H1", "H3"]


def test_a_line_longer_than_the_cap_is_rejected_without_being_held(
    tmp_path: Path, core: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_module, "LINE_CAP", 1000)
    body = hazards(1) + "H2,E1," + "x" * 5000 + "\n" + hazards(1, start=3)
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.csv": HAZARD_HEAD + body})
    fs = read(core, folder)
    (bad,) = fs.rejected
    assert bad.source.endswith("hazard.csv:3") and "line longer than" in bad.reason
    assert sorted(fs.records["hazard"]) == ["H1", "H3"]


@pytest.mark.parametrize(
    "header",
    [
        "id,name,name,sectors,high_risk\n",
        "id,企业名称,name,sectors,high_risk\n",
    ],
)
def test_two_columns_for_one_field_are_a_located_error(
    tmp_path: Path, core: Any, header: str
) -> None:
    folder = write(tmp_path / "x", {"enterprise.csv": header + "E1,甲,甲,commerce,否\n"})
    with pytest.raises(InputError) as exc:
        read(core, folder)
    msg = str(exc.value)
    assert "enterprise.csv:1:" in msg and "both give field name" in msg
    assert "column 2" in msg and "column 3" in msg


def test_the_map_says_which_of_two_columns_to_use(tmp_path: Path, core: Any) -> None:
    folder = write(
        tmp_path / "x",
        {"enterprise.csv": "id,企业名称,name,sectors,high_risk\nE1,甲公司,旧名,commerce,否\n"},
    )
    cmap = tmp_path / "map.yaml"
    cmap.write_text("types:\n  enterprise:\n    ignore: [name]\n", encoding="utf-8")
    fs = read(core, folder, column_map=cmap)
    assert fs.records["enterprise"]["E1"]["name"] == "甲公司"
    assert any("ignored by the map" in n for n in fs.notes)


def test_an_xlsx_with_a_field_twice_is_a_located_error(tmp_path: Path, core: Any) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "隐患"
    ws.append(["id", "enterprise_id", "discovered_on", "found_by", "level", "description", "level"])
    ws.append(["H1", "E1", "2024-05-06", "自查", "一般", "x", "重大"])
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE})
    book.save(folder / "台账.xlsx")
    with pytest.raises(InputError) as exc:
        read(core, folder)
    assert (
        "台账.xlsx:隐患:1: column E ('level') and column G ('level') both give field level"
        in str(exc.value)
    )


def test_a_title_row_and_total_row_in_a_csv(tmp_path: Path, core: Any) -> None:
    body = "某公司隐患排查治理台账,,,,,\n" + HAZARD_HEAD + hazards(3) + "合计,,,,,共3条\n"
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.csv": body})
    fs = read(core, folder)
    assert fs.rejected == [] and len(fs.records["hazard"]) == 3
    notes = "\n".join(fs.notes)
    assert "hazard.csv: 1 row(s) above the header (row 2) skipped: rows 1" in notes
    assert "hazard.csv: 1 total row(s) (合计/小计/总计) skipped" in notes and "rows 6" in notes


def test_no_header_in_the_first_20_rows_is_an_error(tmp_path: Path, core: Any) -> None:
    folder = write(tmp_path / "x", {"enterprise.csv": "编码,名字\nE1,甲\n"})
    with pytest.raises(InputError, match="no header row in the first 20 rows"):
        read(core, folder)


# -- the folder ------------------------------------------------------------------------------


def test_a_dangling_link_is_an_error_naming_it(tmp_path: Path, core: Any) -> None:
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE})
    (folder / "hazard.csv").symlink_to(tmp_path / "gone.csv")
    with pytest.raises(InputError, match=r"hazard\.csv: a link to .*gone\.csv.*does not exist"):
        read(core, folder)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_an_error_naming_it(tmp_path: Path, core: Any) -> None:
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE})
    os.mkfifo(folder / "hazard.csv")
    with pytest.raises(InputError, match=r"hazard\.csv: a FIFO"):
        read(core, folder)


def test_a_link_to_a_device_is_an_error_not_a_hang(tmp_path: Path, core: Any) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE})
    (folder / "hazard.csv").symlink_to("/dev/zero")
    with pytest.raises(InputError, match=r"hazard\.csv: not a regular file"):
        read(core, folder)


def test_a_folder_named_like_a_data_file_is_an_error(tmp_path: Path, core: Any) -> None:
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE})
    (folder / "hazard.csv").mkdir()
    with pytest.raises(InputError, match=r"hazard\.csv: a folder, not a data file"):
        read(core, folder)


def test_subfolders_hidden_and_lock_files_are_noted_never_read(tmp_path: Path, core: Any) -> None:
    folder = write(
        tmp_path / "x",
        {
            "enterprise.csv": ENTERPRISE,
            "~$隐患.xlsx": b"not a workbook",
            ".~lock.hazard.csv#": "lock",
            ".hidden.csv": "garbage",
            "说明.txt": "readme",
        },
    )
    write(folder / "2023", {"hazard.csv": HAZARD_HEAD + hazards(2)})
    fs = read(core, folder)
    notes = "\n".join(fs.notes)
    assert "~$隐患.xlsx: ignored (a hidden or lock file)" in notes
    assert ".~lock.hazard.csv#: ignored" in notes
    assert ".hidden.csv: ignored" in notes
    assert "2023: a subfolder; ignored" in notes
    assert "说明.txt: ignored" in notes
    assert fs.records["hazard"] == {}


def test_an_old_xls_file_is_an_error(tmp_path: Path, core: Any) -> None:
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.xls": b"\xd0\xcf"})
    with pytest.raises(InputError, match=r"hazard\.xls: the old Excel format"):
        read(core, folder)


def test_a_file_that_vanishes_after_the_folder_is_listed(tmp_path: Path, core: Any) -> None:
    from hazard_rules.facts.collect import collect_facts
    from hazard_rules.io.export import read_export

    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.csv": HAZARD_HEAD})
    export = read_export(folder, core.schema)
    (folder / "hazard.csv").unlink()
    with pytest.raises(InputError, match=r"hazard\.csv: cannot read"):
        collect_facts(core.schema, export.sources)


def test_an_unknown_file_name_lists_the_types_with_their_labels(tmp_path: Path, core: Any) -> None:
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "隐患表格.csv": HAZARD_HEAD})
    with pytest.raises(InputError) as exc:
        read(core, folder)
    assert "hazard（隐患）" in str(exc.value)


def test_ledger_names_around_a_label_are_understood(tmp_path: Path, core: Any) -> None:
    folder = write(
        tmp_path / "x",
        {"2024年企业信息.csv": ENTERPRISE, "隐患台账2024.csv": HAZARD_HEAD + hazards(2)},
    )
    fs = read(core, folder)
    assert len(fs.records["enterprise"]) == 2 and len(fs.records["hazard"]) == 2


# -- encodings -------------------------------------------------------------------------------


def test_one_undecodable_byte_rejects_its_line_only(tmp_path: Path, core: Any) -> None:
    raw = (
        (HAZARD_HEAD + hazards(1)).encode()
        + b"H2,E1,2024-05-06,\xff\xfe,x,y\n"
        + hazards(1, start=3).encode()
    )
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.csv": raw})
    fs = read(core, folder)
    (bad,) = fs.rejected
    assert bad.source.endswith("hazard.csv:3")
    assert bad.reason.startswith("not valid UTF-8: byte 0xff at column 18")
    assert sorted(fs.records["hazard"]) == ["H1", "H3"]


@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]
)
def test_encodings_are_detected(tmp_path: Path, core: Any, encoding: str) -> None:
    body = (HAZARD_HEAD + hazards(3)).encode(encoding)
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.csv": body})
    fs = read(core, folder)
    assert fs.rejected == []
    assert fs.records["hazard"]["H1"]["description"] == "描述1"
    assert len(fs.records["hazard"]) == 3


def test_utf16_without_bom_makes_no_phantom_record(tmp_path: Path, core: Any) -> None:
    body = (HAZARD_HEAD + hazards(2)).encode("utf-16-le")
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.csv": body})
    fs = read(core, folder)
    assert fs.read == 4 and fs.rejected == []
    assert any("read as UTF-16-LE" in n for n in fs.notes)


def test_binary_data_is_refused(tmp_path: Path, core: Any) -> None:
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE, "hazard.csv": b"\x00" * 4096})
    with pytest.raises(InputError, match=r"hazard\.csv: only NUL bytes"):
        read(core, folder)


def test_a_bad_encoding_name_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE})
    code = main(["check", str(folder), "--pack", "core", "--encoding", "klingon"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown encoding 'klingon'" in err and "Traceback" not in err


# -- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-05-20", date(2024, 5, 20)),
        ("2024/5/20", date(2024, 5, 20)),
        ("2024.5.20", date(2024, 5, 20)),
        ("2024年5月20日", date(2024, 5, 20)),
        ("20240520", date(2024, 5, 20)),
        ("2024/05/20 14:30", date(2024, 5, 20)),
        ("2024-05-19T20:30:00Z", date(2024, 5, 20)),  # 04:30 next day in Shanghai
        ("2024-05-20T23:30+08:00", date(2024, 5, 20)),
        ("２０２４／５／２０", date(2024, 5, 20)),
    ],
)
def test_dates_as_people_write_them(
    tmp_path: Path, core: Any, written: str, expected: date
) -> None:
    folder = write(
        tmp_path / "x",
        {
            "enterprise.csv": ENTERPRISE,
            "hazard.csv": HAZARD_HEAD + f"H1,E1,{written},自查,一般,x\n",
        },
    )
    fs = read(core, folder)
    assert fs.rejected == []
    assert fs.records["hazard"]["H1"]["discovered_on"] == expected


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("5/6/2024", "ambiguous: day and month order unknown"),
        ("24/5/6", "two-digit year"),
        ("2025-02-30", "not a date of the calendar"),
        ("2024/2/30", "not a date of the calendar"),
        ("2024年13月1日", "not a date of the calendar"),
        ("1899-12-31", "outside 1900–9998"),
        ("昨天", "is not a date; write it as 2024-05-20, 2024/5/20"),
    ],
)
def test_dates_that_cannot_be_read_are_rejected_with_the_forms(
    tmp_path: Path, core: Any, written: str, reason: str
) -> None:
    folder = write(
        tmp_path / "x",
        {
            "enterprise.csv": ENTERPRISE,
            "hazard.csv": HAZARD_HEAD + f"H1,E1,{written},自查,一般,x\n",
        },
    )
    fs = read(core, folder)
    (bad,) = fs.rejected
    assert bad.field == "discovered_on" and reason in bad.reason


@pytest.mark.parametrize(
    ("written", "expected"),
    [("是", True), ("否", False), ("Y", True), ("n", False), ("√", True), ("×", False),
     ("有", True), ("无", False), ("TRUE", True), ("false", False), ("1", True), ("0", False)],
)  # fmt: skip
def test_booleans_as_people_write_them(
    tmp_path: Path, core: Any, written: str, expected: bool
) -> None:
    folder = write(
        tmp_path / "x", {"enterprise.csv": f"id,name,sectors,high_risk\nE1,甲,商贸,{written}\n"}
    )
    fs = read(core, folder)
    assert fs.records["enterprise"]["E1"]["high_risk"] is expected


def test_excel_dates_serials_and_merged_cells(tmp_path: Path, core: Any) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "隐患"
    ws.append(["编号", "企业编号", "发现日期", "发现方式", "隐患等级", "隐患描述"])
    ws.append(["H1", "E1", date(2024, 5, 20), "自查", "重大", "a"])
    ws.append(["H2", None, 45432, "自查", "一般隐患", "b"])  # serial 45432 = 2024-05-20
    ws.append(["H3", None, 45432.75, "自查", "一般", "c"])
    ws.merge_cells("B2:B4")
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE})
    book.save(folder / "hazard.xlsx")
    fs = read(core, folder)
    assert fs.rejected == []
    recs = fs.records["hazard"]
    assert {r["enterprise_id"] for r in recs.values()} == {"E1"}
    assert {r["discovered_on"] for r in recs.values()} == {date(2024, 5, 20)}
    assert [recs[h]["level"] for h in ("H1", "H2", "H3")] == ["major", "general", "general"]


def test_a_cover_sheet_first_and_a_workbook_named_after_its_type(tmp_path: Path, core: Any) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "填表说明"
    book.active.append(["请按要求填写"])
    ws = book.create_sheet("Sheet2")
    ws.append(["编号", "企业编号", "发现日期", "发现方式", "隐患等级", "隐患描述"])
    for i in range(3000):
        ws.append([f"H{i}", "E1", "2024-05-20", "自查", "一般", "x"])
    folder = write(tmp_path / "x", {"enterprise.csv": ENTERPRISE})
    book.save(folder / "hazard.xlsx")
    fs = read(core, folder)
    assert len(fs.records["hazard"]) == 3000
    assert any("hazard.xlsx:填表说明: sheet skipped: no header row" in n for n in fs.notes)


# -- column maps -----------------------------------------------------------------------------


def test_map_errors_are_located_and_reported_together(tmp_path: Path, core: Any) -> None:
    cmap = tmp_path / "map.yaml"
    cmap.write_text(
        "types:\n"
        "  hazzard: {}\n"  # 2
        "  hazard:\n"
        "    columns:\n"
        "      隐患编号: id\n"
        "      所属单位: enterprise\n"  # 6
        "      编码: id\n"  # 7
        "    values:\n"
        "      level: {Ⅰ级: majorr}\n"  # 9
        "    header_rows: 3\n",  # 10
        encoding="utf-8",
    )
    with pytest.raises(MapError) as exc:
        load_column_map(cmap, core.schema)
    got = [(d.code, d.span.line) for d in exc.value.diagnostics]
    assert got == [
        ("unknown_type", 2),
        ("unknown_field", 6),
        ("duplicate_column", 7),
        ("unknown_value", 9),
        ("unknown_key", 10),
    ]
    text = "\n".join(map(str, exc.value.diagnostics))
    assert "did you mean 'hazard'" in text and "did you mean 'major'" in text
    assert "did you mean 'header_row'" in text


def test_map_errors_through_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cmap = tmp_path / "map.yaml"
    cmap.write_text("types:\n  hazard:\n    columns: {a: nope}\n", encoding="utf-8")
    code = main(["check", "examples/export", "--map", str(cmap)])
    err = capsys.readouterr().err
    assert code == 2
    assert "map.yaml:3:" in err and "unknown_field" in err and "problem(s) in the column map" in err


def test_a_map_with_values_files_and_header_row(tmp_path: Path, core: Any) -> None:
    folder = write(
        tmp_path / "x",
        {
            "enterprise.csv": ENTERPRISE,
            "台账-导出.csv": "单位隐患台账\n说明：……\n隐患号,单位,日期,来源,级别,内容\n"
            "H1,E1,2024-05-20,日常巡查,Ⅰ级,a\nH2,E2,2024-05-21,自查,Ⅱ级,b\n",
        },
    )
    cmap = tmp_path / "map.yaml"
    cmap.write_text(
        "types:\n  hazard:\n    files: ['台账-*.csv']\n    header_row: 3\n"
        "    columns: {隐患号: id, 单位: enterprise_id, 日期: discovered_on, 来源: found_by,"
        " 级别: level, 内容: description}\n"
        "    values:\n      level: {Ⅰ级: major, Ⅱ级: general}\n      found_by: {日常巡查: self_inspection}\n",
        encoding="utf-8",
    )
    fs = read(core, folder, column_map=cmap)
    assert fs.rejected == []
    assert fs.records["hazard"]["H1"]["level"] == "major"
    assert fs.records["hazard"]["H1"]["found_by"] == "self_inspection"
    assert fs.records["hazard"]["H2"]["level"] == "general"


# -- every command reports rejections --------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--format", "jsonl"],
        ["check", "--format", "csv"],
        ["check", "--format", "json", "-o", "{out}"],
        ["check", "-o", "{out}"],
        ["due", "--within", "400d", "--as-of", "2025-06-01"],
    ],
)
def test_every_command_and_format_reports_rejections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    out = str(tmp_path / "out.txt")
    argv = [a.replace("{out}", out) for a in args]
    argv[1:1] = ["examples/export", "--pack", "baoshan-2024"]
    if argv[0] == "check":
        argv += ["--as-of", "2026-01-15"]
    main(argv)
    err = capsys.readouterr().err
    assert re.search(r"3 of \d+ record\(s\) rejected", err)
    assert "examples/export/hazard.csv: 1 of 39 rows rejected" in err
    assert "'2024-13-45' is not a date of the calendar" in err


def test_rejections_and_progress_never_go_to_a_pipe_stdout() -> None:
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "hazard_rules", "check", "examples/export", "--pack",
         "baoshan-2024", "--as-of", "2026-01-15", "--format", "jsonl"],
        capture_output=True, text=True, encoding="utf-8", timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert all(line.startswith("{") for line in proc.stdout.splitlines())
    assert "record(s) rejected" in proc.stderr


Check = Callable[..., Any]
