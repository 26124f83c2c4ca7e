"""Python models: cloudpickle, stored as untrusted, loaded only with trust=True."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.flavors import PythonModel, UntrustedModelError, load_model, read_manifest, save_model


class Threshold(PythonModel):
    """Predicts 1 above a threshold, with probabilities."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def predict(self, frame: pd.DataFrame) -> Any:
        return (frame["score"] > self.threshold).astype("int64").to_numpy()

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        p = frame["score"].clip(0, 1).to_numpy()
        return np.column_stack((1 - p, p))


EXAMPLE = pd.DataFrame({"score": [0.2, 0.9]})


def test_loading_without_trust_is_refused_with_the_reason(tmp_path: Path) -> None:
    folder = save_model(Threshold(0.5), tmp_path / "m", input_example=EXAMPLE).folder

    with pytest.raises(UntrustedModelError) as error:
        load_model(folder)

    assert "cloudpickle files run code from the file" in str(error.value)
    assert "Only load models from people you trust, then pass trust=True" in str(error.value)
    assert read_manifest(folder).trusted is False


def test_with_trust_it_predicts_like_the_object(tmp_path: Path) -> None:
    folder = save_model(Threshold(0.5), tmp_path / "m", input_example=EXAMPLE).folder

    loaded = load_model(folder, trust=True)

    np.testing.assert_array_equal(loaded.predict(EXAMPLE), [0, 1])
    np.testing.assert_array_equal(loaded.predict_proba(EXAMPLE)[:, 1], [0.2, 0.9])
    assert isinstance(loaded.raw, Threshold)
    assert any(line.startswith("cloudpickle==") for line in read_manifest(folder).requirements)


def test_a_subclass_must_implement_predict() -> None:
    class Incomplete(PythonModel):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]
