"""Dataset profiles: the compact summary of a dataset version that monitoring compares against.

A :class:`DatasetProfile` holds one :class:`ColumnProfile` per column. What a column carries
depends on its :class:`ColumnKind`:

============  ================================================================
kind          statistics (besides ``n_rows``, ``n_nulls``, ``n_distinct``)
============  ================================================================
numeric       ``min``/``max``/``mean``/``std``, ``quantiles``, ``histogram``,
              ``n_nan``/``n_inf`` (these and nulls are left out of the others)
categorical   ``top_k`` frequencies with the count of all other values,
              ``lengths``, ``n_empty``
text          ``lengths``, ``n_empty``
boolean       ``top_k`` over ``"true"``/``"false"``
datetime      ``min_time``/``max_time`` (ISO 8601 text)
other         nothing more
============  ================================================================

``to_dict`` gives a compact JSON-able dict (``None`` and zero-count fields are left out;
NaN and +/-Inf are written ``"NaN"``, ``"Infinity"``, ``"-Infinity"``); ``from_dict`` reads
it back and raises :class:`~loopml.core.errors.ValidationError` naming the field at fault.
The dict encoding and its checks live in :mod:`loopml.core.profile_codec`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loopml.core.errors import NotFoundError, ValidationError

__all__ = [
    "PROFILE_FORMAT_VERSION",
    "QUANTILE_LEVELS",
    "ColumnKind",
    "ColumnProfile",
    "DatasetProfile",
    "Frequencies",
    "Histogram",
    "LengthStats",
    "Quantiles",
]

PROFILE_FORMAT_VERSION = 1
"""Version of the ``to_dict`` layout; ``from_dict`` refuses newer ones."""

QUANTILE_LEVELS: tuple[float, ...] = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
"""Quantile levels profiled by default: the deciles' ends, quartiles and both tails, enough
for monitoring to approximate a CDF (with the histogram) where the mass is."""


class ColumnKind(enum.StrEnum):
    """What kind of statistics a column gets; decided from its Arrow type (and cardinality)."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    OTHER = "other"


def _tuple(values: Sequence[Any]) -> tuple[Any, ...]:
    return values if isinstance(values, tuple) else tuple(values)


@dataclass(frozen=True, slots=True)
class Quantiles:
    """Values of a column at increasing ``levels`` in [0, 1].

    ``approximate`` is true when a sketch (t-digest) computed them instead of a sort.
    """

    levels: tuple[float, ...]
    values: tuple[float, ...]
    approximate: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", _tuple(self.levels))
        object.__setattr__(self, "values", _tuple(self.values))
        if len(self.levels) != len(self.values):
            raise ValidationError("quantile levels and values differ in length", field="values")
        if any(not 0.0 <= p <= 1.0 for p in self.levels) or list(self.levels) != sorted(
            self.levels
        ):
            raise ValidationError("quantile levels must increase within [0, 1]", field="levels")


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts of values in equal-width bins; bin ``i`` is ``[edges[i], edges[i+1])``.

    The last bin also holds ``edges[-1]`` (the maximum), as in ``numpy.histogram``.
    """

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "edges", _tuple(self.edges))
        object.__setattr__(self, "counts", _tuple(self.counts))
        if len(self.edges) != len(self.counts) + 1:
            raise ValidationError("a histogram needs one more edge than counts", field="edges")
        if list(self.edges) != sorted(self.edges):
            raise ValidationError("histogram edges must not decrease", field="edges")
        if any(c < 0 for c in self.counts):
            raise ValidationError("histogram counts must not be negative", field="counts")


@dataclass(frozen=True, slots=True)
class Frequencies:
    """The most frequent values with their counts (most frequent first), and how many
    non-null values are none of them (``n_other``)."""

    values: tuple[str, ...]
    counts: tuple[int, ...]
    n_other: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _tuple(self.values))
        object.__setattr__(self, "counts", _tuple(self.counts))
        if len(self.values) != len(self.counts):
            raise ValidationError("top-k values and counts differ in length", field="counts")
        if len(set(self.values)) != len(self.values):
            raise ValidationError("top-k values must be distinct", field="values")
        if any(c < 0 for c in self.counts) or self.n_other < 0:
            raise ValidationError("top-k counts must not be negative", field="counts")

    @property
    def n_total(self) -> int:
        """All non-null values counted: the listed ones and the others."""
        return sum(self.counts) + self.n_other


@dataclass(frozen=True, slots=True)
class LengthStats:
    """Lengths of the non-null strings of a column, in characters (code points)."""

    min: int
    mean: float
    max: int


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """The statistics of one column (see the module docstring for which kind gets which).

    Attributes:
        name: Column name.
        type: Arrow type as text, e.g. ``"double"`` or ``"dictionary<values=string, ...>"``.
        kind: Which statistics the column has.
        n_rows: Rows in the dataset, nulls included.
        n_nulls: Null values.
        n_distinct: Distinct non-null values; ``None`` where not computed (nested types).
        distinct_is_approximate: Whether ``n_distinct`` is a HyperLogLog estimate.
        n_nan: NaN values of a float column (not nulls).
        n_inf: +Inf and -Inf values of a float column.
        n_empty: Empty strings.
        min: Smallest finite value (numeric).
        max: Largest finite value (numeric).
        mean: Mean of the finite values (numeric).
        std: Population standard deviation (``ddof=0``) of the finite values (numeric).
        min_time: Earliest value as ISO 8601 text (datetime).
        max_time: Latest value as ISO 8601 text (datetime).
        quantiles: Quantiles of the finite values (numeric).
        histogram: Equal-width histogram of the finite values from ``min`` to ``max``.
        top_k: Most frequent values (categorical, boolean).
        lengths: String lengths (categorical, text).
    """

    name: str
    type: str
    kind: ColumnKind
    n_rows: int
    n_nulls: int
    n_distinct: int | None = None
    distinct_is_approximate: bool = False
    n_nan: int = 0
    n_inf: int = 0
    n_empty: int = 0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    min_time: str | None = None
    max_time: str | None = None
    quantiles: Quantiles | None = None
    histogram: Histogram | None = None
    top_k: Frequencies | None = None
    lengths: LengthStats | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.n_nulls <= self.n_rows:
            raise ValidationError(
                f"column {self.name!r}: n_nulls must lie between 0 and n_rows", field="n_nulls"
            )
        if self.n_nan < 0 or self.n_inf < 0 or self.n_nan + self.n_inf > self.n_valid:
            raise ValidationError(
                f"column {self.name!r}: n_nan + n_inf must lie between 0 and the non-null count",
                field="n_nan",
            )

    @property
    def n_valid(self) -> int:
        """Non-null values (NaN and Inf included)."""
        return self.n_rows - self.n_nulls

    @property
    def n_finite(self) -> int:
        """Non-null values that are neither NaN nor +/-Inf: what numeric statistics cover."""
        return self.n_valid - self.n_nan - self.n_inf

    def to_dict(self) -> dict[str, Any]:
        """This column as a compact JSON-able dict."""
        from loopml.core.profile_codec import encode_column

        return encode_column(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        """Read a dict made by :meth:`to_dict`.

        Raises:
            ValidationError: A field is missing or malformed; ``field`` names it.
        """
        from loopml.core.profile_codec import decode_column

        return decode_column(data)


@dataclass(frozen=True, slots=True)
class DatasetProfile:
    """The profile of a whole dataset: one :class:`ColumnProfile` per column, in order.

    Attributes:
        n_rows: Rows in the dataset.
        columns: The column profiles, in the dataset's column order.
        format_version: Layout version of :meth:`to_dict`.
        created_at: When the profile was computed (timezone-aware UTC), if known.
    """

    n_rows: int
    columns: tuple[ColumnProfile, ...]
    format_version: int = PROFILE_FORMAT_VERSION
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", _tuple(self.columns))
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValidationError("column names must be unique", field="columns")

    @property
    def n_columns(self) -> int:
        """Number of columns."""
        return len(self.columns)

    @property
    def names(self) -> tuple[str, ...]:
        """Column names, in order."""
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> ColumnProfile:
        """The profile of column ``name``.

        Raises:
            NotFoundError: The dataset has no such column.
        """
        for column in self.columns:
            if column.name == name:
                return column
        raise NotFoundError(f"the profile has no column {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """This profile as a compact JSON-able dict."""
        from loopml.core.profile_codec import encode_dataset

        return encode_dataset(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        """Read a dict made by :meth:`to_dict`.

        Raises:
            ValidationError: A field is missing or malformed, or the layout is newer than
                this loopml understands; ``field`` names it (e.g. ``columns[2].histogram``).
        """
        from loopml.core.profile_codec import decode_dataset

        return decode_dataset(data)
