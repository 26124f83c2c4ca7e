"""Evaluation: sklearn's scores overall and per slice, calibration, champion comparison."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from loopml.core.errors import ValidationError
from loopml.registry.evaluation import (
    MISSING_SLICE,
    EvaluationReport,
    compare_with_champion,
    evaluate_predictions,
)
from loopml.registry.metrics import (
    classification_metrics,
    expected_calibration_error,
    regression_metrics,
)

RNG = np.random.default_rng(7)


def _binary(n: int = 2000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=n)
    return pd.DataFrame(
        {
            "churned": (rng.uniform(size=n) < p).astype(int),
            "p": p,
            "region": rng.choice(["north", "south", "east"], n),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )


def _multiclass(n: int = 1500, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet([1.0, 1.0, 1.0], size=n)
    # each row's label drawn from its own probabilities: the predictor is calibrated
    truth = (rng.uniform(size=(n, 1)) > probabilities.cumsum(axis=1)).sum(axis=1)
    return truth, probabilities


def test_binary_scores_equal_sklearn() -> None:
    data = _binary()
    y, p = data["churned"].to_numpy(), data["p"].to_numpy()
    predicted = (p >= 0.5).astype(int)
    scores = classification_metrics(y, p)
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
    assert scores["precision"] == pytest.approx(skm.precision_score(y, predicted))
    assert scores["recall"] == pytest.approx(skm.recall_score(y, predicted))
    assert scores["f1"] == pytest.approx(skm.f1_score(y, predicted))
    assert scores["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert scores["log_loss"] == pytest.approx(skm.log_loss(y, p))
    assert scores["n"] == len(y)


def test_the_threshold_decides_the_predicted_labels() -> None:
    data = _binary()
    y, p = data["churned"].to_numpy(), data["p"].to_numpy()
    scores = classification_metrics(y, p, threshold=0.8)
    assert scores["recall"] == pytest.approx(skm.recall_score(y, (p >= 0.8).astype(int)))


def test_text_labels_take_the_last_sorted_label_as_positive_unless_told() -> None:
    y = np.array(["stay", "churn", "churn", "stay", "churn"])
    p = np.array([0.2, 0.3, 0.9, 0.6, 0.7])  # probability of "stay", the last sorted label
    scores = classification_metrics(y, p)
    assert scores["recall"] == pytest.approx(0.5)
    flipped = classification_metrics(y, 1 - p, labels=["stay", "churn"])
    assert flipped["recall"] == pytest.approx(1 / 3)  # of the churners, only row 1 is caught


def test_multiclass_scores_are_macro_averages_and_one_vs_rest_auc_as_in_sklearn() -> None:
    y, probabilities = _multiclass()
    predicted = probabilities.argmax(axis=1)
    scores = classification_metrics(y, probabilities)
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
    assert scores["precision"] == pytest.approx(skm.precision_score(y, predicted, average="macro"))
    assert scores["recall"] == pytest.approx(skm.recall_score(y, predicted, average="macro"))
    assert scores["f1"] == pytest.approx(skm.f1_score(y, predicted, average="macro"))
    assert scores["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, probabilities, multi_class="ovr")
    )
    assert scores["log_loss"] == pytest.approx(skm.log_loss(y, probabilities))


def test_predicted_labels_alone_give_the_label_metrics_only() -> None:
    y = np.array([0, 1, 1, 0, 1])
    scores = classification_metrics(y, np.array([0, 1, 0, 0, 1]))
    assert set(scores) == {"accuracy", "precision", "recall", "f1", "n"}
    assert scores["recall"] == pytest.approx(2 / 3)


def test_calibration_error_is_near_zero_for_a_calibrated_predictor_and_large_otherwise() -> None:
    p = RNG.uniform(size=200_000)
    happened = RNG.uniform(size=p.size) < p
    assert expected_calibration_error(p, happened) < 0.01
    overconfident = np.where(p > 0.5, 0.99, 0.01)
    assert expected_calibration_error(overconfident, happened) > 0.2


def test_calibration_error_is_the_weighted_gap_of_sklearns_calibration_curve() -> None:
    data = _binary(5000)
    y, p = data["churned"].to_numpy(), data["p"].to_numpy() ** 2  # miscalibrated
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts, _ = np.histogram(p, bins=10, range=(0.0, 1.0))
    weights = counts[counts > 0] / p.size
    expected = float(np.sum(weights * np.abs(observed - predicted)))
    assert classification_metrics(y, p)["calibration_error"] == pytest.approx(expected)


def test_multiclass_labels_in_any_order_name_the_probability_columns() -> None:
    y, probabilities = _multiclass()
    names = np.array(["low", "mid", "high"])[y]
    scores = classification_metrics(names, probabilities, labels=["low", "mid", "high"])
    assert scores == classification_metrics(y, probabilities)


def test_a_target_outside_the_labels_is_refused() -> None:
    with pytest.raises(ValidationError, match="not among the labels") as caught:
        classification_metrics([0, 1, 2], [0.1, 0.5, 0.9], labels=[0, 1])
    assert caught.value.field == "labels"


def test_multiclass_calibration_error_is_top_label() -> None:
    y, probabilities = _multiclass()
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y
    assert classification_metrics(y, probabilities)["calibration_error"] == pytest.approx(
        expected_calibration_error(confidence, correct)
    )


def test_a_single_class_leaves_out_roc_auc_and_undefined_recall_without_warning() -> None:
    scores = classification_metrics([0, 0, 0], [0.1, 0.7, 0.2])
    assert "roc_auc" not in scores
    assert "recall" not in scores  # no positive row: recall is undefined, not 0
    assert scores["precision"] == 0.0  # one false positive
    assert scores["accuracy"] == pytest.approx(2 / 3)
    y, probabilities = _multiclass()
    without_two = classification_metrics(y[y != 2], probabilities[y != 2], labels=[0, 1, 2])
    assert "roc_auc" not in without_two


def test_regression_scores_equal_sklearn_and_mape_skips_zero_targets() -> None:
    y = RNG.normal(10, 3, size=500)
    y[:25] = 0.0
    predicted = y + RNG.normal(0, 1, size=y.size)
    scores = regression_metrics(y, predicted)
    assert scores["mae"] == pytest.approx(skm.mean_absolute_error(y, predicted))
    assert scores["rmse"] == pytest.approx(skm.root_mean_squared_error(y, predicted))
    assert scores["r2"] == pytest.approx(skm.r2_score(y, predicted))
    assert scores["mape"] == pytest.approx(
        skm.mean_absolute_percentage_error(y[25:], predicted[25:])
    )


def test_constant_or_zero_targets_leave_out_r2_and_mape() -> None:
    assert set(regression_metrics([0.0, 0.0], [0.5, -0.5])) == {"mae", "rmse", "n"}


def test_each_slice_is_scored_as_its_own_subset() -> None:
    data = _binary()
    report = evaluate_predictions(
        data, target="churned", task="classification", score_column="p", slices=["region", "plan"]
    )
    assert report.overall == classification_metrics(data["churned"], data["p"])
    assert set(report.slices) == {"region", "plan"}
    assert set(report.slices["region"]) == {"east", "north", "south"}
    for column in ("region", "plan"):
        for value, scores in report.slices[column].items():
            subset = data[data[column] == value]
            assert scores == classification_metrics(subset["churned"], subset["p"])


def test_missing_slice_values_form_their_own_slice() -> None:
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "yhat": [1.0, 2.5, 3.0, 5.0]})
    data["segment"] = ["a", None, "a", None]
    report = evaluate_predictions(
        data, target="y", task="regression", score_column="yhat", slices=["segment"]
    )
    assert report.slices["segment"][MISSING_SLICE]["mae"] == pytest.approx(0.75)
    assert report.slices["segment"]["a"]["mae"] == 0.0


def test_a_slice_with_one_class_is_scored_without_roc_auc() -> None:
    data = pd.DataFrame(
        {"y": [0, 1, 0, 1, 0, 0], "p": [0.1, 0.8, 0.4, 0.7, 0.2, 0.6], "r": list("aaaabb")}
    )
    report = evaluate_predictions(
        data, target="y", task="classification", score_column="p", slices=["r"]
    )
    assert "roc_auc" in report.slices["r"]["a"]
    assert "roc_auc" not in report.slices["r"]["b"]
    assert "log_loss" in report.slices["r"]["b"]


def test_multiclass_probabilities_come_from_one_column_per_label() -> None:
    y, probabilities = _multiclass(300)
    data = pd.DataFrame(probabilities, columns=["p0", "p1", "p2"]).assign(y=y)
    by_columns = evaluate_predictions(
        data, target="y", task="classification", score_column=["p0", "p1", "p2"]
    )
    by_array = evaluate_predictions(data, target="y", task="classification", scores=probabilities)
    assert by_columns.overall == by_array.overall == classification_metrics(y, probabilities)


@pytest.mark.parametrize("convert", [pl.from_pandas, pa.Table.from_pandas])
def test_polars_and_arrow_tables_give_the_same_report(convert: object) -> None:
    data = _binary(300)
    expected = evaluate_predictions(
        data, target="churned", task="classification", score_column="p", slices=["region"]
    )
    converted = convert(data)  # type: ignore[operator]
    assert (
        evaluate_predictions(
            converted, target="churned", task="classification", score_column="p", slices=["region"]
        )
        == expected
    )


def test_the_report_dict_has_the_stored_shape_and_is_strict_json() -> None:
    data = _binary(500)
    report = evaluate_predictions(
        data,
        target="churned",
        task="classification",
        score_column="p",
        slices=["region"],
        dataset="churn@2",
    )
    stored = report.to_dict()
    assert set(stored) == {"task", "n_rows", "overall", "slices", "champion", "dataset"}
    assert (stored["task"], stored["n_rows"], stored["dataset"]) == (
        "classification",
        500,
        "churn@2",
    )
    assert stored["champion"] is None
    assert stored["slices"]["region"]["north"]["f1"] == report.slices["region"]["north"]["f1"]
    json.dumps(stored, allow_nan=False)
    assert EvaluationReport.from_dict(json.loads(json.dumps(stored))) == report


def test_a_report_keeps_no_nan_or_infinity() -> None:
    report = EvaluationReport("regression", 3, {"mae": 1.0, "r2": float("nan"), "n": 3})
    assert report.to_dict()["overall"] == {"mae": 1.0, "n": 3}


def test_the_champion_comparison_holds_its_scores_and_the_deltas() -> None:
    data = _binary(800)
    new = evaluate_predictions(
        data, target="churned", task="classification", score_column="p", dataset="churn@2"
    )
    old = evaluate_predictions(
        data.assign(p=data["p"] ** 2),
        target="churned",
        task="classification",
        score_column="p",
        dataset="churn@2",
    )
    compared = compare_with_champion(new, old.to_dict(), version=2)
    champion = compared.to_dict()["champion"]
    assert champion["version"] == 2
    assert champion["overall"] == old.overall
    assert champion["delta"]["f1"] == pytest.approx(new.overall["f1"] - old.overall["f1"])
    assert "n" not in champion["delta"]
    assert new.champion is None  # reports are frozen; a new one is returned


def test_a_champion_evaluated_on_other_data_or_another_task_is_refused() -> None:
    new = EvaluationReport("regression", 1, {"mae": 1.0}, dataset="sales@3")
    with pytest.raises(ValidationError, match="same data"):
        compare_with_champion(
            new, EvaluationReport("regression", 1, {}, dataset="sales@2"), version=1
        )
    with pytest.raises(ValidationError, match="classification"):
        compare_with_champion(new, EvaluationReport("classification", 1, {}), version=1)


def _error(**arguments: object) -> ValidationError:
    data = pd.DataFrame({"y": [0, 1, 1], "p": [0.2, 0.7, 0.9], "region": ["a", "b", "a"]})
    options: dict[str, object] = {"target": "y", "task": "classification", "score_column": "p"}
    options.update(arguments)
    with pytest.raises(ValidationError) as caught:
        evaluate_predictions(options.pop("frame", data), **options)  # type: ignore[arg-type]
    return caught.value


def test_an_unknown_task_is_refused_naming_task() -> None:
    error = _error(task="ranking")
    assert error.field == "task"
    assert "'classification' or 'regression'" in str(error)


def test_a_missing_slice_column_is_refused_listing_the_columns() -> None:
    error = _error(slices=["country"])
    assert error.field == "slices"
    assert "'country'" in str(error)
    assert "y, p, region" in str(error)


def test_missing_target_or_score_columns_are_named() -> None:
    assert _error(target="label").field == "target"
    assert _error(score_column="proba").field == "score_column"


def test_predictions_of_another_length_are_refused() -> None:
    error = _error(score_column=None, scores=[0.1, 0.2])
    assert error.field == "scores"
    assert "2 predictions for 3 rows" in str(error)
    with pytest.raises(ValidationError, match="rows for 3 targets"):
        classification_metrics([0, 1, 1], [0.5, 0.5])


def test_a_target_with_missing_values_is_refused() -> None:
    frame = pd.DataFrame({"y": [0.0, np.nan, 1.0], "p": [0.2, 0.7, 0.9]})
    error = _error(frame=frame)
    assert error.field == "target"
    assert "missing values" in str(error)
    with pytest.raises(ValidationError, match="missing"):
        regression_metrics([1.0, np.nan], [1.0, 2.0])


def test_predictions_must_be_given_exactly_once() -> None:
    assert _error(scores=[0.1, 0.2, 0.3]).field == "score_column"
    assert _error(score_column=None).field == "score_column"


@pytest.mark.parametrize(
    ("y", "scores", "message"),
    [
        ([0, 1], [0.5, 1.5], "within \\[0, 1\\]"),
        ([0, 1], [0.5, np.nan], "missing"),
        ([0, 1, 2], [0.5, 0.5, 0.5], "binary target"),
        ([0, 1], [[0.5, 0.6], [0.2, 0.8]], "sum to 1"),
        ([0, 1, 2], [[0.5, 0.5], [0.2, 0.8], [0.1, 0.9]], "2 probability columns for 3 labels"),
    ],
)
def test_scores_that_are_not_probabilities_are_refused(
    y: list[int], scores: list[Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        classification_metrics(y, scores)
    assert caught.value.field == "y_score"


def test_a_slice_column_with_too_many_values_is_refused() -> None:
    frame = pd.DataFrame({"y": [0, 1] * 10, "p": [0.5] * 20, "id": range(20)})
    error = _error(frame=frame, slices=["id"], max_slice_values=10)
    assert error.field == "slices"
    assert "20 distinct values" in str(error)
