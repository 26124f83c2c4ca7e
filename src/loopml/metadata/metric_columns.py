"""Metric points and series checked and gathered into numpy columns, one set per key.

``log_batch`` takes single :class:`~loopml.core.entities.Metric` points and whole
:class:`~loopml.core.entities.MetricSeries`; both become one :class:`KeyColumns` per key
(the series of a key first, in the order given, then its single points), which the store
writes as chunks. A series is checked column by column with numpy, so the cost per point
is a few nanoseconds; a bad value raises the same :class:`ValidationError`, naming the
same field, as the per-point checks of :mod:`loopml.core.validation`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from loopml.core.entities import Metric, MetricSeries
from loopml.core.errors import ValidationError
from loopml.core.validation import check_key, check_metric_value, check_step

__all__ = ["FLOAT", "INT", "KeyColumns", "check_timestamp", "columns_by_key"]

# Little-endian whatever the machine, because the columns are stored as their bytes.
INT = np.dtype("<i8")
FLOAT = np.dtype("<f8")

_INT_MAX = np.iinfo(INT).max

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class KeyColumns:
    """Checked points of one key: equal-length ``int64``/``int64``/``float64`` columns."""

    key: str
    steps: IntArray
    timestamps: IntArray
    values: FloatArray

    def __len__(self) -> int:
        return len(self.values)


def check_timestamp(key: str, timestamp: object) -> int:
    """Return ``timestamp`` as an int (non-negative integer milliseconds since the epoch)."""
    if (
        isinstance(timestamp, int | np.integer)
        and not isinstance(timestamp, bool)
        and timestamp >= 0
    ):
        return int(timestamp)
    raise ValidationError(
        f"metric {key!r}: timestamp must be integer milliseconds since the epoch, "
        f"got {timestamp!r}",
        field=f"metrics.{key}.timestamp",
    )


def columns_by_key(metrics: Sequence[Metric], series: Sequence[MetricSeries]) -> list[KeyColumns]:
    """Check every point and gather them per key, in the order the keys first appear.

    Raises:
        ValidationError: a bad key, value, step or timestamp, or columns of unequal length.
    """
    parts: dict[str, list[KeyColumns]] = {}
    for one in series:
        columns = _check_series(one)
        parts.setdefault(columns.key, []).append(columns)
    for columns in _check_points(metrics):
        parts.setdefault(columns.key, []).append(columns)
    return [_concatenate(key, pieces) for key, pieces in parts.items() if sum(map(len, pieces))]


def _concatenate(key: str, pieces: list[KeyColumns]) -> KeyColumns:
    if len(pieces) == 1:
        return pieces[0]
    return KeyColumns(
        key,
        np.concatenate([p.steps for p in pieces]),
        np.concatenate([p.timestamps for p in pieces]),
        np.concatenate([p.values for p in pieces]),
    )


def _check_points(metrics: Sequence[Metric]) -> list[KeyColumns]:
    """Single points, checked one by one; plain floats and ints take the fast path."""
    columns: dict[str, tuple[list[int], list[int], list[float]]] = {}
    for metric in metrics:
        key, value, step, timestamp = metric.key, metric.value, metric.step, metric.timestamp
        lists = columns.get(key) if type(key) is str else None
        if lists is None:
            lists = columns[check_key(key, kind="metric")] = ([], [], [])
        if type(value) is not float:
            value = check_metric_value(key, value)
        if type(step) is not int or step < 0:
            step = check_step(key, step)
        if type(timestamp) is not int or timestamp < 0:
            timestamp = check_timestamp(key, timestamp)
        lists[0].append(step)
        lists[1].append(timestamp)
        lists[2].append(value)
    return [
        KeyColumns(
            key,
            _int64(key, steps, check_step),
            _int64(key, timestamps, check_timestamp),
            _float64(key, values),
        )
        for key, (steps, timestamps, values) in columns.items()
    ]


def _check_series(series: MetricSeries) -> KeyColumns:
    key = check_key(series.key, kind="metric")
    steps, timestamps, values = series.steps, series.timestamps, series.values
    lengths = (_length(key, steps), _length(key, timestamps), _length(key, values))
    if len(set(lengths)) != 1:
        raise ValidationError(
            f"metric {key!r}: a series needs as many steps, timestamps and values, got "
            f"{lengths[0]}, {lengths[1]} and {lengths[2]}",
            field=f"metrics.{key}",
        )
    return KeyColumns(
        key,
        _int_column(key, steps, check_step),
        _int_column(key, timestamps, check_timestamp),
        _float_column(key, values),
    )


def _length(key: str, column: object) -> int:
    if isinstance(column, np.ndarray) and column.ndim != 1:
        raise ValidationError(
            f"metric {key!r}: series columns must be one-dimensional, got shape {column.shape}",
            field=f"metrics.{key}",
        )
    try:
        return len(column)  # type: ignore[arg-type]
    except TypeError:
        raise ValidationError(
            f"metric {key!r}: series columns must be sequences, got {type(column).__name__}",
            field=f"metrics.{key}",
        ) from None


def _int_column(key: str, column: Any, check: Callable[[str, object], int]) -> IntArray:
    """Non-negative integers as ``int64``; bools, floats and text are refused by ``check``."""
    if isinstance(column, np.ndarray) and column.dtype.kind in "iu":
        if column.dtype.kind == "u" and column.size and column.max() > _INT_MAX:
            _refuse_overflow(key, check)
        array = column.astype(INT, copy=False)
    else:
        items = column.tolist() if isinstance(column, np.ndarray) else column
        if not _only(items, int):
            items = [check(key, item) for item in items]
        array = _int64(key, items, check)
    if array.size and array.min() < 0:
        check(key, int(array[array < 0][0]))  # raises, naming the field
    return array


def _int64(key: str, items: Sequence[int], check: Callable[[str, object], int]) -> IntArray:
    """Python ints as ``int64``."""
    try:
        return np.array(items, dtype=INT)
    except OverflowError:
        _refuse_overflow(key, check)


def _float_column(key: str, column: Any) -> FloatArray:
    """Numbers as ``float64`` (NaN and +/-Inf included); bools, text and None are refused."""
    if isinstance(column, np.ndarray) and column.dtype.kind in "fiu":
        return column.astype(FLOAT, copy=False)
    items = column.tolist() if isinstance(column, np.ndarray) else column
    if not _only(items, float, int):
        items = [check_metric_value(key, item) for item in items]
    return _float64(key, items)


def _float64(key: str, items: Sequence[float]) -> FloatArray:
    """Python floats and ints as ``float64``."""
    try:
        return np.array(items, dtype=FLOAT)
    except OverflowError:  # an int beyond float range
        raise ValidationError(
            f"metric {key!r}: value must be a number within the float range",
            field=f"metrics.{key}",
        ) from None


def _only(items: Iterable[object], *types: type) -> bool:
    """True when every item is exactly one of ``types`` (so bool, a subclass of int, is not)."""
    return set(map(type, items)).issubset(types)


def _refuse_overflow(key: str, check: Callable[[str, object], int]) -> NoReturn:
    name = "step" if check is check_step else "timestamp"
    raise ValidationError(
        f"metric {key!r}: {name} must fit in a 64-bit integer",
        field=f"metrics.{key}.{name}",
    )
