"""The metadata store contract, run against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.metadata.base import BaseMetadataStore
from loopml.metadata.sql import SqlMetadataStore
from loopml.testing import MetadataStoreContract

from .conftest import truncate_all


class TestSqliteMetadataStore(MetadataStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[BaseMetadataStore]:
        with SqlMetadataStore(f"sqlite:///{tmp_path}/loopml.db") as store:
            yield store


@pytest.mark.postgres
class TestPostgresMetadataStore(MetadataStoreContract):
    @pytest.fixture
    def store(self, postgres_store_url: str, postgres_store: SqlMetadataStore) -> BaseMetadataStore:
        truncate_all(postgres_store_url)
        return postgres_store
