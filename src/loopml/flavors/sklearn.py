"""scikit-learn estimators and pipelines, saved with skops (never pickle).

The file is skops' zip: a JSON schema plus ``.npy`` arrays, rebuilt without unpickling.
skops refuses types outside its own list; the types a fitted model holds beyond that list
are recorded in the manifest at save time (``options.skops_types``) and, when the
allow-list of :mod:`loopml.flavors.skops_trust` covers them all, passed to skops as
trusted. skops then refuses anything in the file that is not listed, so a tampered file
cannot smuggle in another type; types outside the allow-list need ``trust=True``.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from typing import Any

from loopml.core.errors import ValidationError
from loopml.flavors.base import Flavor, Predictor, SavedFiles, check_magic
from loopml.flavors.errors import FormatMismatchError, UntrustedModelError
from loopml.flavors.manifest import Manifest
from loopml.flavors.skops_trust import disallowed

__all__ = ["FLAVORS", "SklearnFlavor"]

_FILE = "model.skops"
_ZIP_MAGIC = b"PK\x03\x04"


class SklearnFlavor(Flavor):
    """scikit-learn estimators and pipelines (anything deriving from ``BaseEstimator``)."""

    name = "sklearn"
    file_names = (_FILE,)
    modules = ("sklearn", "skops", "numpy", "scipy", "pandas")

    def supports(self, model: object) -> bool:
        """Whether ``model`` is a scikit-learn estimator with ``predict``."""
        if "sklearn" not in sys.modules:
            return False
        from sklearn.base import BaseEstimator

        return isinstance(model, BaseEstimator) and callable(getattr(model, "predict", None))

    def save(self, model: object, folder: Path) -> SavedFiles:
        """Dump with ``skops.io.dump``; record the types skops will ask about."""
        import skops.io
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(model)
        except NotFittedError:
            raise ValidationError(
                f"the {type(model).__qualname__} is not fitted: call fit before log_model",
                field="model",
            ) from None
        path = folder / _FILE
        skops.io.dump(model, path)
        types = sorted(skops.io.get_untrusted_types(file=path))
        return SavedFiles((_FILE,), {"skops_types": types})

    def verify_format(self, path: Path) -> None:
        """A zip whose first member directory holds skops' ``schema.json``."""
        check_magic(path, _ZIP_MAGIC, "a skops file (zip)")
        try:
            with zipfile.ZipFile(path) as archive, archive.open("schema.json") as schema:
                start = schema.read(1)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise FormatMismatchError(f"{path.name} is not a skops file: {exc}") from None
        if start != b"{":
            raise FormatMismatchError(f"{path.name} is not a skops file: schema.json is not JSON")

    def load(self, folder: Path, manifest: Manifest, *, trust: bool = False) -> Predictor:
        """Load with skops, trusting only allow-listed types unless ``trust`` is set."""
        import skops.io
        from skops.io.exceptions import UntrustedTypesFoundException

        path = self.file_path(folder, manifest)
        if trust:
            trusted = skops.io.get_untrusted_types(file=path)
        else:
            trusted = _declared_types(manifest)
            refused = disallowed(trusted)
            if refused:
                raise UntrustedModelError(
                    f"{folder} holds types that loopml does not construct without trust: "
                    f"{', '.join(refused)}. skops would build them from the file, so a "
                    "malicious file could run code through them; if you trust whoever "
                    "saved this model, load it with trust=True"
                )
        try:
            model = skops.io.load(path, trusted=trusted)
        except UntrustedTypesFoundException as exc:
            raise UntrustedModelError(
                f"{path.name} holds types its manifest does not declare ({exc}); refused. "
                "Load it with trust=True only if you trust whoever saved it"
            ) from None
        return _predictor(model)


def _declared_types(manifest: Manifest) -> list[str]:
    types = manifest.options.get("skops_types", [])
    if not isinstance(types, list) or not all(isinstance(name, str) for name in types):
        raise ValidationError("options.skops_types must be a list of type names", field="options")
    return types


def _predictor(model: Any) -> Predictor:
    # A model fitted on a numpy array warns when given named columns: give it an array.
    named = hasattr(model, "feature_names_in_")
    predict = model.predict if named else _on_array(model.predict)
    proba = getattr(model, "predict_proba", None) if _has_proba(model) else None
    if proba is not None and not named:
        proba = _on_array(proba)
    return Predictor(model, predict, proba)


def _has_proba(model: Any) -> bool:
    try:  # a pipeline only has predict_proba when its last step does
        return callable(model.predict_proba)
    except AttributeError:
        return False


def _on_array(method: Any) -> Any:
    def call(frame: Any) -> Any:
        return method(frame.to_numpy())

    return call


FLAVORS = (SklearnFlavor(),)
