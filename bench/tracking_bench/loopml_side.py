"""The loopml side of the tracking benchmark; runs in loopml's own virtualenv.

Every command uses loopml's default local store: ``.loopml/`` in the current directory
(the orchestrator removes ``LOOPML_*`` variables from the environment, and the ``info``
command reports where the store actually is).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import loopml
from loopml.metadata.base import RunCreate
from tracking_bench import common


def info(args: argparse.Namespace) -> dict[str, Any]:
    """loopml's version and the stores it opens with nothing configured."""
    settings = loopml.load_settings()
    return {
        "version": loopml.__version__,
        "module": loopml.__file__,
        "default_store": settings.store_url,
        "home_is_cwd": settings.home == Path.cwd().resolve() / ".loopml",
    }


def log_metric(args: argparse.Namespace) -> dict[str, Any]:
    """Log ``--points`` points, one ``run.log_metric`` call each, in one run.

    The clock stops after the ``with`` block: loopml buffers points and writes the rest
    when the run ends, so that write is part of the measured time.
    """
    values = common.metric_values(args.points)
    with loopml.start_run(experiment=common.EXPERIMENT, name="log-metric") as run:
        start = time.perf_counter()
        for step, value in enumerate(values):
            run.log_metric(common.METRIC_KEY, value, step=step)
    seconds = time.perf_counter() - start
    stored = len(loopml.get_metric_history(run.id, common.METRIC_KEY))
    return {"points": args.points, "seconds": seconds, "stored_points": stored}


def populate(args: argparse.Namespace) -> dict[str, Any]:
    """Add runs ``[start, stop)`` through the metadata store: ``create_run`` + ``log_batch``.

    This is the same shape as the MLflow side (``MlflowClient().create_run`` +
    ``log_batch``), on the public store interface the SDK itself is built on.
    """
    client = loopml.Client()
    store = client.metadata
    experiment = store.ensure_experiment(client.project.id, common.EXPERIMENT)
    total = args.stop - args.start
    start = time.perf_counter()
    for done, index in enumerate(range(args.start, args.stop), start=1):
        params, metrics, tags = common.run_record(index)
        timestamp = common.BASE_TIME_MS + index
        run = store.create_run(
            RunCreate(
                experiment_id=experiment.id,
                name=f"run-{index}",
                start_time=datetime.fromtimestamp(timestamp / 1e3, tz=UTC),
                tags=tags,
            )
        )
        store.log_batch(
            run.id,
            metrics=[loopml.Metric(key, value, 0, timestamp) for key, value in metrics.items()],
            params=params,
        )
        common.report_progress(done, total)
    seconds = time.perf_counter() - start
    client.close()
    return {"runs": total, "seconds": seconds}


def populate_bulk(args: argparse.Namespace) -> dict[str, Any]:
    """Clone runs ``[start, stop)`` straight into loopml's own SQLite tables.

    The same shortcut as the MLflow side: rows copy every column of the newest run
    (created through the API) and carry the same params, metrics and tags.
    """
    import json
    import sqlite3
    import struct

    path = loopml.load_settings().store_url.removeprefix("sqlite:///")
    started = time.perf_counter()
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        template = dict(
            db.execute("SELECT * FROM runs ORDER BY start_time DESC LIMIT 1").fetchone()
        )
        runs, params, tags, latest, chunks = [], [], [], [], []
        for index, run_id, run_params, run_metrics, run_tags in common.bulk_rows(
            args.start, args.stop
        ):
            timestamp = common.BASE_TIME_MS + index
            row = dict(template)
            row.update(id=run_id, name=f"run-{index}", start_time=timestamp, end_time=timestamp)
            if isinstance(row.get("environment"), dict):
                row["environment"] = json.dumps(row["environment"])
            runs.append(row)
            for key, value in run_params.items():
                try:
                    number: float | None = float(value)
                except ValueError:
                    number = None
                params.append((run_id, key, value, number))
            tags.extend((run_id, k, v) for k, v in run_tags.items())
            for key, value in run_metrics.items():
                latest.append((run_id, key, 0, timestamp, value))
                chunks.append(
                    (
                        run_id,
                        key,
                        1,
                        0,
                        0,
                        struct.pack("<q", 0),
                        struct.pack("<q", timestamp),
                        struct.pack("<d", value),
                    )
                )
        columns = list(runs[0])
        db.executemany(
            f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [tuple(r[c] for c in columns) for r in runs],
        )
        db.executemany(
            "INSERT INTO params (run_id, key, value, value_num) VALUES (?, ?, ?, ?)", params
        )
        db.executemany("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)", tags)
        db.executemany(
            "INSERT INTO latest_metrics (run_id, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)",
            latest,
        )
        db.executemany(
            "INSERT INTO metric_chunks (run_id, key, n_points, min_step, max_step, step_bytes, timestamp_bytes,"
            " value_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            chunks,
        )
    return {"runs": args.stop - args.start, "seconds": time.perf_counter() - started}


def search(args: argparse.Namespace) -> dict[str, Any]:
    """One untimed first call, then ``--repeats`` timed calls of the benchmark search."""

    def once() -> int:
        frame = loopml.search_runs(
            experiment=common.EXPERIMENT,
            filter=common.SEARCH_FILTER,
            order_by=common.LOOPML_ORDER_BY,
            max_results=common.SEARCH_MAX_RESULTS,
        )
        return len(frame)

    start = time.perf_counter()
    rows = once()
    first_call_ms = (time.perf_counter() - start) * 1e3
    latencies_ms = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        once()
        latencies_ms.append((time.perf_counter() - start) * 1e3)
    return {"rows": rows, "first_call_ms": first_call_ms, "latencies_ms": latencies_ms}


if __name__ == "__main__":
    common.run_worker(
        {
            "info": info,
            "log-metric": log_metric,
            "populate": populate,
            "populate-bulk": populate_bulk,
            "search": search,
        }
    )
