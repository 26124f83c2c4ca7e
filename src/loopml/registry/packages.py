"""Model packages in the artifact store: copied into the registry, fetched for loading.

A package is a folder holding the model files and ``loopml-model.yaml``, the manifest
that names the flavor, the signature and every file with its digest
(:mod:`loopml.flavors`). A registered version's package lives at ``models/<digest>/``,
where the digest is the manifest's own: identical packages are stored once, and loading
checks the manifest against the digest the registry recorded.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.hashing import hash_bytes
from loopml.artifacts.paths import join_relpath
from loopml.core.errors import IntegrityError, NotFoundError, ValidationError

__all__ = ["MANIFEST", "PackageRef", "StoredPackage", "copy_package", "fetch_package"]

MANIFEST = "loopml-model.yaml"


@dataclass(frozen=True)
class PackageRef:
    """Where a package is stored, and its manifest digest when the registry knows it."""

    path: str
    digest: str | None


@dataclass(frozen=True)
class StoredPackage:
    path: str
    digest: str
    size: int
    flavor: str
    signature: dict[str, Any]


def _manifest(artifacts: BaseArtifactStore, prefix: str) -> tuple[bytes, dict[str, Any]]:
    try:
        raw = artifacts.read_bytes(join_relpath(prefix, MANIFEST))
    except NotFoundError:
        raise NotFoundError(
            f"no model package at {prefix!r}: log one with run.log_model(...) first",
            field="source",
        ) from None
    manifest = yaml.safe_load(raw)
    if not isinstance(manifest, dict) or "flavor" not in manifest:
        raise ValidationError(f"{prefix}/{MANIFEST} is not a loopml model manifest", field="source")
    return raw, manifest


def copy_package(artifacts: BaseArtifactStore, prefix: str) -> StoredPackage:
    """Copy the package under ``prefix`` to ``models/<manifest digest>/`` (once)."""
    raw, manifest = _manifest(artifacts, prefix)
    digest = hash_bytes(raw)
    target = f"models/{digest.partition(':')[2]}"
    files = artifacts.list(prefix)
    size = sum(f.size for f in files)
    if not artifacts.exists(join_relpath(target, MANIFEST)):
        with tempfile.TemporaryDirectory(prefix="loopml-package-") as folder:
            local = Path(folder) / "package"
            artifacts.get_dir(prefix, local)
            # The manifest last: a package whose manifest is there is complete.
            for path in sorted(local.rglob("*")):
                if path.is_file() and path.name != MANIFEST:
                    relative = path.relative_to(local).as_posix()
                    artifacts.put_file(path, join_relpath(target, relative))
            artifacts.put_file(
                local / MANIFEST, join_relpath(target, MANIFEST), expected_digest=digest
            )
    signature = manifest.get("signature") or {}
    return StoredPackage(
        target,
        digest,
        size,
        str(manifest["flavor"]),
        dict(signature) if isinstance(signature, dict) else {},
    )


def fetch_package(artifacts: BaseArtifactStore, ref: PackageRef, cache_dir: Path) -> Path:
    """A local copy of the package (cached by manifest digest), its manifest checked."""
    raw, _ = _manifest(artifacts, ref.path)
    digest = hash_bytes(raw)
    if ref.digest is not None and digest != ref.digest:
        raise IntegrityError(
            f"the package at {ref.path!r} does not match the digest the registry recorded; "
            "it was changed after registration"
        )
    folder = cache_dir / "models" / digest.partition(":")[2]
    if not (folder / MANIFEST).exists():
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        artifacts.get_dir(ref.path, partial)
        if hash_bytes((partial / MANIFEST).read_bytes()) != digest:
            shutil.rmtree(partial, ignore_errors=True)
            raise IntegrityError(f"the package at {ref.path!r} changed while it was copied")
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
    return folder
