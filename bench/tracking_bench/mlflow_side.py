"""The MLflow side of the tracking benchmark; runs in ``bench/.venv-mlflow``.

Every command uses MLflow's default local store for the current directory: no tracking URI
is set (the orchestrator also removes ``MLFLOW_*`` variables from the environment).
"""

from __future__ import annotations

import argparse
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
        {"info": info, "log-metric": log_metric, "populate": populate, "search": search}
    )
