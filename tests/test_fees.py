"""Computed amounts (``compute`` in checks): progressive brackets (超额累退), a rate per enum
value, a single rate, spread over the record's period — the worked vectors, messages, explain,
and located load errors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from conftest import rule
from hazard_rules import PackError, evaluate, load_packs, parse_period
from hazard_rules.backends.python import compile_compute

AS_OF = date(2026, 1, 15)
E = [{"id": "E1", "name": "甲公司", "sectors": ["fuel_retail"], "high_risk": True}]

RATES_2012 = [
    {"upto": 1000, "rate": "4%"},
    {"upto": 10000, "rate": "2%"},
    {"upto": 100000, "rate": "0.5%"},
    {"rate": "0.2%"},
]


def fee_rule(**compute: Any) -> dict[str, Any]:
    return rule(
        "t.fee",
        "check",
        **{"for": "safety_fee"},
        compute={"required_fee": compute},
        require={"extracted": {"gte": {"computed": "required_fee"}}},
        message={"zh": "应提{required_fee}，实提{extracted}", "en": "{required_fee} / {extracted}"},
    )


def fee(extracted: float, base: float = 283300, period: str = "2025", **kw: Any) -> dict[str, Any]:
    return {"id": "F1", "enterprise_id": "E1", "period": period, "accrued_on": "2025-12-31",
            "category": "hazardous_goods", "base_amount": base, "extracted": extracted, **kw}  # fmt: skip


def test_the_2012_rates_give_the_source_vector(load: Any) -> None:
    """obligations.md §4.4: 28.33亿元 at the 2012 rates → 40 + 180 + 450 + 366.6 = 1036.6万元."""
    packs = load([fee_rule(base="base_amount", brackets=RATES_2012)])
    (r,) = packs.rules
    assert compile_compute(r.computes[0])(fee(0), {}) == 1036.6
    ok = evaluate(packs, {"enterprise": E, "safety_fee": [fee(1036.6)]}, AS_OF)
    short = evaluate(packs, {"enterprise": E, "safety_fee": [fee(1036.59)]}, AS_OF)
    assert ok.violations == [] and [v.status for v in short.violations] == ["failed"]
    assert short.violations[0].message == "应提1036.6，实提1036.59"


@pytest.mark.parametrize(
    ("base", "amount"),
    [(0, 0.0), (500, 22.5), (1000, 45.0), (1000.01, 45.0002), (283300, 1109.1), (10**7, 20542.5)],
)
def test_the_2022_brackets(base: float, amount: float) -> None:
    packs = load_packs("fees-2022")
    (r,) = [r for r in packs.rules if r.meta.id == "fees-2022.hazardous-goods"]
    typed = {**fee(0, base=base), "period": parse_period("2025")}
    assert compile_compute(r.computes[0])(typed, {}) == amount
    monthly = {**typed, "period": parse_period("2025-03")}
    assert compile_compute(r.computes[0])(monthly, {}) == round(amount / 12, 4)


def test_explain_shows_the_computed_amount() -> None:
    packs = load_packs("fees-2022")
    result = evaluate(packs, {"enterprise": E, "safety_fee": [fee(1000)]}, AS_OF, explain=True)
    (v,) = result.violations
    assert "应提取1109.1万元" in v.message and "实际提取1000" in v.message
    compute = next(e for e in v.explain or [] if e["at"] == "compute.required_fee")
    assert compute["value"] == 1109.1 and "超额累退" in compute["condition"]
    req = next(e for e in v.explain or [] if e["at"].startswith("require"))
    assert req["operand_value"] == 1109.1 and req["held"] is False


def test_explain_command_describes_the_brackets(capsys: Any) -> None:
    from hazard_rules.cli import main

    assert main(["explain", "fees-2022.hazardous-goods"]) == 0
    out = capsys.readouterr().out
    assert "{computed: required_fee}" in out


@pytest.mark.parametrize(
    ("compute", "needle"),
    [
        ({"base": "extracted", "brackets": [{"upto": 10, "rate": "150%"}]}, "a rate is a percentage"),
        ({"base": "extracted", "brackets": [{"upto": 10, "rate": "1%"}, {"upto": 5, "rate": "1%"}]}, "brackets rise"),
        ({"base": "extracted", "brackets": [{"rate": "1%"}, {"upto": 5, "rate": "1%"}]}, "only the last bracket"),
        ({"base": "period", "rate": "1%"}, "is not a number field"),
        ({"base": "extracted", "rate_of": "project_type", "rates": {"moon": "1%"}}, "is not a value"),
        ({"base": "extracted", "rates": {"mining": "1%"}}, "needs `rate_of`"),
        ({"base": "extracted", "rate": "1%", "brackets": [{"rate": "1%"}]}, "give one of"),
        ({"base": "extracted", "rate": "1%", "spread": "accrued_on"}, "is not a period field"),
    ],
)  # fmt: skip
def test_malformed_computes_are_located(load: Any, compute: dict[str, Any], needle: str) -> None:
    with pytest.raises(PackError) as exc:
        load([fee_rule(**compute)])
    assert any(needle in d.message for d in exc.value.diagnostics), exc.value.diagnostics
    assert all(
        d.span.path.endswith("rules.rule.yaml") and d.span.line > 1 for d in exc.value.diagnostics
    )


def test_a_computed_operand_needs_a_compute_of_that_name(load: Any) -> None:
    doc = fee_rule(base="base_amount", rate="1%")
    doc["require"] = {"extracted": {"gte": {"computed": "required_fe"}}}
    with pytest.raises(PackError, match="did you mean 'required_fee'"):
        load([doc])
    doc["require"] = {"accrued_on": {"gte": {"computed": "required_fee"}}}
    with pytest.raises(PackError, match="a computed amount is a number"):
        load([doc])


def test_durable_leaves_computed_amounts_to_python() -> None:
    from hazard_rules.testing.runner import available_backends

    if "durable" not in available_backends():
        pytest.skip("durable-rules is not installed")
    packs = load_packs("fees-2022")
    facts = {"enterprise": E, "safety_fee": [fee(1000)]}
    d = evaluate(packs, facts, AS_OF, backend="durable")
    p = evaluate(packs, facts, AS_OF)
    assert d.violations == p.violations
    assert d.engines["fees-2022.hazardous-goods"] == "python"
