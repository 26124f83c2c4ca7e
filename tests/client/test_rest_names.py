"""Names that are awkward in a URL reach the right record on the real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from loopml.client.rest_store import RestMetadataStore
from loopml.core.entities import Metric
from loopml.metadata.base import RunCreate

from .conftest import LiveServer

AWKWARD = ["a/b", "a b?c#d%e&f=g", "..", ".", "名前", "100%"]


@pytest.fixture
def store(live_server: LiveServer) -> Iterator[RestMetadataStore]:
    live_server.reset()
    with RestMetadataStore(live_server.url, live_server.admin_token) as store:
        yield store


@pytest.mark.parametrize("name", AWKWARD)
def test_projects_and_experiments_are_found_by_any_name(
    store: RestMetadataStore, name: str
) -> None:
    project = store.create_project(name)
    assert store.get_project_by_name(name) == project
    assert store.ensure_project(name) == project
    experiment = store.create_experiment(project.id, name)
    assert store.get_experiment_by_name(project.id, name) == experiment
    assert store.ensure_experiment(project.id, name) == experiment


@pytest.mark.parametrize("key", ["val/loss", "..", ".", "a:b/c.d"])
def test_metric_and_tag_keys_stay_one_segment(store: RestMetadataStore, key: str) -> None:
    project = store.create_project("p")
    experiment = store.create_experiment(project.id, "e")
    run = store.create_run(RunCreate(experiment.id, "r", datetime.now(UTC)))
    store.log_batch(run.id, [Metric(key, 1.5, 0, 1)], tags={key: "v", "other": "w"})
    assert store.get_metric_history(run.id, key) == [Metric(key, 1.5, 0, 1)]
    store.delete_tag(run.id, key)
    got = store.get_run(run.id)
    assert dict(got.tags) == {"other": "w"}
    assert not got.deleted
