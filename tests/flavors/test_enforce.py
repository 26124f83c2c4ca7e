"""Enforcement: input made to fit a signature, or an error naming the columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from loopml.core.errors import ValidationError
from loopml.flavors import ColumnSpec, Enforcer, Signature, SignatureError, enforce

SIGNATURE = Signature(
    (ColumnSpec("age", "int64"), ColumnSpec("income", "float64"), ColumnSpec("city", "string"))
)


def _row(**columns: object) -> pd.DataFrame:
    base: dict[str, object] = {"age": [40], "income": [1.5], "city": ["Bonn"]}
    base.update(columns)
    return pd.DataFrame(base)


def test_input_that_fits_is_returned_unchanged() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "n": [1, 2]})
    signature = Signature((ColumnSpec("x", "float64"), ColumnSpec("n", "int64")))

    assert Enforcer(signature)(frame) is frame


def test_a_missing_column_lists_the_missing_and_the_expected_columns() -> None:
    with pytest.raises(SignatureError) as error:
        enforce(SIGNATURE, pd.DataFrame({"income": [1.0]}))

    assert error.value.missing == ("age", "city")
    assert str(error.value) == (
        "the input lacks column(s) 'age', 'city'; the model expects 'age', 'income', 'city' "
        "(extra columns are dropped)"
    )


def test_text_in_an_int_column_names_the_column_and_both_types() -> None:
    with pytest.raises(SignatureError, match="column 'age': expected int64, found string"):
        enforce(SIGNATURE, _row(age=["forty"]))


def test_every_bad_column_is_reported_at_once() -> None:
    with pytest.raises(SignatureError) as error:
        enforce(SIGNATURE, _row(age=["forty"], income=["high"]))

    assert len(error.value.problems) == 2


def test_extra_columns_are_dropped_and_the_rest_put_in_order() -> None:
    frame = pd.DataFrame({"city": ["Bonn"], "extra": [0], "income": [1.0], "age": [3]})

    assert list(enforce(SIGNATURE, frame).columns) == ["age", "income", "city"]


def test_ints_become_floats() -> None:
    assert enforce(SIGNATURE, _row(income=[2])).dtypes["income"] == np.float64


def test_a_narrower_int_is_widened_and_a_wider_one_narrowed_when_it_fits() -> None:
    signature = Signature((ColumnSpec("n", "int32"),))

    assert (
        enforce(Signature((ColumnSpec("n", "int64"),)), {"n": np.array([1], np.int8)})["n"].dtype
        == np.int64
    )
    assert enforce(signature, {"n": np.array([7], np.int64)})["n"].dtype == np.int32
    with pytest.raises(SignatureError, match="outside the int32 range"):
        enforce(signature, {"n": np.array([2**40], np.int64)})


def test_fractions_never_become_ints() -> None:
    with pytest.raises(SignatureError, match="expected int64, found float64"):
        enforce(SIGNATURE, _row(age=[40.5]))


def test_a_nullable_int_column_accepts_whole_floats_with_gaps() -> None:
    signature = Signature((ColumnSpec("n", "int64", nullable=True),))

    out = enforce(signature, pd.DataFrame({"n": [1.0, np.nan]}))

    assert out["n"].isna().tolist() == [False, True]


def test_missing_values_in_a_column_declared_without_them_are_refused() -> None:
    with pytest.raises(SignatureError, match="'city': has missing values"):
        enforce(SIGNATURE, _row(city=[None]))


def test_nan_in_a_float_column_is_a_value() -> None:
    assert np.isnan(enforce(SIGNATURE, _row(income=[np.nan]))["income"][0])


def test_text_becomes_a_category_where_the_model_has_one() -> None:
    signature = Signature((ColumnSpec("plan", "category"),))

    assert isinstance(enforce(signature, {"plan": ["a"]})["plan"].dtype, pd.CategoricalDtype)


def test_polars_arrow_and_numpy_inputs_are_accepted() -> None:
    numeric = Signature((ColumnSpec("a", "float64"), ColumnSpec("b", "float64")))
    expected = pd.DataFrame({"a": [1.0], "b": [2.0]})

    for data in (
        pl.DataFrame({"a": [1.0], "b": [2.0]}),
        pa.table({"b": [2.0], "a": [1.0]}),
        np.array([[1.0, 2.0]]),
    ):
        pd.testing.assert_frame_equal(enforce(numeric, data), expected)


def test_something_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a str"):
        enforce(SIGNATURE, "age=40")
