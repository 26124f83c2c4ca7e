"""The DVC side of the registration benchmark: ``dvc add`` of the file in a fresh repository.

DVC runs in its own virtualenv, ``bench/.venv-dvc`` (created on first use), and is timed
as the process a user runs: the wall time of ``dvc add data.parquet``, start to exit. Each
repeat gets a fresh ``git init`` + ``dvc init`` repository, so DVC's cache
(``.dvc/cache``, on the same filesystem as the file) and its state database
(``DVC_SITE_CACHE_DIR``, pointed inside the repeat's folder) start empty. Analytics, the
update check and Studio are off, and DVC's global and system configuration are redirected
to empty folders, so nothing outside the repeat changes what it does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from register_bench.common import load, warm_read

BENCH_DIR = Path(__file__).resolve().parent.parent
DVC_REQUIREMENT = "dvc>=3,<4"
DVC_VENV = BENCH_DIR / ".venv-dvc"
DVC_PYTHON = DVC_VENV / "bin" / "python"
DVC = DVC_VENV / "bin" / "dvc"


def ensure_dvc_venv(console: Console) -> None:
    """Create ``bench/.venv-dvc`` with the latest DVC 3.x unless it already works."""
    if DVC.exists():
        check = subprocess.run([str(DVC), "--version"], capture_output=True, check=False)
        if check.returncode == 0:
            return
    with console.status(f"Creating {DVC_VENV} with {DVC_REQUIREMENT} ..."):
        subprocess.run(["python3", "-m", "venv", str(DVC_VENV)], check=True)
        pip = [str(DVC_PYTHON), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, DVC_REQUIREMENT], check=True)


def dvc_version() -> str:
    done = subprocess.run([str(DVC), "--version"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _environment(folder: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DVC_", "LOOPML_", "GIT_")) and key != "PYTHONPATH"
    }
    for name in ("site-cache", "global-config", "system-config"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    env.update(
        DVC_NO_ANALYTICS="1",
        DVC_STUDIO_OFFLINE="1",
        DVC_SITE_CACHE_DIR=str(folder / "site-cache"),
        DVC_GLOBAL_CONFIG_DIR=str(folder / "global-config"),
        DVC_SYSTEM_CONFIG_DIR=str(folder / "system-config"),
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@localhost",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@localhost",
    )
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run a command to its end; its wall time in seconds. Fails loudly with its output."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(args)}` failed (exit {done.returncode}):\n{done.stderr[-2000:]}"
        )
    return seconds


def startup_seconds(folder: Path) -> float:
    """Wall time of ``dvc --version``: what starting DVC costs before any work."""
    folder.mkdir(parents=True, exist_ok=True)
    return _run([str(DVC), "--version"], folder, _environment(folder))


def dvc_add(data_file: Path, folder: Path) -> dict[str, Any]:
    """``dvc add`` of a copy of ``data_file`` in a fresh repository, then again unchanged."""
    repo = folder / "repo"
    repo.mkdir(parents=True)
    env = _environment(folder)
    _run(["git", "init", "-q"], repo, env)
    _run([str(DVC), "init", "-q"], repo, env)
    _run([str(DVC), "config", "core.analytics", "false"], repo, env)
    _run([str(DVC), "config", "core.check_update", "false"], repo, env)
    target = repo / "data.parquet"
    shutil.copyfile(data_file, target)  # untimed: the file must be inside the repository

    steps: dict[str, Any] = {}
    for step in ("first", "again"):
        warm_s = warm_read(target)
        load_before = load()
        seconds = _run([str(DVC), "add", "-q", "data.parquet"], repo, env)
        steps[step] = {"seconds": seconds, "warm_read_s": warm_s, "load": load_before}

    cache = repo / ".dvc" / "cache"
    objects = [p for p in cache.rglob("*") if p.is_file()]
    if not (repo / "data.parquet.dvc").is_file() or len(objects) != 1:
        raise RuntimeError(f"dvc add left no .dvc file or not one cache object: {objects}")
    if objects[0].stat().st_size != data_file.stat().st_size:
        raise RuntimeError(f"dvc's cache object {objects[0]} is not the size of the file")
    return {
        "cache_same_filesystem": objects[0].stat().st_dev == data_file.stat().st_dev,
        "cache_type": "default (reflink, falling back to copy)",
        **steps,
    }
