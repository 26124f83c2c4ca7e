"""What the server benchmark asks of each side: workload data and the worker protocol.

Standard library only: imported by the loopml worker and by the MLflow worker, which runs
in its own virtualenv. The protocol is the tracking benchmark's (``tracking_bench.common``):
JSON lines on stdout, ``{"progress": done, "total": n}`` then one ``{"result": {...}}``.
"""

from __future__ import annotations

import statistics
from typing import Any

from tracking_bench.common import (
    BASE_TIME_MS,
    EXPERIMENT,
    METRIC_KEY,
    SEARCH_FILTER,
    SEARCH_MAX_RESULTS,
    emit,
    percentile,
    run_record,
)

__all__ = [
    "BASE_TIME_MS",
    "BATCH_SIZE",
    "EXPERIMENT",
    "METRIC_KEY",
    "PROJECT",
    "SEARCH_FILTER",
    "SEARCH_MAX_RESULTS",
    "SEARCH_ORDER_BY",
    "batch_points",
    "emit",
    "percentile",
    "run_record",
    "summarize",
]

PROJECT = "bench"
BATCH_SIZE = 1_000  # points per log_batch call (MLflow's own limit per request)
SEARCH_ORDER_BY = "metrics.accuracy desc"


def batch_points(n_points: int) -> list[tuple[int, int, float]]:
    """``(step, timestamp, value)`` of the batch workload, computed before timing starts."""
    return [(step, BASE_TIME_MS + step, 1.0 / (step + 1)) for step in range(n_points)]


def summarize(latencies_ms: list[float]) -> dict[str, Any]:
    """Count, mean and the percentiles every latency workload reports."""
    if len(latencies_ms) < 2:
        return {"n": len(latencies_ms)}
    return {
        "n": len(latencies_ms),
        "mean_ms": statistics.fmean(latencies_ms),
        "min_ms": min(latencies_ms),
        "p50_ms": percentile(latencies_ms, 50),
        "p95_ms": percentile(latencies_ms, 95),
        "p99_ms": percentile(latencies_ms, 99),
        "max_ms": max(latencies_ms),
    }
