from __future__ import annotations

import json
from typing import Any

import pytest

from loopml.core.errors import ValidationError
from loopml.core.validation_report import CheckFailure, FailureExample, ValidationReport

AGE_RANGE = CheckFailure(
    column="age",
    check="in_range",
    description="values outside [0, 120]",
    n_failing=2,
    examples=(FailureExample(row=3, value=-1), FailureExample(row=9, value=130)),
)
MISSING_PLAN = CheckFailure("plan", "column_present", "missing from the data", 10)


def report(*failures: CheckFailure) -> ValidationReport:
    return ValidationReport(
        n_rows=10, n_checks=7, failures=failures, schema_name="people", schema_hash="ab12"
    )


def test_a_report_passes_exactly_when_no_check_failed() -> None:
    assert report().passed
    assert not report(AGE_RANGE).passed


def test_a_report_survives_a_json_round_trip() -> None:
    original = report(AGE_RANGE, MISSING_PLAN)

    text = json.dumps(original.to_dict())

    assert ValidationReport.from_dict(json.loads(text)) == original


def test_to_dict_spells_out_every_field() -> None:
    assert report(MISSING_PLAN).to_dict() == {
        "passed": False,
        "n_rows": 10,
        "n_checks": 7,
        "schema_name": "people",
        "schema_hash": "ab12",
        "failures": [
            {
                "column": "plan",
                "check": "column_present",
                "description": "missing from the data",
                "n_failing": 10,
                "examples": [],
            }
        ],
    }


def _stored() -> dict[str, Any]:
    return report(AGE_RANGE).to_dict()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("n_rows"), "n_rows"),
        (lambda d: d.update(n_checks="7"), "n_checks"),
        (lambda d: d.update(n_rows=True), "n_rows"),
        (lambda d: d.update(n_rows=-1), "n_rows"),
        (lambda d: d.update(failures={}), "failures"),
        (lambda d: d.update(schema_name=3), "schema_name"),
        (lambda d: d["failures"][0].update(n_failing=None), "failures[0].n_failing"),
        (lambda d: d["failures"][0].pop("check"), "failures[0].check"),
        (lambda d: d["failures"][0].update(column=1), "failures[0].column"),
        (
            lambda d: d["failures"][0]["examples"][1].update(value=[1]),
            "failures[0].examples[1].value",
        ),
        (lambda d: d["failures"][0]["examples"][0].update(row="3"), "failures[0].examples[0].row"),
    ],
)
def test_from_dict_names_the_malformed_field(change: Any, field: str) -> None:
    data = _stored()
    change(data)

    with pytest.raises(ValidationError) as caught:
        ValidationReport.from_dict(data)

    assert caught.value.field == field
    assert field in str(caught.value)


def test_from_dict_refuses_something_that_is_not_a_mapping() -> None:
    with pytest.raises(ValidationError, match="expected a mapping"):
        ValidationReport.from_dict(["not", "a", "report"])


def test_summary_of_a_passed_report_is_one_line() -> None:
    assert report().summary() == "validation passed: 7 checks on 10 rows (schema 'people')"


def test_summary_gives_one_line_per_failed_check_with_count_and_examples() -> None:
    table_level = CheckFailure(None, "schema", "could not run", 10)

    lines = report(AGE_RANGE, MISSING_PLAN, table_level).summary().splitlines()

    assert lines == [
        "validation failed: 3 of 7 checks on 10 rows (schema 'people')",
        "  age: in_range: 2 failing rows: values outside [0, 120]; e.g. row 3: -1, row 9: 130",
        "  plan: column_present: 10 failing rows: missing from the data",
        "  (table): schema: 10 failing rows: could not run",
    ]


def test_summary_quotes_text_values_and_caps_the_examples() -> None:
    failure = CheckFailure(
        "plan",
        "isin",
        "values not among the 2 allowed: 'basic', 'pro'",
        4,
        tuple(FailureExample(row, "gold") for row in range(4)),
    )

    line = failure.render(max_examples=2)

    assert line.endswith("e.g. row 0: 'gold', row 1: 'gold'")
