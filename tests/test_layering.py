"""The import direction of DESIGN.md: core <- storage <- services <- surfaces."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import loopml

PACKAGE = Path(loopml.__file__).parent

LAYERS = {
    "core": 0,
    "metadata": 1,
    "artifacts": 1,
    "tracking": 2,
    "stats": 2,
    "datasets": 2,
    "flavors": 2,
    "registry": 2,
    "governance": 2,
    "testing": 2,
    "auth": 2,
    "client": 3,
    "data": 3,
    "models": 3,
    "demo": 4,
    "cli": 4,
    "server": 4,
}
FORBIDDEN_IN_CORE = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "typer",
    "rich",
    "jinja2",
    "httpx",
    "fsspec",
    "s3fs",
)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _modules(area: str) -> list[Path]:
    return sorted((PACKAGE / area).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: p.name)
def test_core_imports_no_database_web_or_cli_library(path: Path) -> None:
    for name in _imports(path):
        assert name.split(".")[0] not in FORBIDDEN_IN_CORE, f"{path.name} imports {name}"


@pytest.mark.parametrize(
    "path",
    [p for area in LAYERS for p in _modules(area)],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_modules_import_only_their_own_layer_or_lower(path: Path) -> None:
    area = path.relative_to(PACKAGE).parts[0]
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] != "loopml" or len(parts) < 2 or parts[1] not in LAYERS:
            continue
        assert LAYERS[parts[1]] <= LAYERS[area] or parts[1] == area, (
            f"{path.relative_to(PACKAGE)} (layer {area}) imports {name} from a higher layer"
        )
