"""Settings: where the stores live, found once and passed explicitly.

The project folder ``.loopml/`` is found from the working directory upward, as git finds
``.git``. Environment variables override what is found:

==========================  =====================================================
``LOOPML_HOME``             the ``.loopml`` folder to use
``LOOPML_STORE_URL``        metadata store (``sqlite:///...``, ``postgresql://...``)
``LOOPML_ARTIFACTS_URL``    artifact store (a folder, ``file://...``, ``s3://bucket/prefix``)
``LOOPML_S3_ENDPOINT_URL``  S3-compatible endpoint (MinIO, moto, ...)
``LOOPML_PROJECT``          project name when there is no ``loopml.yaml``
``LOOPML_SERVER_URL``       a loopml server to use instead of the local stores
``LOOPML_TOKEN``            the API token sent to that server
==========================  =====================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from loopml.core.errors import AlreadyExistsError
from loopml.core.project_file import (
    PROJECT_FILE_NAME,
    ProjectFile,
    ProjectInfo,
    dump_project_file,
    load_project_file,
)

__all__ = ["HOME_DIR_NAME", "Settings", "find_home", "init_project", "load_settings"]

HOME_DIR_NAME = ".loopml"
DEFAULT_PROJECT = "default"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a client needs to open its stores.

    Attributes:
        home: The ``.loopml`` folder (may not exist yet).
        store_url: SQLAlchemy URL of the metadata store.
        artifacts_url: Folder or fsspec URL of the artifact store.
        project: Name of the project that records belong to.
        s3_endpoint_url: Endpoint for S3-compatible servers, or None for AWS.
        project_file: The parsed ``loopml.yaml`` beside ``home``, if there is one.
        server_url: A loopml server (``http://host:8080``): when set, records and files
            live there and ``store_url`` / ``artifacts_url`` are not used.
        token: The API token for ``server_url`` (never shown in ``repr``).
    """

    home: Path
    store_url: str
    artifacts_url: str
    project: str = DEFAULT_PROJECT
    s3_endpoint_url: str | None = None
    project_file: ProjectFile | None = None
    server_url: str | None = None
    token: str | None = field(default=None, repr=False)

    @property
    def is_remote(self) -> bool:
        """Whether the stores are a server's (``server_url`` is set)."""
        return bool(self.server_url)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def project_root(self) -> Path:
        """The folder that holds ``.loopml/`` and ``loopml.yaml``."""
        return self.home.parent


def find_home(start: Path) -> Path | None:
    """The nearest ``.loopml`` folder at or above ``start``, or None."""
    for folder in (start, *start.parents):
        candidate = folder / HOME_DIR_NAME
        if candidate.is_dir():
            return candidate
    return None


def load_settings(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Find the project folder and build Settings; nothing is created on disk.

    Without a ``.loopml`` folder above ``cwd``, the home is ``cwd/.loopml``, created by
    the first write (zero setup on a laptop).
    """
    env = os.environ if environ is None else environ
    cwd = (cwd or Path.cwd()).resolve()
    if env.get("LOOPML_HOME"):
        home = Path(env["LOOPML_HOME"]).expanduser().resolve()
    else:
        home = find_home(cwd) or cwd / HOME_DIR_NAME
    project_path = home.parent / PROJECT_FILE_NAME
    project_file = load_project_file(project_path) if project_path.is_file() else None
    project = (
        project_file.project.name
        if project_file is not None
        else env.get("LOOPML_PROJECT") or DEFAULT_PROJECT
    )
    return Settings(
        home=home,
        store_url=env.get("LOOPML_STORE_URL") or f"sqlite:///{home / 'loopml.db'}",
        artifacts_url=env.get("LOOPML_ARTIFACTS_URL") or str(home / "artifacts"),
        project=project,
        s3_endpoint_url=env.get("LOOPML_S3_ENDPOINT_URL") or None,
        project_file=project_file,
        server_url=env.get("LOOPML_SERVER_URL") or None,
        token=env.get("LOOPML_TOKEN") or None,
    )


def init_project(
    folder: Path,
    name: str,
    description: str = "",
    intended_use: str = "",
    owners: tuple[str, ...] = (),
    stakeholders: tuple[str, ...] = (),
) -> Path:
    """Create ``folder/.loopml`` and write ``folder/loopml.yaml``; returns the file's path.

    An existing valid project file is kept (AlreadyExistsError if it names another project).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / HOME_DIR_NAME).mkdir(exist_ok=True)
    (folder / HOME_DIR_NAME / ".gitignore").write_text("*\n", encoding="utf-8")
    path = folder / PROJECT_FILE_NAME
    if path.exists():
        existing = load_project_file(path)
        if existing.project.name != name:
            raise AlreadyExistsError(
                f"{path} already describes project {existing.project.name!r}; "
                f"run `loopml init --name {existing.project.name}` or edit the file",
                field="name",
            )
        return path
    info = ProjectInfo(
        name=name,
        description=description,
        intended_use=intended_use,
        owners=owners,
        stakeholders=stakeholders,
    )
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(dump_project_file(ProjectFile(project=info)), encoding="utf-8")
    tmp.replace(path)
    return path
