"""What the hub says about one delivery, signed: priority, applicant channel and tasks.

A forwarded envelope is signed by its sender, so the hub cannot add to it; yet how a force
must treat a delivery (act on it first, keep it from the applicant, tell the applicant of a
delay) changes what the force may do. So the hub signs those flags too: a detached JWS over
the canonical JSON of {envelope, to, priority, applicant_channel, tasks}, carried in the
`Crossforce-Delivery-Note` header beside the flags' own plain headers. A recipient rebuilds
the JSON from the headers, the envelope id and its own force code, and verifies it against
the hub's key in its trust store; a delivery whose note fails is not shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crossforce.contracts import headers
from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.envelope import HUB_FORCE_CODE
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.jws import read_header, sign_detached, signing_input
from crossforce.contracts.keys import Signer, verify_raw
from crossforce.contracts.trust import TrustStore

DELIVERY_NOTE_HEADER = headers.DELIVERY_NOTE
PRIORITY_HEADER = headers.PRIORITY
APPLICANT_CHANNEL_HEADER = headers.APPLICANT_CHANNEL
TASK_HEADER = headers.TASK
IMMEDIATE_RISK = "immediate-risk"


@dataclass(frozen=True, slots=True)
class DeliveryFlags:
    envelope_id: str
    to_force: str
    priority: bool = False  # immediate risk: the force acts on it first
    # False when the outcome must not reach the applicant: someone else receives it.
    applicant_channel: bool = True
    tasks: tuple[str, ...] = ()  # e.g. "delay-notified": tell the applicant of a slip

    def payload(self) -> bytes:
        return canonical_json(
            {
                "envelope": self.envelope_id,
                "to": self.to_force,
                "priority": self.priority,
                "applicant_channel": self.applicant_channel,
                "tasks": list(self.tasks),
            }
        )

    def plain_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.priority:
            headers[PRIORITY_HEADER] = IMMEDIATE_RISK
        if not self.applicant_channel:
            headers[APPLICANT_CHANNEL_HEADER] = "false"
        if self.tasks:
            headers[TASK_HEADER] = ",".join(self.tasks)
        return headers

    @classmethod
    def from_headers(
        cls, envelope_id: str, to_force: str, headers: Mapping[str, str]
    ) -> DeliveryFlags:
        tasks = tuple(task for task in headers.get(TASK_HEADER, "").split(",") if task)
        return cls(
            envelope_id,
            to_force,
            priority=headers.get(PRIORITY_HEADER) == IMMEDIATE_RISK,
            applicant_channel=headers.get(APPLICANT_CHANNEL_HEADER) != "false",
            tasks=tasks,
        )


def signed_headers(flags: DeliveryFlags, hub_key: Signer) -> dict[str, str]:
    """The flags' plain headers and the hub's note over them."""
    return {
        **flags.plain_headers(),
        DELIVERY_NOTE_HEADER: sign_detached(flags.payload(), hub_key),
    }


def verified_flags(
    envelope_id: str, to_force: str, headers: Mapping[str, str], trust: TrustStore
) -> DeliveryFlags:
    """The flags a delivery arrived with, once the hub's note over them verifies."""
    token = headers.get(DELIVERY_NOTE_HEADER)
    if not token:
        raise ContractError(ReasonCode.MISSING_SIGNATURE, "the delivery has no hub note")
    flags = DeliveryFlags.from_headers(envelope_id, to_force, headers)
    kid = read_header(token)["kid"]
    hub_keys = trust.key_set(HUB_FORCE_CODE)
    record = hub_keys.find(kid) if hub_keys is not None else None
    if record is None:
        raise ContractError(ReasonCode.UNKNOWN_KEY, f"no trusted hub key {kid}")
    data, signature = signing_input(token, flags.payload())
    if not verify_raw(record.public_key(), signature, data):
        raise ContractError(
            ReasonCode.BAD_SIGNATURE, "the hub's note does not match the delivery's flags"
        )
    return flags
