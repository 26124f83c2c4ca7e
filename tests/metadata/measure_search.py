"""Measure the SQL store on SQLite: log_batch throughput and search p50 over 100k runs.

Not a test (tests never assert on time); run it by hand::

    python tests/metadata/measure_search.py [n_runs] [folder]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def main(n_runs: int = 100_000, folder: str | None = None) -> None:
    from loopml.core.clock import now_ms
    from loopml.core.entities import Metric
    from loopml.core.filters import parse_filter, parse_order_by
    from loopml.core.ids import new_id
    from loopml.metadata.base import RunCreate
    from loopml.metadata.sql import SqlMetadataStore
    from loopml.metadata.sql.batches import numeric_value
    from loopml.metadata.sql.schema import LatestMetricRow, ParamRow, RunRow, TagRow, table_of

    root = Path(folder or tempfile.mkdtemp(prefix="loopml-measure-"))
    url = f"sqlite:///{root}/loopml.db"
    store = SqlMetadataStore(url)
    project = store.ensure_project("measure")
    experiment = store.ensure_experiment(project.id, "search")

    # log_batch: 100,000 points in batches of 1,000, as the SDK flushes them.
    run = store.create_run(RunCreate(experiment.id, "throughput", datetime.now(UTC)))
    batches = [
        [Metric("loss", random.random(), b * 1000 + i, now_ms()) for i in range(1000)]
        for b in range(100)
    ]
    start = time.perf_counter()
    for batch in batches:
        store.log_batch(run.id, batch)
    elapsed = time.perf_counter() - start
    print(f"log_batch: 100,000 points in {elapsed:.3f} s ({100_000 / elapsed:,.0f} points/s)")

    # Search: n_runs runs with 10 params, 5 metrics and 2 tags each, bulk-loaded.
    rng = random.Random(7)
    db = store._db
    start_ms = now_ms()
    for first in range(0, n_runs, 5_000):
        runs, params, metrics, tags = [], [], [], []
        for index in range(first, min(first + 5_000, n_runs)):
            run_id = new_id()
            runs.append(
                {
                    "id": run_id, "experiment_id": experiment.id, "name": f"run-{index}",
                    "status": "finished", "start_time": start_ms - index * 1000,
                    "end_time": None, "parent_run_id": None, "user": "ann", "note": "",
                    "error": "", "environment": {}, "deleted": False,
                }
            )  # fmt: skip
            values = {"model": rng.choice(["rf", "xgb", "lr"]), "lr": str(rng.random())}
            values.update({f"p{k}": str(rng.randint(0, 100)) for k in range(8)})
            params += [
                {"run_id": run_id, "key": k, "value": v, "value_num": numeric_value(v)}
                for k, v in values.items()
            ]
            metric_values = {"accuracy": rng.random()} | {f"m{k}": rng.random() for k in range(4)}
            metrics += [
                {"run_id": run_id, "key": k, "value": v, "step": 0, "timestamp": 0}
                for k, v in metric_values.items()
            ]
            tags += [
                {"run_id": run_id, "key": "team", "value": rng.choice(["a", "b"])},
                {"run_id": run_id, "key": "stage", "value": "dev"},
            ]

        def load(connection, runs=runs, params=params, metrics=metrics, tags=tags):  # type: ignore[no-untyped-def]
            connection.execute(table_of(RunRow).insert(), runs)
            connection.execute(table_of(ParamRow).insert(), params)
            connection.execute(table_of(LatestMetricRow).insert(), metrics)
            connection.execute(table_of(TagRow).insert(), tags)

        db.write(load)
    print(f"loaded {n_runs:,} runs into {root}")

    query = parse_filter("metrics.accuracy > 0.9 and params.model = 'rf' and tags.team = 'a'")
    order = parse_order_by(["metrics.accuracy desc"])
    timings = []
    for _ in range(21):
        start = time.perf_counter()
        page = store.search_runs([experiment.id], query, order, max_results=100)
        timings.append(time.perf_counter() - start)
    assert len(page.runs) == 100
    accuracies = [r.metrics["accuracy"].value for r in page.runs]
    assert accuracies == sorted(accuracies, reverse=True)
    print(
        f"search over {n_runs:,} runs (3 clauses, order by metric, 100 results): "
        f"p50 {statistics.median(timings) * 1000:.1f} ms, min {min(timings) * 1000:.1f} ms, "
        f"max {max(timings) * 1000:.1f} ms"
    )
    for label, where in (("no filter", None), ("3 clauses", query)):
        start = time.perf_counter()
        store.search_runs([experiment.id], where, max_results=100)
        elapsed_ms = (time.perf_counter() - start) * 1000
        print(f"search, {label}, default order, 100 results: {elapsed_ms:.1f} ms")
    store.close()


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
        sys.argv[2] if len(sys.argv) > 2 else None,
    )
