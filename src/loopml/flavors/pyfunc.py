"""Models written in Python: subclass :class:`PythonModel`, saved with cloudpickle.

Anything a library flavor cannot express (a rule set, an ensemble of other models,
pre- and post-processing around one) can be a ``PythonModel``. It is saved with
cloudpickle, which also captures classes defined in a notebook or script; unpickling runs
code from the file, so such models are stored as untrusted and load only with
``trust=True``.

>>> class Doubler(PythonModel):
...     def predict(self, frame):
...         return frame["x"] * 2
>>> import pandas as pd
>>> Doubler().predict(pd.DataFrame({"x": [1, 2]})).tolist()
[2, 4]
"""

from __future__ import annotations

import pickle
import sys
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from loopml.flavors.base import Flavor, Predictor, SavedFiles
from loopml.flavors.errors import FormatMismatchError
from loopml.flavors.manifest import Manifest

__all__ = ["FLAVORS", "PyfuncFlavor", "PythonModel"]

_FILE = "python_model.pkl"
_PICKLE_PROTOCOL_MARK = b"\x80"


class PythonModel(ABC):
    """Base class of models written in Python.

    Subclasses implement :meth:`predict`; a ``predict_proba(self, frame)`` method, when
    defined, is offered by the loaded model too. Keep what the model needs in attributes:
    the whole object is saved.
    """

    @abstractmethod
    def predict(self, frame: Any) -> Any:
        """Predictions for the rows of ``frame`` (a pandas DataFrame that fits the signature)."""


class PyfuncFlavor(Flavor):
    """:class:`PythonModel` subclasses, saved with cloudpickle (untrusted)."""

    name = "pyfunc"
    trusted = False
    untrusted_reason = "cloudpickle files run code from the file when they are loaded"
    file_names = (_FILE,)
    modules = ("cloudpickle", "numpy", "pandas")

    def supports(self, model: object) -> bool:
        """Whether ``model`` is a :class:`PythonModel`."""
        return isinstance(model, PythonModel)

    def save(self, model: object, folder: Path) -> SavedFiles:
        """``cloudpickle.dump`` to ``python_model.pkl``; the model's package is recorded."""
        import cloudpickle

        with (folder / _FILE).open("wb") as stream:
            cloudpickle.dump(model, stream, protocol=pickle.DEFAULT_PROTOCOL)
        return SavedFiles((_FILE,))

    def requirement_modules(self, model: object) -> tuple[str, ...]:
        """cloudpickle, numpy, pandas and the top-level package defining the model class."""
        package = type(model).__module__.split(".")[0]
        return (*self.modules, package) if package in sys.modules else self.modules

    def verify_format(self, path: Path) -> None:
        """A pickle stream (protocol 2 or later)."""
        with path.open("rb") as stream:
            if stream.read(1) != _PICKLE_PROTOCOL_MARK:
                raise FormatMismatchError(f"{path.name} is not a pickle stream")

    def load(self, folder: Path, manifest: Manifest, *, trust: bool = False) -> Predictor:
        """Unpickle the model (the caller has checked ``trust``)."""
        with self.file_path(folder, manifest).open("rb") as stream:
            model = pickle.load(stream)  # noqa: S301 - trust=True was required to get here
        if not isinstance(model, PythonModel):
            raise FormatMismatchError(
                f"{_FILE} holds a {type(model).__qualname__}, not a loopml PythonModel"
            )
        proba = getattr(model, "predict_proba", None)
        return Predictor(model, model.predict, proba if callable(proba) else None)


FLAVORS = (PyfuncFlavor(),)
