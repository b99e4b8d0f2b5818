"""C2SP signed-note checkpoints: format, key IDs, sign and verify."""

from __future__ import annotations

import base64
import hashlib

import pytest

from crossforce.contracts.b64 import b64url_decode
from crossforce.contracts.keys import SigningKey
from crossforce.ledger.checkpoints import (
    Checkpoint,
    CheckpointError,
    NoteVerifier,
    key_hash,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)

ORIGIN = "crossforce.police.uk/ledger"
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate("LEDGER")


def test_body_is_origin_size_and_base64_root() -> None:
    body = Checkpoint(ORIGIN, 8, ROOT).body()
    assert body == f"{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"


def test_key_hash_follows_signed_note(key: SigningKey) -> None:
    public = b64url_decode(key.jwk["x"])
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    assert key_hash(ORIGIN, public) == expected


def test_round_trip(key: SigningKey) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT), key, ORIGIN)
    body, signatures = note.split("\n\n")
    assert body + "\n" == Checkpoint(ORIGIN, 8, ROOT).body()
    line = signatures.rstrip("\n")
    assert line.startswith(f"\u2014 {ORIGIN} ")
    blob = base64.b64decode(line.split(" ")[2])
    verifier = NoteVerifier.for_signing_key(key, ORIGIN)
    assert blob[:4] == verifier.key_hash and len(blob) == 4 + 64
    checkpoint = verify_checkpoint(note, [verifier])
    assert (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash) == (ORIGIN, 8, ROOT)


def test_verifier_key_string_round_trips(key: SigningKey) -> None:
    verifier = NoteVerifier.for_signing_key(key, ORIGIN)
    text = verifier.to_string()
    assert text.startswith(f"{ORIGIN}+{verifier.key_hash.hex()}+")
    assert NoteVerifier.from_string(text) == verifier


def test_tampered_body_fails(key: SigningKey) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT), key, ORIGIN)
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_checkpoint(
            note.replace("\n8\n", "\n9\n"), [NoteVerifier.for_signing_key(key, ORIGIN)]
        )


def test_untrusted_key_fails(key: SigningKey) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT), SigningKey.generate("X"), ORIGIN)
    with pytest.raises(CheckpointError, match="no signature by a trusted key"):
        verify_checkpoint(note, [NoteVerifier.for_signing_key(key, ORIGIN)])


def test_cosignature_from_unknown_witness_is_ignored(key: SigningKey) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT), key, ORIGIN)
    witness = sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT), SigningKey.generate("W"), "witness")
    both = note + witness.split("\n\n")[1]
    verify_checkpoint(both, [NoteVerifier.for_signing_key(key, ORIGIN)])
    assert len(parse_checkpoint(both)[1]) == 2


@pytest.mark.parametrize("bad", ["", "no spaces", "a+b"])
def test_bad_key_names_are_refused(key: SigningKey, bad: str) -> None:
    with pytest.raises(CheckpointError):
        sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), key, bad)


def test_malformed_notes_are_refused() -> None:
    for note in ["", "origin\n1\n", "o\nx\nAAAA\n\n\u2014 k AAAAAAAA\n", f"{ORIGIN}\n1\n"]:
        with pytest.raises(CheckpointError):
            parse_checkpoint(note)
