"""A pickle that would create a file, registered under each safe flavor, never runs.

Each test saves a real model, puts the pickle in place of its file and updates the
manifest's digest to match, so only the format check stands between the pickle and the
flavor's loader.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import lightgbm as lgb
import pandas as pd
import pytest
import xgboost as xgb
from onnx import TensorProto, helper
from sklearn.linear_model import LogisticRegression

from loopml.flavors import (
    FormatMismatchError,
    PythonModel,
    UntrustedModelError,
    load_model,
    save_model,
)

from .conftest import malicious_pickle, replace_model_file


def _sklearn(frame: pd.DataFrame, target: pd.Series) -> object:
    return LogisticRegression().fit(frame, target)


def _xgboost(frame: pd.DataFrame, target: pd.Series) -> object:
    return xgb.XGBClassifier(n_estimators=2).fit(frame, target)


def _lightgbm(frame: pd.DataFrame, target: pd.Series) -> object:
    return lgb.LGBMClassifier(n_estimators=2, verbose=-1).fit(frame, target)


def _onnx(frame: pd.DataFrame, target: pd.Series) -> object:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 10])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 10])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _pytorch(frame: pd.DataFrame, target: pd.Series) -> object:
    torch = pytest.importorskip("torch")
    return torch.nn.Linear(10, 1)


SAFE_FLAVORS: dict[str, Callable[[pd.DataFrame, pd.Series], object]] = {
    "sklearn": _sklearn,
    "xgboost": _xgboost,
    "lightgbm": _lightgbm,
    "onnx": _onnx,
    "pytorch": _pytorch,
}


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
@pytest.mark.parametrize("flavor", sorted(SAFE_FLAVORS))
def test_a_pickle_under_a_safe_flavor_is_refused_unread(
    flavor: str,
    protocol: int,
    tmp_path: Path,
    marker: Path,
    frame: pd.DataFrame,
    target: pd.Series,
) -> None:
    package = save_model(SAFE_FLAVORS[flavor](frame, target), tmp_path / "m")
    assert package.manifest.flavor == flavor
    replace_model_file(package.folder, malicious_pickle(marker, protocol))

    with pytest.raises(FormatMismatchError, match=r"pickle stream|is not"):
        load_model(package.folder)
    with pytest.raises(FormatMismatchError):
        load_model(package.folder, trust=True)  # trust never turns a pickle into skops
    assert not marker.exists()


class Echo(PythonModel):
    def predict(self, frame: pd.DataFrame) -> object:
        return frame


def test_a_pickle_under_pyfunc_does_not_run_without_trust(tmp_path: Path, marker: Path) -> None:
    folder = save_model(Echo(), tmp_path / "m").folder
    replace_model_file(folder, malicious_pickle(marker))

    with pytest.raises(UntrustedModelError, match="trust=True"):
        load_model(folder)
    assert not marker.exists()


def test_the_payload_does_create_its_file_when_unpickled(marker: Path) -> None:
    # Proves the tests above could fail: this payload really does run when unpickled.
    pickle.loads(malicious_pickle(marker)).close()  # noqa: S301

    assert marker.exists()
