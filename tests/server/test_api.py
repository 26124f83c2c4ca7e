"""The REST API end to end: projects, experiments, runs, batches, series, search, artifacts."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import Server

T0 = "2026-01-02T03:04:05+00:00"


def _experiment(client: TestClient, project: str = "churn", name: str = "baseline") -> str:
    if client.get(f"/api/v1/projects/{project}").status_code == 404:
        assert client.post("/api/v1/projects", json={"name": project}).status_code == 201
    response = client.post(f"/api/v1/projects/{project}/experiments", json={"name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _run(client: TestClient, experiment_id: str, **fields: object) -> dict[str, object]:
    body = {"experiment_id": experiment_id, "name": "rf", "start_time": T0, **fields}
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_projects_are_created_by_admins_and_listed(client: TestClient) -> None:
    created = client.post("/api/v1/projects", json={"name": "churn", "description": "d"})
    assert created.status_code == 201
    assert client.get("/api/v1/projects/churn").json() == created.json()
    assert client.get(f"/api/v1/projects/{created.json()['id']}").json()["name"] == "churn"
    assert [p["name"] for p in client.get("/api/v1/projects").json()["projects"]] == ["churn"]


def test_experiments_by_id_and_name_and_deleted(client: TestClient) -> None:
    experiment_id = _experiment(client)
    by_name = client.get("/api/v1/projects/churn/experiments/by-name/baseline").json()
    assert by_name["id"] == experiment_id
    assert client.get(f"/api/v1/experiments/{experiment_id}").json() == by_name
    assert client.delete(f"/api/v1/experiments/{experiment_id}").status_code == 204
    assert client.get("/api/v1/projects/churn/experiments").json() == {"experiments": []}
    listed = client.get("/api/v1/projects/churn/experiments?include_deleted=true").json()
    assert [e["deleted"] for e in listed["experiments"]] == [True]


def test_run_records_the_acting_user_not_the_body(client: TestClient, server: Server) -> None:
    experiment_id = _experiment(client, name="e")
    editor = server.token("editor")
    body = {"experiment_id": experiment_id, "name": "rf", "start_time": T0, "user": "mallory"}
    refused = client.post("/api/v1/runs", json=body, headers=server.headers(editor))
    assert refused.status_code == 403
    del body["user"]
    run = client.post("/api/v1/runs", json=body, headers=server.headers(editor)).json()
    assert run["user"] == "editor-churn"


def test_same_run_id_again_returns_the_existing_run(client: TestClient) -> None:
    experiment_id = _experiment(client)
    run_id = "ab" * 16
    first = _run(client, experiment_id, id=run_id)
    again = _run(client, experiment_id, id=run_id, name="other")
    assert again == first
    other = _experiment(client, name="other")
    clash = client.post(
        "/api/v1/runs", json={"id": run_id, "experiment_id": other, "name": "x", "start_time": T0}
    )
    assert clash.status_code == 409
    assert clash.json()["error"] == "conflict"


def test_run_lifecycle_update_delete_restore(client: TestClient) -> None:
    run = _run(client, _experiment(client), tags={"team": "a"})
    url = f"/api/v1/runs/{run['id']}"
    updated = client.patch(url, json={"status": "finished", "end_time": T0, "note": "ok"})
    assert (updated.json()["status"], updated.json()["note"]) == ("finished", "ok")
    assert client.delete(f"{url}/tags/team").status_code == 204
    assert client.get(url).json()["tags"] == {}
    assert client.delete(url).status_code == 204
    assert client.get(url).json()["deleted"] is True
    assert client.post(f"{url}/restore").status_code == 204
    assert client.get(url).json()["deleted"] is False


def test_nan_and_inf_metrics_round_trip_exactly(client: TestClient) -> None:
    run = _run(client, _experiment(client))
    url = f"/api/v1/runs/{run['id']}"
    points = [
        {"key": "loss", "value": "NaN", "step": 0, "timestamp": 1},
        {"key": "loss", "value": "Infinity", "step": 1, "timestamp": 2},
        {"key": "loss", "value": "-Infinity", "step": 2, "timestamp": 3},
        {"key": "loss", "value": 0.1 + 0.2, "step": 3, "timestamp": 4},
    ]
    assert client.post(f"{url}/batch", json={"metrics": points}).status_code == 204
    series = client.get(f"{url}/metrics/loss").json()
    assert series["values"] == ["NaN", "Infinity", "-Infinity", 0.1 + 0.2]
    assert (series["steps"], series["timestamps"], series["n_points"]) == (
        [0, 1, 2, 3],
        [1, 2, 3, 4],
        4,
    )
    latest = client.get(url).json()["metrics"]["loss"]
    assert latest == {"value": 0.1 + 0.2, "step": 3, "timestamp": 4}
    client.post(
        f"{url}/batch", json={"metrics": [{"key": "x", "value": "NaN", "step": 0, "timestamp": 1}]}
    )
    assert client.get(url).json()["metrics"]["x"]["value"] == "NaN"


def test_batch_with_series_params_tags_and_idempotency_key(client: TestClient) -> None:
    run = _run(client, _experiment(client))
    url = f"/api/v1/runs/{run['id']}"
    body = {
        "series": [
            {"key": "acc", "steps": [0, 1, 2], "timestamps": [1, 2, 3], "values": [0.5, 0.6, 0.7]}
        ],
        "params": {"lr": "0.1"},
        "tags": {"team": "a"},
        "idempotency_key": "k1",
    }
    assert client.post(f"{url}/batch", json=body).status_code == 204
    assert client.post(f"{url}/batch", json=body).status_code == 204
    assert client.get(f"{url}/metrics/acc").json()["n_points"] == 3
    got = client.get(url).json()
    assert (got["params"], got["tags"]) == ({"lr": "0.1"}, {"team": "a"})


def test_long_series_is_downsampled_keeping_first_and_last(client: TestClient) -> None:
    run = _run(client, _experiment(client))
    url = f"/api/v1/runs/{run['id']}"
    n = 20_000
    values = [math.sin(i / 100) for i in range(n)]
    series = {"key": "loss", "steps": list(range(n)), "timestamps": [0] * n, "values": values}
    assert client.post(f"{url}/batch", json={"series": [series]}).status_code == 204
    got = client.get(f"{url}/metrics/loss", params={"max_points": 500}).json()
    assert (len(got["steps"]), got["n_points"]) == (500, n)
    assert (got["steps"][0], got["steps"][-1]) == (0, n - 1)
    assert got["values"][0] == values[0]


def test_search_filters_orders_and_pages(client: TestClient) -> None:
    experiment_id = _experiment(client)
    for index in range(5):
        run = _run(client, experiment_id, name=f"r{index}")
        point = {"key": "acc", "value": index / 10, "step": 0, "timestamp": 1}
        client.post(f"/api/v1/runs/{run['id']}/batch", json={"metrics": [point]})
    body = {
        "experiment_ids": [experiment_id],
        "filter": "metrics.acc >= 0.2",
        "order_by": ["metrics.acc DESC"],
        "max_results": 2,
    }
    first = client.post("/api/v1/runs/search", json=body).json()
    assert [r["name"] for r in first["runs"]] == ["r4", "r3"]
    second = client.post(
        "/api/v1/runs/search", json={**body, "page_token": first["next_page_token"]}
    ).json()
    assert [r["name"] for r in second["runs"]] == ["r2"]
    assert second["next_page_token"] is None
    bad = client.post("/api/v1/runs/search", json={**body, "filter": "metrics.acc >"})
    assert (bad.status_code, bad.json()["field"]) == (422, "filter")


def test_artifacts_are_recorded_and_listed(client: TestClient) -> None:
    run = _run(client, _experiment(client))
    url = f"/api/v1/runs/{run['id']}/artifacts"
    digest = "blake3:" + "0" * 64
    assert (
        client.post(url, json={"path": "model/w.bin", "size": 3, "digest": digest}).status_code
        == 204
    )
    assert client.get(url, params={"prefix": "model"}).json() == {
        "artifacts": [{"path": "model/w.bin", "size": 3, "digest": digest}]
    }
    assert client.post(url, json={"path": "../x", "size": 3, "digest": digest}).status_code == 400
