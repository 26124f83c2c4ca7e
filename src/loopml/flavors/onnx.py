"""ONNX models (``onnx.ModelProto``), run with onnxruntime on the CPU.

The file is a protobuf message: parsing it builds data, never code. Before onnxruntime
sees it, it must parse as a ``ModelProto`` with a graph, and carry all its tensors inside
(external-data references would make the runtime read other paths from the disk).

Input: a graph with one input gets the whole frame as one tensor (the usual
``[batch, n_features]`` of converted scikit-learn models); a graph with one input per
column gets each column as a ``[batch, 1]`` tensor. ``predict`` returns the first output;
``predict_proba`` the second, when the graph has one (e.g. skl2onnx's probabilities).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from loopml.core.errors import ValidationError
from loopml.flavors.base import Flavor, Predictor, SavedFiles
from loopml.flavors.errors import FormatMismatchError
from loopml.flavors.manifest import Manifest

__all__ = ["FLAVORS", "OnnxFlavor"]

_FILE = "model.onnx"
_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


class OnnxFlavor(Flavor):
    """ONNX ``ModelProto`` graphs."""

    name = "onnx"
    file_names = (_FILE,)
    modules = ("onnx", "onnxruntime", "numpy", "pandas")

    def supports(self, model: object) -> bool:
        """Whether ``model`` is an ``onnx.ModelProto``."""
        onnx = sys.modules.get("onnx")
        return onnx is not None and isinstance(model, onnx.ModelProto)

    def save(self, model: object, folder: Path) -> SavedFiles:
        """Serialise the message to ``model.onnx``, with every tensor inside it."""
        import onnx

        assert isinstance(model, onnx.ModelProto)
        _check_self_contained(model)
        (folder / _FILE).write_bytes(model.SerializeToString())
        return SavedFiles((_FILE,))

    def verify_format(self, path: Path) -> None:
        """Parses as a ``ModelProto`` with a graph and no external tensor data."""
        import onnx
        from google.protobuf.message import DecodeError

        try:
            model = onnx.load_model(path, load_external_data=False)
        except (DecodeError, ValueError, RuntimeError) as exc:
            raise FormatMismatchError(f"{path.name} is not an ONNX model: {exc}") from None
        if model.ir_version < 1 or not model.graph.node:
            raise FormatMismatchError(
                f"{path.name} is not an ONNX model: it has no IR version or no graph nodes"
            )
        _check_self_contained(model)

    def load(self, folder: Path, manifest: Manifest, *, trust: bool = False) -> Predictor:
        """An onnxruntime CPU session over the file."""
        import onnxruntime

        session = onnxruntime.InferenceSession(
            self.file_path(folder, manifest), providers=["CPUExecutionProvider"]
        )
        return _predictor(session)


def _check_self_contained(model: Any) -> None:
    from onnx.external_data_helper import uses_external_data

    graph_tensors = [*model.graph.initializer, *model.graph.sparse_initializer]
    if any(uses_external_data(tensor) for tensor in graph_tensors):
        raise ValidationError(
            "the ONNX model keeps tensors in external data files; save it with its data "
            "inside (onnx.load_model(path) then log that ModelProto)",
            field="model",
        )


def _predictor(session: Any) -> Predictor:
    inputs = [(node.name, _TYPES.get(node.type, np.float32)) for node in session.get_inputs()]
    outputs = [node.name for node in session.get_outputs()]

    def feed(frame: Any) -> dict[str, Any]:
        if len(inputs) == 1:
            name, dtype = inputs[0]
            return {name: frame.to_numpy(dtype=dtype)}
        missing = [name for name, _ in inputs if name not in frame.columns]
        if missing:
            raise ValidationError(
                f"the ONNX graph takes inputs {', '.join(name for name, _ in inputs)}; the "
                f"data lacks {', '.join(missing)}",
                field="data",
            )
        return {name: frame[name].to_numpy(dtype=dtype).reshape(-1, 1) for name, dtype in inputs}

    def predict(frame: Any) -> Any:
        return session.run(outputs[:1], feed(frame))[0]

    def predict_proba(frame: Any) -> Any:
        return session.run(outputs[1:2], feed(frame))[0]

    return Predictor(session, predict, predict_proba if len(outputs) > 1 else None)


FLAVORS = (OnnxFlavor(),)
