"""Model packaging: save and load models per flavor, signatures, safe formats (services layer).

A model is saved as a folder: the flavor's own file format (skops for scikit-learn,
XGBoost's and LightGBM's native files, ONNX, a torch ``state_dict`` or TorchScript,
cloudpickle for :class:`PythonModel`) plus ``loopml-model.yaml``, which records the
flavor, every file's BLAKE3 digest, the signature and the pip requirements::

    package = save_model(pipeline, "out/churn", input_example=X_train)
    model = load_model("out/churn")          # digests and formats verified first
    model.predict(df)                        # the signature is enforced on every call

Formats whose loading runs code from the file (cloudpickle, TorchScript) are stored as
untrusted and load only with ``trust=True``.
"""

from __future__ import annotations

from loopml.flavors.base import (
    Flavor,
    Predictor,
    SavedFiles,
    flavor_for,
    get_flavor,
    registered_flavors,
)
from loopml.flavors.enforce import Enforcer, enforce
from loopml.flavors.errors import FormatMismatchError, SignatureError, UntrustedModelError
from loopml.flavors.loaded import LoadedModel
from loopml.flavors.manifest import MANIFEST_NAME, Manifest, ModelFile, read_manifest
from loopml.flavors.package import ModelPackage, load_model, save_model
from loopml.flavors.pyfunc import PythonModel
from loopml.flavors.signature import ColumnSpec, Signature, infer_signature

__all__ = [
    "MANIFEST_NAME",
    "ColumnSpec",
    "Enforcer",
    "Flavor",
    "FormatMismatchError",
    "LoadedModel",
    "Manifest",
    "ModelFile",
    "ModelPackage",
    "Predictor",
    "PythonModel",
    "SavedFiles",
    "Signature",
    "SignatureError",
    "UntrustedModelError",
    "enforce",
    "flavor_for",
    "get_flavor",
    "infer_signature",
    "load_model",
    "read_manifest",
    "registered_flavors",
    "save_model",
]
