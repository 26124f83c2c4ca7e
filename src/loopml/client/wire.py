"""JSON shapes of REST API v1 (see ``docs/rest-api.md``), encoded and decoded for the client.

The server has its own schemas for the same shapes; the two meet only on the wire. Metric
values that JSON cannot hold travel as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``; record times are ISO 8601; metric timestamps integer milliseconds.

>>> decode_float(orjson.loads(dumps([encode_float(float("-inf"))]))[0])
-inf
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import orjson

from loopml.core.entities import (
    ArtifactInfo,
    Experiment,
    Metric,
    MetricSeries,
    Project,
    Run,
    RunStatus,
    frozen_mapping,
)
from loopml.core.errors import StoreError
from loopml.metadata.base import RunCreate, RunUpdate

__all__ = [
    "artifact_from_json",
    "artifact_to_json",
    "artifacts_from_json",
    "decode_float",
    "dumps",
    "encode_float",
    "encode_values",
    "experiment_from_json",
    "parse_time",
    "project_from_json",
    "run_create_to_json",
    "run_from_json",
    "run_update_to_json",
    "series_from_json",
    "series_to_json",
]

JsonObject = dict[str, Any]

_SPECIAL_OUT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_UTC_Z


def dumps(body: object) -> bytes:
    """Request body bytes (orjson; numpy arrays and aware datetimes included)."""
    return orjson.dumps(body, option=_OPTIONS)


def encode_float(value: float) -> float | str:
    """A metric value for JSON: finite floats as they are, NaN and +/-Inf as strings.

    >>> [encode_float(v) for v in (0.5, math.nan, math.inf, -math.inf)]
    [0.5, 'NaN', 'Infinity', '-Infinity']
    """
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_float(value: object) -> float:
    """The float a JSON metric value stands for (exactly; NaN and +/-Inf from their strings)."""
    if type(value) is float:
        return value
    if isinstance(value, str) and value in _SPECIAL_OUT:
        return _SPECIAL_OUT[value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise _bad_response(f"metric value {value!r} is not a number")


def encode_values(values: npt.NDArray[np.float64]) -> list[float | str]:
    """A float64 column for JSON; one vectorised check keeps the all-finite case fast."""
    items: list[float | str] = values.tolist()
    if bool(np.isfinite(values).all()):
        return items
    return [encode_float(v) if isinstance(v, float) else v for v in items]


def _decode_values(items: object, key: str) -> npt.NDArray[np.float64]:
    if not isinstance(items, list):
        raise _bad_response(f"values of metric {key!r} are not a list")
    if set(map(type, items)) <= {float}:
        array = np.array(items, dtype=np.float64)
    else:
        array = np.array([decode_float(v) for v in items], dtype=np.float64)
    return array


def _decode_ints(items: object, key: str) -> npt.NDArray[np.int64]:
    if not isinstance(items, list) or not set(map(type, items)) <= {int}:
        raise _bad_response(f"steps or timestamps of metric {key!r} are not integers")
    return np.array(items, dtype=np.int64)


def series_to_json(
    key: str,
    steps: npt.NDArray[np.int64],
    timestamps: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
) -> JsonObject:
    """One key's checked columns as a ``series`` item of a batch."""
    return {"key": key, "steps": steps, "timestamps": timestamps, "values": encode_values(values)}


def series_from_json(body: Mapping[str, Any]) -> MetricSeries:
    """A metric's points as read-only numpy columns, like the SQL store hands them out."""
    key = str(body["key"])
    columns = (
        _decode_ints(body["steps"], key),
        _decode_ints(body["timestamps"], key),
        _decode_values(body["values"], key),
    )
    if len({len(column) for column in columns}) != 1:
        raise _bad_response(f"columns of metric {key!r} differ in length")
    for column in columns:
        column.flags.writeable = False  # a snapshot, like the SQL store's
    # numpy arrays are sequences in all but name (len, indexing, iteration).
    return MetricSeries(
        key,
        cast(Sequence[int], columns[0]),
        cast(Sequence[int], columns[1]),
        cast(Sequence[float], columns[2]),
    )


def parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise _bad_response(f"time {value!r} is not ISO 8601 text")
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _optional_time(value: object) -> datetime | None:
    return None if value is None else parse_time(value)


def project_from_json(body: Mapping[str, Any]) -> Project:
    return Project(
        id=body["id"],
        name=body["name"],
        description=body.get("description") or "",
        created_at=parse_time(body["created_at"]),
    )


def experiment_from_json(body: Mapping[str, Any]) -> Experiment:
    return Experiment(
        id=body["id"],
        project_id=body["project_id"],
        name=body["name"],
        description=body.get("description") or "",
        created_at=parse_time(body["created_at"]),
        tags=frozen_mapping(body.get("tags")),
        deleted=bool(body.get("deleted", False)),
    )


def _metric(key: str, body: Mapping[str, Any]) -> Metric:
    return Metric(key, decode_float(body["value"]), int(body["step"]), int(body["timestamp"]))


def run_from_json(body: Mapping[str, Any]) -> Run:
    metrics = {key: _metric(key, point) for key, point in (body.get("metrics") or {}).items()}
    return Run(
        id=body["id"],
        experiment_id=body["experiment_id"],
        name=body["name"],
        status=RunStatus(body["status"]),
        start_time=parse_time(body["start_time"]),
        end_time=_optional_time(body.get("end_time")),
        parent_run_id=body.get("parent_run_id"),
        user=body.get("user") or "",
        note=body.get("note") or "",
        error=body.get("error") or "",
        params=frozen_mapping(body.get("params")),
        metrics=frozen_mapping(metrics),
        tags=frozen_mapping(body.get("tags")),
        environment=frozen_mapping(body.get("environment")),
        deleted=bool(body.get("deleted", False)),
    )


def run_create_to_json(run: RunCreate, run_id: str) -> JsonObject:
    return {
        "id": run_id,
        "experiment_id": run.experiment_id,
        "name": run.name,
        "start_time": run.start_time,
        "parent_run_id": run.parent_run_id,
        "user": run.user,
        "tags": dict(run.tags),
        "environment": dict(run.environment),
    }


def run_update_to_json(update: RunUpdate) -> JsonObject:
    """Only the fields to change: an absent field is left as it is."""
    body: JsonObject = {
        "status": update.status.value if update.status is not None else None,
        "end_time": update.end_time,
        "name": update.name,
        "note": update.note,
        "error": update.error,
    }
    return {key: value for key, value in body.items() if value is not None}


def artifact_to_json(info: ArtifactInfo) -> JsonObject:
    return {"path": info.path, "size": info.size, "digest": info.digest}


def artifact_from_json(body: Mapping[str, Any]) -> ArtifactInfo:
    return ArtifactInfo(path=body["path"], size=int(body["size"]), digest=body["digest"])


def artifacts_from_json(items: Sequence[Mapping[str, Any]]) -> list[ArtifactInfo]:
    return [artifact_from_json(item) for item in items]


def _bad_response(what: str) -> StoreError:
    return StoreError(f"the server sent a malformed response: {what}")
