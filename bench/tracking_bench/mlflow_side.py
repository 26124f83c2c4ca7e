"""The MLflow side of the tracking benchmark; runs in ``bench/.venv-mlflow``.

Every command uses MLflow's default local store for the current directory: no tracking URI
is set (the orchestrator also removes ``MLFLOW_*`` variables from the environment).
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from tracking_bench import common


def info(args: argparse.Namespace) -> dict[str, Any]:
    """MLflow's version and the tracking URI it picks with nothing configured."""
    return {
        "version": mlflow.__version__,
        "module": mlflow.__file__,
        "default_store": mlflow.get_tracking_uri(),
    }


def log_metric(args: argparse.Namespace) -> dict[str, Any]:
    """Log ``--points`` points, one ``mlflow.log_metric`` call each, in one run."""
    values = common.metric_values(args.points)
    mlflow.set_experiment(common.EXPERIMENT)
    with mlflow.start_run(run_name="log-metric"):
        start = time.perf_counter()
        for step, value in enumerate(values):
            mlflow.log_metric(common.METRIC_KEY, value, step=step)
    seconds = time.perf_counter() - start
    return {"points": args.points, "seconds": seconds, "store": mlflow.get_tracking_uri()}


def populate(args: argparse.Namespace) -> dict[str, Any]:
    """Add runs ``[start, stop)`` with ``MlflowClient().create_run`` + ``log_batch``."""
    client = MlflowClient()
    experiment = client.get_experiment_by_name(common.EXPERIMENT)
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(common.EXPERIMENT)
    )
    total = args.stop - args.start
    start = time.perf_counter()
    for done, index in enumerate(range(args.start, args.stop), start=1):
        params, metrics, tags = common.run_record(index)
        timestamp = common.BASE_TIME_MS + index
        run = client.create_run(
            experiment_id, start_time=timestamp, tags=tags, run_name=f"run-{index}"
        )
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(key, value, timestamp, 0) for key, value in metrics.items()],
            params=[Param(key, value) for key, value in params.items()],
        )
        common.report_progress(done, total)
    return {"runs": total, "seconds": time.perf_counter() - start}


def populate_bulk(args: argparse.Namespace) -> dict[str, Any]:
    """Clone runs ``[start, stop)`` straight into MLflow's own SQLite tables.

    Populating 100,000 runs through MLflow's API takes hours on this machine; the search
    being measured does not care how the rows got there. The rows copy every column of
    run ``start - 1`` (created through the API), so MLflow's schema is followed exactly,
    and carry the same params, metrics and tags as the loopml side.
    """
    uri = mlflow.get_tracking_uri()
    path = uri.removeprefix("sqlite:///")
    started = time.perf_counter()
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        template = dict(
            db.execute("SELECT * FROM runs ORDER BY start_time DESC LIMIT 1").fetchone()
        )
        template_tags = {
            r["key"]: r["value"]
            for r in db.execute(
                "SELECT key, value FROM tags WHERE run_uuid = ?", (template["run_uuid"],)
            )
        }
        runs, params, metrics, tags = [], [], [], []
        for index, run_id, run_params, run_metrics, run_tags in common.bulk_rows(
            args.start, args.stop
        ):
            timestamp = common.BASE_TIME_MS + index
            name = f"run-{index}"
            row = dict(template)
            row.update(
                run_uuid=run_id,
                name=name,
                start_time=timestamp,
                end_time=timestamp,
                artifact_uri=template["artifact_uri"].replace(template["run_uuid"], run_id),
            )
            runs.append(row)
            params.extend((k, v, run_id) for k, v in run_params.items())
            metrics.extend((k, v, timestamp, run_id, 0, 0) for k, v in run_metrics.items())
            all_tags = {**template_tags, "mlflow.runName": name, **run_tags}
            tags.extend(
                (k, v, run_id)
                for k, v in all_tags.items()
                if k in run_tags or k.startswith("mlflow.")
            )
        columns = list(runs[0])
        db.executemany(
            f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [tuple(r[c] for c in columns) for r in runs],
        )
        db.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
        db.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)",
            metrics,
        )
        db.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)",
            metrics,
        )
        db.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
    return {"runs": args.stop - args.start, "seconds": time.perf_counter() - started}


def search(args: argparse.Namespace) -> dict[str, Any]:
    """One untimed first call, then ``--repeats`` timed calls of the benchmark search."""

    def once() -> int:
        frame = mlflow.search_runs(
            experiment_names=[common.EXPERIMENT],
            filter_string=common.SEARCH_FILTER,
            order_by=common.MLFLOW_ORDER_BY,
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
