"""The hub's core in-process, with no NATS: for fast tests of rules and views.

`InProcessHub` builds the core through the composition root on a database of its own, signs
each message under the sender's key from an `EphemeralPki` made for the hub's clock, and
feeds it to the pipeline exactly as the NATS consumer would. Nothing is published: what the
hub would send stays in the outbox, and each result lists it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine

from crossforce.broker.bootstrap import HubCore, bootstrap
from crossforce.broker.domain.sla import SlaPolicy
from crossforce.broker.scenario import Step
from crossforce.broker.service.case_handlers import CaseHook
from crossforce.broker.service.pipeline import Inbound, PipelineResult
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.forces import FORCES
from crossforce.contracts.messages.base import Message
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope


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
        self.now = now
        self._sequence = 0
        self._lock = threading.Lock()
        self.core: HubCore = bootstrap(
            engine,
            pki.trust_store(),
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
        self, sender: str, case_ref: str, message: Message, at: datetime | None = None
    ) -> PipelineResult:
        """Sign `message` as `sender` at `at` (default: the hub's now) and process it."""
        at = at or self.now
        envelope = self.sign(sender, case_ref, message, at)
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
