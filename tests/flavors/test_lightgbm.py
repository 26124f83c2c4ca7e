"""LightGBM: native text model files; classifiers answer with their labels."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import ValidationError
from loopml.flavors import load_model, save_model


def test_a_binary_classifier_predicts_what_the_raw_classifier_predicts(
    tmp_path: Path, frame: pd.DataFrame, target: pd.Series
) -> None:
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(frame, target)

    loaded = load_model(save_model(model, tmp_path / "m", input_example=frame).folder)

    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    np.testing.assert_allclose(loaded.predict_proba(frame), model.predict_proba(frame))
    assert (tmp_path / "m" / "model.txt").read_bytes().startswith(b"tree\nversion=v")


def test_a_multiclass_classifier_keeps_its_string_labels(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    labels = np.array(["low", "mid", "high"])[(frame["f0"] * 3).astype(int).clip(0, 2)]
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(frame, labels)

    loaded = load_model(save_model(model, tmp_path / "m", input_example=frame).folder)

    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    np.testing.assert_allclose(loaded.predict_proba(frame), model.predict_proba(frame))


def test_a_regressor_and_a_booster_predict_like_the_raw_models(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    regressor = lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(frame, frame["f2"])
    booster = regressor.booster_

    for name, model in (("regressor", regressor), ("booster", booster)):
        loaded = load_model(save_model(model, tmp_path / name, input_example=frame).folder)
        np.testing.assert_allclose(loaded.predict(frame), regressor.predict(frame))
        assert not hasattr(loaded, "predict_proba")


def test_an_unfitted_wrapper_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LGBMRegressor is not fitted"):
        save_model(lgb.LGBMRegressor(), tmp_path / "m")
