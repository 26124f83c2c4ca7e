"""The users-and-tokens store contract, run against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.metadata.auth_base import BaseAuthStore
from loopml.metadata.sql import SqlMetadataStore
from loopml.testing import AuthStoreContract

from .conftest import truncate_all


class TestSqliteAuthStore(AuthStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[BaseAuthStore]:
        store = SqlMetadataStore(f"sqlite:///{tmp_path}/loopml.db")
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresAuthStore(AuthStoreContract):
    @pytest.fixture
    def store(self, postgres_store_url: str, postgres_store: SqlMetadataStore) -> BaseAuthStore:
        truncate_all(postgres_store_url)
        return postgres_store
