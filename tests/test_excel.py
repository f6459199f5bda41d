"""An .xlsx export with Chinese column headers evaluates exactly like its CSV twin."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest

from hazard_rules import evaluate, load_packs

openpyxl = pytest.importorskip("openpyxl")
EXPORT = Path(__file__).resolve().parents[1] / "examples" / "export"


def _xlsx_twin(src: Path, dst: Path, labels: dict[str, str]) -> None:
    """Write ``src`` (CSV) as ``dst`` (.xlsx), headers replaced by their Chinese labels."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "导出"
    with src.open(encoding="utf-8-sig", newline="") as fh:
        for i, row in enumerate(csv.reader(fh)):
            sheet.append([labels.get(h, h) for h in row] if i == 0 else row)
    book.save(dst)


def test_xlsx_with_chinese_headers_equals_csv(tmp_path: Path) -> None:
    packs = load_packs("baoshan-2024")
    twin = tmp_path / "export"
    shutil.copytree(EXPORT, twin)
    for name in ("hazard", "inspection", "enterprise"):
        tdef = packs.schema.types[name]
        labels = {f.name: f.label for f in tdef.fields.values() if f.label}
        _xlsx_twin(twin / f"{name}.csv", twin / f"{name}.xlsx", labels)
        (twin / f"{name}.csv").unlink()
    as_of = date(2026, 1, 15)
    from_csv = evaluate(packs, EXPORT, as_of)
    from_xlsx = evaluate(packs, twin, as_of)

    def unsourced(result):  # sources differ: file:line against file:sheet:row
        return [v.model_copy(update={"doubtful_because": []}) for v in result.violations]

    assert unsourced(from_xlsx) == unsourced(from_csv)
    assert any(v.doubtful for v in from_csv.violations)
    drop = {"read_by_file": {}, "rejected_by_file": {}}
    assert from_xlsx.counts.model_copy(update=drop) == from_csv.counts.model_copy(update=drop)
    # the rejected rows are the same records, now located as file:sheet:row
    assert [(r.type, r.id, r.field) for r in from_xlsx.rejected] == [
        (r.type, r.id, r.field) for r in from_csv.rejected
    ]
    sources = {r.source for r in from_xlsx.rejected if r.type == "hazard"}
    assert all(":导出:" in s for s in sources), sources
