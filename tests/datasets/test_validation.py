from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pandera.polars
import polars as pl
import pyarrow as pa
import pytest

from loopml.core.errors import ValidationError
from loopml.core.validation_report import CheckFailure, FailureExample, ValidationReport
from loopml.datasets.inference import infer_schema
from loopml.datasets.schema import ColumnSchema, DataSchema
from loopml.datasets.validation import validate

N = 400


@pytest.fixture
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "id": np.arange(N),
            "age": rng.integers(18, 90, N),
            "income": np.where(rng.random(N) < 0.1, np.nan, rng.uniform(1.0, 9.0, N)),
            "plan": rng.choice(["basic", "pro", "enterprise"], N),
            "signup": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(N), unit="h"),
        }
    )


@pytest.fixture
def schema(data: pd.DataFrame) -> DataSchema:
    return infer_schema(data, name="customers")


def failure(report: ValidationReport, column: str | None, check: str) -> CheckFailure:
    matches = [f for f in report.failures if (f.column, f.check) == (column, check)]
    assert len(matches) == 1, report.summary()
    return matches[0]


def checks(report: ValidationReport) -> list[tuple[str | None, str, int]]:
    return [(f.column, f.check, f.n_failing) for f in report.failures]


def batches(data: pd.DataFrame, size: int) -> Iterator[pa.RecordBatch]:
    yield from pa.Table.from_pandas(data, preserve_index=False).to_batches(max_chunksize=size)


def test_data_passes_the_schema_inferred_from_it_in_every_form(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    table = pa.Table.from_pandas(data, preserve_index=False)

    for form in (data, pl.from_pandas(data), table, batches(data, 25)):
        report = validate(form, schema)

        assert report.passed, report.summary()
        assert (report.n_rows, report.n_checks) == (N, 21)
        assert (report.schema_name, report.schema_hash) == ("customers", schema.fingerprint)


def test_values_out_of_range_are_counted_with_their_rows(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    data.loc[[5, 17, 300], "age"] = [-1, 200, 17]

    report = validate(data, schema)

    assert checks(report) == [("age", "in_range", 3)]
    assert failure(report, "age", "in_range").examples == (
        FailureExample(5, -1),
        FailureExample(17, 200),
        FailureExample(300, 17),
    )


def test_nulls_in_a_column_that_is_not_nullable_are_counted(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    data["plan"] = data["plan"].astype(object)
    data.loc[[2, 4], "plan"] = None

    report = validate(data, schema)

    assert checks(report) == [("plan", "nullable", 2)]
    assert failure(report, "plan", "nullable").examples == (
        FailureExample(2, None),
        FailureExample(4, None),
    )


def test_nan_counts_as_null() -> None:
    frame = pl.DataFrame({"x": [1.0, float("nan"), None]})

    report = validate(frame, DataSchema((ColumnSchema("x", "float64"),)))

    assert checks(report) == [("x", "nullable", 2)]


def test_values_outside_the_allowed_categories_are_counted(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    data.loc[[10, 11, 12], "plan"] = ["gold", "gold", "free"]

    report = validate(data, schema)

    assert checks(report) == [("plan", "isin", 3)]
    assert [e.value for e in failure(report, "plan", "isin").examples] == ["gold", "gold", "free"]


def test_duplicates_count_every_row_of_a_repeated_value(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    data.loc[[1, 2, 399], "id"] = 0  # id 0 now on rows 0, 1, 2 and 399

    report = validate(data, schema)

    assert checks(report) == [("id", "unique", 4)]
    assert failure(report, "id", "unique").examples == tuple(
        FailureExample(row, 0) for row in (0, 1, 2, 399)
    )


def test_a_column_of_the_wrong_dtype_is_one_failure_not_a_crash(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    data["age"] = data["age"].astype(str)

    report = validate(data, schema)

    assert checks(report) == [("age", "dtype", N)]  # no range noise from comparing text
    age = failure(report, "age", "dtype")
    assert age.description == "expected int64, got string"
    assert age.examples[0] == FailureExample(0, str(data["age"][0]))


def test_a_pandas_column_of_mixed_types_fails_its_dtype_naming_the_fix(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    data["age"] = data["age"].astype(object)
    data.loc[[7, 9], "age"] = ["forty", "n/a"]

    report = validate(data, schema)

    assert checks(report) == [("age", "dtype", 2)]
    age = failure(report, "age", "dtype")
    assert "pd.to_numeric(df['age'], errors='coerce')" in age.description
    assert age.examples == (FailureExample(7, "forty"), FailureExample(9, "n/a"))


def test_missing_and_unexpected_columns_fail_for_every_row(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    changed = data.drop(columns=["plan"]).assign(score=1.0)

    report = validate(changed, schema)

    assert checks(report) == [("plan", "column_present", N), ("score", "unexpected_column", N)]


def test_extra_columns_pass_when_the_schema_is_not_strict(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    relaxed = dataclasses.replace(schema, strict=False)

    assert validate(data.assign(score=1.0), relaxed).passed


def test_every_kind_of_failure_is_reported_at_once_in_schema_order(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    data.loc[3, "age"] = 5
    data.loc[3, "plan"] = "gold"
    data.loc[4, "id"] = 3
    broken = data.drop(columns=["signup"]).assign(extra=0)

    report = validate(broken, schema)

    assert checks(report) == [
        ("id", "unique", 2),
        ("age", "in_range", 1),
        ("plan", "isin", 1),
        ("signup", "column_present", N),
        ("extra", "unexpected_column", N),
    ]


def test_a_stream_of_small_batches_reports_what_the_whole_table_does(
    data: pd.DataFrame, schema: DataSchema
) -> None:
    data.loc[[0, 150, 399], "id"] = 1  # repeats spread over many batches
    data.loc[[20, 220], "age"] = 0
    data.loc[[30, 330], "plan"] = "gold"
    data.loc[[40, 41, 390], "income"] = -3.0

    whole = validate(data, schema)
    streamed = validate(batches(data, 7), schema, chunk_rows=10)
    unbuffered = validate(batches(data, 7), schema, chunk_rows=1)

    assert checks(whole) == [
        ("id", "unique", 4),
        ("age", "in_range", 2),
        ("income", "in_range", 3),
        ("plan", "isin", 2),
    ]
    assert streamed == whole
    assert unbuffered == whole


def test_examples_are_capped_but_counts_are_not(data: pd.DataFrame, schema: DataSchema) -> None:
    data["age"] = -1

    report = validate(batches(data, 50), schema, max_examples=2)

    age = failure(report, "age", "in_range")
    assert (age.n_failing, len(age.examples)) == (N, 2)
    assert [e.row for e in age.examples] == [0, 1]


def test_coerce_converts_text_and_counts_what_does_not_convert() -> None:
    schema = DataSchema((ColumnSchema("age", "int64", max=100),), coerce=True)
    frame = pl.DataFrame({"age": ["31", "forty", "150", "2.5"]})

    report = validate(frame, schema)

    assert checks(report) == [("age", "dtype", 2), ("age", "in_range", 1)]
    assert failure(report, "age", "dtype").examples == (
        FailureExample(1, "forty"),
        FailureExample(3, "2.5"),
    )


def test_an_all_null_column_matches_any_nullable_dtype() -> None:
    schema = DataSchema((ColumnSchema("note", "string", nullable=True),))

    assert validate(pa.table({"note": pa.nulls(3)}), schema).passed


def test_timestamps_of_any_unit_and_zone_match_their_dtype_and_bounds() -> None:
    at = pd.Series(pd.to_datetime(["2024-01-01 01:00", "2024-01-01 02:30"]), dtype="M8[ns]")
    data = pd.DataFrame({"at": at.dt.tz_localize("Europe/Berlin")})
    schema = DataSchema(
        (ColumnSchema("at", "datetime_tz", max=datetime(2024, 1, 1, 1, tzinfo=UTC)),)
    )

    report = validate(data, schema)

    assert checks(report) == [("at", "in_range", 1)]
    assert failure(report, "at", "in_range").examples == (
        FailureExample(1, "2024-01-01T01:30:00+00:00"),
    )


def test_an_empty_table_still_has_its_columns_checked(schema: DataSchema) -> None:
    report = validate(pa.table({"id": pa.array([], pa.int64())}), schema)

    assert report.n_rows == 0
    assert [f.check for f in report.failures] == ["column_present"] * 4


def test_data_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="expected a pandas or polars DataFrame"):
        validate({"age": [1]}, DataSchema(()))
    with pytest.raises(ValidationError, match="item 1 of the stream is a dict"):
        validate([pa.record_batch({"a": [1]}), {"a": [2]}], DataSchema(()))


def test_the_pandera_schema_checks_the_same_rules(data: pd.DataFrame, schema: DataSchema) -> None:
    frame = pl.from_pandas(data).with_columns(pl.col("income").fill_nan(None))

    schema.to_pandera().validate(frame)
    with pytest.raises(pandera.errors.SchemaError, match="age"):
        schema.to_pandera().validate(frame.with_columns(age=pl.lit(0, pl.Int64)))


def test_no_examples_still_counts_every_failing_row(data: pd.DataFrame, schema: DataSchema) -> None:
    data.loc[[1, 2], "age"] = -1
    data.loc[[1, 2], "id"] = 0

    report = validate(data, schema, max_examples=0)

    assert checks(report) == [("id", "unique", 3), ("age", "in_range", 2)]
    assert all(f.examples == () for f in report.failures)
