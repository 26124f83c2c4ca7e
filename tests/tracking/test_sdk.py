from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

import loopml
from loopml.client.client import Client
from loopml.core.errors import ConflictError, NotFoundError, UnsafePathError, ValidationError


def test_module_level_functions_log_to_the_active_run(client: Client) -> None:
    with loopml.start_run(experiment="churn", name="outer") as outer:
        loopml.log_param("model", "rf")
        loopml.log_metric("loss", 0.5)
        loopml.set_tag("team", "a")
        assert loopml.active_run() is outer
        with loopml.start_run(name="inner") as inner:
            loopml.log_metrics({"acc": 0.9})
            assert loopml.active_run() is inner
        assert loopml.active_run() is outer
    assert loopml.active_run() is None
    child = loopml.get_run(inner.id)
    assert child.parent_run_id == outer.id
    assert child.experiment_id == outer.experiment_id
    assert loopml.get_run(outer.id).params["model"] == "rf"


def test_logging_without_an_active_run_says_how_to_start_one(client: Client) -> None:
    with pytest.raises(ConflictError, match="start_run"):
        loopml.log_metric("m", 1.0)


def test_seed_is_recorded_with_runs_started_after_it(client: Client) -> None:
    loopml.seed(42)
    with loopml.start_run(experiment="e") as run:
        pass
    environment = loopml.get_run(run.id).environment
    assert environment["seeds"]["seed"] == 42
    assert "numpy" in environment["seeds"]["seeded"]


def test_environment_is_captured_automatically(client: Client) -> None:
    with loopml.start_run(experiment="e") as run:
        pass
    environment = loopml.get_run(run.id).environment
    assert environment["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert environment["packages"]["numpy"]
    assert environment["host"]
    assert isinstance(environment["command"], list)
    assert "git" in environment


def test_seed_refuses_non_integers() -> None:
    with pytest.raises(ValidationError, match="seed"):
        loopml.seed("42")  # type: ignore[arg-type]


def test_search_runs_returns_a_frame_filtered_and_ordered(client: Client) -> None:
    for index, (model, accuracy, team) in enumerate(
        [
            ("rf", 0.95, "a"),
            ("rf", 0.92, "b"),
            ("gbm", 0.97, "a"),
            ("rf", 0.80, "a"),
            ("rf", 0.93, "a"),
        ]
    ):
        with loopml.start_run(experiment="churn", name=f"r{index}") as run:
            run.log_params({"model": model})
            run.log_metric("accuracy", accuracy)
            run.set_tag("team", team)
    frame = loopml.search_runs(
        experiment="churn",
        filter="metrics.accuracy > 0.9 and params.model = 'rf' and tags.team = 'a'",
        order_by=["metrics.accuracy desc"],
        max_results=100,
    )
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["name"]) == ["r0", "r4"]
    assert list(frame["metrics.accuracy"]) == [0.95, 0.93]
    assert {"run_id", "status", "params.model", "tags.team", "experiment"} <= set(frame.columns)
    assert frame["metrics.accuracy"].dtype == "float64"
    assert len(loopml.search_runs(experiment="churn", max_results=2)) == 2


def test_search_in_an_unknown_experiment_names_it(client: Client) -> None:
    with pytest.raises(NotFoundError, match="'nope'"):
        loopml.search_runs(experiment="nope")


def test_search_with_bad_max_results_names_the_field(client: Client) -> None:
    with pytest.raises(ValidationError) as caught:
        loopml.search_runs(max_results=0)
    assert caught.value.field == "max_results"


def test_unknown_run_is_a_clear_not_found(client: Client) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        loopml.get_run("0" * 32)
    with pytest.raises(ValidationError, match="not a loopml id"):
        loopml.get_run("../../etc")


def test_artifacts_files_folders_and_text_are_stored_recorded_and_verified(
    client: Client, tmp_path: Path
) -> None:
    source = tmp_path / "report.csv"
    source.write_text("a,b\n1,2\n")
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "roc.txt").write_text("roc")
    with client.start_run(experiment="e") as run:
        run.log_artifact(source)
        run.log_artifact(folder, "figures")
        run.log_text("hello", "notes/readme.md")
        run.log_dict({"a": 1}, "config.json")
    paths = [a.path for a in client.list_artifacts(run.id)]
    assert paths == ["config.json", "figures/sub/roc.txt", "notes/readme.md", "report.csv"]
    assert client.tracking.open_artifact(run.id, "notes/readme.md") == b"hello"
    assert json.loads(client.tracking.open_artifact(run.id, "config.json")) == {"a": 1}
    written = client.download_artifacts(run.id, tmp_path / "out")
    assert (tmp_path / "out" / "figures" / "sub" / "roc.txt").read_text() == "roc"
    assert len(written) == 4


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/abs", "..\\x", "a\x00b"])
def test_artifact_paths_that_escape_are_refused_and_nothing_is_written(
    client: Client, tmp_path: Path, bad: str
) -> None:
    with client.start_run(experiment="e") as run, pytest.raises(UnsafePathError):
        run.log_text("x", bad)
    assert client.list_artifacts(run.id) == []


def test_run_ids_may_be_given_as_unique_prefixes(client: Client) -> None:
    with client.start_run(experiment="e") as run:
        pass
    assert client.tracking.resolve_run_id(run.id[:8]) == run.id
    with pytest.raises(ValidationError, match="prefix"):
        client.tracking.resolve_run_id("xyz")
    with pytest.raises(NotFoundError):
        client.tracking.resolve_run_id("ffffffff" if not run.id.startswith("ffff") else "00000000")
