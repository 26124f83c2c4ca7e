"""Propose a data schema from data: the starting point a user then edits and keeps.

:func:`infer_schema` reads the data once, chunk by chunk, and describes exactly what it
saw: each column's dtype, whether it had nulls, its range (numbers, dates, datetimes), its
allowed values (text with few distinct values) and whether every value was distinct
(whole numbers and text; uniqueness is counted across chunks, so a stream gives the same
schema as the whole table).

>>> import polars as pl
>>> frame = pl.DataFrame({"id": [1, 2, 3], "plan": ["pro", "basic", "pro"]})
>>> schema = infer_schema(frame)
>>> [(c.name, c.dtype, c.unique, c.isin) for c in schema.columns]
[('id', 'int64', True, None), ('plan', 'string', False, ('basic', 'pro'))]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from loopml.core.errors import ValidationError
from loopml.datasets.dtypes import ANY, DTYPES, INTEGER_DTYPES, NUMERIC_DTYPES, TEMPORAL_DTYPES
from loopml.datasets.dtypes import dtype_name as polars_name
from loopml.datasets.frames import CHUNK_ROWS, Chunk, TableLike, iter_chunks
from loopml.datasets.schema import ColumnSchema, DataSchema
from loopml.datasets.uniqueness import DuplicateCounter

__all__ = ["infer_schema"]


@dataclass
class _Seen:
    """What the chunks so far showed of one column."""

    dtype: str | None = None  # None while every chunk was all null
    n_null: int = 0
    n_values: int = 0
    min: Any = None
    max: Any = None
    categories: set[Any] | None = field(default_factory=set)  # None: too many
    maybe_unique: bool = True


def infer_schema(
    data: TableLike,
    *,
    max_categories: int = 50,
    name: str = "",
    strict: bool = True,
    chunk_rows: int = CHUNK_ROWS,
) -> DataSchema:
    """Describe ``data`` as a schema that it passes.

    Args:
        data: A pandas or polars DataFrame, a pyarrow Table, or an iterable of pyarrow
            RecordBatches (read once).
        max_categories: A text column with at most this many distinct values gets them
            as its allowed values (``isin``).
        name: The schema's name.
        strict: Whether the schema refuses columns it does not list.
        chunk_rows: About how many rows to read at once.

    Raises:
        ValidationError: naming the column, if a column has no single type (a pandas
            object column of mixed values, or a stream whose batches disagree).
    """
    seen: dict[str, _Seen] = {}
    with DuplicateCounter(()) as counter:
        for chunk in iter_chunks(data, chunk_rows=chunk_rows):
            _refuse_mixed(chunk)
            for column in chunk.frame.columns:
                seen.setdefault(column, _Seen(n_null=chunk.offset))
            _observe(chunk, seen, max_categories)
            candidates = [c for c, s in seen.items() if s.maybe_unique and _may_be_unique(s)]
            counter.update(chunk.frame, offset=chunk.offset, columns=candidates)
        columns = tuple(_column(column, stats, counter) for column, stats in seen.items())
    return DataSchema(columns, name=name, strict=strict)


def _refuse_mixed(chunk: Chunk) -> None:
    for column, mixed in chunk.mixed.items():
        raise ValidationError(
            f"column {column!r} mixes types ({mixed.kind}) in a pandas object column, so "
            "it has no single dtype; convert it first, e.g. "
            f"pd.to_numeric(df[{column!r}], errors='coerce') or df[{column!r}].astype('string')",
            field=f"columns.{column}",
        )


def _observe(chunk: Chunk, seen: dict[str, _Seen], max_categories: int) -> None:
    """Fold one chunk's dtypes, null counts, ranges and distinct values into ``seen``."""
    frame = chunk.frame
    names = {column: _dtype_name(dtype) for column, dtype in frame.schema.items()}
    ranged = [c for c, name in names.items() if name in NUMERIC_DTYPES | TEMPORAL_DTYPES]
    counted = [c for c, name in names.items() if name in INTEGER_DTYPES or name == "string"]
    nulls = frame.null_count().row(0, named=True)
    lows = _one_row(frame, pl.col(ranged).min()) if ranged else {}
    highs = _one_row(frame, pl.col(ranged).max()) if ranged else {}
    distinct = _one_row(frame, pl.col(counted).drop_nulls().n_unique()) if counted else {}
    for column, stats in seen.items():
        if column not in names:  # a batch without the column: its rows lack a value
            stats.n_null += frame.height
            continue
        name = names[column]
        if name is not None and stats.dtype not in (None, name):
            raise ValidationError(
                f"column {column!r} is {stats.dtype} before row {chunk.offset} and {name} "
                "from there on; give every batch the same column types",
                field=f"columns.{column}",
            )
        stats.dtype = name or stats.dtype
        stats.n_null += nulls[column]
        stats.n_values += frame.height - nulls[column]
        if lows.get(column) is not None:
            stats.min = lows[column] if stats.min is None else min(stats.min, lows[column])
            stats.max = highs[column] if stats.max is None else max(stats.max, highs[column])
        n_distinct = distinct.get(column)
        if n_distinct is not None and n_distinct < frame.height - nulls[column]:
            stats.maybe_unique = False
        if name == "string" and stats.categories is not None:
            stats.categories = _union(stats.categories, frame[column], n_distinct, max_categories)


def _one_row(frame: pl.DataFrame, aggregate: pl.Expr) -> dict[str, Any]:
    return frame.select(aggregate).row(0, named=True)


def _dtype_name(dtype: pl.DataType) -> str | None:
    """The schema dtype of a polars type; None for an all-null column, ``any`` if unknown."""
    if dtype == pl.Null:
        return None
    name = polars_name(dtype)
    return name if name in DTYPES else ANY


def _union(
    categories: set[Any], values: pl.Series, n_distinct: int | None, limit: int
) -> set[Any] | None:
    """The categories seen so far with this chunk's, or None once there are too many."""
    if n_distinct is None or n_distinct > limit:
        return None
    categories = categories | set(values.drop_nulls().unique().to_list())
    return categories if len(categories) <= limit else None


def _may_be_unique(stats: _Seen) -> bool:
    return stats.dtype in INTEGER_DTYPES or stats.dtype == "string"


def _column(column: str, stats: _Seen, counter: DuplicateCounter) -> ColumnSchema:
    dtype = stats.dtype or ANY
    unique = (
        stats.maybe_unique
        and _may_be_unique(stats)
        and stats.n_values > 1
        and counter.duplicates(column, max_examples=0).n_rows == 0
    )
    isin = None
    if dtype == "string" and not unique and stats.categories:
        isin = tuple(sorted(stats.categories))
    return ColumnSchema(
        column,
        dtype,
        nullable=stats.n_null > 0,
        unique=unique,
        min=stats.min,
        max=stats.max,
        isin=isin,
    )
