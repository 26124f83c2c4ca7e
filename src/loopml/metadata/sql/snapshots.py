"""Rows to frozen Run snapshots, loaded in bulk, and the run lookup every write starts with."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

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


def _page_queries(dialect: str) -> tuple[sa.Select[Any], ...]:
    """The four queries of :func:`load_runs`, each with one ``ids`` parameter.

    Built once: SQLAlchemy then reuses their compiled form and cache key. On PostgreSQL
    the ids go as one array (``= ANY(:ids)``), so the statement text is the same for every
    page and psycopg prepares it once; elsewhere as an expanding ``IN`` list.
    """

    def among(column: Any) -> ColumnElement[bool]:
        if dialect == "postgresql":
            ids = sa.bindparam("ids", type_=sa.ARRAY(sa.String))
            return column == sa.any_(ids)  # type: ignore[no-any-return]
        return column.in_(sa.bindparam("ids", expanding=True))  # type: ignore[no-any-return]

    return (
        sa.select(params.c.run_id, params.c.key, params.c.value).where(among(params.c.run_id)),
        sa.select(tags.c.run_id, tags.c.key, tags.c.value).where(among(tags.c.run_id)),
        sa.select(
            latest.c.run_id, latest.c.key, latest.c.value, latest.c.step, latest.c.timestamp
        ).where(among(latest.c.run_id)),
        sa.select(runs).where(among(runs.c.id)),
    )


_QUERIES = {dialect: _page_queries(dialect) for dialect in ("postgresql", "sqlite")}


def _load_chunk(connection: Connection, run_ids: Sequence[str]) -> dict[str, Run]:
    ids = {"ids": list(run_ids)}
    params_query, tags_query, metrics_query, runs_query = _QUERIES[connection.dialect.name]
    run_params: dict[str, dict[str, str]] = {run_id: {} for run_id in run_ids}
    run_tags: dict[str, dict[str, str]] = {run_id: {} for run_id in run_ids}
    run_metrics: dict[str, dict[str, Metric]] = {run_id: {} for run_id in run_ids}
    # .all() fetches the rows at once; iterating the result fetches them one by one.
    for run_id, key, value in connection.execute(params_query, ids).all():
        run_params[run_id][key] = value
    for run_id, key, value in connection.execute(tags_query, ids).all():
        run_tags[run_id][key] = value
    for run_id, key, value, step, timestamp in connection.execute(metrics_query, ids).all():
        run_metrics[run_id][key] = Metric(key, metric_value(value), step, timestamp)
    result: dict[str, Run] = {}
    for row in connection.execute(runs_query, ids).all():
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
