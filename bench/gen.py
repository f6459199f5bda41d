"""Deterministic generator of synthetic exports (folder format: one CSV per record type).

    python bench/gen.py OUT --records 100000 [--seed 1] [--enterprises N]

The same ``--records``/``--seed``/``--enterprises`` always give byte-identical files. The total
number of data rows across all files is ``--records`` (± a few rows of rounding). Shape:

* enterprises: sectors from the core enum, about 70 % with at least one 工贸 sector (so the
  gm-2023 criteria apply), about 20 % ``high_risk``, a few with an active span;
* sites: about 4 per enterprise; everything else is shared out by fixed weights (hazards 40 %,
  inspections 14 %, trainings 12 %, equipment 9 %, reports 8 %, tasks 8 %, drills 5 %,
  documents 3 %), dated over 2024–2025 (plus ~3 % legacy hazards from 2023-H2);
* hazards: Chinese descriptions; about a third of the hazards of 工贸 enterprises carry the
  structured facts of one or two gm-2023 criteria (random values, so some prove the item and
  some do not), the others only the core fields;
* about 0.1 % bad rows (an impossible date or an undeclared enum value), never in
  enterprise or site rows, so ``read == evaluated + rejected`` is checkable.

The gm-2023 fact columns and the values they take are read from the pack's own criteria (the
leaves of each rule's ``when``), so the data follows the pack as it evolves.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from hazard_rules import load_packs
from hazard_rules.ir import (
    AllOf,
    AnyOf,
    AtLeast,
    Condition,
    Const,
    Criterion,
    FieldRef,
    Leaf,
    NotOf,
)

GM_SECTORS = (
    "metallurgy",
    "nonferrous",
    "building_materials",
    "machinery",
    "light_industry",
    "textile",
    "tobacco",
    "commerce",
)
OTHER_SECTORS = (
    "construction",
    "hazardous_chemicals",
    "transport",
    "gas",
    "fuel_retail",
    "property",
    "other",
)
WEIGHTS = {
    "hazard": 0.40,
    "inspection": 0.14,
    "training": 0.12,
    "equipment": 0.09,
    "report": 0.08,
    "task": 0.08,
    "drill": 0.05,
    "document": 0.03,
}
BAD_ROW_RATE = 0.001
START, END = date(2024, 1, 1), date(2025, 12, 31)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "建国伟强军华明丽敏静磊洋勇艳杰娟涛超秀英辉刚平霞鹏飞燕红波宁志海"
COMPANY_HEAD = [
    "宝山",
    "宝钢",
    "吴淞",
    "罗店",
    "大场",
    "顾村",
    "杨行",
    "月浦",
    "庙行",
    "淞南",
    "高境",
    "友谊",
    "罗泾",
    "张庙",
]
COMPANY_BODY = [
    "钢铁",
    "金属",
    "建材",
    "机械",
    "轻工",
    "纺织",
    "烟草",
    "商贸",
    "物流",
    "置业",
    "燃气",
    "化工",
    "实业",
    "制造",
]
COMPANY_TAIL = ["有限公司", "集团有限公司", "股份有限公司", "发展有限公司"]
PLACES = [
    "炼钢车间",
    "轧钢车间",
    "铸造车间",
    "熔炼车间",
    "除尘系统",
    "煤气管网",
    "仓库",
    "配电房",
    "食堂",
    "地下车库",
    "沿街商铺",
    "冷库",
    "喷漆房",
    "锅炉房",
    "厂区道路",
    "办公楼",
    "有限空间（污水井）",
    "液氨制冷机房",
    "木工车间",
    "包装车间",
]
PROBLEMS = [
    "消防通道堆放杂物",
    "电气线路私拉乱接",
    "灭火器过期未更换",
    "安全出口指示灯损坏",
    "作业人员未佩戴安全帽",
    "承包单位未纳入统一管理",
    "特种作业人员无证上岗",
    "冷却水出水温度报警失效",
    "一氧化碳报警器未接入中控室",
    "煤气排水器水封高度不足",
    "积尘未及时清理",
    "除尘器未设置泄爆装置",
    "有限空间未设置警示标识",
    "动火作业未办理审批",
    "吊运跨下方设置休息室",
    "氨制冷包装间人员超过9人",
    "燃气总管压力报警未联锁切断",
    "防护栏杆缺失",
    "应急照明不亮",
    "安全警示标志缺失",
]
UNITS = ["安全管理部", "设备管理部", "生产部", "物业管理公司", "资产经营部", "综合办公室"]
EQUIPMENT = ["井式热处理电炉", "捣固焦炉", "盐浴槽", "空压机", "行车", "叉车", "锅炉", "冷却塔"]
CATALOG = ["ELIM15-MET-1", "ELIM15-MET-2", "ELIM15-MET-4", "ELIM20-HC-1", "GEN-001", "GEN-002"]
HAZARD_CORE = [
    "id",
    "enterprise_id",
    "site_id",
    "discovered_on",
    "found_by",
    "level",
    "description",
    "rectify_by",
    "rectified_on",
    "verified_on",
    "domain",
]
HEADERS = {
    "enterprise": ["id", "name", "sectors", "high_risk", "active_from", "active_until"],
    "site": ["id", "enterprise_id", "name", "category", "operation", "active_from", "active_until"],
    "inspection": ["id", "enterprise_id", "site_id", "held_on", "led_by"],
    "drill": ["id", "enterprise_id", "held_on", "kind"],
    "training": [
        "id",
        "enterprise_id",
        "person",
        "role",
        "course",
        "completed_on",
        "exam_passed",
        "certificate_no",
    ],
    "document": ["id", "enterprise_id", "doc_type", "submitted_on"],
    "report": ["id", "enterprise_id", "kind", "period", "submitted_on"],
    "task": ["id", "enterprise_id", "content", "responsible_unit", "due_on"],
    "equipment": ["id", "enterprise_id", "site_id", "name", "catalog_code", "in_service"],
    "rescue_team": ["id", "enterprise_id", "established_on"],
}


@dataclass(frozen=True)
class GmRule:
    """What the generator needs of one gm-2023 criterion: its sector scope and fact leaves."""

    id: str
    sectors: frozenset[str]
    leaves: tuple[Leaf, ...]


def _leaves(cond: Condition | None) -> list[Leaf]:
    if cond is None:
        return []
    if isinstance(cond, Leaf):
        return [cond]
    if isinstance(cond, (AllOf, AnyOf, AtLeast)):
        return [leaf for c in cond.items for leaf in _leaves(c)]
    if isinstance(cond, NotOf):
        return _leaves(cond.item)
    return []


def gm_rules() -> tuple[list[GmRule], list[str]]:
    """The gm-2023 hazard criteria (sector scope, fact leaves) and the extra hazard columns."""
    packs = load_packs("gm-2023")
    rules: list[GmRule] = []
    for rule in packs.rules:
        if not isinstance(rule, Criterion) or rule.type != "hazard":
            continue
        sectors: set[str] = set()
        for leaf in _leaves(rule.applies):
            if leaf.path.text == "enterprise.sectors" and isinstance(leaf.operand, Const):
                sectors.update(leaf.operand.value)
        rules.append(GmRule(rule.meta.id, frozenset(sectors), tuple(_leaves(rule.when))))
    hazard = packs.schema.types["hazard"]
    extra = [f for f in hazard.fields if f not in HAZARD_CORE]
    return rules, extra


def _bool_text(rng: random.Random, value: bool) -> str:
    if rng.random() < 0.05:
        return "是" if value else "否"
    return "true" if value else "false"


def _fill_leaf(rng: random.Random, leaf: Leaf, row: dict[str, str]) -> None:
    fdef = leaf.path.field
    name = fdef.name
    if rng.random() < 0.08:
        return  # a fact the platform did not record
    if isinstance(leaf.operand, FieldRef):
        other = leaf.operand.path.field.name
        row[name] = f"{rng.uniform(150, 300):.1f}"
        row[other] = f"{rng.uniform(150, 300):.1f}"
        return
    const = leaf.operand.value if isinstance(leaf.operand, Const) else None
    if fdef.kind == "bool":
        want = bool(const) if isinstance(const, bool) else True
        row[name] = _bool_text(rng, want if rng.random() < 0.55 else not want)
    elif fdef.kind == "enum":
        row[name] = rng.choice(fdef.values)
    elif fdef.kind in ("int", "float") and isinstance(const, (int, float)):
        v = const * rng.uniform(0.5, 1.5)
        row[name] = str(round(v)) if fdef.kind == "int" else f"{v:.1f}"


class Gen:
    def __init__(self, out: Path, records: int, seed: int, enterprises: int | None) -> None:
        self.out = out
        self.rng = random.Random(seed)
        self.records = records
        self.n_ent = enterprises or max(20, records // 2500)
        self.gm, self.gm_columns = gm_rules()
        self.bad = 0
        self._cum: list[float] | None = None

    # -- helpers ---------------------------------------------------------------------------

    def day(self, lo: date = START, hi: date = END) -> date:
        return lo + timedelta(days=self.rng.randrange((hi - lo).days + 1))

    def name(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2))))

    def maybe_bad(self, row: dict[str, str], date_field: str, enum_field: str | None) -> None:
        if self.rng.random() >= BAD_ROW_RATE:
            return
        self.bad += 1
        if enum_field is not None and self.rng.random() < 0.5:
            row[enum_field] = self.rng.choice(["urgent", "未知", "major_hazard", "N/A"])
        else:
            row[date_field] = self.rng.choice(["2024-13-45", "2025-02-30", "20240-1-1", "昨天"])

    def writer(self, tname: str, header: list[str]) -> tuple[Any, Any]:
        fh = (self.out / f"{tname}.csv").open("w", encoding="utf-8", newline="")
        w = csv.DictWriter(fh, fieldnames=header, restval="", lineterminator="\n")
        w.writeheader()
        return fh, w

    # -- record types ----------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        self.out.mkdir(parents=True, exist_ok=True)
        r = self.rng
        counts: dict[str, int] = {}
        ents: list[tuple[str, frozenset[str]]] = []
        fh, w = self.writer("enterprise", [*HEADERS["enterprise"], "metal_smelting"])
        for i in range(1, self.n_ent + 1):
            sectors: list[str] = []
            if r.random() < 0.7:
                sectors.append(r.choice(GM_SECTORS))
                if r.random() < 0.15:
                    sectors.append(r.choice(GM_SECTORS))
            if not sectors or r.random() < 0.2:
                sectors.append(r.choice(OTHER_SECTORS))
            sectors = list(dict.fromkeys(sectors))
            active_from = self.day(date(2024, 1, 1), date(2025, 6, 30)) if r.random() < 0.05 else ""
            active_until = self.day(date(2024, 6, 1), END) if r.random() < 0.03 else ""
            smelting = ""
            if {"metallurgy", "nonferrous"} & set(sectors):
                smelting = _bool_text(r, r.random() < 0.6)
            eid = f"E{i:05d}"
            w.writerow(
                {
                    "id": eid,
                    "name": r.choice(COMPANY_HEAD)
                    + r.choice(COMPANY_BODY)
                    + r.choice(COMPANY_TAIL),
                    "sectors": ";".join(sectors),
                    "high_risk": _bool_text(r, r.random() < 0.2),
                    "active_from": active_from,
                    "active_until": active_until,
                    "metal_smelting": smelting,
                }
            )
            ents.append((eid, frozenset(sectors)))
        fh.close()
        counts["enterprise"] = self.n_ent

        n_sites = self.n_ent * 4
        sites_of: dict[str, list[str]] = {e: [] for e, _ in ents}
        categories = [
            "major_project",
            "commercial_complex",
            "street_shop",
            "hotel_restaurant",
            "three_in_one",
            "warehouse_cold_storage",
            "confined_space",
            "fuel_station",
            "factory",
            "office",
            "other",
        ]
        fh, w = self.writer("site", HEADERS["site"])
        for i in range(1, n_sites + 1):
            eid = ents[r.randrange(self.n_ent)][0]
            sid = f"S{i:06d}"
            sites_of[eid].append(sid)
            w.writerow(
                {
                    "id": sid,
                    "enterprise_id": eid,
                    "name": r.choice(PLACES),
                    "category": r.choices(categories, weights=[1, 2, 2, 2, 1, 2, 1, 1, 6, 3, 1])[0],
                    "operation": r.choices(
                        ["self_operated", "leased_out", "lent_out"], weights=[8, 3, 1]
                    )[0],
                    "active_from": "",
                    "active_until": "",
                }
            )
        fh.close()
        counts["site"] = n_sites

        rescue = [e for e, _ in ents if r.random() < 0.5]
        fh, w = self.writer("rescue_team", HEADERS["rescue_team"])
        for i, eid in enumerate(rescue, 1):
            w.writerow(
                {
                    "id": f"RT{i:05d}",
                    "enterprise_id": eid,
                    "established_on": self.day(date(2024, 3, 1), END),
                }
            )
        fh.close()
        counts["rescue_team"] = len(rescue)

        rest = max(0, self.records - sum(counts.values()))
        total_w = sum(WEIGHTS.values())
        shares = {t: int(rest * wt / total_w) for t, wt in WEIGHTS.items()}
        shares["hazard"] += rest - sum(shares.values())
        for tname, n in shares.items():
            getattr(self, f"gen_{tname}")(n, ents, sites_of)
            counts[tname] = n
        return counts

    def _ent(self, ents: list[tuple[str, frozenset[str]]]) -> tuple[str, frozenset[str]]:
        # a skewed size distribution: a few big enterprises hold many records
        if self._cum is None:
            sizes = [min(self.rng.paretovariate(1.5), 50.0) for _ in ents]
            self._cum = list(accumulate(sizes))
        return self.rng.choices(ents, cum_weights=self._cum)[0]

    def _site(self, eid: str, sites_of: dict[str, list[str]], share: float) -> str:
        s = sites_of.get(eid) or []
        return self.rng.choice(s) if s and self.rng.random() < share else ""

    def gen_hazard(self, n: int, ents: Any, sites_of: Any) -> None:
        r = self.rng
        fh, w = self.writer("hazard", [*HAZARD_CORE, *self.gm_columns])
        domains = ["industry_trade", "fire", "gas", "special_equipment", "construction"]
        domains += ["hazardous_chemicals", "other", ""]
        dweights = [60, 15, 5, 5, 3, 2, 5, 5]
        found = ["self_inspection", "leader_inspection", "authority", "third_party", "other"]
        by_sector: dict[str, list[GmRule]] = {}
        for rule in self.gm:
            for s in rule.sectors:
                by_sector.setdefault(s, []).append(rule)
        as_of = date(2026, 1, 15)
        for i in range(1, n + 1):
            eid, sectors = self._ent(ents)
            legacy = r.random() < 0.03
            d = self.day(date(2023, 6, 1), date(2023, 12, 31)) if legacy else self.day()
            rectify_by = d + timedelta(days=r.choice((15, 30, 30, 60, 90)))
            rectified = ""
            verified = ""
            if r.random() < 0.8:
                done = d + timedelta(days=r.randrange(1, 120))
                if done <= as_of:
                    rectified = done.isoformat()
                    if r.random() < 0.7:
                        verified = (done + timedelta(days=r.randrange(0, 10))).isoformat()
            row: dict[str, str] = {
                "id": f"H{i:07d}",
                "enterprise_id": eid,
                "site_id": self._site(eid, sites_of, 0.7),
                "discovered_on": d.isoformat(),
                "found_by": r.choices(found, weights=[50, 15, 15, 15, 5])[0],
                "level": "major" if r.random() < 0.05 else "general",
                "description": r.choice(PLACES) + r.choice(PROBLEMS),
                "rectify_by": rectify_by.isoformat(),
                "rectified_on": rectified,
                "verified_on": verified,
                "domain": r.choices(domains, weights=dweights)[0],
            }
            pool = [x for s in sectors for x in by_sector.get(s, ())]
            if pool and r.random() < 0.35:
                for rule in r.sample(pool, min(len(pool), r.choice((1, 1, 2)))):
                    for leaf in rule.leaves:
                        _fill_leaf(r, leaf, row)
                if r.random() < 0.3:
                    row["level"] = "major"
            self.maybe_bad(row, "discovered_on", "level")
            w.writerow(row)
        fh.close()

    def _simple(
        self,
        tname: str,
        n: int,
        prefix: str,
        ents: Any,
        make: Any,
        date_field: str,
        enum_field: str | None,
    ) -> None:
        fh, w = self.writer(tname, HEADERS[tname])
        for i in range(1, n + 1):
            eid, _ = self._ent(ents)
            row = {"id": f"{prefix}{i:07d}", "enterprise_id": eid, **make(eid)}
            self.maybe_bad(row, date_field, enum_field)
            w.writerow(row)
        fh.close()

    def gen_inspection(self, n: int, ents: Any, sites_of: Any) -> None:
        r = self.rng
        led = ["principal", "deputy", "safety_manager", "staff", "external"]
        self._simple(
            "inspection",
            n,
            "I",
            ents,
            lambda eid: {
                "site_id": self._site(eid, sites_of, 0.5),
                "held_on": self.day().isoformat(),
                "led_by": r.choices(led, weights=[25, 15, 30, 25, 5])[0],
            },
            "held_on",
            "led_by",
        )

    def gen_drill(self, n: int, ents: Any, sites_of: Any) -> None:
        r = self.rng
        kinds = ["evacuation", "fire", "rescue", "other"]
        self._simple(
            "drill",
            n,
            "DR",
            ents,
            lambda eid: {
                "held_on": self.day().isoformat(),
                "kind": r.choices(kinds, weights=[50, 30, 10, 10])[0],
            },
            "held_on",
            "kind",
        )

    def gen_training(self, n: int, ents: Any, sites_of: Any) -> None:
        r = self.rng
        roles = ["principal", "safety_manager", "special_ops", "staff"]
        courses = ["one_law_one_regulation", "major_hazard_criteria", "safety_competence", "other"]

        def make(eid: str) -> dict[str, Any]:
            passed = r.random()
            return {
                "person": self.name(),
                "role": r.choices(roles, weights=[10, 20, 20, 50])[0],
                "course": r.choices(courses, weights=[20, 20, 30, 30])[0],
                "completed_on": self.day().isoformat(),
                "exam_passed": "" if passed < 0.2 else _bool_text(r, passed < 0.95),
                "certificate_no": f"BS-{r.randrange(10**6):06d}" if r.random() < 0.6 else "",
            }

        self._simple("training", n, "TR", ents, make, "completed_on", "role")

    def gen_document(self, n: int, ents: Any, sites_of: Any) -> None:
        r = self.rng
        types = [
            "outlet_inventory",
            "hazard_baseline",
            "risk_assessment_report",
            "work_plan",
            "mobilization_meeting",
            "other",
        ]
        self._simple(
            "document",
            n,
            "DOC",
            ents,
            lambda eid: {
                "doc_type": r.choice(types),
                "submitted_on": self.day(date(2024, 3, 1), END).isoformat(),
            },
            "submitted_on",
            "doc_type",
        )

    def gen_report(self, n: int, ents: Any, sites_of: Any) -> None:
        r = self.rng

        def make(eid: str) -> dict[str, Any]:
            if r.random() < 0.4:
                y, m = 2024, r.randrange(5, 13)
            else:
                y, m = 2025, r.randrange(1, 13)
            sub = date(y, m, 1) + timedelta(days=r.randrange(10, 50))
            return {
                "kind": "monthly_progress" if r.random() < 0.9 else "other",
                "period": f"{y}-{m:02d}",
                "submitted_on": sub.isoformat(),
            }

        self._simple("report", n, "R", ents, make, "submitted_on", "kind")

    def gen_task(self, n: int, ents: Any, sites_of: Any) -> None:
        r = self.rng
        self._simple(
            "task",
            n,
            "T",
            ents,
            lambda eid: {
                "content": ("完成" + r.choice(PLACES) + "专项整治") if r.random() < 0.93 else "",
                "responsible_unit": r.choice(UNITS) if r.random() < 0.93 else "",
                "due_on": self.day().isoformat() if r.random() < 0.93 else "",
            },
            "due_on",
            None,
        )

    def gen_equipment(self, n: int, ents: Any, sites_of: Any) -> None:
        r = self.rng
        self._simple(
            "equipment",
            n,
            "EQ",
            ents,
            lambda eid: {
                "site_id": self._site(eid, sites_of, 0.8),
                "name": f"{r.randrange(1, 9)}号{r.choice(EQUIPMENT)}",
                "catalog_code": r.choice(CATALOG) if r.random() < 0.3 else "",
                "in_service": _bool_text(r, r.random() < 0.8),
            },
            "in_service",
            None,
        )


def generate(
    out: str | Path, records: int, seed: int = 1, enterprises: int | None = None
) -> dict[str, int]:
    """Write the export into ``out``; returns the number of rows per record type."""
    return Gen(Path(out), records, seed, enterprises).run()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="output folder (created; files are overwritten)")
    ap.add_argument("--records", type=int, default=100_000, help="total data rows (default 100000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--enterprises", type=int, default=None, help="default max(20, records/2500)")
    args = ap.parse_args(argv)
    counts = generate(args.out, args.records, args.seed, args.enterprises)
    total = sum(counts.values())
    print(f"{args.out}: {total} records " + " ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
