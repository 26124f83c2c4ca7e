"""Several processes writing one SQLite store at once: nothing lost, nothing doubled."""

from __future__ import annotations

import multiprocessing
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loopml.metadata.base import RunCreate
from loopml.metadata.sql import SqlMetadataStore

N_PROCESSES = 8
N_BATCHES = 10
BATCH_SIZE = 1_000


@pytest.mark.slow
def test_eight_processes_log_into_one_sqlite_store_without_loss_or_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The children import the worker by module name from this folder.
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    sys.modules.pop("_workers", None)
    import _workers

    url = f"sqlite:///{tmp_path}/loopml.db"
    with SqlMetadataStore(url) as store:
        project = store.ensure_project("load")
        experiment = store.ensure_experiment(project.id, "load")
        run = store.create_run(RunCreate(experiment.id, "shared", datetime.now(UTC)))
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(
            target=_workers.log_points, args=(url, run.id, f"w{i}", N_BATCHES, BATCH_SIZE)
        )
        for i in range(N_PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=240)
    assert [process.exitcode for process in processes] == [0] * N_PROCESSES

    n_points = N_BATCHES * BATCH_SIZE
    with SqlMetadataStore(url) as store:
        got = store.get_run(run.id)
        for i in range(N_PROCESSES):
            history = store.get_metric_history(run.id, f"w{i}")
            assert [m.step for m in history] == list(range(n_points))
            assert got.metrics[f"w{i}"].step == n_points - 1
