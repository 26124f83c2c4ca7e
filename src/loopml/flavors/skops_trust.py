"""Which types a skops file may construct without the user's ``trust=True``.

skops rebuilds objects from a JSON schema and refuses any type outside its own default
list unless the caller names it as trusted. Fitted scikit-learn models routinely hold a
few internal types skops does not list (``sklearn.tree._tree.Tree`` in every forest and
boosted model, ``TreePredictor`` in histogram boosting). This allow-list adds only those
kinds of type, resolved to the real class and checked, never matched as a string:

- classes defined inside scikit-learn that are estimators, or are one of its internal
  fitted-state classes (trees, histogram-boosting predictors, losses and links,
  neighbour trees);
- numpy scalar types and dtypes.

Anything else a file names (a user's function or class, ``numpy.memmap``, a ``builtins``
callable ...) needs ``trust=True``: skops would construct it, and a class whose
constructor touches files would then run with the file's arguments.

>>> is_allowed("sklearn.tree._tree.Tree"), is_allowed("numpy.float64")
(True, True)
>>> is_allowed("numpy.memmap"), is_allowed("os.system"), is_allowed("mylib.Custom")
(False, False, False)
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable

__all__ = ["disallowed", "is_allowed"]

_SKLEARN_INTERNAL_MODULES = (
    "sklearn.tree._tree",
    "sklearn.ensemble._hist_gradient_boosting.",
    "sklearn._loss.",
    "sklearn.neighbors._kd_tree",
    "sklearn.neighbors._ball_tree",
    "sklearn.utils._bunch",
)
_ROOTS = ("sklearn", "numpy")


def disallowed(type_names: Iterable[str]) -> list[str]:
    """The names in ``type_names`` that the allow-list does not cover, sorted."""
    return sorted({name for name in type_names if not is_allowed(name)})


@functools.cache
def is_allowed(type_name: str) -> bool:
    """Whether skops may construct ``type_name`` (``module.Class``) without trust."""
    if type_name.split(".", 1)[0] not in _ROOTS:
        return False  # never import a module outside the allowed libraries to find out
    found = _resolve(type_name)
    if not isinstance(found, type):
        return False
    if type_name.startswith("numpy."):
        return _is_numpy_value_type(found)
    module = getattr(found, "__module__", "")
    if not module.startswith("sklearn."):
        return False  # a class re-exported by scikit-learn from elsewhere (joblib ...)
    if module.startswith(_SKLEARN_INTERNAL_MODULES):
        return True
    from sklearn.base import BaseEstimator

    return issubclass(found, BaseEstimator)


def _is_numpy_value_type(found: type) -> bool:
    import numpy as np

    return issubclass(found, np.generic | np.dtype)


def _resolve(type_name: str) -> object:
    """The object named ``package.module.Qualified.Name``, or None."""
    parts = type_name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute, None)
        return found
    return None
