"""RestMetadataStore's own rules, through httpx's MockTransport: what goes on the wire and
how retries stay idempotent. The contract against a real server is test_rest_contract.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from loopml.client.rest_store import RestMetadataStore
from loopml.client.session import RetryPolicy
from loopml.core.entities import Metric, MetricSeries
from loopml.core.errors import AlreadyExistsError, ValidationError
from loopml.metadata.base import RunCreate

FAST = RetryPolicy(attempts=3, initial_s=0.0, max_s=0.0)
RUN_ID = "a" * 32
EXPERIMENT_ID = "e" * 32
PROJECT = {"id": "f" * 32, "name": "churn", "description": "", "created_at": "2024-05-01T12:00:00Z"}


def _run_json(**changes: Any) -> dict[str, Any]:
    run = {
        "id": RUN_ID,
        "experiment_id": EXPERIMENT_ID,
        "name": "rf",
        "status": "running",
        "start_time": "2024-05-01T12:00:00.123000Z",
        "end_time": None,
        "parent_run_id": None,
        "user": "ann",
        "note": "",
        "error": "",
        "params": {},
        "metrics": {},
        "tags": {},
        "environment": {},
        "deleted": False,
    }
    run.update(changes)
    return run


class FakeServer:
    """Answers by route; ``lose`` drops the answer of the first matching call *after*
    the server handled it, as a connection reset after the response was written does."""

    def __init__(self, routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]]):
        self.routes = routes
        self.requests: list[httpx.Request] = []
        self.lose: set[tuple[str, str]] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = (request.method, request.url.path.removeprefix("/api/v1"))
        response = self.routes[route](request)
        if route in self.lose:
            self.lose.discard(route)
            raise httpx.RemoteProtocolError("server disconnected without sending a response")
        return response

    def bodies(self, method: str, path: str) -> list[Any]:
        return [
            orjson.loads(r.content)
            for r in self.requests
            if (r.method, r.url.path) == (method, f"/api/v1{path}")
        ]

    def store(self) -> RestMetadataStore:
        return RestMetadataStore(
            "http://loopml.test", "lml_t", transport=httpx.MockTransport(self), retry=FAST
        )


def test_log_batch_retry_sends_the_same_idempotency_key() -> None:
    server = FakeServer({("POST", f"/runs/{RUN_ID}/batch"): lambda r: httpx.Response(204)})
    server.lose.add(("POST", f"/runs/{RUN_ID}/batch"))
    with server.store() as store:
        store.log_batch(RUN_ID, [Metric("loss", 0.5, 0, 1)])
        store.log_batch(RUN_ID, [Metric("loss", 0.4, 1, 2)], idempotency_key="flush-7")
    first, retry, second = server.bodies("POST", f"/runs/{RUN_ID}/batch")
    assert first["idempotency_key"] == retry["idempotency_key"]
    assert len(first["idempotency_key"]) == 32
    assert second["idempotency_key"] == "flush-7"


def test_two_calls_without_a_key_get_different_keys() -> None:
    server = FakeServer({("POST", f"/runs/{RUN_ID}/batch"): lambda r: httpx.Response(204)})
    with server.store() as store:
        for _ in range(2):
            store.log_batch(RUN_ID, tags={"t": "1"})
    keys = {body["idempotency_key"] for body in server.bodies("POST", f"/runs/{RUN_ID}/batch")}
    assert len(keys) == 2


def test_create_run_sends_a_client_chosen_id_and_retries_with_it() -> None:
    def create(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json=_run_json(id=orjson.loads(request.content)["id"]))

    server = FakeServer({("POST", "/runs"): create})
    server.lose.add(("POST", "/runs"))
    start = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    with server.store() as store:
        run = store.create_run(RunCreate(EXPERIMENT_ID, "rf", start, user="ann"))
    first, retry = server.bodies("POST", "/runs")
    assert first == retry
    assert first["id"] == run.id
    assert first["start_time"] == "2024-05-01T12:00:00.123000Z"
    assert run.start_time == start


def test_create_run_keeps_an_id_the_caller_chose() -> None:
    server = FakeServer({("POST", "/runs"): lambda r: httpx.Response(201, json=_run_json())})
    with server.store() as store:
        store.create_run(RunCreate(EXPERIMENT_ID, "rf", datetime.now(UTC), id=RUN_ID))
    assert server.bodies("POST", "/runs")[0]["id"] == RUN_ID


def _already_exists(request: httpx.Request) -> httpx.Response:
    body = {"error": "already_exists", "message": "project 'churn' exists", "field": "name"}
    return httpx.Response(409, content=orjson.dumps(body))


def test_create_project_answered_409_on_a_retry_returns_the_project_made_by_the_first_try() -> None:
    created: list[bool] = []

    def create(request: httpx.Request) -> httpx.Response:
        if created:
            return _already_exists(request)
        created.append(True)
        return httpx.Response(201, json=PROJECT)

    server = FakeServer(
        {
            ("POST", "/projects"): create,
            ("GET", "/projects/churn"): lambda r: httpx.Response(200, json=PROJECT),
        }
    )
    server.lose.add(("POST", "/projects"))
    with server.store() as store:
        project = store.create_project("churn")
    assert project.id == PROJECT["id"]
    assert len(server.bodies("POST", "/projects")) == 2


def test_create_project_answered_409_on_the_first_try_raises_already_exists() -> None:
    server = FakeServer({("POST", "/projects"): _already_exists})
    with server.store() as store, pytest.raises(AlreadyExistsError, match="churn"):
        store.create_project("churn")


def test_metric_values_travel_as_json_with_nan_and_inf_as_strings() -> None:
    server = FakeServer({("POST", f"/runs/{RUN_ID}/batch"): lambda r: httpx.Response(204)})
    values = [math.nan, math.inf, -math.inf, 0.1 + 0.2, -0.0, 5e-324]
    with server.store() as store:
        store.log_batch(
            RUN_ID,
            [Metric("p", math.nan, 0, 5)],
            series=[MetricSeries("s", list(range(6)), list(range(6)), values)],
        )
    (body,) = server.bodies("POST", f"/runs/{RUN_ID}/batch")
    series = {s["key"]: s for s in body["series"]}
    assert series["s"]["values"][:3] == ["NaN", "Infinity", "-Infinity"]
    assert series["s"]["values"][3:] == [0.1 + 0.2, -0.0, 5e-324]
    assert math.copysign(1.0, series["s"]["values"][4]) == -1.0
    assert series["p"] == {"key": "p", "steps": [0], "timestamps": [5], "values": ["NaN"]}


def test_metric_values_come_back_exactly() -> None:
    metrics = {
        "a": {"value": "NaN", "step": 0, "timestamp": 1},
        "b": {"value": "Infinity", "step": 0, "timestamp": 1},
        "c": {"value": "-Infinity", "step": 0, "timestamp": 1},
        "d": {"value": 5e-324, "step": 0, "timestamp": 1},
    }
    series = {"key": "a", "steps": [0, 1, 2], "timestamps": [1, 2, 3],
              "values": ["NaN", -0.0, "-Infinity"], "n_points": 3}  # fmt: skip
    server = FakeServer(
        {
            ("GET", f"/runs/{RUN_ID}"): lambda r: httpx.Response(
                200, json=_run_json(metrics=metrics)
            ),
            ("GET", f"/runs/{RUN_ID}/metrics/a"): lambda r: httpx.Response(200, json=series),
        }
    )
    with server.store() as store:
        got = store.get_run(RUN_ID).metrics
        history = store.get_metric_history(RUN_ID, "a")
    assert math.isnan(got["a"].value)
    assert (got["b"].value, got["c"].value, got["d"].value) == (math.inf, -math.inf, 5e-324)
    assert math.isnan(history[0].value)
    assert math.copysign(1.0, history[1].value) == -1.0
    assert history[2] == Metric("a", -math.inf, 2, 3)


def test_a_bad_batch_is_refused_before_any_request_naming_the_field() -> None:
    server = FakeServer({})
    with server.store() as store:
        with pytest.raises(ValidationError) as caught:
            store.log_batch(RUN_ID, series=[MetricSeries("m", [0, -1], [0, 1], [1.0, 2.0])])
        assert caught.value.field == "metrics.m.step"
        with pytest.raises(ValidationError) as caught:
            store.log_batch(RUN_ID, params={"p": object()})  # type: ignore[dict-item]
        assert caught.value.field == "params.p"
    assert server.requests == []


def test_names_with_reserved_characters_stay_one_path_segment() -> None:
    server = FakeServer(
        {
            ("DELETE", f"/runs/{RUN_ID}/tags/a/b c?d#e%f"): lambda r: httpx.Response(204),
        }
    )
    with server.store() as store:
        store.delete_tag(RUN_ID, "a/b c?d#e%f")
    assert server.requests[0].url.raw_path == (
        f"/api/v1/runs/{RUN_ID}/tags/a%2Fb%20c%3Fd%23e%25f".encode()
    )


def test_a_name_of_dots_is_escaped_and_never_resolved_away() -> None:
    server = FakeServer({("DELETE", f"/runs/{RUN_ID}/tags/.."): lambda r: httpx.Response(204)})
    with server.store() as store:
        store.delete_tag(RUN_ID, "..")
    assert server.requests[0].url.raw_path == f"/api/v1/runs/{RUN_ID}/tags/%2E%2E".encode()
