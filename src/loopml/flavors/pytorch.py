"""PyTorch modules: weights as a ``state_dict`` (safe), or a TorchScript program (untrusted).

``pytorch``: ``torch.save(model.state_dict())`` writes only tensors; ``torch.load`` reads
them back with ``weights_only=True``, whose unpickler builds tensors and plain containers
and refuses everything else. The module is rebuilt from its class, imported from the
installed code (never from the file) and checked to be an ``nn.Module`` before it is
called with no arguments: the class must be importable and take no required arguments.

``torchscript``: a ``torch.jit.ScriptModule`` saved with ``torch.jit.save``. The file is a
program that PyTorch runs; PyTorch's own security guidance treats it as code, so it loads
only with ``trust=True``.

``predict`` turns the frame into one float tensor (the dtype of the module's first
parameter, float32 when it has none) and returns the module's output as a numpy array.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import re
import sys
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loopml.core.errors import ValidationError
from loopml.flavors.base import Flavor, Predictor, SavedFiles, check_magic
from loopml.flavors.errors import FormatMismatchError
from loopml.flavors.manifest import Manifest

__all__ = ["FLAVORS", "PyTorchFlavor", "TorchScriptFlavor"]

_STATE, _SCRIPT = "state_dict.pt", "model.torchscript"
_ZIP_MAGIC = b"PK\x03\x04"
_CLASS_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class PyTorchFlavor(Flavor):
    """``torch.nn.Module``: its ``state_dict`` plus the import path of its class."""

    name = "pytorch"
    file_names = (_STATE,)
    modules = ("torch", "numpy", "pandas")

    def supports(self, model: object) -> bool:
        """Whether ``model`` is a torch module (TorchScript ones go to ``torchscript``)."""
        torch = sys.modules.get("torch")
        return torch is not None and isinstance(model, torch.nn.Module)

    def save(self, model: object, folder: Path) -> SavedFiles:
        """``torch.save`` of the state_dict; the manifest records ``module:Class``."""
        import torch

        cls = type(model)
        class_path = f"{cls.__module__}:{cls.__qualname__}"
        if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
            raise ValidationError(
                f"the torch module class {class_path} cannot be imported when the model is "
                "loaded: define it in an importable module, or save torch.jit.script(model)",
                field="model",
            )
        assert isinstance(model, torch.nn.Module)
        torch.save(model.state_dict(), folder / _STATE)
        return SavedFiles((_STATE,), {"module_class": class_path})

    def verify_format(self, path: Path) -> None:
        """torch's zip archive with a ``data.pkl`` of tensors and no TorchScript code."""
        names = _zip_names(path, "a torch state_dict archive")
        if not any(name.endswith("/data.pkl") for name in names):
            raise FormatMismatchError(f"{path.name} is not a torch state_dict archive")
        if any("/code/" in name for name in names):
            raise FormatMismatchError(f"{path.name} is TorchScript, not a state_dict")

    def load(self, folder: Path, manifest: Manifest, *, trust: bool = False) -> Predictor:
        """Rebuild the module class and load the weights with ``weights_only=True``."""
        import torch

        cls = _module_class(manifest.options.get("module_class"))
        path = self.file_path(folder, manifest)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:  # the weights-only unpickler refused a global
            raise FormatMismatchError(
                f"{path.name} holds more than tensors, refused by torch's weights-only "
                f"loader: {str(exc).splitlines()[0]}"
            ) from None
        module = cls()
        module.load_state_dict(state)
        return _predictor(module.eval())


class TorchScriptFlavor(Flavor):
    """``torch.jit.ScriptModule``: a self-contained TorchScript program (untrusted)."""

    name = "torchscript"
    trusted = False
    untrusted_reason = (
        "TorchScript files are programs that PyTorch runs when they are loaded and called"
    )
    file_names = (_SCRIPT,)
    modules = ("torch", "numpy", "pandas")

    def supports(self, model: object) -> bool:
        """Whether ``model`` is a scripted or traced torch module."""
        torch = sys.modules.get("torch")
        return torch is not None and isinstance(model, torch.jit.ScriptModule)

    def save(self, model: object, folder: Path) -> SavedFiles:
        """``torch.jit.save`` to ``model.torchscript``."""
        import torch

        with _jit_deprecation_silenced():
            torch.jit.save(model, folder / _SCRIPT)
        return SavedFiles((_SCRIPT,))

    def verify_format(self, path: Path) -> None:
        """torch's zip archive with TorchScript ``code/``."""
        if not any("/code/" in name for name in _zip_names(path, "a TorchScript archive")):
            raise FormatMismatchError(f"{path.name} is not a TorchScript archive")

    def load(self, folder: Path, manifest: Manifest, *, trust: bool = False) -> Predictor:
        """``torch.jit.load`` on the CPU (the caller has checked ``trust``)."""
        import torch

        with _jit_deprecation_silenced():
            # untyped in torch's stubs; Any when torch is not installed (so may be unused)
            path = self.file_path(folder, manifest)
            module = torch.jit.load(path, map_location="cpu")  # type: ignore[no-untyped-call,unused-ignore]
        return _predictor(module.eval())


@contextlib.contextmanager
def _jit_deprecation_silenced() -> Iterator[None]:
    # torch 2.9+ deprecates TorchScript in favour of torch.export (a FutureWarning, a
    # DeprecationWarning from 2.13); the user chose a ScriptModule, so saving and loading
    # it should not warn on every call.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated")
        yield


def _zip_names(path: Path, what: str) -> list[str]:
    check_magic(path, _ZIP_MAGIC, what)
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except zipfile.BadZipFile as exc:
        raise FormatMismatchError(f"{path.name} is not {what}: {exc}") from None


def _module_class(class_path: object) -> Any:
    import torch

    if not isinstance(class_path, str) or not _CLASS_PATH.fullmatch(class_path):
        raise ValidationError(
            f"options.module_class {class_path!r} is not of the form package.module:Class",
            field="options",
        )
    module_name, qualname = class_path.split(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValidationError(
            f"cannot import {module_name} to rebuild the torch module {qualname}: {exc}; "
            "install the code that defines it",
            field="options",
        ) from None
    for attribute in qualname.split("."):
        found = getattr(found, attribute, None)
    if not (isinstance(found, type) and issubclass(found, torch.nn.Module)):
        raise ValidationError(
            f"options.module_class {class_path} is not a torch.nn.Module subclass; refused",
            field="options",
        )
    return found


def _predictor(module: Any) -> Predictor:
    import torch

    parameter = next(iter(module.parameters()), None)
    dtype = parameter.dtype if parameter is not None else torch.float32

    def predict(frame: Any) -> Any:
        with torch.no_grad():
            tensor = torch.tensor(frame.to_numpy(dtype="float64"), dtype=dtype)
            return module(tensor).numpy()

    return Predictor(module, predict)


FLAVORS = (TorchScriptFlavor(), PyTorchFlavor())
