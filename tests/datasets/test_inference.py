from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from loopml.core.errors import ValidationError
from loopml.datasets.inference import infer_schema
from loopml.datasets.schema import ColumnSchema, DataSchema


def customers(n: int = 500, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(n) * 3,
            "age": rng.integers(18, 90, n),
            "income": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(1.0, 9.0, n)),
            "plan": rng.choice(["basic", "pro", "enterprise"], n),
            "name": [f"customer-{i}" for i in range(n)],
            "signup": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) % 365, unit="D"),
            "churned": rng.random(n) < 0.2,
        }
    )


def test_inference_describes_types_nulls_ranges_categories_and_uniqueness() -> None:
    data = customers()

    schema = infer_schema(data, name="customers")

    income = data["income"]
    assert schema == DataSchema(
        (
            ColumnSchema("id", "int64", unique=True, min=0, max=1497),
            ColumnSchema("age", "int64", min=int(data.age.min()), max=int(data.age.max())),
            ColumnSchema("income", "float64", nullable=True, min=income.min(), max=income.max()),
            ColumnSchema("plan", "string", isin=("basic", "enterprise", "pro")),
            ColumnSchema("name", "string", unique=True),
            ColumnSchema(
                "signup", "datetime", min=datetime(2024, 1, 1), max=datetime(2024, 12, 30)
            ),
            ColumnSchema("churned", "bool"),
        ),
        name="customers",
        strict=True,
    )


def test_text_with_more_distinct_values_than_max_categories_gets_no_isin() -> None:
    schema = infer_schema(customers(), max_categories=2)

    assert schema.column("plan").isin is None


def test_pandas_polars_arrow_and_a_stream_of_batches_give_the_same_schema() -> None:
    data = customers()
    table = pa.Table.from_pandas(data, preserve_index=False)

    schemas = [
        infer_schema(data),
        infer_schema(pl.from_pandas(data)),
        infer_schema(table),
        infer_schema(table.to_batches(max_chunksize=16), chunk_rows=40),
    ]

    assert all(schema == schemas[0] for schema in schemas)


def test_a_value_repeated_in_a_later_batch_is_not_unique() -> None:
    first = pa.record_batch({"id": [1, 2, 3]})
    second = pa.record_batch({"id": [4, 5, 1]})

    schema = infer_schema([first, second], chunk_rows=3)

    assert not schema.column("id").unique


def test_categorical_dates_and_timezones_are_normalised() -> None:
    data = pd.DataFrame(
        {
            "colour": pd.Categorical(["red", "blue", "red"]),
            "day": [date(2024, 1, 2), date(2024, 1, 1), None],
            "at": pd.to_datetime(
                pd.Series(["2024-01-01 01:00", "2024-01-01 03:00", None])
            ).dt.tz_localize("Europe/Berlin"),
        }
    )

    schema = infer_schema(data)

    assert schema.column("colour") == ColumnSchema("colour", "string", isin=("blue", "red"))
    assert schema.column("day") == ColumnSchema(
        "day", "date", nullable=True, min=date(2024, 1, 1), max=date(2024, 1, 2)
    )
    assert schema.column("at") == ColumnSchema(
        "at",
        "datetime_tz",
        nullable=True,
        min=datetime(2024, 1, 1, 0, tzinfo=UTC),
        max=datetime(2024, 1, 1, 2, tzinfo=UTC),
    )


def test_columns_without_a_schema_dtype_are_any_and_all_null_columns_are_nullable() -> None:
    data = pl.DataFrame({"tags": [["a"], ["b", "c"]], "empty": [None, None]})

    schema = infer_schema(data)

    assert schema.column("tags") == ColumnSchema("tags", "any")
    assert schema.column("empty") == ColumnSchema("empty", "any", nullable=True)


def test_a_pandas_column_of_mixed_types_is_refused_naming_the_column() -> None:
    data = pd.DataFrame({"age": pd.Series([31, "forty", 52], dtype=object)})

    with pytest.raises(ValidationError, match="column 'age' mixes types") as caught:
        infer_schema(data)

    assert caught.value.field == "columns.age"
    assert "pd.to_numeric(df['age'], errors='coerce')" in str(caught.value)


def test_batches_that_disagree_on_a_type_are_refused_naming_the_row() -> None:
    batches = [pa.record_batch({"x": [1, 2]}), pa.record_batch({"x": ["a", "b"]})]

    with pytest.raises(ValidationError, match="column 'x' is int64 before row 2 and string"):
        infer_schema(batches)
