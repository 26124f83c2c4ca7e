"""Types every schema module shares: ids, text without NUL, and metric values."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

__all__ = ["Id", "Int64", "MetricValue", "ReadModel", "Text", "WriteModel"]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Id = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="32 lowercase hex characters")]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
# NaN and +/-Inf travel as the strings "NaN", "Infinity" and "-Infinity".
MetricValue = Annotated[
    float,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]},
            ]
        }
    ),
]


class WriteModel(BaseModel):
    """A request body: unknown fields are refused, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")


class ReadModel(BaseModel):
    """A response body; non-finite floats are written as strings."""

    model_config = ConfigDict(ser_json_inf_nan="strings", from_attributes=True)
