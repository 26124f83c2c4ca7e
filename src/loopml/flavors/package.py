"""Save a model as a verified folder, and load it back only when it is what it claims.

:func:`save_model` writes the flavor's files and ``loopml-model.yaml`` into a temporary
sibling folder, proves the result loads and runs the input example, then renames it into
place: an unsupported model, an example that does not fit, or a crash leaves no folder.

:func:`load_model` checks, in this order and before any model file is deserialised: the
manifest; that an untrusted flavor was given ``trust=True``; each file's BLAKE3 digest;
that a safe flavor's file is no pickle stream; and that each file is its declared format.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from loopml.artifacts.hashing import hash_file
from loopml.core import clock
from loopml.core.errors import AlreadyExistsError, IntegrityError, ValidationError
from loopml.flavors.base import Flavor, flavor_for, get_flavor
from loopml.flavors.environment import capture_requirements, check_requirements, python_version
from loopml.flavors.errors import FormatMismatchError, SignatureError, UntrustedModelError
from loopml.flavors.frames import rows_of
from loopml.flavors.loaded import LoadedModel
from loopml.flavors.manifest import Manifest, ModelFile, read_manifest
from loopml.flavors.signature import Signature, infer_signature

__all__ = ["ModelPackage", "load_model", "save_model"]

_EXAMPLE_ROWS = 100
_PICKLE_PROTOCOL_MARK = b"\x80"


@dataclass(frozen=True, slots=True)
class ModelPackage:
    """A saved model folder and its manifest."""

    folder: Path
    manifest: Manifest


def save_model(
    model: object,
    folder: str | os.PathLike[str],
    *,
    input_example: object = None,
    signature: Signature | None = None,
    extra_pip_requirements: Sequence[str] = (),
) -> ModelPackage:
    """Package ``model`` into ``folder`` (which must not exist, or be empty).

    Args:
        model: A model of one of the supported flavors (see :func:`flavor_for`).
        folder: Where the model folder goes.
        input_example: A few rows the model takes, or its whole training data. The
            signature is inferred from it (types and nulls from all rows) unless given,
            and its first 100 rows must run through the saved and reloaded model.
        signature: The signature to store instead of an inferred one; its outputs are
            inferred from the example's predictions when it names none.
        extra_pip_requirements: Requirement lines added to the captured ones.

    Raises:
        ValidationError: The model is unsupported or unfitted, the example does not fit
            the signature or the model, or a requirement line is malformed. Nothing is
            written.
        AlreadyExistsError: ``folder`` exists and is not empty.
    """
    target = Path(folder)
    flavor = flavor_for(model)
    extra = check_requirements(extra_pip_requirements)
    if signature is not None and not isinstance(signature, Signature):
        raise ValidationError("signature must be a loopml Signature", field="signature")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExistsError(f"{target} already exists and is not an empty folder")
    if signature is None and input_example is not None:
        signature = infer_signature(input_example)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    staging.mkdir()
    try:
        manifest = _write(model, flavor, staging, signature, extra)
        if input_example is not None:
            manifest = _check_example(staging, manifest, input_example)
        os.replace(staging, target)  # atomic; replaces an empty folder of that name
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ModelPackage(target, manifest)


def load_model(folder: str | os.PathLike[str], *, trust: bool = False) -> LoadedModel:
    """Load a model folder written by :func:`save_model`, verifying it first.

    Args:
        folder: The model folder.
        trust: Allow formats whose loading runs code from the file (cloudpickle,
            TorchScript, skops types outside loopml's allow-list). Only for models from
            people you trust.

    Raises:
        NotFoundError: ``folder`` has no manifest, or a listed file is absent.
        ValidationError: The manifest is malformed or names an unknown flavor.
        UntrustedModelError: The format runs code on load and ``trust`` is False.
        IntegrityError: A file's digest differs from the manifest's.
        FormatMismatchError: A file is not the format the manifest declares (for
            example a pickle stream in place of a skops or ONNX file).
    """
    path = Path(folder)
    manifest = read_manifest(path)
    flavor = get_flavor(manifest.flavor)
    if not flavor.trusted and not trust:
        raise UntrustedModelError(
            f"{path} is a {flavor.name} model: {flavor.untrusted_reason}, so a malicious "
            "file can do anything your user account can. Only load models from people "
            "you trust, then pass trust=True"
        )
    for entry in manifest.files:
        _verify_file(path, entry, flavor)
    return LoadedModel(path, manifest, flavor.load(path, manifest, trust=trust))


def _write(
    model: object,
    flavor: Flavor,
    folder: Path,
    signature: Signature | None,
    extra: Sequence[str],
) -> Manifest:
    saved = flavor.save(model, folder)
    files = tuple(ModelFile(name, *hash_file(folder / name)) for name in saved.files)
    skops_types = saved.options.get("skops_types") or []
    manifest = Manifest(
        flavor=flavor.name,
        files=files,
        trusted=flavor.trusted and not _needs_trust(skops_types),
        created_at=clock.now(),
        signature=signature,
        requirements=capture_requirements(flavor.requirement_modules(model), extra),
        python_version=python_version(),
        loopml_version=_loopml_version(),
        options=MappingProxyType(dict(saved.options)),
    )
    manifest.write(folder)
    return manifest


def _check_example(folder: Path, manifest: Manifest, example: object) -> Manifest:
    """Reload the staged folder and run the example's head through it."""
    loaded = load_model(folder, trust=True)  # files loopml itself has just written
    head = rows_of(example, _EXAMPLE_ROWS)
    try:
        output = loaded.predict(head)
    except SignatureError as exc:
        raise ValidationError(
            f"the input example does not match the signature: {exc}", field="input_example"
        ) from None
    except Exception as exc:  # the model's own error, whatever library raised it
        raise ValidationError(
            f"the input example does not run through the {manifest.flavor} model: "
            f"{type(exc).__name__}: {exc}",
            field="input_example",
        ) from exc
    signature = manifest.signature
    if signature is None or signature.outputs:
        return manifest
    outputs = infer_signature(head, output).outputs
    manifest = replace(manifest, signature=Signature(signature.inputs, outputs))
    manifest.write(folder)
    return manifest


def _verify_file(folder: Path, entry: ModelFile, flavor: Flavor) -> None:
    if entry.path not in flavor.file_names:
        raise ValidationError(
            f"the manifest lists {entry.path!r}, which is not a {flavor.name} file "
            f"({', '.join(flavor.file_names)})",
            field="files",
        )
    path = folder / entry.path
    if not path.is_file():
        raise IntegrityError(f"{path} is listed in the manifest but missing")
    digest, size = hash_file(path)
    if digest != entry.digest or size != entry.size:
        raise IntegrityError(
            f"{path} does not match its manifest: digest {digest} ({size} bytes), "
            f"expected {entry.digest} ({entry.size} bytes); the file was changed or damaged"
        )
    if flavor.trusted:
        with path.open("rb") as stream:
            if stream.read(1) == _PICKLE_PROTOCOL_MARK:
                raise FormatMismatchError(
                    f"{path.name} is a pickle stream, not a {flavor.name} file: refused "
                    "unread, because unpickling runs code from the file"
                )
    flavor.verify_format(path)


def _needs_trust(skops_types: Any) -> bool:
    from loopml.flavors.skops_trust import disallowed

    return bool(disallowed(skops_types))


def _loopml_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("loopml")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return ""
