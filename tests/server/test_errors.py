"""Every error answers with the shared JSON body and the status of the mapping table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from loopml.core.errors import (
    AlreadyExistsError,
    ConflictError,
    IntegrityError,
    LoopmlError,
    NotFoundError,
    SchemaVersionError,
    StoreError,
    StoreUnavailableError,
    UnsafePathError,
    ValidationError,
)
from loopml.metadata.sql.store import SqlMetadataStore
from loopml.server.app import create_app
from loopml.server.config import ServerConfig
from loopml.server.context import ServerContext
from loopml.server.errors import status_of

if TYPE_CHECKING:
    from conftest import Server

T0 = "2026-01-02T03:04:05+00:00"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (UnsafePathError("x"), 400, "validation_error"),
        (ValidationError("x"), 422, "validation_error"),
        (NotFoundError("x"), 404, "not_found"),
        (AlreadyExistsError("x"), 409, "already_exists"),
        (ConflictError("x"), 409, "conflict"),
        (IntegrityError("x"), 409, "integrity_error"),
        (StoreUnavailableError("x"), 503, "store_unavailable"),
        (SchemaVersionError("x"), 503, "schema_version"),
        (StoreError("x"), 500, "internal_error"),
    ],
)
def test_status_of_every_error(error: LoopmlError, status: int, code: str) -> None:
    assert status_of(error) == (status, code)


def _body_of(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "message", "field"}
    return dict(body)


def test_conflicts_and_clashes_are_409(client: TestClient) -> None:
    assert client.post("/api/v1/projects", json={"name": "churn"}).status_code == 201
    again = client.post("/api/v1/projects", json={"name": "churn"})
    assert (again.status_code, _body_of(again)["error"]) == (409, "already_exists")
    experiment = client.post("/api/v1/projects/churn/experiments", json={"name": "e"}).json()
    run = client.post(
        "/api/v1/runs", json={"experiment_id": experiment["id"], "name": "r", "start_time": T0}
    ).json()
    url = f"/api/v1/runs/{run['id']}/batch"
    assert client.post(url, json={"params": {"lr": "1"}}).status_code == 204
    changed = client.post(url, json={"params": {"lr": "2"}})
    assert (changed.status_code, _body_of(changed)["error"]) == (409, "conflict")


def test_malformed_json_is_422_naming_the_body(client: TestClient) -> None:
    response = client.post(
        "/api/v1/projects", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    body = _body_of(response)
    assert (response.status_code, body["error"], body["field"]) == (422, "validation_error", "body")


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/projects", {"name": 5}, "name"),
        ("/api/v1/projects", {}, "name"),
        ("/api/v1/projects", {"name": "x", "extra": 1}, "extra"),
        ("/api/v1/runs", {"experiment_id": "nope", "name": "r", "start_time": T0}, "experiment_id"),
        (
            "/api/v1/runs",
            {"experiment_id": "0" * 32, "name": "r", "start_time": "2026-01-01T00:00:00"},
            "start_time",
        ),
        ("/api/v1/runs/search", {"experiment_ids": [], "max_results": 0}, "max_results"),
        ("/api/v1/runs/search", {"experiment_ids": "x"}, "experiment_ids"),
    ],
)
def test_wrong_types_are_422_naming_the_field(
    client: TestClient, url: str, payload: dict[str, object], field: str
) -> None:
    response = client.post(url, json=payload)
    body = _body_of(response)
    assert (response.status_code, body["error"], body["field"]) == (422, "validation_error", field)
    assert field in str(body["message"])


def test_domain_validation_is_422_naming_the_field(client: TestClient) -> None:
    client.post("/api/v1/projects", json={"name": "churn"})
    experiment = client.post("/api/v1/projects/churn/experiments", json={"name": "e"}).json()
    run = client.post(
        "/api/v1/runs", json={"experiment_id": experiment["id"], "name": "r", "start_time": T0}
    ).json()
    bad = client.post(
        f"/api/v1/runs/{run['id']}/batch",
        json={"metrics": [{"key": "bad key!", "value": 1, "step": 0, "timestamp": 0}]},
    )
    assert (bad.status_code, _body_of(bad)["field"]) == (422, "metric.name")


def test_unknown_route_and_method_are_json(client: TestClient) -> None:
    assert _body_of(client.get("/api/v1/nowhere"))["error"] == "not_found"
    wrong = client.put("/api/v1/projects", json={})
    assert (wrong.status_code, _body_of(wrong)["error"]) == (405, "method_not_allowed")


def test_unexpected_errors_are_500_without_a_traceback(
    config_for: Callable[..., ServerConfig],
) -> None:
    class BrokenStore(SqlMetadataStore):
        def list_projects(self) -> list:  # type: ignore[type-arg]
            raise RuntimeError("secret internals")

    config = config_for()
    store = BrokenStore(config.store_url)
    from loopml.auth import AuthService

    context = ServerContext(config, store, AuthService(store, store))
    secret = context.auth.bootstrap_admin()
    with TestClient(create_app(config, context=context), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 500
    assert _body_of(response)["error"] == "internal_error"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    store.close()


def test_unreachable_store_is_503(config_for: Callable[..., ServerConfig]) -> None:
    config = config_for(artifacts_url="s3://loopml-none", s3_endpoint_url="http://127.0.0.1:9")
    app = create_app(config)
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert (ready.status_code, _body_of(ready)["error"]) == (503, "store_unavailable")
        assert client.get("/healthz").status_code == 200
    app.state.context.close()


def test_too_large_and_unsupported_media(server: Server) -> None:
    headers = {**server.headers(), "Content-Type": "application/xml"}
    unsupported = server.client.post("/api/v1/projects", content=b"<x/>", headers=headers)
    assert (unsupported.status_code, _body_of(unsupported)["error"]) == (
        415,
        "unsupported_media_type",
    )
