"""What a model takes and gives: ordered, typed columns, inferred from an example.

A :class:`Signature` is stored in the model's manifest and enforced on every
``predict`` (see :mod:`loopml.flavors.enforce`).

>>> import pandas as pd
>>> signature = infer_signature(pd.DataFrame({"age": [31, 45], "city": ["Bonn", None]}))
>>> [(column.name, column.dtype, column.nullable) for column in signature.inputs]
[('age', 'int64', False), ('city', 'string', True)]
>>> Signature.from_dict(signature.to_dict()) == signature
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loopml.core.errors import ValidationError
from loopml.flavors.dtypes import DTYPES, arrow_type_name, pandas_dtype_name
from loopml.flavors.frames import as_arrow, as_pandas

__all__ = ["ColumnSpec", "Signature", "column_names", "infer_signature"]

_PREDICTION = "prediction"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of a signature.

    Attributes:
        name: The column name.
        dtype: One of :data:`loopml.flavors.dtypes.DTYPES`.
        nullable: Whether the column may hold missing values (NaN in a float column is
            always a value, never refused).
    """

    name: str
    dtype: str
    nullable: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the manifest."""
        return {"name": self.name, "dtype": self.dtype, "nullable": self.nullable}

    @classmethod
    def from_dict(cls, data: object, *, field: str) -> ColumnSpec:
        """Read one column back, naming ``field`` in any error."""
        if not isinstance(data, Mapping):
            raise ValidationError(f"{field} must be a mapping with name and dtype", field=field)
        name, dtype, nullable = data.get("name"), data.get("dtype"), data.get("nullable", False)
        if not isinstance(name, str) or not name:
            raise ValidationError(f"{field}.name must be a non-empty string", field=field)
        if dtype not in DTYPES:
            raise ValidationError(
                f"{field}.dtype {dtype!r} is not one of {', '.join(sorted(DTYPES))}", field=field
            )
        if not isinstance(nullable, bool):
            raise ValidationError(f"{field}.nullable must be true or false", field=field)
        return cls(name, str(dtype), nullable)


@dataclass(frozen=True, slots=True)
class Signature:
    """The ordered input columns a model takes and the outputs it gives.

    Attributes:
        inputs: Input columns in the order the model expects them.
        outputs: Output columns (``prediction`` for a 1-D output, ``"0"``, ``"1"`` ... for
            the columns of a 2-D one); empty when unknown.
    """

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = ()

    def __post_init__(self) -> None:
        for part, columns in (("inputs", self.inputs), ("outputs", self.outputs)):
            names = [column.name for column in columns]
            duplicates = sorted({name for name in names if names.count(name) > 1})
            if duplicates:
                raise ValidationError(
                    f"signature {part} name a column twice: {', '.join(duplicates)}",
                    field="signature",
                )

    @property
    def input_names(self) -> tuple[str, ...]:
        """Input column names, in order."""
        return tuple(column.name for column in self.inputs)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the manifest."""
        return {
            "inputs": [column.to_dict() for column in self.inputs],
            "outputs": [column.to_dict() for column in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: object) -> Signature:
        """Read a signature back from :meth:`to_dict`'s form.

        Raises:
            ValidationError: A part is missing or malformed; the message names it.
        """
        if not isinstance(data, Mapping):
            raise ValidationError(
                "signature must be a mapping of inputs and outputs", field="signature"
            )
        parts: dict[str, tuple[ColumnSpec, ...]] = {}
        for part in ("inputs", "outputs"):
            columns = data.get(part, [])
            if not isinstance(columns, list):
                raise ValidationError(f"signature.{part} must be a list", field="signature")
            parts[part] = tuple(
                ColumnSpec.from_dict(column, field=f"signature.{part}[{index}]")
                for index, column in enumerate(columns)
            )
        if not parts["inputs"]:
            raise ValidationError("signature.inputs names no column", field="signature")
        return cls(parts["inputs"], parts["outputs"])


def infer_signature(input_example: object, output_example: object = None) -> Signature:
    """The signature of an input example (a few rows, or the whole training data).

    Args:
        input_example: Any table :func:`loopml.flavors.frames.as_pandas` accepts.
        output_example: What the model returned for it (array, Series or frame), if known.

    Raises:
        ValidationError: The example is not a table, or has no column.
    """
    inputs = _columns(input_example)
    if not inputs:
        raise ValidationError("the input example has no column", field="input_example")
    outputs = _output_columns(output_example) if output_example is not None else ()
    return Signature(inputs, outputs)


def _columns(data: object) -> tuple[ColumnSpec, ...]:
    table = as_arrow(data)
    if table is not None:
        return tuple(
            ColumnSpec(name, arrow_type_name(column.type), column.null_count > 0)
            for name, column in zip(table.column_names, table.columns, strict=True)
        )
    frame = as_pandas(data)
    has_nulls = frame.isna().any(axis=0).to_numpy()
    return tuple(
        ColumnSpec(str(name), pandas_dtype_name(frame[name]), bool(null))
        for name, null in zip(frame.columns, has_nulls, strict=True)
    )


def _output_columns(output: object) -> tuple[ColumnSpec, ...]:
    if isinstance(output, list):
        output = np.asarray(output)
    if isinstance(output, np.ndarray) and output.ndim <= 1:
        output = pd.Series(output.reshape(-1), name=_PREDICTION)
    if isinstance(output, pd.Series) and output.name is None:
        output = output.rename(_PREDICTION)
    return _columns(output)


def column_names(columns: Sequence[ColumnSpec]) -> str:
    """``'a', 'b', 'c'``: column names quoted for a message."""
    return ", ".join(repr(column.name) for column in columns)
