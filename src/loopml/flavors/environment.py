"""The environment a model needs: pinned pip requirements of what is installed now.

Each flavor names the modules it imports (``sklearn``, ``skops`` ...); they are mapped to
the distributions that provide them (``scikit-learn``; ``xgboost-cpu`` where that wheel is
the one installed) and pinned to the installed versions.

>>> any(line.startswith("numpy==") for line in capture_requirements(["numpy"]))
True
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import re
from collections.abc import Iterable, Mapping, Sequence

from loopml.core.errors import ValidationError

__all__ = ["capture_requirements", "check_requirements", "python_version"]

# A requirement line pip understands, without options, URLs or newlines: a name, then
# extras, versions and markers made of the characters they use.
_REQUIREMENT = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?[ <>=!~;.,*'\"()A-Za-z0-9_+-]*$"
)


def python_version() -> str:
    """The running Python's version, e.g. ``3.11.9``."""
    return platform.python_version()


def capture_requirements(modules: Iterable[str], extra: Sequence[str] = ()) -> tuple[str, ...]:
    """Sorted ``name==version`` lines for ``modules`` and loopml, plus ``extra`` lines.

    Args:
        modules: Top-level import names, e.g. ``["sklearn", "numpy"]``.
        extra: Further requirement lines, checked by :func:`check_requirements`.
    """
    pinned: dict[str, str] = {}
    for module in ("loopml", *modules):
        for distribution in _distributions(module):
            pinned[distribution.lower()] = (
                f"{distribution}=={importlib.metadata.version(distribution)}"
            )
    lines = sorted(pinned.values(), key=str.lower)
    return tuple(lines + [line for line in check_requirements(extra) if line not in lines])


def check_requirements(lines: Sequence[str]) -> tuple[str, ...]:
    """``lines`` if each is one plain pip requirement, else ValidationError naming it."""
    if isinstance(lines, str):
        raise ValidationError(
            "extra_pip_requirements must be a list of requirement lines, not one string",
            field="extra_pip_requirements",
        )
    for line in lines:
        if not isinstance(line, str) or not _REQUIREMENT.fullmatch(line.strip()):
            raise ValidationError(
                f"extra_pip_requirements: {line!r} is not a plain requirement such as "
                "'requests>=2.31'",
                field="extra_pip_requirements",
            )
    return tuple(line.strip() for line in lines)


_KNOWN = {"sklearn": "scikit-learn", "loopml": "loopml"}


def _distributions(module: str) -> list[str]:
    """Installed distributions providing ``module``: the usual name first, then a scan."""
    name = _KNOWN.get(module, module)
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return _providers().get(module, [])  # e.g. xgboost from the xgboost-cpu wheel
    return [name]


@functools.cache
def _providers() -> Mapping[str, list[str]]:
    """Top-level module name -> installed distributions providing it (read once)."""
    return importlib.metadata.packages_distributions()
