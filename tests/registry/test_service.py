"""The registry service through the SDK on a local store: register, load, evaluate, release."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from loopml.client.client import Client
from loopml.core.config import load_settings
from loopml.core.errors import NotFoundError, ValidationError
from loopml.flavors import SignatureError


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with Client(load_settings(cwd=tmp_path, environ={})) as opened:
        yield opened


def _frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["region"] = rng.choice(["n", "s"], n)
    frame["y"] = (frame.a - frame.b + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return frame


def _logged(client: Client, model: object, frame: pd.DataFrame) -> str:
    with client.start_run(experiment="train") as run:
        uri = run.log_model(model, "model", input_example=frame[["a", "b"]])
        run.log_metric("f1", 0.9)
    return uri


def test_register_load_and_evaluate_against_the_champion(client: Client) -> None:
    frame = _frame()
    first = client.registry.register(
        _logged(client, LogisticRegression().fit(frame[["a", "b"]], frame.y), frame), "churn"
    )
    client.metadata.set_alias(first.model_id, "champion", 1, actor="ada")
    weaker = LogisticRegression().fit(frame[["a"]].assign(b=0.0), frame.y)
    second = client.registry.register(_logged(client, weaker, frame), "churn")
    assert (first.version, second.version) == (1, 2)
    assert dict(second.metrics) == {"f1": 0.9}
    loaded = client.registry.load("churn@champion")
    assert list(loaded.predict(frame.head(3))) == list(
        LogisticRegression().fit(frame[["a", "b"]], frame.y).predict(frame[["a", "b"]].head(3))
    )
    report = client.registry.evaluate("churn/2", frame, target="y", slices=["region"])
    assert report["champion"]["version"] == 1
    assert report["champion"]["delta"]["roc_auc"] < 0  # the challenger is worse
    assert client.registry.resolve("churn/2").evaluation == report


def test_regression_models_are_evaluated_with_regression_metrics(client: Client) -> None:
    frame = _frame().assign(y=lambda f: 2 * f.a + 0.1)
    version = client.registry.register(
        _logged(client, LinearRegression().fit(frame[["a", "b"]], frame.y), frame), "price"
    )
    report = client.registry.evaluate(version.ref, frame, target="y", task="regression")
    assert report["overall"]["rmse"] == pytest.approx(0, abs=1e-9)


def test_an_unsupported_model_is_refused_and_nothing_is_logged(client: Client) -> None:
    with client.start_run(experiment="train") as run:
        with pytest.raises(ValidationError, match="cannot package"):
            run.log_model(object(), "model")
        assert client.list_artifacts(run.id) == []


def test_an_input_example_that_does_not_fit_the_model_logs_nothing(client: Client) -> None:
    frame = _frame()
    model = LogisticRegression().fit(frame[["a", "b"]], frame.y)
    with client.start_run(experiment="train") as run:
        with pytest.raises(ValidationError):
            run.log_model(model, "model", input_example=frame[["a"]])
        assert client.list_artifacts(run.id) == []


def test_predict_enforces_the_signature(client: Client) -> None:
    frame = _frame()
    uri = _logged(client, LogisticRegression().fit(frame[["a", "b"]], frame.y), frame)
    loaded = client.registry.load(uri)
    with pytest.raises(SignatureError, match="'b'"):
        loaded.predict(frame[["a"]])
    with pytest.raises(SignatureError, match="'a'"):
        loaded.predict(frame.assign(a="text"))


def test_unknown_aliases_versions_and_uris_are_named(client: Client) -> None:
    frame = _frame()
    client.registry.register(
        _logged(client, LogisticRegression().fit(frame[["a", "b"]], frame.y), frame), "churn"
    )
    with pytest.raises(NotFoundError, match="no alias 'champion'"):
        client.registry.resolve("churn@champion")
    with pytest.raises(NotFoundError, match="no version 7"):
        client.registry.resolve("churn/7")
    with pytest.raises(ValidationError, match="not a model URI"):
        client.registry.resolve("models:/churn")
    with pytest.raises(NotFoundError):
        client.registry.register("runs:/" + "0" * 32 + "/model", "churn")
    with pytest.raises(ValidationError, match="gates\\[1\\]"):
        client.registry.set_policy("churn", ["metrics.f1 >= 0.8", "metrics.f1 >="])
    assert client.registry.get_model("churn").release_policy == {}
