"""A batch with an idempotency key checks its run in the same statement that records the key.

Nothing is recorded for an unknown or deleted run, and the error names which it was; on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loopml.core.entities import Metric
from loopml.core.errors import ConflictError, NotFoundError
from loopml.metadata.base import RunCreate
from loopml.metadata.sql import SqlMetadataStore

POINT = [Metric("loss", 0.5, 0, 0)]


@pytest.fixture
def run_id(store: SqlMetadataStore) -> str:
    experiment = store.ensure_experiment(store.ensure_project("keys").id, "keys")
    return store.create_run(RunCreate(experiment.id, "r", datetime(2024, 1, 1, tzinfo=UTC))).id


def test_an_unknown_run_is_not_found(store: SqlMetadataStore) -> None:
    with pytest.raises(NotFoundError) as caught:
        store.log_batch("0" * 32, POINT, idempotency_key="k")
    assert caught.value.field == "run_id"


def test_a_deleted_run_is_a_conflict_and_its_key_stays_unused(
    store: SqlMetadataStore, run_id: str
) -> None:
    store.delete_run(run_id)
    with pytest.raises(ConflictError):
        store.log_batch(run_id, POINT, idempotency_key="k")
    store.restore_run(run_id)
    store.log_batch(run_id, POINT, idempotency_key="k")  # not a repeat: it applies
    assert len(store.get_metric_series(run_id, "loss")) == 1
    store.log_batch(run_id, POINT, idempotency_key="k")  # now it is one
    assert len(store.get_metric_series(run_id, "loss")) == 1
