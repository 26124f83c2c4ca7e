from __future__ import annotations

import math

import numpy as np
import pytest

from loopml.core.errors import ValidationError
from loopml.core.validation import (
    check_key,
    check_metric_value,
    check_name,
    check_param_value,
    check_step,
    check_tag_value,
)


@pytest.mark.parametrize("key", ["loss", "val/loss", "acc_top-5", "a.b:c", "val loss"])
def test_ordinary_keys_pass(key: str) -> None:
    assert check_key(key, kind="metric") == key


@pytest.mark.parametrize("key", ["", " loss", "loss ", "a\nb", "naïve", "a;b", "x" * 251, "a  b"])
def test_illegal_keys_name_the_kind(key: str) -> None:
    with pytest.raises(ValidationError, match="metric name") as caught:
        check_key(key, kind="metric")
    assert caught.value.field == "metric.name"


def test_non_string_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        check_key(3, kind="param")


@pytest.mark.parametrize("value", [1, 1.5, np.float32(0.25), np.int64(3), math.inf, -math.inf])
def test_numbers_are_metric_values(value: object) -> None:
    assert check_metric_value("m", value) == float(value)  # type: ignore[arg-type]


def test_nan_is_a_metric_value() -> None:
    assert math.isnan(check_metric_value("m", math.nan))


@pytest.mark.parametrize("value", ["0.5", True, None, [1.0]])
def test_non_numbers_are_refused_as_metric_values(value: object) -> None:
    with pytest.raises(ValidationError, match="must be a number") as caught:
        check_metric_value("loss", value)
    assert caught.value.field == "metrics.loss"


@pytest.mark.parametrize("step", [-1, 1.5, "3", True])
def test_bad_steps_are_refused(step: object) -> None:
    with pytest.raises(ValidationError, match="step"):
        check_step("loss", step)


def test_param_values_become_text() -> None:
    assert check_param_value("n", 3) == "3"
    assert check_param_value("lr", 0.1) == "0.1"
    assert check_param_value("flag", True) == "True"
    assert check_param_value("none", None) == "None"
    assert check_param_value("np", np.float64(0.5)) == "0.5"


def test_param_of_unsupported_type_says_how_to_convert() -> None:
    with pytest.raises(ValidationError, match=r"json.dumps") as caught:
        check_param_value("layers", [1, 2])
    assert caught.value.field == "params.layers"


def test_overlong_values_are_refused() -> None:
    with pytest.raises(ValidationError, match="at most"):
        check_param_value("p", "x" * 7000)
    with pytest.raises(ValidationError, match="at most"):
        check_tag_value("t", "x" * 9000)


def test_names_are_stripped_and_must_be_printable() -> None:
    assert check_name("  rf-200 ", field="run name") == "rf-200"
    with pytest.raises(ValidationError, match="printable"):
        check_name("a\x00b", field="run name")
    with pytest.raises(ValidationError):
        check_name("   ", field="run name")
