from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from loopml.core.errors import NotFoundError, ValidationError
from loopml.core.profiles import (
    PROFILE_FORMAT_VERSION,
    ColumnKind,
    ColumnProfile,
    DatasetProfile,
    Frequencies,
    Histogram,
    LengthStats,
    Quantiles,
)


def numeric(name: str = "x", **overrides: Any) -> ColumnProfile:
    fields: dict[str, Any] = {
        "n_rows": 10,
        "n_nulls": 1,
        "n_distinct": 7,
        "n_nan": 1,
        "n_inf": 1,
        "min": -1.5,
        "max": 4.0,
        "mean": 1.25,
        "std": 1.75,
        "quantiles": Quantiles((0.0, 0.5, 1.0), (-1.5, 1.0, 4.0)),
        "histogram": Histogram((-1.5, 1.25, 4.0), (4, 3)),
    }
    return ColumnProfile(name, "double", ColumnKind.NUMERIC, **(fields | overrides))


def categorical(name: str = "plan") -> ColumnProfile:
    return ColumnProfile(
        name,
        "string",
        ColumnKind.CATEGORICAL,
        n_rows=10,
        n_nulls=2,
        n_distinct=3,
        n_empty=1,
        top_k=Frequencies(("pro", "basic"), (5, 2), n_other=1),
        lengths=LengthStats(0, 3.5, 5),
    )


def dataset() -> DatasetProfile:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return DatasetProfile(n_rows=10, columns=(numeric(), categorical()), created_at=when)


def test_a_profile_survives_json_and_back() -> None:
    profile = dataset()
    text = json.dumps(profile.to_dict(), allow_nan=False)
    assert DatasetProfile.from_dict(json.loads(text)) == profile


def test_nan_and_infinities_are_written_as_strings_and_read_back() -> None:
    column = numeric(
        mean=math.nan,
        std=math.inf,
        quantiles=Quantiles((0.0, 1.0), (-math.inf, math.nan)),
        histogram=Histogram((-math.inf, 0.0, math.inf), (1, 2)),
    )
    data = column.to_dict()
    assert data["mean"] == "NaN"
    assert data["std"] == "Infinity"
    assert data["quantiles"]["values"] == ["-Infinity", "NaN"]
    json.dumps(data, allow_nan=False)  # strict JSON, no bare NaN
    back = ColumnProfile.from_dict(json.loads(json.dumps(data)))
    assert back.mean is not None
    assert math.isnan(back.mean)
    assert back.std == math.inf
    assert back.histogram == column.histogram
    assert back.quantiles is not None
    assert back.quantiles.values[0] == -math.inf
    assert math.isnan(back.quantiles.values[1])


def test_the_dict_leaves_out_what_a_kind_does_not_have() -> None:
    data = categorical().to_dict()
    assert set(data) == {
        "name",
        "type",
        "kind",
        "n_rows",
        "n_nulls",
        "n_distinct",
        "n_empty",
        "top_k",
        "lengths",
    }
    assert data["top_k"] == {"values": ["pro", "basic"], "counts": [5, 2], "n_other": 1}


def test_an_empty_column_round_trips() -> None:
    column = ColumnProfile("empty", "double", ColumnKind.NUMERIC, n_rows=0, n_nulls=0)
    assert ColumnProfile.from_dict(column.to_dict()) == column


def test_counts_derived_from_the_profile() -> None:
    column = numeric()
    assert column.n_valid == 9
    assert column.n_finite == 7
    assert categorical().top_k is not None
    assert categorical().top_k.n_total == 8  # type: ignore[union-attr]


def test_columns_are_found_by_name() -> None:
    profile = dataset()
    assert profile.n_columns == 2
    assert profile.names == ("x", "plan")
    assert profile.column("plan").kind is ColumnKind.CATEGORICAL
    with pytest.raises(NotFoundError, match="no column 'nope'"):
        profile.column("nope")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("n_rows"), "n_rows"),
        (lambda d: d.update(format_version="1"), "format_version"),
        (lambda d: d.update(columns={}), "columns"),
        (lambda d: d.update(n_columns=3), "n_columns"),
        (lambda d: d.update(created_at="yesterday"), "created_at"),
        (lambda d: d["columns"][1].update(kind="colour"), "columns[1].kind"),
        (lambda d: d["columns"][0].update(n_nulls=-1), "columns[0].n_nulls"),
        (lambda d: d["columns"][0].update(n_nulls=11), "columns[0].n_nulls"),
        (lambda d: d["columns"][0].update(n_rows=9), "columns[0].n_rows"),
        (lambda d: d["columns"][0].update(mean="lots"), "columns[0].mean"),
        (lambda d: d["columns"][0].update(mean=True), "columns[0].mean"),
        (lambda d: d["columns"][0]["quantiles"]["values"].pop(), "columns[0].quantiles.values"),
        (lambda d: d["columns"][0]["quantiles"].update(levels=[0, 2, 1]), "columns[0].quantiles"),
        (lambda d: d["columns"][0]["histogram"]["counts"].append(1), "columns[0].histogram.edges"),
        (lambda d: d["columns"][0]["histogram"].update(counts=[1, -2]), "columns[0].histogram"),
        (lambda d: d["columns"][0].update(histogram=[1, 2]), "columns[0].histogram"),
        (lambda d: d["columns"][1]["top_k"].update(values=["a", 1]), "columns[1].top_k.values"),
        (lambda d: d["columns"][1]["top_k"].update(values=["a", "a"]), "columns[1].top_k.values"),
        (lambda d: d["columns"][1]["top_k"].pop("n_other"), "columns[1].top_k.n_other"),
        (lambda d: d["columns"][1].update(lengths=[0, 1.5]), "columns[1].lengths"),
        (lambda d: d["columns"][1].update(lengths=[0, "long", 3]), "columns[1].lengths[1]"),
    ],
)
def test_malformed_input_names_the_field(change: Any, field: str) -> None:
    data = dataset().to_dict()
    change(data)
    with pytest.raises(ValidationError) as caught:
        DatasetProfile.from_dict(data)
    assert caught.value.field is not None
    assert caught.value.field.startswith(field), caught.value.field
    assert field.split(".")[0] in str(caught.value)


def test_a_profile_from_a_newer_loopml_is_refused_with_the_fix() -> None:
    data = dataset().to_dict() | {"format_version": PROFILE_FORMAT_VERSION + 1}
    with pytest.raises(ValidationError, match="upgrade loopml") as caught:
        DatasetProfile.from_dict(data)
    assert caught.value.field == "format_version"


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(ValidationError, match="must be an object"):
        DatasetProfile.from_dict([])  # type: ignore[arg-type]


def test_duplicate_column_names_are_refused() -> None:
    with pytest.raises(ValidationError, match="unique") as caught:
        DatasetProfile(n_rows=10, columns=(numeric("a"), numeric("a")))
    assert caught.value.field == "columns"


def test_more_nan_and_inf_than_values_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        numeric(n_nan=5, n_inf=5)
    assert caught.value.field == "n_nan"
