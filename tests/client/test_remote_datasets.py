"""Datasets through a team server: the SDK registers, reads and links versions over REST."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import loopml
from loopml.core.auth import Role
from loopml.core.errors import NotFoundError, PermissionDeniedError

from .conftest import LiveServer


@pytest.fixture(autouse=True)
def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    yield
    client = loopml._client
    loopml.set_client(None)
    if client is not None:
        client.close()


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})


def test_register_read_diff_and_lineage_over_rest(live_server: LiveServer) -> None:
    loopml.connect(live_server.url, token=live_server.admin_token, project="data-e2e")
    first = loopml.data.register("points", _frame(0), description="first")
    assert first.ref == "points@1"
    assert first.created_by == "admin"
    assert loopml.data.register("points", _frame(0)) == first  # same content, same version
    second = loopml.data.register("points", _frame(1).assign(x=lambda f: f.x + 3))
    assert second.version == 2
    back = loopml.data.get("points@1").to_pandas()
    assert back["x"].tolist() == _frame(0)["x"].tolist()
    diff = loopml.data.diff("points@1", "points@latest")
    assert [c.name for c in diff.drifted] == ["x"]
    with loopml.start_run(experiment="train") as run:
        run.log_input(first, role="train")
    edges = loopml.get_client().metadata.list_lineage(run_id=run.id)
    assert [(e.dataset_version_id, e.role) for e in edges] == [(first.id, "train")]


def test_a_viewer_reads_but_cannot_register(live_server: LiveServer) -> None:
    loopml.connect(live_server.url, token=live_server.admin_token, project="data-roles")
    loopml.data.register("points", _frame(0), profile=False)
    loopml.get_client().close()
    loopml.set_client(None)
    viewer = live_server.token(Role.VIEWER, "data-roles")
    loopml.connect(live_server.url, token=viewer, project="data-roles")
    assert loopml.data.get("points").n_rows == 500
    with pytest.raises(PermissionDeniedError):
        loopml.data.register("points", _frame(1), profile=False)


def test_another_projects_token_sees_no_dataset(live_server: LiveServer) -> None:
    loopml.connect(live_server.url, token=live_server.admin_token, project="data-a")
    version = loopml.data.register("points", _frame(0), profile=False)
    other = live_server.token(Role.ADMIN, "data-b")
    response = httpx.get(
        f"{live_server.url}/api/v1/dataset-versions/{version.id}",
        headers={"Authorization": f"Bearer {other}"},
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    with pytest.raises(NotFoundError):
        loopml.data.get("nobody@1")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"content_hash": "x", "n_rows": -1, "n_bytes": 0, "arrow_schema": [], "files": []},
            "n_rows",
        ),
        (
            {
                "content_hash": "blake3:" + "0" * 64,
                "n_rows": 1,
                "n_bytes": 1,
                "arrow_schema": [],
                "files": [
                    {
                        "name": "a",
                        "blob_path": "../../etc/passwd",
                        "size": 1,
                        "digest": "blake3:" + "0" * 64,
                        "n_rows": 1,
                    }
                ],
            },
            "files.0.blob_path",
        ),
    ],
)
def test_bad_version_bodies_get_422_naming_the_field(
    live_server: LiveServer, body: dict[str, object], field: str
) -> None:
    loopml.connect(live_server.url, token=live_server.admin_token, project="data-bad")
    dataset = loopml.get_client().metadata.ensure_dataset(loopml.get_client().project.id, "points")
    response = httpx.post(
        f"{live_server.url}/api/v1/datasets/{dataset.id}/versions",
        json=body,
        headers={"Authorization": f"Bearer {live_server.admin_token}"},
    )
    assert response.status_code == 422
    assert field in response.json()["field"]
    assert loopml.get_client().metadata.list_dataset_versions(dataset.id) == []
