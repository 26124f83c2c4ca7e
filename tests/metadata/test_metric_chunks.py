"""Metric history in the SQL store: columnar chunks, and numpy columns checked as lists are."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from loopml.core.entities import Metric, MetricSeries
from loopml.core.errors import ValidationError
from loopml.metadata.base import RunCreate
from loopml.metadata.sql import SqlMetadataStore
from loopml.metadata.sql.metric_chunks import MAX_CHUNK_POINTS


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    store = SqlMetadataStore(f"sqlite:///{tmp_path}/loopml.db")
    yield store
    store.close()


@pytest.fixture
def run_id(store: SqlMetadataStore) -> str:
    experiment = store.ensure_experiment(store.ensure_project("p").id, "e")
    return store.create_run(RunCreate(experiment.id, "r", datetime.now(UTC))).id


def _chunks(store: SqlMetadataStore) -> list[tuple[str, int, int, int]]:
    with store._db.engine.connect() as connection:
        query = "SELECT key, n_points, min_step, max_step FROM metric_chunks ORDER BY id"
        return [tuple(row) for row in connection.exec_driver_sql(query)]


def test_a_batch_writes_one_chunk_per_key(store: SqlMetadataStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        [Metric("loss", 0.1, 7, 0), Metric("acc", 0.5, 3, 0), Metric("loss", 0.2, 1, 0)],
        series=[MetricSeries("loss", [4, 2], [0, 0], [1.0, 2.0])],
    )
    assert _chunks(store) == [("loss", 4, 1, 7), ("acc", 1, 3, 3)]


def test_long_series_are_split_into_bounded_chunks(store: SqlMetadataStore, run_id: str) -> None:
    n_points = 2 * MAX_CHUNK_POINTS + 5
    steps = np.arange(n_points)
    store.log_batch(run_id, series=[MetricSeries("m", steps, steps, steps * 0.5)])  # type: ignore[arg-type]
    assert [n for _, n, _, _ in _chunks(store)] == [MAX_CHUNK_POINTS, MAX_CHUNK_POINTS, 5]
    series = store.get_metric_series(run_id, "m")
    assert np.array_equal(series.steps, steps)
    assert np.array_equal(series.values, steps * 0.5)


def test_metric_series_columns_are_read_only_numpy_arrays(
    store: SqlMetadataStore, run_id: str
) -> None:
    store.log_batch(run_id, series=[MetricSeries("m", [1, 0], [0, 0], [1.0, 0.0])])
    series = store.get_metric_series(run_id, "m")
    for column, dtype in zip(
        (series.steps, series.timestamps, series.values), ("int64", "int64", "float64"), strict=True
    ):
        assert isinstance(column, np.ndarray)
        assert column.dtype == dtype
        with pytest.raises(ValueError, match="read-only"):
            column[0] = 5


def test_numpy_columns_are_stored_like_lists(store: SqlMetadataStore, run_id: str) -> None:
    store.log_batch(
        run_id,
        series=[
            MetricSeries(
                "m",
                np.array([0, 1], dtype=np.uint32),  # type: ignore[arg-type]
                np.array([5, 6], dtype=np.int32),  # type: ignore[arg-type]
                np.array([0.5, np.inf], dtype=np.float32),  # type: ignore[arg-type]
            )
        ],
    )
    assert store.get_metric_history(run_id, "m") == [
        Metric("m", 0.5, 0, 5),
        Metric("m", np.inf, 1, 6),
    ]


@pytest.mark.parametrize(
    ("steps", "timestamps", "values", "field"),
    [
        (np.array([0.0, 1.0]), [0, 1], [1.0, 2.0], "metrics.m.step"),
        (np.array([0, 2**63], dtype=np.uint64), [0, 1], [1.0, 2.0], "metrics.m.step"),
        ([0, 2**64], [0, 1], [1.0, 2.0], "metrics.m.step"),
        ([0, 1], np.array([0, -1]), [1.0, 2.0], "metrics.m.timestamp"),
        ([0, 1], [0, 1], np.array([True, False]), "metrics.m"),
        ([0, 1], [0, 1], np.array(["1", "2"]), "metrics.m"),
        ([0, 1], [0, 1], [1.0, 10**400], "metrics.m"),
        (np.zeros((2, 1), dtype=np.int64), [0, 1], [1.0, 2.0], "metrics.m"),
    ],
)
def test_bad_numpy_columns_raise_validation_naming_the_field(
    store: SqlMetadataStore,
    run_id: str,
    steps: object,
    timestamps: object,
    values: object,
    field: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        store.log_batch(run_id, series=[MetricSeries("m", steps, timestamps, values)])  # type: ignore[arg-type]
    assert caught.value.field == field
    assert _chunks(store) == []
