"""What a flavor is, and which flavor packages a given model.

A :class:`Flavor` knows one kind of model: whether it ``supports`` an object, how to
``save`` it as files in a folder, how to check those files are the format they claim
(``verify_format``, which reads bytes and never deserialises), and how to ``load`` them
back as a :class:`Predictor`. ``trusted`` is False for formats whose loading runs code
from the file (cloudpickle, TorchScript); those load only with ``trust=True``.

Flavors are asked in a fixed order, most specific first (an ``XGBClassifier`` is also a
scikit-learn estimator, a TorchScript module also a torch module):

>>> [flavor.name for flavor in registered_flavors()]
['xgboost', 'lightgbm', 'sklearn', 'onnx', 'torchscript', 'pytorch', 'pyfunc']
>>> flavor_for(object())  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
loopml.core.errors.ValidationError: cannot package a object: supported are scikit-learn ...
"""

from __future__ import annotations

import functools
import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from loopml.core.errors import NotFoundError, ValidationError
from loopml.flavors.errors import FormatMismatchError
from loopml.flavors.manifest import Manifest

__all__ = [
    "Flavor",
    "Predictor",
    "SavedFiles",
    "check_magic",
    "flavor_for",
    "get_flavor",
    "registered_flavors",
]

_FLAVOR_MODULES = ("xgboost", "lightgbm", "sklearn", "onnx", "pytorch", "pyfunc")
_SUPPORTED = (
    "scikit-learn estimators/pipelines, xgboost, lightgbm, ONNX ModelProto, "
    "torch nn.Module/ScriptModule, loopml.flavors.PythonModel subclasses"
)
_PICKLE_PROTOCOL_MARK = 0x80


@dataclass(frozen=True, slots=True)
class SavedFiles:
    """What :meth:`Flavor.save` wrote: flat file names and flavor-specific options."""

    files: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Predictor:
    """A loaded model: the raw object and the calls that predict from a pandas frame."""

    raw: object
    predict: Callable[[Any], Any]
    predict_proba: Callable[[Any], Any] | None = None


class Flavor(ABC):
    """One kind of model and its safe file format.

    Attributes:
        name: The flavor's name in manifests, e.g. ``sklearn``.
        trusted: False when loading the format runs code from the file.
        untrusted_reason: Why, for the error that refuses such a model without trust.
        file_names: The only file names the flavor writes and reads.
        modules: Top-level modules whose installed versions become pip requirements.
    """

    name: ClassVar[str]
    trusted: ClassVar[bool] = True
    untrusted_reason: ClassVar[str] = ""
    file_names: ClassVar[tuple[str, ...]]
    modules: ClassVar[tuple[str, ...]] = ("numpy", "pandas")

    @abstractmethod
    def supports(self, model: object) -> bool:
        """Whether this flavor packages ``model`` (never imports a library to find out)."""

    @abstractmethod
    def save(self, model: object, folder: Path) -> SavedFiles:
        """Write ``model`` into the empty ``folder``.

        Raises:
            ValidationError: The model cannot be saved in this format (e.g. not fitted).
        """

    @abstractmethod
    def verify_format(self, path: Path) -> None:
        """Check ``path`` holds this flavor's format, reading bytes only.

        Raises:
            FormatMismatchError: It does not.
        """

    @abstractmethod
    def load(self, folder: Path, manifest: Manifest, *, trust: bool = False) -> Predictor:
        """Load the model whose files were verified against ``manifest``."""

    def requirement_modules(self, model: object) -> tuple[str, ...]:
        """Modules whose installed versions ``model`` needs (``modules`` by default)."""
        return self.modules

    def file_path(self, folder: Path, manifest: Manifest) -> Path:
        """The one model file listed in ``manifest`` (flavors write exactly one)."""
        for entry in manifest.files:
            if entry.path in self.file_names:
                return folder / entry.path
        raise NotFoundError(
            f"the manifest of {folder} lists none of the {self.name} files "
            f"{', '.join(self.file_names)}"
        )


@functools.cache
def registered_flavors() -> tuple[Flavor, ...]:
    """Every flavor, in the order :func:`flavor_for` asks them."""
    flavors: list[Flavor] = []
    for module in _FLAVOR_MODULES:
        flavors.extend(importlib.import_module(f"loopml.flavors.{module}").FLAVORS)
    return tuple(flavors)


def get_flavor(name: str) -> Flavor:
    """The flavor called ``name``.

    Raises:
        ValidationError: No flavor has that name.
    """
    for flavor in registered_flavors():
        if flavor.name == name:
            return flavor
    known = ", ".join(flavor.name for flavor in registered_flavors())
    raise ValidationError(f"unknown model flavor {name!r}; known are {known}", field="flavor")


def flavor_for(model: object) -> Flavor:
    """The flavor that packages ``model``.

    Raises:
        ValidationError: No flavor supports it; the message lists what is supported.
    """
    for flavor in registered_flavors():
        if flavor.supports(model):
            return flavor
    raise ValidationError(
        f"cannot package a {type(model).__qualname__}: supported are {_SUPPORTED}",
        field="model",
    )


def check_magic(path: Path, magic: bytes, what: str) -> bytes:
    """The first 64 bytes of ``path`` if they start with ``magic``, else FormatMismatchError.

    A pickle stream gets its own message: it is the classic disguise, and it must never
    reach a deserialiser under a flavor that promises not to run code.
    """
    with path.open("rb") as stream:
        head = stream.read(64)
    if head.startswith(magic):
        return head
    if head[:1] == bytes([_PICKLE_PROTOCOL_MARK]):
        raise FormatMismatchError(
            f"{path.name} is a pickle stream, not {what}: refused unread, because "
            "unpickling runs code from the file"
        )
    raise FormatMismatchError(
        f"{path.name} is not {what}: it starts with {head[:16]!r}, not {magic!r}"
    )
