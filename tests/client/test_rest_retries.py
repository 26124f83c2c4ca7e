"""Retried writes against the real server are applied exactly once.

The transport lets each write reach the server and then loses its answer, as a
connection reset after the server committed does; the store retries, and the records
show the write once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from loopml.client.rest_store import RestMetadataStore
from loopml.client.session import RetryPolicy
from loopml.core.entities import Experiment, Metric, MetricSeries, Project
from loopml.metadata.base import RunCreate

from .conftest import LiveServer
from .transports import LosingTransport

FAST = RetryPolicy(attempts=3, initial_s=0.01, max_s=0.01)


def _store(server: LiveServer, transport: httpx.BaseTransport) -> RestMetadataStore:
    return RestMetadataStore(server.url, server.admin_token, transport=transport, retry=FAST)


@pytest.fixture
def project(live_server: LiveServer) -> Project:
    live_server.reset()
    return live_server.context.metadata.create_project("retries")


@pytest.fixture
def experiment(live_server: LiveServer, project: Project) -> Experiment:
    return live_server.context.metadata.create_experiment(project.id, "e")


@pytest.fixture
def direct(live_server: LiveServer) -> Iterator[RestMetadataStore]:
    """A store without tricks, to read back what the server holds."""
    with RestMetadataStore(live_server.url, live_server.admin_token) as store:
        yield store


def test_a_batch_whose_answer_is_lost_is_stored_exactly_once(
    live_server: LiveServer, experiment: Experiment, direct: RestMetadataStore
) -> None:
    run = direct.create_run(RunCreate(experiment.id, "r", datetime.now(UTC)))
    transport = LosingTransport(lambda r: r.url.path.endswith("/batch"))
    with _store(live_server, transport) as store:
        store.log_batch(
            run.id,
            [Metric("acc", 0.9, 0, 1)],
            params={"lr": "0.1"},
            series=[MetricSeries("loss", [0, 1, 2], [1, 2, 3], [0.5, 0.4, 0.3])],
        )
    batches = transport.matching("POST", "/batch")
    assert len(batches) == 2  # the lost first try and its retry
    assert batches[0].content == batches[1].content  # same idempotency key
    assert len(direct.get_metric_history(run.id, "loss")) == 3
    assert len(direct.get_metric_history(run.id, "acc")) == 1
    assert dict(direct.get_run(run.id).params) == {"lr": "0.1"}


def test_a_run_whose_answer_is_lost_is_created_exactly_once(
    live_server: LiveServer, experiment: Experiment, direct: RestMetadataStore
) -> None:
    transport = LosingTransport(lambda r: r.method == "POST" and r.url.path.endswith("/runs"))
    with _store(live_server, transport) as store:
        run = store.create_run(RunCreate(experiment.id, "once", datetime.now(UTC)))
    assert len(transport.matching("POST", "/runs")) == 2
    page = direct.search_runs([experiment.id])
    assert [r.id for r in page.runs] == [run.id]


def test_an_experiment_whose_answer_is_lost_is_returned_on_the_retry(
    live_server: LiveServer, project: Project, direct: RestMetadataStore
) -> None:
    transport = LosingTransport(
        lambda r: r.method == "POST" and r.url.path.endswith("/experiments")
    )
    with _store(live_server, transport) as store:
        experiment = store.create_experiment(project.id, "fresh", "d", {"team": "a"})
    assert len(transport.matching("POST", "/experiments")) == 2  # the retry answered 409
    assert [e.id for e in direct.list_experiments(project.id)] == [experiment.id]


def test_a_project_whose_answer_is_lost_is_returned_on_the_retry(
    live_server: LiveServer, direct: RestMetadataStore
) -> None:
    live_server.reset()
    transport = LosingTransport(lambda r: r.method == "POST" and r.url.path.endswith("/projects"))
    with _store(live_server, transport) as store:
        project = store.create_project("lost-answer", "x")
    assert [p.id for p in direct.list_projects()] == [project.id]


def test_a_tag_delete_whose_answer_is_lost_succeeds_on_the_retry(
    live_server: LiveServer, experiment: Experiment, direct: RestMetadataStore
) -> None:
    run = direct.create_run(RunCreate(experiment.id, "r", datetime.now(UTC), tags={"t": "1"}))
    transport = LosingTransport(lambda r: r.method == "DELETE")
    with _store(live_server, transport) as store:
        store.delete_tag(run.id, "t")
    assert not direct.get_run(run.id).tags
