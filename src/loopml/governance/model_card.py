"""Model cards: what the records say about a model version, as Markdown or a standalone page.

A card (after Mitchell et al., "Model Cards for Model Reporting", 2019) is rendered from
records only, so it never drifts from what happened: the intended use and its limits
(``loopml.yaml`` and the description fields), the inputs and outputs (the signature), the
training data with its profile and validation, the evaluation overall, per slice (worst
slice marked) and against the champion, the release gates, the approval history and the
alias moves. What is not recorded is said so, with where to record it.

:func:`gather_model_card` reads the records through the metadata store interface;
:func:`render_model_card` turns them into text. The HTML is a single page with a small
inline style, no script (its Content-Security-Policy forbids any), and every value escaped.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from loopml.core import clock
from loopml.core.datasets import DatasetVersion
from loopml.core.errors import NotFoundError, ValidationError
from loopml.core.models import AliasChange, ApprovalRequest, ModelVersion, RegisteredModel
from loopml.core.project_file import ProjectFile
from loopml.governance import model_card_view as card_view
from loopml.metadata.base import BaseMetadataStore
from loopml.registry.gates import GateResult
from loopml.registry.release import check_release

__all__ = ["FORMATS", "ModelCardData", "ProjectSummary", "gather_model_card", "render_model_card"]

FORMATS = ("md", "html")
TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    """The project's requirements-and-design record, as far as it is known."""

    name: str = ""
    description: str = ""
    intended_use: str = ""
    out_of_scope: str = ""
    owners: tuple[str, ...] = ()
    stakeholders: tuple[str, ...] = ()

    @classmethod
    def from_project_file(cls, project_file: ProjectFile) -> ProjectSummary:
        info = project_file.project
        return cls(
            info.name,
            info.description,
            info.intended_use,
            info.out_of_scope_use,
            tuple(info.owners),
            tuple(info.stakeholders),
        )


@dataclass(frozen=True, slots=True)
class ModelCardData:
    """Everything a card shows; :func:`gather_model_card` fills it from the stores.

    Attributes:
        model: The registered model (description, owner, release policy).
        version: The version the card is about.
        project: Intended use and limits, owners and stakeholders.
        datasets: The dataset versions the version was trained on.
        missing_datasets: Ids of training dataset versions no longer recorded.
        evaluation: The evaluation report dict; defaults to the version's.
        gate_results: The release policy's gates evaluated for this version now.
        approvals: The approval requests for this version, newest first.
        alias_history: The moves of aliases to or from this version, oldest first.
        generated_at: When the card was gathered.
    """

    model: RegisteredModel
    version: ModelVersion
    project: ProjectSummary = ProjectSummary()
    datasets: tuple[DatasetVersion, ...] = ()
    missing_datasets: tuple[str, ...] = ()
    evaluation: Mapping[str, Any] | None = None
    gate_results: tuple[GateResult, ...] = ()
    approvals: tuple[ApprovalRequest, ...] = ()
    alias_history: tuple[AliasChange, ...] = ()
    generated_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.evaluation is None and self.version.evaluation is not None:
            object.__setattr__(self, "evaluation", self.version.evaluation)


def render_model_card(card: ModelCardData, format: str = "md") -> str:
    """The card as Markdown (``md``, readable as plain text) or a standalone HTML page.

    Raises:
        ValidationError: ``format`` is neither ``md`` nor ``html``.
    """
    if format not in FORMATS:
        raise ValidationError(
            f"format: {format!r} is not a card format; use 'md' or 'html'", field="format"
        )
    template = _environment(format).get_template(f"model_card.{format}")
    return template.render(card=card_view.build(card))


def gather_model_card(
    metadata: BaseMetadataStore,
    model_name_or_id: str,
    version: int | str,
    project_file: ProjectFile | None = None,
    *,
    project_id: str | None = None,
) -> ModelCardData:
    """Read what a card shows about ``version`` of a model from the metadata store.

    Args:
        metadata: The metadata store.
        model_name_or_id: The model's name (inside ``project_id``, or the project named by
            ``project_file``) or its id.
        version: A version number, an alias such as ``champion``, or ``latest``.
        project_file: The project's ``loopml.yaml``: intended use, owners, stakeholders.
            Without it the card shows the project record's name and description.
        project_id: The project to find the model's name in.

    Raises:
        NotFoundError: No such model, version or alias.
        ValidationError: ``project_file`` describes another project than the model's.
    """
    model = _find_model(metadata, model_name_or_id, project_file, project_id)
    number = _version_number(model, version)
    held = metadata.get_model_version(model.id, number)
    project = metadata.get_project(model.project_id)
    if project_file is None:
        summary = ProjectSummary(project.name, project.description)
    elif project_file.project.name != project.name:
        raise ValidationError(
            f"project_file: describes project {project_file.project.name!r}, but model "
            f"{model.name!r} belongs to {project.name!r}",
            field="project_file",
        )
    else:
        summary = ProjectSummary.from_project_file(project_file)
    datasets, missing = [], []
    for dataset_version_id in held.dataset_version_ids:
        try:
            datasets.append(metadata.get_dataset_version(dataset_version_id))
        except NotFoundError:
            missing.append(dataset_version_id)
    try:
        gate_results = check_release(metadata, model, held).results
    except ValidationError:  # a malformed stored policy: the card shows it as written
        gate_results = ()
    approvals = metadata.list_approval_requests(model.project_id, model_id=model.id)
    moves = metadata.alias_history(model.id)
    return ModelCardData(
        model=model,
        version=held,
        project=summary,
        datasets=tuple(datasets),
        missing_datasets=tuple(missing),
        evaluation=held.evaluation,
        gate_results=tuple(gate_results),
        approvals=tuple(r for r in approvals if r.version == number),
        alias_history=tuple(m for m in moves if number in (m.version, m.previous_version)),
        generated_at=clock.now(),
    )


def _find_model(
    metadata: BaseMetadataStore,
    name_or_id: str,
    project_file: ProjectFile | None,
    project_id: str | None,
) -> RegisteredModel:
    if project_id is None and project_file is not None:
        project_id = metadata.get_project_by_name(project_file.project.name).id
    if project_id is not None:
        try:
            return metadata.get_registered_model_by_name(project_id, name_or_id)
        except NotFoundError:
            pass  # not a name: perhaps an id
    try:
        return metadata.get_registered_model(name_or_id)
    except NotFoundError:
        where = "in the project" if project_id else "(to find one by name, pass project_id)"
        raise NotFoundError(f"no model named or with id {name_or_id!r} {where}") from None


def _version_number(model: RegisteredModel, version: int | str) -> int:
    if isinstance(version, int) and not isinstance(version, bool):
        return version
    text = str(version)
    if text.isdigit():
        return int(text)
    if text == "latest" and model.n_versions:
        return model.n_versions
    if text in model.aliases:
        return model.aliases[text]
    raise NotFoundError(
        f"version: model {model.name!r} has no alias {text!r}; its aliases are "
        f"{', '.join(sorted(model.aliases)) or 'none'}"
    )


@functools.cache
def _environment(format: str) -> jinja2.Environment:
    html = format == "html"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # HTML escapes every value; Markdown is not HTML: its templates escape with |md, |cell
        autoescape=html,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=card_view.markdown_text, cell=card_view.markdown_cell)
    return env
