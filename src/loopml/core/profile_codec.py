"""The compact dict form of :mod:`loopml.core.profiles`, and its checks when read back.

Fields that are ``None``, ``False`` or a zero count are left out. Floats that JSON cannot
carry are written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (the spelling
of JavaScript and of Python's ``json`` module), and read back as floats.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from loopml.core.errors import ValidationError
from loopml.core.profiles import (
    PROFILE_FORMAT_VERSION,
    ColumnKind,
    ColumnProfile,
    DatasetProfile,
    Frequencies,
    Histogram,
    LengthStats,
    Quantiles,
)

__all__ = ["decode_column", "decode_dataset", "encode_column", "encode_dataset", "encode_float"]

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(value: float) -> float | str:
    """A float as JSON can carry it.

    >>> encode_float(1.5), encode_float(float("nan")), encode_float(float("-inf"))
    (1.5, 'NaN', '-Infinity')
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


def encode_column(column: ColumnProfile) -> dict[str, Any]:
    """``column`` as a compact JSON-able dict (see the module docstring)."""
    out: dict[str, Any] = {
        "name": column.name,
        "type": column.type,
        "kind": str(column.kind),
        "n_rows": column.n_rows,
        "n_nulls": column.n_nulls,
    }
    optional: dict[str, Any] = {
        "n_distinct": column.n_distinct,
        "distinct_is_approximate": column.distinct_is_approximate or None,
        "n_nan": column.n_nan or None,
        "n_inf": column.n_inf or None,
        "n_empty": column.n_empty or None,
        "min_time": column.min_time,
        "max_time": column.max_time,
    }
    for key in ("min", "max", "mean", "std"):
        value = getattr(column, key)
        optional[key] = None if value is None else encode_float(value)
    if column.quantiles is not None:
        optional["quantiles"] = {
            "levels": list(column.quantiles.levels),
            "values": [encode_float(v) for v in column.quantiles.values],
            **({"approximate": True} if column.quantiles.approximate else {}),
        }
    if column.histogram is not None:
        optional["histogram"] = {
            "edges": [encode_float(v) for v in column.histogram.edges],
            "counts": list(column.histogram.counts),
        }
    if column.top_k is not None:
        optional["top_k"] = {
            "values": list(column.top_k.values),
            "counts": list(column.top_k.counts),
            "n_other": column.top_k.n_other,
        }
    if column.lengths is not None:
        lengths = column.lengths
        optional["lengths"] = [lengths.min, encode_float(lengths.mean), lengths.max]
    out.update((key, value) for key, value in optional.items() if value is not None)
    return out


def encode_dataset(profile: DatasetProfile) -> dict[str, Any]:
    """``profile`` as a compact JSON-able dict (see the module docstring)."""
    out: dict[str, Any] = {
        "format_version": profile.format_version,
        "n_rows": profile.n_rows,
        "n_columns": profile.n_columns,
    }
    if profile.created_at is not None:
        out["created_at"] = profile.created_at.isoformat()
    out["columns"] = [encode_column(column) for column in profile.columns]
    return out


class _Fields:
    """Typed reads from one dict of the encoded form; errors name the full field path."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ValidationError(f"profile field {path or '.'} must be an object", field=path)
        self.data, self.path = data, path

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, expected: str) -> ValidationError:
        field = self.where(key)
        return ValidationError(f"profile field {field} must be {expected}", field=field)

    def get(self, key: str, default: Any, required: bool = False) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.fail(key, "present")
            return default
        return self.data[key]

    def count(self, key: str, *, required: bool = False, default: int | None = 0) -> Any:
        value = self.get(key, default, required)
        if value is not default and (type(value) is not int or value < 0):
            raise self.fail(key, "a non-negative integer")
        return value

    def text(self, key: str, *, required: bool = False) -> Any:
        value = self.get(key, None, required)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, "a string")
        return value

    def flag(self, key: str) -> bool:
        value = self.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false")
        return value

    def number(self, key: str, value: Any = None) -> Any:
        value = self.get(key, None) if value is None else value
        if value is None:
            return None
        if isinstance(value, str) and value in _SPECIAL:
            return _SPECIAL[value]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, 'a number, "NaN", "Infinity" or "-Infinity"')
        return float(value)

    def numbers(self, key: str) -> tuple[float, ...]:
        values = self.get(key, None, required=True)
        if not isinstance(values, list):
            raise self.fail(key, "a list of numbers")
        return tuple(self.number(f"{key}[{i}]", value) for i, value in enumerate(values))

    def counts(self, key: str) -> tuple[int, ...]:
        values = self.get(key, None, required=True)
        if not isinstance(values, list) or any(type(v) is not int or v < 0 for v in values):
            raise self.fail(key, "a list of non-negative integers")
        return tuple(values)

    def child(self, key: str) -> _Fields | None:
        value = self.get(key, None)
        return None if value is None else _Fields(value, self.where(key))

    def build(self, factory: Any, **kwargs: Any) -> Any:
        """Call ``factory`` and prefix the path to the field of any error it raises."""
        try:
            return factory(**kwargs)
        except ValidationError as exc:
            field = self.where(exc.field) if exc.field else self.path
            raise ValidationError(f"profile field {field}: {exc.message}", field=field) from exc


def _decode_column(f: _Fields) -> ColumnProfile:
    kind = f.text("kind", required=True)
    if kind not in set(ColumnKind):
        raise f.fail("kind", "one of " + ", ".join(ColumnKind))
    kwargs: dict[str, Any] = {
        "name": f.text("name", required=True),
        "type": f.text("type", required=True),
        "kind": ColumnKind(kind),
        "n_rows": f.count("n_rows", required=True),
        "n_nulls": f.count("n_nulls", required=True),
        "n_distinct": f.count("n_distinct", default=None),
        "distinct_is_approximate": f.flag("distinct_is_approximate"),
        "n_nan": f.count("n_nan"),
        "n_inf": f.count("n_inf"),
        "n_empty": f.count("n_empty"),
        "min_time": f.text("min_time"),
        "max_time": f.text("max_time"),
    }
    kwargs.update({key: f.number(key) for key in ("min", "max", "mean", "std")})
    if (q := f.child("quantiles")) is not None:
        kwargs["quantiles"] = q.build(
            Quantiles,
            levels=q.numbers("levels"),
            values=q.numbers("values"),
            approximate=q.flag("approximate"),
        )
    if (h := f.child("histogram")) is not None:
        kwargs["histogram"] = h.build(
            Histogram, edges=h.numbers("edges"), counts=h.counts("counts")
        )
    if (t := f.child("top_k")) is not None:
        values = t.get("values", None, required=True)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise t.fail("values", "a list of strings")
        kwargs["top_k"] = t.build(
            Frequencies,
            values=tuple(values),
            counts=t.counts("counts"),
            n_other=t.count("n_other", required=True),
        )
    lengths = f.get("lengths", None)
    if lengths is not None:
        ok = isinstance(lengths, list) and len(lengths) == 3
        if not ok or type(lengths[0]) is not int or type(lengths[2]) is not int:
            raise f.fail("lengths", "[min, mean, max] with integer min and max")
        kwargs["lengths"] = LengthStats(lengths[0], f.number("lengths[1]", lengths[1]), lengths[2])
    return f.build(ColumnProfile, **kwargs)  # type: ignore[no-any-return]


def decode_column(data: Mapping[str, Any], path: str = "") -> ColumnProfile:
    """Read a column dict made by :func:`encode_column`; errors name the field."""
    return _decode_column(_Fields(data, path))


def decode_dataset(data: Mapping[str, Any]) -> DatasetProfile:
    """Read a dataset dict made by :func:`encode_dataset`; errors name the field."""
    f = _Fields(data, "")
    version = f.count("format_version", required=True)
    if version > PROFILE_FORMAT_VERSION:
        raise ValidationError(
            f"profile format {version} is newer than this loopml reads "
            f"({PROFILE_FORMAT_VERSION}): upgrade loopml",
            field="format_version",
        )
    n_rows = f.count("n_rows", required=True)
    columns_data = f.get("columns", None, required=True)
    if not isinstance(columns_data, list):
        raise f.fail("columns", "a list of column profiles")
    columns = tuple(decode_column(c, f"columns[{i}]") for i, c in enumerate(columns_data))
    if f.count("n_columns", default=len(columns)) != len(columns):
        raise f.fail("n_columns", f"the number of columns ({len(columns)})")
    for i, column in enumerate(columns):
        if column.n_rows != n_rows:
            raise f.fail(f"columns[{i}].n_rows", f"the dataset's n_rows ({n_rows})")
    created_at = f.text("created_at")
    if created_at is not None:
        try:
            created = datetime.fromisoformat(created_at)
        except ValueError:
            raise f.fail("created_at", "an ISO 8601 date and time") from None
    return f.build(  # type: ignore[no-any-return]
        DatasetProfile,
        n_rows=n_rows,
        columns=columns,
        format_version=version,
        created_at=None if created_at is None else created,
    )
