"""Any table a user hands us, as a stream of normalised polars chunks with row offsets.

Validation and schema inference read data through :func:`iter_chunks`, so pandas, polars,
Arrow tables and streams of Arrow record batches behave alike and a large input never
sits in memory whole: in-memory tables are sliced (without copying where the library
allows), and a stream of small record batches is gathered into chunks of about
``chunk_rows`` rows, so per-chunk overhead stays small.

A pandas ``object`` column that mixes types (numbers and text, say) has no Arrow type;
it arrives as text with a :class:`MixedColumn` note, so the caller can name the column
instead of failing on the whole table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl
import pyarrow as pa

from loopml.core.errors import ValidationError
from loopml.datasets.dtypes import normalise

__all__ = ["CHUNK_ROWS", "Chunk", "MixedColumn", "TableLike", "iter_chunks"]

CHUNK_ROWS = 262_144

TableLike: TypeAlias = (
    pd.DataFrame | pl.DataFrame | pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch]
)
"""What validation and inference accept: a table, or an iterable of Arrow record batches."""

_ARROW_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


@dataclass(frozen=True, slots=True)
class MixedColumn:
    """A pandas object column whose values have different Python types.

    Attributes:
        values: The column's values in this chunk, as given.
        kind: pandas' name for the mix, e.g. ``mixed-integer``.
        is_text: Which values are ``str``.
    """

    values: pd.Series
    kind: str
    is_text: npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive rows of the data, normalised (see :func:`loopml.datasets.dtypes.normalise`).

    Attributes:
        frame: The rows; a mixed column holds each value's text.
        offset: The 0-based row number of the frame's first row in the whole data.
        mixed: The columns that mixed types, by name.
    """

    frame: pl.DataFrame
    offset: int
    mixed: Mapping[str, MixedColumn] = field(default_factory=dict)


def iter_chunks(data: TableLike, *, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """Yield ``data`` as chunks of about ``chunk_rows`` rows, in order.

    An in-memory table always yields at least one chunk, so an empty table still has its
    columns checked.

    Raises:
        ValidationError: if ``data`` is none of the accepted kinds, or a pandas frame
            has two columns of the same name.
    """
    if isinstance(data, pd.DataFrame):
        yield from _pandas_chunks(data, chunk_rows)
    elif isinstance(data, pl.DataFrame):
        for start in range(0, max(data.height, 1), chunk_rows):
            yield Chunk(normalise(data.slice(start, chunk_rows)), start)
    elif isinstance(data, pa.Table | pa.RecordBatch):
        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        for start in range(0, max(table.num_rows, 1), chunk_rows):
            yield Chunk(_from_arrow(table.slice(start, chunk_rows)), start)
    elif isinstance(data, Iterable) and not isinstance(data, str | bytes | Mapping):
        yield from _stream_chunks(data, chunk_rows)
    else:
        raise ValidationError(
            "data: expected a pandas or polars DataFrame, a pyarrow Table or an iterable "
            f"of pyarrow RecordBatches, got {type(data).__name__}",
            field="data",
        )


def _from_arrow(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)  # a Table always converts to a DataFrame
    return normalise(frame)


def _stream_chunks(batches: Iterable[pa.RecordBatch], chunk_rows: int) -> Iterator[Chunk]:
    buffer: list[pa.RecordBatch] = []
    n_buffered = offset = 0
    for i, batch in enumerate(batches):
        if not isinstance(batch, pa.RecordBatch):
            raise ValidationError(
                f"data: item {i} of the stream is a {type(batch).__name__}, "
                "expected a pyarrow RecordBatch",
                field="data",
            )
        if buffer and (n_buffered >= chunk_rows or not batch.schema.equals(buffer[0].schema)):
            yield Chunk(_from_arrow(pa.Table.from_batches(buffer)), offset)
            offset += n_buffered
            buffer, n_buffered = [], 0
        buffer.append(batch)
        n_buffered += batch.num_rows
    if buffer:
        yield Chunk(_from_arrow(pa.Table.from_batches(buffer)), offset)
    elif isinstance(batches, pa.RecordBatchReader):
        yield Chunk(_from_arrow(batches.schema.empty_table()), 0)


def _pandas_chunks(frame: pd.DataFrame, chunk_rows: int) -> Iterator[Chunk]:
    names = [str(name) for name in frame.columns]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise ValidationError(
            f"data: column {repeated[0]!r} appears more than once; rename or drop the copies",
            field=f"columns.{repeated[0]}",
        )
    for start in range(0, max(len(frame), 1), chunk_rows):
        part = frame.iloc[start : start + chunk_rows]
        try:
            table = pa.Table.from_pandas(part, preserve_index=False)
            yield Chunk(_from_arrow(table), start)
        except _ARROW_CONVERSION_ERRORS:
            yield _pandas_chunk_by_column(part, names, start)


def _pandas_chunk_by_column(part: pd.DataFrame, names: list[str], offset: int) -> Chunk:
    """Convert column by column, keeping the ones that mix types as text."""
    arrays: list[pa.Array | pa.ChunkedArray] = []
    mixed: dict[str, MixedColumn] = {}
    for position, name in enumerate(names):
        values = part.iloc[:, position]
        try:
            arrays.append(pa.Table.from_pandas(values.to_frame(), preserve_index=False)[0])
        except _ARROW_CONVERSION_ERRORS:
            is_text = _is_text(values)
            kind = pd.api.types.infer_dtype(values, skipna=True)
            mixed[name] = MixedColumn(values, kind, is_text)
            arrays.append(pa.array(values.astype("string"), type=pa.large_string()))
    table = pa.Table.from_arrays(arrays, names=names)
    return Chunk(_from_arrow(table), offset, mixed)


def _is_text(values: pd.Series) -> npt.NDArray[np.bool_]:
    """Which values are ``str``: ``.str.len()`` is null for the others, without a loop."""
    try:
        return values.str.len().notna().to_numpy(dtype=bool)
    except AttributeError:  # pandas refuses .str when no value is text
        return np.zeros(len(values), dtype=bool)
