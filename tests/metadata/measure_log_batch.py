"""Measure metric logging into the SQL store on SQLite: series, points and reads.

Not a test (tests never assert on time); run it by hand::

    python tests/metadata/measure_log_batch.py [repeats] [folder]

Each shape stores 100,000 points of one key into a fresh run and reports the best of
``repeats`` rounds:

* ``series (lists)``: 20 ``log_batch(series=[...])`` calls of 5,000 points, columns as lists;
* ``series (numpy)``: the same with numpy columns;
* ``points``: 100 ``log_batch`` calls of 1,000 ``Metric`` points;
* ``loop + flush``: a Python loop appending 100,000 points to three lists, flushed as a
  series every 5,000 points (what a buffering SDK does);

then the reads of those 100,000 points (``get_metric_series``, ``get_metric_history``).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from loopml.core.entities import Metric, MetricSeries
from loopml.metadata.base import RunCreate
from loopml.metadata.sql import SqlMetadataStore

N_POINTS = 100_000
KEY = "loss"


def _best(repeats: int, round_: Callable[[], float]) -> float:
    return min(round_() for _ in range(repeats))


def main(repeats: int = 3, folder: str | None = None) -> None:
    root = Path(folder or tempfile.mkdtemp(prefix="loopml-measure-"))
    store = SqlMetadataStore(f"sqlite:///{root}/loopml.db")
    experiment = store.ensure_experiment(store.ensure_project("measure").id, "log_batch")
    rng = random.Random(7)
    steps = list(range(N_POINTS))
    timestamps = [1_714_564_800_000 + step for step in steps]
    values = [rng.random() for _ in steps]
    run_ids: list[str] = []

    def new_run() -> str:
        run_ids.append(store.create_run(RunCreate(experiment.id, "m", datetime.now(UTC))).id)
        return run_ids[-1]

    def series_round(size: int, as_numpy: bool) -> Callable[[], float]:
        def cut(column: list[Any], i: int) -> Any:
            return np.asarray(column[i : i + size]) if as_numpy else column[i : i + size]

        parts = [
            MetricSeries(KEY, cut(steps, i), cut(timestamps, i), cut(values, i))
            for i in range(0, N_POINTS, size)
        ]

        def round_() -> float:
            run_id = new_run()
            start = time.perf_counter()
            for part in parts:
                store.log_batch(run_id, series=[part])
            return time.perf_counter() - start

        return round_

    def points_round() -> float:
        points = [Metric(KEY, v, s, t) for s, t, v in zip(steps, timestamps, values, strict=True)]
        batches = [points[i : i + 1_000] for i in range(0, N_POINTS, 1_000)]
        run_id = new_run()
        start = time.perf_counter()
        for batch in batches:
            store.log_batch(run_id, batch)
        return time.perf_counter() - start

    def loop_round() -> float:
        run_id = new_run()
        start = time.perf_counter()
        buffer: tuple[list[int], list[int], list[float]] = ([], [], [])
        for step in range(N_POINTS):
            buffer[0].append(step)
            buffer[1].append(timestamps[step])
            buffer[2].append(values[step])
            if len(buffer[0]) == 5_000:
                store.log_batch(run_id, series=[MetricSeries(KEY, *buffer)])
                buffer = ([], [], [])
        return time.perf_counter() - start

    report = {
        "series (lists), 20 x 5,000": _best(repeats, series_round(5_000, as_numpy=False)),
        "series (numpy), 20 x 5,000": _best(repeats, series_round(5_000, as_numpy=True)),
        "points, 100 x 1,000 Metric": _best(repeats, points_round),
        "loop + flush every 5,000": _best(repeats, loop_round),
    }
    for name, elapsed in report.items():
        print(f"write {name:28} {elapsed:7.3f} s  ({N_POINTS / elapsed:>12,.0f} points/s)")

    run_id = run_ids[-1]
    reads: dict[str, Callable[[], object]] = {
        "get_metric_series": lambda: store.get_metric_series(run_id, KEY),
        "get_metric_history": lambda: store.get_metric_history(run_id, KEY),
    }
    for name, read in reads.items():

        def timed(read: Callable[[], object] = read) -> float:
            start = time.perf_counter()
            read()
            return time.perf_counter() - start

        print(f"read  {name:28} {_best(repeats, timed):7.3f} s")
    store.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 3, args[1] if len(args) > 1 else None)
