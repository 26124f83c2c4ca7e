"""The SDK's explicit client: settings in, stores opened, services ready.

Everything the module-level functions of :mod:`loopml` do goes through a
:class:`Client`; create one yourself to work with several stores at once or to pass
stores in tests.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.factory import open_artifact_store
from loopml.core.config import Settings, load_settings
from loopml.core.entities import ArtifactInfo, Experiment, Metric, Run
from loopml.metadata.base import BaseMetadataStore
from loopml.metadata.factory import open_metadata_store
from loopml.tracking.active_run import ActiveRun
from loopml.tracking.service import TrackingService

if TYPE_CHECKING:
    import pandas as pd

    from loopml.datasets.service import DatasetService
    from loopml.registry.service import RegistryService

__all__ = ["DEFAULT_EXPERIMENT", "Client"]

DEFAULT_EXPERIMENT = "default"


def _local_user() -> str:
    """Who acts on a local store: ``LOOPML_USER``, else the operating-system user.

    A local store has no authentication: the name is recorded, not proven. A team server
    records the user of the caller's token instead.
    """
    import getpass

    if os.environ.get("LOOPML_USER"):
        return os.environ["LOOPML_USER"]

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return os.environ.get("USER", "")


class Client:
    """Opens the stores named by ``settings`` and exposes the tracking operations.

    Args:
        settings: Where the stores live; found from the working directory when None.
            With ``settings.server_url`` set, both stores are that server's (remote
            mode) and the project must exist there or the token must be allowed to
            create it.
        metadata: An already open metadata store to use instead of ``settings.store_url``.
        artifacts: An already open artifact store to use instead of ``settings.artifacts_url``.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        metadata: BaseMetadataStore | None = None,
        artifacts: BaseArtifactStore | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        description = ""
        if self.settings.project_file is not None:
            description = self.settings.project_file.project.description
        if self.settings.is_remote and metadata is None:
            # Remote mode: records and files live on a loopml server (client/remote.py).
            from loopml.client.remote import open_remote_stores

            remote = open_remote_stores(self.settings, description)
            self.metadata: BaseMetadataStore = remote.metadata
            self.project = remote.project
            artifacts = artifacts or remote.artifacts
        else:
            needs_home = metadata is None and self.settings.store_url.startswith("sqlite")
            needs_home = needs_home or (
                artifacts is None and "://" not in self.settings.artifacts_url
            )
            if needs_home:
                self.settings.home.mkdir(parents=True, exist_ok=True)
            self.metadata = metadata or open_metadata_store(self.settings.store_url)
            self.project = self.metadata.ensure_project(self.settings.project, description)
        # Each project's files live below projects/<project id>, the same layout the
        # server uses, so a local store can be served as it is.
        self.artifacts = artifacts or open_artifact_store(
            self.settings.artifacts_url,
            endpoint_url=self.settings.s3_endpoint_url,
            subpath=f"projects/{self.project.id}",
        )
        self.tracking = TrackingService(self.metadata, self.artifacts, self.project)

    @functools.cached_property
    def data(self) -> DatasetService:
        """Datasets of the project (made on first use: it imports pyarrow)."""
        from loopml.datasets import service

        return service.DatasetService(
            self.metadata,
            self.artifacts,
            self.project,
            user=_local_user(),
            cache_dir=self.settings.home / "cache",
        )

    @functools.cached_property
    def registry(self) -> RegistryService:
        """The project's model registry, acting as this client's user."""
        from loopml.registry import service

        # A local store has one user, its admin; a server records and authorises the
        # caller itself, whatever the client says.
        return service.RegistryService(
            self.metadata,
            self.artifacts,
            self.project,
            user=_local_user(),
            is_admin=True,
            cache_dir=self.settings.home / "cache",
            project_file=self.settings.project_file,
        )

    # -- experiments -------------------------------------------------------------------

    def create_experiment(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> Experiment:
        return self.tracking.create_experiment(name, description, tags)

    def get_experiment(self, name_or_id: str) -> Experiment:
        return self.tracking.get_experiment(name_or_id)

    def list_experiments(self) -> list[Experiment]:
        return self.tracking.list_experiments()

    # -- runs --------------------------------------------------------------------------

    def start_run(
        self,
        experiment: str | None = None,
        name: str | None = None,
        *,
        parent: str | ActiveRun | Run | None = None,
        tags: Mapping[str, Any] | None = None,
        batch_size: int = 5000,
        flush_interval_s: float = 2.0,
    ) -> ActiveRun:
        """Start a run; use the result as a context manager.

        Args:
            experiment: Experiment name, created if missing; ``LOOPML_EXPERIMENT`` or
                ``"default"`` when None.
            name: Run name; a friendly random one when None.
            parent: Parent run (id or object) for nested runs.
            tags: Initial tags.
            batch_size: Metric points buffered before a write.
            flush_interval_s: Longest time a point waits in the buffer.
        """
        parent_id = parent if isinstance(parent, str) or parent is None else parent.id
        run = self.tracking.start_run(
            experiment or os.environ.get("LOOPML_EXPERIMENT") or DEFAULT_EXPERIMENT,
            name,
            parent_run_id=parent_id,
            tags=tags,
        )
        return ActiveRun(
            self.tracking, run, batch_size=batch_size, flush_interval_s=flush_interval_s
        )

    def get_run(self, run_id: str) -> Run:
        return self.tracking.get_run(run_id)

    def delete_run(self, run_id: str) -> None:
        self.tracking.delete_run(run_id)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self.tracking.get_metric_history(run_id, key)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        return self.tracking.list_artifacts(run_id, prefix)

    def download_artifacts(self, run_id: str, dest: str | Path, path: str = "") -> list[Path]:
        return self.tracking.download_artifacts(run_id, Path(dest), path)

    def search_runs(
        self,
        experiment: str | Sequence[str] | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | str | None = None,
        max_results: int = 1000,
        include_deleted: bool = False,
    ) -> pd.DataFrame:
        """Runs as a DataFrame (see :func:`loopml.tracking.frame.runs_to_frame`)."""
        runs = self.search_run_records(experiment, filter, order_by, max_results, include_deleted)
        from loopml.tracking.frame import runs_to_frame

        names = {e.id: e.name for e in self.tracking.list_experiments(include_deleted=True)}
        return runs_to_frame(runs, names)

    def search_run_records(
        self,
        experiment: str | Sequence[str] | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | str | None = None,
        max_results: int = 1000,
        include_deleted: bool = False,
    ) -> list[Run]:
        """Like :meth:`search_runs`, as Run records."""
        return self.tracking.search_runs(experiment, filter, order_by, max_results, include_deleted)

    def close(self) -> None:
        self.metadata.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
