"""A real loopml server for the REST stores: uvicorn on 127.0.0.1 in a background thread.

One server per test module, over a fresh SQLite store and artifact folder in tmp. Tests
that need an empty store call :meth:`LiveServer.reset`, which deletes every record but the
users and tokens (milliseconds, where a fresh server per test would cost the startup and
the schema each time).
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from loopml.core.auth import Role
from loopml.core.errors import NotFoundError
from loopml.metadata.sql.schema import VERSION_TABLE, Base

_KEEP = {VERSION_TABLE, "users", "api_tokens"}


class LiveServer:
    """A server app listening on a free loopback port, with its admin token."""

    def __init__(self, root: Path) -> None:
        from loopml.server.app import create_app
        from loopml.server.config import ServerConfig
        from loopml.server.context import ServerContext

        self.root = root
        self.db_path = root / "loopml.db"
        self.config = ServerConfig(
            store_url=f"sqlite:///{self.db_path}", artifacts_url=str(root / "artifacts")
        )
        self.context = ServerContext.open(self.config)
        secret = self.context.auth.bootstrap_admin()
        assert secret is not None
        self.admin_token = secret
        app = create_app(self.config, context=self.context)
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        self.context.close()

    def reset(self) -> None:
        """Delete every record but users and tokens: an empty store for the next test."""
        tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in _KEEP]
        with sqlite3.connect(self.db_path, timeout=30) as connection:
            connection.execute("DELETE FROM api_tokens WHERE project_id IS NOT NULL")
            for table in tables:
                connection.execute(f'DELETE FROM "{table}"')

    def token(self, role: Role | str, project: str, user: str | None = None) -> str:
        """A token with ``role`` in ``project`` (created if missing) for a non-admin user."""
        self.context.metadata.ensure_project(project)
        name = user or f"{Role(role).value}-{project}".lower()
        try:
            self.context.metadata.get_user_by_name(name)
        except NotFoundError:
            self.context.auth.create_user(name)
        _, raw = self.context.auth.create_token(name, role, project)
        return raw


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("server")).start()
    yield server
    server.stop()
