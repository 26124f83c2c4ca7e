from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopml.core.errors import ValidationError
from loopml.core.profiles import QUANTILE_LEVELS, ColumnKind, DatasetProfile
from loopml.datasets.profile import profile_dataset


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 5_000
    income = rng.lognormal(10, 1, n)
    income[rng.random(n) < 0.1] = np.nan  # pandas NaN becomes an Arrow null
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "income": income,
            "plan": rng.choice(["basic", "pro", "team", "free"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "comment": [f"comment number {i}" for i in range(n)],
            "active": rng.random(n) < 0.25,
        }
    )


@pytest.fixture(scope="module")
def table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.fixture(scope="module")
def profile(table: pa.Table) -> DatasetProfile:
    return profile_dataset(table)


def test_numeric_statistics_match_numpy(frame: pd.DataFrame, profile: DatasetProfile) -> None:
    for name in ("age", "income"):
        values = frame[name].dropna().to_numpy(dtype=float)
        column = profile.column(name)
        assert column.kind is ColumnKind.NUMERIC
        assert column.n_nulls == frame[name].isna().sum()
        assert column.min == values.min()
        assert column.max == values.max()
        assert column.mean == pytest.approx(values.mean(), rel=1e-12)
        assert column.std == pytest.approx(values.std(), rel=1e-9)
        assert column.quantiles is not None
        assert column.quantiles.levels == QUANTILE_LEVELS
        assert not column.quantiles.approximate
        expected = np.quantile(values, QUANTILE_LEVELS)
        np.testing.assert_allclose(column.quantiles.values, expected, rtol=1e-12)
        assert column.n_distinct == len(np.unique(values))
        assert not column.distinct_is_approximate


def test_histogram_counts_match_numpy(frame: pd.DataFrame, profile: DatasetProfile) -> None:
    values = frame["income"].dropna().to_numpy()
    histogram = profile.column("income").histogram
    assert histogram is not None
    counts, edges = np.histogram(values, bins=20)
    np.testing.assert_allclose(histogram.edges, edges, rtol=1e-12)
    assert histogram.counts == tuple(counts)


def test_categorical_top_k_matches_value_counts(frame: pd.DataFrame, table: pa.Table) -> None:
    plan = profile_dataset(table, top_k=3).column("plan")
    truth = frame["plan"].value_counts()
    assert plan.kind is ColumnKind.CATEGORICAL
    assert plan.n_distinct == 4
    assert plan.top_k is not None
    assert plan.top_k.values == tuple(truth.index[:3])
    assert plan.top_k.counts == tuple(truth.to_numpy()[:3])
    assert plan.top_k.n_other == truth.iloc[3]
    assert plan.lengths is not None
    lengths = frame["plan"].str.len()
    assert (plan.lengths.min, plan.lengths.max) == (lengths.min(), lengths.max())
    assert plan.lengths.mean == pytest.approx(lengths.mean())


def test_high_cardinality_strings_are_text_with_length_statistics(
    profile: DatasetProfile,
) -> None:
    comment = profile.column("comment")
    assert comment.kind is ColumnKind.TEXT
    assert comment.top_k is None
    assert comment.n_distinct == 5_000
    assert comment.lengths is not None
    assert (comment.lengths.min, comment.lengths.max) == (16, 19)


def test_booleans_count_true_and_false(frame: pd.DataFrame, profile: DatasetProfile) -> None:
    active = profile.column("active")
    n_true = int(frame["active"].sum())
    assert active.kind is ColumnKind.BOOLEAN
    assert active.top_k is not None
    assert dict(zip(active.top_k.values, active.top_k.counts, strict=True)) == {
        "true": n_true,
        "false": 5_000 - n_true,
    }
    assert active.n_distinct == 2


def test_nan_and_infinity_are_counted_apart_and_kept_out_of_the_statistics() -> None:
    values = pa.array([1.0, math.nan, math.inf, -math.inf, None, 3.0], pa.float64())
    column = profile_dataset(pa.table({"x": values})).column("x")
    assert (column.n_rows, column.n_nulls, column.n_nan, column.n_inf) == (6, 1, 1, 2)
    assert (column.min, column.max, column.mean, column.std) == (1.0, 3.0, 2.0, 1.0)
    assert column.histogram is not None
    assert sum(column.histogram.counts) == column.n_finite == 2


def test_all_null_and_all_nan_columns_have_counts_and_no_statistics() -> None:
    table = pa.table(
        {
            "nulls": pa.nulls(4, pa.float64()),
            "nans": pa.array([math.nan] * 4),
            "words": pa.nulls(4, pa.string()),
            "nothing": pa.nulls(4),
        }
    )
    profile = profile_dataset(table)
    for name in ("nulls", "nans"):
        column = profile.column(name)
        assert column.kind is ColumnKind.NUMERIC
        assert column.min is None
        assert column.mean is None
        assert column.histogram is None
    assert profile.column("nulls").n_nulls == 4
    assert profile.column("nans").n_nan == 4
    assert profile.column("words").lengths is None
    assert profile.column("nothing").kind is ColumnKind.OTHER
    assert profile.column("nothing").n_nulls == 4


def test_a_constant_column_has_one_bin() -> None:
    column = profile_dataset(pa.table({"x": [5, 5, 5]})).column("x")
    assert column.histogram is not None
    assert column.histogram.edges == (5.0, 5.0)
    assert column.histogram.counts == (3,)
    assert column.std == 0.0


def test_empty_strings_are_values_and_counted() -> None:
    column = profile_dataset(pa.table({"s": ["", "", "a", "a", None]})).column("s")
    assert column.n_empty == 2
    assert column.top_k is not None
    assert set(column.top_k.values) == {"", "a"}
    assert column.lengths is not None
    assert column.lengths.min == 0


def test_a_table_without_rows_profiles_to_zero_counts() -> None:
    schema = pa.schema([("x", pa.float64()), ("s", pa.string()), ("b", pa.bool_())])
    profile = profile_dataset(schema.empty_table())
    assert profile.n_rows == 0
    assert profile.n_columns == 3
    for column in profile.columns:
        assert (column.n_rows, column.n_nulls, column.n_distinct) == (0, 0, 0)
    assert profile.column("x").histogram is None
    assert DatasetProfile.from_dict(profile.to_dict()) == profile


def test_datetimes_keep_their_range() -> None:
    times = pa.array(
        [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 3, 1, 12, tzinfo=UTC), None],
        pa.timestamp("us", tz="UTC"),
    )
    column = profile_dataset(pa.table({"t": times})).column("t")
    assert column.kind is ColumnKind.DATETIME
    assert column.min_time is not None
    assert column.min_time.startswith("2024-01-01")
    assert column.max_time is not None
    assert column.max_time.startswith("2024-03-01 12:00")


def test_large_data_is_approximated_within_a_few_percent() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(0, 1, 200_000)
    ids = rng.integers(0, 50_000, 200_000)
    column = profile_dataset(pa.table({"x": values}), approximate_above=0).column("x")
    assert column.distinct_is_approximate
    assert column.n_distinct == pytest.approx(200_000, rel=0.03)
    assert column.quantiles is not None
    assert column.quantiles.approximate
    levels = np.asarray(column.quantiles.levels)
    # t-digest quantiles land within half a percentile of the true rank
    ranks = np.searchsorted(np.sort(values), column.quantiles.values) / values.size
    np.testing.assert_allclose(ranks, levels, atol=0.005)
    ids_column = profile_dataset(pa.table({"id": ids}), approximate_above=0).column("id")
    assert ids_column.n_distinct == pytest.approx(len(np.unique(ids)), rel=0.03)


def test_parquet_files_profile_like_the_table(table: pa.Table, tmp_path: Path) -> None:
    pq.write_table(table.slice(0, 2_000), tmp_path / "a.parquet")
    pq.write_table(table.slice(2_000), tmp_path / "b.parquet")
    pq.write_table(table, tmp_path / "all.parquet")
    expected = profile_dataset(table)
    for source in (
        [tmp_path / "a.parquet", str(tmp_path / "b.parquet")],
        tmp_path / "all.parquet",
    ):
        profile = profile_dataset(source)
        assert profile.n_rows == expected.n_rows
        for got, want in zip(profile.columns, expected.columns, strict=True):
            # Sums may add up in another order: means and deviations agree to rounding.
            if want.mean is not None:
                assert got.mean == pytest.approx(want.mean, rel=1e-12)
                assert got.std == pytest.approx(want.std, rel=1e-9)
            assert replace(got, mean=None, std=None) == replace(want, mean=None, std=None)


def _rounded(value: object) -> object:
    """A profile dict with floats to 10 significant digits: DuckDB's parallel sums may
    differ in the last bits from one run to the next."""
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def test_pandas_and_polars_frames_are_accepted(frame: pd.DataFrame, table: pa.Table) -> None:
    expected = [_rounded(c.to_dict()) for c in profile_dataset(table).columns]
    assert [_rounded(c.to_dict()) for c in profile_dataset(frame).columns] == expected
    age = profile_dataset(pl.from_pandas(frame)).column("age")
    assert _rounded(age.to_dict()) == expected[0]


def test_dictionary_encoded_and_oddly_named_columns() -> None:
    table = pa.table(
        {
            'a "quoted" name': pa.array(["x", "y", "x", "x"]).dictionary_encode(),
            "half": pa.array(np.array([1, 2, 3, 4], dtype=np.float16)),
        }
    )
    profile = profile_dataset(table)
    assert profile.column('a "quoted" name').kind is ColumnKind.CATEGORICAL
    assert profile.column("half").mean == 2.5


def test_a_profile_is_stamped_with_its_time() -> None:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    assert profile_dataset(pa.table({"x": [1]}), created_at=when).created_at == when


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"top_k": -1}, "top_k"),
        ({"n_bins": 0}, "n_bins"),
        ({"quantile_levels": (0.5, 0.1)}, "quantile_levels"),
        ({"quantile_levels": (0.5, 1.5)}, "quantile_levels"),
        ({"max_categories": True}, "max_categories"),
        ({"memory_limit": "lots"}, "memory_limit"),
    ],
)
def test_bad_arguments_name_themselves(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        profile_dataset(pa.table({"x": [1]}), **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_bad_sources_are_refused(tmp_path: Path) -> None:
    (tmp_path / "junk.parquet").write_text("not parquet")
    sources: list[object] = [[], tmp_path / "missing.parquet", tmp_path / "junk.parquet", 42]
    for source in sources:
        with pytest.raises(ValidationError) as caught:
            profile_dataset(source)
        assert caught.value.field == "source"


def test_parquet_files_with_different_columns_are_read_by_name(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"a": [2.5], "c": [True]}), tmp_path / "2.parquet")
    profile = profile_dataset(sorted(tmp_path.glob("*.parquet")))
    assert profile.names == ("a", "b", "c")
    assert profile.column("a").type == "double"
    assert profile.column("a").mean == pytest.approx(5.5 / 3)
    assert (profile.column("b").n_nulls, profile.column("c").n_nulls) == (1, 2)
