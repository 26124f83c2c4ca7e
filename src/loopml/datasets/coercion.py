"""Convert a column to a schema dtype, finding the values that do not convert.

A schema with ``coerce: true`` converts each column before checking it, as pandera's
``coerce`` does; unlike a plain cast, a value that is lost on the way (text that is no
number, 1.5 cast to an integer, 300 cast to ``int8``) is reported, not silently nulled
or truncated.

>>> import polars as pl
>>> coerced = coerce_column(pl.Series("age", ["31", "x", None, "2.5"]), "int64")
>>> coerced.values.to_list(), coerced.failing.to_list()
([31, None, None, None], [False, True, False, True])
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from loopml.datasets.dtypes import polars_dtype

__all__ = ["Coerced", "coerce_column"]


@dataclass(frozen=True, slots=True)
class Coerced:
    """A converted column; ``failing`` marks the values that did not convert (now null)."""

    values: pl.Series
    failing: pl.Series


def coerce_column(series: pl.Series, dtype: str) -> Coerced | None:
    """Convert ``series`` to the schema dtype ``dtype``, or None if polars cannot at all."""
    target = polars_dtype(dtype)
    try:
        if series.dtype == pl.String and dtype in ("date", "datetime", "datetime_tz"):
            values = _parse_temporal(series, dtype)
        else:
            values = series.cast(target, strict=False)
            if series.dtype.is_numeric() and target.is_numeric():
                lost = values.cast(series.dtype, strict=False) != series
                values = values.set(lost.fill_null(False), None)
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError):
        return None
    failing = series.is_not_null() & values.is_null()
    return Coerced(values.alias(series.name), failing)


def _parse_temporal(series: pl.Series, dtype: str) -> pl.Series:
    if dtype == "date":
        return series.str.to_date(strict=False)
    values = series.str.to_datetime(time_unit="us", strict=False)
    aware = isinstance(values.dtype, pl.Datetime) and values.dtype.time_zone is not None
    if aware:  # text with offsets: the instant in UTC
        values = values.dt.convert_time_zone("UTC")
    if dtype == "datetime":
        return values.dt.replace_time_zone(None) if aware else values
    return values if aware else values.dt.replace_time_zone("UTC")
