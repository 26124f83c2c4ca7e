"""The data schema a user keeps beside the code: columns, their types and their rules.

A :class:`DataSchema` is a frozen value. :func:`loopml.datasets.inference.infer_schema`
proposes one from data; the user keeps it as YAML in the repository (:func:`save_schema`,
:func:`load_schema`) and edits the file or the value (:meth:`DataSchema.with_column`,
:meth:`DataSchema.without_column`, or :func:`dataclasses.replace` for ``name``, ``strict``
and ``coerce``). Every change is checked when the value is made, so a bad bound fails at
the line that set it, not later during validation. The YAML format (see
:mod:`loopml.datasets.schema_file`)::

    version: 1
    name: churn
    strict: true          # refuse columns the schema does not list
    coerce: false         # convert columns to their dtype before checking
    columns:
      customer_id: {dtype: string, unique: true}
      age: {dtype: int64, min: 18, max: 99}
      plan: {dtype: string, nullable: true, isin: [basic, pro]}

>>> schema = DataSchema((ColumnSchema("age", "int64", min=0, max=120),), name="people")
>>> schema.with_column("age", max=130).column("age").max
130
>>> schema.with_column("age", min="young")
Traceback (most recent call last):
...
loopml.core.errors.ValidationError: columns.age.min: expected an integer, got 'young'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from loopml.core.errors import NotFoundError, ValidationError
from loopml.datasets import scalars
from loopml.datasets.dtypes import ANY, DTYPES, NUMERIC_DTYPES, TEMPORAL_DTYPES

if TYPE_CHECKING:
    import pandera.polars

__all__ = ["SCHEMA_VERSION", "Bound", "ColumnSchema", "DataSchema", "Scalar"]

SCHEMA_VERSION = 1

Bound: TypeAlias = int | float | date | datetime
Scalar: TypeAlias = str | bool | int | float | date | datetime


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    """What one column must look like.

    Attributes:
        name: The column's name in the data.
        dtype: One of :data:`loopml.datasets.dtypes.DTYPES` or ``any``.
        nullable: Whether null (and NaN) values are allowed.
        unique: Whether every non-null value must differ from all others.
        min: Smallest allowed value (numbers, dates and datetimes), inclusive.
        max: Largest allowed value, inclusive.
        isin: The allowed values, for a column of categories.
        description: What the column means, for people and generated documentation.
    """

    name: str
    dtype: str
    nullable: bool = False
    unique: bool = False
    min: Bound | None = None
    max: Bound | None = None
    isin: tuple[Scalar, ...] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValidationError(
                f"columns: a column name must be a non-empty string, got {self.name!r}",
                field="columns",
            )
        where = f"columns.{self.name}"
        if self.dtype != ANY and self.dtype not in DTYPES:
            raise ValidationError(
                f"{where}.dtype: unknown dtype {self.dtype!r}; use one of: "
                f"{', '.join([ANY, *DTYPES])}",
                field=f"{where}.dtype",
            )
        for flag in ("nullable", "unique"):
            scalars.check_flag(getattr(self, flag), f"{where}.{flag}")
        if not isinstance(self.description, str):
            raise scalars.wrong(f"{where}.description", "a string", self.description)
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is not None:
                if self.dtype not in NUMERIC_DTYPES | TEMPORAL_DTYPES:
                    raise ValidationError(
                        f"{where}.{bound}: a {self.dtype} column has no range; "
                        "min and max are for numbers, dates and datetimes",
                        field=f"{where}.{bound}",
                    )
                parsed = scalars.parse_value(value, self.dtype, f"{where}.{bound}")
                object.__setattr__(self, bound, parsed)
        if self.min is not None and self.max is not None and self.min > self.max:  # type: ignore[operator]
            raise ValidationError(
                f"{where}: min ({self.min}) is larger than max ({self.max})", field=f"{where}.min"
            )
        if self.isin is not None:
            object.__setattr__(self, "isin", self._parse_isin(where))
        if self.unique and self.dtype == ANY:
            raise ValidationError(
                f"{where}.unique: give the column a dtype to check that its values are unique",
                field=f"{where}.unique",
            )

    def _parse_isin(self, where: str) -> tuple[Scalar, ...]:
        if self.dtype == ANY:
            raise ValidationError(
                f"{where}.isin: give the column a dtype to list its allowed values",
                field=f"{where}.isin",
            )
        if isinstance(self.isin, str | bytes) or not isinstance(self.isin, Sequence):
            raise scalars.wrong(f"{where}.isin", "a list of values", self.isin)
        return tuple(
            scalars.parse_value(item, self.dtype, f"{where}.isin[{i}]")
            for i, item in enumerate(self.isin)
        )

    def to_dict(self) -> dict[str, Any]:
        """The column's rules as JSON-able builtins, leaving out those at their default."""
        data: dict[str, Any] = {"dtype": self.dtype, "nullable": self.nullable}
        if self.unique:
            data["unique"] = True
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is not None:
                data[bound] = scalars.to_builtin(value)
        if self.isin is not None:
            data["isin"] = [scalars.to_builtin(item) for item in self.isin]
        if self.description:
            data["description"] = self.description
        return data


@dataclass(frozen=True, slots=True)
class DataSchema:
    """The columns a dataset must have and the frame-level options.

    Attributes:
        columns: The columns, in the order the data is expected to have them.
        name: A name for the schema, shown in validation reports.
        strict: Whether columns the schema does not list are failures.
        coerce: Whether to convert each column to its dtype before checking; values that
            do not convert are failures of the ``dtype`` check.
    """

    columns: tuple[ColumnSchema, ...]
    name: str = ""
    strict: bool = False
    coerce: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        seen: set[str] = set()
        for column in self.columns:
            if not isinstance(column, ColumnSchema):
                raise scalars.wrong("columns", "ColumnSchema values", column)
            if column.name in seen:
                raise ValidationError(
                    f"columns.{column.name}: listed twice", field=f"columns.{column.name}"
                )
            seen.add(column.name)
        if not isinstance(self.name, str):
            raise scalars.wrong("name", "a string", self.name)
        scalars.check_flag(self.strict, "strict")
        scalars.check_flag(self.coerce, "coerce")

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the schema's canonical JSON: equal rules, equal fingerprint."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def column(self, name: str) -> ColumnSchema:
        """The column called ``name``.

        Raises:
            NotFoundError: if the schema has no such column.
        """
        for column in self.columns:
            if column.name == name:
                return column
        raise NotFoundError(
            f"column {name!r} is not in the schema; it has: {', '.join(self.column_names)}"
        )

    def with_column(self, name: str, **changes: Any) -> DataSchema:
        """A copy with column ``name`` changed, or added at the end (``dtype`` required).

        Args:
            name: The column to change or add.
            **changes: :class:`ColumnSchema` fields to set, e.g. ``max=130`` or
                ``isin=None`` to drop the allowed values.
        """
        if name not in self.column_names:
            if "dtype" not in changes:
                raise ValidationError(
                    f"columns.{name}: a new column needs a dtype", field=f"columns.{name}.dtype"
                )
            return dataclasses.replace(self, columns=(*self.columns, ColumnSchema(name, **changes)))
        columns = tuple(
            dataclasses.replace(column, **changes) if column.name == name else column
            for column in self.columns
        )
        return dataclasses.replace(self, columns=columns)

    def without_column(self, name: str) -> DataSchema:
        """A copy without column ``name`` (raises NotFoundError if there is none)."""
        self.column(name)
        return dataclasses.replace(
            self, columns=tuple(column for column in self.columns if column.name != name)
        )

    def to_dict(self) -> dict[str, Any]:
        """The schema as JSON-able builtins, the same shape as the YAML file."""
        return {
            "version": SCHEMA_VERSION,
            "name": self.name,
            "strict": self.strict,
            "coerce": self.coerce,
            "columns": {column.name: column.to_dict() for column in self.columns},
        }

    @classmethod
    def from_dict(cls, data: object, *, source: str = "schema") -> DataSchema:
        """Read a schema from builtins, as :meth:`to_dict` writes them."""
        from loopml.datasets.schema_file import schema_from_dict

        return schema_from_dict(data, source=source)

    def to_yaml(self) -> str:
        """The schema as YAML text for a file in the repository."""
        from loopml.datasets.schema_file import dump_schema

        return dump_schema(self)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "schema.yaml") -> DataSchema:
        """Parse YAML text; errors name ``source``, the line and the field."""
        from loopml.datasets.schema_file import parse_schema

        return parse_schema(text, source=source)

    def to_pandera(self) -> pandera.polars.DataFrameSchema:
        """The equivalent pandera schema for polars frames (normalised as in ``dtypes``)."""
        from loopml.datasets.checks import build_pandera

        return build_pandera(self, coerce=self.coerce)
