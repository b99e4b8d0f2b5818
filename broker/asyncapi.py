"""The AsyncAPI 3.0 document of Crossforce as a force system sees it.

A force publishes signed envelopes on its own inbound subject and reads three durable pull
consumers: its priority deliveries, its routine deliveries and its receipts (architecture
decision 3; `adapters/nats/subjects.py`). The document describes exactly that, from the
force's side: `send` is what the force publishes, `receive` what it reads. Each payload is the
whole signed envelope, with the `data` schema of its type and version; headers, servers and
the nkey / TLS security are included.

The schemas come from `crossforce.contracts.envelope_schema.definitions`, hoisted into
`components/schemas` so every `$ref` resolves inside the document (the official
`@asyncapi/parser` reports no errors; `tests/unit/test_asyncapi.py` runs it). The published
copy is `contracts/asyncapi.json`:

    crossforce docs asyncapi --out contracts/asyncapi.json
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import yaml

from crossforce.adapters.nats import subjects
from crossforce.broker.domain.ladder import LadderTask
from crossforce.broker.service.case_handlers import HUB_ONLY
from crossforce.contracts.envelope import parse_type_uri
from crossforce.contracts.envelope_schema import ENVELOPE, definitions, typed_envelope
from crossforce.contracts.forces import FORCES
from crossforce.contracts.messages.base import Message
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.vectors import receipt_vectors, signature_vectors

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_TITLE = "Crossforce: the force interface"
DOCUMENT_ID = "urn:crossforce:asyncapi:force"
SCHEMAS = "#/components/schemas/"

Format = Literal["json", "yaml"]
Schema = dict[str, Any]

# Channel and operation names.
INBOUND = "inbound"
DELIVERIES = "deliveries"
PRIORITY = "priorityDeliveries"
RECEIPTS = "receipts"

# Header schema names.
SENT_HEADERS = "SentHeaders"
DELIVERY_HEADERS = "DeliveryHeaders"
RECEIPT_HEADERS = "ReceiptHeaders"

FORCE_PLACEHOLDER = "{force}"
CASE_PLACEHOLDER = "{caseRef}"
RECEIPT = "receipt"

DESCRIPTION = """\
Hub-mediated cross-force messaging for DVDS / DSDAS work over NATS JetStream.

A force system publishes only to its own inbound subject and reads only its own queues; NATS
permissions enforce both. The hub verifies every envelope (size and format, signature, sender,
schema version, role authority, case state), then delivers it to the forces that need to know
and answers the sender with a signed receipt: accepted, or rejected with a stable reason code.

Every payload is a whole signed envelope (CloudEvents 1.0 with Crossforce extensions). Its
`signature` is a compact detached JWS with `alg: Ed25519` over the RFC 8785 canonical JSON of
the envelope without `signature`; the optional `actor` extension, naming the person who
acted at the sending force, is covered like every other member. Verify every delivery and
receipt against the trust store before acting on it. The same envelope schema is published
as JSON Schema (2020-12) in `contracts/schemas/envelope.schema.json`, and conformance
vectors in `contracts/vectors/v1/`.

The three queues are durable JetStream pull consumers on stream `CF_DELIVERY`, named
`<FORCE>_priority`, `<FORCE>_msg` and `<FORCE>_receipt`; ack each message once your system
holds it. Pull requests must use the inbox prefix `_INBOX_<FORCE>`. Publish with JetStream
(`Nats-Msg-Id` = the envelope id): to retry, send the same envelope again."""


def _package_version() -> str:
    try:
        return version("crossforce")
    except PackageNotFoundError:
        return "0.0.0"


def _message_key(type_uri: str, *, delivered: bool) -> str:
    name, number = parse_type_uri(type_uri)
    return f"{name}.v{number}" + (".delivered" if delivered else "")


def _header_schemas() -> dict[str, Schema]:
    text = {"type": "string"}
    return {
        SENT_HEADERS: {
            "type": "object",
            "description": "Headers a force sets when it publishes an envelope.",
            "required": ["Nats-Msg-Id"],
            "properties": {
                "Nats-Msg-Id": {
                    **text,
                    "description": (
                        "The envelope's `id`. JetStream stores a repeat only once, and the hub "
                        "never applies an envelope twice: to retry, send the same envelope "
                        "again."
                    ),
                },
            },
        },
        DELIVERY_HEADERS: {
            "type": "object",
            "description": (
                "Headers the hub sets on a delivery. Priority, applicant channel and task are "
                "signed by the hub in Crossforce-Delivery-Note; the others are not signed."
            ),
            "required": ["Nats-Msg-Id", "Crossforce-Type"],
            "properties": {
                "Nats-Msg-Id": {**text, "description": "The hub's id for this delivery."},
                "Crossforce-Type": {**text, "description": "The envelope's `type`."},
                "Crossforce-Case": {**text, "description": "The envelope's `caseref`."},
                "Crossforce-Priority": {
                    "const": "immediate-risk",
                    "description": "Present on immediate-risk traffic: act on it first.",
                },
                "Crossforce-Applicant-Channel": {
                    "const": "false",
                    "description": (
                        "Present when the outcome must not reach the applicant, because "
                        "someone else receives the disclosure (000 §3.3.3)."
                    ),
                },
                "Crossforce-Audience": {
                    **text,
                    "description": "Escalations: the comma-separated roles it is for.",
                },
                "Crossforce-Task": {
                    "enum": [task.value for task in LadderTask],
                    "description": "Escalations: a task this force must now do.",
                },
                "Crossforce-Delivery-Note": {
                    **text,
                    "description": (
                        "The hub's detached JWS (alg Ed25519, kid a HUB key in the trust "
                        "store) over the RFC 8785 JSON {envelope: the envelope id, to: this "
                        "force, priority: bool, applicant_channel: bool, tasks: [Crossforce-Task "
                        "values]} rebuilt from the headers above. A delivery whose note does "
                        "not verify must not be acted on."
                    ),
                },
            },
        },
        RECEIPT_HEADERS: {
            "type": "object",
            "description": "Headers the hub sets on a receipt (they are not signed).",
            "required": ["Nats-Msg-Id", "Crossforce-Type", "Crossforce-In-Reply-To"],
            "properties": {
                "Nats-Msg-Id": {**text, "description": "The hub's id for this receipt."},
                "Crossforce-Type": {**text, "description": "The receipt's `type`."},
                "Crossforce-In-Reply-To": {
                    **text,
                    "description": "The id of the envelope this receipt answers.",
                },
            },
        },
    }


def _message(model: type[Message], *, headers: str, delivered: bool) -> Schema:
    type_uri = model.type_uri()
    summary = " ".join((model.__doc__ or type_uri).strip().split("\n\n")[0].split())
    message: Schema = {
        "name": type_uri,
        "title": _message_key(type_uri, delivered=delivered),
        "summary": summary,
        "contentType": "application/json",
        "headers": {"$ref": SCHEMAS + headers},
        "payload": {"$ref": SCHEMAS + type_uri},
        "correlationId": {
            "description": "The envelope id; its receipt carries it as `data.in_reply_to`.",
            "location": "$message.payload#/id",
        },
    }
    if model.NAME == RECEIPT:
        message["correlationId"] = {
            "description": "The id of the envelope this receipt answers.",
            "location": "$message.payload#/data/in_reply_to",
        }
    return message


def _examples() -> dict[str, list[Schema]]:
    """Message key -> examples: real signed envelopes from the conformance vectors, so the
    parser checks each schema against what actually travels."""
    valid = next(c for c in signature_vectors()["cases"] if c["name"] == "valid")
    receipts = {c["name"]: c["envelope"] for c in receipt_vectors()["cases"]}
    sent = valid["envelope"]
    return {
        _message_key(sent["type"], delivered=False): [
            {
                "name": "signed",
                "summary": "An enquiry as Essex signs and sends it (conformance vectors v1)",
                "headers": {"Nats-Msg-Id": sent["id"]},
                "payload": sent,
            }
        ],
        _message_key(sent["type"], delivered=True): [
            {
                "name": "delivered",
                "summary": "The same enquiry as the hub delivers it to Kent, unchanged",
                "headers": {
                    "Nats-Msg-Id": f"{sent['id']}/deliver/KENT",
                    "Crossforce-Type": sent["type"],
                    "Crossforce-Case": sent["caseref"],
                },
                "payload": sent,
            }
        ],
        _message_key(receipts["accepted"]["type"], delivered=False): [
            {
                "name": name,
                "summary": summary,
                "headers": {
                    "Nats-Msg-Id": f"{receipts[name]['causationid']}/receipt",
                    "Crossforce-Type": receipts[name]["type"],
                    "Crossforce-In-Reply-To": receipts[name]["causationid"],
                },
                "payload": receipts[name],
            }
            for name, summary in (
                ("accepted", "The hub accepted the envelope"),
                ("rejected-BAD_SIGNATURE", "The hub refused it: the signature does not verify"),
            )
        ],
    }


def _channel(address: str, description: str, keys: list[str]) -> Schema:
    parameters: Schema = {
        "force": {
            "description": "Your force code from the force directory (the nkey user's force).",
            "enum": sorted(FORCES),
            "examples": ["KENT"],
        }
    }
    if CASE_PLACEHOLDER in address:
        parameters["caseRef"] = {
            "description": (
                "The envelope's `caseref` (letters, digits, `_` and `-`; up to 64 characters)."
            ),
            "examples": ["CF-2026-000123"],
        }
    return {
        "address": address,
        "description": description,
        "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in keys},
        "parameters": parameters,
    }


def _operation(action: str, channel: str, keys: list[str], description: str) -> Schema:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "description": description,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{key}"} for key in keys],
    }


def _servers() -> Schema:
    return {
        "production": {
            "host": "{host}:{port}",
            "protocol": "nats",
            "title": "A Crossforce NATS cluster",
            "description": (
                "The deployment's JetStream cluster (give every node's URL). Each force "
                "connects as its own nkey user and, on TLS deployments, checks the servers' "
                "certificates against the deployment CA; `crossforce deploy nats-config "
                "[--tls]` writes both."
            ),
            "variables": {
                "host": {
                    "description": "A cluster node's host name",
                    "default": "nats.crossforce.example",
                },
                "port": {"description": "The client port", "default": "4222"},
            },
            "security": [
                {"$ref": "#/components/securitySchemes/nkey"},
                {"$ref": "#/components/securitySchemes/tls"},
            ],
        },
        "embedded": {
            "host": "localhost:4222",
            "protocol": "nats",
            "title": "The embedded development broker",
            "description": "`crossforce up` with no --nats-url: no authentication, no TLS.",
        },
    }


def _security_schemes() -> Schema:
    return {
        "nkey": {
            "type": "asymmetricEncryption",
            "description": (
                "NATS nkey authentication: the server sends a nonce and the client signs it "
                "with the force's Ed25519 nkey seed (`creds/<FORCE>.nk` from `crossforce "
                "deploy nats-config`). The user may publish only to `cf.in.<FORCE>.>` and "
                "read only its own consumers and `_INBOX_<FORCE>.>` replies."
            ),
        },
        "tls": {
            "type": "X509",
            "description": (
                "TLS: on deployments made with `--tls` the servers accept only TLS, and the "
                "client verifies their certificates against the deployment CA "
                "(`tls/ca.pem`). Client certificates are not used; identity is the nkey."
            ),
        },
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI document as plain JSON data."""
    schemas, data_names = definitions(SCHEMAS)
    schemas.update(_header_schemas())
    catalogue = REGISTRY.catalogue()
    for model in catalogue:
        uri = model.type_uri()
        schemas[uri] = typed_envelope(uri, SCHEMAS + data_names[uri], SCHEMAS + ENVELOPE)

    forwarded = [model for model in catalogue if model.NAME != RECEIPT]
    sendable = [model for model in forwarded if model.NAME not in HUB_ONLY]
    receipts = [model for model in catalogue if model.NAME == RECEIPT]

    messages: dict[str, Schema] = {}
    for models, headers, delivered in (
        (sendable, SENT_HEADERS, False),
        (forwarded, DELIVERY_HEADERS, True),
        (receipts, RECEIPT_HEADERS, False),
    ):
        for model in models:
            messages[_message_key(model.type_uri(), delivered=delivered)] = _message(
                model, headers=headers, delivered=delivered
            )
    for key, examples in _examples().items():
        messages[key]["examples"] = examples
    sent_keys = [_message_key(m.type_uri(), delivered=False) for m in sendable]
    delivered_keys = [_message_key(m.type_uri(), delivered=True) for m in forwarded]
    receipt_keys = [_message_key(m.type_uri(), delivered=False) for m in receipts]

    channels = {
        INBOUND: _channel(
            subjects.inbound_subject(FORCE_PLACEHOLDER, CASE_PLACEHOLDER),
            "Where a force publishes its signed envelopes: its own code, then the case "
            "reference. Publish with JetStream; the hub reads from stream CF_INBOUND.",
            sent_keys,
        ),
        PRIORITY: _channel(
            subjects.priority_subject(FORCE_PLACEHOLDER),
            "Immediate-risk deliveries (durable pull consumer `<FORCE>_priority` on "
            "CF_DELIVERY): read these before routine deliveries.",
            delivered_keys,
        ),
        DELIVERIES: _channel(
            subjects.delivery_subject(FORCE_PLACEHOLDER),
            "Routine deliveries, need-to-know (durable pull consumer `<FORCE>_msg` on "
            "CF_DELIVERY). The hub decides who needs each message from the case; an "
            "envelope's `recipients` is the sender's statement, not the routing.",
            delivered_keys,
        ),
        RECEIPTS: _channel(
            subjects.receipt_subject(FORCE_PLACEHOLDER),
            "The hub's signed receipt for each envelope this force sent, accepted or "
            "rejected with a stable reason code (durable pull consumer `<FORCE>_receipt` "
            "on CF_DELIVERY; the supervisors' web app reads the same receipts through its own, "
            "`<FORCE>_receipt_web`).",
            receipt_keys,
        ),
    }
    send = _operation(
        "send",
        INBOUND,
        sent_keys,
        "Publish a signed envelope. The hub answers on your receipts channel.",
    )
    send["reply"] = {
        "channel": {"$ref": f"#/channels/{RECEIPTS}"},
        "messages": [{"$ref": f"#/channels/{RECEIPTS}/messages/{key}"} for key in receipt_keys],
    }
    operations = {
        "sendEnvelope": send,
        "receivePriorityDelivery": _operation(
            "receive", PRIORITY, delivered_keys, "Read immediate-risk deliveries first."
        ),
        "receiveDelivery": _operation(
            "receive", DELIVERIES, delivered_keys, "Read routine deliveries, oldest first."
        ),
        "receiveReceipt": _operation(
            "receive", RECEIPTS, receipt_keys, "Read the hub's receipts for what you sent."
        ),
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": DOCUMENT_ID,
        "info": {
            "title": DOCUMENT_TITLE,
            "version": _package_version(),
            "description": DESCRIPTION,
            "license": {"name": "MIT"},
        },
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "messages": messages,
            "securitySchemes": _security_schemes(),
        },
    }


def render(document: dict[str, Any], fmt: Format = "json") -> str:
    if fmt == "yaml":
        return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
