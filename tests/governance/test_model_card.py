"""Model cards gathered from real records (SQLite + a folder) and rendered as Markdown and HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.artifacts.local import LocalArtifactStore
from loopml.core.errors import NotFoundError, ValidationError
from loopml.core.models import Decision
from loopml.core.project_file import ProjectFile, parse_project_file
from loopml.datasets.schema_file import parse_schema
from loopml.datasets.service import DatasetService
from loopml.governance.model_card import (
    ModelCardData,
    gather_model_card,
    render_model_card,
)
from loopml.metadata.models_base import ApprovalRequestCreate, ModelVersionCreate
from loopml.metadata.sql import SqlMetadataStore
from loopml.registry.evaluation import compare_with_champion, evaluate_predictions
from loopml.registry.release import check_release

MARKUP = "<script>alert(1)</script>"
PROJECT_FILE = parse_project_file(
    """
project:
  name: telco
  description: Keep customers who would otherwise cancel.
  intended_use: Rank customers for the retention team's monthly calls.
  out_of_scope_use: Pricing or credit decisions about a customer.
  owners: [ada]
  stakeholders: [retention team, data protection officer]
"""
)
SCHEMA = parse_schema(
    """
version: 1
name: churn
columns:
  age: {dtype: int64, min: 18, max: 99}
  plan: {dtype: string, isin: [basic, pro]}
  region: {dtype: string}
  churned: {dtype: int64}
"""
)


def _customers(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "plan": rng.choice(["basic", "pro"], n, p=[0.7, 0.3]),
            "region": rng.choice(["north", "south"], n),
            "churned": rng.integers(0, 2, n),
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    opened = SqlMetadataStore(f"sqlite:///{tmp_path}/loopml.db")
    yield opened
    opened.close()


@pytest.fixture
def records(store: SqlMetadataStore, tmp_path: Path) -> dict[str, str]:
    """A project with a profiled, validated dataset, two versions of ``churn``, version 2
    evaluated per region against champion version 1 and approved by a second person."""
    project = store.ensure_project("telco", "the telco project")
    data = DatasetService(store, LocalArtifactStore(tmp_path / "artifacts"), project, user="ada")
    frame = _customers()
    dataset = data.register("churn", frame, schema=SCHEMA, description="January extract")
    model = store.create_registered_model(
        project.id, "churn", actor="ada", description=f"Who cancels next month {MARKUP}"
    )
    store.update_registered_model(
        model.id,
        actor="ada",
        release_policy={"gates": ["metrics.f1 >= 0.1", "slices.min.f1 >= 0.99"]},
    )
    signature = {"inputs": [{"name": "age", "dtype": "int64", "nullable": False}]}
    for _ in range(2):
        store.create_model_version(
            ModelVersionCreate(
                model_id=model.id,
                flavor="sklearn",
                package_path="models/churn/pkg",
                digest="blake3:" + "1" * 64,
                size=1234,
                signature=signature,
                metrics={"train_f1": 0.71},
                dataset_version_ids=[dataset.id],
                description="gradient boosting on the January extract",
            ),
            actor="ada",
        )
    store.set_alias(model.id, "champion", 1, actor="ada")
    rng = np.random.default_rng(4)
    scored = frame.assign(p=np.clip(frame["churned"] * 0.4 + rng.uniform(0, 0.6, len(frame)), 0, 1))
    old, new = (
        evaluate_predictions(
            predictions,
            target="churned",
            task="classification",
            score_column="p",
            slices=["region"],
            dataset=dataset.ref,
        )
        for predictions in (scored.assign(p=rng.uniform(size=len(frame))), scored)
    )
    store.update_model_version(model.id, 1, actor="ada", evaluation=old.to_dict())
    report = compare_with_champion(new, old, version=1)
    evaluated = store.update_model_version(model.id, 2, actor="ada", evaluation=report.to_dict())
    check = check_release(store, store.get_registered_model(model.id), evaluated)
    request = store.create_approval_request(
        ApprovalRequestCreate(
            model.id,
            2,
            "champion",
            gate_results=[r.to_dict() for r in check.results],
            gates_passed=check.passed,
            comment="beats version 1",
        ),
        actor="ada",
    )
    store.override_approval_request(
        request.id, f"slice gate too strict for January {MARKUP}", actor="bob"
    )
    return {"project_id": project.id, "model_id": model.id, "dataset": dataset.ref}


@pytest.fixture
def card(store: SqlMetadataStore, records: dict[str, str]) -> ModelCardData:
    return gather_model_card(store, "churn", 2, PROJECT_FILE)


def _section(text: str, heading: str) -> str:
    """The text under a Markdown ``## heading`` up to the next one."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section {heading!r}"
    return match.group(1)


def test_gathering_reads_every_record_of_the_version(card: ModelCardData) -> None:
    assert card.version.version == 2
    assert card.project.intended_use.startswith("Rank customers")
    assert [d.ref for d in card.datasets] == ["churn@1"]
    assert card.evaluation is not None
    assert card.evaluation["champion"]["version"] == 1
    assert [r.alias for r in card.approvals] == ["champion"]
    assert [(m.previous_version, m.version) for m in card.alias_history] == [(1, 2)]
    assert [r.passed for r in card.gate_results] == [True, False]


def test_the_markdown_card_states_intended_use_and_limits(card: ModelCardData) -> None:
    use = _section(render_model_card(card, "md"), "Intended use and limitations")
    assert "**Intended use.** Rank customers for the retention team's monthly calls." in use
    assert "**Out of scope.** Pricing or credit decisions about a customer." in use
    assert "**This version.** gradient boosting on the January extract" in use
    assert "**Stakeholders.** retention team, data protection officer" in use


def test_the_markdown_card_shows_the_training_data_with_profile_and_validation(
    card: ModelCardData,
) -> None:
    data = _section(render_model_card(card, "md"), "Training data")
    assert "### churn@1" in data
    assert "- Rows: 400" in data
    assert "- Validation: passed against schema 'churn'" in data
    assert re.search(
        r"^\| plan \| categorical \(\w*string\) \| 0\.0% \| basic 7\d%, pro [23]\d% \|$", data, re.M
    )
    assert re.search(r"^\| age \| numeric \(int64\) \| 0\.0% \| mean \d", data, re.M)


def test_the_markdown_card_shows_evaluation_overall_per_slice_and_against_the_champion(
    card: ModelCardData,
) -> None:
    evaluation = _section(render_model_card(card, "md"), "Evaluation")
    overall = card.evaluation["overall"]  # type: ignore[index]
    delta = card.evaluation["champion"]["delta"]  # type: ignore[index]
    assert "Classification on churn@1, 400 rows." in evaluation
    assert "| Metric | Value | Champion (version 1) | Change |" in evaluation
    assert f"| f1 | {overall['f1']:.4g} | " in evaluation
    assert f"| {delta['f1']:+.4g} |" in evaluation
    assert "### By region" in evaluation
    slices = card.evaluation["slices"]["region"]  # type: ignore[index]
    worst = min(slices, key=lambda value: slices[value]["f1"])
    assert f"| **{worst}** (worst) |" in evaluation
    assert f"Worst region: {worst} by f1" in evaluation


def test_the_markdown_card_shows_gates_and_approval_history(card: ModelCardData) -> None:
    text = render_model_card(card, "md")
    gates = _section(text, "Release gates")
    assert "| slices.min.f1 >= 0.99 | failed |" in gates
    assert "| metrics.f1 >= 0.1 | passed |" in gates
    history = _section(text, "Approval history")
    assert "### Make version 2 'champion': overridden" in history
    assert "- Comment: beats version 1" in history
    assert "- Gates at request time: failed" in history
    assert "**Overridden.** Justification: slice gate too strict for January" in history
    aliases = _section(text, "Alias history")
    assert "| champion | version 1 → version 2 | bob |" in aliases


def test_the_markdown_card_never_lets_markup_through(card: ModelCardData) -> None:
    text = render_model_card(card, "md")
    assert not re.search(r"(?<!\\)<", text)  # every < is escaped: no raw HTML
    assert "Who cancels next month \\<script>alert(1)\\</script>" in text


def test_a_decision_shows_reviewer_reason_and_time(
    store: SqlMetadataStore, records: dict[str, str]
) -> None:
    model_id = records["model_id"]
    store.update_registered_model(model_id, actor="ada", release_policy={"gates": []})
    request = store.create_approval_request(
        ApprovalRequestCreate(model_id, 1, "stable"), actor="ada"
    )
    decided = store.decide_approval_request(
        request.id, Decision.REJECT, "needs | pipes", actor="eve"
    )
    text = render_model_card(
        gather_model_card(store, "churn", 1, project_id=records["project_id"]), "md"
    )
    when = decided.decisions[0].decided_at.strftime("%Y-%m-%d %H:%M UTC")
    assert f"| eve | reject | needs \\| pipes | {when} |" in text


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_html_card_is_a_standalone_page_with_every_value_escaped(card: ModelCardData) -> None:
    page = render_model_card(card, "html")
    parsed = _Page()
    parsed.feed(page)
    assert "script" not in parsed.tags
    assert {"link", "img", "iframe"}.isdisjoint(parsed.tags)
    assert parsed.tags.count("style") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = " ".join(parsed.text)
    assert f"Who cancels next month {MARKUP}" in text
    assert "slice gate too strict for January" in text


def test_the_html_card_has_the_same_sections_as_the_markdown(card: ModelCardData) -> None:
    page = render_model_card(card, "html")
    markdown = render_model_card(card, "md")
    for heading in re.findall(r"^## (.+)$", markdown, re.M):
        assert f"<h2>{heading}</h2>" in page
    assert '<tr class="worst">' in page
    assert "Rank customers for the retention team&#39;s monthly calls." in page


def test_what_is_not_recorded_is_said_with_where_to_record_it(
    store: SqlMetadataStore, records: dict[str, str]
) -> None:
    model = store.create_registered_model(records["project_id"], "bare", actor="ada")
    store.create_model_version(
        ModelVersionCreate(model.id, "sklearn", "models/bare/pkg", "blake3:" + "2" * 64, 1),
        actor="ada",
    )
    text = render_model_card(gather_model_card(store, model.id, "latest"), "md")
    assert "**Intended use.** Not recorded (project.intended_use in loopml.yaml)." in text
    assert "No signature recorded." in text
    assert "No training data recorded" in text
    assert "No evaluation recorded" in text
    assert "No approval requests for this version." in text


def test_a_version_is_found_by_alias(store: SqlMetadataStore, records: dict[str, str]) -> None:
    card = gather_model_card(store, "churn", "champion", project_id=records["project_id"])
    assert card.version.version == 2


def test_unknown_models_aliases_formats_and_foreign_project_files_are_refused(
    store: SqlMetadataStore, records: dict[str, str], card: ModelCardData
) -> None:
    with pytest.raises(NotFoundError, match="pass project_id"):
        gather_model_card(store, "churn", 1)
    with pytest.raises(NotFoundError, match="no alias 'staging'"):
        gather_model_card(store, "churn", "staging", project_id=records["project_id"])
    other = ProjectFile.model_validate({"project": {"name": "other"}})
    store.ensure_project("other")
    with pytest.raises(ValidationError) as caught:
        gather_model_card(store, records["model_id"], 1, other)
    assert caught.value.field == "project_file"
    with pytest.raises(ValidationError) as caught:
        render_model_card(card, "pdf")
    assert caught.value.field == "format"
