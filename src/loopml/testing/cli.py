"""Run the ``loopml`` command as a user does: a real process, in a folder, without the
caller's ``LOOPML_*`` settings leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["run_loopml"]


def run_loopml(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m loopml ARGS`` in ``cwd``; ``env`` adds variables to a clean environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    clean["COLUMNS"] = "200"
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "loopml", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=clean,
        timeout=timeout_s,
        check=False,
    )
