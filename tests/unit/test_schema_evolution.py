"""Payload models stay backward compatible with their committed JSON Schema.

The baseline is every committed version of `schemas/json/<event type>.json`:
the file in the working tree and, when git is available, each version in the
history. Regenerating the file after an incompatible change therefore does
not hide the change. A breaking change needs a new major version, which
means a new event type, topic and schema file.
"""

import json
import subprocess
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import Field, create_model

from schemas.compat import Incompatibility, find_incompatibilities
from schemas.events import (
    PAYLOADS,
    DocumentFailedV1,
    DocumentUploadedV1,
    Payload,
)
from schemas.export import SCHEMA_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]


def committed_versions(event_type: str) -> list[dict[str, Any]]:
    """Return the distinct committed schemas of an event type, newest first."""
    path = SCHEMA_DIR / f"{event_type}.json"
    texts = [path.read_text()] if path.exists() else []
    relative = path.relative_to(REPO_ROOT).as_posix()
    try:
        commits = subprocess.run(
            ["git", "log", "--format=%H", "--", relative],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for commit in commits:
            texts.append(
                subprocess.run(
                    ["git", "show", f"{commit}:{relative}"],
                    cwd=REPO_ROOT,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
    except (OSError, subprocess.CalledProcessError):
        pass  # no git or no history: the working-tree file is the baseline
    unique = list(dict.fromkeys(texts))
    return [json.loads(text) for text in unique]


def variant(base: type[Payload], drop: tuple[str, ...] = (), **fields: Any) -> type:
    """Build a model like `base`, without `drop` and with `fields` replaced."""
    kept: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in base.model_fields.items()
        if name not in drop
    }
    kept.update(fields)
    return create_model(base.__name__, __base__=Payload, **kept)


def kinds(problems: list[Incompatibility]) -> set[tuple[str, str]]:
    return {(problem.path, problem.kind) for problem in problems}


def uploaded_schema() -> dict[str, Any]:
    return DocumentUploadedV1.model_json_schema()


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_payload_compatible_with_committed(event_type: str) -> None:
    current = PAYLOADS[event_type].model_json_schema()
    for committed in committed_versions(event_type):
        problems = find_incompatibilities(committed, current)
        assert problems == [], (
            f"{event_type} breaks its committed schema: "
            + "; ".join(str(problem) for problem in problems)
            + ". Make the change backward compatible (add optional fields "
            "only) or publish a new major version"
        )


def test_removed_property_caught() -> None:
    broken = variant(DocumentUploadedV1, drop=("filename",))
    problems = find_incompatibilities(uploaded_schema(), broken.model_json_schema())
    assert kinds(problems) == {("filename", "removed")}


def test_newly_required_property_caught() -> None:
    broken = variant(DocumentUploadedV1, attempt=(int, Field(ge=1)))
    problems = find_incompatibilities(uploaded_schema(), broken.model_json_schema())
    assert kinds(problems) == {("attempt", "newly_required")}


def test_new_required_property_caught() -> None:
    broken = variant(DocumentUploadedV1, pages=(int, ...))
    problems = find_incompatibilities(uploaded_schema(), broken.model_json_schema())
    assert kinds(problems) == {("pages", "newly_required")}


def test_changed_type_caught() -> None:
    broken = variant(DocumentUploadedV1, size_bytes=(str, ...))
    problems = find_incompatibilities(uploaded_schema(), broken.model_json_schema())
    assert kinds(problems) == {("size_bytes", "type_changed")}


def test_nullable_type_caught() -> None:
    broken = variant(DocumentUploadedV1, filename=(str | None, None))
    problems = find_incompatibilities(uploaded_schema(), broken.model_json_schema())
    assert ("filename", "type_changed") in kinds(problems)


def test_narrowed_enum_caught() -> None:
    broken = variant(DocumentFailedV1, outcome=(Literal["failed"], ...))
    problems = find_incompatibilities(
        DocumentFailedV1.model_json_schema(), broken.model_json_schema()
    )
    assert kinds(problems) == {("outcome", "enum_narrowed")}


def test_optional_field_is_compatible() -> None:
    extended = variant(DocumentUploadedV1, note=(str | None, None))
    assert find_incompatibilities(uploaded_schema(), extended.model_json_schema()) == []


def test_widened_enum_is_compatible() -> None:
    extended = variant(
        DocumentFailedV1, outcome=(Literal["failed", "no_text", "skipped"], ...)
    )
    problems = find_incompatibilities(
        DocumentFailedV1.model_json_schema(), extended.model_json_schema()
    )
    assert problems == []


def test_nested_ref_property_removed() -> None:
    old = {
        "properties": {"page": {"$ref": "#/$defs/Page"}},
        "$defs": {"Page": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    }
    new = {
        "properties": {"page": {"$ref": "#/$defs/Page"}},
        "$defs": {"Page": {"type": "object", "properties": {}}},
    }
    assert kinds(find_incompatibilities(old, new)) == {("page.n", "removed")}


def test_array_item_type_changed() -> None:
    old = {"properties": {"pages": {"type": "array", "items": {"type": "integer"}}}}
    new = {"properties": {"pages": {"type": "array", "items": {"type": "string"}}}}
    assert kinds(find_incompatibilities(old, new)) == {("pages[]", "type_changed")}


def test_committed_versions_found() -> None:
    assert committed_versions("dev.tidings.document.uploaded.v1") != []
