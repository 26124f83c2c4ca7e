"""Tokens and roles: 401 without a valid token, 404 across projects, 403 below the role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from loopml.auth import format_token, hash_secret
from loopml.core.auth import Role
from loopml.core.clock import now
from loopml.server.app import create_app
from loopml.server.config import ServerConfig

if TYPE_CHECKING:
    from conftest import Server

T0 = "2026-01-02T03:04:05+00:00"


def _status(server: Server, method: str, url: str, token: str | None, **kw: object) -> int:
    headers = server.headers(token) if token else {}
    return server.client.request(method, url, headers=headers, **kw).status_code  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer not-a-token",
        "Bearer lml_" + "0" * 32 + "_" + "x" * 43,
    ],
)
def test_missing_or_invalid_token_is_401(server: Server, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = server.client.get("/api/v1/projects", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_secret_is_401(server: Server) -> None:
    token = server.token("viewer")
    wrong = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
    assert _status(server, "GET", "/api/v1/projects/churn", wrong) == 401


def test_revoked_token_is_401_on_the_next_request(server: Server) -> None:
    token = server.token("viewer")
    assert _status(server, "GET", "/api/v1/projects/churn", token) == 200
    token_id = token.split("_")[1]
    server.context.auth.revoke_token(token_id)
    assert _status(server, "GET", "/api/v1/projects/churn", token) == 401


def test_expired_token_is_401(server: Server) -> None:
    project = server.project("churn")
    user = server.context.auth.create_user("old")
    secret = "s" * 43
    record = server.context.metadata.create_token(
        user.id, "", Role.VIEWER, project.id, now() - timedelta(minutes=1), hash_secret(secret)
    )
    assert _status(server, "GET", "/api/v1/projects/churn", format_token(record.id, secret)) == 401


def test_disabled_user_is_401(server: Server) -> None:
    token = server.token("viewer", user="ann")
    server.context.auth.disable_user("ann")
    assert _status(server, "GET", "/api/v1/projects/churn", token) == 401


def test_token_of_one_project_sees_another_as_not_found(server: Server) -> None:
    admin = server.headers()
    other = server.client.post("/api/v1/projects", json={"name": "fraud"}, headers=admin).json()
    experiment = server.client.post(
        "/api/v1/projects/fraud/experiments", json={"name": "e"}, headers=admin
    ).json()
    run = server.client.post(
        "/api/v1/runs",
        json={"experiment_id": experiment["id"], "name": "r", "start_time": T0},
        headers=admin,
    ).json()
    token = server.token("admin", project="churn")
    for url in (
        "/api/v1/projects/fraud",
        f"/api/v1/projects/{other['id']}",
        "/api/v1/projects/fraud/experiments",
        "/api/v1/projects/fraud/files",
        f"/api/v1/experiments/{experiment['id']}",
        f"/api/v1/runs/{run['id']}",
        f"/api/v1/runs/{run['id']}/metrics/loss",
    ):
        response = server.client.get(url, headers=server.headers(token))
        assert response.status_code == 404, url
        assert response.json()["error"] == "not_found"
    unknown = server.client.get("/api/v1/projects/nope", headers=server.headers(token))
    assert (
        unknown.json()["message"].replace("nope", "fraud")
        == server.client.get("/api/v1/projects/fraud", headers=server.headers(token)).json()[
            "message"
        ]
    )
    projects = server.client.get("/api/v1/projects", headers=server.headers(token)).json()
    assert [p["name"] for p in projects["projects"]] == ["churn"]


def test_viewer_may_read_but_not_write(server: Server) -> None:
    viewer = server.token("viewer")
    assert _status(server, "GET", "/api/v1/projects/churn/experiments", viewer) == 200
    response = server.client.post(
        "/api/v1/projects/churn/experiments", json={"name": "e"}, headers=server.headers(viewer)
    )
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    put = server.client.put(
        "/api/v1/projects/churn/files/a.txt",
        content=b"x",
        headers={**server.headers(viewer), "Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 403


def test_editor_writes_but_only_admins_delete(server: Server) -> None:
    editor = server.token("editor")
    experiment = server.client.post(
        "/api/v1/projects/churn/experiments", json={"name": "e"}, headers=server.headers(editor)
    )
    assert experiment.status_code == 201
    url = f"/api/v1/experiments/{experiment.json()['id']}"
    assert _status(server, "DELETE", url, editor) == 403
    assert _status(server, "DELETE", url, server.token("admin")) == 204


def test_only_server_admins_create_projects(server: Server) -> None:
    project_admin = server.token("admin")
    response = server.client.post(
        "/api/v1/projects", json={"name": "new"}, headers=server.headers(project_admin)
    )
    assert response.status_code == 403


def test_no_auth_mode_refuses_a_public_address() -> None:
    with pytest.raises(ValueError, match="refusing to serve without authentication"):
        ServerConfig(
            store_url="sqlite://",
            artifacts_url="x",
            host="0.0.0.0",  # noqa: S104
            auth_required=False,
        )
    ServerConfig(store_url="sqlite://", artifacts_url="x", host="::1", auth_required=False)


def test_no_auth_mode_acts_as_a_local_admin(config_for: Callable[..., ServerConfig]) -> None:
    app = create_app(config_for(auth_required=False))
    with TestClient(app) as client:
        assert client.post("/api/v1/projects", json={"name": "p"}).status_code == 201
        experiment = client.post("/api/v1/projects/p/experiments", json={"name": "e"}).json()
        run = client.post(
            "/api/v1/runs",
            json={"experiment_id": experiment["id"], "name": "r", "start_time": T0},
        ).json()
        assert run["user"] == "local"
    app.state.context.close()
