"""Unreachable or unsupported store URLs give one clear line, never a driver traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from loopml.core.errors import StoreError, StoreUnavailableError
from loopml.metadata import open_metadata_store
from loopml.metadata.sql import SqlMetadataStore
from loopml.metadata.sql.engine import normalize_url


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_postgres_raises_store_unavailable_without_the_password() -> None:
    url = f"postgresql://loopml:s3cret@127.0.0.1:{_closed_port()}/loopml"
    with pytest.raises(StoreUnavailableError) as caught:
        SqlMetadataStore(url)
    message = str(caught.value)
    assert "s3cret" not in message
    assert "postgresql+psycopg://loopml:***@127.0.0.1" in message
    assert "check that the server is running" in message
    assert "\n" not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_sqlite_in_a_folder_that_cannot_exist_raises_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailableError, match="a_file") as caught:
        open_metadata_store(f"sqlite:///{blocker}/sub/loopml.db")
    assert "\n" not in str(caught.value)


def test_sqlite_path_that_is_a_folder_raises_store_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="unavailable"):
        SqlMetadataStore(f"sqlite:///{tmp_path}")


def test_unsupported_url_raises_store_error() -> None:
    with pytest.raises(StoreError, match="not supported"):
        SqlMetadataStore("mysql://root@localhost/loopml")
    with pytest.raises(StoreError, match="not valid"):
        SqlMetadataStore("not a url")


@pytest.mark.parametrize(
    "url", ["postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg://u@h/db"]
)
def test_postgres_urls_use_psycopg_3(url: str) -> None:
    assert normalize_url(url).drivername == "postgresql+psycopg"


def test_missing_sqlite_folder_is_created(tmp_path: Path) -> None:
    with open_metadata_store(f"sqlite:///{tmp_path}/deep/er/loopml.db") as store:
        assert store.ensure_project("p").name == "p"
    assert (tmp_path / "deep" / "er" / "loopml.db").is_file()
