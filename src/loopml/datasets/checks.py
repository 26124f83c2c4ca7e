"""The seam to pandera: our schema in, pandera's failure cases out as our failures.

:func:`build_pandera` turns a :class:`~loopml.datasets.schema.DataSchema` into a
``pandera.polars.DataFrameSchema``; :func:`failures_from_cases` reads the
``failure_cases`` frame of a lazy validation (one row per failing value) back as
:class:`~loopml.core.validation_report.CheckFailure` records, grouped and counted in
polars rather than row by row.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import pandera.polars as pa
import polars as pl

from loopml.core.validation_report import CheckFailure, ExampleValue, FailureExample
from loopml.datasets.dtypes import ANY, dtype_name, polars_dtype

if TYPE_CHECKING:
    from loopml.datasets.schema import ColumnSchema, DataSchema

__all__ = [
    "CHECK_ORDER",
    "build_pandera",
    "count_checks",
    "example_value",
    "examples_at",
    "failures_from_cases",
]

CHECK_ORDER = ("column_present", "dtype", "nullable", "in_range", "isin", "unique")
"""The order a column's failures are reported in; ``unexpected_column`` comes last."""

_CHECK_NAMES = {
    "column_in_dataframe": "column_present",
    "column_in_schema": "unexpected_column",
    "not_nullable": "nullable",
    "field_uniqueness": "unique",
    "dtype": "dtype",
    "in_range": "in_range",
    "greater_than_or_equal_to": "in_range",
    "less_than_or_equal_to": "in_range",
    "isin": "isin",
}
_COLUMN_LEVEL = frozenset({"column_present", "unexpected_column", "dtype"})


def build_pandera(
    schema: DataSchema,
    *,
    coerce: bool = False,
    unique: bool = True,
    unchecked: Collection[str] = (),
) -> pa.DataFrameSchema:
    """The pandera schema that checks what ``schema`` asks for.

    Args:
        schema: Our schema.
        coerce: Let pandera convert columns to their dtype first.
        unique: Include the uniqueness checks (validation counts them across chunks itself).
        unchecked: Columns to check for presence only.
    """
    columns = {
        column.name: (
            pa.Column(None, nullable=True)
            if column.name in unchecked
            else _pandera_column(column, unique=unique)
        )
        for column in schema.columns
    }
    return pa.DataFrameSchema(
        columns, strict=schema.strict, coerce=coerce, name=schema.name or None
    )


def _pandera_column(column: ColumnSchema, *, unique: bool) -> pa.Column:
    checks = []
    if column.min is not None and column.max is not None:
        checks.append(pa.Check.in_range(column.min, column.max))
    elif column.min is not None:
        checks.append(pa.Check.ge(column.min))
    elif column.max is not None:
        checks.append(pa.Check.le(column.max))
    if column.isin is not None:
        checks.append(pa.Check.isin(list(column.isin)))
    dtype = None if column.dtype == ANY else polars_dtype(column.dtype)
    return pa.Column(dtype, checks, nullable=column.nullable, unique=column.unique and unique)


def count_checks(schema: DataSchema) -> int:
    """How many checks ``schema`` asks for: the ``n_checks`` of a report."""
    per_column = sum(
        1
        + (column.dtype != ANY)
        + (not column.nullable)
        + (column.min is not None or column.max is not None)
        + (column.isin is not None)
        + column.unique
        for column in schema.columns
    )
    return per_column + schema.strict


def failures_from_cases(
    cases: pl.DataFrame,
    frame: pl.DataFrame,
    schema: DataSchema,
    *,
    offset: int,
    max_examples: int,
) -> list[CheckFailure]:
    """Our failures for one chunk, from pandera's ``failure_cases`` of that chunk.

    Args:
        cases: ``SchemaErrors.failure_cases``: one row per failing value, or per failing
            column for checks on a whole column.
        frame: The chunk that was validated.
        schema: The schema it was validated against.
        offset: Row number of the chunk's first row in the whole data.
        max_examples: Examples to keep per failure.
    """
    groups = (
        cases.with_columns(
            # A check on the frame (a missing or an extra column) names it as the case.
            pl.when(pl.col("schema_context") == "DataFrameSchema")
            .then(pl.col("failure_case"))
            .otherwise(pl.col("column"))
            .alias("column"),
            pl.col("check")
            .str.extract(r"^(\w+)")
            .replace_strict(_CHECK_NAMES, default=pl.col("check")),
        )
        .group_by("column", "check", maintain_order=True)
        .agg(
            pl.len().alias("n"),
            pl.col("index").is_not_null().any().alias("per_row"),
            pl.col("index").drop_nulls().head(max_examples).alias("rows"),
            pl.col("failure_case").first().alias("case"),
        )
    )
    wrong_dtype = set(groups.filter(pl.col("check") == "dtype")["column"].to_list())
    failures = []
    for column, check, n, per_row, rows, case in groups.iter_rows():
        if column in wrong_dtype and check != "dtype":
            continue  # a column of the wrong type fails its value checks for that reason
        if check in _COLUMN_LEVEL or not per_row:
            n = frame.height  # the check failed for the column as a whole
        if check == "dtype":
            examples = examples_at(frame, column, range(min(frame.height, max_examples)), offset)
        elif check in _COLUMN_LEVEL:
            examples = ()
        elif not per_row:  # the check could not run (a polars error): show why
            examples = (FailureExample(row=None, value=str(case)[:200]),)
        else:
            examples = examples_at(frame, column, rows, offset)
        failures.append(
            CheckFailure(column, check, _describe(check, column, schema, frame), n, examples)
        )
    return failures


def examples_at(
    frame: pl.DataFrame, column: str, rows: Sequence[int] | range, offset: int
) -> tuple[FailureExample, ...]:
    """The values of ``column`` at chunk rows ``rows``, numbered as in the whole data."""
    values = frame[column].gather(list(rows)).to_list()
    return tuple(
        FailureExample(row=offset + row, value=example_value(value))
        for row, value in zip(rows, values, strict=True)
    )


def example_value(value: Any) -> ExampleValue:
    """A failing value as JSON carries it: ISO text for dates, text for the unusual."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:200]


def _describe(check: str, column: str, schema: DataSchema, frame: pl.DataFrame) -> str:
    if check == "unexpected_column":
        return (
            "not in the schema (strict: true); drop it, add it to the schema or set strict: false"
        )
    if check == "column_present":
        return "missing from the data"
    spec = schema.column(column)
    if check == "dtype":
        return f"expected {spec.dtype}, got {dtype_name(frame.schema[column])}"
    if check == "nullable":
        return "null values in a column that is not nullable"
    if check == "in_range":
        if spec.min is not None and spec.max is not None:
            return f"values outside [{spec.min}, {spec.max}]"
        return f"values below {spec.min}" if spec.min is not None else f"values above {spec.max}"
    if check == "isin":
        allowed = spec.isin or ()
        shown = ", ".join(repr(value) for value in allowed[:5])
        more = f" and {len(allowed) - 5} more" if len(allowed) > 5 else ""
        return f"values not among the {len(allowed)} allowed: {shown}{more}"
    if check == "unique":
        return "values that occur more than once"
    return f"failed pandera check {check}"
