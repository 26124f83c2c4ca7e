"""What every request of one app shares: the stores, the auth service and the config.

One :class:`ServerContext` is made by :func:`loopml.server.app.create_app` and kept at
``app.state.context``; routes reach it through :func:`loopml.server.deps.get_context`.
There is no module-level store: two apps in one process never share anything.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.factory import open_artifact_store
from loopml.auth.ratelimit import LoginRateLimiter
from loopml.core.auth import Principal, User
from loopml.core.entities import Project
from loopml.server.config import ServerConfig
from loopml.server.session import OneTimeLogins

if TYPE_CHECKING:
    from loopml.auth import AuthService
    from loopml.metadata.sql.store import SqlMetadataStore
    from loopml.tracking.service import TrackingService

__all__ = ["LOCAL_USER_NAME", "ServerContext"]

LOCAL_USER_NAME = "local"
_RUN_CACHE_SIZE = 100_000


class ServerContext:
    """The stores and services of one server app.

    Args:
        config: The server's settings.
        metadata: The SQL store (records, users and tokens).
        auth: Authentication and authorization over ``metadata``.

    Attributes:
        metadata: The SQL store, a ``BaseMetadataStore`` and a ``BaseAuthStore``.
        auth: The :class:`~loopml.auth.AuthService`.
        config: The :class:`~loopml.server.config.ServerConfig`.
        logins: One-time login codes of ``loopml ui`` links.
        login_limiter: Failed logins of the web UI's form, per client address.
        local_principal: Who every request is when ``config.auth_required`` is False.
    """

    def __init__(self, config: ServerConfig, metadata: SqlMetadataStore, auth: AuthService) -> None:
        self.config = config
        self.metadata = metadata
        self.auth = auth
        self.logins = OneTimeLogins()
        self.login_limiter = LoginRateLimiter()
        self.local_principal = Principal(
            user=User(
                id="0" * 32,
                name=LOCAL_USER_NAME,
                created_at=datetime(2024, 1, 1, tzinfo=UTC),
                is_admin=True,
            ),
            token_id=None,
        )
        self._artifacts: dict[str, BaseArtifactStore] = {}
        self._root: BaseArtifactStore | None = None
        self._run_projects: dict[str, str] = {}
        self._experiment_projects: dict[str, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, config: ServerConfig) -> ServerContext:
        """Open the stores ``config`` names (creating or upgrading the schema once)."""
        from loopml.auth import AuthService
        from loopml.metadata.sql.store import SqlMetadataStore

        metadata = SqlMetadataStore(config.store_url)
        try:
            metadata.auth_stamp()  # created now, next to the database, not by a request
            auth = AuthService(metadata, metadata, stamp=metadata.auth_stamp)
            return cls(config, metadata, auth)
        except BaseException:
            metadata.close()
            raise

    def artifacts_for(self, project: Project) -> BaseArtifactStore:
        """The artifact store of one project: ``<artifacts_url>/projects/<project id>``."""
        store = self._artifacts.get(project.id)
        if store is not None:
            return store
        with self._lock:
            store = self._artifacts.get(project.id)
            if store is None:
                store = open_artifact_store(
                    self.config.artifacts_url,
                    endpoint_url=self.config.s3_endpoint_url,
                    subpath=f"projects/{project.id}",
                )
                self._artifacts[project.id] = store
        return store

    def tracking_for(self, project: Project) -> TrackingService:
        """The tracking service of one project."""
        from loopml.tracking.service import TrackingService

        return TrackingService(self.metadata, self.artifacts_for(project), project)

    def project_of_run(self, run_id: str) -> str:
        """The id of the project a run belongs to; NotFoundError for an unknown run.

        Cached: a run never changes experiment and an experiment never changes project.
        """
        project_id = self._run_projects.get(run_id)
        if project_id is None:
            run = self.metadata.get_run(run_id)
            project_id = self.project_of_experiment(run.experiment_id)
            _remember(self._run_projects, run_id, project_id)
        return project_id

    def project_of_experiment(self, experiment_id: str) -> str:
        """The id of the project an experiment belongs to; NotFoundError if unknown.

        Cached: an experiment never changes project.
        """
        project_id = self._experiment_projects.get(experiment_id)
        if project_id is None:
            project_id = self.metadata.get_experiment(experiment_id).project_id
            _remember(self._experiment_projects, experiment_id, project_id)
        return project_id

    def ping(self) -> None:
        """Raise StoreUnavailableError unless both stores answer."""
        from loopml.core.errors import NotFoundError

        with contextlib.suppress(NotFoundError):  # one indexed read: the database answers
            self.metadata.get_project("0" * 32)
        if self._root is None:
            self._root = open_artifact_store(
                self.config.artifacts_url, endpoint_url=self.config.s3_endpoint_url
            )
        self._root.ping()

    def close(self) -> None:
        """Release the stores' connections."""
        self.metadata.close()


def _remember(cache: dict[str, str], key: str, value: str) -> None:
    """Put ``key`` in a cache that is emptied when full (records are never re-parented)."""
    if len(cache) >= _RUN_CACHE_SIZE:
        cache.clear()
    cache[key] = value
