"""What a run was made with: code version, interpreter, packages, command, host, seeds.

Captured automatically when a run starts. Every probe is best-effort and bounded in
time: a missing git, a slow file system or an absent package never fails the run.
"""

from __future__ import annotations

import functools
import getpass
import importlib.metadata
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["KEY_PACKAGES", "capture_environment", "git_state"]

KEY_PACKAGES = (
    "loopml",
    "numpy",
    "pandas",
    "polars",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "torch",
    "tensorflow",
    "xgboost",
    "lightgbm",
    "catboost",
    "onnx",
    "onnxruntime",
)
_GIT_TIMEOUT_S = 5.0


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(cwd: Path | None = None) -> dict[str, Any]:
    """Commit, branch, dirty flag and remote of the git checkout around ``cwd``, if any."""
    folder = cwd or Path.cwd()
    heads = _git(["rev-parse", "HEAD", "--abbrev-ref", "HEAD"], folder)
    if heads is None:
        return {}
    commit, _, branch = heads.partition("\n")
    status = _git(["status", "--porcelain", "--untracked-files=no"], folder)
    return {
        "commit": commit,
        "branch": branch,
        "dirty": bool(status),
        "remote": _git(["config", "--get", "remote.origin.url"], folder) or "",
    }


@functools.cache
def _package_versions() -> dict[str, str]:
    # Installed versions do not change while a process runs: look them up once.
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return os.environ.get("USER", "")


def capture_environment(seeds: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-ready description of the running process."""
    return {
        "git": git_state(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "packages": dict(_package_versions()),
        "command": [os.path.basename(sys.argv[0]), *sys.argv[1:]] if sys.argv else [],
        "cwd": os.getcwd(),
        "host": socket.gethostname(),
        "user": _user(),
        "platform": platform.platform(),
        "seeds": dict(seeds or {}),
    }
