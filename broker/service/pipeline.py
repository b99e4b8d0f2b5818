"""The hub pipeline for one inbound message (architecture decision 3).

size and format -> signature -> sender is the arrival force -> schema (upcast) -> role
authority and case-state transition -> persist (one transaction) -> deliver -> receipt.

Any refusal at any step yields a signed rejection receipt to the force whose subject the
bytes arrived on, plus a dead-letter record holding the original bytes and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from crossforce.adapters.nats import subjects
from crossforce.adapters.tracing import trace_headers
from crossforce.broker.service.case_handlers import CaseHandlers, Delivery, HandlerOutcome
from crossforce.broker.service.faults import is_infrastructure_fault
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.unit_of_work import SqlUnitOfWork
from crossforce.contracts.compose import compose
from crossforce.contracts.delivery_note import DeliveryFlags, signed_headers
from crossforce.contracts.envelope import (
    HUB_FORCE_CODE,
    MAX_ENVELOPE_BYTES,
    Envelope,
    Jurisdiction,
    parse_envelope,
)
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES
from crossforce.contracts.keys import PublicKeyRecord, Signer
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.receipt import Receipt, ReceiptStatus
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.signing import sign_envelope, verify_envelope
from crossforce.contracts.trust import TrustStore

log = logging.getLogger("crossforce.hub")

# How far an envelope's own time may differ from when NATS accepted it. Guards against
# back-dating a message to before its key was revoked.
DEFAULT_MAX_CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message as the hub consumer saw it."""

    data: bytes
    subject: str
    stream_sequence: int
    accepted_at: datetime  # when JetStream stored it
    nats_msg_id: str | None = None


@dataclass(slots=True)
class PipelineResult:
    accepted: bool
    envelope_id: str | None
    reason: ReasonCode | None = None
    detail: str = ""
    duplicate: bool = False
    outbound: list[OutboundMessage] = field(default_factory=list)
    # Set by the hub: from taking the message to its outcome committed and published.
    processing_seconds: float | None = None


class HubPipeline:
    def __init__(
        self,
        engine: Engine,
        trust: TrustStore,
        hub_key: Signer,
        handlers: CaseHandlers,
        *,
        clock: Callable[[], datetime],
        max_bytes: int = MAX_ENVELOPE_BYTES,
        max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    ) -> None:
        self.engine = engine
        self.trust = trust
        self.hub_key = hub_key
        self.handlers = handlers
        self.clock = clock
        self.max_bytes = max_bytes
        self.max_clock_skew = max_clock_skew
        # The latest envelope time accepted from each key, as this process saw it. After a
        # compromise, nothing a key signed after that is trusted: a hub that never saw the
        # key in use (e.g. after a restart) trusts nothing more from it.
        self.key_last_use: dict[str, datetime] = {}

    def process(self, inbound: Inbound) -> PipelineResult:
        """Apply or refuse one inbound message; only an infrastructure fault escapes.

        Reading, verifying and validating do no I/O, so anything they raise is the input's
        doing and is refused at once. A failure while applying is refused at once too,
        unless it is the database's (crossforce.broker.service.faults): then the caller retries."""
        address = subjects.parse_inbound(inbound.subject)
        envelope: Envelope | None = None
        try:
            envelope = parse_envelope(inbound.data, max_bytes=self.max_bytes)
            key = verify_envelope(envelope, self.trust)
            self._check_compromise(envelope, key)
            self._check_addressing(envelope, address, inbound)
            message = REGISTRY.open(envelope)
        except ContractError as refusal:
            return self._reject(inbound, address.force, envelope, refusal)
        except Exception as error:  # a reader tripped over the input: still a typed answer
            return self._reject(inbound, address.force, envelope, _unreadable(error))
        try:
            result = self._accept(envelope, message, inbound)
            if not result.duplicate:
                last = self.key_last_use.get(key.kid)
                if last is None or envelope.time > last:
                    self.key_last_use[key.kid] = envelope.time
            return result
        except ContractError as refusal:
            return self._reject(inbound, address.force, envelope, refusal)
        except Exception as error:
            if is_infrastructure_fault(error):
                raise
            log.error(
                "could not apply %s to %s: %s at %s",
                envelope.id,
                envelope.caseref,
                type(error).__name__,
                _where(error),
            )
            failed = ContractError(
                ReasonCode.PROCESSING_FAILED,
                f"the hub could not apply this message ({type(error).__name__})",
            )
            return self._reject(inbound, address.force, envelope, failed)

    # -- checks --------------------------------------------------------------------------
    def _check_compromise(self, envelope: Envelope, key: PublicKeyRecord) -> None:
        """A key revoked for compromise signs nothing new: the revocation time alone would
        let whoever holds it back-date a message to just before it (within the skew)."""
        if not key.compromised:
            return
        last = self.key_last_use.get(key.kid)
        if last is None or envelope.time > last:
            since = (
                f"after its last accepted use at {last:%Y-%m-%dT%H:%M:%SZ}"
                if last is not None
                else "from now on"
            )
            raise ContractError(
                ReasonCode.REVOKED_KEY,
                f"key {key.kid} was revoked after a compromise: nothing it signed {since} "
                "is trusted",
            )

    def _check_addressing(
        self, envelope: Envelope, address: subjects.InboundAddress, inbound: Inbound
    ) -> None:
        if envelope.senderforce != address.force:
            raise ContractError(
                ReasonCode.SENDER_MISMATCH,
                f"{address.force} sent an envelope claiming to be from {envelope.senderforce}",
            )
        if envelope.caseref != address.case_ref or envelope.subject != envelope.caseref:
            raise ContractError(
                ReasonCode.INVALID_ENVELOPE, "subject, caseref and publish subject disagree"
            )
        if abs(envelope.time - inbound.accepted_at) > self.max_clock_skew:
            raise ContractError(
                ReasonCode.STALE_MESSAGE,
                f"envelope time {envelope.time:%Y-%m-%dT%H:%M:%SZ} is more than "
                f"{self.max_clock_skew} from its arrival",
            )
        for code in envelope.recipient_codes:
            if code not in FORCES and code != HUB_FORCE_CODE:
                raise ContractError(ReasonCode.UNKNOWN_FORCE, f"recipient {code} is unknown")

    # -- accepted ------------------------------------------------------------------------
    def _accept(self, envelope: Envelope, message: Message, inbound: Inbound) -> PipelineResult:
        now = self.clock()
        prefix = f"{envelope.id}/"
        with SqlUnitOfWork(self.engine) as uow:
            first = uow.processed_as(envelope.id)
            if first is not None:
                if first != (envelope.senderforce, envelope.type, envelope.caseref):
                    # Never take someone else's message for a repeat of this one; say nothing
                    # of what the first message was.
                    raise ContractError(
                        ReasonCode.ENVELOPE_ID_REUSED,
                        f"envelope id {envelope.id} was already used for a different message",
                    )
                # A redelivery or a republished duplicate: the effects are committed already.
                # Finish any publish a crash interrupted; if nothing is left, the sender has
                # most likely lost the receipt, so it gets the original one again.
                unsent = uow.unsent(prefix)
                if not unsent:
                    unsent = self._receipt_again(uow, envelope, inbound)
                return PipelineResult(True, envelope.id, duplicate=True, outbound=unsent)
            outcome = self.handlers.apply(uow, envelope, message, now)
            uow.mark_processed(
                envelope.id,
                envelope.caseref,
                envelope.type,
                envelope.senderforce,
                now,
                acted_by=envelope.actor,
            )
            self._record_outcome(uow, envelope, outcome, now, prefix)
            receipt = self._receipt(
                envelope.senderforce,
                envelope.caseref,
                envelope.id,
                now,
                answered_type=envelope.type,
                accepted=True,
            )
            uow.publish_later(_to_receipt(receipt, prefix), now)
            outbound = list(uow.outbound)
        return PipelineResult(True, envelope.id, outbound=outbound)

    def _receipt_again(
        self, uow: SqlUnitOfWork, envelope: Envelope, inbound: Inbound
    ) -> list[OutboundMessage]:
        original = uow.outbound_message(f"{envelope.id}/receipt")
        log.info(
            "duplicate of %s on %s (stream sequence %d): original receipt sent again",
            envelope.id,
            envelope.caseref,
            inbound.stream_sequence,
        )
        if original is None:
            return []
        # A new transport id, so JetStream does not take it for the first copy; one per
        # inbound sequence, so a redelivery of this duplicate is not answered twice.
        again = OutboundMessage(
            f"{envelope.id}/receipt/again/{inbound.stream_sequence}",
            original.subject,
            original.payload,
            {**original.headers, "Crossforce-Duplicate-Of": envelope.id},
        )
        # Through the outbox like every other publish, so a NATS fault cannot lose it once
        # the inbound is acked; a redelivery of this duplicate finds it there and adds none.
        uow.publish_later(again, self.clock())
        return list(uow.outbound)

    def _record_outcome(
        self,
        uow: SqlUnitOfWork,
        envelope: Envelope,
        outcome: HandlerOutcome,
        now: datetime,
        prefix: str,
    ) -> None:
        uow.publish_later(
            OutboundMessage(
                f"{prefix}log",
                subjects.caselog_subject(envelope.caseref),
                envelope.to_bytes(),
                {"Crossforce-Type": envelope.type},
            ),
            now,
        )
        for index, hub_message in enumerate(outcome.hub_messages):
            signed = sign_envelope(hub_message.envelope, self.hub_key)
            uow.publish_later(
                OutboundMessage(
                    f"{prefix}hub{index}/log",
                    subjects.caselog_subject(signed.caseref),
                    signed.to_bytes(),
                    {"Crossforce-Type": signed.type},
                ),
                now,
            )
            for force in signed.recipient_codes:
                channel = hub_message.applicant_channel.get(force, True)
                delivery = Delivery(force, signed, outcome.priority, channel)
                self._deliver(uow, delivery, f"{prefix}hub{index}/", now)
        for delivery in outcome.deliveries:
            self._deliver(uow, delivery, prefix, now)

    def _deliver(self, uow: SqlUnitOfWork, delivery: Delivery, prefix: str, now: datetime) -> None:
        envelope = delivery.envelope
        headers = {"Crossforce-Type": envelope.type, "Crossforce-Case": envelope.caseref}
        headers.update(trace_headers())  # the hub's span, when tracing is on
        # Priority, and whether the applicant may learn the outcome (not when someone else
        # receives it), travel signed by the hub: they change what the force may do.
        flags = DeliveryFlags(
            envelope.id,
            delivery.force,
            priority=delivery.priority,
            applicant_channel=delivery.applicant_channel,
        )
        headers.update(signed_headers(flags, self.hub_key))
        uow.publish_later(
            OutboundMessage(
                f"{prefix}deliver/{delivery.force}",
                # Immediate risk has its own queue, which force clients drain first.
                subjects.delivery_subject_for(delivery.force, priority=delivery.priority),
                envelope.to_bytes(),
                headers,
            ),
            now,
        )
        uow.log_disclosure(
            envelope_id=envelope.id,
            case_ref=envelope.caseref,
            message_type=envelope.type,
            disclosed_by=envelope.senderforce,
            disclosed_to=delivery.force,
            disclosed_at=now,
            purpose=envelope.purpose,
            lawful_basis=envelope.lawfulbasis,
            marking=envelope.securitymarking.value,
            acted_by=envelope.actor,
        )

    # -- rejected ------------------------------------------------------------------------
    def _reject(
        self,
        inbound: Inbound,
        arrival_force: str,
        envelope: Envelope | None,
        refusal: ContractError,
    ) -> PipelineResult:
        now = self.clock()
        key = f"seq{inbound.stream_sequence}"
        envelope_id = envelope.id if envelope else None
        answered = envelope_id or inbound.nats_msg_id or key
        log.warning(
            "refused %s from %s on %s: %s",
            answered,
            arrival_force,
            envelope.caseref if envelope else subjects.parse_inbound(inbound.subject).case_ref,
            refusal.code.value,
        )
        with SqlUnitOfWork(self.engine) as uow:
            if uow.already_rejected(key):
                return PipelineResult(
                    False,
                    envelope_id,
                    refusal.code,
                    refusal.message,
                    duplicate=True,
                    outbound=uow.unsent(f"{key}/"),
                )
            uow.record_rejection(
                inbound_key=key,
                arrival_force=arrival_force,
                envelope_id=envelope_id,
                reason_code=refusal.code.value,
                detail=refusal.message,
                rejected_at=now,
            )
            case_ref = (
                envelope.caseref if envelope else subjects.parse_inbound(inbound.subject).case_ref
            )
            receipt = self._receipt(
                arrival_force,
                case_ref,
                answered,
                now,
                answered_type=envelope.type if envelope else None,
                accepted=False,
                reason=refusal,
            )
            uow.publish_later(_to_receipt(receipt, f"{key}/"), now)
            uow.publish_later(
                OutboundMessage(
                    f"{key}/dlq",
                    subjects.deadletter_subject(arrival_force),
                    inbound.data,
                    {
                        "Crossforce-Reason": refusal.code.value,
                        "Crossforce-Detail": _header_safe(refusal.message),
                        "Crossforce-Arrival-Subject": inbound.subject,
                        "Crossforce-Inbound-Sequence": str(inbound.stream_sequence),
                        "Crossforce-Rejected-At": now.isoformat(),
                    },
                ),
                now,
            )
            outbound = list(uow.outbound)
        return PipelineResult(False, envelope_id, refusal.code, refusal.message, outbound=outbound)

    def _receipt(
        self,
        to_force: str,
        case_ref: str,
        answered: str,
        now: datetime,
        *,
        answered_type: str | None,
        accepted: bool,
        reason: ContractError | None = None,
    ) -> Envelope:
        receipt = Receipt(
            status=ReceiptStatus.ACCEPTED if accepted else ReceiptStatus.REJECTED,
            in_reply_to=_identifier(answered),
            answered_type=answered_type,
            reason_code=reason.code if reason else None,
            message=_header_safe(reason.message)[:200] if reason else None,
            received_at=now,
        )
        envelope = compose(
            receipt,
            sender=HUB_FORCE_CODE,
            case_ref=case_ref if _safe_case_ref(case_ref) else "UNKNOWN",
            recipients=[to_force],
            jurisdiction=(
                FORCES[to_force].jurisdiction if to_force in FORCES else Jurisdiction.ENGLAND_WALES
            ),
            causation_id=answered,
            time=now,
        )
        return sign_envelope(envelope, self.hub_key)


def _to_receipt(receipt: Envelope, prefix: str) -> OutboundMessage:
    to_force = receipt.recipient_codes[0]
    return OutboundMessage(
        f"{prefix}receipt",
        subjects.receipt_subject(to_force),
        receipt.to_bytes(),
        {"Crossforce-Type": receipt.type, "Crossforce-In-Reply-To": receipt.causationid or ""},
    )


def _unreadable(error: Exception) -> ContractError:
    """A typed refusal for an input that broke a reader (the reader's defect is logged)."""
    log.error("an input broke a reader: %s at %s", type(error).__name__, _where(error))
    if isinstance(error, RecursionError | ValueError | TypeError | UnicodeError):
        return ContractError(ReasonCode.MALFORMED_JSON, f"unreadable ({type(error).__name__})")
    return ContractError(ReasonCode.INVALID_ENVELOPE, f"unreadable ({type(error).__name__})")


def _where(error: BaseException) -> str:
    """file:line of the innermost frame: enough to find a defect, and no message content."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"


def _header_safe(text: str) -> str:
    return " ".join(text.split())[:500]


def _identifier(value: str) -> str:
    # ASCII only: str.isalnum() also takes letters and digits such as "¹", which the
    # receipt's identifier pattern refuses, and a receipt that cannot be made holds a partition.
    cleaned = "".join(ch if _ascii_alnum(ch) or ch in "_.:-" else "-" for ch in value)[:64]
    return cleaned if cleaned and _ascii_alnum(cleaned[0]) else f"x{cleaned}"[:64]


def _safe_case_ref(value: str) -> bool:
    """Whether a case reference from a publish subject fits the envelope's caseref pattern."""
    return (
        bool(value)
        and len(value) <= 64
        and _ascii_alnum(value[0])
        and all(_ascii_alnum(ch) or ch in "_-" for ch in value)
    )


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()
