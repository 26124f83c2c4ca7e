"""PostgreSQL connections of the store: their session settings and how stale ones are replaced."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
import sqlalchemy as sa

from loopml.metadata.sql import SqlMetadataStore
from loopml.metadata.sql import engine as engine_module

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(make_postgres_database: Callable[[str], str]) -> Iterator[SqlMetadataStore]:
    with SqlMetadataStore(make_postgres_database("sessions")) as opened:
        yield opened


def _show(store: SqlMetadataStore, setting: str) -> str:
    return str(store._db.read(lambda c: c.execute(sa.text(f"SHOW {setting}")).scalar_one()))


def test_sessions_plan_for_many_small_queries(store: SqlMetadataStore) -> None:
    assert _show(store, "max_parallel_workers_per_gather") == "0"
    assert _show(store, "jit") == "off"
    assert _show(store, "plan_cache_mode") == "force_custom_plan"
    assert _show(store, "enable_memoize") == "off"


def test_a_connection_dropped_while_idle_is_replaced_before_use(
    store: SqlMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = store._db.read(lambda c: c.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
    url = store._db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)
    assert store.list_projects() == []
    assert (
        store._db.read(lambda c: c.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()) != pid
    )
