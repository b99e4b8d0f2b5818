"""The JSON Schema (2020-12) of a signed envelope as it travels, for systems in any language.

One document holds the CloudEvents envelope, the detached signature, and the `data` schema of
every message type and version: `type` selects which `data` schema applies. It is generated
from the same pydantic models the hub validates with, and published as
`contracts/schemas/envelope.schema.json` (a test keeps the published file current):

    python -m crossforce.contracts.envelope_schema
    crossforce contracts export contracts/schemas     # or, from the CLI

The AsyncAPI document (`crossforce.broker.asyncapi`) takes its schemas from `definitions` too,
so the two never disagree.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from crossforce.contracts.envelope import SCHEMA_PREFIX, Envelope
from crossforce.contracts.messages.base import Message
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.schema_export import JSON_SCHEMA_DIALECT, SNAPSHOT_DIR, dumps

Schema = dict[str, Any]

ENVELOPE_SCHEMA_ID = f"{SCHEMA_PREFIX}envelope"
ENVELOPE_SCHEMA_FILE = "envelope.schema.json"
ENVELOPE = "Envelope"
# `header..signature`, both base64url without padding (RFC 7515 Appendix F).
SIGNATURE_PATTERN = r"^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$"
SIGNATURE_DESCRIPTION = (
    "Compact detached JWS (RFC 7515 Appendix F): protected header `{alg: Ed25519, kid}` "
    "(RFC 8037, RFC 9864; kid = RFC 7638 thumbprint of the sender's key), then two dots, "
    "then the signature. The payload is the RFC 8785 canonical JSON of this envelope "
    "without its `signature` member, exactly as the sender wrote it."
)


def definitions(ref_prefix: str) -> tuple[dict[str, Schema], dict[str, str]]:
    """(name -> schema of the envelope and every message's data, type URI -> data schema name).

    References between the schemas are `ref_prefix + name`, so the caller chooses where they
    live: `#/$defs/` in a JSON Schema, `#/components/schemas/` in an AsyncAPI document."""
    models: list[type[Envelope] | type[Message]] = [Envelope, *REGISTRY.catalogue()]
    refs, top = models_json_schema(
        [(model, "validation") for model in models], ref_template=ref_prefix + "{model}"
    )
    schemas: dict[str, Schema] = top["$defs"]
    names = {
        model.type_uri(): refs[(model, "validation")]["$ref"].removeprefix(ref_prefix)
        for model in REGISTRY.catalogue()
    }
    # On the wire an envelope is always signed: the hub refuses one without (MISSING_SIGNATURE).
    envelope = schemas[ENVELOPE]
    envelope["description"] = (
        "A signed Crossforce message: CloudEvents 1.0 attributes and extensions, the typed "
        "`data`, and a detached JWS `signature`."
    )
    envelope["properties"]["signature"] = {
        "type": "string",
        "pattern": SIGNATURE_PATTERN,
        "description": SIGNATURE_DESCRIPTION,
    }
    envelope["required"] = [*envelope["required"], "signature"]
    return schemas, names


def typed_envelope(type_uri: str, data_ref: str, envelope_ref: str) -> Schema:
    """The envelope whose `type` is `type_uri`, with that type's `data` schema."""
    return {
        "allOf": [
            {"$ref": envelope_ref},
            {
                "type": "object",
                "properties": {
                    "type": {"const": type_uri},
                    "data": {"$ref": data_ref},
                },
            },
        ]
    }


def envelope_json_schema() -> Schema:
    """The published JSON Schema: any envelope the hub would accept the shape of."""
    schemas, names = definitions("#/$defs/")
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": ENVELOPE_SCHEMA_ID,
        "title": "Crossforce signed envelope",
        "description": (
            "A signed Crossforce envelope as it travels over NATS. `type` names the message "
            "type and version; `data` must match that version's schema. Passing this schema "
            "says nothing of the signature itself: verify it against the trust store."
        ),
        "$ref": f"#/$defs/{ENVELOPE}",
        "properties": {"type": {"enum": sorted(names)}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": uri}}, "required": ["type"]},
                "then": {"properties": {"data": {"$ref": f"#/$defs/{name}"}}},
            }
            for uri, name in sorted(names.items())
        ],
        "$defs": schemas,
    }


def write_envelope_schema(directory: Path = SNAPSHOT_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ENVELOPE_SCHEMA_FILE
    path.write_text(dumps(envelope_json_schema()), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the envelope's JSON Schema.")
    parser.add_argument("directory", nargs="?", type=Path, default=SNAPSHOT_DIR)
    args = parser.parse_args(argv)
    print(f"wrote {write_envelope_schema(args.directory)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
