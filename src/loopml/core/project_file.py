"""``loopml.yaml``: the project's requirements-and-design record, typed and versioned.

One schema, one loader. Later capabilities add their sections (release gates, monitors,
business metrics, risk class) to :class:`ProjectFile`; unknown keys are refused so that a
typo never passes silently, and every error names the line it is on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import yaml

from loopml.core.errors import ProjectFileError

__all__ = [
    "PROJECT_FILE_NAME",
    "SCHEMA_VERSION",
    "ProjectFile",
    "ProjectInfo",
    "ReleasePolicy",
    "dump_project_file",
    "load_project_file",
    "parse_project_file",
]

PROJECT_FILE_NAME = "loopml.yaml"
SCHEMA_VERSION = 1


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class ProjectInfo(_Strict):
    """Who the project is for and what it may be used for."""

    name: str = pydantic.Field(
        min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
    )
    description: str = ""
    intended_use: str = ""
    out_of_scope_use: str = ""
    owners: tuple[str, ...] = ()
    stakeholders: tuple[str, ...] = ()


class ReleasePolicy(_Strict):
    """The gates a version of one model must pass, and the approvals it needs.

    Gates are checked by :mod:`loopml.registry.gates` when an approval is requested.
    """

    gates: tuple[str, ...] = ()
    required_approvals: int = pydantic.Field(1, ge=1, le=10)


class ProjectFile(_Strict):
    """The whole ``loopml.yaml``."""

    schema_version: int = SCHEMA_VERSION
    project: ProjectInfo
    release_gates: dict[str, ReleasePolicy] = {}


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node at ``loc``, or of its nearest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def parse_project_file(text: str, *, source: str = PROJECT_FILE_NAME) -> ProjectFile:
    """Parse and validate the text of a project file.

    Raises:
        ProjectFileError: naming ``source``, the line and the field at fault.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ProjectFileError(
            f"{source}, line {line}: not valid YAML ({exc.problem})", line=line
        ) from None
    if not isinstance(data, dict):
        raise ProjectFileError(
            f"{source}: expected a mapping with 'schema_version' and 'project'", line=1
        )
    version = data.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ProjectFileError(
            f"{source}: schema_version {version} was written by a newer loopml "
            f"(this one reads {SCHEMA_VERSION}); upgrade: pip install -U loopml",
            line=_line_of(node, ("schema_version",)),
            field="schema_version",
        )
    try:
        return ProjectFile.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        field = ".".join(str(p) for p in loc)
        line = _line_of(node, loc)
        raise ProjectFileError(
            f"{source}, line {line}: {field}: {first['msg']}", line=line, field=field
        ) from None


def load_project_file(path: Path) -> ProjectFile:
    """Read and validate ``path``."""
    return parse_project_file(path.read_text(encoding="utf-8"), source=str(path))


def dump_project_file(project: ProjectFile) -> str:
    """Render a project file as YAML, keys in schema order."""
    data = project.model_dump(mode="json")
    if not data["release_gates"]:
        del data["release_gates"]  # sections appear once they say something
    header = "# loopml project file: requirements and design. Versioned with the code.\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
