"""The metadata store contract as tests: one suite, run against every implementation.

Subclass :class:`MetadataStoreContract` in a test module and provide the ``store``
fixture, a fresh empty store per test::

    class TestSqliteMetadataStore(MetadataStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            with SqlMetadataStore(f"sqlite:///{tmp_path}/loopml.db") as store:
                yield store

The tests use only :class:`~loopml.metadata.base.BaseMetadataStore`, so they hold for SQL,
REST and any later backend alike.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from loopml.artifacts.hashing import hash_bytes
from loopml.core.entities import (
    ArtifactInfo,
    Experiment,
    Metric,
    MetricSeries,
    Project,
    Run,
    RunStatus,
)
from loopml.core.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from loopml.core.filters import parse_filter, parse_order_by
from loopml.metadata.base import BaseMetadataStore, RunCreate, RunUpdate
from loopml.testing.dataset_contract import DatasetStoreContract
from loopml.testing.registry_contract import RegistryStoreContract

__all__ = ["MetadataStoreContract"]

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
UNKNOWN_ID = "0" * 32


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _triples(series: MetricSeries) -> list[tuple[int, int, float]]:
    """The points of a series as plain ``(step, timestamp, value)`` tuples.

    A backend may hand out its columns as lists or as numpy arrays, so compare these.
    """
    return [
        (int(s), int(t), float(v))
        for s, t, v in zip(series.steps, series.timestamps, series.values, strict=True)
    ]


# Series that log_batch must refuse: (series, the field the error names).
BAD_SERIES: list[tuple[MetricSeries, str]] = [
    (MetricSeries("bad key!", [0], [0], [1.0]), "metric.name"),
    (MetricSeries("m", [0, 1], [0, 1], [1.0, "high"]), "metrics.m"),  # type: ignore[list-item]
    (MetricSeries("m", [0, 1], [0, 1], [1.0, None]), "metrics.m"),  # type: ignore[list-item]
    (MetricSeries("m", [0, 1], [0, 1], [1.0, True]), "metrics.m"),
    (MetricSeries("m", [0, 1.0], [0, 1], [1.0, 2.0]), "metrics.m.step"),  # type: ignore[list-item]
    (MetricSeries("m", [0, True], [0, 1], [1.0, 2.0]), "metrics.m.step"),
    (MetricSeries("m", [0, -1], [0, 1], [1.0, 2.0]), "metrics.m.step"),
    (MetricSeries("m", [0, 1], [0, "1"], [1.0, 2.0]), "metrics.m.timestamp"),  # type: ignore[list-item]
    (MetricSeries("m", [0, 1], [0, -5], [1.0, 2.0]), "metrics.m.timestamp"),
    (MetricSeries("m", [0, 1], [0, 2.5], [1.0, 2.0]), "metrics.m.timestamp"),  # type: ignore[list-item]
    (MetricSeries("m", [0, 1, 2], [0, 1, 2], [1.0, 2.0]), "metrics.m"),
    (MetricSeries("m", [0, 1], [0], [1.0, 2.0]), "metrics.m"),
]


@dataclass(frozen=True)
class SearchWorld:
    """Four runs with known metrics, params, tags and attributes, for search tests."""

    experiment: Experiment
    other: Experiment
    runs: dict[str, Run]

    def names(self, runs: tuple[Run, ...] | list[Run]) -> list[str]:
        by_id = {run.id: name for name, run in self.runs.items()}
        return [by_id.get(run.id, run.name) for run in runs]


# (filter template, expected run names); {r1}..{r4} are run ids, {t2} is r2's start in ms.
SEARCH_CASES: list[tuple[str, set[str]]] = [
    ("metrics.acc > 0.9", {"r1", "r3"}),
    ("metrics.acc >= 0.95", {"r1"}),
    ("metrics.acc < 0.9", {"r2"}),
    ("metrics.acc <= 0.8", {"r2"}),
    ("metrics.acc = 0.8", {"r2"}),
    ("metrics.acc != 0.8", {"r1", "r3"}),
    ("metrics.acc in (0.8, 0.95)", {"r1", "r2"}),
    ("metrics.acc not in (0.8)", {"r1", "r3"}),
    ("metrics.acc is null", {"r4"}),
    ("metrics.acc is not null", {"r1", "r2", "r3"}),
    ("metrics.loss > 0", {"r1"}),
    ("metrics.loss < 0", {"r3"}),
    ("metrics.`val loss` < 1", {"r1"}),
    ("params.model = 'rf'", {"r1", "r3"}),
    ("params.model != 'rf'", {"r2", "r4"}),
    ("params.model like 'r%'", {"r1", "r3"}),
    ("params.model like 'R%'", set()),
    ("params.model ilike 'R%'", {"r1", "r3"}),
    ("params.model in ('rf', 'xgb')", {"r1", "r2", "r3"}),
    ("params.model not in ('rf')", {"r2", "r4"}),
    ("params.lr > 0.005", {"r1", "r2"}),
    ("params.lr < 0.05", {"r2", "r3"}),
    ("params.lr = 0.1", {"r1"}),
    ("params.lr = '0.1'", {"r1"}),
    ("params.lr = 'auto'", {"r4"}),
    ("params.lr in (0.01, 'auto')", {"r2", "r4"}),
    ("params.depth is null", {"r2", "r3", "r4"}),
    ("params.depth is not null", {"r1"}),
    ("tags.team = 'a'", {"r1", "r3"}),
    ("tags.team != 'a'", {"r2"}),
    ("tags.team like 'a%'", {"r1", "r3"}),
    ("tags.team ilike 'B'", {"r2"}),
    ("tags.team in ('a', 'b')", {"r1", "r2", "r3"}),
    ("tags.team not in ('a')", {"r2"}),
    ("tags.team is null", {"r4"}),
    ("tags.team is not null", {"r1", "r2", "r3"}),
    ("attributes.name = 'r2'", {"r2"}),
    ("name like 'r%'", {"r1", "r2", "r3", "r4"}),
    ("id = '{r3}'", {"r3"}),
    ("status = 'finished'", {"r1"}),
    ("status != 'running'", {"r1", "r2"}),
    ("status in ('failed', 'finished')", {"r1", "r2"}),
    ("user = 'ann'", {"r1", "r3"}),
    ("user ilike 'ANN'", {"r1", "r3"}),
    ("start_time > {t2}", {"r3", "r4"}),
    ("start_time <= {t2}", {"r1", "r2"}),
    ("end_time is null", {"r3", "r4"}),
    ("end_time is not null", {"r1", "r2"}),
    ("parent_run_id = '{r1}'", {"r4"}),
    ("parent_run_id is null", {"r1", "r2", "r3"}),
    ("experiment_id = '{experiment}'", {"r1", "r2", "r3", "r4"}),
    ("note = 'noted'", {"r2"}),
    ("metrics.acc > 0.9 and params.model = 'rf' and tags.team = 'a'", {"r1", "r3"}),
    ("params.model = 'xgb' or tags.team is null", {"r2", "r4"}),
    ("not tags.team = 'a'", {"r2", "r4"}),
    ("not (metrics.acc > 0.9 or params.model = 'xgb')", {"r4"}),
    ("(params.model = 'rf' or params.model = 'xgb') and not metrics.acc > 0.9", {"r2"}),
    ("metrics.acc > 0.9 and (tags.team = 'b' or user = 'ann')", {"r1", "r3"}),
]

ORDER_CASES: list[tuple[list[str], list[str]]] = [
    ([], ["r4", "r3", "r2", "r1"]),
    (["metrics.acc desc"], ["r1", "r3", "r2", "r4"]),
    (["metrics.acc asc"], ["r2", "r3", "r1", "r4"]),
    (["params.model"], ["r4", "r3", "r1", "r2"]),
    (["params.lr asc"], ["r3", "r2", "r1", "r4"]),
    (["tags.team desc"], ["r2", "r3", "r1", "r4"]),
    (["tags.team", "metrics.acc"], ["r3", "r1", "r2", "r4"]),
    (["name desc"], ["r4", "r3", "r2", "r1"]),
    (["start_time"], ["r1", "r2", "r3", "r4"]),
    (["end_time"], ["r2", "r1", "r4", "r3"]),
]


class MetadataStoreContract(DatasetStoreContract, RegistryStoreContract):
    """Tests every :class:`BaseMetadataStore` must pass; subclass and provide ``store``."""

    @pytest.fixture
    def store(self) -> BaseMetadataStore:
        """A fresh, empty store; subclasses must override this fixture."""
        raise NotImplementedError("provide a `store` fixture in the subclass")

    @pytest.fixture
    def project(self, store: BaseMetadataStore) -> Project:
        return store.create_project("churn", "predict churn")

    @pytest.fixture
    def experiment(self, store: BaseMetadataStore, project: Project) -> Experiment:
        return store.create_experiment(project.id, "baseline")

    @pytest.fixture
    def run(self, store: BaseMetadataStore, experiment: Experiment) -> Run:
        return store.create_run(RunCreate(experiment.id, "first", T0, user="ann"))

    # -- projects -----------------------------------------------------------------------

    def test_create_project_is_found_by_id_and_name(self, store: BaseMetadataStore) -> None:
        created = store.create_project("churn", "predict churn")
        assert created.name == "churn"
        assert created.description == "predict churn"
        assert created.created_at.tzinfo is not None
        assert store.get_project(created.id) == created
        assert store.get_project_by_name("churn") == created

    def test_create_project_with_taken_name_raises_already_exists(
        self, store: BaseMetadataStore, project: Project
    ) -> None:
        with pytest.raises(AlreadyExistsError, match="churn"):
            store.create_project(project.name)

    def test_unknown_project_raises_not_found(self, store: BaseMetadataStore) -> None:
        with pytest.raises(NotFoundError):
            store.get_project(UNKNOWN_ID)
        with pytest.raises(NotFoundError):
            store.get_project_by_name("nope")

    def test_list_projects_orders_by_name(self, store: BaseMetadataStore) -> None:
        for name in ("b", "c", "a"):
            store.create_project(name)
        assert [p.name for p in store.list_projects()] == ["a", "b", "c"]

    def test_ensure_project_creates_once(self, store: BaseMetadataStore) -> None:
        first = store.ensure_project("churn")
        assert store.ensure_project("churn") == first
        assert len(store.list_projects()) == 1

    def test_invalid_project_name_raises_validation(self, store: BaseMetadataStore) -> None:
        with pytest.raises(ValidationError):
            store.create_project("   ")

    # -- experiments --------------------------------------------------------------------

    def test_create_experiment_is_found_by_id_and_name(
        self, store: BaseMetadataStore, project: Project
    ) -> None:
        created = store.create_experiment(project.id, "baseline", "first try", {"team": "a"})
        assert created.project_id == project.id
        assert dict(created.tags) == {"team": "a"}
        assert not created.deleted
        assert store.get_experiment(created.id) == created
        assert store.get_experiment_by_name(project.id, "baseline") == created

    def test_experiment_name_clash_raises_already_exists(
        self, store: BaseMetadataStore, project: Project, experiment: Experiment
    ) -> None:
        with pytest.raises(AlreadyExistsError, match="baseline"):
            store.create_experiment(project.id, experiment.name)

    def test_experiment_names_are_per_project(
        self, store: BaseMetadataStore, experiment: Experiment
    ) -> None:
        other = store.create_project("fraud")
        assert store.create_experiment(other.id, experiment.name).project_id == other.id

    def test_experiment_in_unknown_project_raises_not_found(self, store: BaseMetadataStore) -> None:
        with pytest.raises(NotFoundError):
            store.create_experiment(UNKNOWN_ID, "baseline")
        with pytest.raises(NotFoundError):
            store.list_experiments(UNKNOWN_ID)

    def test_unknown_experiment_raises_not_found(
        self, store: BaseMetadataStore, project: Project
    ) -> None:
        with pytest.raises(NotFoundError):
            store.get_experiment(UNKNOWN_ID)
        with pytest.raises(NotFoundError):
            store.get_experiment_by_name(project.id, "nope")
        with pytest.raises(NotFoundError):
            store.delete_experiment(UNKNOWN_ID)

    def test_delete_experiment_hides_it_and_deletes_its_runs(
        self, store: BaseMetadataStore, project: Project, experiment: Experiment, run: Run
    ) -> None:
        kept = store.create_experiment(project.id, "kept")
        store.delete_experiment(experiment.id)
        assert [e.name for e in store.list_experiments(project.id)] == ["kept"]
        listed = store.list_experiments(project.id, include_deleted=True)
        assert [(e.name, e.deleted) for e in listed] == [("baseline", True), ("kept", False)]
        assert store.get_experiment(experiment.id).deleted
        assert store.get_run(run.id).deleted
        assert store.get_experiment(kept.id) == kept

    def test_ensure_experiment_creates_once(
        self, store: BaseMetadataStore, project: Project
    ) -> None:
        first = store.ensure_experiment(project.id, "baseline")
        assert store.ensure_experiment(project.id, "baseline") == first

    # -- run lifecycle ------------------------------------------------------------------

    def test_create_run_starts_running_with_its_tags_and_environment(
        self, store: BaseMetadataStore, experiment: Experiment
    ) -> None:
        environment = {"python": "3.11", "git": {"commit": "abc", "dirty": False}}
        run = store.create_run(
            RunCreate(
                experiment.id, "rf", T0, user="ann", tags={"team": "a"}, environment=environment
            )
        )
        assert run.status is RunStatus.RUNNING
        assert (run.name, run.user, run.start_time, run.end_time) == ("rf", "ann", T0, None)
        assert dict(run.tags) == {"team": "a"}
        assert dict(run.environment) == environment
        assert not run.params
        assert not run.metrics
        assert not run.deleted
        assert store.get_run(run.id) == run

    def test_create_run_in_unknown_experiment_raises_not_found(
        self, store: BaseMetadataStore
    ) -> None:
        with pytest.raises(NotFoundError):
            store.create_run(RunCreate(UNKNOWN_ID, "rf", T0))

    def test_create_run_with_unknown_parent_raises_not_found(
        self, store: BaseMetadataStore, experiment: Experiment
    ) -> None:
        with pytest.raises(NotFoundError):
            store.create_run(RunCreate(experiment.id, "child", T0, parent_run_id=UNKNOWN_ID))

    def test_child_run_records_its_parent(
        self, store: BaseMetadataStore, experiment: Experiment, run: Run
    ) -> None:
        child = store.create_run(RunCreate(experiment.id, "child", T0, parent_run_id=run.id))
        assert store.get_run(child.id).parent_run_id == run.id

    def test_unknown_run_raises_not_found(self, store: BaseMetadataStore) -> None:
        calls: list[Callable[[], object]] = [
            lambda: store.get_run(UNKNOWN_ID),
            lambda: store.update_run(UNKNOWN_ID, RunUpdate(note="x")),
            lambda: store.delete_run(UNKNOWN_ID),
            lambda: store.restore_run(UNKNOWN_ID),
            lambda: store.log_batch(UNKNOWN_ID, [Metric("m", 1.0, 0, 0)]),
            lambda: store.delete_tag(UNKNOWN_ID, "t"),
            lambda: store.get_metric_history(UNKNOWN_ID, "m"),
            lambda: store.get_metric_series(UNKNOWN_ID, "m"),
            lambda: store.log_batch(UNKNOWN_ID, series=[MetricSeries("m", [0], [0], [1.0])]),
            lambda: store.record_artifact(UNKNOWN_ID, ArtifactInfo("a.txt", 1, hash_bytes(b"d"))),
            lambda: store.list_artifacts(UNKNOWN_ID),
        ]
        for call in calls:
            with pytest.raises(NotFoundError):
                call()

    def test_update_run_changes_only_the_given_fields(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        end = T0 + timedelta(minutes=5)
        updated = store.update_run(
            run.id, RunUpdate(status=RunStatus.FAILED, end_time=end, error="boom")
        )
        assert (updated.status, updated.end_time, updated.error) == (RunStatus.FAILED, end, "boom")
        assert (updated.name, updated.note, updated.user) == ("first", "", "ann")
        renamed = store.update_run(run.id, RunUpdate(name="second", note="looks good"))
        assert (renamed.name, renamed.note, renamed.status) == (
            "second",
            "looks good",
            RunStatus.FAILED,
        )
        assert renamed.duration_s == 300
        assert store.get_run(run.id) == renamed

    def test_delete_and_restore_run(self, store: BaseMetadataStore, run: Run) -> None:
        store.delete_run(run.id)
        assert store.get_run(run.id).deleted
        store.restore_run(run.id)
        assert not store.get_run(run.id).deleted

    def test_writes_to_a_deleted_run_raise_conflict(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(run.id, tags={"t": "1"})
        store.delete_run(run.id)
        calls: list[Callable[[], object]] = [
            lambda: store.log_batch(run.id, [Metric("m", 1.0, 0, 0)]),
            lambda: store.log_batch(run.id, params={"p": "1"}),
            lambda: store.update_run(run.id, RunUpdate(status=RunStatus.FINISHED)),
            lambda: store.delete_tag(run.id, "t"),
            lambda: store.record_artifact(run.id, ArtifactInfo("a.txt", 1, hash_bytes(b"d"))),
        ]
        for call in calls:
            with pytest.raises(ConflictError):
                call()
        assert store.get_run(run.id).status is RunStatus.RUNNING

    # -- log_batch ----------------------------------------------------------------------

    def test_log_batch_writes_metrics_params_and_tags(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(
            run.id,
            [Metric("loss", 0.5, 0, 1000), Metric("loss", 0.25, 1, 2000), Metric("acc", 0.9, 1, 3)],
            params={"lr": "0.01", "model": "rf"},
            tags={"team": "a"},
        )
        got = store.get_run(run.id)
        assert dict(got.params) == {"lr": "0.01", "model": "rf"}
        assert dict(got.tags) == {"team": "a"}
        assert dict(got.metrics) == {
            "loss": Metric("loss", 0.25, 1, 2000),
            "acc": Metric("acc", 0.9, 1, 3),
        }

    def test_nan_and_inf_round_trip(self, store: BaseMetadataStore, run: Run) -> None:
        points = [
            Metric("a", math.nan, 0, 1),
            Metric("a", math.inf, 1, 2),
            Metric("a", -math.inf, 2, 3),
            Metric("b", math.nan, 0, 1),
            Metric("c", math.inf, 0, 1),
            Metric("d", -math.inf, 0, 1),
            Metric("e", 0.1 + 0.2, 0, 1),
            Metric("f", -1e308, 0, 1),
            Metric("g", 5e-324, 0, 1),
        ]
        store.log_batch(run.id, points)
        history = store.get_metric_history(run.id, "a")
        assert math.isnan(history[0].value)
        assert [m.value for m in history[1:]] == [math.inf, -math.inf]
        latest = store.get_run(run.id).metrics
        assert math.isnan(latest["b"].value)
        assert latest["a"].value == -math.inf
        assert latest["c"].value == math.inf
        assert latest["d"].value == -math.inf
        assert latest["e"].value == 0.1 + 0.2
        assert latest["f"].value == -1e308
        assert latest["g"].value == 5e-324

    def test_same_param_value_again_is_a_no_op(self, store: BaseMetadataStore, run: Run) -> None:
        store.log_batch(run.id, params={"lr": "0.01"})
        store.log_batch(run.id, params={"lr": "0.01", "depth": "3"})
        assert dict(store.get_run(run.id).params) == {"lr": "0.01", "depth": "3"}

    def test_changed_param_raises_conflict_and_writes_nothing(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(run.id, params={"lr": "0.01"})
        with pytest.raises(ConflictError, match=r"lr.*0\.01.*0\.02") as caught:
            store.log_batch(
                run.id,
                [Metric("loss", 1.0, 0, 0)],
                params={"lr": "0.02", "depth": "3"},
                tags={"t": "x"},
            )
        assert caught.value.field == "params.lr"
        got = store.get_run(run.id)
        assert dict(got.params) == {"lr": "0.01"}
        assert not got.tags
        assert not got.metrics
        assert store.get_metric_history(run.id, "loss") == []

    def test_invalid_values_raise_validation_and_write_nothing(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        bad_batches = [
            {"metrics": [Metric("ok", 1.0, 0, 0), Metric("bad key!", 1.0, 0, 0)]},
            {"metrics": [Metric("ok", 1.0, -1, 0)]},
            {"metrics": [Metric("ok", "high", 0, 0)]},  # type: ignore[arg-type]
            {"params": {"p": object()}},
            {"tags": {"": "x"}},
        ]
        for batch in bad_batches:
            with pytest.raises(ValidationError):
                store.log_batch(run.id, **batch)  # type: ignore[arg-type]
        got = store.get_run(run.id)
        assert not got.metrics
        assert not got.params
        assert not got.tags

    def test_tags_may_be_overwritten(self, store: BaseMetadataStore, run: Run) -> None:
        store.log_batch(run.id, tags={"stage": "dev"})
        store.log_batch(run.id, tags={"stage": "prod"})
        assert dict(store.get_run(run.id).tags) == {"stage": "prod"}

    def test_delete_tag_removes_it(self, store: BaseMetadataStore, run: Run) -> None:
        store.log_batch(run.id, tags={"a": "1", "b": "2"})
        store.delete_tag(run.id, "a")
        assert dict(store.get_run(run.id).tags) == {"b": "2"}
        with pytest.raises(NotFoundError):
            store.delete_tag(run.id, "a")

    def test_metric_history_is_ordered_by_step_then_timestamp(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(run.id, [Metric("loss", 3.0, 2, 10), Metric("loss", 1.0, 0, 30)])
        store.log_batch(
            run.id,
            [Metric("loss", 2.0, 1, 5), Metric("loss", 1.5, 0, 20), Metric("acc", 0.5, 0, 1)],
        )
        history = store.get_metric_history(run.id, "loss")
        assert [(m.step, m.timestamp, m.value) for m in history] == [
            (0, 20, 1.5),
            (0, 30, 1.0),
            (1, 5, 2.0),
            (2, 10, 3.0),
        ]
        assert store.get_metric_history(run.id, "nothing") == []

    def test_latest_metric_is_highest_step_then_latest_timestamp(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(run.id, [Metric("loss", 0.3, 5, 100)])
        store.log_batch(run.id, [Metric("loss", 0.9, 2, 999)])  # older step, logged later
        assert store.get_run(run.id).metrics["loss"] == Metric("loss", 0.3, 5, 100)
        store.log_batch(run.id, [Metric("loss", 0.2, 5, 200), Metric("loss", 0.25, 5, 150)])
        assert store.get_run(run.id).metrics["loss"] == Metric("loss", 0.2, 5, 200)
        store.log_batch(run.id, [Metric("loss", 0.1, 6, 1)])
        assert store.get_run(run.id).metrics["loss"] == Metric("loss", 0.1, 6, 1)

    def test_repeated_idempotency_key_is_a_no_op(self, store: BaseMetadataStore, run: Run) -> None:
        batch = [Metric("loss", 0.5, 0, 1), Metric("loss", 0.4, 1, 2)]
        store.log_batch(run.id, batch, tags={"t": "1"}, idempotency_key="flush-1")
        store.log_batch(run.id, batch, tags={"t": "2"}, idempotency_key="flush-1")
        assert len(store.get_metric_history(run.id, "loss")) == 2
        assert store.get_run(run.id).tags["t"] == "1"
        store.log_batch(run.id, batch, idempotency_key="flush-2")
        assert len(store.get_metric_history(run.id, "loss")) == 4

    def test_idempotency_keys_are_per_run(
        self, store: BaseMetadataStore, experiment: Experiment, run: Run
    ) -> None:
        other = store.create_run(RunCreate(experiment.id, "other", T0))
        for run_id in (run.id, other.id):
            store.log_batch(run_id, [Metric("m", 1.0, 0, 0)], idempotency_key="k")
        assert len(store.get_metric_history(other.id, "m")) == 1

    def test_snapshots_do_not_change_after_later_writes(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(run.id, [Metric("m", 1.0, 0, 0)], params={"a": "1"}, tags={"t": "1"})
        before = store.get_run(run.id)
        store.log_batch(run.id, [Metric("m", 2.0, 1, 1)], params={"b": "2"}, tags={"t": "2"})
        store.update_run(run.id, RunUpdate(status=RunStatus.FINISHED, note="done"))
        assert dict(before.params) == {"a": "1"}
        assert dict(before.tags) == {"t": "1"}
        assert before.metrics["m"].value == 1.0
        assert (before.status, before.note) == (RunStatus.RUNNING, "")
        with pytest.raises(TypeError):
            before.params["c"] = "3"  # type: ignore[index]

    def test_concurrent_threads_lose_no_points(self, store: BaseMetadataStore, run: Run) -> None:
        errors: list[BaseException] = []

        def log(worker: int) -> None:
            try:
                for batch in range(10):
                    points = [Metric(f"w{worker}", float(i), batch * 50 + i, i) for i in range(50)]
                    store.log_batch(run.id, points)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=log, args=(worker,)) for worker in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        for worker in range(4):
            history = store.get_metric_history(run.id, f"w{worker}")
            assert [m.step for m in history] == list(range(500))

    # -- metric series --------------------------------------------------------------------

    def test_series_and_points_in_one_call_are_all_stored(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(
            run.id,
            [Metric("loss", 0.4, 3, 40), Metric("acc", 0.7, 0, 5)],
            params={"lr": "0.1"},
            series=[
                MetricSeries("loss", [0, 1, 2], [10, 20, 30], [1.0, 0.8, 0.6]),
                MetricSeries("lr", [0, 1], [10, 20], [0.1, 0.05]),
            ],
        )
        expected = [(0, 10, 1.0), (1, 20, 0.8), (2, 30, 0.6), (3, 40, 0.4)]
        assert _triples(store.get_metric_series(run.id, "loss")) == expected
        assert [
            (m.step, m.timestamp, m.value) for m in store.get_metric_history(run.id, "loss")
        ] == (expected)
        assert _triples(store.get_metric_series(run.id, "lr")) == [(0, 10, 0.1), (1, 20, 0.05)]
        assert _triples(store.get_metric_series(run.id, "acc")) == [(0, 5, 0.7)]
        got = store.get_run(run.id)
        assert dict(got.metrics) == {
            "loss": Metric("loss", 0.4, 3, 40),
            "lr": Metric("lr", 0.05, 1, 20),
            "acc": Metric("acc", 0.7, 0, 5),
        }
        assert dict(got.params) == {"lr": "0.1"}

    def test_metric_series_of_an_unlogged_key_is_empty(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(run.id, series=[MetricSeries("loss", [], [], [])])
        for key in ("loss", "nothing"):
            series = store.get_metric_series(run.id, key)
            assert (series.key, len(series), _triples(series)) == (key, 0, [])
        assert not store.get_run(run.id).metrics

    def test_series_keep_nan_and_inf_exactly(self, store: BaseMetadataStore, run: Run) -> None:
        values = [math.nan, math.inf, -math.inf, 0.1 + 0.2, -0.0, 5e-324, -1e308, math.nan]
        store.log_batch(
            run.id,
            series=[MetricSeries("a", list(range(8)), list(range(8)), values)],
        )
        got = [float(v) for v in store.get_metric_series(run.id, "a").values]
        assert math.isnan(got[0])
        assert math.isnan(got[7])
        assert got[1:7] == values[1:7]
        assert math.copysign(1.0, got[4]) == -1.0
        history = store.get_metric_history(run.id, "a")
        assert history == [Metric("a", v, i, i) for i, v in enumerate(values)]
        assert math.isnan(store.get_run(run.id).metrics["a"].value)

    def test_metric_series_is_ordered_by_step_then_timestamp_keeping_logging_order(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(
            run.id,
            series=[MetricSeries("loss", [2, 0, 1, 0], [10, 30, 5, 30], [3.0, 1.0, 2.0, 1.1])],
        )
        store.log_batch(
            run.id,
            [Metric("loss", 1.3, 0, 30)],
            series=[MetricSeries("loss", [0, 1, 0], [30, 5, 20], [1.2, 2.1, 0.5])],
        )
        expected = [
            (0, 20, 0.5),
            (0, 30, 1.0),  # equal (step, timestamp): in the order they were logged
            (0, 30, 1.1),
            (0, 30, 1.2),
            (0, 30, 1.3),  # a call's single points come after its series
            (1, 5, 2.0),
            (1, 5, 2.1),
            (2, 10, 3.0),
        ]
        series = store.get_metric_series(run.id, "loss")
        assert series.key == "loss"
        assert _triples(series) == expected
        history = store.get_metric_history(run.id, "loss")
        assert [(m.step, m.timestamp, m.value) for m in history] == expected

    @pytest.mark.parametrize(("bad", "field"), BAD_SERIES)
    def test_invalid_series_raise_validation_and_write_nothing(
        self, store: BaseMetadataStore, run: Run, bad: MetricSeries, field: str
    ) -> None:
        good = MetricSeries("ok", [0, 1], [0, 1], [1.0, 2.0])
        with pytest.raises(ValidationError) as caught:
            store.log_batch(
                run.id,
                [Metric("point", 1.0, 0, 0)],
                tags={"t": "x"},
                series=[good, bad],
            )
        assert caught.value.field == field
        got = store.get_run(run.id)
        assert not got.metrics
        assert not got.tags
        for key in ("ok", "point", "m"):
            assert len(store.get_metric_series(run.id, key)) == 0

    def test_series_with_columns_of_unequal_length_name_the_lengths(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        with pytest.raises(ValidationError, match=r"3.*3.*2"):
            store.log_batch(run.id, series=[MetricSeries("m", [0, 1, 2], [0, 1, 2], [1.0, 2.0])])

    def test_repeated_idempotency_key_with_series_is_a_no_op(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        series = [MetricSeries("loss", [0, 1, 2], [1, 2, 3], [0.5, 0.4, 0.3])]
        points = [Metric("acc", 0.9, 2, 3)]
        store.log_batch(run.id, points, series=series, idempotency_key="flush-1")
        store.log_batch(run.id, points, series=series, idempotency_key="flush-1")
        assert len(store.get_metric_series(run.id, "loss")) == 3
        assert len(store.get_metric_series(run.id, "acc")) == 1
        store.log_batch(run.id, series=series, idempotency_key="flush-2")
        assert [s for s, _, _ in _triples(store.get_metric_series(run.id, "loss"))] == [
            0,
            0,
            1,
            1,
            2,
            2,
        ]

    def test_long_series_round_trips(self, store: BaseMetadataStore, run: Run) -> None:
        n_points = 200_000
        steps = list(range(n_points))
        timestamps = [1_714_564_800_000 + step for step in steps]
        values = [step / 7 for step in steps]
        values[123_456] = math.nan
        store.log_batch(run.id, series=[MetricSeries("loss", steps, timestamps, values)])
        series = store.get_metric_series(run.id, "loss")
        assert len(series) == n_points
        assert [int(s) for s in series.steps] == steps
        assert [int(t) for t in series.timestamps] == timestamps
        got = [float(v) for v in series.values]
        assert math.isnan(got[123_456])
        got[123_456] = values[123_456] = 0.0
        assert got == values
        assert store.get_run(run.id).metrics["loss"] == Metric(
            "loss", values[-1], n_points - 1, timestamps[-1]
        )

    def test_latest_metric_of_a_series_is_highest_step_then_latest_timestamp(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(
            run.id,
            series=[MetricSeries("loss", [1, 5, 5, 5, 2], [1, 100, 200, 200, 999],
                                 [0.9, 0.3, 0.2, 0.25, 0.8])],
        )  # fmt: skip
        # Equal step and timestamp: the last given wins.
        assert store.get_run(run.id).metrics["loss"] == Metric("loss", 0.25, 5, 200)
        store.log_batch(run.id, series=[MetricSeries("loss", [4, 3], [500, 600], [0.1, 0.1])])
        assert store.get_run(run.id).metrics["loss"] == Metric("loss", 0.25, 5, 200)
        store.log_batch(
            run.id,
            [Metric("loss", 0.05, 6, 1)],
            series=[MetricSeries("loss", [6, 5], [0, 900], [0.07, 0.06])],
        )
        assert store.get_run(run.id).metrics["loss"] == Metric("loss", 0.05, 6, 1)
        page = store.search_runs([run.experiment_id], parse_filter("metrics.loss < 0.06"))
        assert [r.id for r in page.runs] == [run.id]

    def test_metric_series_snapshot_does_not_change_after_later_writes(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        store.log_batch(run.id, series=[MetricSeries("m", [1], [1], [1.0])])
        before = store.get_metric_series(run.id, "m")
        store.log_batch(run.id, series=[MetricSeries("m", [0], [0], [0.0])])
        assert _triples(before) == [(1, 1, 1.0)]
        assert _triples(store.get_metric_series(run.id, "m")) == [(0, 0, 0.0), (1, 1, 1.0)]

    # -- search -------------------------------------------------------------------------

    @pytest.fixture
    def world(self, store: BaseMetadataStore, project: Project) -> SearchWorld:
        experiment = store.create_experiment(project.id, "search")
        other = store.create_experiment(project.id, "other")
        store.create_run(RunCreate(other.id, "elsewhere", T0, tags={"team": "a"}))
        runs: dict[str, Run] = {}
        specs = {
            "r1": ({"acc": 0.95, "loss": 0.1, "val loss": 0.2}, {"model": "rf", "lr": "0.1",
                   "depth": "5"}, {"team": "a"}, "ann"),
            "r2": ({"acc": 0.8, "loss": math.nan}, {"model": "xgb", "lr": "0.01"},
                   {"team": "b"}, "bob"),
            "r3": ({"acc": 0.92, "loss": -math.inf}, {"model": "rf", "lr": "1e-3"},
                   {"team": "a", "env": "Prod"}, "ann"),
            "r4": ({}, {"model": "lin", "lr": "auto"}, {}, "cy"),
        }  # fmt: skip
        for index, (name, (metrics, params, tags, user)) in enumerate(specs.items(), 1):
            parent = runs["r1"].id if name == "r4" else None
            created = store.create_run(
                RunCreate(
                    experiment.id,
                    name,
                    T0 + timedelta(seconds=index),
                    parent_run_id=parent,
                    user=user,
                    tags=tags,
                )
            )
            points = [Metric(key, value, 0, 0) for key, value in metrics.items()]
            store.log_batch(created.id, points, params=params)
            runs[name] = created
        end = T0 + timedelta(seconds=10)
        store.update_run(runs["r1"].id, RunUpdate(status=RunStatus.FINISHED, end_time=end))
        store.update_run(
            runs["r2"].id,
            RunUpdate(status=RunStatus.FAILED, end_time=T0 + timedelta(seconds=5), note="noted"),
        )
        return SearchWorld(experiment, other, {n: store.get_run(r.id) for n, r in runs.items()})

    def _search(self, store: BaseMetadataStore, world: SearchWorld, text: str) -> set[str]:
        values = {name: run.id for name, run in world.runs.items()}
        values["t2"] = str(_ms(world.runs["r2"].start_time))
        values["experiment"] = world.experiment.id
        page = store.search_runs([world.experiment.id], parse_filter(text.format(**values)))
        assert page.next_page_token is None
        return set(world.names(page.runs))

    @pytest.mark.parametrize(("text", "expected"), SEARCH_CASES)
    def test_search_filters_by_every_field_kind_and_operator(
        self, store: BaseMetadataStore, world: SearchWorld, text: str, expected: set[str]
    ) -> None:
        assert self._search(store, world, text) == expected

    @pytest.mark.parametrize(("order_by", "expected"), ORDER_CASES)
    def test_search_orders_with_missing_values_last(
        self,
        store: BaseMetadataStore,
        world: SearchWorld,
        order_by: list[str],
        expected: list[str],
    ) -> None:
        page = store.search_runs([world.experiment.id], order_by=parse_order_by(order_by))
        assert world.names(page.runs) == expected

    def test_search_returns_full_runs(self, store: BaseMetadataStore, world: SearchWorld) -> None:
        page = store.search_runs([world.experiment.id], parse_filter("name = 'r1'"))
        assert page.runs == (world.runs["r1"],)
        assert dict(page.runs[0].params) == {"model": "rf", "lr": "0.1", "depth": "5"}
        assert page.runs[0].metrics["acc"].value == 0.95

    def test_search_spans_the_given_experiments_only(
        self, store: BaseMetadataStore, world: SearchWorld
    ) -> None:
        both = store.search_runs(
            [world.experiment.id, world.other.id], parse_filter("name = 'elsewhere' or name = 'r1'")
        )
        assert sorted(run.name for run in both.runs) == ["elsewhere", "r1"]
        assert store.search_runs([]).runs == ()

    def test_search_pages_return_every_run_exactly_once(
        self, store: BaseMetadataStore, world: SearchWorld
    ) -> None:
        for index in range(5):
            store.create_run(RunCreate(world.experiment.id, f"x{index}", T0))  # same start time
        order = parse_order_by(["metrics.acc desc"])
        everything = store.search_runs([world.experiment.id], order_by=order).runs
        assert len(everything) == 9
        seen: list[Run] = []
        token: str | None = None
        while True:
            page = store.search_runs(
                [world.experiment.id], order_by=order, max_results=2, page_token=token
            )
            assert 1 <= len(page.runs) <= 2
            seen.extend(page.runs)
            token = page.next_page_token
            if token is None:
                break
        assert [run.id for run in seen] == [run.id for run in everything]

    def test_bad_page_token_raises_validation(
        self, store: BaseMetadataStore, world: SearchWorld
    ) -> None:
        for token in ("not a token", "e30=", "!!!"):
            with pytest.raises(ValidationError) as caught:
                store.search_runs([world.experiment.id], page_token=token)
            assert caught.value.field == "page_token"

    def test_bad_max_results_raises_validation(
        self, store: BaseMetadataStore, world: SearchWorld
    ) -> None:
        with pytest.raises(ValidationError):
            store.search_runs([world.experiment.id], max_results=0)

    def test_search_skips_deleted_runs_unless_asked(
        self, store: BaseMetadataStore, world: SearchWorld
    ) -> None:
        store.delete_run(world.runs["r2"].id)
        page = store.search_runs([world.experiment.id])
        assert world.names(page.runs) == ["r4", "r3", "r1"]
        page = store.search_runs([world.experiment.id], include_deleted=True)
        assert world.names(page.runs) == ["r4", "r3", "r2", "r1"]
        assert [run.deleted for run in page.runs] == [False, False, True, False]

    # -- artifacts ----------------------------------------------------------------------

    def test_artifacts_are_listed_by_path_under_a_prefix(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        for path in ("model/model.skops", "data/b.csv", "data/a.csv", "data_x.txt"):
            store.record_artifact(run.id, ArtifactInfo(path, len(path), hash_bytes(path.encode())))
        assert [a.path for a in store.list_artifacts(run.id)] == [
            "data/a.csv",
            "data/b.csv",
            "data_x.txt",
            "model/model.skops",
        ]
        assert [a.path for a in store.list_artifacts(run.id, "data/")] == [
            "data/a.csv",
            "data/b.csv",
        ]
        # "_" is a LIKE wildcard: the prefix must match it literally.
        assert [a.path for a in store.list_artifacts(run.id, "data_")] == ["data_x.txt"]
        assert store.list_artifacts(run.id, "nothing/") == []

    def test_recording_an_artifact_again_replaces_it(
        self, store: BaseMetadataStore, run: Run
    ) -> None:
        first, second = hash_bytes(b"1"), hash_bytes(b"22")
        store.record_artifact(run.id, ArtifactInfo("a.txt", 1, first))
        store.record_artifact(run.id, ArtifactInfo("a.txt", 2, second))
        assert store.list_artifacts(run.id) == [ArtifactInfo("a.txt", 2, second)]

    @pytest.mark.parametrize(
        ("path", "digest", "field"),
        [
            ("../escape.txt", "ok", "path"),
            ("/abs.txt", "ok", "path"),
            ("a.txt", "md5:abc", "digest"),
        ],
    )
    def test_an_unsafe_artifact_record_is_refused(
        self, store: BaseMetadataStore, run: Run, path: str, digest: str, field: str
    ) -> None:
        real = hash_bytes(b"x") if digest == "ok" else digest
        with pytest.raises(ValidationError) as caught:
            store.record_artifact(run.id, ArtifactInfo(path, 1, real))
        assert caught.value.field is not None
        assert caught.value.field.rsplit(".", 1)[-1] == field
        assert store.list_artifacts(run.id) == []
