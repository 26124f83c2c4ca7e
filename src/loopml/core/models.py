"""Frozen records of the model registry: models, versions, aliases and approval requests.

A :class:`RegisteredModel` is a name inside a project; each registration adds a
:class:`ModelVersion` numbered 1, 2, ... by the store. An alias (``champion``,
``challenger``, any name) points at one version and moves atomically; every move is kept
as an :class:`AliasChange`, so "which version held ``champion`` at time T" has an answer.
An :class:`ApprovalRequest` asks reviewers to let an alias move to a version; it carries
the release gates' results and the reviewers' decisions.

A model URI names a version: ``models:/churn/3``, ``models:/churn@champion``, or
``runs:/<run id>/<artifact path>``; :func:`parse_model_uri` splits it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from loopml.core.errors import ValidationError

__all__ = [
    "AliasChange",
    "ApprovalDecision",
    "ApprovalRequest",
    "ApprovalStatus",
    "Decision",
    "ModelUri",
    "ModelVersion",
    "ModelVersionStatus",
    "RegisteredModel",
    "check_alias",
    "check_model_name",
    "parse_model_uri",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_RUN_URI = re.compile(r"^runs:/([0-9a-f]{32})/(.+)$")


class ModelVersionStatus(enum.StrEnum):
    """A version is ``ready`` to serve, or ``archived`` (kept, but no alias may point at it)."""

    READY = "ready"
    ARCHIVED = "archived"


class ApprovalStatus(enum.StrEnum):
    """An approval request is ``open`` until approved, rejected, overridden or cancelled."""

    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    OVERRIDDEN = "overridden"

    @property
    def is_decided(self) -> bool:
        return self is not ApprovalStatus.OPEN


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model inside a project; ``aliases`` maps each alias to its version number.

    ``release_policy`` holds the gates a version must pass before an alias moves to it and
    the number of approvals it needs (see :mod:`loopml.registry.gates`).
    """

    id: str
    project_id: str
    name: str
    description: str
    created_at: datetime
    created_by: str = ""
    owner: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    aliases: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    n_versions: int = 0
    release_policy: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered model package.

    Attributes:
        package_path: Where the package lives in the project's artifact store.
        digest: BLAKE3 digest over the package's manifest (which lists each file's digest).
        metrics: The source run's latest metrics, copied at registration.
        dataset_version_ids: The dataset versions the source run read (lineage).
        evaluation: The last evaluation report (``loopml.registry.evaluation``), or None.
    """

    id: str
    model_id: str
    model_name: str
    project_id: str
    version: int
    flavor: str
    package_path: str
    digest: str
    size: int
    created_at: datetime
    run_id: str | None = None
    signature: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    metrics: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    dataset_version_ids: tuple[str, ...] = ()
    status: ModelVersionStatus = ModelVersionStatus.READY
    description: str = ""
    created_by: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    evaluation: Mapping[str, Any] | None = None
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """``churn/3``: how the CLI names a version."""
        return f"{self.model_name}/{self.version}"

    @property
    def uri(self) -> str:
        return f"models:/{self.model_name}/{self.version}"


@dataclass(frozen=True, slots=True)
class AliasChange:
    """An alias moved to ``version`` (None: removed) from ``previous_version``."""

    model_id: str
    alias: str
    version: int | None
    previous_version: int | None
    changed_at: datetime
    changed_by: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    reviewer: str
    decision: Decision
    reason: str
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A request to move ``alias`` of a model to ``version``.

    Attributes:
        gate_results: Each gate's expression, observed value and outcome, as evaluated
            when the request was opened.
        gates_passed: Whether every gate passed. A failed gate blocks approval unless a
            server admin overrides it with a written justification.
        required_approvals: Approvals (by people other than the requester) it needs.
    """

    id: str
    model_id: str
    model_name: str
    project_id: str
    version: int
    alias: str
    requested_by: str
    created_at: datetime
    status: ApprovalStatus = ApprovalStatus.OPEN
    gate_results: tuple[Mapping[str, Any], ...] = ()
    gates_passed: bool = True
    required_approvals: int = 1
    decisions: tuple[ApprovalDecision, ...] = ()
    comment: str = ""
    decided_at: datetime | None = None
    override_justification: str = ""

    @property
    def n_approvals(self) -> int:
        return sum(d.decision is Decision.APPROVE for d in self.decisions)


@dataclass(frozen=True, slots=True)
class ModelUri:
    """A parsed model URI: a registry version (name + number or alias) or a run artifact."""

    name: str | None = None
    version: int | None = None
    alias: str | None = None
    run_id: str | None = None
    path: str | None = None


def check_model_name(name: object, *, field: str = "name") -> str:
    """A registered model's name: 1-128 letters, digits, ``.``, ``_`` or ``-``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(
            f"{field}: {name!r} is not a model name: use 1-128 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit (e.g. 'churn')",
            field=field,
        )
    return name


def check_alias(alias: object, *, field: str = "alias") -> str:
    """An alias: a short lower-case word such as ``champion`` (not a number)."""
    if not isinstance(alias, str) or not _ALIAS.match(alias) or alias == "latest":
        raise ValidationError(
            f"{field}: {alias!r} is not an alias: use a lower-case word such as 'champion' "
            "or 'challenger' ('latest' is reserved)",
            field=field,
        )
    return alias


def parse_model_uri(uri: object) -> ModelUri:
    """Split ``models:/churn/3``, ``models:/churn@champion`` or ``runs:/<id>/model``.

    >>> parse_model_uri("models:/churn@champion")
    ModelUri(name='churn', version=None, alias='champion', run_id=None, path=None)
    >>> parse_model_uri("models:/churn/3").version
    3
    """
    if not isinstance(uri, str):
        raise ValidationError(f"uri: expected text, got {type(uri).__name__}", field="uri")
    run = _RUN_URI.match(uri)
    if run:
        return ModelUri(run_id=run.group(1), path=run.group(2))
    if uri.startswith("models:/"):
        rest = uri[len("models:/") :]
        if "@" in rest:
            name, _, alias = rest.partition("@")
            return ModelUri(name=check_model_name(name, field="uri"), alias=check_alias(alias))
        name, _, number = rest.partition("/")
        if number.isdigit() and int(number) >= 1:
            return ModelUri(name=check_model_name(name, field="uri"), version=int(number))
    raise ValidationError(
        f"uri: {uri!r} is not a model URI: use models:/<name>/<version>, "
        "models:/<name>@<alias> or runs:/<run id>/<path>",
        field="uri",
    )
