"""The MLflow client side of the server benchmark; runs in ``bench/.venv-mlflow``.

``batch``: one run, ``--points`` points in ``MlflowClient.log_batch`` calls of 1,000
``mlflow.entities.Metric`` objects against the server at ``--url``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Metric

from server_bench import common


def batch(args: argparse.Namespace) -> dict[str, Any]:
    client = MlflowClient(tracking_uri=args.url)
    name = f"batch-{args.points}"
    experiment = client.get_experiment_by_name(name)
    experiment_id = (
        experiment.experiment_id if experiment is not None else client.create_experiment(name)
    )
    run = client.create_run(experiment_id, run_name="batch")
    run_id = run.info.run_id
    points = common.batch_points(args.points)
    calls = [
        [Metric(common.METRIC_KEY, v, t, s) for s, t, v in points[i : i + common.BATCH_SIZE]]
        for i in range(0, args.points, common.BATCH_SIZE)
    ]
    latencies_ms = []
    start = time.perf_counter()
    for done, metrics in enumerate(calls, start=1):
        sent = time.perf_counter()
        client.log_batch(run_id, metrics=metrics)
        latencies_ms.append((time.perf_counter() - sent) * 1e3)
        common.emit({"progress": done, "total": len(calls)})
    seconds = time.perf_counter() - start
    stored = len(client.get_metric_history(run_id, common.METRIC_KEY))
    return {
        "points": args.points,
        "calls": len(calls),
        "seconds": seconds,
        "points_per_s": args.points / seconds,
        "stored_points": stored,
        "call_latency": common.summarize(latencies_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("batch")
    p.add_argument("--url", required=True)
    p.add_argument("--points", type=int, required=True)
    args = parser.parse_args()
    common.emit({"result": batch(args)})


if __name__ == "__main__":
    main()
