"""``loopml data`` and ``loopml lineage`` as a user runs them: real processes, a real folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.testing.cli import run_loopml as loopml_cli

SCHEMA = """version: 1
name: people
columns:
  age: {dtype: int64, min: 0, max: 120}
  plan: {dtype: string, isin: [basic, pro]}
"""


def _write(path: Path, seed: int, shift: float = 0.0, bad: bool = False) -> Path:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": (rng.normal(40 + shift, 8, 2000)).clip(0, 120).round().astype(int),
            "plan": rng.choice(["basic", "pro"], 2000),
        }
    )
    if bad:
        frame.loc[:2, "age"] = -1
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    done = loopml_cli(tmp_path, "init", "--name", "people")
    assert done.returncode == 0, done.stderr
    (tmp_path / "people.schema.yaml").write_text(SCHEMA)
    return tmp_path


def test_register_list_show_diff_and_validate(project: Path) -> None:
    first = _write(project / "october.csv", seed=0)
    done = loopml_cli(
        project,
        "data",
        "register",
        "people",
        str(first),
        "--schema",
        "people.schema.yaml",
        "--require-valid",
    )
    assert done.returncode == 0, done.stderr
    assert "Registered people@1: 2,000 rows, 2 columns" in done.stdout
    done = loopml_cli(project, "data", "register", "people", str(first), "--json")
    assert json.loads(done.stdout)["ref"] == "people@1"  # same content, same version
    second = _write(project / "november.csv", seed=1, shift=15)
    assert loopml_cli(project, "data", "register", "people", str(second)).returncode == 0

    listed = json.loads(loopml_cli(project, "data", "list", "--json").stdout)
    assert [(d["name"], d["n_versions"]) for d in listed] == [("people", 2)]
    shown = loopml_cli(project, "data", "show", "people@1")
    assert "people@1" in shown.stdout
    assert "numeric" in shown.stdout
    diff = json.loads(loopml_cli(project, "data", "diff", "people@1", "people@2", "--json").stdout)
    assert [c["name"] for c in diff["columns"] if c["drifted"]] == ["age"]
    table = loopml_cli(project, "data", "diff", "people@1", "people@2").stdout
    assert "DRIFT" in table

    valid = loopml_cli(project, "data", "validate", "people@2", "--schema", "people.schema.yaml")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "passed" in valid.stdout


def test_invalid_data_is_refused_with_the_report_and_exit_code_2(project: Path) -> None:
    bad = _write(project / "bad.csv", seed=2, bad=True)
    done = loopml_cli(
        project,
        "data",
        "register",
        "people",
        str(bad),
        "--schema",
        "people.schema.yaml",
        "--require-valid",
    )
    assert done.returncode == 2
    assert "age" in done.stderr
    assert "3 failing rows" in done.stderr
    assert "Traceback" not in done.stderr
    listed = json.loads(loopml_cli(project, "data", "list", "--json").stdout)
    assert listed == []
    report = loopml_cli(project, "data", "validate", str(bad), "--schema", "people.schema.yaml")
    assert report.returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "register", "people", "people.xlsx"], "unsupported file type"),
        (["data", "show", "people@9"], "not found"),
        (["data", "show", "people@nine"], "'nine'"),
        (["data", "validate", "x.csv", "--schema", "missing.yaml"], "missing.yaml"),
    ],
)
def test_bad_input_gets_one_line_and_exit_code_2(
    project: Path, args: list[str], message: str
) -> None:
    (project / "people.xlsx").write_bytes(b"PK")
    _write(project / "x.csv", seed=3)
    done = loopml_cli(project, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_schema_file_that_does_not_parse_names_its_line(project: Path) -> None:
    (project / "broken.yaml").write_text("version: 1\ncolumns:\n  age: {dtype: int64, min: abc}\n")
    data = _write(project / "x.csv", seed=3)
    done = loopml_cli(project, "data", "register", "people", str(data), "--schema", "broken.yaml")
    assert done.returncode == 2
    assert "broken.yaml, line 3" in done.stderr
    assert "columns.age.min" in done.stderr


def test_infer_schema_writes_yaml_that_validates_the_data(project: Path) -> None:
    data = _write(project / "x.csv", seed=3)
    assert loopml_cli(project, "data", "register", "people", str(data)).returncode == 0
    done = loopml_cli(project, "data", "infer-schema", "people@1", "-o", "inferred.yaml")
    assert done.returncode == 0, done.stderr
    assert "age" in (project / "inferred.yaml").read_text()
    valid = loopml_cli(project, "data", "validate", "people@1", "--schema", "inferred.yaml")
    assert valid.returncode == 0, valid.stdout


def test_lineage_shows_the_runs_that_read_a_version(project: Path) -> None:
    from loopml.client.client import Client
    from loopml.core.config import load_settings

    data = _write(project / "x.csv", seed=3)
    assert loopml_cli(project, "data", "register", "people", str(data)).returncode == 0
    with (
        Client(load_settings(cwd=project, environ={})) as client,
        client.start_run(experiment="train", name="rf-1") as run,
    ):
        run.log_input("people@1", role="train")
    done = loopml_cli(project, "lineage", "people@1")
    assert done.returncode == 0, done.stderr
    assert "run rf-1" in done.stdout
    assert "(train)" in done.stdout
    from_run = json.loads(loopml_cli(project, "lineage", run.id[:8], "--json").stdout)
    assert from_run["upstream"]["children"][0]["label"] == "dataset people@1"
