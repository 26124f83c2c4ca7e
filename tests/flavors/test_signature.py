"""Signatures: inferred from every kind of table, and stored as plain dicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from loopml.core.errors import ValidationError
from loopml.flavors import ColumnSpec, Signature, infer_signature


def _specs(signature: Signature) -> list[tuple[str, str, bool]]:
    return [(column.name, column.dtype, column.nullable) for column in signature.inputs]


def test_infers_names_types_and_nulls_from_a_pandas_frame() -> None:
    frame = pd.DataFrame(
        {
            "age": [31, 45],
            "income": [1.5, None],
            "city": ["Bonn", None],
            "member": [True, False],
            "plan": pd.Categorical(["a", "b"]),
            "joined": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "visits": pd.array([1, None], dtype="Int32"),
        }
    )

    assert _specs(infer_signature(frame)) == [
        ("age", "int64", False),
        ("income", "float64", True),
        ("city", "string", True),
        ("member", "bool", False),
        ("plan", "category", False),
        ("joined", "datetime", False),
        ("visits", "int32", True),
    ]


def test_infers_from_polars_and_arrow_with_their_own_types() -> None:
    polars_frame = pl.DataFrame({"n": pl.Series([1, None], dtype=pl.Int16), "s": ["a", "b"]})
    table = pa.table({"x": pa.array([1.0, 2.0], pa.float32()), "b": pa.array([b"1", b"2"])})

    assert _specs(infer_signature(polars_frame)) == [("n", "int16", True), ("s", "string", False)]
    assert _specs(infer_signature(table)) == [("x", "float32", False), ("b", "binary", False)]


def test_a_numpy_array_gets_positional_column_names() -> None:
    signature = infer_signature(np.zeros((3, 2), dtype=np.float32))

    assert _specs(signature) == [("0", "float32", False), ("1", "float32", False)]


def test_a_dict_of_columns_is_a_table() -> None:
    assert _specs(infer_signature({"a": [1, 2], "b": ["x", "y"]})) == [
        ("a", "int64", False),
        ("b", "string", False),
    ]


def test_outputs_are_inferred_from_the_predictions() -> None:
    one_column = infer_signature(pd.DataFrame({"a": [1]}), np.array([0.5]))
    two_columns = infer_signature(pd.DataFrame({"a": [1]}), np.array([[0.2, 0.8]]))

    assert one_column.outputs == (ColumnSpec("prediction", "float64"),)
    assert [column.name for column in two_columns.outputs] == ["0", "1"]


def test_a_one_dimensional_array_is_not_a_table() -> None:
    with pytest.raises(ValidationError, match="2-D"):
        infer_signature(np.zeros(3))


def test_anything_else_is_refused_with_what_is_accepted() -> None:
    with pytest.raises(ValidationError, match="pandas or polars DataFrame"):
        infer_signature("a,b\n1,2")


def test_round_trips_through_a_plain_dict() -> None:
    signature = Signature(
        (ColumnSpec("a", "int64"), ColumnSpec("b", "string", nullable=True)),
        (ColumnSpec("prediction", "float64"),),
    )

    assert Signature.from_dict(signature.to_dict()) == signature


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"inputs": [{"name": "a", "dtype": "decimal"}]}, "signature.inputs[0]"),
        ({"inputs": [{"dtype": "int64"}]}, "signature.inputs[0]"),
        ({"inputs": []}, "signature"),
        ({"inputs": "a"}, "signature"),
        ([], "signature"),
    ],
)
def test_a_malformed_dict_names_the_field(data: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        Signature.from_dict(data)

    assert error.value.field == field


def test_a_column_named_twice_is_refused() -> None:
    with pytest.raises(ValidationError, match="twice: a"):
        Signature((ColumnSpec("a", "int64"), ColumnSpec("a", "float64")))
