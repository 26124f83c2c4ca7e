"""The column types a data schema speaks, and how they map to polars.

Data reaches validation as polars frames whatever its source (pandas, polars, Arrow), after
:func:`normalise` has made equal things look equal: categories become strings, NaN becomes
null (as in pandas), timestamps become microseconds and timezone-aware ones move to UTC.
So ``datetime`` matches any unit, and a pandas ``category`` column is a ``string`` column
whose values a schema can restrict with ``isin``.

>>> polars_dtype("int64")
Int64
>>> dtype_name(polars_dtype("datetime_tz"))
'datetime_tz'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import polars as pl

__all__ = [
    "ANY",
    "DTYPES",
    "INTEGER_DTYPES",
    "NUMERIC_DTYPES",
    "TEMPORAL_DTYPES",
    "dtype_name",
    "normalise",
    "polars_dtype",
]

ANY = "any"
"""A column whose values may have any type: the schema checks presence and nulls only."""

DTYPES: Mapping[str, pl.DataType] = MappingProxyType(
    {
        "bool": pl.Boolean(),
        "int8": pl.Int8(),
        "int16": pl.Int16(),
        "int32": pl.Int32(),
        "int64": pl.Int64(),
        "uint8": pl.UInt8(),
        "uint16": pl.UInt16(),
        "uint32": pl.UInt32(),
        "uint64": pl.UInt64(),
        "float32": pl.Float32(),
        "float64": pl.Float64(),
        "string": pl.String(),
        "date": pl.Date(),
        "datetime": pl.Datetime("us"),
        "datetime_tz": pl.Datetime("us", "UTC"),
    }
)
"""Every dtype name a schema accepts besides ``any``, with the polars type it checks for."""

INTEGER_DTYPES = frozenset(name for name in DTYPES if "int" in name)
NUMERIC_DTYPES = INTEGER_DTYPES | {"float32", "float64"}
TEMPORAL_DTYPES = frozenset({"date", "datetime", "datetime_tz"})
_NAMES = {dtype: name for name, dtype in DTYPES.items()}


def polars_dtype(name: str) -> pl.DataType:
    """The polars type of a schema dtype name (``any`` has none: see :data:`ANY`)."""
    return DTYPES[name]


def dtype_name(dtype: pl.DataType) -> str:
    """The schema name of a (normalised) polars type, or its polars name if it has none.

    >>> dtype_name(pl.Time())
    'time'
    """
    return _NAMES.get(dtype, str(dtype).lower())


def normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """Make equal data look equal, column by column, without copying untouched columns."""
    changes = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.Categorical | pl.Enum):
            changes.append(column.cast(pl.String))
        elif dtype.is_float():
            changes.append(column.fill_nan(None))
        elif isinstance(dtype, pl.Datetime) and (
            dtype.time_unit != "us" or dtype.time_zone not in (None, "UTC")
        ):
            if dtype.time_zone is not None:
                column = column.dt.convert_time_zone("UTC")
            changes.append(column.dt.cast_time_unit("us"))
    return frame.with_columns(changes) if changes else frame
