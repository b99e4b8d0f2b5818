"""Actions a supervisor takes from the app, each a signed envelope under the force's key.

Only actions an existing message type carries are offered: recording that the applicant
was told of a delay is `delay-notified` (001 ¶34(f)). Acknowledging an escalation, chasing
the owning force and reassigning a part within a force have no message type yet, so the
app lists them as tasks and does not invent a hub rule for them (decision 0022).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Protocol

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.web.store import Account
from crossforce.broker.domain.calendar import LONDON
from crossforce.broker.domain.parts import OPEN_STATUSES
from crossforce.broker.domain.views import CaseView
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import SigningKey
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.disclosure import DelayNotified
from crossforce.contracts.trust import TrustStore


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    accepted: bool
    envelope_id: str
    reason: str = ""


class ActionSender(Protocol):
    """Signs a message under a force's key, sends it to the hub and returns its receipt."""

    def can_sign(self, force: str) -> bool: ...

    async def submit(self, force: str, case_ref: str, message: Message) -> ActionOutcome: ...


def delay_notice(
    view: CaseView,
    account: Account,
    *,
    part_id: str,
    reason: str,
    expected_by: str,
    now: datetime,
) -> DelayNotified:
    """`delay-notified` for a late part the force may see, told to the applicant now."""
    applicant = next((p for p in view.parties if p.is_applicant), None)
    if applicant is None or applicant.anonymous:
        raise ContractError(ReasonCode.RULE_VIOLATION, "no applicant this force may tell")
    part = next((p for p in view.parts if p.part_id == part_id), None)
    if part is None or part.status not in OPEN_STATUSES:
        raise ContractError(ReasonCode.RULE_VIOLATION, "choose an open part of this case")
    by = None
    if expected_by.strip():
        try:
            day = datetime.fromisoformat(expected_by.strip()).date()
        except ValueError:
            raise ContractError(ReasonCode.SCHEMA_INVALID, "expected by: a date") from None
        by = datetime.combine(day, time(17, 0), tzinfo=LONDON).astimezone(UTC)
    return DelayNotified(
        notified_party_id=applicant.party_id,
        notified_at=now,
        part_id=part.part_id,
        reason=reason.strip(),
        expected_by=by,
    )


class NatsActionSender:
    """Sends through the force's own `ForceClient`: its key, its NATS credentials."""

    def __init__(
        self,
        keys: dict[str, SigningKey],
        trust: TrustStore,
        nats_url: str,
        credentials: dict[str, Path] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.keys = keys
        self.trust = trust
        self.nats_url = nats_url
        self.credentials = credentials or {}
        self.timeout = timeout

    def can_sign(self, force: str) -> bool:
        return force in self.keys

    async def submit(self, force: str, case_ref: str, message: Message) -> ActionOutcome:
        client = ForceClient(
            force=force,
            key=self.keys[force],
            trust=self.trust,
            nats_url=self.nats_url,
            credentials=self.credentials.get(force),
        )
        async with client:
            envelope = client.envelope(message, case_ref=case_ref)
            await client.publish(envelope)
            receipt = await client.receipt(envelope.id, timeout=self.timeout)
        return ActionOutcome(receipt.accepted, envelope.id, str(receipt.reason_code or ""))
