"""Make input fit a model's signature, or say exactly which columns do not.

Enforcement runs on every ``predict``, so it is a handful of vectorised checks per call,
never a loop over rows: when the columns and their dtypes already match (the usual case)
it costs a column-name and a dtype comparison. Otherwise, column by column:

- a missing column is an error that lists the missing and the expected columns;
- extra columns are dropped and the rest put in the signature's order;
- safe conversions are made (an int or bool column into a float one, a narrower int
  into a wider one, an int into a narrower one when every value fits, text into a
  category);
- anything else (text in an int column, fractions in an int column ...) is an error that
  names the column, the expected and the found type.

>>> import pandas as pd
>>> from loopml.flavors.signature import ColumnSpec, Signature
>>> signature = Signature((ColumnSpec("x", "float64"), ColumnSpec("n", "int64")))
>>> enforce(signature, pd.DataFrame({"n": [1], "x": [2], "extra": ["?"]})).dtypes.tolist()
[dtype('float64'), dtype('int64')]
>>> enforce(signature, pd.DataFrame({"x": [1.0], "n": ["three"]}))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
loopml.flavors.errors.SignatureError: ... column 'n': expected int64, found string
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loopml.flavors.dtypes import FLOAT_DTYPES, INT_DTYPES, numpy_dtype, pandas_dtype_name
from loopml.flavors.errors import SignatureError
from loopml.flavors.frames import as_pandas
from loopml.flavors.signature import ColumnSpec, Signature

__all__ = ["Enforcer", "enforce"]

_NUMERIC = INT_DTYPES | FLOAT_DTYPES | {"bool"}
_SAME_FAMILY = {
    "string": {"string", "category"},
    "category": {"category", "string"},
    "binary": {"binary"},
    "datetime": {"datetime"},
    "timedelta": {"timedelta"},
}


class Enforcer:
    """A signature compiled for fast checks; call it with the input of each predict.

    Args:
        signature: The signature to enforce.
    """

    def __init__(self, signature: Signature) -> None:
        self.signature = signature
        self._specs = signature.inputs
        self._names = list(signature.input_names)
        self._dtypes = [numpy_dtype(spec.dtype) for spec in self._specs]

    def __call__(self, data: object) -> pd.DataFrame:
        """``data`` as a pandas frame with exactly the signature's columns and types.

        Raises:
            SignatureError: A column is missing or has a type that cannot be converted.
            ValidationError: ``data`` is not a table.
        """
        frame = as_pandas(data, names=self._names)
        if list(frame.columns) != self._names:
            frame = self._select(frame)
        # Fast path: numpy int, bool and float columns cannot hold a null that breaks a
        # model (NaN in a float column is a value), so equal dtypes need no other check.
        if frame.dtypes.tolist() == self._dtypes:
            return frame
        return self._convert(frame)

    def _select(self, frame: pd.DataFrame) -> pd.DataFrame:
        present = set(frame.columns)
        missing = [name for name in self._names if name not in present]
        if missing:
            raise SignatureError(
                f"the input lacks column(s) {', '.join(map(repr, missing))}; the model "
                f"expects {', '.join(map(repr, self._names))} (extra columns are dropped)",
                missing=missing,
            )
        return frame[self._names]

    def _convert(self, frame: pd.DataFrame) -> pd.DataFrame:
        problems: list[str] = []
        converted: dict[str, pd.Series[Any]] = {}
        for spec, dtype in zip(self._specs, self._dtypes, strict=True):
            series = frame[spec.name]
            if dtype is not None and series.dtype == dtype:
                continue
            result = _coerce(spec, series)
            if isinstance(result, str):
                problems.append(f"column {spec.name!r}: {result}")
            elif result is not series:
                converted[spec.name] = result
        if problems:
            raise SignatureError(
                "the input does not match the model's signature: " + "; ".join(problems),
                problems=problems,
            )
        if converted:
            frame = frame.copy(deep=False)
            for name, series in converted.items():
                frame[name] = series
        return frame


def enforce(signature: Signature, data: object) -> pd.DataFrame:
    """``data`` made to fit ``signature`` (see the module docstring for the rules)."""
    return Enforcer(signature)(data)


def _coerce(spec: ColumnSpec, series: pd.Series[Any]) -> pd.Series[Any] | str:
    """The column converted to ``spec``, or the reason it cannot be."""
    expected = spec.dtype
    if expected == "object":
        return series
    found = pandas_dtype_name(series)
    if expected not in FLOAT_DTYPES and not spec.nullable and _has_nulls(series):
        return f"has missing values, but the model's signature says {expected} without any"
    if expected in _NUMERIC:
        return _coerce_numeric(spec, series, found)
    if found in _SAME_FAMILY[expected]:
        return series.astype("category") if expected != found == "string" else series
    return f"expected {expected}, found {found}"


def _coerce_numeric(spec: ColumnSpec, series: pd.Series[Any], found: str) -> pd.Series[Any] | str:
    expected = spec.dtype
    mismatch = f"expected {expected}, found {found}"
    if found not in _NUMERIC:
        return mismatch
    if found == expected and _has_nulls(series):
        return series  # a nullable column (pandas' Int64, boolean) keeps its missing values
    if expected in FLOAT_DTYPES or found == "bool" or found == expected:
        return _astype(series, expected, mismatch)
    if expected == "bool":
        return mismatch
    if found in FLOAT_DTYPES:
        if spec.nullable and _whole_or_missing(series):
            return series  # an int column with gaps arrives as floats; keep the NaN
        return f"{mismatch} (fractions or missing values cannot become {expected})"
    if np.can_cast(np.dtype(found), np.dtype(expected), casting="safe") or _fits(series, expected):
        return _astype(series, expected, mismatch)
    return f"{mismatch} with values outside the {expected} range"


def _astype(series: pd.Series[Any], dtype: str, mismatch: str) -> pd.Series[Any] | str:
    try:
        converted: pd.Series[Any] = series.astype(np.dtype(dtype))
    except (TypeError, ValueError):  # e.g. a missing value that the target type cannot hold
        return f"{mismatch} (its values cannot all become {dtype})"
    return converted


def _has_nulls(series: pd.Series[Any]) -> bool:
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iub":
        return False  # a numpy int or bool column cannot hold a null
    return bool(series.isna().any())


def _whole_or_missing(series: pd.Series[Any]) -> bool:
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return bool(np.all(np.isnan(values) | (values == np.floor(values))))


def _fits(series: pd.Series[Any], expected: str) -> bool:
    info = np.iinfo(np.dtype(expected))
    if series.empty:
        return True
    return bool(series.min() >= info.min and series.max() <= info.max)
