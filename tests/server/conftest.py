"""A real app over a real SQLite store and a local artifact folder, with tokens per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from loopml.core.auth import Role
from loopml.core.entities import Project
from loopml.core.errors import NotFoundError
from loopml.server.app import create_app
from loopml.server.config import ServerConfig
from loopml.server.context import ServerContext


@dataclass
class Server:
    """An app under test, its stores, and a way to mint tokens."""

    app: FastAPI
    context: ServerContext
    client: TestClient
    admin_token: str
    root: Path

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin_token}"}

    def project(self, name: str = "churn") -> Project:
        return self.context.metadata.ensure_project(name)

    def token(self, role: Role | str, project: str = "churn", user: str | None = None) -> str:
        """A token with ``role`` in ``project`` (created if missing) for a new user."""
        self.project(project)
        name = user or f"{role if isinstance(role, str) else role.value}-{project}".lower()
        try:
            self.context.metadata.get_user_by_name(name)
        except NotFoundError:
            self.context.auth.create_user(name)
        _, raw = self.context.auth.create_token(name, role, project)
        return raw


def make_config(root: Path, **changes: object) -> ServerConfig:
    fields: dict[str, object] = {
        "store_url": f"sqlite:///{root / 'loopml.db'}",
        "artifacts_url": str(root / "artifacts"),
        "allowed_hosts": ("testserver", "localhost", "127.0.0.1"),
    }
    fields.update(changes)
    return ServerConfig(**fields)  # type: ignore[arg-type]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    config = make_config(tmp_path)
    context = ServerContext.open(config)
    secret = context.auth.bootstrap_admin()
    assert secret is not None
    app = create_app(config, context=context)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Server(app, context, client, secret, tmp_path)
    context.close()


@pytest.fixture
def client(server: Server) -> TestClient:
    """A client sending the server admin's token."""
    server.client.headers.update(server.headers())
    return server.client


@pytest.fixture
def live(server: Server) -> Iterator[tuple[str, int]]:
    """The app served by a real uvicorn on 127.0.0.1 (raw paths, streamed bodies)."""
    import threading
    import time

    import uvicorn

    config = uvicorn.Config(
        server.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not runner.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = runner.servers[0].sockets[0].getsockname()[1]
    yield "127.0.0.1", port
    runner.should_exit = True
    thread.join(10)


@pytest.fixture
def config_for(tmp_path: Path) -> Callable[..., ServerConfig]:
    """Build a ServerConfig over a fresh folder, with changes."""
    return lambda **changes: make_config(tmp_path / "other", **changes)
