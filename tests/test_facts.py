"""Facts: coercion of CSV text to the declared types (SPEC §3.1, §3.4.5–6) and rejected records
(SPEC §7), with ``read == evaluated + rejected`` always."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from conftest import ITEM_SCHEMA, d
from hazard_rules import InputError, PackSet, Period, evaluate, load_facts, load_packs

ENTERPRISE_CSV = (
    "id,name,sectors,high_risk\nE1,甲公司,commerce,否\nE2,乙公司,construction;property,是\n"
)
SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def item_packs(make_pack: Callable[..., Path]) -> PackSet:
    return load_packs(make_pack(schema=ITEM_SCHEMA))


@pytest.fixture
def core() -> PackSet:
    return load_packs("core")


def export(root: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    folder = root / "export"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding=encoding, newline="")
    return folder


def check_counts(fs: Any) -> None:
    assert fs.read == fs.evaluated + len(fs.rejected)


# -- coercion of CSV text -------------------------------------------------------------------

ITEM_HEADER = "id,enterprise_id,s,i,f,b,d,dt,e,p,ls,le\n"


@pytest.mark.parametrize(
    ("column", "text", "expected"),
    [
        ("i", "42", 42),
        ("i", " 7 ", 7),
        ("i", "-3", -3),
        ("f", "2.5", 2.5),
        ("f", "3", 3.0),
        ("f", "-0.25", -0.25),
        ("b", "是", True),
        ("b", "否", False),
        ("b", "true", True),
        ("b", "TRUE", True),
        ("b", "false", False),
        ("b", "False", False),
        ("d", "2024-02-29", date(2024, 2, 29)),
        ("d", "2024-03-31T23:30:00Z", date(2024, 4, 1)),  # Shanghai date of an instant
        ("d", "2024-03-31T23:30:00+00:00", date(2024, 4, 1)),
        ("d", "2024-03-31T15:59:59+00:00", date(2024, 3, 31)),
        ("d", "2024-04-01T01:00:00+09:00", date(2024, 4, 1)),
        ("d", "2024-03-31T23:30:00", date(2024, 3, 31)),  # naive: its own date
        ("dt", "2024-03-31T23:30:00Z", datetime(2024, 4, 1, 7, 30, tzinfo=SHANGHAI)),
        ("e", "b", "b"),
        ("e", " c ", "c"),
        ("p", "2024-05", Period("month", 2024, 5)),
        ("p", "2024-Q2", Period("quarter", 2024, 2)),
        ("p", "2024-H1", Period("half_year", 2024, 1)),
        ("p", "2024", Period("year", 2024)),
        ("s", " 消防通道 ", "消防通道"),
        ("ls", "甲;乙", ("甲", "乙")),
        ("ls", "甲；乙", ("甲", "乙")),
        ("ls", "甲、乙", ("甲", "乙")),
        ("ls", "甲 ; 乙 ；丙、 丁", ("甲", "乙", "丙", "丁")),
        ("ls", "单项", ("单项",)),
        ("le", "x;z", ("x", "z")),
        ("le", "y、x", ("y", "x")),
    ],
)
def test_csv_text_is_coerced(
    tmp_path: Path, item_packs: PackSet, column: str, text: str, expected: Any
):
    header = ITEM_HEADER.strip().split(",")
    row = {h: "" for h in header} | {"id": "X1", "enterprise_id": "E1", column: text}
    line = ",".join(f'"{row[h]}"' for h in header) + "\n"
    folder = export(tmp_path, {"enterprise.csv": ENTERPRISE_CSV, "item.csv": ITEM_HEADER + line})
    fs = load_facts(item_packs, folder)
    assert fs.rejected == []
    value = fs.records["item"]["X1"][column]
    assert value == expected
    assert type(value) is type(expected)
    check_counts(fs)


def test_enterprise_csv_bools_and_lists(tmp_path: Path, core: PackSet):
    fs = load_facts(core, export(tmp_path, {"enterprise.csv": ENTERPRISE_CSV}))
    assert fs.records["enterprise"]["E1"]["high_risk"] is False
    assert fs.records["enterprise"]["E2"]["high_risk"] is True
    assert fs.records["enterprise"]["E2"]["sectors"] == ("construction", "property")


def test_datetime_with_offset_decides_the_quarter(tmp_path: Path, make_pack: Callable[..., Path]):
    """SPEC §3.1: 2024-03-31T23:30Z is 1 April in Shanghai, so it belongs to Q2."""
    from conftest import rule

    doc = rule(
        "t.q",
        "recurring",
        subject={"type": "enterprise"},
        evidence={"type": "inspection", "date": "held_on"},
        every="quarter",
        window={"from": d("2024-01-01"), "until": d("2024-06-30")},
    )
    packs = load_packs(make_pack([doc]))
    folder = export(
        tmp_path,
        {
            "enterprise.csv": ENTERPRISE_CSV.splitlines()[0] + "\nE1,甲公司,commerce,否\n",
            "inspection.csv": "id,enterprise_id,held_on,led_by\nI1,E1,2024-03-31T23:30:00Z,principal\n",
        },
    )
    result = evaluate(packs, folder, as_of=d("2024-07-15"))
    assert [(v.period, v.status) for v in result.violations] == [("2024-Q1", "missing")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 3, 31, 23, 30, tzinfo=timezone.utc), date(2024, 4, 1)),
        (datetime(2024, 3, 31, 23, 30), date(2024, 3, 31)),
        (date(2024, 3, 31), date(2024, 3, 31)),
        ("2024-03-31T23:30:00Z", date(2024, 4, 1)),
    ],
)
def test_python_date_values(core: PackSet, value: Any, expected: date):
    facts = {
        "enterprise": [{"id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": False}],
        "inspection": [
            {"id": "I1", "enterprise_id": "E1", "held_on": value, "led_by": "principal"}
        ],
    }
    fs = load_facts(core, facts)
    assert fs.records["inspection"]["I1"]["held_on"] == expected


def test_integer_year_is_a_period(core: PackSet):
    facts = {
        "enterprise": [{"id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": False}],
        "report": [
            {
                "id": "R1",
                "enterprise_id": "E1",
                "kind": "other",
                "period": 2024,
                "submitted_on": "2025-01-05",
            }
        ],
    }
    fs = load_facts(core, facts)
    assert fs.records["report"]["R1"]["period"] == Period("year", 2024)


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_empty_or_whitespace_text_is_missing(tmp_path: Path, item_packs: PackSet, blank: str):
    line = f'X1,E1,"{blank}","{blank}","{blank}","{blank}","{blank}","{blank}","{blank}","{blank}","{blank}","{blank}"\n'
    folder = export(tmp_path, {"enterprise.csv": ENTERPRISE_CSV, "item.csv": ITEM_HEADER + line})
    fs = load_facts(item_packs, folder)
    assert fs.rejected == []
    rec = fs.records["item"]["X1"]
    for name in ("s", "i", "f", "b", "d", "dt", "e", "p", "ls", "le"):
        assert rec.get(name) is None, name


@pytest.mark.parametrize("blank", ["", "  ", [], None])
def test_empty_values_from_python_are_missing(item_packs: PackSet, blank: Any):
    facts = {
        "enterprise": [{"id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": False}],
        "item": [{"id": "X1", "enterprise_id": "E1", "s": blank, "ls": blank, "le": blank}],
    }
    fs = load_facts(item_packs, facts)
    assert fs.rejected == []
    assert {k: fs.records["item"]["X1"].get(k) for k in ("s", "ls", "le")} == {
        "s": None,
        "ls": None,
        "le": None,
    }


def test_chinese_column_labels_are_accepted(tmp_path: Path, core: PackSet):
    hazard = (
        "编号,企业编号,发现日期,发现方式,隐患等级,隐患描述,整改期限,整改完成日期\n"
        "H1,E1,2024-05-06,self_inspection,major,消防通道堵塞,2024-05-20,\n"
    )
    fs = load_facts(
        core, export(tmp_path, {"enterprise.csv": ENTERPRISE_CSV, "hazard.csv": hazard})
    )
    assert fs.rejected == []
    rec = fs.records["hazard"]["H1"]
    assert (rec["discovered_on"], rec["level"], rec.get("rectify_by"), rec.get("rectified_on")) == (
        d("2024-05-06"),
        "major",
        d("2024-05-20"),
        None,
    )


def test_utf8_bom_and_gb18030_are_read(tmp_path: Path, core: PackSet):
    folder = tmp_path / "bom"
    folder.mkdir()
    (folder / "enterprise.csv").write_bytes(b"\xef\xbb\xbf" + ENTERPRISE_CSV.encode("utf-8"))
    fs = load_facts(core, folder)
    assert sorted(fs.records["enterprise"]) == ["E1", "E2"]
    folder2 = tmp_path / "gbk"
    folder2.mkdir()
    (folder2 / "enterprise.csv").write_bytes(ENTERPRISE_CSV.encode("gb18030"))
    fs2 = load_facts(core, folder2)
    assert fs2.records["enterprise"]["E1"]["name"] == "甲公司"


# -- rejected records (SPEC §7) ---------------------------------------------------------------

HAZARD_HEADER = (
    "id,enterprise_id,discovered_on,found_by,level,description,rectify_by,rectified_on\n"
)


def test_rejected_records_with_source_field_and_reason(
    tmp_path: Path, core: PackSet, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    rows = [
        "H1,E1,2024-05-06,self_inspection,major,消防通道堵塞,,",  # line 2: fine
        "H2,E1,2024-05-07,self_inspection,general,,,",  # line 3: description missing
        "H3,E1,2024-13-45,self_inspection,general,电线老化,,",  # line 4: bad date
        "H4,E1,2024-05-08,self_inspection,critical,电线老化,,",  # line 5: unknown enum value
        "H5,E9,2024-05-09,self_inspection,general,电线老化,,",  # line 6: dangling reference
        "H1,E2,2024-06-01,authority,general,重复编号,,",  # line 7: duplicate id
        "H6,E2,2024-06-02,authority,general,  ,,",  # line 8: whitespace = missing
        "H7,E2,2024-06-03,authority,general,正常记录,2024-07-01,",  # line 9: fine
    ]
    export(
        tmp_path,
        {"enterprise.csv": ENTERPRISE_CSV, "hazard.csv": HAZARD_HEADER + "\n".join(rows) + "\n"},
    )
    packs = core
    fs = load_facts(packs, Path("export"))
    got = [(r.type, r.id, r.source, r.field) for r in fs.rejected]
    assert got == [
        ("hazard", "H2", "export/hazard.csv:3", "description"),
        ("hazard", "H3", "export/hazard.csv:4", "discovered_on"),
        ("hazard", "H4", "export/hazard.csv:5", "level"),
        ("hazard", "H5", "export/hazard.csv:6", "enterprise_id"),
        ("hazard", "H1", "export/hazard.csv:7", "id"),
        ("hazard", "H6", "export/hazard.csv:8", "description"),
    ]
    reasons = {r.id: r.reason for r in fs.rejected}
    assert "2024-13-45" in reasons["H3"]
    assert "critical" in reasons["H4"]
    assert "E9" in reasons["H5"]
    assert "export/hazard.csv:2" in reasons["H1"]  # names the first one's source
    # the first H1 is kept
    assert sorted(fs.records["hazard"]) == ["H1", "H7"]
    assert fs.records["hazard"]["H1"]["level"] == "major"
    assert (fs.read, fs.evaluated, len(fs.rejected)) == (10, 4, 6)
    check_counts(fs)

    result = evaluate(packs, Path("export"), as_of=d("2025-01-01"), max_rejected=None)
    c = result.counts
    assert (c.read, c.evaluated, c.rejected) == (10, 4, 6)
    assert c.read == c.evaluated + c.rejected
    assert [(r.id, r.source) for r in result.rejected] == [(x[1], x[2]) for x in got]


def test_reference_to_a_rejected_record_is_rejected(
    tmp_path: Path, core: PackSet, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    enterprise = ENTERPRISE_CSV + "E3,丙公司,commerce,也许\n"  # line 4: not a bool
    hazard = HAZARD_HEADER + "H1,E3,2024-05-06,self_inspection,major,消防通道堵塞,,\n"
    export(tmp_path, {"enterprise.csv": enterprise, "hazard.csv": hazard})
    fs = load_facts(core, Path("export"))
    assert [(r.type, r.id, r.source, r.field) for r in fs.rejected] == [
        ("enterprise", "E3", "export/enterprise.csv:4", "high_risk"),
        ("hazard", "H1", "export/hazard.csv:2", "enterprise_id"),
    ]
    check_counts(fs)


def test_unknown_enum_value_in_a_list_cell(tmp_path: Path, core: PackSet):
    enterprise = ENTERPRISE_CSV + "E3,丙公司,commerce;retail,否\n"
    fs = load_facts(core, export(tmp_path, {"enterprise.csv": enterprise}))
    assert [(r.id, r.field) for r in fs.rejected] == [("E3", "sectors")]
    assert "retail" in fs.rejected[0].reason
    check_counts(fs)


@pytest.mark.parametrize(
    ("column", "text"),
    [
        ("i", "4.5"),
        ("i", "many"),
        ("f", "NaN"),
        ("f", "一点五"),
        ("b", "maybe"),
        ("d", "2023-02-29"),
        ("d", "31/12/2024"),
        ("dt", "yesterday"),
        ("p", "2024-Q5"),
        ("p", "2024-13"),
        ("p", "24-05"),
        ("le", "x;w"),
    ],
)
def test_uncoercible_value_rejects_the_record(
    tmp_path: Path, item_packs: PackSet, column: str, text: str
):
    header = ITEM_HEADER.strip().split(",")
    row = {h: "" for h in header} | {"id": "X1", "enterprise_id": "E1", column: text}
    ok = {h: "" for h in header} | {"id": "X2", "enterprise_id": "E1"}
    body = "".join(",".join(f'"{r[h]}"' for h in header) + "\n" for r in (row, ok))
    folder = export(tmp_path, {"enterprise.csv": ENTERPRISE_CSV, "item.csv": ITEM_HEADER + body})
    fs = load_facts(item_packs, folder)
    assert [(r.id, r.field, r.source.rsplit(":", 1)[1]) for r in fs.rejected] == [
        ("X1", column, "2")
    ]
    assert sorted(fs.records["item"]) == ["X2"]
    check_counts(fs)


def test_csv_source_is_the_physical_line(tmp_path: Path, core: PackSet):
    hazard = (
        HAZARD_HEADER
        + 'H1,E1,2024-05-06,self_inspection,major,"第一行\n第二行",,\n'  # lines 2-3
        + "\n"  # line 4: blank, skipped
        + "H2,E1,2024-02-30,self_inspection,major,日期错误,,\n"  # line 5
    )
    fs = load_facts(
        core, export(tmp_path, {"enterprise.csv": ENTERPRISE_CSV, "hazard.csv": hazard})
    )
    assert [r.source.rsplit("/", 1)[-1] for r in fs.rejected] == ["hazard.csv:5"]
    assert fs.records["hazard"]["H1"]["description"] == "第一行\n第二行"
    check_counts(fs)


def test_jsonl_sources_and_mixed_types(
    tmp_path: Path, core: PackSet, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    lines = [
        {
            "type": "enterprise",
            "id": "E1",
            "name": "甲",
            "sectors": ["commerce"],
            "high_risk": False,
        },
        {
            "type": "inspection",
            "id": "I1",
            "enterprise_id": "E1",
            "held_on": "2024-05-01",
            "led_by": "principal",
        },
        {
            "type": "inspection",
            "id": "I2",
            "enterprise_id": "E1",
            "held_on": "2024-05-32",
            "led_by": "principal",
        },
    ]
    text = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{not json\n"
    Path("all.jsonl").write_text(text, encoding="utf-8")
    fs = load_facts(core, Path("all.jsonl"))
    rejected = sorted(fs.rejected, key=lambda r: r.source)
    assert (rejected[0].type, rejected[0].id, rejected[0].source, rejected[0].field) == (
        "inspection",
        "I2",
        "all.jsonl:3",
        "held_on",
    )
    assert [r.source for r in rejected] == ["all.jsonl:3", "all.jsonl:4"]
    assert "JSON" in rejected[1].reason
    assert sorted(fs.records["inspection"]) == ["I1"]
    assert (fs.read, fs.evaluated) == (4, 2)
    check_counts(fs)


def test_dict_facts_duplicate_and_missing(core: PackSet):
    facts = {
        "enterprise": [
            {"id": "E1", "name": "甲", "sectors": ["commerce"], "high_risk": False},
            {"id": "E1", "name": "甲二", "sectors": ["commerce"], "high_risk": True},
            {"id": "E2", "name": "乙", "sectors": [], "high_risk": False},
            {"id": " ", "name": "丙", "sectors": ["commerce"], "high_risk": False},
        ]
    }
    result = evaluate(core, facts, as_of=d("2025-01-01"))
    assert [(r.id, r.source, r.field) for r in result.rejected] == [
        ("E1", "enterprise[2]", "id"),
        ("E2", "enterprise[3]", "sectors"),
        (None, "enterprise[4]", "id"),
    ]
    assert "enterprise[1]" in result.rejected[0].reason
    assert (result.counts.read, result.counts.evaluated, result.counts.rejected) == (4, 1, 3)


def test_unknown_record_type_file_is_a_clear_error(tmp_path: Path, core: PackSet):
    folder = export(tmp_path, {"enterprise.csv": ENTERPRISE_CSV, "hazards.csv": HAZARD_HEADER})
    with pytest.raises(InputError, match=r"hazards\.csv.*did you mean 'hazard'"):
        load_facts(core, folder)


def test_unknown_record_type_in_a_mapping_is_a_clear_error(core: PackSet):
    with pytest.raises(InputError, match="inspections"):
        load_facts(core, {"inspections": []})


def test_missing_export_is_a_clear_error(tmp_path: Path, core: PackSet):
    with pytest.raises(InputError, match="nowhere"):
        load_facts(core, tmp_path / "nowhere")


def test_csv_with_extra_cells_is_rejected_not_a_crash(tmp_path: Path, core: PackSet):
    enterprise = ENTERPRISE_CSV + "E3,丙公司,commerce,否,多余,更多\n"
    fs = load_facts(core, export(tmp_path, {"enterprise.csv": enterprise}))
    assert [(r.id, r.source.rsplit("/", 1)[-1]) for r in fs.rejected] == [
        ("E3", "enterprise.csv:4")
    ]
    check_counts(fs)
