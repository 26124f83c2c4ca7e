"""Validate data against a :class:`~loopml.datasets.schema.DataSchema`, chunk by chunk.

:func:`validate` reads the data through :func:`loopml.datasets.frames.iter_chunks`, so a
stream of record batches is never held whole. Each chunk goes through pandera's lazy
validation, which collects every failing value rather than stopping at the first; the
failures of all chunks are summed per column and check, keeping the first few examples.
Uniqueness is counted across chunks by :class:`~loopml.datasets.uniqueness.DuplicateCounter`.

Nothing pandera raises escapes: a failed check, a missing column, a column of the wrong
type, or a pandas column of mixed types all become failures in the report.

>>> import polars as pl
>>> from loopml.datasets.schema import ColumnSchema, DataSchema
>>> schema = DataSchema((ColumnSchema("age", "int64", min=0, max=120),))
>>> report = validate(pl.DataFrame({"age": [31, -1, 200]}), schema)
>>> print(report.summary())
validation failed: 1 of 4 checks on 3 rows
  age: in_range: 2 failing rows: values outside [0, 120]; e.g. row 1: -1, row 2: 200
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl
from pandera.errors import SchemaError, SchemaErrors

from loopml.core.validation_report import CheckFailure, FailureExample, ValidationReport
from loopml.datasets.checks import (
    CHECK_ORDER,
    build_pandera,
    count_checks,
    example_value,
    examples_at,
    failures_from_cases,
)
from loopml.datasets.coercion import coerce_column
from loopml.datasets.dtypes import ANY, polars_dtype
from loopml.datasets.frames import CHUNK_ROWS, Chunk, MixedColumn, TableLike, iter_chunks
from loopml.datasets.schema import ColumnSchema, DataSchema
from loopml.datasets.uniqueness import DuplicateCounter

__all__ = ["MAX_EXAMPLES", "validate"]

MAX_EXAMPLES = 5

_Key = tuple[str | None, str]


def validate(
    data: TableLike,
    schema: DataSchema,
    *,
    max_examples: int = MAX_EXAMPLES,
    chunk_rows: int = CHUNK_ROWS,
) -> ValidationReport:
    """Check ``data`` against ``schema`` and report every failed check.

    Args:
        data: A pandas or polars DataFrame, a pyarrow Table, or an iterable of pyarrow
            RecordBatches (read once, batch by batch).
        schema: The rules to check.
        max_examples: Failing values to keep per failed check.
        chunk_rows: About how many rows to validate at once.

    Returns:
        The report; ``report.passed`` is True when no check failed.

    Raises:
        ValidationError: if ``data`` is not a table loopml can read.
    """
    unique = [column.name for column in schema.columns if column.unique]
    failures: dict[_Key, CheckFailure] = {}
    n_rows = 0
    with DuplicateCounter(unique) as counter:
        for chunk in iter_chunks(data, chunk_rows=chunk_rows):
            frame, found, wrong_type = _check_chunk(chunk, schema, max_examples)
            tracked = [name for name in unique if name not in wrong_type]
            counter.update(frame, offset=chunk.offset, columns=tracked)
            _merge(failures, found, max_examples)
            n_rows += frame.height
        _merge(failures, _duplicate_failures(counter, unique, max_examples), max_examples)
    return ValidationReport(
        n_rows=n_rows,
        n_checks=count_checks(schema),
        failures=_in_schema_order(failures.values(), schema),
        schema_name=schema.name or None,
        schema_hash=schema.fingerprint,
    )


def _check_chunk(
    chunk: Chunk, schema: DataSchema, max_examples: int
) -> tuple[pl.DataFrame, list[CheckFailure], set[str]]:
    """Validate one chunk: the frame as checked, its failures, columns of the wrong type."""
    frame, failures, unchecked, converted = _convert(chunk, schema, max_examples)
    try:
        build_pandera(schema, unique=False, unchecked=unchecked).validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = _without_converted(exc.failure_cases, converted)
        failures += failures_from_cases(
            cases, frame, schema, offset=chunk.offset, max_examples=max_examples
        )
    except SchemaError as exc:  # lazy validation collects them all, but never let one out
        failures.append(CheckFailure(None, "schema", str(exc).splitlines()[0], frame.height))
    wrong_type = unchecked | {f.column for f in failures if f.check == "dtype" and f.column}
    return frame, failures, wrong_type - set(converted)


def _convert(
    chunk: Chunk, schema: DataSchema, max_examples: int
) -> tuple[pl.DataFrame, list[CheckFailure], set[str], dict[str, pl.Series]]:
    """Bring columns to their schema dtype where allowed, before pandera checks them.

    Returns:
        The converted frame; the failures found on the way; the columns pandera must not
        check (pandas columns of mixed types); and for each coerced column the rows whose
        values did not convert.
    """
    frame, failures, unchecked = chunk.frame, [], set()
    converted: dict[str, pl.Series] = {}
    for spec in schema.columns:
        if spec.name not in frame.columns or spec.dtype == ANY:
            continue
        if spec.name in chunk.mixed:
            unchecked.add(spec.name)
            failures.append(_mixed_failure(chunk.mixed[spec.name], spec, chunk, max_examples))
            continue
        series = frame[spec.name]
        if series.dtype == polars_dtype(spec.dtype) or not (
            schema.coerce or series.dtype == pl.Null
        ):
            continue
        coerced = coerce_column(series, spec.dtype)
        if coerced is None:
            continue  # polars has no such conversion: pandera reports the dtype
        frame = frame.with_columns(coerced.values)
        if coerced.failing.any():
            rows = converted[spec.name] = coerced.failing.arg_true()
            examples = examples_at(
                chunk.frame, spec.name, rows.head(max_examples).to_list(), chunk.offset
            )
            description = f"values that cannot be converted to {spec.dtype}"
            failures.append(CheckFailure(spec.name, "dtype", description, len(rows), examples))
    return frame, failures, unchecked, converted


def _duplicate_failures(
    counter: DuplicateCounter, columns: list[str], max_examples: int
) -> list[CheckFailure]:
    failures = []
    for name in columns:
        duplicates = counter.duplicates(name, max_examples=max_examples)
        if duplicates.n_rows:
            examples = tuple(
                FailureExample(row, example_value(value)) for row, value in duplicates.examples
            )
            description = "values that occur more than once"
            failures.append(CheckFailure(name, "unique", description, duplicates.n_rows, examples))
    return failures


def _without_converted(cases: pl.DataFrame, converted_rows: dict[str, pl.Series]) -> pl.DataFrame:
    """Drop the null failures that coercion made: those rows already failed ``dtype``."""
    for name, rows in converted_rows.items():
        made_null = (
            (pl.col("column") == name)
            & (pl.col("check") == "not_nullable")
            & pl.col("index").is_in(rows.implode())
        )
        cases = cases.filter(~made_null.fill_null(False))
    return cases


def _mixed_failure(
    mixed: MixedColumn, spec: ColumnSchema, chunk: Chunk, max_examples: int
) -> CheckFailure:
    """The dtype failure of a pandas object column that mixes types."""
    present = mixed.values.notna().to_numpy(dtype=bool)
    failing = present & ~mixed.is_text if spec.dtype == "string" else mixed.is_text
    if not failing.any():
        failing = present
    rows = np.flatnonzero(failing)
    values = mixed.values.iloc[rows[:max_examples]].tolist()
    if spec.dtype == "string":
        fix = f"df[{spec.name!r}].astype('string')"
    elif spec.dtype in ("date", "datetime", "datetime_tz"):
        fix = f"pd.to_datetime(df[{spec.name!r}], errors='coerce')"
    else:
        fix = f"pd.to_numeric(df[{spec.name!r}], errors='coerce')"
    return CheckFailure(
        spec.name,
        "dtype",
        f"expected {spec.dtype}, but this pandas object column mixes types ({mixed.kind}); "
        f"convert it first: {fix}",
        len(rows),
        tuple(
            FailureExample(chunk.offset + int(row), example_value(value))
            for row, value in zip(rows[:max_examples], values, strict=True)
        ),
    )


def _merge(into: dict[_Key, CheckFailure], found: Iterable[CheckFailure], limit: int) -> None:
    for failure in found:
        key = (failure.column, failure.check)
        seen = into.get(key)
        if seen is None:
            into[key] = failure
        else:
            into[key] = CheckFailure(
                seen.column,
                seen.check,
                seen.description,
                seen.n_failing + failure.n_failing,
                (seen.examples + failure.examples)[:limit],
            )


def _in_schema_order(
    failures: Iterable[CheckFailure], schema: DataSchema
) -> tuple[CheckFailure, ...]:
    """Schema columns in schema order, each in CHECK_ORDER; extra columns after them."""
    position = {name: i for i, name in enumerate(schema.column_names)}
    ordered = list(failures)
    extra = {f.column: i for i, f in enumerate(ordered) if f.column not in position}

    def key(failure: CheckFailure) -> tuple[int, int, int]:
        check = CHECK_ORDER.index(failure.check) if failure.check in CHECK_ORDER else 99
        if failure.column in position:
            return (0, position[failure.column], check)
        return (1, extra[failure.column], check)

    return tuple(sorted(ordered, key=key))
