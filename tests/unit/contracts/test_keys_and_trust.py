"""Key sets, rotation overlap, revocation, encrypted key files and the signed trust store."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from crossforce.contracts.envelope import Envelope, force_urn
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import ANCHOR, SigningKey
from crossforce.contracts.keystore import KeyDirectory
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope, verify_envelope
from crossforce.contracts.trust import TrustStore

PASS = "correct horse battery staple"


def envelope_at(when, sender: str = "KENT") -> Envelope:  # type: ignore[no-untyped-def]
    return Envelope(
        id="0192f5a0-0000-7000-8000-000000000002",
        source=force_urn(sender),
        type="uk.police.dvds.case-opened.v1",
        time=when,
        subject="CF-1",
        dataschema="urn:crossforce:schema:uk.police.dvds.case-opened.v1",
        caseref="CF-1",
        senderforce=sender,
        jurisdiction="england-wales",
        purpose="p",
        lawfulbasis="l",
        data={},
    )


@pytest.fixture()
def keys(tmp_path: Path) -> KeyDirectory:
    directory = KeyDirectory(tmp_path / "keys")
    directory.create(ANCHOR, PASS)
    directory.create("KENT", PASS)
    return directory


def store(keys: KeyDirectory) -> TrustStore:
    return keys.issue_trust_store(PASS, [keys.load_key_set("KENT")])


def test_private_key_file_is_encrypted_and_owner_only(keys: KeyDirectory) -> None:
    path = keys.private_path("KENT")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "ENCRYPTED PRIVATE KEY" in text
    with pytest.raises(ContractError) as refused:
        SigningKey.from_encrypted_file(path, "wrong")
    assert refused.value.code == ReasonCode.BAD_PASSPHRASE
    assert PASS not in text


def test_create_refuses_to_overwrite(keys: KeyDirectory) -> None:
    with pytest.raises(ContractError):
        keys.create("KENT", PASS)


def test_rotation_keeps_old_key_valid_through_the_overlap_only(keys: KeyDirectory) -> None:
    old = keys.load_signing_key("KENT", PASS)
    created = keys.load_key_set("KENT").keys[0].nbf
    rotated_at = created + timedelta(days=10)
    new = keys.rotate("KENT", PASS, now=rotated_at, overlap=timedelta(days=7))
    trust = store(keys)
    verify_envelope(sign_envelope(envelope_at(rotated_at + timedelta(days=6)), old), trust)
    verify_envelope(sign_envelope(envelope_at(rotated_at + timedelta(days=6)), new), trust)
    with pytest.raises(ContractError) as refused:
        verify_envelope(sign_envelope(envelope_at(rotated_at + timedelta(days=8)), old), trust)
    assert refused.value.code == ReasonCode.EXPIRED_KEY
    assert keys.load_signing_key("KENT", PASS).kid == new.kid
    assert len(keys.load_key_set("KENT").keys) == 2  # the old public key is never deleted


def test_revoked_key_verifies_history_but_not_after(keys: KeyDirectory) -> None:
    key = keys.load_signing_key("KENT", PASS)
    revoked_at = keys.load_key_set("KENT").keys[0].nbf + timedelta(days=30)
    keys.revoke("KENT", key.kid, at=revoked_at)
    trust = store(keys)
    before = sign_envelope(envelope_at(revoked_at - timedelta(minutes=1)), key)
    verify_envelope(before, trust)
    after = sign_envelope(envelope_at(revoked_at + timedelta(minutes=1)), key)
    with pytest.raises(ContractError) as refused:
        verify_envelope(after, trust)
    assert refused.value.code == ReasonCode.REVOKED_KEY


def test_trust_store_with_a_broken_signature_is_refused(keys: KeyDirectory, tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    path.write_text(store(keys).to_json())
    TrustStore.load(path)
    body = json.loads(path.read_text())
    body["forces"]["KENT"]["keys"][0]["exp"] = "2099-01-01T00:00:00Z"
    path.write_text(json.dumps(body))
    with pytest.raises(ContractError) as refused:
        TrustStore.load(path)
    assert refused.value.code == ReasonCode.UNTRUSTED_STORE


def test_trust_store_signed_by_another_anchor_fails_the_pin(keys: KeyDirectory) -> None:
    other = EphemeralPki(["KENT"]).trust_store()
    other.verify()
    with pytest.raises(ContractError) as refused:
        other.verify(pinned_anchor_kid=store(keys).anchor.kid)
    assert refused.value.code == ReasonCode.UNTRUSTED_STORE


def test_repr_never_shows_key_material() -> None:
    key = SigningKey.generate("KENT")
    assert "KENT" in repr(key) and "PRIVATE" not in repr(key)
