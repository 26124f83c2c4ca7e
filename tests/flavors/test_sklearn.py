"""scikit-learn: skops files, an allow-list of types, and a manifest that cannot lie."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from loopml.core.errors import ValidationError
from loopml.flavors import UntrustedModelError, load_model, read_manifest, save_model

from .conftest import edit_manifest


def double(values: np.ndarray) -> np.ndarray:
    """A user function: skops stores a reference to it, so it needs trust to load."""
    return values * 2


def test_a_pipeline_predicts_what_the_raw_pipeline_predicts(
    tmp_path: Path, frame: pd.DataFrame, target: pd.Series
) -> None:
    model = make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators=10))
    model.fit(frame, target)

    loaded = load_model(save_model(model, tmp_path / "m", input_example=frame).folder)

    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    assert loaded.flavor == "sklearn"
    assert (tmp_path / "m" / "model.skops").is_file()


def test_mixed_column_types_go_through_a_column_transformer(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "city": ["a", "b", "a", "b"]})
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["city"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(frame, [0, 1, 0, 1])

    loaded = load_model(save_model(model, tmp_path / "m", input_example=frame).folder)

    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))


def test_a_model_fitted_on_an_array_gets_an_array(
    tmp_path: Path, frame: pd.DataFrame, target: pd.Series
) -> None:
    values = frame.to_numpy()
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(values, target)

    loaded = load_model(save_model(model, tmp_path / "m", input_example=values).folder)

    # Named columns would make scikit-learn warn (an error under this suite's settings).
    np.testing.assert_array_equal(loaded.predict(values), model.predict(values))
    assert not hasattr(loaded, "predict_proba")


def test_an_unfitted_estimator_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LogisticRegression is not fitted"):
        save_model(LogisticRegression(), tmp_path / "m")

    assert list(tmp_path.iterdir()) == []


def test_a_type_outside_the_allow_list_needs_trust(
    tmp_path: Path, frame: pd.DataFrame, target: pd.Series
) -> None:
    model = make_pipeline(FunctionTransformer(double), LogisticRegression()).fit(frame, target)
    folder = save_model(model, tmp_path / "m", input_example=frame).folder

    with pytest.raises(UntrustedModelError, match=r"test_sklearn\.double.*trust=True"):
        load_model(folder)

    assert read_manifest(folder).trusted is False
    np.testing.assert_array_equal(
        load_model(folder, trust=True).predict(frame), model.predict(frame)
    )


def test_a_manifest_that_hides_a_type_does_not_get_it_trusted(
    tmp_path: Path, frame: pd.DataFrame, target: pd.Series
) -> None:
    model = GradientBoostingClassifier(n_estimators=3).fit(frame, target)
    folder = save_model(model, tmp_path / "m").folder
    edit_manifest(folder, options={"skops_types": []})  # the file still holds Tree

    with pytest.raises(UntrustedModelError, match="does not declare"):
        load_model(folder)


def test_a_manifest_that_declares_a_dangerous_type_is_refused(
    tmp_path: Path, frame: pd.DataFrame, target: pd.Series
) -> None:
    model = LogisticRegression().fit(frame, target)
    folder = save_model(model, tmp_path / "m").folder
    edit_manifest(folder, options={"skops_types": ["numpy.memmap", "builtins.eval"]})

    with pytest.raises(UntrustedModelError, match=r"builtins\.eval, numpy\.memmap"):
        load_model(folder)
