"""XGBoost boosters and scikit-learn wrappers, in XGBoost's own model file (UBJSON).

``save_model`` writes the trees and, for the scikit-learn wrappers, their attributes
(classes, objective) into one ``.ubj`` (Universal Binary JSON) file that XGBoost's C++
parser reads back; no Python object is unpickled. The wrapper class is recorded in the
manifest and rebuilt from a fixed list, never imported by a name read from a file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from loopml.core.errors import ValidationError
from loopml.flavors.base import Flavor, Predictor, SavedFiles, check_magic
from loopml.flavors.errors import FormatMismatchError
from loopml.flavors.manifest import Manifest

__all__ = ["FLAVORS", "XGBoostFlavor"]

_UBJ, _JSON = "model.ubj", "model.json"
_WRAPPERS = ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")
_BOOSTER = "Booster"


class XGBoostFlavor(Flavor):
    """``xgboost.Booster`` and the ``xgboost.XGBModel`` scikit-learn wrappers."""

    name = "xgboost"
    file_names = (_UBJ, _JSON)
    modules = ("xgboost", "numpy", "pandas")

    def supports(self, model: object) -> bool:
        """Whether ``model`` is an XGBoost booster or wrapper."""
        xgb = sys.modules.get("xgboost")
        return xgb is not None and isinstance(model, xgb.Booster | xgb.XGBModel)

    def save(self, model: object, folder: Path) -> SavedFiles:
        """``save_model`` to ``model.ubj``; the manifest records the wrapper class."""
        import xgboost as xgb

        if isinstance(model, xgb.XGBModel):
            kind = next((name for name in _WRAPPERS if isinstance(model, getattr(xgb, name))), None)
            if kind is None:
                raise ValidationError(
                    f"cannot package a {type(model).__qualname__}: supported XGBoost wrappers "
                    f"are {', '.join(_WRAPPERS)} and Booster",
                    field="model",
                )
            if not model.__sklearn_is_fitted__():
                raise ValidationError(
                    f"the {type(model).__qualname__} is not fitted: call fit before log_model",
                    field="model",
                )
        else:
            kind = _BOOSTER
        model.save_model(folder / _UBJ)  # type: ignore[attr-defined]
        return SavedFiles((_UBJ,), {"model_class": kind})

    def verify_format(self, path: Path) -> None:
        """A UBJSON or JSON object whose first key is XGBoost's ``learner``."""
        head = check_magic(path, b"{", "an XGBoost model file")
        marker = b'"learner"' if path.name == _JSON else b"learner"
        if marker not in head[:32]:
            raise FormatMismatchError(
                f"{path.name} is not an XGBoost model file: it does not start with 'learner'"
            )

    def load(self, folder: Path, manifest: Manifest, *, trust: bool = False) -> Predictor:
        """Rebuild the recorded wrapper (or a Booster) and load the file into it."""
        import xgboost as xgb

        kind = manifest.options.get("model_class", _BOOSTER)
        if kind not in (*_WRAPPERS, _BOOSTER):
            raise ValidationError(
                f"options.model_class {kind!r} is not one of {', '.join(_WRAPPERS)}, Booster",
                field="options",
            )
        path = self.file_path(folder, manifest)
        if kind == _BOOSTER:
            booster = xgb.Booster()
            booster.load_model(path)
            return Predictor(booster, _booster_predict(booster))
        model = getattr(xgb, kind)()
        model.load_model(path)
        proba = model.predict_proba if hasattr(model, "predict_proba") else None
        return Predictor(model, model.predict, proba)


def _booster_predict(booster: Any) -> Any:
    import xgboost as xgb

    def predict(frame: Any) -> Any:
        return booster.predict(xgb.DMatrix(frame, enable_categorical=True))

    return predict


FLAVORS = (XGBoostFlavor(),)
