from __future__ import annotations

import loopml


def test_public_names_are_sorted_and_all_exist() -> None:
    assert list(loopml.__all__) == sorted(loopml.__all__)
    for name in loopml.__all__:
        assert hasattr(loopml, name), name


def test_errors_inherit_the_builtins_they_resemble() -> None:
    assert issubclass(loopml.NotFoundError, KeyError)
    assert issubclass(loopml.ValidationError, ValueError)
    assert issubclass(loopml.FilterSyntaxError, loopml.ValidationError)
    assert issubclass(loopml.FlushError, RuntimeError)
    for error in (loopml.NotFoundError, loopml.ValidationError, loopml.ConflictError):
        assert issubclass(error, loopml.LoopmlError)


def test_not_found_message_is_not_quoted_like_a_key_error() -> None:
    assert str(loopml.NotFoundError("run x not found")) == "run x not found"
