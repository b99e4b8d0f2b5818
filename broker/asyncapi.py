"""The AsyncAPI 3.0 document of the hub: every subject it reads or writes, and every message
type and version that travels on them.

FastStream's generator does the work over the real hub app from `build_hub` (its inbound
partition subscribers), plus documentation-only publishers for what the hub sends: deliveries,
receipts, the case log and dead letters. The payload of each message is the published JSON
Schema of the contracts (`contracts.schema_export.all_schemas`), one per (type, version),
under `components/schemas/<type URI>`; each schema keeps its `$id`, so its internal
`#/$defs/...` references resolve within it. On the wire every payload is the `data` of a
signed CloudEvents envelope whose `type` is that URI.

    crossforce docs asyncapi --out asyncapi.json
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Literal

import yaml
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from sqlalchemy import create_engine

from adapters.nats import subjects
from broker.hub.app import HubConnection, build_hub
from broker.service.case_handlers import CaseHandlers
from broker.service.pipeline import HubPipeline
from contracts.envelope import HUB_FORCE_CODE
from contracts.keys import utcnow
from contracts.pki import EphemeralPki
from contracts.registry import REGISTRY
from contracts.schema_export import schema_for

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_TITLE = "Crossforce hub"
DOCUMENT_VERSION = "0.1.0"
PLACEHOLDER_URL = "nats://localhost:4222"

Format = Literal["json", "yaml"]

# Channel titles of the documentation-only publishers, and what each carries.
DELIVERY = "hub-delivery"
PRIORITY = "hub-priority-delivery"
RECEIPT = "hub-receipt"
CASELOG = "hub-case-log"
DEADLETTER = "hub-dead-letter"


PARAMETERS = {
    "force": "A force code from the force directory, e.g. KENT or PSOS",
    "case_ref": "The case reference the envelope belongs to",
}


def _type_uris(*, receipts: bool) -> list[str]:
    return [
        model.type_uri() for model in REGISTRY.catalogue() if (model.NAME == "receipt") is receipts
    ]


def _documented_broker(nats_url: str, partitions: int) -> NatsBroker:
    """The hub's broker (never connected), with publishers for every outbound subject."""
    # A throwaway pipeline (in-memory database, fresh keys): describing the app handles nothing.
    pki = EphemeralPki([HUB_FORCE_CODE])
    engine = create_engine("sqlite://")
    pipeline = HubPipeline(
        engine,
        pki.trust_store(),
        pki.key(HUB_FORCE_CODE),
        CaseHandlers(engine, subject_key_secret=os.urandom(32)),
        clock=utcnow,
    )
    _, broker = build_hub(HubConnection(nats_url, partitions=partitions), pipeline)
    broker.publisher(
        subjects.delivery_subject("{force}"),
        title=DELIVERY,
        description="Verified envelopes for one force, need-to-know (any message type)",
    )
    broker.publisher(
        subjects.priority_subject("{force}"),
        title=PRIORITY,
        description="Immediate-risk envelopes for one force, read before routine deliveries",
    )
    broker.publisher(
        subjects.receipt_subject("{force}"),
        title=RECEIPT,
        description="The hub's signed receipt (accepted or rejected) for each sent envelope",
    )
    broker.publisher(
        subjects.caselog_subject("{case_ref}"),
        title=CASELOG,
        description="Every accepted envelope of one case, in order (the case log)",
    )
    broker.publisher(
        subjects.deadletter_subject("{force}"),
        title=DEADLETTER,
        description="The exact bytes of a rejected or undeliverable inbound message",
        schema=bytes,
    )
    return broker


def _refs(uris: list[str]) -> dict[str, Any]:
    return {"oneOf": [{"$ref": f"#/components/schemas/{uri}"} for uri in uris]}


def _payload_for(channel: str) -> dict[str, Any] | None:
    if channel.startswith("hub-inbound") or channel in (DELIVERY, PRIORITY, CASELOG):
        return _refs(_type_uris(receipts=False))
    if channel == RECEIPT:
        return _refs(_type_uris(receipts=True))
    return None


def asyncapi_document(
    *, nats_url: str = PLACEHOLDER_URL, partitions: int = subjects.DEFAULT_PARTITIONS
) -> dict[str, Any]:
    """The AsyncAPI document as plain JSON data."""
    broker = _documented_broker(nats_url, partitions)
    specification = AsyncAPI(
        broker,
        title=DOCUMENT_TITLE,
        version=DOCUMENT_VERSION,
        description=(
            "Hub-mediated cross-force messaging over NATS JetStream. Forces publish signed "
            "envelopes to cf.in.<FORCE>.<case_ref> (mapped onto the partitions below) and read "
            "their deliveries and receipts from cf.out.<FORCE>.*."
        ),
        schema_version=ASYNCAPI_VERSION,
    ).to_specification()
    document: dict[str, Any] = json.loads(specification.to_json())
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in REGISTRY.catalogue():
        schemas[model.type_uri()] = schema_for(model)
    for message in components.get("messages", {}).values():
        channel = str(message.get("title", "")).split(":")[0]
        payload = _payload_for(channel)
        if payload is None:
            continue
        replaced = str(message.get("payload", {}).get("$ref", ""))
        schemas.pop(replaced.removeprefix("#/components/schemas/"), None)
        message["payload"] = payload
    for channel in document.get("channels", {}).values():
        names = re.findall(r"{(\w+)}", str(channel.get("address", "")))
        if names:
            channel["parameters"] = {name: {"description": PARAMETERS[name]} for name in names}
    return document


def render(document: dict[str, Any], fmt: Format = "json") -> str:
    if fmt == "yaml":
        return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
