"""The practical ceiling: 20 gm-2023 criteria written by hand as plain Python ``if``s.

:func:`classify` implements exactly the criteria of the rules in :data:`RULES` (read from
``rules/gm-2023/*.rule.yaml``: their ``applies`` scope, their ``when`` condition and their
``effective`` date) over the same typed records the engine evaluates — plain dicts coerced by
``hazard_rules`` (``bool`` / ``float`` / ``int`` / ``str`` / ``date`` / tuples, ``None`` when
missing). It returns the ``(hazard id, rule id)`` pairs that the engine reports as
classifications for these rules; ``bench/run.py`` and ``tests/test_bench_smoke.py`` assert
that both agree before anything is timed.

Semantics reproduced by hand (SPEC §3.2): a missing value makes every comparison false, so
``x: false`` is ``rec.get("x") is False``; ``not: {domain: {in: [...]}}`` holds when ``domain`` is
missing — and only the rules whose item names no hazardous-chemicals, fire, gas or
special-equipment situation have that carve-out (``carved`` below; issue 14); a record dated
after ``as_of`` does not exist; a rule applies from its
``effective.from`` (2023-05-15 for all of them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

__all__ = ["RULES", "classify"]

RULES = (
    "gm-2023.3-1",
    "gm-2023.3-2",
    "gm-2023.3-3",
    "gm-2023.4-3",
    "gm-2023.4-5",
    "gm-2023.4-8",
    "gm-2023.5-3",
    "gm-2023.5-5",
    "gm-2023.5-11",
    "gm-2023.6-1",
    "gm-2023.7-5",
    "gm-2023.8-2",
    "gm-2023.9-2",
    "gm-2023.10-1",
    "gm-2023.11-1",
    "gm-2023.11-4",
    "gm-2023.11-8",
    "gm-2023.12-1",
    "gm-2023.12-2",
    "gm-2023.13-1",
)

EFFECTIVE = date(2023, 5, 15)
GM_SECTORS = frozenset(
    (
        "metallurgy",
        "nonferrous",
        "building_materials",
        "machinery",
        "light_industry",
        "textile",
        "tobacco",
        "commerce",
    )
)
OTHER_DOMAINS = frozenset(("hazardous_chemicals", "fire", "gas", "special_equipment"))
TILTING_OR_HOLDING = frozenset(
    ("tilting_melting", "tilting_holding", "tilting_melt_hold", "fixed_melting_with_holding")
)
AC_AREAS = frozenset(("packing", "cutting", "product_finishing"))


def classify(
    hazards: Iterable[Mapping[str, Any]],
    enterprises: Mapping[str, Mapping[str, Any]],
    as_of: date,
) -> list[tuple[str, str]]:
    """``(hazard id, rule id)`` for every hazard that meets one of the :data:`RULES`."""
    out: list[tuple[str, str]] = []
    add = out.append
    for h in hazards:
        d = h.get("discovered_on")
        if d > as_of or d < EFFECTIVE:
            continue
        # the 第二条 carve-out of the rules whose item names no such situation
        carved = h.get("domain") in OTHER_DOMAINS
        ent = enterprises[h.get("enterprise_id")]
        sectors = ent.get("sectors")
        if GM_SECTORS.isdisjoint(sectors):
            continue
        rid = h.get("id")
        # 第三条 管理类 — every 工贸 sector
        if not carved and (
            h.get("contractors_managed") is False or h.get("contractors_inspected") is False
        ):
            add((rid, "gm-2023.3-1"))
        if (
            not carved
            and h.get("special_ops_on_duty") is True
            and h.get("special_ops_certified") is False
        ):
            add((rid, "gm-2023.3-2"))
        metallurgy = "metallurgy" in sectors
        nonferrous = "nonferrous" in sectors
        if (
            not carved
            and (metallurgy or nonferrous)
            and ent.get("metal_smelting") is True
            and (h.get("principal_assessed") is False or h.get("safety_managers_assessed") is False)
        ):
            add((rid, "gm-2023.3-3"))
        if metallurgy:
            route = h.get("steel_casting_route")
            if not carved and (
                (
                    route == "continuous_casting"
                    and (
                        h.get("emergency_ladle_present") is False
                        or h.get("tundish_breakout_pit_present") is False
                        or h.get("tundish_overflow_pit_present") is False
                        or h.get("breakout_chute_present") is False
                    )
                )
                or (route == "ingot_casting" and h.get("emergency_ladle_present") is False)
            ):
                add((rid, "gm-2023.4-3"))
            sp, mx = h.get("bf_top_pressure_setpoint_kpa"), h.get("bf_design_max_top_pressure_kpa")
            rel, des = (
                h.get("bf_bleeder_release_setpoint_kpa"),
                h.get("bf_equipment_design_pressure_kpa"),
            )
            if not carved and (
                (h.get("in_production") is True and sp is not None and mx is not None and sp > mx)
                or h.get("bf_top_pressure_interlocked_bleeder") is False
                or (rel is not None and des is not None and rel > des)
            ):
                add((rid, "gm-2023.4-5"))
            if _drains(h):
                add((rid, "gm-2023.4-8"))
        if nonferrous:
            cft = h.get("casting_furnace_type")
            if (
                not carved
                and cft is not None
                and cft not in TILTING_OR_HOLDING
                and (
                    h.get("emergency_discharge_present") is False
                    or h.get("emergency_storage_present") is False
                )
            ):
                add((rid, "gm-2023.5-3"))
            if (
                not carved
                and h.get("smelting_furnace_water_cooled") is True
                and (
                    h.get("cooling_alarm_present") is False
                    or h.get("cooling_alarm_working") is False
                    or (
                        h.get("cooling_circuit") == "open_loop"
                        and h.get("open_loop_outlet_temp_monitored") is False
                    )
                )
            ):
                add((rid, "gm-2023.5-5"))
            if (
                h.get("toxic_gas_leak_area") is True
                and (
                    h.get("fixed_gas_alarm_present") is False
                    or h.get("fixed_gas_alarm_working") is False
                    or h.get("gas_alarm_data_to_24h_manned") is False
                )
            ) or (h.get("arsine_area") is True and h.get("arsine_detection_equivalent") is False):
                add((rid, "gm-2023.5-11"))
        if (
            "building_materials" in sectors
            and h.get("coal_mill_filter_or_bin") is True
            and (
                h.get("temperature_alarm_present") is False
                or h.get("temperature_alarm_working") is False
                or h.get("fixed_gas_alarm_present") is False
                or h.get("fixed_gas_alarm_working") is False
                or h.get("gas_extinguishing_present") is False
                or h.get("gas_extinguishing_working") is False
            )
        ):
            add((rid, "gm-2023.6-1"))
        if (
            "machinery" in sectors
            and h.get("gas_fired_burner") is True
            and (
                h.get("gas_main_pressure_alarm_present") is False
                or h.get("gas_main_pressure_alarm_working") is False
                or h.get("gas_main_pressure_alarm_interlocked") is False
                or h.get("flame_failure_protection_present") is False
                or h.get("flame_failure_protection_working") is False
            )
        ):
            add((rid, "gm-2023.7-5"))
        if (
            "light_industry" in sectors
            and h.get("liquor_blending_filling_or_store") is True
            and (
                h.get("ethanol_alarm_present") is False
                or h.get("ethanol_alarm_working") is False
                or h.get("ethanol_alarm_ventilation_interlocked") is False
            )
        ):
            add((rid, "gm-2023.8-2"))
        if "textile" in sectors and (
            h.get("textile_chemicals_mixed_storage") is True
            or (
                h.get("hydrosulfite_store") is True
                and h.get("hydrosulfite_store_moisture_proof") is False
            )
        ):
            add((rid, "gm-2023.9-2"))
        if (
            "tobacco" in sectors
            and h.get("fumigation_site") is True
            and (
                h.get("phosphine_detector_present") is False
                or h.get("phosphine_detector_working") is False
                or h.get("gas_masks_present") is False
                or h.get("gas_masks_working") is False
                or h.get("fumigation_evacuation_confirmed") is False
            )
        ):
            add((rid, "gm-2023.10-1"))
        # 第十一条 粉尘涉爆 — every 工贸 sector
        if h.get("dust_explosion_risk") is True and not carved:
            if (
                h.get("dust_area_in_nonframe_multistorey") is True
                or h.get("gathering_room_in_dust_area") is True
            ):
                add((rid, "gm-2023.11-1"))
            if h.get("metal_dust_positive_pressure") is True or (
                h.get("positive_pressure_dust_conveying") is True
                and (
                    h.get("ignition_prevention_present") is False
                    or h.get("ignition_prevention_working") is False
                )
            ):
                add((rid, "gm-2023.11-4"))
            if (
                h.get("mechanical_ignition_equipment") is True
                and (
                    h.get("tramp_removal_present") is False
                    or h.get("tramp_removal_working") is False
                )
            ) or (
                h.get("sander_duct") is True
                and (
                    h.get("sander_spark_detection_present") is False
                    or h.get("sander_spark_detection_working") is False
                )
            ):
                add((rid, "gm-2023.11-8"))
        # 第十二条 涉氨制冷
        if h.get("ammonia_refrigeration") is True:
            if (
                h.get("ac_area_function") in AC_AREAS
                and h.get("ac_direct_ammonia_evaporation") is True
            ):
                add((rid, "gm-2023.12-1"))
            workers = h.get("quick_freezer_room_workers")
            if h.get("quick_freezer_in_separate_room") is False or (
                workers is not None and workers > 9
            ):
                add((rid, "gm-2023.12-2"))
        # 第十三条 有限空间
        if (
            h.get("confined_space_toxic_risk") is True
            and (
                h.get("confined_spaces_identified") is False
                or h.get("confined_space_ledger") is False
            )
            and h.get("confined_space_warning_signs") is False
        ):
            add((rid, "gm-2023.13-1"))
    return out


def _drains(h: Mapping[str, Any]) -> bool:
    """第四条（八）: water-seal drain below 30 kPa on a positive-pressure main, or shared."""
    p = h.get("water_seal_max_pressure_kpa")
    return (
        (h.get("gas_main_positive_pressure") is True and p is not None and p < 30)
        or h.get("drain_shared_across_isolator") is True
        or h.get("drain_pipes_interconnected") is True
        or h.get("drain_shared_between_media") is True
    )
