"""Schema versions: creation at head, automatic SQLite upgrades, clear errors otherwise."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from loopml.core.entities import RunStatus
from loopml.core.errors import SchemaVersionError
from loopml.core.filters import parse_filter
from loopml.metadata.sql import SqlMetadataStore, upgrade_store
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.migrate import current_revision, head_revision
from loopml.metadata.sql.schema import VERSION_TABLE, Base

FIXTURES = Path(__file__).parent / "fixtures"
# Indexes that only the migrations define, because they differ by dialect.
SEARCH_INDEXES = {
    "ix_runs_experiment_id_deleted_start_time",
    "ix_latest_metrics_key_value_run_id",
    "ix_params_key_value_run_id",
    "ix_params_key_value_num_run_id",
    "ix_tags_key_value_run_id",
}


def _revision(url: str) -> str | None:
    db = Database(url)
    try:
        return current_revision(db)
    finally:
        db.close()


def _stamp(url: str, revision: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = :v"), {"v": revision})
    engine.dispose()


def test_empty_sqlite_store_is_created_at_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new/loopml.db"
    with SqlMetadataStore(url) as store:
        assert store.list_projects() == []
    assert _revision(url) == head_revision()


def test_schema_0001_sqlite_store_is_upgraded_on_open_and_keeps_its_records(
    tmp_path: Path,
) -> None:
    path = tmp_path / "loopml.db"
    shutil.copy(FIXTURES / "store_0001.db", path)
    url = f"sqlite:///{path}"
    assert _revision(url) == "0001"
    with SqlMetadataStore(url) as store:
        project = store.get_project_by_name("churn")
        experiment = store.get_experiment_by_name(project.id, "baseline")
        run = store.get_run("3" * 32)
        assert run.status is RunStatus.FINISHED
        assert dict(run.params) == {"lr": "0.01"}
        assert dict(run.tags) == {"team": "a"}
        assert run.metrics["acc"].value == 0.9
        assert dict(run.environment) == {"python": "3.11"}
        history = store.get_metric_history(run.id, "acc")
        assert [m.step for m in history] == [0, 1, 2]
        page = store.search_runs([experiment.id], parse_filter("params.lr > 0.001"))
        assert [r.id for r in page.runs] == [run.id]
        assert [a.path for a in store.list_artifacts(run.id)] == ["model.skops"]
    assert _revision(url) == head_revision()


def test_store_from_a_newer_loopml_asks_to_upgrade_loopml(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/loopml.db"
    SqlMetadataStore(url).close()
    _stamp(url, "9999_from_the_future")
    with pytest.raises(SchemaVersionError, match="pip install -U loopml") as caught:
        SqlMetadataStore(url)
    assert "9999_from_the_future" in str(caught.value)
    with pytest.raises(SchemaVersionError, match="pip install -U loopml"):
        upgrade_store(url)


def test_migrations_create_what_the_row_classes_declare(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/loopml.db"
    SqlMetadataStore(url).close()
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    unexpected = [
        diff
        for diff in differences
        if not (diff[0] == "remove_index" and diff[1].name in SEARCH_INDEXES)
    ]
    assert unexpected == []


def test_fixture_store_is_a_plain_sqlite_file() -> None:
    with closing(sqlite3.connect(FIXTURES / "store_0001.db")) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)


@pytest.mark.postgres
def test_empty_postgres_store_is_created_at_head(
    make_postgres_database: Callable[[str], str],
) -> None:
    url = make_postgres_database("empty")
    with SqlMetadataStore(url) as store:
        assert store.list_projects() == []
    assert _revision(url) == head_revision()


@pytest.mark.postgres
def test_older_postgres_store_names_the_upgrade_command(
    make_postgres_database: Callable[[str], str],
) -> None:
    url = make_postgres_database("older")
    assert upgrade_store(url, "0001") == "0001"
    with pytest.raises(SchemaVersionError) as caught:
        SqlMetadataStore(url)
    assert "loopml db upgrade --store-url postgresql+psycopg://" in str(caught.value)
    assert _revision(url) == "0001"
    assert upgrade_store(url) == head_revision()
    with SqlMetadataStore(url) as store:
        assert store.ensure_project("churn").name == "churn"


@pytest.mark.postgres
def test_postgres_replicas_starting_together_migrate_once(
    make_postgres_database: Callable[[str], str],
) -> None:
    url = make_postgres_database("replicas")
    results: list[object] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        try:
            SqlMetadataStore(url).close()
            results.append("ok")
        except Exception as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["ok"] * 6
    assert _revision(url) == head_revision()


@pytest.mark.postgres
def test_postgres_store_from_a_newer_loopml_asks_to_upgrade_loopml(
    make_postgres_database: Callable[[str], str],
) -> None:
    url = make_postgres_database("newer")
    SqlMetadataStore(url).close()
    _stamp(url, "9999_from_the_future")
    with pytest.raises(SchemaVersionError, match="pip install -U loopml"):
        SqlMetadataStore(url)


def test_the_head_constant_is_alembics_head() -> None:
    from loopml.metadata.sql.migrate import HEAD_REVISION, head_revision

    assert head_revision() == HEAD_REVISION
