"""Published schemas may only change compatibly; every version has a committed snapshot."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from crossforce.contracts.examples import example_data
from crossforce.contracts.messages.base import Message
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.schema_export import (
    REFRESH_HINT,
    SNAPSHOT_DIR,
    IncompatibleSchemaError,
    all_schemas,
    file_name,
    incompatibilities,
    load_snapshots,
    schema_for,
    write_schemas,
)

SNAPSHOTS = load_snapshots()
CURRENT = all_schemas()


@pytest.mark.parametrize("name", sorted(CURRENT))
def test_every_type_and_version_has_a_snapshot(name: str) -> None:
    assert name in SNAPSHOTS, f"no snapshot for {name}: {REFRESH_HINT}"


@pytest.mark.parametrize("name", sorted(SNAPSHOTS))
def test_no_published_version_disappears(name: str) -> None:
    assert name in CURRENT, (
        f"{name} is published but no longer registered; published versions stay accepted "
        "for ever (contracts/registry.py)"
    )


@pytest.mark.parametrize("name", sorted(set(SNAPSHOTS) & set(CURRENT)))
def test_published_schema_changes_only_compatibly(name: str) -> None:
    problems = incompatibilities(SNAPSHOTS[name], CURRENT[name])
    assert not problems, (
        f"{name} changed incompatibly; publish a new version with an upcaster instead:\n  "
        + "\n  ".join(problems)
    )


@pytest.mark.parametrize("name", sorted(set(SNAPSHOTS) & set(CURRENT)))
def test_snapshot_is_up_to_date(name: str) -> None:
    assert SNAPSHOTS[name] == CURRENT[name], f"{name} changed compatibly: {REFRESH_HINT}"


@pytest.mark.parametrize("model", REGISTRY.catalogue(), ids=lambda m: m.type_uri())
def test_examples_validate_against_the_exported_schema(model: type[Message]) -> None:
    # An independent validator reads the same contract as pydantic.
    schema = schema_for(model)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(example_data(model.NAME, "KENT", "ESSEX", model.VERSION), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"nonsense": True}, schema)


def test_schema_names_and_ids() -> None:
    schema = CURRENT["uk.police.dvds.enquiry-requested.v1.json"]
    assert schema["$id"] == "urn:crossforce:schema:uk.police.dvds.enquiry-requested.v1"
    assert schema["title"] == "uk.police.dvds.enquiry-requested.v1"
    assert file_name("case-opened", 1) == "uk.police.dvds.case-opened.v1.json"
    assert SNAPSHOT_DIR.name == "schemas"


# The checker itself --------------------------------------------------------------------------

BASE = CURRENT["uk.police.dvds.case-opened.v1.json"]


def changed(edit) -> list[str]:  # type: ignore[no-untyped-def]
    new = copy.deepcopy(BASE)
    edit(new)
    return incompatibilities(BASE, new)


def test_identical_schema_is_compatible() -> None:
    assert changed(lambda s: None) == []


def test_new_optional_field_is_compatible() -> None:
    assert changed(lambda s: s["properties"].update(extra_note={"type": "string"})) == []


def test_wider_enum_and_looser_limit_are_compatible() -> None:
    def widen(s: dict) -> None:
        s["$defs"]["Route"]["enum"].append("right-to-wonder")
        s["properties"]["parties"]["maxItems"] = 500

    assert changed(widen) == []


def test_removed_field_is_incompatible() -> None:
    assert changed(lambda s: s["properties"].pop("local_reference")) == [
        "$.local_reference: field removed or renamed"
    ]


def test_new_required_field_is_incompatible() -> None:
    def require(s: dict) -> None:
        s["properties"]["officer"] = {"type": "string"}
        s["required"].append("officer")

    assert changed(require) == ["$.officer: newly required"]


def test_optional_becoming_required_is_incompatible() -> None:
    assert changed(lambda s: s["required"].append("local_reference")) == [
        "$.local_reference: newly required"
    ]


def test_changed_type_is_incompatible() -> None:
    def retype(s: dict) -> None:
        s["$defs"]["Party"]["properties"]["identity_verified"]["type"] = "string"

    assert changed(retype) == [
        "$.parties[].identity_verified: type changed from ['boolean'] to ['string']"
    ]


def test_narrowed_enum_is_incompatible() -> None:
    found = changed(lambda s: s["$defs"]["Route"]["enum"].remove("right-to-know"))
    assert found == ["$.route: enum no longer accepts ['right-to-know']"]


def test_narrowed_enum_behind_optional_is_incompatible() -> None:
    found = changed(lambda s: s["$defs"]["ApplicantRole"]["enum"].remove("C"))
    assert found == ["$.applicant_role|0: enum no longer accepts ['C']"]


def test_tighter_limits_and_patterns_are_incompatible() -> None:
    def tighten(s: dict) -> None:
        s["properties"]["parties"]["maxItems"] = 5
        s["$defs"]["Party"]["properties"]["party_id"]["pattern"] = "^P[0-9]$"

    found = changed(tighten)
    assert "$.parties: maxItems tightened to 5" in found
    assert any(f.startswith("$.parties[].party_id: pattern changed") for f in found)


def test_write_refuses_incompatible_overwrite(tmp_path: Path) -> None:
    written = write_schemas(tmp_path)
    assert {p.name for p in written} == set(CURRENT)
    target = tmp_path / "uk.police.dvds.case-opened.v1.json"
    published = json.loads(target.read_text())
    published["properties"]["retired_field"] = {"type": "string"}
    target.write_text(json.dumps(published))
    with pytest.raises(IncompatibleSchemaError, match="retired_field: field removed"):
        write_schemas(tmp_path)
    write_schemas(tmp_path, force=True)
    assert json.loads(target.read_text()) == CURRENT[target.name]
