"""The column types a model signature speaks, and how pandas, numpy and Arrow types map to them.

A signature names each column's type with one word from :data:`DTYPES`: numpy's names for
the numeric types (``int64``, ``float32`` ...), and ``bool``, ``string``, ``binary``,
``category``, ``datetime``, ``timedelta`` or ``object`` (anything; not checked).

>>> import pandas as pd
>>> pandas_dtype_name(pd.Series([1.5, 2.0]))
'float64'
>>> pandas_dtype_name(pd.Series(["a", None], dtype=object))
'string'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "DTYPES",
    "FLOAT_DTYPES",
    "INT_DTYPES",
    "arrow_type_name",
    "numpy_dtype",
    "pandas_dtype_name",
]

INT_DTYPES = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})
FLOAT_DTYPES = frozenset({"float16", "float32", "float64"})
DTYPES = (
    INT_DTYPES
    | FLOAT_DTYPES
    | {"bool", "string", "binary", "category", "datetime", "timedelta", "object"}
)
_OBJECT_KINDS = {"string": "string", "bytes": "binary", "boolean": "bool"}


def numpy_dtype(name: str) -> np.dtype[Any] | None:
    """The numpy dtype a column of type ``name`` holds without conversion, if there is one.

    >>> numpy_dtype("int32"), numpy_dtype("string")
    (dtype('int32'), None)
    """
    if name in INT_DTYPES or name in FLOAT_DTYPES or name == "bool":
        return np.dtype(name)
    return None


def pandas_dtype_name(series: pd.Series[Any]) -> str:
    """The signature type of a pandas column (object columns are looked at, vectorised)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if isinstance(dtype, pd.ArrowDtype):
        return arrow_type_name(dtype.pyarrow_dtype)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "datetime"
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        # The masked types (Int64, Float32, boolean) carry a numpy dtype for their values.
        inner = getattr(dtype, "numpy_dtype", None)
        return _numpy_name(np.dtype(inner)) if inner is not None else "object"
    if dtype.kind == "O":
        kind = pd.api.types.infer_dtype(series, skipna=True)
        return _OBJECT_KINDS.get(kind, "object")
    return _numpy_name(dtype)


def arrow_type_name(arrow_type: pa.DataType) -> str:
    """The signature type of an Arrow column (polars frames are read through Arrow).

    >>> arrow_type_name(pa.large_string()), arrow_type_name(pa.float32())
    ('string', 'float32')
    """
    types = pa.types
    if types.is_boolean(arrow_type):
        return "bool"
    if types.is_integer(arrow_type) or types.is_floating(arrow_type):
        return str(np.dtype(arrow_type.to_pandas_dtype()).name)
    if types.is_string(arrow_type) or types.is_large_string(arrow_type):
        return "string"
    if types.is_string_view(arrow_type):
        return "string"
    if types.is_binary(arrow_type) or types.is_large_binary(arrow_type):
        return "binary"
    if types.is_dictionary(arrow_type):
        return "category"
    if types.is_timestamp(arrow_type) or types.is_date(arrow_type):
        return "datetime"
    if types.is_duration(arrow_type):
        return "timedelta"
    return "object"


def _numpy_name(dtype: np.dtype[Any]) -> str:
    if dtype.kind == "b":
        return "bool"
    if dtype.kind in "iuf":
        return dtype.name
    if dtype.kind == "M":
        return "datetime"
    if dtype.kind == "m":
        return "timedelta"
    if dtype.kind in "US":
        return "string" if dtype.kind == "U" else "binary"
    return "object"
