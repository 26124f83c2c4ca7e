"""Runs of the SQL store: lifecycle, reads, and the entry points of the other run modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.core.clock import to_ms
from loopml.core.entities import ArtifactInfo, Metric, MetricSeries, Run, RunPage, RunStatus
from loopml.core.errors import ConflictError, NotFoundError, StoreError, ValidationError
from loopml.core.filters import Expr, OrderBy
from loopml.core.ids import check_id, new_id
from loopml.core.validation import check_key, check_name, check_tag_value
from loopml.metadata.base import BaseRunStore, RunCreate, RunUpdate
from loopml.metadata.sql import artifacts, batches, search
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.schema import ExperimentRow, RunRow, TagRow, table_of
from loopml.metadata.sql.snapshots import load_runs, require_run

__all__ = ["SqlRunStore"]

runs = table_of(RunRow)
tags = table_of(TagRow)
experiments = table_of(ExperimentRow)


def _get(connection: Connection, run_id: str) -> Run:
    found = load_runs(connection, [run_id])
    if not found:
        raise NotFoundError(f"run {run_id!r} not found", field="run_id")
    return found[0]


def _existing(connection: Connection, run_id: str, experiment_id: str) -> Run | None:
    """The run ``run_id`` if it exists in ``experiment_id``; ConflictError if elsewhere."""
    row = connection.execute(sa.select(runs.c.experiment_id).where(runs.c.id == run_id)).first()
    if row is None:
        return None
    if row.experiment_id != experiment_id:
        raise ConflictError(
            f"run id {run_id!r} is taken by a run of another experiment", field="run.id"
        )
    return _get(connection, run_id)


class SqlRunStore(BaseRunStore):
    """Runs and everything logged to them, in a SQL database."""

    _db: Database

    def create_run(self, run: RunCreate) -> Run:
        name = check_name(run.name, field="run.name")
        clean_tags = {check_key(k, kind="tag"): check_tag_value(k, v) for k, v in run.tags.items()}
        run_id = new_id() if run.id is None else check_id(run.id, field="run.id")
        row = {
            "id": run_id,
            "experiment_id": run.experiment_id,
            "name": name,
            "status": RunStatus.RUNNING.value,
            "start_time": to_ms(run.start_time),
            "end_time": None,
            "parent_run_id": run.parent_run_id,
            "user": run.user,
            "note": "",
            "error": "",
            "environment": dict(run.environment),
            "deleted": False,
        }

        def work(connection: Connection) -> Run:
            if run.id is not None:  # a retried create returns the run the first one made
                existing = _existing(connection, run_id, run.experiment_id)
                if existing is not None:
                    return existing
            experiment = connection.execute(
                sa.select(experiments.c.deleted).where(experiments.c.id == run.experiment_id)
            ).first()
            if experiment is None:
                raise NotFoundError(
                    f"experiment {run.experiment_id!r} not found", field="experiment_id"
                )
            if experiment.deleted:
                raise ConflictError(
                    f"experiment {run.experiment_id!r} is deleted: start the run in another one",
                    field="experiment_id",
                )
            if run.parent_run_id is not None:
                parent = connection.execute(
                    sa.select(runs.c.id).where(runs.c.id == run.parent_run_id)
                ).first()
                if parent is None:
                    raise NotFoundError(
                        f"parent run {run.parent_run_id!r} not found", field="parent_run_id"
                    )
            connection.execute(runs.insert(), row)
            if clean_tags:
                connection.execute(
                    tags.insert(),
                    [{"run_id": run_id, "key": k, "value": v} for k, v in clean_tags.items()],
                )
            return _get(connection, run_id)

        try:
            # Two creates racing with one client-chosen id: the loser reads the winner's run.
            return self._db.write(work)
        except StoreError:
            if run.id is None:
                raise
            found = self._db.read(lambda c: _existing(c, run_id, run.experiment_id))
            if found is None:
                raise
            return found
        except TypeError as exc:  # the JSON encoder refused the environment
            raise ValidationError(
                f"run environment must be JSON-serialisable: {exc}", field="environment"
            ) from None

    def get_run(self, run_id: str) -> Run:
        return self._db.read(lambda c: _get(c, run_id))

    def update_run(self, run_id: str, update: RunUpdate) -> Run:
        values: dict[str, object] = {}
        if update.status is not None:
            values["status"] = RunStatus(update.status).value
        if update.end_time is not None:
            values["end_time"] = to_ms(update.end_time)
        if update.name is not None:
            values["name"] = check_name(update.name, field="run.name")
        if update.note is not None:
            values["note"] = update.note
        if update.error is not None:
            values["error"] = update.error

        def work(connection: Connection) -> Run:
            require_run(connection, run_id, write=True)
            if values:
                connection.execute(runs.update().where(runs.c.id == run_id).values(values))
            return _get(connection, run_id)

        return self._db.write(work)

    def delete_run(self, run_id: str) -> None:
        self._set_deleted(run_id, True)

    def restore_run(self, run_id: str) -> None:
        self._set_deleted(run_id, False)

    def _set_deleted(self, run_id: str, deleted: bool) -> None:
        def work(connection: Connection) -> None:
            require_run(connection, run_id, write=False)
            connection.execute(runs.update().where(runs.c.id == run_id).values(deleted=deleted))

        self._db.write(work)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        series: Sequence[MetricSeries] = (),
    ) -> None:
        batches.log_batch(self._db, run_id, metrics, params, tags, idempotency_key, series)

    def delete_tag(self, run_id: str, key: str) -> None:
        def work(connection: Connection) -> None:
            require_run(connection, run_id, write=True)
            result = connection.execute(
                tags.delete().where(tags.c.run_id == run_id, tags.c.key == key)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"run {run_id!r} has no tag {key!r}", field=f"tags.{key}")

        self._db.write(work)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return batches.get_metric_history(self._db, run_id, key)

    def get_metric_series(self, run_id: str, key: str) -> MetricSeries:
        """Every point of one metric as columns, in the order of ``get_metric_history``.

        The columns are read-only numpy arrays (``int64`` steps and timestamps, ``float64``
        values): compare them with ``numpy.array_equal`` or ``list(...)``, not ``==``.
        """
        return batches.get_metric_series(self._db, run_id, key)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter: Expr | None = None,
        order_by: Sequence[OrderBy] = (),
        max_results: int = 1000,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> RunPage:
        return search.search_runs(
            self._db, experiment_ids, filter, order_by, max_results, page_token, include_deleted
        )

    def record_artifact(self, run_id: str, artifact: ArtifactInfo) -> None:
        artifacts.record_artifact(self._db, run_id, artifact)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        return artifacts.list_artifacts(self._db, run_id, prefix)
