"""The SDK in remote mode, end to end against the real server: same calls, same results."""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import loopml
from loopml.client import session as session_module
from loopml.client.client import Client
from loopml.client.rest_artifacts import RestArtifactStore
from loopml.client.rest_store import RestMetadataStore
from loopml.client.session import RetryPolicy
from loopml.core.auth import Role
from loopml.core.config import load_settings
from loopml.core.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    StoreUnavailableError,
)

from .conftest import LiveServer


@pytest.fixture(autouse=True)
def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No local ``.loopml`` around, and no module-level client left behind."""
    monkeypatch.chdir(tmp_path)
    yield
    client = loopml._client
    loopml.set_client(None)
    if client is not None:
        client.close()


def test_connect_logs_and_searches_like_a_local_store(
    live_server: LiveServer, tmp_path: Path
) -> None:
    client = loopml.connect(live_server.url, token=live_server.admin_token, project="sdk-e2e")
    assert loopml.get_client() is client
    assert isinstance(client.metadata, RestMetadataStore)
    assert isinstance(client.artifacts, RestArtifactStore)
    with loopml.start_run(experiment="churn", name="rf-200") as run:
        run.log_params({"n_estimators": 200, "model": "rf"})
        for epoch in range(5):
            run.log_metric("loss", 1 / (epoch + 1), step=epoch)
        run.log_metric("odd", math.nan)
        run.set_tag("team", "a")
        run.log_text("hello from the server", "notes/readme.txt")
    frame = loopml.search_runs(experiment="churn", filter="metrics.loss < 0.5")
    assert list(frame["name"]) == ["rf-200"]
    assert frame["metrics.loss"].iloc[0] == pytest.approx(0.2)
    assert frame["params.model"].iloc[0] == "rf"
    stored = loopml.get_run(run.id)
    assert stored.status is loopml.RunStatus.FINISHED
    assert math.isnan(stored.metrics["odd"].value)
    assert [m.step for m in loopml.get_metric_history(run.id, "loss")] == [0, 1, 2, 3, 4]
    assert [a.path for a in client.list_artifacts(run.id)] == ["notes/readme.txt"]
    (copy,) = client.download_artifacts(run.id, tmp_path / "back")
    assert copy.read_text() == "hello from the server"
    assert not (tmp_path / ".loopml").exists()  # nothing was written locally


def test_the_server_url_in_the_environment_selects_remote_mode(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPML_SERVER_URL", live_server.url)
    monkeypatch.setenv("LOOPML_TOKEN", live_server.admin_token)
    monkeypatch.setenv("LOOPML_PROJECT", "from-env")
    settings = load_settings()
    assert live_server.admin_token not in repr(settings)
    with Client(settings) as client:
        assert client.project.name == "from-env"
        assert isinstance(client.metadata, RestMetadataStore)


def test_runs_are_recorded_as_the_tokens_user(live_server: LiveServer) -> None:
    token = live_server.token(Role.EDITOR, "team-a", user="ann")
    with loopml.connect(live_server.url, token=token, project="team-a").start_run("e") as run:
        run.log_metric("m", 1.0)
    assert loopml.get_run(run.id).user == "ann"


def test_a_missing_project_says_who_can_create_it(live_server: LiveServer) -> None:
    token = live_server.token(Role.EDITOR, "team-b", user="bob")
    with pytest.raises(NotFoundError, match=r"'elsewhere'.*server admin"):
        loopml.connect(live_server.url, token=token, project="elsewhere")


def test_a_token_of_another_project_sees_not_found(live_server: LiveServer) -> None:
    live_server.token(Role.EDITOR, "secret-project", user="carol")
    token = live_server.token(Role.EDITOR, "team-c", user="dave")
    with RestMetadataStore(live_server.url, token) as store:
        with pytest.raises(NotFoundError):
            store.get_project_by_name("secret-project")
        assert [p.name for p in store.list_projects()] == ["team-c"]


def test_a_viewer_cannot_write(live_server: LiveServer) -> None:
    token = live_server.token(Role.VIEWER, "team-d", user="erin")
    client = loopml.connect(live_server.url, token=token, project="team-d")
    with pytest.raises(PermissionDeniedError, match="editor"):
        client.start_run("e")


@pytest.mark.parametrize("token", [None, "lml_not-a-token", "lml_" + "0" * 32 + "_" + "x" * 43])
def test_a_missing_or_unknown_token_is_an_authentication_error(
    live_server: LiveServer, token: str | None
) -> None:
    with pytest.raises(AuthenticationError):
        loopml.connect(live_server.url, token=token, project="anything")


def test_connecting_to_a_closed_port_raises_one_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        session_module, "RetryPolicy", lambda: RetryPolicy(attempts=2, initial_s=0.01)
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(StoreUnavailableError, match=url):
        loopml.connect(url, token="lml_t", project="p")
