"""Stores for the metadata tests: a SQLite file per test, a PostgreSQL database per worker."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from loopml.metadata.sql import SqlMetadataStore
from loopml.metadata.sql.schema import VERSION_TABLE


def _libpq(url: str, database: str) -> str:
    """A psycopg connection string for ``database`` on the server of ``url``."""
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def make_postgres_database(postgres_url: str) -> Iterator[Callable[[str], str]]:
    """Create a fresh, empty database; returns its store URL. All are dropped at the end."""
    admin = _libpq(postgres_url, "postgres")
    created: list[str] = []

    def make(suffix: str) -> str:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"loopml_test_{worker}_{suffix}"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with psycopg.connect(admin, autocommit=True) as connection:
        for name in created:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def postgres_store_url(make_postgres_database: Callable[[str], str]) -> str:
    """URL of the database the contract tests share (one per xdist worker)."""
    return make_postgres_database("contract")


@pytest.fixture(scope="session")
def postgres_store(postgres_store_url: str) -> Iterator[SqlMetadataStore]:
    """One store per session (per xdist worker): the schema is created once."""
    with SqlMetadataStore(postgres_store_url) as store:
        yield store


def truncate_all(url: str) -> None:
    """Empty every loopml table of a PostgreSQL store, keeping the schema."""
    with psycopg.connect(_libpq(url, make_url(url).database or "")) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> %s",
                (VERSION_TABLE,),
            )
        ]
        connection.execute(
            sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlMetadataStore]:
    """An empty SQL store, once on SQLite and once on PostgreSQL (marked ``postgres``).

    Modules that need another store define their own ``store``, which wins over this one.
    """
    if request.param == "sqlite":
        with SqlMetadataStore(f"sqlite:///{tmp_path}/loopml.db") as opened:
            yield opened
    else:
        shared = request.getfixturevalue("postgres_store")  # creates the schema once
        truncate_all(request.getfixturevalue("postgres_store_url"))
        yield shared
