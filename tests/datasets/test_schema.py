from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from loopml.core.errors import NotFoundError, ValidationError
from loopml.datasets.schema import ColumnSchema, DataSchema
from loopml.datasets.schema_file import load_schema, parse_schema, save_schema

SCHEMA = DataSchema(
    (
        ColumnSchema("customer_id", "string", unique=True, description="CRM key"),
        ColumnSchema("age", "int64", min=18, max=99),
        ColumnSchema("income", "float64", nullable=True, min=0.0),
        ColumnSchema("plan", "string", isin=("basic", "pro")),
        ColumnSchema("signup", "date", min=date(2020, 1, 1)),
        ColumnSchema("seen_at", "datetime_tz", max=datetime(2030, 1, 1, tzinfo=UTC)),
        ColumnSchema("extra", "any", nullable=True),
    ),
    name="churn",
    strict=True,
)

GOOD_YAML = """\
version: 1
name: churn
strict: true
columns:
  age:
    dtype: int64
    min: 18
    max: 99
  plan:
    dtype: string
    isin: [basic, pro]
"""


# --- the value and its edits ----------------------------------------------------------


def test_unknown_dtype_is_refused_with_the_allowed_names() -> None:
    with pytest.raises(ValidationError) as caught:
        ColumnSchema("age", "integer")

    assert caught.value.field == "columns.age.dtype"
    assert "unknown dtype 'integer'; use one of: any, bool, int8" in str(caught.value)
    assert "datetime_tz" in str(caught.value)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (lambda: ColumnSchema("age", "int64", min="abc"), "columns.age.min: expected an integer"),  # type: ignore[arg-type]
        (lambda: ColumnSchema("age", "int64", min=1.5), "columns.age.min: expected an integer"),
        (
            lambda: ColumnSchema("x", "float64", max=float("nan")),
            "columns.x.max: expected a number",
        ),
        (lambda: ColumnSchema("age", "int64", min=5, max=1), "min (5) is larger than max (1)"),
        (
            lambda: ColumnSchema("ok", "bool", min=True),
            "columns.ok.min: a bool column has no range",
        ),
        (lambda: ColumnSchema("d", "date", min="31/01/2024"), "columns.d.min: expected a date"),  # type: ignore[arg-type]
        (
            lambda: ColumnSchema("p", "string", isin=("a", 1)),
            "columns.p.isin[1]: expected a string",
        ),
        (
            lambda: ColumnSchema("p", "string", isin="ab"),  # type: ignore[arg-type]
            "columns.p.isin: expected a list",
        ),
        (
            lambda: ColumnSchema("p", "string", nullable="no"),  # type: ignore[arg-type]
            "columns.p.nullable: expected true",
        ),
        (lambda: ColumnSchema("x", "any", unique=True), "columns.x.unique: give the column a"),
        (
            lambda: ColumnSchema("t", "datetime", min="2024-01-01T00:00:00+02:00"),  # type: ignore[arg-type]
            "has a timezone but the column's dtype is datetime",
        ),
    ],
)
def test_a_column_rule_that_does_not_fit_its_dtype_is_refused(column: object, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        column()  # type: ignore[operator]


def test_bounds_of_dates_and_datetimes_may_be_iso_text() -> None:
    signup = ColumnSchema("signup", "date", min="2020-01-01")  # type: ignore[arg-type]
    seen = ColumnSchema("seen_at", "datetime_tz", min="2024-01-01T02:00:00+02:00")  # type: ignore[arg-type]
    naive_on_aware = ColumnSchema("seen_at", "datetime_tz", max="2024-01-01T00:00:00")  # type: ignore[arg-type]

    assert signup.min == date(2020, 1, 1)
    assert seen.min == datetime(2024, 1, 1, tzinfo=UTC)
    assert naive_on_aware.max == datetime(2024, 1, 1, tzinfo=UTC)


def test_with_column_changes_one_rule_and_leaves_the_original_alone() -> None:
    changed = SCHEMA.with_column("age", max=120, nullable=True)

    assert changed.column("age") == ColumnSchema("age", "int64", nullable=True, min=18, max=120)
    assert SCHEMA.column("age").max == 99
    assert changed.column_names == SCHEMA.column_names


def test_with_column_adds_a_new_column_at_the_end() -> None:
    added = SCHEMA.with_column("score", dtype="float64", min=0.0, max=1.0)

    assert added.column_names[-1] == "score"
    assert added.column("score").max == 1.0


def test_a_new_column_needs_a_dtype() -> None:
    with pytest.raises(
        ValidationError, match=re.escape("columns.score: a new column needs a dtype")
    ):
        SCHEMA.with_column("score", min=0)


def test_an_edit_is_checked_like_a_new_schema() -> None:
    with pytest.raises(
        ValidationError, match=re.escape("columns.age.max: expected an integer, got 'old'")
    ):
        SCHEMA.with_column("age", max="old")


def test_without_column_drops_it_and_refuses_an_unknown_name() -> None:
    assert "plan" not in SCHEMA.without_column("plan").column_names
    with pytest.raises(NotFoundError, match="column 'plan2' is not in the schema"):
        SCHEMA.without_column("plan2")


def test_frame_options_are_edited_with_dataclasses_replace() -> None:
    relaxed = dataclasses.replace(SCHEMA, strict=False, coerce=True)

    assert (relaxed.strict, relaxed.coerce) == (False, True)
    with pytest.raises(ValidationError, match="strict: expected true or false"):
        dataclasses.replace(SCHEMA, strict="yes")  # type: ignore[arg-type]


def test_a_column_listed_twice_is_refused() -> None:
    with pytest.raises(ValidationError, match=re.escape("columns.age: listed twice")):
        DataSchema((ColumnSchema("age", "int64"), ColumnSchema("age", "float64")))


def test_the_fingerprint_changes_with_the_rules_only() -> None:
    assert SCHEMA.fingerprint == dataclasses.replace(SCHEMA).fingerprint
    assert SCHEMA.fingerprint != SCHEMA.with_column("age", max=100).fingerprint


# --- YAML -------------------------------------------------------------------------------


def test_yaml_round_trip_keeps_every_rule() -> None:
    text = SCHEMA.to_yaml()

    assert DataSchema.from_yaml(text) == SCHEMA
    assert DataSchema.from_dict(SCHEMA.to_dict()) == SCHEMA


def test_yaml_is_readable_one_block_per_column() -> None:
    text = DataSchema.from_yaml(GOOD_YAML).to_yaml()

    assert text.splitlines()[1:] == [
        "version: 1",
        "name: churn",
        "strict: true",
        "coerce: false",
        "columns:",
        "  age:",
        "    dtype: int64",
        "    nullable: false",
        "    min: 18",
        "    max: 99",
        "  plan:",
        "    dtype: string",
        "    nullable: false",
        "    isin: [basic, pro]",
    ]


def test_save_and_load_a_schema_file(tmp_path: Path) -> None:
    path = tmp_path / "churn.schema.yaml"

    save_schema(SCHEMA, path)

    assert load_schema(path) == SCHEMA
    assert [p.name for p in tmp_path.iterdir()] == ["churn.schema.yaml"]


def test_loading_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such schema file"):
        load_schema(tmp_path / "nope.yaml")


def test_unquoted_yaml_dates_are_read_as_dates() -> None:
    text = "version: 1\ncolumns:\n  signup: {dtype: date, min: 2020-01-01}\n"

    assert parse_schema(text).column("signup").min == date(2020, 1, 1)


def _error(text: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_schema(text, source="schema.yaml")
    return caught.value


def test_a_value_of_the_wrong_type_names_file_line_and_field() -> None:
    text = GOOD_YAML.replace("min: 18", "min: abc")

    error = _error(text)

    assert str(error) == "schema.yaml, line 7: columns.age.min: expected an integer, got 'abc'"
    assert error.field == "columns.age.min"


def test_a_yaml_syntax_error_names_the_line() -> None:
    text = GOOD_YAML.replace("isin: [basic, pro]", "isin: [basic, pro")

    assert str(_error(text)).startswith("schema.yaml, line 12: not valid YAML")


def test_an_unknown_key_names_its_line_and_the_allowed_keys() -> None:
    text = GOOD_YAML.replace("max: 99", "maximum: 99")

    assert str(_error(text)) == (
        "schema.yaml, line 8: columns.age.maximum: unknown key; allowed here: "
        "dtype, nullable, unique, min, max, isin, description"
    )


def test_an_unknown_dtype_names_its_line_and_the_allowed_dtypes() -> None:
    error = _error(GOOD_YAML.replace("dtype: int64", "dtype: int"))

    assert str(error).startswith(
        "schema.yaml, line 6: columns.age.dtype: unknown dtype 'int'; use one of: any, bool"
    )


def test_a_bad_allowed_value_names_the_line_of_the_list() -> None:
    error = _error(GOOD_YAML.replace("isin: [basic, pro]", "isin: [basic, 3]"))

    assert str(error) == "schema.yaml, line 11: columns.plan.isin[1]: expected a string, got 3"


def test_a_key_given_twice_is_refused_not_silently_dropped() -> None:
    text = GOOD_YAML.replace("    max: 99\n", "    max: 99\n    min: 20\n")

    assert str(_error(text)) == "schema.yaml, line 9: min: given twice (first on line 7); keep one"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "schema.yaml, line 1: expected a mapping with 'version: 1'"),
        ("columns: {}\n", "schema.yaml, line 1: version: missing; add 'version: 1' at"),
        ("version: 2\ncolumns: {}\n", "schema.yaml, line 1: version: 2 was written by a newer"),
        ("version: 1\ncolumns: [age]\n", "schema.yaml, line 2: columns: expected a mapping"),
        ("version: 1\ncolumns:\n  age: int64\n", "schema.yaml, line 3: columns.age: expected a"),
        ("version: 1\ncolumns:\n  age: {}\n", "schema.yaml, line 3: columns.age.dtype: missing"),
        (
            "version: 1\ncolumns:\n  yes: {dtype: bool}\n",
            "schema.yaml, line 3: columns: column name yes is read as bool",
        ),
        ("version: 1\nstrict: maybe\ncolumns: {}\n", "schema.yaml, line 2: strict: expected true"),
        ("version: 1\ncolums: {}\n", "schema.yaml, line 2: colums: unknown key; allowed here"),
    ],
)
def test_a_malformed_file_gets_an_error_that_says_where(text: str, message: str) -> None:
    assert str(_error(text)).startswith(message)
