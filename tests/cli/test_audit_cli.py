"""``loopml audit`` and the approval workflow from the terminal, on a local store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from loopml.client.client import Client
from loopml.core.config import load_settings
from loopml.metadata.models_base import ModelVersionCreate
from loopml.testing.cli import run_loopml as loopml_cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    assert loopml_cli(tmp_path, "init", "--name", "churn").returncode == 0
    with Client(load_settings(cwd=tmp_path, environ={})) as client:
        registry = client.registry
        model = registry.ensure_model("churn")
        for _ in range(2):
            client.metadata.create_model_version(
                ModelVersionCreate(
                    model.id, "sklearn", "models/x", "blake3:" + "2" * 64, 10, metrics={"f1": 0.9}
                ),
                actor="ada",
            )
    return tmp_path


def _as(user: str) -> dict[str, str]:
    return {"LOOPML_USER": user}


def test_request_approve_and_the_alias_moves(project: Path) -> None:
    done = loopml_cli(project, "models", "policy", "churn", "--gate", "metrics.f1 >= 0.85")
    assert done.returncode == 0, done.stderr
    done = loopml_cli(
        project,
        "models",
        "request-approval",
        "churn/2",
        "--alias",
        "champion",
        "--json",
        env=_as("ada"),
    )
    assert done.returncode == 0, done.stderr
    import json

    request = json.loads(done.stdout)
    assert request["gates_passed"] is True
    own = loopml_cli(project, "models", "approve", request["id"][:8], env=_as("ada"))
    assert own.returncode == 2
    assert "four eyes" in own.stderr
    done = loopml_cli(
        project, "models", "approve", request["id"][:8], "--reason", "ok", env=_as("bob")
    )
    assert done.returncode == 0, done.stderr
    assert "approved" in done.stdout
    listed = json.loads(loopml_cli(project, "models", "list", "--json").stdout)
    assert listed[0]["aliases"] == {"champion": 2}
    again = loopml_cli(
        project, "models", "reject", request["id"][:8], "--reason", "no", env=_as("cy")
    )
    assert again.returncode == 2
    assert "already approved" in again.stderr


def test_failed_gates_block_until_an_override(project: Path) -> None:
    loopml_cli(project, "models", "policy", "churn", "--gate", "metrics.f1 >= 0.95")
    done = loopml_cli(project, "models", "request-approval", "churn/1", env=_as("ada"))
    assert "Gates failed" in done.stdout
    assert "0.9 >= 0.95" in done.stdout
    listed = loopml_cli(project, "models", "approvals", "--json")
    import json

    (request,) = json.loads(listed.stdout)
    blocked = loopml_cli(project, "models", "approve", request["id"][:8], env=_as("bob"))
    assert blocked.returncode == 2
    assert "gates failed" in blocked.stderr
    done = loopml_cli(
        project,
        "models",
        "override",
        request["id"][:8],
        "--justification",
        "incident 42: ship the fix now",
        env=_as("root"),
    )
    assert done.returncode == 0, done.stderr
    assert "overridden" in done.stdout


def test_a_bad_gate_is_refused_naming_it(project: Path) -> None:
    done = loopml_cli(project, "models", "policy", "churn", "--gate", "metrics.f1 >=")
    assert done.returncode == 2
    assert "gates[0]" in done.stderr


def test_verify_passes_then_names_an_edited_and_a_deleted_event(project: Path) -> None:
    done = loopml_cli(project, "audit", "verify")
    assert done.returncode == 0, done.stderr
    assert "3 events" in done.stdout
    listed = loopml_cli(project, "audit", "list", "--entity", "churn")
    assert "version.create" in listed.stdout
    database = project / ".loopml" / "loopml.db"
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    done = loopml_cli(project, "audit", "verify")
    assert done.returncode == 1
    assert "event 2" in done.stdout
    assert "edited" in done.stdout
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE audit_events SET actor = 'ada' WHERE seq = 2")
        connection.execute("DELETE FROM audit_events WHERE seq = 2")
    done = loopml_cli(project, "audit", "verify")
    assert done.returncode == 1
    assert "event 3" in done.stdout
    assert "missing" in done.stdout
