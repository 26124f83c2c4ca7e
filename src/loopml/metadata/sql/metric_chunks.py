"""Metric history as columnar chunks: one row holds many points of one key.

A chunk stores its steps, timestamps and values as the bytes of little-endian ``int64``,
``int64`` and ``float64`` arrays, so writing 5,000 points is one row insert rather than
5,000 (and one index entry rather than 5,000), and NaN and +/-Inf survive exactly. A
``log_batch`` writes one chunk per key, split at :data:`MAX_CHUNK_POINTS` so no row is
huge. Reads concatenate a key's chunks in insertion order (``id``) and sort the points by
step then timestamp with a stable sort, so equal ``(step, timestamp)`` keep logging order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.core.entities import MetricSeries
from loopml.metadata.metric_columns import FLOAT, INT, FloatArray, IntArray, KeyColumns
from loopml.metadata.sql.schema import MetricChunkRow, table_of
from loopml.metadata.sql.snapshots import stored_value

__all__ = ["MAX_CHUNK_POINTS", "chunk_rows", "latest_row", "read_series", "stable_order"]

chunks = table_of(MetricChunkRow)

# 100,000 points are 2.4 MB of column bytes: big enough to keep rows few, small enough
# for any driver and for PostgreSQL's TOAST to handle without fuss.
MAX_CHUNK_POINTS = 100_000


def chunk_rows(run_id: str, columns: KeyColumns) -> list[dict[str, Any]]:
    """The chunk rows of one key's points, at most ``MAX_CHUNK_POINTS`` points each."""
    rows = []
    for start in range(0, len(columns), MAX_CHUNK_POINTS):
        end = start + MAX_CHUNK_POINTS
        steps = columns.steps[start:end]
        rows.append(
            {
                "run_id": run_id,
                "key": columns.key,
                "n_points": len(steps),
                "min_step": int(steps.min()),
                "max_step": int(steps.max()),
                "step_bytes": steps.tobytes(),
                "timestamp_bytes": columns.timestamps[start:end].tobytes(),
                "value_bytes": columns.values[start:end].tobytes(),
            }
        )
    return rows


def latest_row(run_id: str, columns: KeyColumns) -> dict[str, Any]:
    """The ``latest_metrics`` row of one key: highest step, then latest timestamp, then last.

    Linear, no sort: the last point among those with the highest step and, of these, the
    latest timestamp.
    """
    steps, timestamps = columns.steps, columns.timestamps
    top = np.flatnonzero(steps == steps.max())
    top_times = timestamps[top]
    index = int(top[np.flatnonzero(top_times == top_times.max())[-1]])
    return {
        "run_id": run_id,
        "key": columns.key,
        "step": int(steps[index]),
        "timestamp": int(timestamps[index]),
        "value": stored_value(float(columns.values[index])),
    }


def stable_order(steps: IntArray, timestamps: IntArray) -> IntArray | None:
    """The permutation sorting points by step then timestamp, ties kept; None if sorted."""
    if len(steps) < 2:
        return None
    step_up = np.diff(steps)
    if ((step_up > 0) | ((step_up == 0) & (np.diff(timestamps) >= 0))).all():
        return None  # the common case: logged in order
    # Two stable passes, minor key first: np.lexsort does the same, but its stability
    # is an implementation detail, while kind="stable" is a promise.
    order = np.argsort(timestamps, kind="stable")
    return order[np.argsort(steps[order], kind="stable")]


def read_series(connection: Connection, run_id: str, key: str) -> MetricSeries:
    """Every point of one key as read-only numpy columns, ordered by step then timestamp."""
    query = (
        sa.select(chunks.c.step_bytes, chunks.c.timestamp_bytes, chunks.c.value_bytes)
        .where(chunks.c.run_id == run_id, chunks.c.key == key)
        .order_by(chunks.c.id)
    )
    rows = connection.execute(query).all()
    steps: IntArray = _join([row[0] for row in rows], INT)
    timestamps: IntArray = _join([row[1] for row in rows], INT)
    values: FloatArray = _join([row[2] for row in rows], FLOAT)
    order = stable_order(steps, timestamps)
    if order is not None:
        steps, timestamps, values = steps[order], timestamps[order], values[order]
    for column in (steps, timestamps, values):
        column.flags.writeable = False  # a snapshot: later writes never change it
    # numpy arrays are sequences in all but name (len, indexing, iteration).
    return MetricSeries(
        key,
        cast(Sequence[int], steps),
        cast(Sequence[int], timestamps),
        cast(Sequence[float], values),
    )


def _join(blobs: list[bytes], dtype: np.dtype[Any]) -> Any:
    """One array from the column bytes of several chunks (a fresh, owned array)."""
    if not blobs:
        return np.empty(0, dtype=dtype)
    return np.concatenate([np.frombuffer(blob, dtype=dtype) for blob in blobs])
