"""Shared data, models and the malicious pickle for the flavor tests."""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


class FileCreatingPayload:
    """Unpickling this creates the marker file: the proof that a pickle ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


@pytest.fixture
def marker() -> Iterator[Path]:
    """A path no test creates; only a payload that ran would."""
    path = Path("/tmp") / f"loopml-pwned-{uuid.uuid4().hex}"
    yield path
    path.unlink(missing_ok=True)


def malicious_pickle(marker: Path, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
    """A pickle stream that, once unpickled, creates ``marker``."""
    return pickle.dumps(FileCreatingPayload(marker), protocol=protocol)


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    """Ten numeric features, 200 rows."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(rng.random((200, 10)), columns=[f"f{i}" for i in range(10)])


@pytest.fixture(scope="session")
def target(frame: pd.DataFrame) -> pd.Series[int]:
    """A binary label that depends on two features."""
    return (frame["f0"] + frame["f1"] > 1).astype("int64")


def replace_model_file(folder: Path, data: bytes) -> Path:
    """Put ``data`` in place of the model file and update its manifest entry to match.

    Only the format check then stands between ``data`` and the flavor's loader.
    """
    import yaml

    from loopml.artifacts.hashing import hash_file
    from loopml.flavors import MANIFEST_NAME

    manifest_path = folder / MANIFEST_NAME
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    entry = manifest["files"][0]
    path = folder / entry["path"]
    path.write_bytes(data)
    entry["digest"], entry["size"] = hash_file(path)
    manifest_path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return path


def edit_manifest(folder: Path, **changes: object) -> None:
    """Overwrite top-level manifest fields (a tampered or hand-written manifest)."""
    import yaml

    from loopml.flavors import MANIFEST_NAME

    path = folder / MANIFEST_NAME
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
