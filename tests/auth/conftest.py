"""An auth service over a fresh SQLite store, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loopml.auth import AuthService
from loopml.metadata.sql import SqlMetadataStore

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """Aware UTC time that moves only when told."""

    moment: datetime = T0

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    store = SqlMetadataStore(f"sqlite:///{tmp_path}/loopml.db")
    yield store
    store.close()


@pytest.fixture
def auth(store: SqlMetadataStore, clock: FakeClock) -> AuthService:
    return AuthService(store, store, clock=clock)
