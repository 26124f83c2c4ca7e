"""The search route writes its body without pydantic: byte for byte what RunPageRead writes."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from loopml.core.entities import Metric, Run, RunPage, RunStatus, frozen_mapping
from loopml.server.routers.search import page_json
from loopml.server.schemas.runs import RunPageRead, RunRead

T0 = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def _run(**changes: object) -> Run:
    fields: dict[str, object] = {
        "id": "a" * 32,
        "experiment_id": "b" * 32,
        "name": "run",
        "status": RunStatus.FINISHED,
        "start_time": T0,
        "end_time": None,
        "parent_run_id": None,
        "user": "ann",
        "note": "",
        "error": "",
        "params": frozen_mapping({"lr": "0.01", "model": "rf"}),
        "metrics": frozen_mapping({}),
        "tags": frozen_mapping({}),
        "environment": frozen_mapping({}),
        "deleted": False,
    }
    fields.update(changes)
    return Run(**fields)  # type: ignore[arg-type]


def _metrics(*values: float) -> object:
    return frozen_mapping({f"m{i}": Metric(f"m{i}", v, i, 1_714_566_600_000 + i)
                           for i, v in enumerate(values)})  # fmt: skip


RUNS = {
    "plain": _run(),
    "every value kind": _run(
        metrics=_metrics(0.1, 1e300, 1e-7, 5.0, -0.0, 2.5e-320, math.nan, math.inf, -math.inf)
    ),
    "times and parent": _run(
        start_time=datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=UTC),
        end_time=datetime(2030, 1, 1, tzinfo=UTC),
        parent_run_id="c" * 32,
        status=RunStatus.RUNNING,
    ),
    "text to escape": _run(
        name='quote " backslash \\ tab \t newline \n bell \x07 é 中 \u2028 emoji 🎉',
        note="</script>",
        tags=frozen_mapping({"k": "v\u0001", "é": "ü"}),
    ),
    "nested environment": _run(
        environment=frozen_mapping(
            {
                "python": "3.11",
                "n": 3,
                "x": [1.5, {"deep": [math.nan, None, True]}],
                "inf": math.inf,
            }
        ),
        deleted=True,
    ),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_a_page_is_written_as_the_response_model_writes_it(name: str) -> None:
    page = RunPage(runs=(RUNS[name],), next_page_token="eyJvZmZzZXQiOiAxfQ==")
    expected = RunPageRead(
        runs=[RunRead.model_validate(run) for run in page.runs],
        next_page_token=page.next_page_token,
    ).model_dump_json()
    assert page_json(page).decode() == expected


def test_an_empty_last_page() -> None:
    assert page_json(RunPage(runs=())) == b'{"runs":[],"next_page_token":null}'
