"""The metadata and artifact contract suites, run over REST against a real server.

The server (uvicorn on 127.0.0.1, see conftest.py) is shared by the module; each metadata
test starts from an empty store (``LiveServer.reset``) and each artifact test gets a
project of its own, whose file store starts empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from loopml.artifacts.base import BaseArtifactStore
from loopml.client.rest_artifacts import RestArtifactStore
from loopml.client.rest_store import RestMetadataStore
from loopml.core.auth import Role
from loopml.core.ids import new_id
from loopml.metadata.base import BaseMetadataStore
from loopml.testing import MetadataStoreContract
from loopml.testing.artifact_contract import ArtifactStoreContract

from .conftest import LiveServer


class TestRestMetadataStore(MetadataStoreContract):
    @pytest.fixture
    def store(self, live_server: LiveServer) -> Iterator[BaseMetadataStore]:
        live_server.reset()
        with RestMetadataStore(live_server.url, live_server.admin_token) as store:
            yield store

    @pytest.fixture
    def acting_as(
        self, live_server: LiveServer, project_id: str
    ) -> Iterator[Callable[[str], BaseMetadataStore]]:
        """A store with a token of user ``name`` (``root``: a project admin; else an editor)."""
        project = live_server.context.metadata.get_project(project_id).name
        opened: dict[str, RestMetadataStore] = {}

        def acting_as(name: str) -> BaseMetadataStore:
            if name not in opened:
                role = Role.ADMIN if name == "root" else Role.EDITOR
                token = live_server.token(role, project, user=name)
                opened[name] = RestMetadataStore(live_server.url, token)
            return opened[name]

        yield acting_as
        for store in opened.values():
            store.close()


class TestRestArtifactStore(ArtifactStoreContract):
    large_size = 12 * 1024 * 1024  # several upload chunks and a multi-chunk download

    @pytest.fixture
    def store(self, live_server: LiveServer) -> Iterator[BaseArtifactStore]:
        project = live_server.context.metadata.create_project(f"files-{new_id()[:12]}")
        store = RestArtifactStore(live_server.url, live_server.admin_token, project.name)
        yield store
        store.close()
