"""The model-registry part of the metadata store contract (models, aliases, approvals, audit).

:class:`~loopml.testing.MetadataStoreContract` includes these tests. Besides ``store``
they use ``acting_as(name)``, a store whose writes are made by user ``name``: the SQL
store takes the ``actor`` argument, a server takes the caller, so a REST subclass
overrides this fixture to hand out a store with that user's token.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from loopml.core.audit import GENESIS_HASH
from loopml.core.errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from loopml.core.models import ApprovalStatus, Decision, ModelVersionStatus
from loopml.metadata.base import BaseMetadataStore, RunCreate
from loopml.metadata.models_base import ApprovalRequestCreate, ModelVersionCreate

__all__ = ["RegistryStoreContract"]

UNKNOWN_ID = "0" * 32
Acting = Callable[[str], BaseMetadataStore]


def _version(model_id: str, **changes: object) -> ModelVersionCreate:
    fields: dict[str, object] = {
        "model_id": model_id,
        "flavor": "sklearn",
        "package_path": "models/churn/pkg",
        "digest": "blake3:" + "1" * 64,
        "size": 1234,
        "signature": {"inputs": [{"name": "age", "type": "int64"}]},
        "metrics": {"f1": 0.9},
    }
    fields.update(changes)
    return ModelVersionCreate(**fields)  # type: ignore[arg-type]


class RegistryStoreContract:
    """Registered models, versions, aliases, approvals and the audit log."""

    @pytest.fixture
    def acting_as(self, store: BaseMetadataStore) -> Acting:
        return lambda name: store

    @pytest.fixture
    def project_id(self, store: BaseMetadataStore) -> str:
        return store.ensure_project("registry").id

    def test_a_model_is_created_found_updated_and_listed(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        model = store.create_registered_model(
            project_id,
            "churn",
            actor="ada",
            description="who cancels",
            owner="ada",
            tags={"t": "1"},
        )
        assert (model.name, model.description, model.owner) == ("churn", "who cancels", "ada")
        assert dict(model.tags) == {"t": "1"}
        assert model.n_versions == 0
        assert store.get_registered_model(model.id) == model
        assert store.get_registered_model_by_name(project_id, "churn") == model
        updated = store.update_registered_model(model.id, actor="ada", description="new")
        assert updated.description == "new"
        assert model.description == "who cancels"
        store.create_registered_model(project_id, "alpha", actor="ada")
        assert [m.name for m in store.list_registered_models(project_id)] == ["alpha", "churn"]

    def test_model_name_clashes_and_bad_names_are_refused(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        store.create_registered_model(project_id, "churn", actor="ada")
        with pytest.raises(AlreadyExistsError):
            store.create_registered_model(project_id, "churn", actor="ada")
        with pytest.raises(ValidationError) as caught:
            store.create_registered_model(project_id, "churn/3", actor="ada")
        assert caught.value.field == "model.name"
        with pytest.raises(NotFoundError):
            store.get_registered_model(UNKNOWN_ID)
        with pytest.raises(NotFoundError):
            store.get_registered_model_by_name(project_id, "nope")

    def test_versions_are_numbered_and_keep_their_records(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        model = store.create_registered_model(project_id, "churn", actor="ada")
        experiment = store.ensure_experiment(project_id, "train")
        run = store.create_run(RunCreate(experiment.id, "r", datetime.now(UTC)))
        first = store.create_model_version(_version(model.id, run_id=run.id), actor="ada")
        second = store.create_model_version(_version(model.id, description="v2"), actor="ada")
        assert (first.version, second.version) == (1, 2)
        assert first.ref == "churn/1"
        assert first.uri == "models:/churn/1"
        assert first.run_id == run.id
        assert dict(first.metrics) == {"f1": 0.9}
        assert first.status is ModelVersionStatus.READY
        assert store.get_model_version(model.id, 1) == first
        assert store.get_model_version_by_id(second.id) == second
        assert [v.version for v in store.list_model_versions(model.id)] == [2, 1]
        assert store.get_registered_model(model.id).n_versions == 2
        with pytest.raises(NotFoundError):
            store.get_model_version(model.id, 3)
        with pytest.raises(NotFoundError):
            store.create_model_version(_version(model.id, run_id=UNKNOWN_ID), actor="ada")
        assert len(store.list_model_versions(model.id)) == 2

    def test_concurrent_registrations_get_exactly_1_to_n(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        model = store.create_registered_model(project_id, "churn", actor="ada")
        numbers: list[int] = []
        errors: list[BaseException] = []

        def register() -> None:
            try:
                numbers.append(store.create_model_version(_version(model.id), actor="ada").version)
            except BaseException as exc:  # re-raised by the test thread below
                errors.append(exc)

        threads = [threading.Thread(target=register) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(numbers) == list(range(1, 51))

    def test_aliases_move_atomically_and_keep_their_history(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        model = store.create_registered_model(project_id, "churn", actor="ada")
        for _ in range(3):
            store.create_model_version(_version(model.id), actor="ada")
        store.set_alias(model.id, "champion", 1, actor="ada")
        middle = datetime.now(UTC)
        moved = store.set_alias(model.id, "champion", 2, actor="bob")
        assert (moved.version, moved.previous_version) == (2, 1)
        assert dict(store.get_registered_model(model.id).aliases) == {"champion": 2}
        assert store.get_model_version(model.id, 2).aliases == ("champion",)
        assert store.get_model_version(model.id, 1).aliases == ()
        history = store.alias_history(model.id, "champion")
        assert [(c.version, c.previous_version) for c in history] == [(1, None), (2, 1)]
        assert store.version_at(model.id, "champion", middle) == 1
        assert store.version_at(model.id, "champion", datetime(2000, 1, 1, tzinfo=UTC)) is None
        store.delete_alias(model.id, "champion", actor="ada")
        assert dict(store.get_registered_model(model.id).aliases) == {}
        with pytest.raises(NotFoundError):
            store.delete_alias(model.id, "champion", actor="ada")
        with pytest.raises(NotFoundError):
            store.set_alias(model.id, "champion", 9, actor="ada")
        with pytest.raises(ValidationError):
            store.set_alias(model.id, "Champion!", 1, actor="ada")

    def test_archived_versions_hold_no_alias(
        self, store: BaseMetadataStore, project_id: str
    ) -> None:
        model = store.create_registered_model(project_id, "churn", actor="ada")
        store.create_model_version(_version(model.id), actor="ada")
        store.create_model_version(_version(model.id), actor="ada")
        store.set_alias(model.id, "champion", 1, actor="ada")
        with pytest.raises(ConflictError):
            store.update_model_version(model.id, 1, actor="ada", status=ModelVersionStatus.ARCHIVED)
        archived = store.update_model_version(
            model.id, 2, actor="ada", status=ModelVersionStatus.ARCHIVED
        )
        assert archived.status is ModelVersionStatus.ARCHIVED
        with pytest.raises(ConflictError):
            store.set_alias(model.id, "champion", 2, actor="ada")
        evaluated = store.update_model_version(model.id, 1, actor="ada", evaluation={"f1": 0.8})
        assert evaluated.evaluation == {"f1": 0.8}

    def _request(self, acting_as: Acting, project_id: str, **changes: object) -> tuple[str, str]:
        ada = acting_as("ada")
        model = ada.create_registered_model(project_id, "churn", actor="ada")
        ada.create_model_version(_version(model.id), actor="ada")
        policy = changes.pop("policy", None)
        if policy is not None:
            acting_as("root").update_registered_model(
                model.id,
                actor="root",
                release_policy=policy,  # type: ignore[arg-type]
            )
        fields: dict[str, object] = {"model_id": model.id, "version": 1, "alias": "champion"}
        fields.update(changes)
        request = ada.create_approval_request(
            ApprovalRequestCreate(**fields),  # type: ignore[arg-type]
            actor="ada",
        )
        assert request.requested_by == "ada"
        assert request.status is ApprovalStatus.OPEN
        return model.id, request.id

    def test_four_eyes_the_requester_cannot_approve_and_a_reviewer_moves_the_alias(
        self, store: BaseMetadataStore, project_id: str, acting_as: Acting
    ) -> None:
        model_id, request_id = self._request(acting_as, project_id)
        with pytest.raises(PermissionDeniedError):
            acting_as("ada").decide_approval_request(request_id, Decision.APPROVE, "", actor="ada")
        assert dict(store.get_registered_model(model_id).aliases) == {}
        approved = acting_as("bob").decide_approval_request(
            request_id, Decision.APPROVE, "looks good", actor="bob"
        )
        assert approved.status is ApprovalStatus.APPROVED
        assert [(d.reviewer, d.decision) for d in approved.decisions] == [("bob", Decision.APPROVE)]
        assert dict(store.get_registered_model(model_id).aliases) == {"champion": 1}
        with pytest.raises(ConflictError):
            acting_as("cy").decide_approval_request(request_id, Decision.REJECT, "late", actor="cy")
        assert [r.id for r in store.list_approval_requests(project_id)] == [request_id]
        assert store.list_approval_requests(project_id, status=ApprovalStatus.OPEN) == []

    def test_two_required_approvals_and_a_rejection(
        self, store: BaseMetadataStore, project_id: str, acting_as: Acting
    ) -> None:
        model_id, request_id = self._request(
            acting_as, project_id, required_approvals=2, policy={"required_approvals": 2}
        )
        first = acting_as("bob").decide_approval_request(
            request_id, Decision.APPROVE, "", actor="bob"
        )
        assert first.status is ApprovalStatus.OPEN
        with pytest.raises(PermissionDeniedError):
            acting_as("bob").decide_approval_request(request_id, Decision.APPROVE, "", actor="bob")
        with pytest.raises(ValidationError) as caught:
            acting_as("cy").decide_approval_request(request_id, Decision.REJECT, " ", actor="cy")
        assert caught.value.field == "reason"
        rejected = acting_as("cy").decide_approval_request(
            request_id, Decision.REJECT, "calibration is off", actor="cy"
        )
        assert rejected.status is ApprovalStatus.REJECTED
        assert dict(store.get_registered_model(model_id).aliases) == {}

    def test_failed_gates_block_approval_until_an_override_with_justification(
        self, store: BaseMetadataStore, project_id: str, acting_as: Acting
    ) -> None:
        # A server evaluates the stored policy itself; the SQL store records what it is given.
        gates = [{"expression": "metrics.f1 >= 0.95", "passed": False, "observed": "0.9 >= 0.95"}]
        model_id, request_id = self._request(
            acting_as,
            project_id,
            gate_results=gates,
            gates_passed=False,
            policy={"gates": ["metrics.f1 >= 0.95"]},
        )
        with pytest.raises(ConflictError):
            acting_as("bob").decide_approval_request(request_id, Decision.APPROVE, "", actor="bob")
        with pytest.raises(ValidationError) as caught:
            acting_as("root").override_approval_request(request_id, "ok", actor="root")
        assert caught.value.field == "justification"
        overridden = acting_as("root").override_approval_request(
            request_id, "hotfix for the outage, gate re-tuned next sprint", actor="root"
        )
        assert overridden.status is ApprovalStatus.OVERRIDDEN
        assert overridden.gate_results[0]["expression"] == "metrics.f1 >= 0.95"
        assert "outage" in overridden.override_justification
        assert dict(store.get_registered_model(model_id).aliases) == {"champion": 1}

    def test_a_second_open_request_for_the_same_move_is_refused(
        self, store: BaseMetadataStore, project_id: str, acting_as: Acting
    ) -> None:
        model_id, _ = self._request(acting_as, project_id)
        with pytest.raises(ConflictError):
            store.create_approval_request(
                ApprovalRequestCreate(model_id, 1, "champion"), actor="ada"
            )
        with pytest.raises(NotFoundError):
            store.create_approval_request(
                ApprovalRequestCreate(model_id, 7, "champion"), actor="ada"
            )
        with pytest.raises(NotFoundError):
            store.get_approval_request(UNKNOWN_ID)

    def test_every_change_is_audited_in_a_hash_chain(
        self, store: BaseMetadataStore, project_id: str, acting_as: Acting
    ) -> None:
        _, request_id = self._request(acting_as, project_id)
        acting_as("bob").decide_approval_request(request_id, Decision.APPROVE, "ok", actor="bob")
        events = store.list_audit_events(project_id=project_id)
        assert [e.action for e in events] == [
            "model.create",
            "version.create",
            "approval.request",
            "approval.approve",
            "alias.set",
        ]
        assert [e.actor for e in events] == ["ada", "ada", "ada", "bob", "bob"]
        assert events[-1].after == {"alias": "champion", "version": 1}
        assert all(e.entity_name == "churn" for e in events)
        everything = store.list_audit_events(project_id=project_id)
        assert everything[0].prev_hash == GENESIS_HASH
        for before, after in itertools.pairwise(everything):
            assert after.seq == before.seq + 1
            assert after.prev_hash == before.hash
        assert all(e.hash == e.expected_hash() for e in everything)
        assert store.list_audit_events(project_id=project_id, entity_name="nothing") == []
        later = store.list_audit_events(project_id=project_id, after_seq=everything[-2].seq)
        assert [e.seq for e in later] == [everything[-1].seq]
