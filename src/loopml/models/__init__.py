"""Models from the SDK: log, register, load, evaluate and release them.

Thin functions over the default client's :class:`~loopml.registry.service.RegistryService`
(pass ``client=`` to use another)::

    import loopml

    with loopml.start_run(experiment="churn") as run:
        uri = run.log_model(pipeline, "model", input_example=x_train)
    version = loopml.models.register(uri, "churn")           # churn/1
    model = loopml.models.load("models:/churn/1")
    model.predict(frame)                                    # the signature is enforced
    loopml.models.evaluate("models:/churn/1", "churn@2", target="churned", slices=["region"])
    request = loopml.models.request_approval("churn/1", alias="champion")

``PythonModel`` is the base class for custom models (stored with cloudpickle, untrusted:
loading one needs ``trust=True``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from loopml.core.models import ApprovalRequest, ModelVersion, RegisteredModel
from loopml.flavors.pyfunc import PythonModel

if TYPE_CHECKING:
    from loopml.client.client import Client
    from loopml.flavors import LoadedModel

__all__ = [
    "PythonModel",
    "approve",
    "evaluate",
    "get",
    "list_models",
    "load",
    "override",
    "register",
    "reject",
    "request_approval",
    "set_policy",
]


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    import loopml

    return loopml.get_client()


def register(
    source: str, name: str, *, description: str = "", client: Client | None = None
) -> ModelVersion:
    """Register ``runs:/<run id>/<path>`` as the next version of model ``name``."""
    return _client(client).registry.register(source, name, description=description)


def get(ref: str, *, client: Client | None = None) -> ModelVersion:
    """The version named ``churn/3``, ``churn@champion`` or ``models:/churn/3``."""
    return _client(client).registry.resolve(ref)


def list_models(*, client: Client | None = None) -> list[RegisteredModel]:
    return _client(client).registry.list_models()


def load(uri: str, *, trust: bool = False, client: Client | None = None) -> LoadedModel:
    """Load a model; ``.predict(df)`` enforces its signature. See RegistryService.load."""
    return _client(client).registry.load(uri, trust=trust)


def evaluate(
    uri: str,
    dataset: Any,
    *,
    target: str,
    task: str = "classification",
    slices: Sequence[str] = (),
    client: Client | None = None,
) -> dict[str, Any]:
    """Score a registered version on a dataset version (or frame) and store the report.

    Computes the task's standard metrics overall and per slice, compares with the current
    champion on the same data, and attaches the report to the version (release gates
    read it). Returns the report dict.
    """
    c = _client(client)
    name = None
    if isinstance(dataset, str) or hasattr(dataset, "record"):
        handle = c.data.get_version(getattr(dataset, "record", dataset))
        name = handle.ref
        frame = c.data.read_table(handle).to_pandas()
    else:
        frame = dataset
    return c.registry.evaluate(
        uri, frame, target=target, task=task, slices=slices, dataset_name=name
    )


def set_policy(
    name: str, gates: Sequence[str], required_approvals: int = 1, *, client: Client | None = None
) -> RegisteredModel:
    """Store the release gates of a model, e.g. ``["metrics.f1 >= 0.85"]``."""
    return _client(client).registry.set_policy(name, list(gates), required_approvals)


def request_approval(
    ref: str, alias: str = "champion", comment: str = "", *, client: Client | None = None
) -> ApprovalRequest:
    """Evaluate the gates and open a request to point ``alias`` at the version."""
    return _client(client).registry.request_approval(ref, alias, comment)


def approve(request_id: str, reason: str = "", *, client: Client | None = None) -> ApprovalRequest:
    return _client(client).registry.approve(request_id, reason)


def reject(request_id: str, reason: str, *, client: Client | None = None) -> ApprovalRequest:
    return _client(client).registry.reject(request_id, reason)


def override(
    request_id: str, justification: str, *, client: Client | None = None
) -> ApprovalRequest:
    return _client(client).registry.override(request_id, justification)
