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
        {"info": info, "log-metric": log_metric, "populate": populate, "search": search}
    )
