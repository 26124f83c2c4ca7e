"""What both tools are asked to do: the workload data and the worker protocol.

Standard library only: this module is imported by the loopml worker *and* by the MLflow
worker, which runs in its own virtualenv.

Protocol: the orchestrator starts ``python -m tracking_bench.<tool>_side <command> [args]``
in a fresh temporary directory. The worker writes JSON lines to stdout: any number of
``{"progress": done, "total": n}`` lines, then one ``{"result": {...}}`` line. Logging goes
to stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections.abc import Callable
from typing import Any

EXPERIMENT = "bench"
METRIC_KEY = "loss"

# The search every repetition runs, in each tool's own spelling.
SEARCH_FILTER = "metrics.accuracy > 0.9 and params.model = 'rf' and tags.team = 'a'"
LOOPML_ORDER_BY = ["metrics.accuracy desc"]
MLFLOW_ORDER_BY = ["metrics.accuracy DESC"]
SEARCH_MAX_RESULTS = 100

# A fixed start time for populated runs (2024-01-01 UTC, in ms) keeps both stores identical.
BASE_TIME_MS = 1_704_067_200_000
PROGRESS_EVERY = 1_000

_MODELS = ("rf", "gbm", "lr", "svm")
_TEAMS = ("a", "b", "c")
_STAGES = ("dev", "staging", "prod")


def metric_values(n_points: int) -> list[float]:
    """The values of the ``log_metric`` loop, computed before timing starts."""
    return [1.0 / (step + 1) for step in range(n_points)]


def run_record(index: int) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
    """Params (10), metrics (5) and tags (1-2) of populated run ``index``; deterministic."""
    rng = random.Random(index)
    params = {
        "model": rng.choice(_MODELS),
        "n_estimators": str(rng.choice((50, 100, 200, 400))),
        "max_depth": str(rng.randint(2, 12)),
        "learning_rate": f"{rng.uniform(0.001, 0.3):.4f}",
        "subsample": f"{rng.uniform(0.5, 1.0):.3f}",
        "min_samples_leaf": str(rng.randint(1, 20)),
        "regularization": f"{rng.uniform(0.0, 10.0):.3f}",
        "optimizer": rng.choice(("adam", "sgd", "lbfgs")),
        "seed": str(rng.randint(0, 2**31 - 1)),
        "dataset_version": f"v{rng.randint(1, 5)}",
    }
    metrics = {
        "accuracy": rng.random(),
        "f1": rng.random(),
        "precision": rng.random(),
        "recall": rng.random(),
        "loss": rng.uniform(0.0, 5.0),
    }
    tags = {"team": rng.choice(_TEAMS)}
    if rng.random() < 0.5:
        tags["stage"] = rng.choice(_STAGES)
    return params, metrics, tags


def percentile(samples: list[float], pct: int) -> float:
    """The ``pct``-th percentile with linear interpolation between order statistics."""
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def emit(payload: dict[str, Any]) -> None:
    """Write one protocol line to stdout."""
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def report_progress(done: int, total: int) -> None:
    """Emit a progress line every ``PROGRESS_EVERY`` items (and at the end)."""
    if done % PROGRESS_EVERY == 0 or done == total:
        emit({"progress": done, "total": total})


Command = Callable[[argparse.Namespace], dict[str, Any]]


def run_worker(commands: dict[str, Command]) -> None:
    """Parse ``argv``, run one command and emit its result line."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="tool version and default store")
    log_metric = sub.add_parser("log-metric", help="one run, one log_metric call per point")
    log_metric.add_argument("--points", type=int, required=True)
    populate = sub.add_parser("populate", help="add runs [start, stop) to the default store")
    populate.add_argument("--start", type=int, required=True)
    populate.add_argument("--stop", type=int, required=True)
    add_bulk_parser(sub)
    search = sub.add_parser("search", help="time the three-clause search")
    search.add_argument("--repeats", type=int, required=True)
    args = parser.parse_args()
    emit({"result": commands[args.command](args)})


def bulk_rows(
    start: int, stop: int
) -> list[tuple[int, str, dict[str, str], dict[str, float], dict[str, str]]]:
    """``(index, run_id, params, metrics, tags)`` of runs ``[start, stop)``; ids are deterministic."""
    rows = []
    for index in range(start, stop):
        params, metrics, tags = run_record(index)
        rows.append((index, f"{index:032x}", params, metrics, tags))
    return rows


def add_bulk_parser(sub: Any) -> None:
    bulk = sub.add_parser(
        "populate-bulk",
        help="clone runs [start, stop) into the tool's own SQLite tables (template: run start-1)",
    )
    bulk.add_argument("--start", type=int, required=True)
    bulk.add_argument("--stop", type=int, required=True)
