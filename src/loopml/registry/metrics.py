"""The standard metrics of a classifier or a regressor, as a flat ``{metric: value}`` dict.

The scores themselves come from :mod:`sklearn.metrics`; this module decides which apply
(labels alone give no ROC AUC), turns probabilities into labels, and leaves out what is
undefined on the data at hand instead of warning or returning NaN: a slice with one class
has no ROC AUC, no positive row means no recall, constant targets have no R². So every
value returned is a finite float, and a dict can be stored as strict JSON as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn import metrics as skm

from loopml.core.errors import ValidationError

__all__ = [
    "class_labels",
    "classification_metrics",
    "expected_calibration_error",
    "regression_metrics",
]

N_BINS = 10
_SUM_TOLERANCE = 1e-6


def expected_calibration_error(
    confidence: npt.ArrayLike, outcome: npt.ArrayLike, *, n_bins: int = N_BINS
) -> float:
    """How far predicted probabilities are from observed frequencies, on average.

    The probabilities are put into ``n_bins`` equal-width bins over [0, 1] (the last bin
    holds 1.0); each bin contributes ``|observed rate - mean probability|`` weighted by
    its share of the rows. 0 is perfect calibration, 1 the worst possible.

    Args:
        confidence: Predicted probability of each row's event, in [0, 1].
        outcome: Whether the event happened (1/0 or True/False).
        n_bins: Number of bins.

    >>> expected_calibration_error([0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0])
    0.0
    >>> round(expected_calibration_error([0.9, 0.9, 0.1, 0.1], [0, 0, 1, 1]), 3)
    0.9
    """
    p = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(outcome, dtype=np.float64)
    if p.size == 0:
        raise ValidationError("calibration error of no rows is undefined", field="y_score")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, n_bins - 1)
    gap = np.bincount(bins, weights=hit - p, minlength=n_bins)
    return float(np.abs(gap).sum() / p.size)


def class_labels(
    y_true: npt.ArrayLike, y_score: npt.ArrayLike, labels: npt.ArrayLike | None = None
) -> npt.NDArray[Any]:
    """The labels :func:`classification_metrics` uses: ``labels``, or the sorted ones found.

    Predicted labels (1-D, not floats) add theirs to those of ``y_true``; a 0/1 target
    seen with one class only still has the labels 0 and 1.

    >>> class_labels([1, 1], [0.3, 0.8]).tolist()
    [0, 1]
    >>> class_labels(["b", "a"], ["c", "a"]).tolist()
    ['a', 'b', 'c']
    """
    if labels is not None:
        return np.asarray(labels)
    truth, score = np.asarray(y_true), np.asarray(y_score)
    if score.ndim == 1 and score.dtype.kind != "f":
        truth = np.concatenate([truth, score])
    found = np.unique(truth)
    if found.size == 1 and found[0] in (0, 1):  # a 0/1 target seen with one class only
        return np.asarray([False, True] if found.dtype == np.bool_ else [0, 1])
    return found


def _binary_labels(classes: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if classes.size != 2:
        raise ValidationError(
            f"y_score: probabilities of one class need a binary target, but the labels are "
            f"{classes.tolist()}; pass labels=[negative, positive], or one probability "
            "column per class",
            field="y_score",
        )
    return classes


def _label_metrics(
    y_true: npt.NDArray[Any], y_pred: npt.NDArray[Any], classes: npt.NDArray[Any]
) -> dict[str, float]:
    if classes.size <= 2:
        kind: dict[str, Any] = {"average": "binary", "pos_label": classes[-1]}
    else:
        kind = {"average": "macro"}
    # zero_division=nan marks undefined precision / recall (no predicted or no true positive
    # in a slice); they are dropped below rather than reported as a misleading 0.
    common = {"labels": classes, "zero_division": np.nan, **kind}
    return {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, **common),
        "recall": skm.recall_score(y_true, y_pred, **common),
        "f1": skm.f1_score(y_true, y_pred, **common),
    }


def _probabilities(y_score: npt.NDArray[Any], n_classes: int) -> npt.NDArray[np.float64]:
    p = y_score.astype(np.float64)
    if not np.isfinite(p).all() or p.min(initial=0.0) < 0.0 or p.max(initial=0.0) > 1.0:
        raise ValidationError("y_score: probabilities must lie within [0, 1]", field="y_score")
    if p.ndim == 2:
        if p.shape[1] != n_classes:
            raise ValidationError(
                f"y_score: {p.shape[1]} probability columns for {n_classes} labels; give one "
                "column per label, in the order of labels",
                field="y_score",
            )
        sums = p.sum(axis=1)
        if not np.allclose(sums, 1.0, rtol=0.0, atol=_SUM_TOLERANCE):
            raise ValidationError(
                "y_score: each row's class probabilities must sum to 1", field="y_score"
            )
        p = p / sums[:, None]  # exactly normalised, so sklearn's stricter check passes
    return p


def classification_metrics(
    y_true: npt.ArrayLike,
    y_score: npt.ArrayLike,
    *,
    threshold: float = 0.5,
    labels: npt.ArrayLike | None = None,
) -> dict[str, float]:
    """Accuracy, precision, recall, F1, ROC AUC, log loss and calibration error of a classifier.

    ``y_score`` decides what is computed:

    * 1-D floats: the probability of the positive class (binary). Labels are predicted
      with ``score >= threshold``. Every metric applies.
    * 2-D floats: one probability column per label, in the order of ``labels`` (multiclass).
      The predicted label is the most probable one; precision, recall and F1 are
      macro-averaged, ROC AUC is one-vs-rest, the calibration error is top-label.
    * 1-D labels (integers, booleans or text): predicted labels. Only accuracy,
      precision, recall and F1 apply; the score metrics are left out.

    A metric undefined on the data is left out: ROC AUC when a label has no row (a slice
    with one class), precision with no predicted positive, recall with no true positive.

    Args:
        y_true: The true labels.
        y_score: Probabilities or predicted labels, as above.
        threshold: Probability from which a binary prediction is positive.
        labels: All labels, negative first for binary. Defaults to the sorted labels of
            ``y_true`` (and of the predictions, when they are labels); pass them when a
            subset may lack a label.

    Returns:
        ``accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc``, ``log_loss``,
        ``calibration_error`` (expected calibration error over 10 equal-width bins) and
        ``n`` (rows), as far as they apply.

    Raises:
        ValidationError: Lengths differ, a value is missing, or the scores are not
            probabilities; ``field`` names the argument.

    >>> scores = classification_metrics([0, 0, 1, 1], [0.1, 0.6, 0.7, 0.9])
    >>> {k: scores[k] for k in ("accuracy", "precision", "recall", "roc_auc", "n")}
    {'accuracy': 0.75, 'precision': 0.6666666666666666, 'recall': 1.0, 'roc_auc': 1.0, 'n': 4}
    >>> sorted(classification_metrics(["a", "b", "b"], ["a", "b", "a"]))
    ['accuracy', 'f1', 'n', 'precision', 'recall']
    """
    truth = np.asarray(y_true)
    score = np.asarray(y_score)
    _check_pair(truth, score, "y_score")
    classes = class_labels(truth, score, labels)
    unknown = np.setdiff1d(truth, classes)
    if unknown.size:
        raise ValidationError(
            f"labels: y_true holds {unknown[:5].tolist()}, not among the labels {classes.tolist()}",
            field="labels",
        )
    if score.ndim == 1 and score.dtype.kind != "f":
        result = _label_metrics(truth, score, classes)
    elif score.ndim == 1:
        classes = _binary_labels(classes)
        p = _probabilities(score, 2)
        predicted = np.where(p >= threshold, classes[1], classes[0])
        result = _label_metrics(truth, predicted, classes)
        positive = truth == classes[1]
        if np.unique(positive).size == 2:
            result["roc_auc"] = skm.roc_auc_score(positive, p)
        result["log_loss"] = skm.log_loss(positive, p, labels=[False, True])
        result["calibration_error"] = expected_calibration_error(p, positive)
    else:
        p = _probabilities(score, classes.size)
        predicted = classes[p.argmax(axis=1)]
        result = _label_metrics(truth, predicted, classes)
        # sklearn wants the labels sorted, and the probability columns in that order
        order = np.argsort(classes, kind="stable")
        ordered, p_ordered = classes[order], p[:, order]
        if np.isin(classes, truth).all():
            result["roc_auc"] = skm.roc_auc_score(
                truth, p_ordered, multi_class="ovr", labels=ordered
            )
        result["log_loss"] = skm.log_loss(truth, p_ordered, labels=ordered)
        result["calibration_error"] = expected_calibration_error(p.max(axis=1), predicted == truth)
    return _finite(result, truth.size)


def regression_metrics(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> dict[str, float]:
    """MAE, RMSE, R² and MAPE of a regressor.

    MAPE (mean absolute percentage error, as a fraction: 0.1 is 10%) skips the rows whose
    target is 0, where a percentage error is undefined, and is left out when every target
    is 0. R² is left out when the targets are constant or there are fewer than two.

    Args:
        y_true: The true values.
        y_pred: The predicted values.

    Returns:
        ``mae``, ``rmse``, ``r2``, ``mape`` and ``n`` (rows), as far as they apply.

    Raises:
        ValidationError: Lengths differ, or a value is missing or not a number.

    >>> regression_metrics([1.0, 2.0, 0.0, 4.0], [1.5, 2.0, 0.5, 3.0])
    {'mae': 0.5, 'rmse': 0.6123724356957945, 'r2': 0.8285714285714285, 'mape': 0.25, 'n': 4}
    """
    truth = _numbers(y_true, "y_true")
    pred = _numbers(y_pred, "y_pred")
    _check_pair(truth, pred, "y_pred")
    result = {
        "mae": skm.mean_absolute_error(truth, pred),
        "rmse": skm.root_mean_squared_error(truth, pred),
    }
    if truth.size >= 2 and np.ptp(truth) > 0:
        result["r2"] = skm.r2_score(truth, pred)
    nonzero = truth != 0
    if nonzero.any():
        result["mape"] = skm.mean_absolute_percentage_error(truth[nonzero], pred[nonzero])
    return _finite(result, truth.size)


def _numbers(values: npt.ArrayLike, field: str) -> npt.NDArray[np.float64]:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"{field}: expected numbers", field=field) from None


def _check_pair(truth: npt.NDArray[Any], other: npt.NDArray[Any], field: str) -> None:
    if truth.ndim != 1:
        raise ValidationError("y_true: expected one value per row", field="y_true")
    if truth.size == 0:
        raise ValidationError("y_true: no rows to evaluate", field="y_true")
    if other.shape[0] != truth.shape[0] or other.ndim > 2:
        raise ValidationError(
            f"{field}: {other.shape[0]} rows for {truth.shape[0]} targets; give one per row",
            field=field,
        )
    for name, values in (("y_true", truth), (field, other)):
        if _missing(values).any():
            raise ValidationError(f"{name}: has missing values (NaN or None)", field=name)


def _missing(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    return np.asarray(pd.isna(values), dtype=bool)


def _finite(result: dict[str, Any], n: int) -> dict[str, float]:
    clean = {k: float(v) for k, v in result.items() if np.isfinite(v)}
    clean["n"] = n
    return clean
