"""``loopml.seed``: one call seeds every random generator in use, and is recorded."""

from __future__ import annotations

import random
import sys
from typing import Any

from loopml.core.errors import ValidationError

__all__ = ["current_seeds", "seed_everything"]

_SEEDS: dict[str, Any] = {}


def seed_everything(value: int) -> dict[str, Any]:
    """Seed ``random``, numpy and (when imported) torch; return what was seeded.

    torch is seeded only if the program has imported it, so that ``seed`` never pays
    for importing a framework the program does not use.

    >>> seed_everything(7)["seed"]
    7
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise ValidationError(f"seed must be an integer in [0, 2**32), got {value!r}", field="seed")
    seeded = ["random"]
    random.seed(value)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    else:
        np.random.seed(value)
        seeded.append("numpy")
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(value)
        seeded.append("torch")
    _SEEDS.clear()
    _SEEDS.update({"seed": value, "seeded": seeded})
    return dict(_SEEDS)


def current_seeds() -> dict[str, Any]:
    """The last seeds set through :func:`seed_everything` in this process."""
    return dict(_SEEDS)
