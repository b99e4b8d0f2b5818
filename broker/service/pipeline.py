"""The hub pipeline for one inbound message (architecture decision 3).

size and format -> signature -> sender is the arrival force -> schema (upcast) -> role
authority and case-state transition -> persist (one transaction) -> deliver -> receipt.

Any refusal at any step yields a signed rejection receipt to the force whose subject the
bytes arrived on, plus a dead-letter record holding the original bytes and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crossforce.adapters import tracing
from crossforce.adapters.nats import subjects
from crossforce.broker.service.case_handlers import CaseHandlers, HandlerOutcome
from crossforce.broker.service.faults import is_infrastructure_fault
from crossforce.broker.service.outbound import Outbound
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.ports import ProcessedAs, UnitOfWork, UnitOfWorkFactory
from crossforce.contracts import headers
from crossforce.contracts.compose import compose
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
from crossforce.contracts.signing import verify_envelope
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
    # W3C trace context it arrived with (only when tracing is on); never content.
    trace_context: Mapping[str, str] = field(default_factory=dict)


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
        units: UnitOfWorkFactory,
        trust: TrustStore,
        hub_key: Signer,
        handlers: CaseHandlers,
        *,
        clock: Callable[[], datetime],
        max_bytes: int = MAX_ENVELOPE_BYTES,
        max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
    ) -> None:
        self.units = units
        self.trust = trust
        self.hub_key = hub_key
        self.outbound = Outbound(hub_key)
        self.handlers = handlers
        self.clock = clock
        self.max_bytes = max_bytes
        self.max_clock_skew = max_clock_skew
        # The latest envelope time accepted from each key, as this process saw it. After a
        # compromise, nothing a key signed after that is trusted: a hub that never saw the
        # key in use (e.g. after a restart) trusts nothing more from it.
        self.key_last_use: dict[str, datetime] = {}

    def process(self, inbound: Inbound) -> PipelineResult:
        """Apply or refuse one inbound message (a batch of one)."""
        return self.process_batch([inbound])[0]

    def process_batch(
        self, inbounds: Sequence[Inbound], published: Sequence[int] = ()
    ) -> list[PipelineResult]:
        """Apply or refuse each message, in order, in one transaction; only an
        infrastructure fault escapes, and then nothing of the batch is committed.

        Reading, verifying and validating do no I/O, so anything they raise is the input's
        doing and is refused at once. Each message is applied in a savepoint, so a refused
        one undoes only itself. A failure while applying is refused at once too, unless it is
        the database's (crossforce.broker.service.faults): then the caller retries the batch.

        `published` are outbox rows the caller has published since: they are marked sent in
        the same transaction, first, so a duplicate in this batch finds them sent."""
        used: dict[str, datetime] = {}  # keys' latest accepted envelope times, this batch
        results: list[PipelineResult] = []
        with self.units() as uow:
            if published:
                uow.outbox.mark_sent(published, self.clock())
            for inbound in inbounds:
                queued = len(uow.outbound)
                # With tracing on, each message's work is a span continuing its sender's.
                with tracing.span("crossforce.hub.process", inbound.trace_context):
                    result = self._one(uow, inbound, used)
                # What a crash left unsent from a first attempt, then what this one queued.
                result.outbound = [*result.outbound, *uow.outbound[queued:]]
                results.append(result)
        # Committed: from now on, a key revoked for compromise signs nothing newer.
        for kid, at in used.items():
            last = self.key_last_use.get(kid)
            if last is None or at > last:
                self.key_last_use[kid] = at
        return results

    def _one(self, uow: UnitOfWork, inbound: Inbound, used: dict[str, datetime]) -> PipelineResult:
        address = subjects.parse_inbound(inbound.subject)
        envelope: Envelope | None = None
        try:
            envelope = parse_envelope(inbound.data, max_bytes=self.max_bytes)
            key = verify_envelope(envelope, self.trust)
            self._check_compromise(envelope, key, used.get(key.kid))
            self._check_addressing(envelope, address, inbound)
            message = REGISTRY.open(envelope)
        except ContractError as refusal:
            return self._reject(uow, inbound, address.force, envelope, refusal)
        except Exception as error:  # a reader tripped over the input: still a typed answer
            return self._reject(uow, inbound, address.force, envelope, _unreadable(error))
        try:
            with uow.savepoint():
                result = self._accept(uow, envelope, message, inbound)
        except ContractError as refusal:
            return self._reject(uow, inbound, address.force, envelope, refusal)
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
            return self._reject(uow, inbound, address.force, envelope, failed)
        if not result.duplicate:
            last = used.get(key.kid)
            if last is None or envelope.time > last:
                used[key.kid] = envelope.time
        return result

    # -- checks --------------------------------------------------------------------------
    def _check_compromise(
        self, envelope: Envelope, key: PublicKeyRecord, in_batch: datetime | None = None
    ) -> None:
        """A key revoked for compromise signs nothing new: the revocation time alone would
        let whoever holds it back-date a message to just before it (within the skew)."""
        if not key.compromised:
            return
        last = max(
            (t for t in (self.key_last_use.get(key.kid), in_batch) if t is not None),
            default=None,
        )
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
    def _accept(
        self, uow: UnitOfWork, envelope: Envelope, message: Message, inbound: Inbound
    ) -> PipelineResult:
        now = self.clock()
        prefix = f"{envelope.id}/"
        this = ProcessedAs(envelope.senderforce, envelope.type, envelope.caseref)
        first = uow.processed.processed_as(envelope.id)
        if first is not None:
            if first != this:
                # Never take someone else's message for a repeat of this one; say nothing
                # of what the first message was.
                raise ContractError(
                    ReasonCode.ENVELOPE_ID_REUSED,
                    f"envelope id {envelope.id} was already used for a different message",
                )
            # A redelivery or a republished duplicate: the effects are committed already.
            # Finish any publish a crash interrupted; if nothing is left, the sender has
            # most likely lost the receipt, so it gets the original one again.
            # Rows this batch queued already are going out with it, and a receipt sent again
            # was an answer to an earlier repeat: neither is a publish left over.
            queued = {m.msg_id for m in uow.outbound}
            unsent = [
                m
                for m in uow.outbox.unsent(prefix)
                if m.msg_id not in queued and not m.msg_id.startswith(f"{prefix}receipt/again/")
            ]
            if not unsent:
                self._receipt_again(uow, envelope, inbound)
            return PipelineResult(True, envelope.id, duplicate=True, outbound=unsent)
        outcome = self.handlers.apply(uow, envelope, message, now)
        uow.processed.add(envelope.id, this, now, acted_by=envelope.actor)
        self._record_outcome(uow, envelope, outcome, now, prefix)
        receipt = self._receipt(
            envelope.senderforce,
            envelope.caseref,
            envelope.id,
            now,
            answered_type=envelope.type,
            accepted=True,
        )
        self.outbound.receipt(uow, receipt, f"{prefix}receipt", now)
        return PipelineResult(True, envelope.id)

    def _receipt_again(self, uow: UnitOfWork, envelope: Envelope, inbound: Inbound) -> None:
        original = uow.outbox.get(f"{envelope.id}/receipt")
        log.info(
            "duplicate of %s on %s (stream sequence %d): original receipt sent again",
            envelope.id,
            envelope.caseref,
            inbound.stream_sequence,
        )
        if original is None:
            return
        # A new transport id, so JetStream does not take it for the first copy; one per
        # inbound sequence, so a redelivery of this duplicate is not answered twice.
        again = OutboundMessage(
            f"{envelope.id}/receipt/again/{inbound.stream_sequence}",
            original.subject,
            original.payload,
            {**original.headers, headers.DUPLICATE_OF: envelope.id},
        )
        # Through the outbox like every other publish, so a NATS fault cannot lose it once
        # the inbound is acked; a redelivery of this duplicate finds it there and adds none.
        uow.outbox.add(again, self.clock())

    def _record_outcome(
        self,
        uow: UnitOfWork,
        envelope: Envelope,
        outcome: HandlerOutcome,
        now: datetime,
        prefix: str,
    ) -> None:
        self.outbound.case_log(uow, envelope, f"{prefix}log", now)
        for index, hub_message in enumerate(outcome.hub_messages):
            signed = self.outbound.sign(hub_message.envelope)
            self.outbound.case_log(uow, signed, f"{prefix}hub{index}/log", now)
            for force in signed.recipient_codes:
                self.outbound.deliver(
                    uow,
                    signed,
                    force,
                    f"{prefix}hub{index}/deliver/{force}",
                    now,
                    priority=outcome.priority,
                    applicant_channel=hub_message.applicant_channel.get(force, True),
                )
        for delivery in outcome.deliveries:
            self.outbound.deliver(
                uow,
                delivery.envelope,
                delivery.force,
                f"{prefix}deliver/{delivery.force}",
                now,
                priority=delivery.priority,
                applicant_channel=delivery.applicant_channel,
            )

    # -- rejected ------------------------------------------------------------------------
    def _reject(
        self,
        uow: UnitOfWork,
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
        if uow.processed.already_rejected(key):
            return PipelineResult(
                False,
                envelope_id,
                refusal.code,
                refusal.message,
                duplicate=True,
                outbound=uow.outbox.unsent(f"{key}/"),
            )
        uow.processed.add_rejection(
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
        self.outbound.receipt(uow, receipt, f"{key}/receipt", now)
        uow.outbox.add(
            OutboundMessage(
                f"{key}/dlq",
                subjects.deadletter_subject(arrival_force),
                inbound.data,
                {
                    headers.REASON: refusal.code.value,
                    headers.DETAIL: _header_safe(refusal.message),
                    headers.ARRIVAL_SUBJECT: inbound.subject,
                    headers.INBOUND_SEQUENCE: str(inbound.stream_sequence),
                    headers.REJECTED_AT: now.isoformat(),
                },
            ),
            now,
        )
        return PipelineResult(False, envelope_id, refusal.code, refusal.message)

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
        return self.outbound.sign(envelope)


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
