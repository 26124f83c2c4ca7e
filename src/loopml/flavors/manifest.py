"""``loopml-model.yaml``: what a model folder holds, how to load it, and every file's digest.

The manifest is the only file read before the model's own files are proven to be what it
says they are. Its layout::

    format_version: 1
    flavor: sklearn
    trusted: true                       # false for formats that run code on load
    created_at: '2026-01-31T12:00:00+00:00'
    loopml_version: 0.1.0
    python_version: 3.11.9
    files:                              # flat names inside the folder, BLAKE3 digests
    - {path: model.skops, digest: 'blake3:…', size: 48213}
    signature:                          # null when no example or signature was given
      inputs: [{name: age, dtype: int64, nullable: false}, …]
      outputs: [{name: prediction, dtype: int64, nullable: false}]
    requirements: [loopml==0.1.0, numpy==2.1.3, scikit-learn==1.5.2, …]
    options: {}                         # flavor-specific settings (plain YAML values)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from loopml.artifacts.hashing import check_digest
from loopml.core.errors import NotFoundError, ValidationError
from loopml.flavors.signature import Signature

__all__ = ["FORMAT_VERSION", "MANIFEST_NAME", "Manifest", "ModelFile", "read_manifest"]

FORMAT_VERSION = 1
MANIFEST_NAME = "loopml-model.yaml"
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_MAX_MANIFEST_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One file of a model folder: a flat name, its BLAKE3 digest and its size."""

    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """The parsed ``loopml-model.yaml`` of a model folder (see the module docstring)."""

    flavor: str
    files: tuple[ModelFile, ...]
    trusted: bool
    created_at: datetime
    signature: Signature | None = None
    requirements: tuple[str, ...] = ()
    python_version: str = ""
    loopml_version: str = ""
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Plain dict in the layout of the module docstring."""
        return {
            "format_version": self.format_version,
            "flavor": self.flavor,
            "trusted": self.trusted,
            "created_at": self.created_at.isoformat(),
            "loopml_version": self.loopml_version,
            "python_version": self.python_version,
            "files": [{"path": f.path, "digest": f.digest, "size": f.size} for f in self.files],
            "signature": self.signature.to_dict() if self.signature else None,
            "requirements": list(self.requirements),
            "options": dict(self.options),
        }

    def write(self, folder: Path) -> None:
        """Write ``loopml-model.yaml`` into ``folder``."""
        text = yaml.dump(self.to_dict(), Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
        (folder / MANIFEST_NAME).write_text(text, encoding="utf-8")

    @classmethod
    def from_dict(cls, data: object) -> Manifest:
        """Read a manifest back, refusing anything malformed before a model file is opened.

        Raises:
            ValidationError: A field is missing or malformed, a file name is not a flat
                name, or the format version is newer than this loopml understands.
        """
        if not isinstance(data, Mapping):
            raise _invalid("the manifest is not a mapping", "manifest")
        version = data.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise _invalid("format_version must be a positive integer", "format_version")
        if version > FORMAT_VERSION:
            raise _invalid(
                f"format_version {version} is newer than this loopml reads ({FORMAT_VERSION});"
                " upgrade loopml to load this model",
                "format_version",
            )
        files = data.get("files")
        if not isinstance(files, list) or not files:
            raise _invalid("files must list the model's files", "files")
        signature = data.get("signature")
        options = data.get("options") or {}
        if not isinstance(options, Mapping):
            raise _invalid("options must be a mapping", "options")
        return cls(
            flavor=_string(data, "flavor"),
            files=tuple(_file(entry, index) for index, entry in enumerate(files)),
            trusted=_boolean(data, "trusted"),
            created_at=_created_at(data.get("created_at")),
            signature=Signature.from_dict(signature) if signature is not None else None,
            requirements=tuple(_strings(data.get("requirements") or [], "requirements")),
            python_version=str(data.get("python_version") or ""),
            loopml_version=str(data.get("loopml_version") or ""),
            options=MappingProxyType(dict(options)),
            format_version=version,
        )


def read_manifest(folder: Path) -> Manifest:
    """The manifest of a model folder.

    Raises:
        NotFoundError: The folder has no ``loopml-model.yaml``.
        ValidationError: The manifest is not valid YAML or not a valid manifest.
    """
    path = folder / MANIFEST_NAME
    try:
        with path.open("rb") as stream:
            raw = stream.read(_MAX_MANIFEST_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFoundError(f"{folder} is not a model folder: it has no {MANIFEST_NAME}") from None
    if len(raw) > _MAX_MANIFEST_BYTES:
        raise _invalid(f"{path} is larger than {_MAX_MANIFEST_BYTES} bytes", "manifest")
    try:
        data = yaml.load(raw, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python
    except yaml.YAMLError as exc:
        raise _invalid(f"{path} is not valid YAML: {exc}", "manifest") from None
    return Manifest.from_dict(data)


def _file(entry: object, index: int) -> ModelFile:
    where = f"files[{index}]"
    if not isinstance(entry, Mapping):
        raise _invalid(f"{where} must be a mapping of path, digest and size", where)
    path = entry.get("path")
    if not isinstance(path, str) or not _FILE_NAME.fullmatch(path):
        raise _invalid(
            f"{where}.path {path!r} is not a flat file name (letters, digits, '.', '_', '-')",
            where,
        )
    size = entry.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _invalid(f"{where}.size must be a byte count", where)
    return ModelFile(path, check_digest(entry.get("digest"), field=f"{where}.digest"), size)


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise _invalid(f"{key} must be a non-empty string", key)
    return value


def _boolean(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise _invalid(f"{key} must be true or false", key)
    return value


def _strings(values: object, key: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _invalid(f"{key} must be a list of strings", key)
    return list(values)


def _created_at(value: object) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise _invalid(f"created_at {value!r} is not an ISO 8601 time", "created_at") from None


def _invalid(message: str, field: str) -> ValidationError:
    return ValidationError(f"invalid {MANIFEST_NAME}: {message}", field=field)
