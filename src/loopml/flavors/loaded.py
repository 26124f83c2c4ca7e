"""A loaded model: predictions through its signature, whatever its flavor.

:class:`LoadedModel` is what :func:`loopml.flavors.load_model` returns. Its ``predict``
enforces the signature (a few vectorised checks, see :mod:`loopml.flavors.enforce`) and
then calls the flavor's own predict, so its overhead over the raw model stays small.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from loopml.flavors.base import Predictor
from loopml.flavors.enforce import Enforcer
from loopml.flavors.frames import as_pandas
from loopml.flavors.manifest import Manifest
from loopml.flavors.signature import Signature

__all__ = ["LoadedModel"]


class LoadedModel:
    """A model loaded from a verified folder.

    Attributes:
        folder: The model folder it was loaded from.
        manifest: The folder's parsed ``loopml-model.yaml``.
        flavor: The flavor's name, e.g. ``sklearn``.
        raw: The underlying model object (an estimator, a booster, an onnxruntime
            session, a torch module, a :class:`~loopml.flavors.PythonModel`).
    """

    __slots__ = ("_enforce", "_predict", "_predict_proba", "flavor", "folder", "manifest", "raw")

    def __init__(self, folder: Path, manifest: Manifest, predictor: Predictor) -> None:
        self.folder = folder
        self.manifest = manifest
        self.flavor = manifest.flavor
        self.raw = predictor.raw
        signature = manifest.signature
        self._enforce: Callable[[object], Any] = (
            Enforcer(signature) if signature is not None else as_pandas
        )
        self._predict = predictor.predict
        self._predict_proba = predictor.predict_proba

    @property
    def signature(self) -> Signature | None:
        """The signature enforced on every predict; None when the model was saved without."""
        return self.manifest.signature

    def predict(self, data: object) -> Any:
        """Predictions for the rows of ``data``.

        Args:
            data: A pandas or polars DataFrame, a pyarrow Table, a 2-D numpy array or a
                dict of columns. Columns are matched by name; extra ones are dropped.

        Raises:
            SignatureError: A column is missing or has a type that cannot be converted
                safely; the message lists the columns.
        """
        return self._predict(self._enforce(data))

    @property
    def predict_proba(self) -> Callable[[object], Any]:
        """Class probabilities, for models that have them (``hasattr`` tells)."""
        proba = self._predict_proba
        if proba is None:
            raise AttributeError(f"this {self.flavor} model has no predict_proba")
        enforce = self._enforce

        def predict_proba(data: object) -> Any:
            return proba(enforce(data))

        return predict_proba

    def __repr__(self) -> str:
        return f"LoadedModel(flavor={self.flavor!r}, folder={str(self.folder)!r})"
