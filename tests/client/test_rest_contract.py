"""The metadata and artifact contract suites, run over REST against a real server.

The server (uvicorn on 127.0.0.1, see conftest.py) is shared by the module; each metadata
test starts from an empty store (``LiveServer.reset``) and each artifact test gets a
project of its own, whose file store starts empty.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loopml.artifacts.base import BaseArtifactStore
from loopml.client.rest_artifacts import RestArtifactStore
from loopml.client.rest_store import RestMetadataStore
from loopml.core.entities import Run
from loopml.core.errors import ValidationError
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

    # The server checks what a run records as an artifact (a safe path and a real BLAKE3
    # digest: routers/artifacts.py) while the SQL store records anything; these contract
    # tests record placeholders such as digest "d1" and the path "d%ta/c", so the server
    # refuses them. Strict: they fail loudly once server and contract agree.
    _REFUSED_PLACEHOLDERS = pytest.mark.xfail(
        reason="server refuses placeholder artifact digests/paths the contract records",
        raises=ValidationError,
        strict=True,
    )

    @_REFUSED_PLACEHOLDERS
    def test_writes_to_a_deleted_run_raise_conflict(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        super().test_writes_to_a_deleted_run_raise_conflict(store, run)

    @_REFUSED_PLACEHOLDERS
    def test_artifacts_are_listed_by_path_under_a_prefix(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        super().test_artifacts_are_listed_by_path_under_a_prefix(store, run)

    @_REFUSED_PLACEHOLDERS
    def test_recording_an_artifact_again_replaces_it(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        super().test_recording_an_artifact_again_replaces_it(store, run)


class TestRestArtifactStore(ArtifactStoreContract):
    large_size = 12 * 1024 * 1024  # several upload chunks and a multi-chunk download

    @pytest.fixture
    def store(self, live_server: LiveServer) -> Iterator[BaseArtifactStore]:
        project = live_server.context.metadata.create_project(f"files-{new_id()[:12]}")
        store = RestArtifactStore(live_server.url, live_server.admin_token, project.name)
        yield store
        store.close()
