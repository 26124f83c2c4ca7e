"""Friendly random run names, so a run is easy to point at before anyone names it."""

from __future__ import annotations

import random

__all__ = ["random_run_name"]

_ADJECTIVES = (
    "amber",
    "bold",
    "brisk",
    "calm",
    "clever",
    "crisp",
    "eager",
    "fair",
    "gentle",
    "glad",
    "keen",
    "lively",
    "lucid",
    "merry",
    "nimble",
    "proud",
    "quick",
    "quiet",
    "rapid",
    "sharp",
    "shy",
    "sly",
    "steady",
    "swift",
    "tidy",
    "vivid",
    "warm",
    "wise",
    "witty",
    "zesty",
)
_NOUNS = (
    "badger",
    "bee",
    "crane",
    "deer",
    "eagle",
    "finch",
    "fox",
    "gull",
    "hare",
    "heron",
    "ibis",
    "jay",
    "koala",
    "lark",
    "lynx",
    "mole",
    "newt",
    "otter",
    "owl",
    "panda",
    "puffin",
    "quail",
    "raven",
    "seal",
    "stork",
    "swan",
    "tern",
    "toad",
    "vole",
    "wren",
)
_RNG = random.Random()  # independent of the seeds users set


def random_run_name() -> str:
    """Something like ``swift-otter-42``."""
    return f"{_RNG.choice(_ADJECTIVES)}-{_RNG.choice(_NOUNS)}-{_RNG.randrange(100)}"
