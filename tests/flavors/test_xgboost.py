"""XGBoost: native UBJSON model files, wrappers rebuilt from a fixed list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from loopml.core.errors import ValidationError
from loopml.flavors import load_model, read_manifest, save_model

from .conftest import edit_manifest


def test_a_classifier_predicts_what_the_raw_classifier_predicts(
    tmp_path: Path, frame: pd.DataFrame, target: pd.Series
) -> None:
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(frame, target)

    loaded = load_model(save_model(model, tmp_path / "m", input_example=frame).folder)

    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    assert isinstance(loaded.raw, xgb.XGBClassifier)
    assert read_manifest(tmp_path / "m").options["model_class"] == "XGBClassifier"


def test_a_booster_predicts_what_the_raw_booster_predicts(
    tmp_path: Path, frame: pd.DataFrame, target: pd.Series
) -> None:
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(frame, target), num_boost_round=3)

    loaded = load_model(save_model(booster, tmp_path / "m", input_example=frame).folder)

    np.testing.assert_array_equal(loaded.predict(frame), booster.predict(xgb.DMatrix(frame)))
    assert not hasattr(loaded, "predict_proba")


def test_an_unfitted_wrapper_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="XGBRegressor is not fitted"):
        save_model(xgb.XGBRegressor(), tmp_path / "m")


def test_a_manifest_cannot_name_another_class_to_build(
    tmp_path: Path, frame: pd.DataFrame, target: pd.Series
) -> None:
    model = xgb.XGBRegressor(n_estimators=2).fit(frame, target)
    folder = save_model(model, tmp_path / "m").folder
    edit_manifest(folder, options={"model_class": "os.system"})

    with pytest.raises(ValidationError, match=r"'os\.system' is not one of"):
        load_model(folder)
