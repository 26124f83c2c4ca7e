"""The metadata store interface, split by aggregate.

Contract for every implementation (SQL, REST, and any later one):

* **Snapshots.** Every record returned is a frozen domain object from
  :mod:`loopml.core.entities`; a later write never changes an object already handed out.
* **Atomic writes.** Each method either applies completely or not at all. ``log_batch``
  writes its metrics, params and tags in one transaction.
* **Idempotent batches.** A ``log_batch`` call that carries an ``idempotency_key`` already
  applied to that run is a no-op, so a retried request never duplicates a metric point.
* **Thread safety.** A store object may be shared by the threads of one process; each call
  uses its own connection or session. Several processes may open the same store.
* **Errors.** Unknown ids raise :class:`~loopml.core.errors.NotFoundError`; name clashes
  :class:`~loopml.core.errors.AlreadyExistsError`; writes to a finished or deleted run
  :class:`~loopml.core.errors.ConflictError`; bad input
  :class:`~loopml.core.errors.ValidationError`. No backend-specific error escapes.
* **Values.** Metric values round-trip exactly, NaN and +/-Inf included. Params are text
  and immutable: logging a different value for a logged key is a ConflictError, the same
  value again is a no-op. Tags are text and may be overwritten.

The contract is executable: :mod:`loopml.testing.metadata_contract` runs the same tests
against every implementation.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loopml.core.entities import (
    ArtifactInfo,
    Experiment,
    Metric,
    MetricSeries,
    Project,
    Run,
    RunPage,
    RunStatus,
)
from loopml.core.filters import Expr, OrderBy
from loopml.metadata.datasets_base import BaseDatasetStore
from loopml.metadata.models_base import BaseModelStore

__all__ = [
    "BaseExperimentStore",
    "BaseMetadataStore",
    "BaseProjectStore",
    "BaseRunStore",
    "RunCreate",
    "RunUpdate",
]


@dataclass(frozen=True, slots=True)
class RunCreate:
    """What a new run starts with.

    ``id`` is chosen by the caller when given (a REST client does, so that a retried
    request cannot start a second run); a store makes a fresh one when it is None.
    """

    experiment_id: str
    name: str
    start_time: datetime
    parent_run_id: str | None = None
    user: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class RunUpdate:
    """Fields to change on a run; None leaves a field as it is."""

    status: RunStatus | None = None
    end_time: datetime | None = None
    name: str | None = None
    note: str | None = None
    error: str | None = None


class BaseProjectStore(abc.ABC):
    """Projects: the top of the record tree, one per ``loopml.yaml``."""

    @abc.abstractmethod
    def create_project(self, name: str, description: str = "") -> Project:
        """Create a project; AlreadyExistsError if the name is taken."""

    @abc.abstractmethod
    def get_project(self, project_id: str) -> Project:
        """The project with this id; NotFoundError otherwise."""

    @abc.abstractmethod
    def get_project_by_name(self, name: str) -> Project:
        """The project with this name; NotFoundError otherwise."""

    @abc.abstractmethod
    def list_projects(self) -> list[Project]:
        """All projects, by name."""

    def ensure_project(self, name: str, description: str = "") -> Project:
        """The project with this name, created if missing (safe under concurrency)."""
        from loopml.core.errors import AlreadyExistsError, NotFoundError

        try:
            return self.get_project_by_name(name)
        except NotFoundError:
            try:
                return self.create_project(name, description)
            except AlreadyExistsError:
                return self.get_project_by_name(name)


class BaseExperimentStore(abc.ABC):
    """Experiments: named groups of runs inside a project."""

    @abc.abstractmethod
    def create_experiment(
        self,
        project_id: str,
        name: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> Experiment:
        """Create an experiment; AlreadyExistsError if the project has one of that name."""

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id; NotFoundError otherwise."""

    @abc.abstractmethod
    def get_experiment_by_name(self, project_id: str, name: str) -> Experiment:
        """The project's experiment with this name; NotFoundError otherwise."""

    @abc.abstractmethod
    def list_experiments(self, project_id: str, include_deleted: bool = False) -> list[Experiment]:
        """The project's experiments, by name."""

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Mark an experiment and its runs deleted (records are kept)."""

    def ensure_experiment(self, project_id: str, name: str) -> Experiment:
        """The experiment with this name, created if missing (safe under concurrency)."""
        from loopml.core.errors import AlreadyExistsError, NotFoundError

        try:
            return self.get_experiment_by_name(project_id, name)
        except NotFoundError:
            try:
                return self.create_experiment(project_id, name)
            except AlreadyExistsError:
                return self.get_experiment_by_name(project_id, name)


class BaseRunStore(abc.ABC):
    """Runs and everything logged to them."""

    @abc.abstractmethod
    def create_run(self, run: RunCreate) -> Run:
        """Start a run in status ``running``; NotFoundError for an unknown experiment or parent."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with its params, latest metrics and tags; NotFoundError otherwise."""

    @abc.abstractmethod
    def update_run(self, run_id: str, update: RunUpdate) -> Run:
        """Change status, end time, name, note or error; returns the updated run."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Mark a run deleted: it leaves search results but its records are kept."""

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None:
        """Undo ``delete_run``."""

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        series: Sequence[MetricSeries] = (),
    ) -> None:
        """Write metric points, params and tags in one transaction.

        ``metrics`` and ``series`` are two shapes of the same thing: single points, and
        columns of many points of one key (the fast path of the SDK's buffered logging).
        Both may be given; all points are stored.

        Raises:
            ConflictError: the run is deleted, or a param already holds another value.
        """

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag; NotFoundError if the run has no such tag."""

    @abc.abstractmethod
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, ordered by step then timestamp."""

    @abc.abstractmethod
    def get_metric_series(self, run_id: str, key: str) -> MetricSeries:
        """Every point of one metric as columns, in the order of ``get_metric_history``.

        The fast read for charts: a million points come back as three arrays.
        """

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter: Expr | None = None,
        order_by: Sequence[OrderBy] = (),
        max_results: int = 1000,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> RunPage:
        """Runs of these experiments matching ``filter``, ordered, one page at a time.

        Without ``order_by`` runs come newest first. Runs that lack an ordering metric or
        param come last. ``page_token`` is the opaque token of the previous page.
        """

    @abc.abstractmethod
    def record_artifact(self, run_id: str, artifact: ArtifactInfo) -> None:
        """Record (or replace) a stored artifact file of a run."""

    @abc.abstractmethod
    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        """The run's recorded artifact files under ``prefix``, by path."""


class BaseMetadataStore(
    BaseProjectStore, BaseExperimentStore, BaseRunStore, BaseDatasetStore, BaseModelStore
):
    """Every aggregate's store in one object, as services receive it."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The store must not be used afterwards."""

    def __enter__(self) -> BaseMetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
