"""Actions a supervisor takes from the app, each a signed envelope under the force's key.

Each is a message type the hub has a rule for (decision 0022):

- record that the applicant was told of a delay: `delay-notified` (001 ¶34(f));
- acknowledge an escalation the hub sent the force: `escalation-acknowledged` (domain.md §8);
- chase the force that owns a part: `part-chased` (000 §3.10.7);
- give a part to another officer or team of the force: `part-reassigned` (domain.md §1.2).

Every envelope names the signed-in account in its signed `actor` extension, so the hub's
history and the other forces can say who acted. The builders here only choose what the page
offered; the hub applies every rule again, as for a message from the force's own system.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Protocol

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats import subjects
from crossforce.adapters.web.store import Account
from crossforce.broker.domain.calendar import LONDON
from crossforce.broker.domain.parts import OPEN_STATUSES, PartOfJob
from crossforce.broker.domain.transitions import PartAction, can
from crossforce.broker.domain.views import CaseView
from crossforce.broker.service.queries import EscalationNotice
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import ACTOR_PATTERN
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES
from crossforce.contracts.keys import SigningKey
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import IDENTIFIER_PATTERN
from crossforce.contracts.messages.disclosure import DelayNotified
from crossforce.contracts.messages.supervision import (
    AssigneeKind,
    EscalationAcknowledged,
    PartChased,
    PartReassigned,
)
from crossforce.contracts.signing import sign_envelope
from crossforce.contracts.trust import TrustStore

# The name of the app's own receipt consumer: `<FORCE>_receipt_web` (adapters/nats/subjects.py).
RECEIPT_CLIENT = "web"


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    accepted: bool
    envelope_id: str
    reason: str = ""


class ActionSender(Protocol):
    """Signs a message under a force's key, naming the person who acted, sends it to the hub
    and returns its receipt."""

    def can_sign(self, force: str) -> bool: ...

    async def submit(
        self, force: str, case_ref: str, message: Message, actor: str
    ) -> ActionOutcome: ...

    async def aclose(self) -> None: ...


def actor_of(account: Account) -> str:
    """The account name as the envelope's `actor`: a short id with no spaces, never free
    text. Accounts made before that rule may not fit, and cannot act until renamed."""
    if not re.fullmatch(ACTOR_PATTERN, account.username):
        raise ContractError(
            ReasonCode.ACCOUNT_ERROR,
            f"the account name {account.username!r} cannot be carried as the envelope's actor "
            "(letters, digits and . _ @ - only, at most 64): ask for an account that fits",
        )
    return account.username


# -- what the page may offer ---------------------------------------------------------------------
def chaseable_parts(view: CaseView) -> list[PartOfJob]:
    """Other forces' open, timed parts, for the co-ordinating force to chase."""
    if view.former or view.viewer != view.coordinating_force:
        return []
    return [
        p for p in view.parts if p.owner != view.viewer and can(p.kind, p.status, PartAction.CHASE)
    ]


def assignable_parts(view: CaseView) -> list[PartOfJob]:
    """The force's own open parts, to give to another officer or team of its own."""
    if view.former:
        return []
    return [
        p
        for p in view.parts
        if p.owner == view.viewer and can(p.kind, p.status, PartAction.REASSIGN_WITHIN_FORCE)
    ]


# -- the messages --------------------------------------------------------------------------------
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


def escalation_acknowledgement(
    waiting: Iterable[EscalationNotice], *, escalation_id: str
) -> EscalationAcknowledged:
    """`escalation-acknowledged` for a notice this force received and has not acknowledged."""
    notice = next((n for n in waiting if n.envelope_id == escalation_id), None)
    if notice is None:
        raise ContractError(
            ReasonCode.RULE_VIOLATION,
            "choose an escalation sent to this force, not yet acknowledged",
        )
    return EscalationAcknowledged(
        escalation_id=notice.envelope_id,
        part_id=notice.part_id,
        deadline=notice.step,
        level=notice.level,
    )


def chase(view: CaseView, *, part_id: str, note: str) -> PartChased:
    """`part-chased` for another force's open part, from the co-ordinating force."""
    part = next((p for p in chaseable_parts(view) if p.part_id == part_id), None)
    if part is None:
        raise ContractError(
            ReasonCode.RULE_VIOLATION, "choose an open part another force owns in this case"
        )
    return PartChased(part_id=part.part_id, note=note.strip() or None)


def reassignment(
    view: CaseView, *, part_id: str, assigned_to: str, assignee_kind: str
) -> PartReassigned:
    """`part-reassigned` for one of the force's own open parts."""
    part = next((p for p in assignable_parts(view) if p.part_id == part_id), None)
    if part is None:
        raise ContractError(ReasonCode.RULE_VIOLATION, "choose an open part this force owns")
    try:
        kind = AssigneeKind(assignee_kind)
    except ValueError:
        raise ContractError(ReasonCode.SCHEMA_INVALID, "choose an officer or a team") from None
    reference = assigned_to.strip()
    if not re.fullmatch(IDENTIFIER_PATTERN, reference):
        raise ContractError(
            ReasonCode.SCHEMA_INVALID,
            "the staff number or team code: the force's own reference, not a name "
            "(letters, digits and . _ : - only, at most 64)",
        )
    return PartReassigned(part_id=part.part_id, assigned_to=reference, assignee_kind=kind)


# -- sending -------------------------------------------------------------------------------------
class NatsActionSender:
    """Sends through the force's own NATS user, signed under the force's key.

    One `ForceClient` per force, made on first use and kept: it reads the force's receipts
    through the app's own durable consumer (`<FORCE>_receipt_web`), so it never takes a
    receipt the force's own system is waiting for, and it keeps that consumer drained while
    the app runs."""

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
        self._clients: dict[str, ForceClient] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def can_sign(self, force: str) -> bool:
        return force in self.keys

    async def _client(self, force: str) -> ForceClient:
        async with self._locks.setdefault(force, asyncio.Lock()):
            client = self._clients.get(force)
            if client is None:
                client = ForceClient(
                    force=force,
                    key=self.keys[force],
                    trust=self.trust,
                    nats_url=self.nats_url,
                    credentials=self.credentials.get(force),
                    receipt_consumer=subjects.client_receipt_consumer(force, RECEIPT_CLIENT),
                )
                await client.connect()
                self._clients[force] = client
            return client

    async def submit(
        self, force: str, case_ref: str, message: Message, actor: str
    ) -> ActionOutcome:
        envelope = sign_envelope(
            compose(
                message,
                sender=force,
                case_ref=case_ref,
                jurisdiction=FORCES[force].jurisdiction,
                actor=actor,
            ),
            self.keys[force],
        )
        client = await self._client(force)
        try:
            await client.publish(envelope)
            receipt = await client.receipt(envelope.id, timeout=self.timeout)
        except Exception:
            # Whatever went wrong, the next action starts from a fresh connection.
            await self._drop(force)
            raise
        return ActionOutcome(receipt.accepted, envelope.id, str(receipt.reason_code or ""))

    async def _drop(self, force: str) -> None:
        client = self._clients.pop(force, None)
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()

    async def aclose(self) -> None:
        for force in list(self._clients):
            await self._drop(force)
