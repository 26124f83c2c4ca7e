"""The JSON shapes of the client: exact floats, strict decoding of what the server sends."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from loopml.client import wire
from loopml.core.errors import StoreError

SPECIAL = [math.nan, math.inf, -math.inf, -0.0, 5e-324, -1e308, 0.1 + 0.2]


def test_floats_survive_encoding_and_decoding_bit_for_bit() -> None:
    encoded = orjson.loads(wire.dumps(wire.encode_values(np.array(SPECIAL))))
    decoded = [wire.decode_float(v) for v in encoded]
    assert np.array(decoded).tobytes() == np.array(SPECIAL).tobytes()


def test_finite_columns_take_the_fast_path_unchanged() -> None:
    values = np.arange(5, dtype=np.float64) / 3
    assert wire.encode_values(values) == values.tolist()


@pytest.mark.parametrize("bad", ["nan", "inf", None, True, "1.5", [1.0]])
def test_a_metric_value_the_server_should_never_send_is_refused(bad: object) -> None:
    with pytest.raises(StoreError, match="metric value"):
        wire.decode_float(bad)


def test_series_decode_to_read_only_columns() -> None:
    body = {"key": "m", "steps": [0, 1], "timestamps": [5, 6], "values": [1.0, "NaN"]}
    series = wire.series_from_json(body)
    values = np.asarray(series.values)
    assert math.isnan(values[1])
    assert not values.flags.writeable
    with pytest.raises(StoreError, match="differ in length"):
        wire.series_from_json({**body, "steps": [0]})


def test_record_times_are_aware_utc() -> None:
    project = wire.project_from_json(
        {"id": "a" * 32, "name": "p", "description": "", "created_at": "2024-05-01T14:00:00+02:00"}
    )
    assert project.created_at.utcoffset() is not None
    assert project.created_at.isoformat() == "2024-05-01T12:00:00+00:00"
