"""The one outbound path: what the hub sends, it sends here.

A delivery is queued in the outbox with its headers and hub-signed delivery note, and logged
as a DPA 2018 s.62 disclosure, in the caller's transaction. The pipeline (forwarded and
hub-originated messages), the escalation service (reminders, notices, escalations) and the
hand-off all go through it, so no delivery can skip the disclosure log or the signed flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from crossforce.adapters.nats import subjects
from crossforce.adapters.tracing import trace_headers
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.ports import UnitOfWork
from crossforce.contracts import headers
from crossforce.contracts.delivery_note import DeliveryFlags, signed_headers
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.keys import Signer
from crossforce.contracts.signing import sign_envelope


class Outbound:
    def __init__(self, hub_key: Signer) -> None:
        self.hub_key = hub_key

    def sign(self, envelope: Envelope) -> Envelope:
        return sign_envelope(envelope, self.hub_key)

    def case_log(self, uow: UnitOfWork, envelope: Envelope, msg_id: str, now: datetime) -> None:
        """The case log's copy: every signed message of the case, in order."""
        uow.outbox.add(
            OutboundMessage(
                msg_id,
                subjects.caselog_subject(envelope.caseref),
                envelope.to_bytes(),
                {headers.TYPE: envelope.type},
            ),
            now,
        )

    def deliver(
        self,
        uow: UnitOfWork,
        envelope: Envelope,
        force: str,
        msg_id: str,
        now: datetime,
        *,
        priority: bool = False,
        applicant_channel: bool = True,
        tasks: Sequence[str] = (),
        audience: Sequence[str] = (),
    ) -> None:
        """Queue `envelope` for `force` and log the disclosure."""
        delivery_headers = {headers.TYPE: envelope.type, headers.CASE: envelope.caseref}
        if audience:
            delivery_headers[headers.AUDIENCE] = ",".join(audience)
        delivery_headers.update(trace_headers())  # the hub's span, when tracing is on
        # Priority, whether the applicant may learn of it, and tasks travel signed by the hub:
        # they change what the force may do.
        flags = DeliveryFlags(
            envelope.id,
            force,
            priority=priority,
            applicant_channel=applicant_channel,
            tasks=tuple(tasks),
        )
        delivery_headers.update(signed_headers(flags, self.hub_key))
        uow.outbox.add(
            OutboundMessage(
                msg_id,
                # Immediate risk has its own queue, which force clients drain first.
                subjects.delivery_subject_for(force, priority=priority),
                envelope.to_bytes(),
                delivery_headers,
            ),
            now,
        )
        uow.disclosures.record(
            envelope_id=envelope.id,
            case_ref=envelope.caseref,
            message_type=envelope.type,
            disclosed_by=envelope.senderforce,
            disclosed_to=force,
            disclosed_at=now,
            purpose=envelope.purpose,
            lawful_basis=envelope.lawfulbasis,
            marking=envelope.securitymarking.value,
            acted_by=envelope.actor,
        )

    def receipt(
        self,
        uow: UnitOfWork,
        receipt: Envelope,
        msg_id: str,
        now: datetime,
        *,
        duplicate_of: str | None = None,
    ) -> None:
        """A signed receipt to the one force it answers."""
        receipt_headers = {
            headers.TYPE: receipt.type,
            headers.IN_REPLY_TO: receipt.causationid or "",
        }
        if duplicate_of is not None:
            receipt_headers[headers.DUPLICATE_OF] = duplicate_of
        uow.outbox.add(
            OutboundMessage(
                msg_id,
                subjects.receipt_subject(receipt.recipient_codes[0]),
                receipt.to_bytes(),
                receipt_headers,
            ),
            now,
        )
