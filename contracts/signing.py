"""Sign and verify envelopes against the trust store."""

from __future__ import annotations

from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.envelope import FORCE_URN_PREFIX, Envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.jws import read_header, sign_detached, signing_input
from crossforce.contracts.keys import PublicKeyRecord, Signer, verify_raw
from crossforce.contracts.trust import TrustStore


def sign_envelope(envelope: Envelope, key: Signer) -> Envelope:
    """Return the envelope with a detached JWS over its canonical JSON (minus signature)."""
    if key.force != envelope.senderforce:
        raise ContractError(
            ReasonCode.SENDER_MISMATCH,
            f"a {key.force} key cannot sign for sender {envelope.senderforce}",
        )
    # Sign the form this returns: an envelope parsed from someone's JSON is re-written in
    # Crossforce's own form (defaults present, time with a Z), so it is signed in that form.
    envelope = envelope.model_copy()
    payload = canonical_json(envelope.signing_dict())
    return envelope.model_copy(update={"signature": sign_detached(payload, key)})


def verify_envelope(envelope: Envelope, trust: TrustStore) -> PublicKeyRecord:
    """Check signature, kid, key validity at the envelope's time, revocation and sender.

    Returns the key that verified. Raises ContractError with a stable reason code.
    """
    if not envelope.signature:
        raise ContractError(ReasonCode.MISSING_SIGNATURE, "envelope is not signed")
    if envelope.source != f"{FORCE_URN_PREFIX}{envelope.senderforce}":
        raise ContractError(
            ReasonCode.SENDER_MISMATCH,
            f"source {envelope.source} does not match sender {envelope.senderforce}",
        )
    header = read_header(envelope.signature)
    kid = header["kid"]
    key_set = trust.key_set(envelope.senderforce)
    record = key_set.find(kid) if key_set else None
    if record is None:
        owner = next((f for f, ks in trust.forces.items() if ks.find(kid)), None)
        if owner is not None:
            raise ContractError(
                ReasonCode.SENDER_MISMATCH,
                f"key {kid} belongs to {owner}, not to sender {envelope.senderforce}",
            )
        raise ContractError(
            ReasonCode.UNKNOWN_KEY, f"no trusted key {kid} for {envelope.senderforce}"
        )
    data, raw_signature = signing_input(envelope.signature, canonical_json(envelope.signing_dict()))
    if not verify_raw(record.public_key(), raw_signature, data):
        raise ContractError(ReasonCode.BAD_SIGNATURE, "signature does not verify: content altered")
    record.check_usable_at(envelope.time)
    return record
