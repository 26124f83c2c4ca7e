"""save_model and load_model: atomic folders, manifests, digests and clear refusals."""

from __future__ import annotations

import platform
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from loopml.artifacts.hashing import hash_file
from loopml.core.errors import AlreadyExistsError, IntegrityError, NotFoundError, ValidationError
from loopml.flavors import (
    MANIFEST_NAME,
    ColumnSpec,
    Signature,
    SignatureError,
    load_model,
    read_manifest,
    save_model,
)

from .conftest import edit_manifest


@pytest.fixture(scope="module")
def model(frame: pd.DataFrame, target: pd.Series) -> LogisticRegression:
    return LogisticRegression().fit(frame, target)


def test_the_manifest_records_flavor_files_signature_and_environment(
    tmp_path: Path, model: LogisticRegression, frame: pd.DataFrame
) -> None:
    package = save_model(
        model, tmp_path / "m", input_example=frame, extra_pip_requirements=["requests>=2"]
    )

    raw = yaml.safe_load((tmp_path / "m" / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert list(raw) == [
        "format_version",
        "flavor",
        "trusted",
        "created_at",
        "loopml_version",
        "python_version",
        "files",
        "signature",
        "requirements",
        "options",
    ]
    digest, size = hash_file(tmp_path / "m" / "model.skops")
    assert raw["files"] == [{"path": "model.skops", "digest": digest, "size": size}]
    assert raw["flavor"] == "sklearn"
    assert raw["trusted"] is True
    assert raw["python_version"] == platform.python_version()
    assert f"scikit-learn=={version('scikit-learn')}" in raw["requirements"]
    assert f"skops=={version('skops')}" in raw["requirements"]
    assert raw["requirements"][-1] == "requests>=2"
    assert [c["name"] for c in raw["signature"]["inputs"]] == list(frame.columns)
    assert raw["signature"]["outputs"] == [
        {"name": "prediction", "dtype": "int64", "nullable": False}
    ]
    assert read_manifest(tmp_path / "m") == package.manifest


def test_an_unsupported_object_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as error:
        save_model({"weights": [1, 2]}, tmp_path / "m")

    assert str(error.value) == (
        "cannot package a dict: supported are scikit-learn estimators/pipelines, xgboost, "
        "lightgbm, ONNX ModelProto, torch nn.Module/ScriptModule, "
        "loopml.flavors.PythonModel subclasses"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_example_the_model_cannot_take_leaves_no_folder_behind(
    tmp_path: Path, model: LogisticRegression
) -> None:
    wrong = pd.DataFrame({"a": [1.0], "b": [2.0]})

    with pytest.raises(ValidationError, match="does not run through the sklearn model") as error:
        save_model(model, tmp_path / "m", input_example=wrong)

    assert error.value.field == "input_example"
    assert list(tmp_path.iterdir()) == []  # no folder, no temporary sibling


def test_an_example_that_does_not_fit_the_given_signature_is_refused(
    tmp_path: Path, model: LogisticRegression, frame: pd.DataFrame
) -> None:
    signature = Signature((ColumnSpec("age", "int64"),))

    with pytest.raises(ValidationError, match="lacks column"):
        save_model(model, tmp_path / "m", input_example=frame, signature=signature)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_holds_something_is_not_overwritten(
    tmp_path: Path, model: LogisticRegression
) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("keep me", encoding="utf-8")

    with pytest.raises(AlreadyExistsError):
        save_model(model, tmp_path / "m")
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["notes.txt"]


def test_an_empty_folder_is_filled(tmp_path: Path, model: LogisticRegression) -> None:
    (tmp_path / "m").mkdir()

    save_model(model, tmp_path / "m")

    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [MANIFEST_NAME, "model.skops"]


def test_predict_enforces_the_signature(
    tmp_path: Path, model: LogisticRegression, frame: pd.DataFrame
) -> None:
    loaded = load_model(save_model(model, tmp_path / "m", input_example=frame).folder)

    with pytest.raises(SignatureError, match="lacks column\\(s\\) 'f3'"):
        loaded.predict(frame.drop(columns=["f3"]))
    with pytest.raises(SignatureError, match="column 'f0': expected float64, found string"):
        loaded.predict(frame.iloc[:1].assign(f0="x"))
    assert loaded.predict(frame.iloc[:1].astype("float32")).shape == (1,)


def test_without_an_example_there_is_no_signature_to_enforce(
    tmp_path: Path, model: LogisticRegression, frame: pd.DataFrame
) -> None:
    loaded = load_model(save_model(model, tmp_path / "m").folder)

    assert loaded.signature is None
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))


def test_a_changed_byte_is_an_integrity_error(tmp_path: Path, model: LogisticRegression) -> None:
    folder = save_model(model, tmp_path / "m").folder
    path = folder / "model.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(IntegrityError, match="does not match its manifest"):
        load_model(folder)


def test_a_missing_file_is_an_integrity_error(tmp_path: Path, model: LogisticRegression) -> None:
    folder = save_model(model, tmp_path / "m").folder
    (folder / "model.skops").unlink()

    with pytest.raises(IntegrityError, match="missing"):
        load_model(folder)


@pytest.mark.parametrize("path", ["../outside.skops", "sub/model.skops", "other.bin"])
def test_a_manifest_cannot_point_outside_the_flavor_files(
    tmp_path: Path, model: LogisticRegression, path: str
) -> None:
    folder = save_model(model, tmp_path / "m").folder
    entry = read_manifest(folder).files[0]
    edit_manifest(folder, files=[{"path": path, "digest": entry.digest, "size": entry.size}])

    with pytest.raises(ValidationError) as error:
        load_model(folder)

    assert str(error.value.field).startswith("files")


def test_a_newer_manifest_asks_for_a_newer_loopml(
    tmp_path: Path, model: LogisticRegression
) -> None:
    folder = save_model(model, tmp_path / "m").folder
    edit_manifest(folder, format_version=99)

    with pytest.raises(ValidationError, match="upgrade loopml"):
        load_model(folder)


def test_an_unknown_flavor_is_named(tmp_path: Path, model: LogisticRegression) -> None:
    folder = save_model(model, tmp_path / "m").folder
    edit_manifest(folder, flavor="keras")

    with pytest.raises(ValidationError, match="unknown model flavor 'keras'"):
        load_model(folder)


def test_a_folder_without_a_manifest_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not a model folder"):
        load_model(tmp_path)


def test_a_requirement_line_with_options_is_refused(
    tmp_path: Path, model: LogisticRegression
) -> None:
    with pytest.raises(ValidationError, match="--index-url"):
        save_model(model, tmp_path / "m", extra_pip_requirements=["--index-url http://x"])
    assert list(tmp_path.iterdir()) == []
