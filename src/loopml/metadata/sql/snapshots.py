"""Rows to frozen Run snapshots, loaded in bulk, and the run lookup every write starts with."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from loopml.core.clock import from_ms
from loopml.core.entities import Metric, Run, RunStatus, frozen_mapping
from loopml.core.errors import ConflictError, NotFoundError
from loopml.metadata.sql.driver import DriverStatement
from loopml.metadata.sql.schema import LatestMetricRow, ParamRow, RunRow, TagRow, table_of

__all__ = ["load_runs", "metric_value", "require_run", "runs_of_rows", "stored_value"]

runs = table_of(RunRow)
params = table_of(ParamRow)
tags = table_of(TagRow)
latest = table_of(LatestMetricRow)

# Bound parameters per IN list; well under every backend's limit.
_CHUNK = 500
# Every write starts with this look-up; built once, so SQLAlchemy reuses its compiled form.
_RUN_QUERY = sa.select(runs.c.id, runs.c.deleted).where(runs.c.id == sa.bindparam("run_id"))


def stored_value(value: float) -> float | None:
    """The column value of a metric: NaN becomes NULL, +/-Inf stay."""
    return None if math.isnan(value) else value


def metric_value(value: float | None) -> float:
    """The metric value of a column: NULL is NaN."""
    return math.nan if value is None else float(value)


def require_run(connection: Connection, run_id: str, *, write: bool) -> sa.Row[Any, Any]:
    """The run's row; NotFoundError if unknown, ConflictError if deleted and ``write``."""
    row = connection.execute(_RUN_QUERY, {"run_id": run_id}).first()
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

    Two queries per chunk of ids, whatever the number of runs (no N+1).
    """
    rows: list[sa.Row[Any]] = []
    for start in range(0, len(run_ids), _CHUNK):
        chunk = {"ids": list(run_ids[start : start + _CHUNK])}
        rows += connection.execute(_QUERIES[connection.dialect.name].runs, chunk).all()
    by_id = {row.id: row for row in rows}
    return runs_of_rows(connection, [by_id[run_id] for run_id in run_ids if run_id in by_id])


def runs_of_rows(connection: Connection, rows: Sequence[sa.Row[Any]]) -> list[Run]:
    """Snapshots of these ``runs`` rows (every column), in order, with what they logged.

    One query per chunk of rows loads the params, tags and latest metrics of all of them.
    """
    result: list[Run] = []
    for start in range(0, len(rows), _CHUNK):
        result += _runs_of_chunk(connection, rows[start : start + _CHUNK])
    return result


@dataclass(frozen=True)
class _Queries:
    """The statements of a page load for one dialect, each with one ``ids`` parameter.

    Built once: SQLAlchemy then reuses their compiled form and cache key. On PostgreSQL
    the ids go as one array (``= ANY(:ids)``), so the statement text is the same for every
    page and psycopg prepares it once; elsewhere as an expanding ``IN`` list.
    """

    runs: sa.Select[Any]
    children: sa.CompoundSelect[Any]


def _queries(dialect: str) -> _Queries:
    def among(column: Any) -> ColumnElement[bool]:
        if dialect == "postgresql":
            ids = sa.bindparam("ids", type_=sa.ARRAY(sa.String))
            return column == sa.any_(ids)  # type: ignore[no-any-return]
        return column.in_(sa.bindparam("ids", expanding=True))  # type: ignore[no-any-return]

    no_text = sa.cast(sa.null(), sa.Text)
    no_number = sa.cast(sa.null(), sa.Float(53))
    no_int = sa.cast(sa.null(), sa.BigInteger)
    # One round trip for all three kinds: (kind, run_id, key, text, number, step, time).
    children = sa.union_all(
        sa.select(
            sa.literal_column(str(_PARAM)), params.c.run_id, params.c.key, params.c.value,
            no_number, no_int, no_int,
        ).where(among(params.c.run_id)),
        sa.select(
            sa.literal_column(str(_TAG)), tags.c.run_id, tags.c.key, tags.c.value,
            no_number, no_int, no_int,
        ).where(among(tags.c.run_id)),
        sa.select(
            sa.literal_column(str(_METRIC)), latest.c.run_id, latest.c.key, no_text,
            latest.c.value, latest.c.step, latest.c.timestamp,
        ).where(among(latest.c.run_id)),
    )  # fmt: skip
    return _Queries(runs=sa.select(runs).where(among(runs.c.id)), children=children)


_PARAM, _TAG, _METRIC = 0, 1, 2
_QUERIES = {dialect: _queries(dialect) for dialect in ("postgresql", "sqlite")}


def _children(connection: Connection, ids: list[str]) -> Sequence[Any]:
    """The (kind, run_id, key, text, number, step, time) rows of these runs."""
    if connection.dialect.name != "postgresql":
        # .all() fetches the rows at once; iterating the result fetches them one by one.
        return connection.execute(_QUERIES["sqlite"].children, {"ids": ids}).all()
    # A page's thousands of rows as the driver's plain tuples (one array parameter).
    cursor = _driver_children(connection.dialect).execute(connection, {"ids": ids})
    try:
        rows: list[Any] = cursor.fetchall()
    finally:
        cursor.close()
    return rows


@functools.cache
def _driver_children(dialect: sa.Dialect) -> DriverStatement:
    return DriverStatement(_QUERIES["postgresql"].children, dialect)


def _runs_of_chunk(connection: Connection, rows: Sequence[sa.Row[Any]]) -> list[Run]:
    ids = [row.id for row in rows]
    logged: dict[str, tuple[dict[str, str], dict[str, str], dict[str, Metric]]] = {
        run_id: ({}, {}, {}) for run_id in ids
    }
    for kind, run_id, key, text, number, step, timestamp in _children(connection, ids):
        if kind == _METRIC:
            logged[run_id][2][key] = Metric(key, metric_value(number), step, timestamp)
        else:
            logged[run_id][kind][key] = text
    result = []
    for row in rows:
        run_params, run_tags, run_metrics = logged[row.id]
        # The dicts are this function's own: a read-only view needs no copy.
        result.append(
            Run(
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
                params=MappingProxyType(run_params),
                metrics=MappingProxyType(run_metrics),
                tags=MappingProxyType(run_tags),
                environment=frozen_mapping(row.environment or {}),
                deleted=bool(row.deleted),
            )
        )
    return result
