"""LightGBM boosters and scikit-learn wrappers, in LightGBM's own text model file.

The text file (``tree`` / ``version=v4`` / the trees) is parsed by LightGBM's C++ code;
nothing is unpickled. A fitted ``LGBMClassifier``'s classes are kept in the manifest so
``predict`` returns labels, as the wrapper does, and ``predict_proba`` one column per class.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from loopml.core.errors import ValidationError
from loopml.flavors.base import Flavor, Predictor, SavedFiles, check_magic
from loopml.flavors.manifest import Manifest

__all__ = ["FLAVORS", "LightGBMFlavor"]

_FILE = "model.txt"
_MAGIC = b"tree\nversion=v"


class LightGBMFlavor(Flavor):
    """``lightgbm.Booster`` and the ``lightgbm.LGBMModel`` scikit-learn wrappers."""

    name = "lightgbm"
    file_names = (_FILE,)
    modules = ("lightgbm", "numpy", "pandas")

    def supports(self, model: object) -> bool:
        """Whether ``model`` is a LightGBM booster or wrapper."""
        lgb = sys.modules.get("lightgbm")
        return lgb is not None and isinstance(model, lgb.Booster | lgb.LGBMModel)

    def save(self, model: object, folder: Path) -> SavedFiles:
        """Save the booster's text model; a classifier's classes go to the manifest."""
        import lightgbm as lgb

        options: dict[str, Any] = {"model_class": "Booster"}
        booster = model
        if isinstance(model, lgb.LGBMModel):
            if not model.__sklearn_is_fitted__():
                raise ValidationError(
                    f"the {type(model).__qualname__} is not fitted: call fit before log_model",
                    field="model",
                )
            booster = model.booster_
            options["model_class"] = type(model).__name__
            if isinstance(model, lgb.LGBMClassifier):
                options["classes"] = np.asarray(model.classes_).tolist()
        booster.save_model(folder / _FILE)  # type: ignore[attr-defined]
        return SavedFiles((_FILE,), options)

    def verify_format(self, path: Path) -> None:
        """LightGBM's text header: ``tree`` then ``version=v<N>``."""
        check_magic(path, _MAGIC, "a LightGBM text model file")

    def load(self, folder: Path, manifest: Manifest, *, trust: bool = False) -> Predictor:
        """Load the booster; wrap it to answer like the recorded wrapper class."""
        import lightgbm as lgb

        booster = lgb.Booster(model_file=self.file_path(folder, manifest))
        classes = manifest.options.get("classes")
        if classes is None:
            return Predictor(booster, booster.predict)
        if not isinstance(classes, list) or len(classes) < 2:
            raise ValidationError("options.classes must list two or more classes", field="options")
        return _classifier(booster, np.asarray(classes))


def _classifier(booster: Any, classes: np.ndarray[Any, Any]) -> Predictor:
    def predict_proba(frame: Any) -> Any:
        scores = booster.predict(frame)
        if scores.ndim == 1:  # binary: LightGBM gives P(second class) only
            return np.column_stack((1.0 - scores, scores))
        return scores

    def predict(frame: Any) -> Any:
        return classes[np.argmax(predict_proba(frame), axis=1)]

    return Predictor(booster, predict, predict_proba)


FLAVORS = (LightGBMFlavor(),)
