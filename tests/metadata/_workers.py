"""Functions that child processes run; imported by module name, so kept out of test files."""

from __future__ import annotations

from loopml.core.entities import Metric
from loopml.metadata.sql import SqlMetadataStore


def log_points(url: str, run_id: str, key: str, n_batches: int, batch_size: int) -> None:
    """Open the store and log ``n_batches`` batches of ``batch_size`` points of ``key``."""
    with SqlMetadataStore(url) as store:
        for batch in range(n_batches):
            first = batch * batch_size
            points = [
                Metric(key, float(step), step, 1_000 + step)
                for step in range(first, first + batch_size)
            ]
            store.log_batch(run_id, points, idempotency_key=f"{key}-{batch}")
