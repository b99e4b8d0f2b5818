"""The hub's core in-process, with no NATS: for fast tests of rules and views.

`InProcessHub` builds the core through the composition root on a database of its own, signs
each message under the sender's key from an `EphemeralPki` made for the hub's clock, and
feeds it to the pipeline exactly as the NATS consumer would. Nothing is published: what the
hub would send stays in the outbox, and each result lists it.

A test reads the outbox as the forces would hear it: `receipt` is the hub-signed receipt a
sender gets, `delivered` what is waiting for a force (verified, with the hub's signed flags)
and `drain` hands that over, marking the rows sent as the hub's relay does, so the next
`drain` tells what the force received since. Time passes only when the test moves `now`;
`sweep` fires the deadline steps due then, as the hub's timers and reconciliation sweep do.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Engine

from crossforce.adapters.client.force_client import SignedReceipt
from crossforce.adapters.nats import subjects
from crossforce.broker.bootstrap import HubCore, bootstrap
from crossforce.broker.domain.sla import SlaPolicy
from crossforce.broker.scenario import Step
from crossforce.broker.service.case_handlers import CaseHook
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.pipeline import Inbound, PipelineResult
from crossforce.contracts.compose import compose
from crossforce.contracts.delivery_note import verified_flags
from crossforce.contracts.envelope import HUB_FORCE_CODE, Envelope, parse_envelope
from crossforce.contracts.forces import FORCES
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.receipt import Receipt
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.signing import sign_envelope, verify_envelope
from crossforce.contracts.trust import TrustStore

# More unsent rows than a scenario ever leaves in the outbox; reaching it is an error.
OUTBOX_READ_LIMIT: Final = 10_000


@dataclass(frozen=True, slots=True)
class Delivered:
    """One delivery waiting for a force, verified as its client would verify it."""

    envelope: Envelope
    message: Message
    subject: str
    priority: bool  # on the force's immediate-risk queue, flagged so by the hub
    applicant_channel: bool  # False: the outcome must not reach the applicant's channel
    tasks: tuple[str, ...]  # what the hub asks the force to do (message and signed note)
    row_id: int

    @property
    def name(self) -> str:
        return self.envelope.name


class InProcessHub:
    """A hub core on `engine` whose clock reads `now` (move it on to let time pass)."""

    def __init__(
        self,
        engine: Engine,
        pki: EphemeralPki,
        now: datetime,
        *,
        subject_key_secret: bytes = b"k" * 32,
        policy: SlaPolicy | None = None,
        hooks: tuple[CaseHook, ...] = (),
    ) -> None:
        self.engine = engine
        self.pki = pki
        self.trust: TrustStore = pki.trust_store()
        self.now = now
        self._sequence = 0
        self._lock = threading.Lock()
        self.core: HubCore = bootstrap(
            engine,
            self.trust,
            pki.key("HUB"),
            clock=lambda: self.now,
            subject_key_secret=subject_key_secret,
            policy=policy,
            hooks=hooks,
        )

    def sign(
        self,
        sender: str,
        case_ref: str,
        message: Message,
        at: datetime,
        actor: str | None = None,
    ) -> Envelope:
        envelope = compose(
            message,
            sender=sender,
            case_ref=case_ref,
            jurisdiction=FORCES[sender].jurisdiction,
            time=at,
            actor=actor,
        )
        return sign_envelope(envelope, self.pki.key(sender))

    def send(
        self,
        sender: str,
        case_ref: str,
        message: Message,
        at: datetime | None = None,
        *,
        actor: str | None = None,
    ) -> PipelineResult:
        """Sign `message` as `sender` at `at` (default: the hub's now), naming `actor` as
        who acted there, and process it."""
        at = at or self.now
        envelope = self.sign(sender, case_ref, message, at, actor)
        return self.deliver_bytes(sender, case_ref, envelope.to_bytes(), at)

    def deliver_bytes(
        self, sender: str, case_ref: str, data: bytes, at: datetime | None = None
    ) -> PipelineResult:
        """Process raw bytes as if `sender` had published them for `case_ref`."""
        with self._lock:
            self._sequence += 1
            inbound = Inbound(data, f"cf.in.0.{sender}.{case_ref}", self._sequence, at or self.now)
            return self.core.pipeline.process(inbound)

    def run(self, case_ref: str, steps: Iterable[Step], at: datetime | None = None) -> None:
        """Send each scripted step; every one must be accepted."""
        for step in steps:
            result = self.send(step.sender, case_ref, step.message, at)
            if not result.accepted:
                raise AssertionError(f"{step.message.NAME} refused: {result.detail}")

    # -- what the forces hear ----------------------------------------------------------------
    def receipt(self, result: PipelineResult) -> SignedReceipt:
        """The receipt the hub queued for the sender of `result`, verified as hub-signed."""
        rows = [m for m in result.outbound if m.subject.endswith(".receipt")]
        if len(rows) != 1:
            raise AssertionError(f"{len(rows)} receipts queued, not one")
        envelope = parse_envelope(rows[0].payload)
        verify_envelope(envelope, self.trust)
        receipt = REGISTRY.open(envelope)
        if envelope.senderforce != HUB_FORCE_CODE or not isinstance(receipt, Receipt):
            raise AssertionError(f"not a hub receipt: {envelope.type} from {envelope.senderforce}")
        return SignedReceipt(envelope, receipt)

    def delivered(self, force: str) -> list[Delivered]:
        """What waits for `force` on its routine and immediate-risk queues, in the order the
        hub queued it. Each must verify: the sender's signature and the hub's signed flags."""
        queues = (subjects.delivery_subject(force), subjects.priority_subject(force))
        with self.core.units() as uow:
            rows = uow.outbox.unsent(limit=OUTBOX_READ_LIMIT)
        if len(rows) >= OUTBOX_READ_LIMIT:
            raise AssertionError(f"more than {OUTBOX_READ_LIMIT} unsent outbox rows")
        return [self._verified(force, row) for row in rows if row.subject in queues]

    def drain(self, force: str) -> list[Delivered]:
        """Hand `force` what waits for it (`delivered`), marking those rows sent as the hub's
        relay does once it has published them: the next drain holds only what came since."""
        found = self.delivered(force)
        with self.core.units() as uow:
            uow.outbox.mark_sent([d.row_id for d in found], self.now)
        return found

    def names(self, force: str) -> list[str]:
        """The message names `drain` hands `force`."""
        return [delivered.name for delivered in self.drain(force)]

    def _verified(self, force: str, row: OutboundMessage) -> Delivered:
        assert row.row_id is not None
        envelope = parse_envelope(row.payload)
        verify_envelope(envelope, self.trust)
        flags = verified_flags(envelope.id, force, row.headers, self.trust)
        message = REGISTRY.open(envelope)
        in_message = tuple(str(task) for task in getattr(message, "tasks", ()) or ())
        return Delivered(
            envelope,
            message,
            row.subject,
            flags.priority,
            flags.applicant_channel,
            tuple(dict.fromkeys((*in_message, *flags.tasks))),
            row.row_id,
        )

    # -- time ----------------------------------------------------------------------------
    def sweep(self, at: datetime | None = None) -> list[OutboundMessage]:
        """Fire every deadline step due at `at` (default: the hub's now), as the hub's timers
        and its reconciliation sweep would; returns what it queued to send."""
        return self.core.escalation.fire_due(now=at or self.now)
