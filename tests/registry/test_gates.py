"""Release gates: parsed by a grammar, evaluated over a flat context, never as Python."""

from __future__ import annotations

import pytest

from loopml.core.errors import ValidationError
from loopml.registry.gates import evaluate_gates, parse_gate, parse_policy

CONTEXT = {
    "metrics.f1": 0.87,
    "champion.f1": 0.86,
    "data.validation": "passed",
    "slices.min.f1": 0.74,
}


@pytest.mark.parametrize(
    ("expression", "passed", "observed"),
    [
        ("metrics.f1 >= 0.85", True, "0.87 >= 0.85"),
        ("metrics.f1 >= champion.f1 - 0.01", True, "0.87 >= 0.85"),
        ("metrics.f1 > champion.f1 * 1.05", False, "0.87 > 0.903"),
        ("data.validation == passed", True, "'passed' == 'passed'"),
        ("data.validation == 'failed'", False, "'passed' == 'failed'"),
        ("slices.min.f1 >= 0.75", False, "0.74 >= 0.75"),
        ("-metrics.f1 < 0", True, "-0.87 < 0"),
    ],
)
def test_gates_compare_values_from_the_context(
    expression: str, passed: bool, observed: str
) -> None:
    (result,) = evaluate_gates([parse_gate(expression)], CONTEXT)
    assert (result.passed, result.observed) == (passed, observed)


def test_a_missing_metric_fails_its_gate_and_a_missing_champion_is_skipped() -> None:
    missing, champion = evaluate_gates(
        [parse_gate("metrics.auc >= 0.8"), parse_gate("metrics.f1 >= champion.auc")], CONTEXT
    )
    assert not missing.passed
    assert missing.observed == "metrics.auc is not recorded"
    assert champion.passed
    assert "no champion" in champion.observed


def test_text_never_orders_against_numbers() -> None:
    (result,) = evaluate_gates([parse_gate("data.validation >= 1")], CONTEXT)
    assert not result.passed


@pytest.mark.parametrize(
    "expression", ["metrics.f1 >=", "metrics.f1 => 0.8", "__import__('os')", "f1 >= 0.8 0.9", ""]
)
def test_a_gate_that_does_not_parse_is_refused_naming_it(expression: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_gate(expression, field="gates[2]")
    assert caught.value.field == "gates[2]"


def test_a_policy_is_checked_field_by_field() -> None:
    gates, required = parse_policy({"gates": ["metrics.f1 >= 0.8"], "required_approvals": 2})
    assert [g.expression for g in gates] == ["metrics.f1 >= 0.8"]
    assert required == 2
    with pytest.raises(ValidationError) as caught:
        parse_policy({"gate": []})
    assert caught.value.field == "gate"
    with pytest.raises(ValidationError) as caught:
        parse_policy({"required_approvals": 0})
    assert caught.value.field == "required_approvals"
    with pytest.raises(ValidationError) as caught:
        parse_policy({"gates": ["metrics.f1 >= 0.8", "oops >="]})
    assert caught.value.field == "gates[1]"
