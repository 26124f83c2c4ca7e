from __future__ import annotations

import pytest

from loopml.core.errors import ProjectFileError
from loopml.core.project_file import (
    ProjectFile,
    ProjectInfo,
    dump_project_file,
    parse_project_file,
)


def test_a_written_project_file_reads_back_equal() -> None:
    original = ProjectFile(
        project=ProjectInfo(name="churn", description="d", owners=("a@x",), stakeholders=("b",))
    )
    assert parse_project_file(dump_project_file(original)) == original


def test_unknown_key_is_refused_naming_its_line() -> None:
    text = "schema_version: 1\nproject:\n  name: churn\n  owners: [a]\n  colour: red\n"
    with pytest.raises(ProjectFileError) as caught:
        parse_project_file(text)
    assert caught.value.line == 5
    assert "line 5" in str(caught.value)
    assert caught.value.field == "project.colour"


def test_wrong_type_names_line_and_field() -> None:
    with pytest.raises(ProjectFileError) as caught:
        parse_project_file("project:\n  name: churn\n  owners: 12\n")
    assert caught.value.line == 3
    assert caught.value.field == "project.owners"


def test_broken_yaml_names_the_line() -> None:
    with pytest.raises(ProjectFileError, match="line 2: not valid YAML"):
        parse_project_file("project: x\nfoo: bar: baz\n")


def test_missing_project_section_is_named() -> None:
    with pytest.raises(ProjectFileError, match="project"):
        parse_project_file("schema_version: 1\n")


def test_a_file_from_a_newer_loopml_asks_for_an_upgrade() -> None:
    with pytest.raises(ProjectFileError, match="pip install -U loopml"):
        parse_project_file("schema_version: 99\nproject: {name: x}\n")


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(ProjectFileError, match="expected a mapping"):
        parse_project_file("- a\n- b\n")
