"""Metric points, params and tags written in one transaction, and metric history reads.

``log_batch`` is the hot path of tracking (an SDK flushes thousands of points at a time):
its points are checked and gathered per key as numpy columns
(:mod:`~loopml.metadata.metric_columns`) and written as one chunk row per key
(:mod:`~loopml.metadata.sql.metric_chunks`), never one row per point. The latest point per
key is kept in ``latest_metrics`` by an ``INSERT ... ON CONFLICT DO UPDATE`` in the same
transaction.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from loopml.core.entities import Metric, MetricSeries
from loopml.core.errors import ConflictError, ValidationError
from loopml.core.validation import check_key, check_param_value, check_tag_value
from loopml.metadata.metric_columns import columns_by_key
from loopml.metadata.sql import metric_chunks
from loopml.metadata.sql.driver import DriverStatement
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.schema import (
    BatchKeyRow,
    LatestMetricRow,
    ParamRow,
    RunRow,
    TagRow,
    table_of,
)
from loopml.metadata.sql.snapshots import require_run

__all__ = ["get_metric_history", "get_metric_series", "log_batch", "numeric_value"]

latest = table_of(LatestMetricRow)
params_table = table_of(ParamRow)
tags_table = table_of(TagRow)
batch_keys = table_of(BatchKeyRow)
runs_table = table_of(RunRow)

MAX_IDEMPOTENCY_KEY = 128


def numeric_value(text: str) -> float | None:
    """The param text as a finite number, or None, so ``params.lr > 0.01`` can compare."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class _Statements:
    """The statements of log_batch for one dialect, built once (building them is slow).

    The three of every metric batch run on the driver's cursor (:class:`DriverStatement`).
    """

    key_insert: DriverStatement
    param_insert: Any
    tag_upsert: Any
    latest_upsert: DriverStatement
    chunk_insert: DriverStatement


@functools.cache
def _statements(dialect: sa.Dialect) -> _Statements:
    insert: Any = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    tag_insert = insert(tags_table)
    latest_insert = insert(latest)
    live_run = sa.exists().where(
        runs_table.c.id == sa.bindparam("run_id"), runs_table.c.deleted == sa.false()
    )
    return _Statements(
        # Records the key only for a run that exists and is not deleted: the one
        # statement stands for the run look-up too in the common case.
        key_insert=DriverStatement(
            insert(batch_keys)
            .from_select(
                ["run_id", "key"],
                sa.select(
                    sa.bindparam("run_id", type_=sa.String), sa.bindparam("key", type_=sa.String)
                ).where(live_run),
            )
            .on_conflict_do_nothing()
            .returning(batch_keys.c.key),
            dialect,
        ),
        param_insert=insert(params_table).on_conflict_do_nothing(),
        tag_upsert=tag_insert.on_conflict_do_update(
            index_elements=[tags_table.c.run_id, tags_table.c.key],
            set_={"value": tag_insert.excluded.value},
        ),
        latest_upsert=DriverStatement(
            latest_insert.on_conflict_do_update(
                index_elements=[latest.c.run_id, latest.c.key],
                set_={
                    "value": latest_insert.excluded.value,
                    "step": latest_insert.excluded.step,
                    "timestamp": latest_insert.excluded.timestamp,
                },
                where=sa.or_(
                    latest_insert.excluded.step > latest.c.step,
                    sa.and_(
                        latest_insert.excluded.step == latest.c.step,
                        latest_insert.excluded.timestamp >= latest.c.timestamp,
                    ),
                ),
            ),
            dialect,
        ),
        chunk_insert=DriverStatement(
            metric_chunks.chunks.insert(),
            dialect,
            [column.name for column in metric_chunks.chunks.c if column.name != "id"],
        ),
    )


def log_batch(
    db: Database,
    run_id: str,
    metrics: Sequence[Metric] = (),
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
    series: Sequence[MetricSeries] = (),
) -> None:
    """Write metric points and series, params and tags of a run in one transaction.

    Within one call a key's ``series`` points come first, in the order given, then its
    single ``metrics`` points: that is their logging order where step and timestamp tie.

    Raises:
        NotFoundError: unknown run.
        ConflictError: the run is deleted, or a param already holds another value.
        ValidationError: a bad key, value, step or timestamp, or series columns of unequal
            length (nothing is written).
    """
    columns = columns_by_key(metrics, series)
    chunk_rows = [row for one in columns for row in metric_chunks.chunk_rows(run_id, one)]
    latest_rows = [metric_chunks.latest_row(run_id, one) for one in columns]
    param_values = {
        check_key(k, kind="param"): check_param_value(k, v) for k, v in (params or {}).items()
    }
    tag_rows = [
        {"run_id": run_id, "key": check_key(k, kind="tag"), "value": check_tag_value(k, v)}
        for k, v in (tags or {}).items()
    ]
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY
    ):
        raise ValidationError(
            f"idempotency_key must be 1-{MAX_IDEMPOTENCY_KEY} characters, got {idempotency_key!r}",
            field="idempotency_key",
        )
    statements = _statements(db.engine.dialect)

    def work(connection: Connection) -> None:
        if idempotency_key is None:
            require_run(connection, run_id, write=True)
        else:
            # RETURNING, not rowcount: drivers may report -1 for an INSERT.
            cursor = statements.key_insert.execute(
                connection, {"run_id": run_id, "key": idempotency_key}
            )
            applied = cursor.fetchone()
            cursor.close()
            if applied is None:
                # Not recorded: an unknown or deleted run (raises), or a retried request.
                require_run(connection, run_id, write=True)
                return
        if param_values:
            _write_params(connection, run_id, param_values, statements.param_insert)
        if tag_rows:
            connection.execute(statements.tag_upsert, tag_rows)
        if chunk_rows:
            statements.chunk_insert.execute_many(connection, chunk_rows)
            statements.latest_upsert.execute_many(connection, latest_rows)

    db.write(work)


def _write_params(connection: Connection, run_id: str, values: dict[str, str], insert: Any) -> None:
    """Insert new params; the same value again is a no-op, another value a ConflictError."""
    keys = list(values)
    query = sa.select(params_table.c.key, params_table.c.value).where(
        params_table.c.run_id == run_id, params_table.c.key.in_(keys)
    )
    stored = {key: value for key, value in connection.execute(query)}
    _raise_on_changed(run_id, values, stored)
    new = [
        {"run_id": run_id, "key": k, "value": v, "value_num": numeric_value(v)}
        for k, v in values.items()
        if k not in stored
    ]
    if not new:
        return
    connection.execute(insert, new)
    # A concurrent writer may have logged one of these keys between the read and the
    # insert (DO NOTHING kept its value): read again and compare.
    _raise_on_changed(run_id, values, {key: value for key, value in connection.execute(query)})


def _raise_on_changed(run_id: str, values: dict[str, str], stored: dict[str, str]) -> None:
    for key, value in values.items():
        if key in stored and stored[key] != value:
            raise ConflictError(
                f"param {key!r} of run {run_id!r} is already {stored[key]!r}, cannot change it "
                f"to {value!r}: params are immutable; log the new value under another key or "
                "start a new run",
                field=f"params.{key}",
            )


def get_metric_series(db: Database, run_id: str, key: str) -> MetricSeries:
    """Every point of one metric of a run as columns, ordered by step then timestamp.

    The columns are read-only numpy arrays (``int64`` steps and timestamps, ``float64``
    values); points with equal step and timestamp keep their logging order.
    """

    def work(connection: Connection) -> MetricSeries:
        require_run(connection, run_id, write=False)
        return metric_chunks.read_series(connection, run_id, key)

    return db.read(work)


def get_metric_history(db: Database, run_id: str, key: str) -> list[Metric]:
    """Every point of one metric of a run, ordered by step then timestamp."""
    series = get_metric_series(db, run_id, key)
    steps, timestamps, values = (
        np.asarray(column).tolist() for column in (series.steps, series.timestamps, series.values)
    )
    return [
        Metric(key, value, step, timestamp)
        for step, timestamp, value in zip(steps, timestamps, values, strict=True)
    ]
