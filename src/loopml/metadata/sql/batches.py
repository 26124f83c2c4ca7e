"""Metric points, params and tags written in one transaction, and metric history reads.

``log_batch`` is the hot path of tracking (an SDK flushes ~1,000 points at a time), so it
uses Core ``executemany`` inserts, never ORM objects. The latest point per key is kept in
``latest_metrics`` by an ``INSERT ... ON CONFLICT DO UPDATE`` in the same transaction.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from loopml.core.entities import Metric
from loopml.core.errors import ConflictError, ValidationError
from loopml.core.validation import (
    check_key,
    check_metric_value,
    check_param_value,
    check_step,
    check_tag_value,
)
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.schema import (
    BatchKeyRow,
    LatestMetricRow,
    MetricRow,
    ParamRow,
    TagRow,
    table_of,
)
from loopml.metadata.sql.snapshots import metric_value, require_run

__all__ = ["get_metric_history", "log_batch", "numeric_value"]

metrics_table = table_of(MetricRow)
latest = table_of(LatestMetricRow)
params_table = table_of(ParamRow)
tags_table = table_of(TagRow)
batch_keys = table_of(BatchKeyRow)

MAX_IDEMPOTENCY_KEY = 128


def numeric_value(text: str) -> float | None:
    """The param text as a finite number, or None, so ``params.lr > 0.01`` can compare."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _check_timestamp(key: str, timestamp: object) -> int:
    if isinstance(timestamp, int) and not isinstance(timestamp, bool) and timestamp >= 0:
        return timestamp
    raise ValidationError(
        f"metric {key!r}: timestamp must be integer milliseconds since the epoch, "
        f"got {timestamp!r}",
        field=f"metrics.{key}.timestamp",
    )


# Column order of a metric point row; the points travel as tuples (the hot path).
_POINT_COLUMNS = ("run_id", "key", "step", "timestamp", "value")
_STEP_AND_TIME = operator.itemgetter(2, 3)


def _metric_rows(run_id: str, metrics: Sequence[Metric]) -> list[tuple[Any, ...]]:
    """Checked rows, NaN as NULL. Plain floats and ints take the fast path."""
    rows = []
    checked: set[str] = set()
    for metric in metrics:
        key, value, step, timestamp = metric.key, metric.value, metric.step, metric.timestamp
        if key not in checked:
            checked.add(check_key(key, kind="metric"))
        if type(value) is not float:
            value = check_metric_value(key, value)
        if type(step) is not int or step < 0:
            step = check_step(key, step)
        if type(timestamp) is not int or timestamp < 0:
            timestamp = _check_timestamp(key, timestamp)
        rows.append((run_id, key, step, timestamp, None if value != value else value))
    return rows


def _latest_rows(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """One row per key: the highest step, then the latest timestamp, then the last given."""
    # A stable sort by (step, timestamp), then the last row per key wins.
    best = {row[1]: row for row in sorted(rows, key=_STEP_AND_TIME)}
    return [dict(zip(_POINT_COLUMNS, row, strict=True)) for row in best.values()]


@dataclass(frozen=True)
class _Statements:
    """The statements of log_batch for one dialect, built once (building them is slow)."""

    key_insert: Any
    param_insert: Any
    tag_upsert: Any
    latest_upsert: Any
    point_insert: str
    positional: bool


@functools.cache
def _statements(dialect: sa.Dialect) -> _Statements:
    insert: Any = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    tag_insert = insert(tags_table)
    latest_insert = insert(latest)
    # Compiled once from the table, so executemany can skip per-row parameter processing.
    point_insert = metrics_table.insert().compile(dialect=dialect, column_keys=_POINT_COLUMNS)
    assert point_insert.positional == bool(point_insert.positiontup)
    if point_insert.positiontup is not None:
        assert tuple(point_insert.positiontup) == _POINT_COLUMNS
    return _Statements(
        key_insert=insert(batch_keys).on_conflict_do_nothing().returning(batch_keys.c.key),
        param_insert=insert(params_table).on_conflict_do_nothing(),
        tag_upsert=tag_insert.on_conflict_do_update(
            index_elements=[tags_table.c.run_id, tags_table.c.key],
            set_={"value": tag_insert.excluded.value},
        ),
        latest_upsert=latest_insert.on_conflict_do_update(
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
        point_insert=point_insert.string,
        positional=point_insert.positional,
    )


def log_batch(
    db: Database,
    run_id: str,
    metrics: Sequence[Metric] = (),
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
) -> None:
    """Write metric points, params and tags of a run in one transaction.

    Raises:
        NotFoundError: unknown run.
        ConflictError: the run is deleted, or a param already holds another value.
        ValidationError: a bad key, value, step or timestamp (nothing is written).
    """
    metric_rows = _metric_rows(run_id, metrics)
    latest_rows = _latest_rows(metric_rows)
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
    point_rows: list[Any] = metric_rows
    if not statements.positional:
        point_rows = [dict(zip(_POINT_COLUMNS, row, strict=True)) for row in metric_rows]

    def work(connection: Connection) -> None:
        require_run(connection, run_id, write=True)
        if idempotency_key is not None:
            # RETURNING, not rowcount: drivers may report -1 for an INSERT.
            applied = connection.execute(
                statements.key_insert, {"run_id": run_id, "key": idempotency_key}
            )
            if applied.first() is None:
                return  # this batch was written before: a retried request
        if param_values:
            _write_params(connection, run_id, param_values, statements.param_insert)
        if tag_rows:
            connection.execute(statements.tag_upsert, tag_rows)
        if metric_rows:
            connection.exec_driver_sql(statements.point_insert, point_rows)
            connection.execute(statements.latest_upsert, latest_rows)

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


def get_metric_history(db: Database, run_id: str, key: str) -> list[Metric]:
    """Every point of one metric of a run, ordered by step then timestamp."""
    query = (
        sa.select(metrics_table.c.step, metrics_table.c.timestamp, metrics_table.c.value)
        .where(metrics_table.c.run_id == run_id, metrics_table.c.key == key)
        .order_by(metrics_table.c.step, metrics_table.c.timestamp, metrics_table.c.id)
    )

    def work(connection: Connection) -> list[Metric]:
        require_run(connection, run_id, write=False)
        return [
            Metric(key, metric_value(value), step, timestamp)
            for step, timestamp, value in connection.execute(query)
        ]

    return db.read(work)
