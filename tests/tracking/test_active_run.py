from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from loopml.client.client import Client
from loopml.core.config import load_settings
from loopml.core.entities import Metric, MetricSeries, RunStatus
from loopml.core.errors import (
    ConflictError,
    FlushError,
    StoreUnavailableError,
    ValidationError,
)
from loopml.metadata.sql.store import SqlMetadataStore


def test_a_run_block_ends_finished_with_everything_logged(client: Client) -> None:
    with client.start_run(experiment="churn", name="rf-200") as run:
        run.log_params({"n_estimators": 200, "model": "rf"})
        for step in range(10):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.log_metrics({"accuracy": 0.91, "f1": 0.88})
        run.set_tag("team", "a")
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FINISHED
    assert stored.end_time is not None
    assert stored.name == "rf-200"
    assert dict(stored.params) == {"n_estimators": "200", "model": "rf"}
    assert stored.metrics["loss"].value == pytest.approx(0.1)
    assert stored.metrics["loss"].step == 9
    assert stored.metrics["accuracy"].value == 0.91
    assert stored.tags["team"] == "a"
    history = client.get_metric_history(run.id, "loss")
    assert [p.step for p in history] == list(range(10))


def test_points_below_the_batch_size_are_written_when_the_run_ends(client: Client) -> None:
    with client.start_run(experiment="e") as run:
        for step in range(7):
            run.log_metric("m", step, step=step)
        assert client.get_metric_history(run.id, "m") == []
    assert len(client.get_metric_history(run.id, "m")) == 7


def test_a_full_batch_is_written_while_the_run_goes_on(client: Client) -> None:
    with client.start_run(experiment="e", batch_size=100) as run:
        for step in range(250):
            run.log_metric("m", step, step=step)
        assert len(client.get_metric_history(run.id, "m")) == 200


def test_without_step_each_key_counts_its_own_steps(client: Client) -> None:
    with client.start_run(experiment="e") as run:
        for _ in range(3):
            run.log_metric("a", 1.0)
        run.log_metric("b", 1.0)
        run.log_metric("a", 1.0, step=10)
        run.log_metric("a", 1.0)
    assert [p.step for p in client.get_metric_history(run.id, "a")] == [0, 1, 2, 10, 11]
    assert [p.step for p in client.get_metric_history(run.id, "b")] == [0]


def test_nan_and_infinities_are_stored_and_read_back_exactly(client: Client) -> None:
    with client.start_run(experiment="e") as run:
        run.log_metric("v", math.nan, step=0)
        run.log_metric("v", math.inf, step=1)
        run.log_metric("v", -math.inf, step=2)
    values = [p.value for p in client.get_metric_history(run.id, "v")]
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf]
    assert client.get_run(run.id).metrics["v"].value == -math.inf


def test_a_body_that_raises_ends_the_run_failed_with_the_error(client: Client) -> None:
    def train() -> str:
        with client.start_run(experiment="e") as run:
            run.log_metric("before", 1.0)
            _ = 1 / 0
        return run.id

    with pytest.raises(ZeroDivisionError):
        train()
    run = client.search_run_records("e")[0]
    stored = client.get_run(run.id)
    assert stored.status is RunStatus.FAILED
    assert "ZeroDivisionError" in stored.error
    assert stored.metrics["before"].value == 1.0


def test_ctrl_c_ends_the_run_killed(client: Client) -> None:
    with pytest.raises(KeyboardInterrupt), client.start_run(experiment="e") as run:
        raise KeyboardInterrupt
    assert client.get_run(run.id).status is RunStatus.KILLED


def test_an_ended_run_refuses_more_logging(client: Client) -> None:
    with client.start_run(experiment="e") as run:
        pass
    with pytest.raises(ConflictError, match="has ended"):
        run.log_metric("m", 1.0)
    with pytest.raises(ConflictError, match="has ended"):
        run.log_params({"a": 1})


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda r: r.log_metric("bad name!", 1.0), "metric.name"),
        (lambda r: r.log_metric("m", "high"), "metrics.m"),
        (lambda r: r.log_metric("m", 1.0, step=-2), "metrics.m.step"),
        (lambda r: r.log_params({"layers": [1, 2]}), "params.layers"),
        (lambda r: r.set_tag("t", object()), "tags.t"),
        (lambda r: r.log_params(["a"]), "params"),
    ],
)
def test_wrong_types_get_an_error_naming_the_field(client: Client, call, field: str) -> None:  # type: ignore[no-untyped-def]
    with client.start_run(experiment="e") as run:
        with pytest.raises(ValidationError) as caught:
            call(run)
        assert caught.value.field == field


def test_relogging_a_param_with_another_value_is_a_conflict(client: Client) -> None:
    with client.start_run(experiment="e") as run:
        run.log_params({"lr": 0.1})
        run.log_params({"lr": 0.1})
        with pytest.raises(ConflictError, match="lr"):
            run.log_params({"lr": 0.2})
    assert client.get_run(run.id).params["lr"] == "0.1"


class _FlakyStore(SqlMetadataStore):
    """A real SQL store whose next ``failures`` metric batches fail as an outage would."""

    failures = 0

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: object = None,
        tags: object = None,
        idempotency_key: str | None = None,
        series: Sequence[MetricSeries] = (),
    ) -> None:
        if (metrics or series) and self.failures:
            self.failures -= 1
            raise StoreUnavailableError("store is down")
        super().log_batch(run_id, metrics, params, tags, idempotency_key, series)  # type: ignore[arg-type]


def test_a_failed_flush_raises_keeps_the_points_and_the_next_flush_writes_them_once(
    tmp_path: Path,
) -> None:
    settings = load_settings(cwd=tmp_path, environ={})
    settings.home.mkdir()
    store = _FlakyStore(settings.store_url)
    with Client(settings, metadata=store) as client:
        run = client.start_run(experiment="e", batch_size=10)
        store.failures = 1
        for step in range(9):
            run.log_metric("m", step, step=step)
        with pytest.raises(FlushError, match="10 buffered metric points"):
            run.log_metric("m", 9, step=9)
        for step in range(10, 15):
            run.log_metric("m", step, step=step)
        run.end()
        steps = [p.step for p in client.get_metric_history(run.id, "m")]
    assert steps == list(range(15))


def test_a_flush_that_fails_at_the_end_fails_the_run_and_raises(tmp_path: Path) -> None:
    settings = load_settings(cwd=tmp_path, environ={})
    settings.home.mkdir()
    store = _FlakyStore(settings.store_url)
    with Client(settings, metadata=store) as client:
        run = client.start_run(experiment="e")
        run.log_metric("m", 1.0)
        store.failures = 1
        with pytest.raises(FlushError):
            run.end()
        assert client.get_run(run.id).status is RunStatus.FAILED
