"""Every rejection: a HUB-signed rejection receipt to the sender and a dead letter with the bytes.

Nothing is dropped silently (architecture decision 3): whatever the reason, the force whose
subject the bytes arrived on is told why, with a stable reason code, and the original bytes
go to CF_DEADLETTER with the reason in a header.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats import subjects
from crossforce.adapters.sql import schema
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import case_steps
from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.jws import sign_detached
from crossforce.contracts.keys import SigningKey
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope, verify_envelope

pytestmark = pytest.mark.server

FORCES = ["HUB", "KENT", "ESSEX", "SURREY", "PSOS", "PSOS_E", "METROPOLITAN"]
CASE = "CF-2026-000301"
# Over the hub's 256 KiB envelope limit, under the inbound stream's 300 KiB message limit.
OVERSIZE_BYTES = 270 * 1024


@dataclass(frozen=True, slots=True)
class KentKeys:
    """Keys Kent holds besides its current one, each with a record in the trust store."""

    revoked: SigningKey
    expired: SigningKey
    future: SigningKey  # valid only from tomorrow


@dataclass(frozen=True, slots=True)
class Attempt:
    sender: str  # the force whose subject the bytes are published on
    data: bytes
    msg_id: str
    answered: str  # the id the rejection receipt answers


@pytest.fixture()
def kent_keys() -> KentKeys:
    return KentKeys(
        SigningKey.generate("KENT"), SigningKey.generate("KENT"), SigningKey.generate("KENT")
    )


@pytest.fixture()
def pki(kent_keys: KentKeys) -> EphemeralPki:
    pki = EphemeralPki(FORCES)
    now = pki.now
    revoked = kent_keys.revoked.public_record(pki.not_before, pki.not_after)
    pki.key_sets["KENT"].keys += [
        revoked.model_copy(update={"revoked_at": now - timedelta(hours=1)}),
        kent_keys.expired.public_record(now - timedelta(days=400), now - timedelta(days=1)),
        kent_keys.future.public_record(now + timedelta(days=1), now + timedelta(days=400)),
    ]
    return pki


Build = Callable[[dict[str, ForceClient], EphemeralPki, KentKeys], Awaitable[Attempt]]


def _opening(clients: dict[str, ForceClient]) -> Envelope:
    step = case_steps(CASE)[0]
    return clients["KENT"].envelope(step.message, case_ref=CASE, recipients=step.recipients)


def _attempt(envelope: Envelope, sender: str = "KENT") -> Attempt:
    return Attempt(sender, envelope.to_bytes(), envelope.id, envelope.id)


async def tampered(clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys) -> Attempt:
    envelope = _opening(clients)
    body = json.loads(envelope.to_bytes())
    body["data"]["local_reference"] = "KENT-altered-in-transit"
    return Attempt("KENT", json.dumps(body).encode(), envelope.id, envelope.id)


async def unknown_key(
    clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys
) -> Attempt:
    return _attempt(sign_envelope(_opening(clients), SigningKey.generate("KENT")))


async def revoked_key(
    clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys
) -> Attempt:
    return _attempt(sign_envelope(_opening(clients), keys.revoked))


async def expired_key(
    clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys
) -> Attempt:
    return _attempt(sign_envelope(_opening(clients), keys.expired))


async def not_yet_valid_key(
    clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys
) -> Attempt:
    return _attempt(sign_envelope(_opening(clients), keys.future))


async def spoofed_with_essex_key(
    clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys
) -> Attempt:
    # A genuine Essex envelope (say, stolen or replayed) published on Kent's own subject.
    step = case_steps(CASE)[1]
    envelope = clients["ESSEX"].envelope(step.message, case_ref=CASE, recipients=step.recipients)
    return _attempt(envelope, sender="KENT")


async def spoofed_with_kent_key(
    clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys
) -> Attempt:
    # Kent claims to be Essex and signs with its own key.
    step = case_steps(CASE)[1]
    unsigned = compose(
        step.message,
        sender="ESSEX",
        case_ref=CASE,
        recipients=step.recipients,
        jurisdiction="england-wales",
    )
    signature = sign_detached(canonical_json(unsigned.signing_dict()), pki.key("KENT"))
    return _attempt(unsigned.model_copy(update={"signature": signature}), sender="KENT")


async def unknown_type(
    clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys
) -> Attempt:
    envelope = _opening(clients).model_copy(update={"type": "uk.police.dvds.no-such-message.v1"})
    return _attempt(sign_envelope(envelope, pki.key("KENT")))


async def oversize(clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys) -> Attempt:
    data = b'{"padding": "' + b"x" * OVERSIZE_BYTES + b'"}'
    return Attempt("KENT", data, "oversize-1", "oversize-1")


async def malformed_json(
    clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys
) -> Attempt:
    return Attempt("KENT", b'{"specversion": "1.0", "id": ', "malformed-1", "malformed-1")


async def not_authorised(
    clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys
) -> Attempt:
    # Kent received the application, but Essex co-ordinates: only Essex may ask for enquiries.
    opening = case_steps(CASE)[0]
    receipt = await clients["KENT"].send(
        opening.message, case_ref=CASE, recipients=opening.recipients
    )
    assert receipt.accepted
    enquiry = case_steps(CASE)[1]
    return _attempt(
        clients["KENT"].envelope(enquiry.message, case_ref=CASE, recipients=enquiry.recipients)
    )


async def reused_id(clients: dict[str, ForceClient], pki: EphemeralPki, keys: KentKeys) -> Attempt:
    # Essex signs its own enquiry under the id of Kent's accepted case opening: it must be
    # refused, not taken for a repeat of Kent's message and silently dropped.
    opening = _opening(clients)
    await clients["KENT"].publish(opening)
    assert (await clients["KENT"].receipt(opening.id, timeout=30)).accepted
    step = case_steps(CASE)[1]
    enquiry = clients["ESSEX"].envelope(step.message, case_ref=CASE, recipients=step.recipients)
    reused = sign_envelope(enquiry.model_copy(update={"id": opening.id}), pki.key("ESSEX"))
    return Attempt("ESSEX", reused.to_bytes(), "reused-id-1", opening.id)


CASES: list[tuple[Build, ReasonCode]] = [
    (tampered, ReasonCode.BAD_SIGNATURE),
    (unknown_key, ReasonCode.UNKNOWN_KEY),
    (revoked_key, ReasonCode.REVOKED_KEY),
    (expired_key, ReasonCode.EXPIRED_KEY),
    (not_yet_valid_key, ReasonCode.KEY_NOT_YET_VALID),
    (spoofed_with_essex_key, ReasonCode.SENDER_MISMATCH),
    (spoofed_with_kent_key, ReasonCode.SENDER_MISMATCH),
    (unknown_type, ReasonCode.UNKNOWN_TYPE),
    (oversize, ReasonCode.OVERSIZE),
    (malformed_json, ReasonCode.MALFORMED_JSON),
    (not_authorised, ReasonCode.NOT_AUTHORISED),
    (reused_id, ReasonCode.ENVELOPE_ID_REUSED),
]


@pytest.mark.parametrize(("build", "reason"), CASES, ids=[b.__name__ for b, _ in CASES])
async def test_rejection_gives_a_signed_receipt_and_a_dead_letter(
    build: Build,
    reason: ReasonCode,
    running: RunningBroker,
    clients: dict[str, ForceClient],
    pki: EphemeralPki,
    kent_keys: KentKeys,
    admin,
) -> None:
    attempt = await build(clients, pki, kent_keys)
    sender = clients[attempt.sender]
    processed_before = admin.rows(schema.processed_envelopes)
    disclosures_before = admin.rows(schema.disclosure_log)

    await sender.publish_raw(attempt.data, case_ref=CASE, msg_id=attempt.msg_id)
    receipt = await sender.receipt(attempt.answered, timeout=30)

    # A rejection receipt, signed by the hub, to the force the bytes came from.
    assert not receipt.accepted
    assert receipt.reason_code is reason, receipt.receipt.message
    assert receipt.receipt.in_reply_to == attempt.answered
    assert receipt.envelope.senderforce == "HUB"
    assert receipt.envelope.recipient_codes == (attempt.sender,)
    assert verify_envelope(receipt.envelope, pki.trust_store()).kid == pki.key("HUB").kid

    # The original bytes, untouched, in the dead-letter stream with the reason.
    dead = await admin.eventually(
        lambda: admin.read(subjects.DEADLETTER_STREAM, subjects.deadletter_subject(attempt.sender))
    )
    assert len(dead) == 1
    [letter] = dead
    assert letter.data == attempt.data
    headers = letter.headers or {}
    assert headers["Crossforce-Reason"] == reason.value
    assert headers["Crossforce-Detail"]
    assert headers["Crossforce-Arrival-Subject"].startswith("cf.in.")
    assert headers["Crossforce-Arrival-Subject"].endswith(f".{attempt.sender}.{CASE}")
    [rejection] = admin.rows(schema.rejections)  # recorded once
    assert rejection["reason_code"] == reason.value
    assert rejection["arrival_force"] == attempt.sender

    # And no effect: nothing processed, disclosed or delivered because of it.
    await admin.eventually(admin.inbound_drained)
    assert admin.rows(schema.processed_envelopes) == processed_before
    assert admin.rows(schema.disclosure_log) == disclosures_before
    # (The id itself may be delivered when an accepted message carried it first.)
    accepted_ids = {row["envelope_id"] for row in processed_before}
    for force in ("ESSEX", "SURREY"):
        delivered = await admin.read(subjects.DELIVERY_STREAM, subjects.delivery_subject(force))
        assert all(attempt.data != m.data for m in delivered)
        if attempt.answered not in accepted_ids:
            assert all(attempt.answered.encode() not in m.data for m in delivered)
