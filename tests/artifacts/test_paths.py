from __future__ import annotations

import pytest

from loopml.artifacts.paths import MAX_PATH_LENGTH, check_prefix, check_relpath, join_relpath
from loopml.core.errors import UnsafePathError, ValidationError
from loopml.testing.artifact_contract import UNSAFE_PATHS


@pytest.mark.parametrize(
    "path",
    ["a", "model/weights.bin", "runs/1/my model v2.onnx", "a-b_c+d=e@f,g.h", "...", "a/.hidden"],
)
def test_safe_relative_paths_are_accepted(path: str) -> None:
    assert check_relpath(path) == path


@pytest.mark.parametrize(
    "path",
    [
        *UNSAFE_PATHS,
        ".",
        "a/./b",
        "a/",
        " a",
        "a ",
        "a  b",
        "a\nb",
        "a\tb",
        "~/x",
        "a:b",
        "é",
        "a" * (MAX_PATH_LENGTH + 1),
    ],
)
def test_anything_off_the_allow_list_is_refused(path: str) -> None:
    with pytest.raises(UnsafePathError):
        check_relpath(path)


def test_non_string_path_is_refused() -> None:
    with pytest.raises(UnsafePathError, match="must be a string"):
        check_relpath(b"a")


def test_unsafe_path_error_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        check_relpath("../x", field="dest")
    assert caught.value.field == "dest"
    assert isinstance(caught.value, ValueError)


def test_empty_prefix_means_the_whole_store() -> None:
    assert check_prefix("") == ""
    with pytest.raises(UnsafePathError):
        check_prefix("/")


def test_join_checks_every_part_instead_of_stripping_slashes() -> None:
    assert join_relpath("", "a", "b/c") == "a/b/c"
    with pytest.raises(UnsafePathError):
        join_relpath("/etc", "passwd")
    with pytest.raises(UnsafePathError):
        join_relpath("a", "../b")
