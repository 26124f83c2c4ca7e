"""Experiment tracking: the domain rules, written against the two store interfaces.

The service knows nothing of SQL, HTTP or the terminal: it receives a metadata store, an
artifact store and the project it works in, and every surface (SDK, CLI, REST, UI) calls
it for the same operation under the same name.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.paths import check_relpath, join_relpath
from loopml.core import clock
from loopml.core.datasets import (
    DatasetVersion,
    LineageDirection,
    LineageEdge,
    parse_dataset_ref,
)
from loopml.core.entities import ArtifactInfo, Experiment, Metric, Project, Run, RunStatus
from loopml.core.errors import ConflictError, NotFoundError, ValidationError
from loopml.core.filters import Compare, Field, parse_filter, parse_order_by
from loopml.core.ids import ID_PATTERN, check_id
from loopml.core.validation import (
    check_key,
    check_metric_value,
    check_name,
    check_param_value,
    check_step,
    check_tag_value,
)
from loopml.metadata.base import BaseMetadataStore, RunCreate, RunUpdate
from loopml.tracking.environment import capture_environment
from loopml.tracking.names import random_run_name
from loopml.tracking.seeding import current_seeds

__all__ = ["MAX_SEARCH_RESULTS", "TrackingService", "artifact_root"]

MAX_SEARCH_RESULTS = 50_000
_PAGE_SIZE = 1_000
_PREFIX_PATTERN = re.compile(r"[0-9a-f]{4,31}")


def artifact_root(run_id: str) -> str:
    """Where a run's artifacts live inside the artifact store."""
    return f"runs/{check_id(run_id, field='run_id')}/artifacts"


class TrackingService:
    """Experiments, runs, their logged values and artifacts, inside one project.

    Args:
        metadata: Where records live.
        artifacts: Where files live.
        project: The project every experiment belongs to.
    """

    def __init__(
        self, metadata: BaseMetadataStore, artifacts: BaseArtifactStore, project: Project
    ) -> None:
        self.metadata = metadata
        self.artifacts = artifacts
        self.project = project

    # -- experiments -------------------------------------------------------------------

    def create_experiment(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> Experiment:
        name = check_name(name, field="experiment")
        clean_tags = {
            check_key(k, kind="tag"): check_tag_value(k, v) for k, v in (tags or {}).items()
        }
        return self.metadata.create_experiment(self.project.id, name, description, clean_tags)

    def get_experiment(self, name_or_id: str) -> Experiment:
        """An experiment of this project, by name or by id."""
        if ID_PATTERN.fullmatch(name_or_id):
            try:
                experiment = self.metadata.get_experiment(name_or_id)
            except NotFoundError:
                pass
            else:
                if experiment.project_id == self.project.id:
                    return experiment
        try:
            return self.metadata.get_experiment_by_name(self.project.id, name_or_id)
        except NotFoundError:
            raise NotFoundError(
                f"experiment {name_or_id!r} not found in project {self.project.name!r}; "
                "list them with `loopml experiments list`",
                field="experiment",
            ) from None

    def ensure_experiment(self, name: str) -> Experiment:
        return self.metadata.ensure_experiment(
            self.project.id, check_name(name, field="experiment")
        )

    def list_experiments(self, include_deleted: bool = False) -> list[Experiment]:
        return self.metadata.list_experiments(self.project.id, include_deleted=include_deleted)

    def delete_experiment(self, name_or_id: str) -> None:
        self.metadata.delete_experiment(self.get_experiment(name_or_id).id)

    # -- runs --------------------------------------------------------------------------

    def start_run(
        self,
        experiment: str,
        name: str | None = None,
        parent_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        capture_env: bool = True,
    ) -> Run:
        """Start a run in ``experiment`` (created if missing), capturing the environment."""
        exp = self.ensure_experiment(experiment)
        if parent_run_id is not None:
            parent = self.get_run(parent_run_id)
            if parent.experiment_id != exp.id:
                raise ValidationError(
                    f"parent run {parent_run_id} belongs to another experiment; nested runs "
                    "share their parent's experiment",
                    field="parent_run_id",
                )
        environment = capture_environment(current_seeds()) if capture_env else {}
        clean_tags = {
            check_key(k, kind="tag"): check_tag_value(k, v) for k, v in (tags or {}).items()
        }
        return self.metadata.create_run(
            RunCreate(
                experiment_id=exp.id,
                name=check_name(name, field="run name") if name else random_run_name(),
                start_time=clock.now(),
                parent_run_id=parent_run_id,
                user=str(environment.get("user", "")),
                tags=clean_tags,
                environment=environment,
            )
        )

    def end_run(self, run_id: str, status: RunStatus = RunStatus.FINISHED, error: str = "") -> Run:
        """Mark a run finished, failed or killed (an ended run stays ended)."""
        if not status.is_terminal:
            raise ValidationError("end_run needs a final status", field="status")
        run = self.get_run(run_id)
        if run.status.is_terminal:
            raise ConflictError(f"run {run_id} already ended as {run.status.value}")
        return self.metadata.update_run(
            run_id, RunUpdate(status=status, end_time=clock.now(), error=error or None)
        )

    def fail_run(self, run_id: str, exc: BaseException) -> Run:
        """End a run as failed, recording the exception and where it was raised."""
        summary = "".join(traceback.format_exception(exc, limit=-8)).strip()
        status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        return self.metadata.update_run(
            run_id, RunUpdate(status=status, end_time=clock.now(), error=summary[-8000:])
        )

    def resolve_run_id(self, ref: str) -> str:
        """The full id of the run that ``ref`` (an id or a unique prefix of 4+ characters) names."""
        if ID_PATTERN.fullmatch(ref):
            return ref
        if not _PREFIX_PATTERN.fullmatch(ref):
            raise ValidationError(
                f"run id {ref!r}: give the 32-character id or a prefix of at least 4 of its "
                "characters (0-9, a-f)",
                field="run_id",
            )
        ids = [e.id for e in self.list_experiments(include_deleted=True)]
        expr = Compare(Field("attributes", "id"), "like", ref + "%")
        matches = (
            self.metadata.search_runs(ids, expr, max_results=2, include_deleted=True).runs
            if ids
            else ()
        )
        if not matches:
            raise NotFoundError(f"no run id starts with {ref!r}", field="run_id")
        if len(matches) > 1:
            raise ValidationError(
                f"run id prefix {ref!r} is ambiguous; give more characters", field="run_id"
            )
        return matches[0].id

    def get_run(self, run_id: str) -> Run:
        check_id(run_id, field="run_id")
        try:
            run = self.metadata.get_run(run_id)
            self._experiment_of(run)
        except NotFoundError:
            raise NotFoundError(
                f"run {run_id} not found in project {self.project.name!r}", field="run_id"
            ) from None
        return run

    def update_run(self, run_id: str, name: str | None = None, note: str | None = None) -> Run:
        self.get_run(run_id)
        clean_name = check_name(name, field="run name") if name is not None else None
        return self.metadata.update_run(run_id, RunUpdate(name=clean_name, note=note))

    def delete_run(self, run_id: str) -> None:
        self.get_run(run_id)
        self.metadata.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.get_run(run_id)
        self.metadata.restore_run(run_id)

    # -- logging -----------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        """Validate and write metrics, params and tags in one transaction."""
        clean_params = {
            check_key(k, kind="param"): check_param_value(k, v) for k, v in (params or {}).items()
        }
        clean_tags = {
            check_key(k, kind="tag"): check_tag_value(k, v) for k, v in (tags or {}).items()
        }
        self.metadata.log_batch(run_id, metrics, clean_params, clean_tags, idempotency_key)

    @staticmethod
    def make_metric(key: str, value: object, step: object, timestamp: int | None = None) -> Metric:
        """A validated metric point (timestamp defaults to now)."""
        key = check_key(key, kind="metric")
        return Metric(
            key,
            check_metric_value(key, value),
            check_step(key, step),
            clock.now_ms() if timestamp is None else timestamp,
        )

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.log_batch(run_id, tags={key: value})

    def delete_tag(self, run_id: str, key: str) -> None:
        self.metadata.delete_tag(run_id, check_key(key, kind="tag"))

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        self.get_run(run_id)
        return self.metadata.get_metric_history(run_id, check_key(key, kind="metric"))

    # -- artifacts ---------------------------------------------------------------------

    def log_artifact(
        self, run_id: str, local_path: Path, artifact_path: str = ""
    ) -> list[ArtifactInfo]:
        """Store a local file or folder under the run's artifacts, and record it."""
        self._writable(run_id)
        local_path = Path(local_path)
        if not local_path.exists():
            raise NotFoundError(f"artifact source {str(local_path)!r} does not exist", field="path")
        root = artifact_root(run_id)
        if artifact_path:
            check_relpath(artifact_path, field="artifact_path")
        if local_path.is_dir():
            dest = join_relpath(root, artifact_path) if artifact_path else root
            stored = self.artifacts.put_dir(local_path, dest)
        else:
            name = check_relpath(local_path.name, field="path")
            stored = [self.artifacts.put_file(local_path, join_relpath(root, artifact_path, name))]
        return self._record(run_id, root, stored)

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> ArtifactInfo:
        """Store ``data`` as the run artifact ``artifact_file`` and record it."""
        self._writable(run_id)
        root = artifact_root(run_id)
        info = self.artifacts.put_bytes(
            data, join_relpath(root, check_relpath(artifact_file, field="artifact_file"))
        )
        return self._record(run_id, root, [info])[0]

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        self.get_run(run_id)
        if prefix:
            check_relpath(prefix, field="prefix")
        return self.metadata.list_artifacts(run_id, prefix)

    def download_artifacts(self, run_id: str, dest: Path, path: str = "") -> list[Path]:
        """Copy the run's artifacts (or those under ``path``) into the local folder ``dest``."""
        written = []
        root = artifact_root(run_id)
        for info in self.list_artifacts(run_id, path):
            target = Path(dest) / check_relpath(info.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            self.artifacts.get_file(join_relpath(root, info.path), target)
            written.append(target)
        return written

    def open_artifact(self, run_id: str, path: str) -> bytes:
        """The bytes of one artifact, verified against its recorded digest."""
        check_relpath(path, field="path")
        recorded = {a.path: a for a in self.list_artifacts(run_id, path)}
        if path not in recorded:
            raise NotFoundError(f"run {run_id} has no artifact {path!r}", field="path")
        full = join_relpath(artifact_root(run_id), path)
        data = self.artifacts.read_bytes(full)
        self.artifacts.verify(full, recorded[path].digest)
        return data

    def _record(self, run_id: str, root: str, stored: Iterable[ArtifactInfo]) -> list[ArtifactInfo]:
        recorded = []
        for info in stored:
            relative = ArtifactInfo(info.path[len(root) + 1 :], info.size, info.digest)
            self.metadata.record_artifact(run_id, relative)
            recorded.append(relative)
        return recorded

    def _writable(self, run_id: str) -> Run:
        run = self.get_run(run_id)
        if run.deleted:
            raise ConflictError(
                f"run {run_id} is deleted; restore it first with `loopml runs restore`"
            )
        return run

    # -- search ------------------------------------------------------------------------

    def log_model(
        self,
        run_id: str,
        model: object,
        name: str = "model",
        *,
        input_example: object = None,
        signature: Any = None,
        extra_pip_requirements: Sequence[str] = (),
    ) -> str:
        """Package ``model`` (see :func:`loopml.flavors.save_model`) as the run's artifact.

        Returns:
            The model's URI, ``runs:/<run id>/<name>``, for ``loopml.models.load`` and
            ``loopml.models.register``.
        """
        import tempfile

        from loopml.flavors import save_model

        check_relpath(name, field="name")
        self._writable(run_id)
        with tempfile.TemporaryDirectory(prefix="loopml-model-") as folder:
            package = Path(folder) / "package"
            save_model(
                model,
                package,
                input_example=input_example,
                signature=signature,
                extra_pip_requirements=extra_pip_requirements,
            )
            self.log_artifact(run_id, package, name)
        return f"runs:/{run_id}/{name}"

    def log_lineage(
        self, run_id: str, dataset: object, direction: LineageDirection, role: str
    ) -> LineageEdge:
        """Link a run to a dataset version given as a record, a handle, a ref or an id."""
        self._writable(run_id)
        version_id = self._dataset_version_id(dataset)
        return self.metadata.log_lineage(run_id, version_id, direction, role)

    def _dataset_version_id(self, dataset: object) -> str:
        record = getattr(dataset, "record", dataset)  # a DatasetVersionHandle
        if isinstance(record, DatasetVersion):
            return record.id
        if isinstance(record, str) and ID_PATTERN.fullmatch(record):
            return self.metadata.get_dataset_version(record).id
        if not isinstance(record, str):
            raise ValidationError(
                f"dataset: expected a dataset version or a reference such as 'churn@3', "
                f"got {type(dataset).__name__}",
                field="dataset",
            )
        ref = parse_dataset_ref(record)
        found = self.metadata.get_dataset_by_name(self.project.id, ref.name)
        return self.metadata.get_dataset_version_by_number(found.id, ref.version).id

    def list_lineage(self, run_id: str) -> list[LineageEdge]:
        """The dataset versions a run read or wrote."""
        return self.metadata.list_lineage(run_id=run_id)

    def search_runs(
        self,
        experiments: Sequence[str] | str | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | str | None = None,
        max_results: int = 1000,
        include_deleted: bool = False,
    ) -> list[Run]:
        """Runs of the named experiments (all of the project's when None), filtered and ordered."""
        if (
            isinstance(max_results, bool)
            or not isinstance(max_results, int)
            or not 0 < max_results <= MAX_SEARCH_RESULTS
        ):
            raise ValidationError(
                f"max_results must be an integer from 1 to {MAX_SEARCH_RESULTS}, "
                f"got {max_results!r}",
                field="max_results",
            )
        expr = parse_filter(filter)
        ordering = parse_order_by(order_by if isinstance(order_by, str | None) else list(order_by))
        if experiments is None:
            ids = [e.id for e in self.list_experiments()]
        else:
            names = [experiments] if isinstance(experiments, str) else list(experiments)
            ids = [self.get_experiment(n).id for n in names]
        if not ids:
            return []
        runs: list[Run] = []
        token: str | None = None
        while len(runs) < max_results:
            page = self.metadata.search_runs(
                ids,
                expr,
                ordering,
                min(_PAGE_SIZE, max_results - len(runs)),
                token,
                include_deleted,
            )
            runs.extend(page.runs)
            token = page.next_page_token
            if token is None:
                break
        return runs

    def _experiment_of(self, run: Run) -> Experiment:
        experiment = self.metadata.get_experiment(run.experiment_id)
        if experiment.project_id != self.project.id:
            raise NotFoundError(f"run {run.id} not found", field="run_id")
        return experiment
