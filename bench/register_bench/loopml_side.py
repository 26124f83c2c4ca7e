"""The loopml side of the registration benchmark; runs in loopml's own virtualenv.

One process per repeat, in a fresh folder with ``LOOPML_HOME`` pointing at a fresh
``.loopml`` inside it, so the store is the zero-setup default (SQLite + a local artifact
folder) and empty. The clock covers ``loopml.data.register(name, path, profile=False)``
only; opening the client and its dataset service (which imports pyarrow) is outside it, as
DVC's repository is made before ``dvc add`` is timed. After the two timed calls the stored
blob is checked against the file, untimed.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from register_bench.common import DATASET, emit_result, load, warm_read


def register(args: argparse.Namespace) -> dict[str, Any]:
    """First registration into an empty store, then re-registration of the unchanged file."""
    home = Path.cwd() / ".loopml"
    os.environ["LOOPML_HOME"] = str(home)
    import loopml
    from loopml.artifacts.hashing import hash_file

    client = loopml.Client()
    assert client.data is not None  # made on first use: before the clock starts
    path: Path = args.file
    steps: dict[str, Any] = {}
    handles = []
    for step in ("first", "again"):
        warm_s = warm_read(path)
        load_before = load()
        start = time.perf_counter()
        handle = loopml.data.register(DATASET, path, profile=False, client=client)
        seconds = time.perf_counter() - start
        handles.append(handle)
        steps[step] = {"seconds": seconds, "warm_read_s": warm_s, "load": load_before}

    first, again = (handle.record for handle in handles)
    if again.id != first.id:
        raise RuntimeError(f"re-registering made version {again.ref}, not {first.ref}")
    (file,) = first.files
    stored = client.artifacts.local_path(file.blob_path)
    if stored is None or not str(stored).startswith(str(home)):
        raise RuntimeError(f"the blob is not stored in the fresh home {home}: {stored}")
    digest, size = hash_file(path)
    client.artifacts.verify(file.blob_path, digest)  # the stored bytes, hashed afresh
    if (file.digest, file.size, stored.stat().st_size) != (digest, size, size):
        raise RuntimeError(f"stored blob {file} does not match {path} ({digest}, {size})")
    return {
        "version": loopml.__version__,
        "module": loopml.__file__,
        "store": client.settings.store_url,
        "artifacts": client.artifacts.url,
        "ref": first.ref,
        "n_rows": first.n_rows,
        "n_bytes": first.n_bytes,
        "digest": file.digest,
        "same_filesystem": os.stat(stored).st_dev == os.stat(path).st_dev,
        **steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("register")
    command.add_argument("--file", type=Path, required=True)
    args = parser.parse_args()
    emit_result(register(args))


if __name__ == "__main__":
    main()
