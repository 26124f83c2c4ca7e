"""Rows to frozen Run snapshots, loaded in bulk, and the run lookup every write starts with."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.core.clock import from_ms
from loopml.core.entities import Metric, Run, RunStatus, frozen_mapping
from loopml.core.errors import ConflictError, NotFoundError
from loopml.metadata.sql.schema import LatestMetricRow, ParamRow, RunRow, TagRow, table_of

__all__ = ["load_runs", "metric_value", "require_run", "stored_value"]

runs = table_of(RunRow)
params = table_of(ParamRow)
tags = table_of(TagRow)
latest = table_of(LatestMetricRow)

# Bound parameters per IN list; well under every backend's limit.
_CHUNK = 500


def stored_value(value: float) -> float | None:
    """The column value of a metric: NaN becomes NULL, +/-Inf stay."""
    return None if math.isnan(value) else value


def metric_value(value: float | None) -> float:
    """The metric value of a column: NULL is NaN."""
    return math.nan if value is None else float(value)


def require_run(connection: Connection, run_id: str, *, write: bool) -> sa.Row[Any, Any]:
    """The run's row; NotFoundError if unknown, ConflictError if deleted and ``write``."""
    row = connection.execute(
        sa.select(runs.c.id, runs.c.deleted).where(runs.c.id == run_id)
    ).first()
    if row is None:
        raise NotFoundError(f"run {run_id!r} not found", field="run_id")
    if write and row.deleted:
        raise ConflictError(
            f"run {run_id!r} is deleted: restore it (loopml runs restore {run_id}) before "
            "writing to it",
            field="run_id",
        )
    return row


def load_runs(connection: Connection, run_ids: Sequence[str]) -> list[Run]:
    """The runs with these ids, in this order, each with params, latest metrics and tags.

    Four queries per chunk of ids, whatever the number of runs (no N+1).
    """
    found: dict[str, Run] = {}
    for start in range(0, len(run_ids), _CHUNK):
        found.update(_load_chunk(connection, run_ids[start : start + _CHUNK]))
    return [found[run_id] for run_id in run_ids if run_id in found]


def _load_chunk(connection: Connection, run_ids: Sequence[str]) -> dict[str, Run]:
    ids = list(run_ids)
    run_params: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    run_tags: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    run_metrics: dict[str, dict[str, Metric]] = {run_id: {} for run_id in ids}
    for run_id, key, value in connection.execute(
        sa.select(params.c.run_id, params.c.key, params.c.value).where(params.c.run_id.in_(ids))
    ):
        run_params[run_id][key] = value
    for run_id, key, value in connection.execute(
        sa.select(tags.c.run_id, tags.c.key, tags.c.value).where(tags.c.run_id.in_(ids))
    ):
        run_tags[run_id][key] = value
    for run_id, key, value, step, timestamp in connection.execute(
        sa.select(
            latest.c.run_id, latest.c.key, latest.c.value, latest.c.step, latest.c.timestamp
        ).where(latest.c.run_id.in_(ids))
    ):
        run_metrics[run_id][key] = Metric(key, metric_value(value), step, timestamp)
    result: dict[str, Run] = {}
    for row in connection.execute(sa.select(runs).where(runs.c.id.in_(ids))):
        result[row.id] = Run(
            id=row.id,
            experiment_id=row.experiment_id,
            name=row.name,
            status=RunStatus(row.status),
            start_time=from_ms(row.start_time),
            end_time=None if row.end_time is None else from_ms(row.end_time),
            parent_run_id=row.parent_run_id,
            user=row.user,
            note=row.note,
            error=row.error,
            params=frozen_mapping(run_params[row.id]),
            metrics=frozen_mapping(run_metrics[row.id]),
            tags=frozen_mapping(run_tags[row.id]),
            environment=frozen_mapping(row.environment or {}),
            deleted=bool(row.deleted),
        )
    return result
