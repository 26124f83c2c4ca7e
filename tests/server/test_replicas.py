"""Replicas: two apps starting together on one fresh PostgreSQL database."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy.engine import make_url

from loopml.server.app import create_app
from loopml.server.config import ServerConfig
from loopml.server.context import ServerContext


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    name = f"loopml_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_replicas"
    admin = make_url(postgres_url).set(drivername="postgresql", database="postgres")
    libpq = admin.render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.mark.postgres
def test_two_replicas_start_together_on_a_fresh_database(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    config = ServerConfig(
        store_url=fresh_postgres_url,
        artifacts_url=str(tmp_path / "artifacts"),
        allowed_hosts=("testserver",),
    )
    barrier = threading.Barrier(2)
    contexts: list[ServerContext] = []
    secrets: list[str | None] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            context = ServerContext.open(config)  # migrations under the advisory lock
            contexts.append(context)
            secrets.append(context.auth.bootstrap_admin())
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    given = [s for s in secrets if s is not None]
    assert len(given) == 1, "exactly one replica creates the first admin"
    for context in contexts:
        with TestClient(create_app(config, context=context)) as client:
            response = client.get(
                "/api/v1/projects", headers={"Authorization": f"Bearer {given[0]}"}
            )
            assert response.status_code == 200
            assert client.get("/readyz").status_code == 200
        context.close()
