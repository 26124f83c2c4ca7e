"""The registry through a team server: log, register, evaluate and release over REST."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import loopml
from loopml.client.client import Client
from loopml.core.auth import Role
from loopml.core.errors import PermissionDeniedError
from loopml.core.models import ApprovalStatus

from .conftest import LiveServer

PROJECT = "registry-e2e"


@pytest.fixture(autouse=True)
def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    yield
    client = loopml._client
    loopml.set_client(None)
    if client is not None:
        client.close()


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=600), "region": rng.choice(["n", "s"], 600)})
    frame["y"] = (frame.x + rng.normal(scale=0.7, size=600) > 0).astype(int)
    return frame


def _as(live_server: LiveServer, user: str, role: Role) -> Client:
    token = live_server.token(role, PROJECT, user=user)
    return loopml.connect(live_server.url, token=token, project=PROJECT)


def test_log_register_evaluate_and_release_with_four_eyes(live_server: LiveServer) -> None:
    admin = loopml.connect(live_server.url, token=live_server.admin_token, project=PROJECT)
    frame = _frame()
    with loopml.start_run(experiment="train") as run:
        model = LogisticRegression().fit(frame[["x"]], frame.y)
        uri = run.log_model(model, "model", input_example=frame[["x"]])
        run.log_metric("f1", 0.8)
    version = loopml.models.register(uri, "churn")
    assert (version.ref, version.created_by) == ("churn/1", "admin")
    assert loopml.models.load("models:/churn/1").predict(frame.head(2)).shape == (2,)
    report = loopml.models.evaluate("churn/1", frame, target="y", slices=["region"])
    assert set(report["slices"]["region"]) == {"n", "s"}
    loopml.models.set_policy("churn", ["metrics.roc_auc >= 0.5"])
    admin.close()

    ana = _as(live_server, "ana", Role.EDITOR)
    request = loopml.models.request_approval("churn/1", "champion", client=ana)
    assert request.requested_by == "ana"
    assert request.gate_results[0]["passed"]  # evaluated by the server
    with pytest.raises(PermissionDeniedError, match="four eyes"):
        loopml.models.approve(request.id, client=ana)
    with pytest.raises(PermissionDeniedError):  # an editor cannot move an alias directly
        ana.metadata.set_alias(version.model_id, "champion", 1, actor="ana")
    with pytest.raises(PermissionDeniedError):  # nor change the release policy
        loopml.models.set_policy("churn", [], client=ana)
    ana.close()

    ben = _as(live_server, "ben", Role.EDITOR)
    approved = loopml.models.approve(request.id, "looks right", client=ben)
    assert approved.status is ApprovalStatus.APPROVED
    assert loopml.models.get("churn@champion", client=ben).version == 1
    events = ben.registry.audit_events("churn")
    assert [e.actor for e in events][-2:] == ["ben", "ben"]
    ben.close()

    admin = loopml.connect(live_server.url, token=live_server.admin_token, project=PROJECT)
    n_events, problems = admin.registry.verify_audit()
    assert n_events >= 6
    assert problems == []


def test_a_client_cannot_send_its_own_gate_results(live_server: LiveServer) -> None:
    client = loopml.connect(live_server.url, token=live_server.admin_token, project="gates-e2e")
    model = client.registry.ensure_model("m")
    response = httpx.post(
        f"{live_server.url}/api/v1/models/{model.id}/approval-requests",
        json={"version": 1, "alias": "champion", "gate_results": [], "gates_passed": True},
        headers={"Authorization": f"Bearer {live_server.admin_token}"},
    )
    assert response.status_code == 422
    assert "gate_results" in response.text
