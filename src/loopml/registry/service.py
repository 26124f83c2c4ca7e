"""The model registry's rules, written against the store interfaces.

:class:`RegistryService` registers packaged models as numbered versions, resolves model
URIs, moves aliases through the release workflow (gates, then four-eyes approval) and
verifies the audit log. Packaging itself (flavors, signatures, safe formats) lives in
:mod:`loopml.flavors`; moving package files in and out of the artifact store in
:mod:`loopml.registry.packages`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopml.artifacts.base import BaseArtifactStore
from loopml.core.audit import AuditEvent
from loopml.core.datasets import LineageDirection
from loopml.core.entities import Project
from loopml.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from loopml.core.models import (
    ApprovalRequest,
    ApprovalStatus,
    Decision,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    check_alias,
    check_model_name,
    parse_model_uri,
)
from loopml.core.project_file import ProjectFile
from loopml.governance.audit import ChainProblem, verify_chain
from loopml.metadata.base import BaseMetadataStore
from loopml.metadata.models_base import ApprovalRequestCreate, ModelVersionCreate
from loopml.registry.gates import parse_policy
from loopml.registry.packages import PackageRef, copy_package, fetch_package
from loopml.registry.release import ReleaseCheck, check_release

if TYPE_CHECKING:
    from loopml.flavors import LoadedModel

__all__ = ["RegistryService"]


class RegistryService:
    """Registered models of one project.

    Args:
        metadata: The metadata store.
        artifacts: The project's artifact store.
        project: The project.
        user: The acting user, recorded with every change (a server records its caller).
        is_admin: Whether the user may override failed gates. Local stores have one user,
            who is their admin.
        cache_dir: Where packages are copied for loading.
        project_file: The ``loopml.yaml`` whose ``release_gates`` section, when it names
            a model, is that model's policy (synced to the store, audited, on request).
    """

    def __init__(
        self,
        metadata: BaseMetadataStore,
        artifacts: BaseArtifactStore,
        project: Project,
        *,
        user: str,
        is_admin: bool = True,
        cache_dir: Path | None = None,
        project_file: ProjectFile | None = None,
    ) -> None:
        self.metadata = metadata
        self.project_file = project_file
        self.artifacts = artifacts
        self.project = project
        self.user = user
        self.is_admin = is_admin
        self.cache_dir = cache_dir

    # -- models and versions -------------------------------------------------------

    def get_model(self, name: str) -> RegisteredModel:
        return self.metadata.get_registered_model_by_name(
            self.project.id, check_model_name(name, field="model")
        )

    def list_models(self) -> list[RegisteredModel]:
        return self.metadata.list_registered_models(self.project.id)

    def ensure_model(self, name: str, description: str = "") -> RegisteredModel:
        try:
            return self.get_model(name)
        except NotFoundError:
            return self.metadata.create_registered_model(
                self.project.id, name, actor=self.user, description=description, owner=self.user
            )

    def register(
        self,
        source: str,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Register the model logged at ``runs:/<run id>/<path>`` as the next version of ``name``.

        The package is copied to the registry's own place (``models/<digest>/``), so the
        version does not depend on the run's artifacts; the run's metrics and the dataset
        versions it read (lineage) are copied onto the version.
        """
        uri = parse_model_uri(source)
        if uri.run_id is None or uri.path is None:
            raise ValidationError(
                f"source: register a model logged by a run (runs:/<run id>/<path>), got {source!r}",
                field="source",
            )
        run = self.metadata.get_run(uri.run_id)
        package = copy_package(self.artifacts, f"runs/{run.id}/artifacts/{uri.path}")
        inputs = [
            e.dataset_version_id
            for e in self.metadata.list_lineage(run_id=run.id)
            if e.direction is LineageDirection.INPUT
        ]
        model = self.ensure_model(name)
        return self.metadata.create_model_version(
            ModelVersionCreate(
                model_id=model.id,
                flavor=package.flavor,
                package_path=package.path,
                digest=package.digest,
                size=package.size,
                run_id=run.id,
                signature=package.signature,
                metrics={k: m.value for k, m in run.metrics.items()},
                dataset_version_ids=list(dict.fromkeys(inputs)),
                description=description,
                tags=dict(tags or {}),
            ),
            actor=self.user,
        )

    def resolve(self, ref: str) -> ModelVersion:
        """The version named by ``models:/churn/3``, ``models:/churn@champion``, ``churn/3``
        or ``churn@champion``."""
        text = ref if ref.startswith(("models:/", "runs:/")) else f"models:/{ref}"
        uri = parse_model_uri(text)
        if uri.name is None:
            raise ValidationError(
                f"{ref!r} names a run's model, not a registered version", field="model"
            )
        model = self.get_model(uri.name)
        if uri.alias is not None:
            number = model.aliases.get(uri.alias)
            if number is None:
                known = ", ".join(sorted(model.aliases)) or "none yet"
                raise NotFoundError(
                    f"model {model.name!r} has no alias {uri.alias!r} (aliases: {known})",
                    field="alias",
                )
            return self.metadata.get_model_version(model.id, number)
        assert uri.version is not None
        return self.metadata.get_model_version(model.id, uri.version)

    def package_ref(self, ref: str) -> PackageRef:
        """Where the package of a registered version or a run's model is stored."""
        text = ref if ref.startswith(("models:/", "runs:/")) else f"models:/{ref}"
        uri = parse_model_uri(text)
        if uri.run_id is not None and uri.path is not None:
            self.metadata.get_run(uri.run_id)
            return PackageRef(f"runs/{uri.run_id}/artifacts/{uri.path}", None)
        version = self.resolve(text)
        return PackageRef(version.package_path, version.digest)

    def load(self, ref: str, *, trust: bool = False) -> LoadedModel:
        """Load a registered version or a run's model; digests and formats are verified.

        Args:
            ref: ``models:/churn/3``, ``models:/churn@champion``, ``churn/3`` or
                ``runs:/<run id>/model``.
            trust: Allow formats whose loading runs code from the file (cloudpickle,
                TorchScript). Only for models from people you trust.
        """
        from loopml.flavors import load_model

        cache = self.cache_dir or Path(tempfile.gettempdir()) / "loopml-cache"
        folder = fetch_package(self.artifacts, self.package_ref(ref), cache)
        return load_model(folder, trust=trust)

    def archive(self, ref: str, *, restore: bool = False) -> ModelVersion:
        version = self.resolve(ref)
        status = ModelVersionStatus.READY if restore else ModelVersionStatus.ARCHIVED
        return self.metadata.update_model_version(
            version.model_id, version.version, actor=self.user, status=status
        )

    def attach_evaluation(self, version: ModelVersion, report: Mapping[str, Any]) -> ModelVersion:
        return self.metadata.update_model_version(
            version.model_id, version.version, actor=self.user, evaluation=report
        )

    def evaluate(
        self,
        ref: str,
        frame: Any,
        *,
        target: str,
        task: str = "classification",
        slices: Sequence[str] = (),
        dataset_name: str | None = None,
        trust: bool = False,
    ) -> dict[str, Any]:
        """Score a version on ``frame``, compare with the champion, attach the report.

        Args:
            ref: The version (``churn/3``, ``models:/churn@challenger`` ...).
            frame: Evaluation rows with the features and the ``target`` column.
            target: The column of true labels or values.
            task: ``classification`` or ``regression``.
            slices: Columns scored value by value as well, e.g. ``["region"]``.
            dataset_name: The dataset version's reference, recorded with the report.
            trust: Passed on to :meth:`load` for untrusted formats.

        Returns:
            The report dict (see :mod:`loopml.registry.evaluation`).
        """
        from loopml.registry.evaluation import compare_with_champion, evaluate_predictions

        version = self.resolve(ref)
        report = evaluate_predictions(
            frame,
            target=target,
            task=task,
            scores=_scores(self.load(version.uri, trust=trust), frame, task),
            slices=slices,
            dataset=dataset_name,
        )
        model = self.metadata.get_registered_model(version.model_id)
        champion = model.aliases.get("champion")
        if champion is not None and champion != version.version:
            held = self.metadata.get_model_version(model.id, champion)
            held_report = evaluate_predictions(
                frame,
                target=target,
                task=task,
                scores=_scores(self.load(held.uri, trust=trust), frame, task),
                dataset=dataset_name,
            )
            report = compare_with_champion(report, held_report, version=champion)
        document = report.to_dict()
        self.attach_evaluation(version, document)
        return document

    # -- release -------------------------------------------------------------------------

    def set_policy(
        self, name: str, gates: list[str], required_approvals: int = 1
    ) -> RegisteredModel:
        """Store a model's release policy (gates are parsed first; errors name the gate)."""
        policy = {"gates": list(gates), "required_approvals": required_approvals}
        parse_policy(policy)
        return self.metadata.update_registered_model(
            self.get_model(name).id, actor=self.user, release_policy=policy
        )

    def _sync_policy(self, name: str) -> None:
        if self.project_file is None or name not in self.project_file.release_gates:
            return
        declared = self.project_file.release_gates[name]
        wanted = {"gates": list(declared.gates), "required_approvals": declared.required_approvals}
        if dict(self.get_model(name).release_policy) != wanted:
            self.set_policy(name, list(declared.gates), declared.required_approvals)

    def check(self, ref: str) -> ReleaseCheck:
        """How a version fares against its model's gates, without opening a request."""
        version = self.resolve(ref)
        model = self.metadata.get_registered_model(version.model_id)
        return check_release(self.metadata, model, version)

    def request_approval(self, ref: str, alias: str, comment: str = "") -> ApprovalRequest:
        """Evaluate the gates and open a request to point ``alias`` at the version.

        A policy for the model in ``loopml.yaml`` replaces the stored one first (an
        audited ``policy.set``), so the gates reviewers see are the ones in the repository.
        """
        alias = check_alias(alias)
        version = self.resolve(ref)
        self._sync_policy(version.model_name)
        check = self.check(ref)
        return self.metadata.create_approval_request(
            ApprovalRequestCreate(
                model_id=version.model_id,
                version=version.version,
                alias=alias,
                gate_results=[r.to_dict() for r in check.results],
                gates_passed=check.passed,
                required_approvals=check.required_approvals,
                comment=comment,
            ),
            actor=self.user,
        )

    def find_request(self, request_id: str) -> ApprovalRequest:
        """A request by id or unique id prefix (at least 6 characters)."""
        if len(request_id) == 32:
            return self.metadata.get_approval_request(request_id)
        if len(request_id) < 6:
            raise ValidationError("give at least 6 characters of the request id", field="request")
        matches = [
            r
            for r in self.metadata.list_approval_requests(self.project.id)
            if r.id.startswith(request_id)
        ]
        if len(matches) != 1:
            which = "no request" if not matches else f"{len(matches)} requests"
            raise NotFoundError(f"{which} with id starting {request_id!r}", field="request")
        return matches[0]

    def list_requests(self, status: ApprovalStatus | None = None) -> list[ApprovalRequest]:
        return self.metadata.list_approval_requests(self.project.id, status=status)

    def approve(self, request_id: str, reason: str = "") -> ApprovalRequest:
        request = self.find_request(request_id)
        return self.metadata.decide_approval_request(
            request.id, Decision.APPROVE, reason, actor=self.user
        )

    def reject(self, request_id: str, reason: str) -> ApprovalRequest:
        request = self.find_request(request_id)
        return self.metadata.decide_approval_request(
            request.id, Decision.REJECT, reason, actor=self.user
        )

    def override(self, request_id: str, justification: str) -> ApprovalRequest:
        if not self.is_admin:
            raise PermissionDeniedError(
                "only an admin may override the release gates", field="justification"
            )
        request = self.find_request(request_id)
        return self.metadata.override_approval_request(request.id, justification, actor=self.user)

    # -- audit -------------------------------------------------------------------------

    def audit_events(self, entity: str | None = None, limit: int = 1000) -> list[AuditEvent]:
        return self.metadata.list_audit_events(
            project_id=self.project.id, entity_name=entity, limit=limit
        )

    def verify_audit(self) -> tuple[int, list[ChainProblem]]:
        """Check the whole log (every project's events form one chain)."""
        events: list[AuditEvent] = []
        after = 0
        while True:
            batch = self.metadata.list_audit_events(after_seq=after, limit=10_000)
            if not batch:
                break
            events.extend(batch)
            after = batch[-1].seq
        return len(events), verify_chain(events)


def _scores(model: LoadedModel, frame: Any, task: str) -> Any:
    """Positive-class probabilities (binary), probability rows, or plain predictions."""
    import numpy as np

    if task == "classification" and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(frame))
        if proba.ndim == 2 and proba.shape[1] == 2:
            return proba[:, 1]
    return np.asarray(model.predict(frame))
