"""ONNX: protobuf files run by onnxruntime, one tensor or one input per column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

from loopml.core.errors import ValidationError
from loopml.flavors import load_model, save_model


def _run(model: onnx.ModelProto, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, feed)


def test_a_converted_classifier_predicts_what_onnxruntime_predicts(
    tmp_path: Path, frame: pd.DataFrame, target: pd.Series
) -> None:
    values = frame.to_numpy(np.float32)
    model = to_onnx(LogisticRegression().fit(values, target), values[:1], options={"zipmap": False})
    labels, probabilities = _run(model, {"X": values})

    loaded = load_model(save_model(model, tmp_path / "m", input_example=frame).folder)

    np.testing.assert_array_equal(loaded.predict(frame), labels)
    np.testing.assert_array_equal(loaded.predict_proba(frame), probabilities)


def test_a_graph_with_one_input_per_column_gets_each_column(tmp_path: Path) -> None:
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, 1])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [None, 1])
    total = helper.make_tensor_value_info("total", TensorProto.FLOAT, [None, 1])
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["total"])], "add", [a, b], [total]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    example = pd.DataFrame({"a": [1.0, 2.0], "b": [10.0, 20.0]})

    loaded = load_model(save_model(model, tmp_path / "m", input_example=example).folder)

    np.testing.assert_array_equal(loaded.predict(example), [[11.0], [22.0]])
    assert not hasattr(loaded, "predict_proba")


def test_a_model_with_external_tensor_data_is_refused(tmp_path: Path) -> None:
    weights = numpy_helper.from_array(np.ones((1, 1), np.float32), name="w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y], [weights]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.external_data_helper.convert_model_to_external_data(model, size_threshold=0)

    with pytest.raises(ValidationError, match="external data"):
        save_model(model, tmp_path / "m")
    assert not (tmp_path / "m").exists()
