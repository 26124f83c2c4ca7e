"""The CLI as a user runs it: a real process per command, in a real project folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import loopml
from loopml.client.client import Client
from loopml.core.config import load_settings
from loopml.testing.cli import run_loopml as loopml_cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    done = loopml_cli(tmp_path, "init", "--name", "churn", "--owner", "ana@example.com")
    assert done.returncode == 0, done.stderr
    with Client(load_settings(cwd=tmp_path, environ={})) as client:
        for name, accuracy in [("rf-1", 0.91), ("rf-2", 0.95), ("gbm-1", 0.89)]:
            with client.start_run(experiment="baseline", name=name) as run:
                run.log_params({"model": name.split("-")[0]})
                run.log_metric("accuracy", accuracy)
    return tmp_path


def test_init_writes_the_project_file_and_the_store_folder(tmp_path: Path) -> None:
    done = loopml_cli(tmp_path, "init", "--name", "fraud", "--description", "Card fraud")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "loopml.yaml").read_text()
    assert "name: fraud" in text
    assert "description: Card fraud" in text
    assert (tmp_path / ".loopml").is_dir()


def test_init_refuses_a_bad_name_with_exit_code_2(tmp_path: Path) -> None:
    done = loopml_cli(tmp_path, "init", "--name", "bad name!")
    assert done.returncode == 2
    assert done.stderr.startswith("error: --name")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "loopml.yaml").exists()


def test_runs_list_shows_a_table_and_json(project: Path) -> None:
    done = loopml_cli(project, "runs", "list", "--order-by", "metrics.accuracy desc")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any("rf-2" in line for line in lines)
    assert done.stdout.index("rf-2") < done.stdout.index("rf-1") < done.stdout.index("gbm-1")
    as_json = json.loads(loopml_cli(project, "runs", "list", "--json").stdout)
    assert {r["name"] for r in as_json} == {"rf-1", "rf-2", "gbm-1"}


def test_runs_list_filters(project: Path) -> None:
    done = loopml_cli(
        project,
        "runs",
        "list",
        "--filter",
        "params.model = 'rf' and metrics.accuracy > 0.92",
        "--json",
    )
    assert [r["name"] for r in json.loads(done.stdout)] == ["rf-2"]


def test_a_malformed_filter_is_one_error_line_with_the_position(project: Path) -> None:
    done = loopml_cli(project, "runs", "list", "--filter", "metrics.accuracy >> 1")
    assert done.returncode == 2
    assert "column 19" in done.stderr
    assert "Traceback" not in done.stderr


def test_runs_show_and_compare_accept_id_prefixes(project: Path) -> None:
    runs = json.loads(loopml_cli(project, "runs", "list", "--json").stdout)
    first, second = runs[0]["id"], runs[1]["id"]
    shown = loopml_cli(project, "runs", "show", first[:8])
    assert shown.returncode == 0, shown.stderr
    assert first in shown.stdout
    assert "accuracy" in shown.stdout
    detail = json.loads(loopml_cli(project, "runs", "show", first, "--json").stdout)
    assert detail["id"] == first
    assert "python" in detail["environment"]
    compared = loopml_cli(project, "runs", "compare", first[:8], second[:8])
    assert compared.returncode == 0, compared.stderr
    assert "params.model" in compared.stdout or "metrics.accuracy" in compared.stdout


def test_runs_delete_hides_a_run_and_restore_brings_it_back(project: Path) -> None:
    runs = json.loads(loopml_cli(project, "runs", "list", "--json").stdout)
    target = runs[0]["id"]
    assert loopml_cli(project, "runs", "delete", target).returncode == 0
    remaining = json.loads(loopml_cli(project, "runs", "list", "--json").stdout)
    assert target not in {r["id"] for r in remaining}
    assert loopml_cli(project, "runs", "restore", target).returncode == 0
    assert len(json.loads(loopml_cli(project, "runs", "list", "--json").stdout)) == 3


def test_unknown_run_is_exit_code_2_and_one_line(project: Path) -> None:
    done = loopml_cli(project, "runs", "show", "0" * 32)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "not found" in done.stderr


def test_experiments_list_and_create(project: Path) -> None:
    created = loopml_cli(project, "experiments", "create", "tuning", "--description", "HPO")
    assert created.returncode == 0, created.stderr
    clash = loopml_cli(project, "experiments", "create", "tuning")
    assert clash.returncode == 2
    listed = json.loads(loopml_cli(project, "experiments", "list", "--json").stdout)
    assert {e["name"] for e in listed} == {"baseline", "tuning"}


def test_an_invalid_project_file_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "loopml.yaml").write_text("project:\n  name: churn\n  colour: red\n")
    (tmp_path / ".loopml").mkdir()
    done = loopml_cli(tmp_path, "runs", "list")
    assert done.returncode == 2
    assert "line 3" in done.stderr


def test_an_unreachable_store_is_one_clear_line(tmp_path: Path) -> None:
    env = {"LOOPML_STORE_URL": "postgresql://loopml:secret@127.0.0.1:9/nothing"}
    done = loopml_cli(tmp_path, "runs", "list", env=env)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "secret" not in done.stderr
    assert "127.0.0.1:9" in done.stderr


def test_version_is_importable() -> None:
    assert loopml.__version__
