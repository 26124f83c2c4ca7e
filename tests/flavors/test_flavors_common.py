"""Checks every registered flavor passes, and the package's public names."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import loopml.flavors
from loopml.flavors import Flavor, FormatMismatchError, registered_flavors

FLAVORS = registered_flavors()


def test_public_names_all_exist() -> None:
    for name in loopml.flavors.__all__:
        assert hasattr(loopml.flavors, name), name


def test_names_and_file_names_are_unique() -> None:
    names = [flavor.name for flavor in FLAVORS]
    files = [name for flavor in FLAVORS for name in flavor.file_names]

    assert len(set(names)) == len(names)
    assert len(set(files)) == len(files)


@pytest.mark.parametrize("flavor", FLAVORS, ids=lambda flavor: flavor.name)
def test_supports_nothing_it_does_not_know(flavor: Flavor) -> None:
    assert not flavor.supports(object())
    assert not flavor.supports({"predict": None})


@pytest.mark.parametrize("flavor", FLAVORS, ids=lambda flavor: flavor.name)
def test_untrusted_flavors_say_why(flavor: Flavor) -> None:
    assert flavor.trusted or flavor.untrusted_reason


@pytest.mark.parametrize(
    "flavor", [f for f in FLAVORS if f.trusted], ids=lambda flavor: flavor.name
)
@pytest.mark.parametrize("data", [pickle.dumps({"a": 1}), b"", b"\x00" * 100, b"PK\x03\x04junk"])
def test_safe_formats_refuse_what_they_are_not(flavor: Flavor, data: bytes, tmp_path: Path) -> None:
    path = tmp_path / flavor.file_names[0]
    path.write_bytes(data)

    with pytest.raises(FormatMismatchError):
        flavor.verify_format(path)
