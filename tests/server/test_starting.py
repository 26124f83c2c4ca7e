"""The fast start: /healthz answers while the app is still being built."""

from __future__ import annotations

import threading

from fastapi import FastAPI
from fastapi.testclient import TestClient

from loopml.server.starting import StartingApp


def test_healthz_answers_while_building_then_the_app_takes_over() -> None:
    release = threading.Event()
    real = FastAPI()

    @real.get("/api/v1/x")
    def x() -> dict[str, str]:
        return {"answer": "real"}

    def build() -> FastAPI:
        release.wait(10)
        return real

    starting = StartingApp(build, on_failure=lambda error: None)
    with TestClient(starting) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        waiting = client.get("/api/v1/x")
        assert (waiting.status_code, waiting.headers["Retry-After"]) == (503, "1")
        assert waiting.json()["error"] == "store_unavailable"
        release.set()
        assert starting.ready.wait(10)
        assert client.get("/api/v1/x").json() == {"answer": "real"}


def test_a_failed_build_is_reported() -> None:
    failures: list[BaseException] = []

    def build() -> FastAPI:
        raise RuntimeError("store down")

    starting = StartingApp(build, on_failure=failures.append)
    with TestClient(starting) as client:
        assert starting.ready.wait(10)
        assert client.get("/readyz").status_code == 503
    assert [str(f) for f in failures] == ["store down"]
    assert isinstance(starting.error, RuntimeError)
