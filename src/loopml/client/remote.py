"""Remote mode: the SDK's stores on a loopml server instead of a local folder.

With ``LOOPML_SERVER_URL`` set (or after :func:`loopml.connect`), a
:class:`~loopml.client.client.Client` opens a :class:`RestMetadataStore` and a
:class:`RestArtifactStore` that share one connection pool; the tracking service above
them is the same as for a local folder.
"""

from __future__ import annotations

from dataclasses import dataclass

from loopml.client.rest_artifacts import RestArtifactStore
from loopml.client.rest_store import RestMetadataStore
from loopml.client.session import RestSession
from loopml.core.config import Settings
from loopml.core.entities import Project
from loopml.core.errors import AlreadyExistsError, NotFoundError, PermissionDeniedError

__all__ = ["RemoteStores", "open_remote_stores"]


@dataclass(frozen=True, slots=True)
class RemoteStores:
    """The two stores of one server project; closing ``metadata`` closes both."""

    metadata: RestMetadataStore
    artifacts: RestArtifactStore
    project: Project


def open_remote_stores(settings: Settings, description: str = "") -> RemoteStores:
    """Connect to ``settings.server_url`` and find the project ``settings.project``.

    A missing project is created when the token may (a server admin's); otherwise the
    error says who can create it.

    Raises:
        StoreUnavailableError: the server cannot be reached.
        AuthenticationError: the token is missing, wrong, revoked or expired.
        NotFoundError: the project does not exist (or the token has no role in it) and
            the token may not create it.
    """
    if not settings.server_url:
        raise ValueError("settings.server_url is not set")
    session = RestSession(settings.server_url, settings.token)
    metadata = RestMetadataStore(session.url, session=session, send_user=False)
    try:
        project = _find_or_create(metadata, settings.project, description)
        artifacts = RestArtifactStore(session.url, project_name=project.name, session=session)
    except BaseException:
        metadata.close()
        raise
    return RemoteStores(metadata, artifacts, project)


def _find_or_create(metadata: RestMetadataStore, name: str, description: str) -> Project:
    try:
        return metadata.get_project_by_name(name)
    except NotFoundError:
        pass
    try:
        return metadata.create_project(name, description)
    except AlreadyExistsError:  # created in between, or there but not visible to us
        return metadata.get_project_by_name(name)
    except PermissionDeniedError:
        raise NotFoundError(
            f"project {name!r} does not exist on the loopml server at {metadata.url}, or "
            "the token has no role in it; ask a server admin to create it and give you a "
            f"token for it (`loopml tokens create --project {name} --role editor ...`), or "
            "connect once with a server admin's token, which creates it",
            field="project",
        ) from None
