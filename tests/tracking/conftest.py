from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import loopml
from loopml.client.client import Client
from loopml.core.config import load_settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    """A client on a fresh default store (SQLite + local folder) in a temp project."""
    with Client(load_settings(cwd=tmp_path, environ={})) as c:
        loopml.set_client(c)
        yield c
    loopml.set_client(None)
