"""Signed checkpoints in C2SP form (c2sp.org/tlog-checkpoint inside c2sp.org/signed-note).

A checkpoint is the note text

    <origin>
    <tree size>
    <base64 root hash>

followed by a blank line and one line per signature, `— <key name> <base64(key hash ||
signature)>`. The key hash is the first four bytes of SHA-256(key name || 0x0A || 0x01 ||
Ed25519 public key). Witnesses and outside verifiers that speak the format (Go's
golang.org/x/mod/sumdb/note, the transparency-dev tooling) can check it without Crossforce.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crossforce.contracts.b64 import b64url_decode
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.keys import Signer, verify_raw
from crossforce.ledger.errors import LedgerError
from crossforce.ledger.merkle import HASH_SIZE

ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space


class CheckpointError(LedgerError):
    """A checkpoint that is malformed, unsigned by a trusted key, or badly signed."""

    code = ReasonCode.BAD_SIGNATURE


def check_key_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise CheckpointError(f"key name {name!r} must be non-empty, without spaces or '+'")


def key_hash(name: str, public_key: bytes) -> bytes:
    """signed-note key ID: SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = field(default=())

    def body(self) -> str:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("a checkpoint origin is one non-empty line")
        lines = [self.origin, str(self.tree_size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted public key under its note key name."""

    name: str
    public_key: bytes

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, self.public_key)

    def to_string(self) -> str:
        """The vkey form: `<name>+<hex key hash>+<base64(0x01 || public key)>`."""
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_hash.hex()}+{encoded}"

    @classmethod
    def from_string(cls, vkey: str) -> NoteVerifier:
        try:
            name, hash_hex, encoded = vkey.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            expected = bytes.fromhex(hash_hex)
        except (ValueError, binascii.Error):
            raise CheckpointError(f"{vkey!r} is not a signed-note verifier key") from None
        if len(raw) != 33 or raw[0] != ED25519:
            raise CheckpointError("only Ed25519 verifier keys are supported")
        verifier = cls(name, raw[1:])
        if verifier.key_hash != expected:
            raise CheckpointError(f"verifier key {name} has the wrong key hash")
        return verifier

    @classmethod
    def for_signing_key(cls, key: Signer, name: str) -> NoteVerifier:
        check_key_name(name)
        return cls(name, b64url_decode(key.jwk["x"]))


def verifiers_from_public_keys(document: Any, name: str) -> list[NoteVerifier]:
    """Checkpoint verifiers under key name `name` from public keys only: a force key set
    (`keys/HUB.jwk`, every key it ever had, so rotated keys still verify old checkpoints),
    a JWK Set (`crossforce keys export --jwks`) or one OKP JWK. A private key is refused:
    checking a signature never needs one."""
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        jwks = document["keys"]
    elif isinstance(document, dict) and "x" in document:
        jwks = [document]
    else:
        raise CheckpointError("not a public key set, JWK Set or JWK")
    verifiers = []
    for jwk in jwks:
        if not isinstance(jwk, dict):
            raise CheckpointError("not a public key set, JWK Set or JWK")
        if "d" in jwk:
            raise CheckpointError("holds a private key: give the public key (.jwk) only")
        if jwk.get("kty", "OKP") != "OKP" or jwk.get("crv", "Ed25519") != "Ed25519":
            raise CheckpointError("only Ed25519 (OKP) keys sign checkpoints")
        try:
            public = b64url_decode(str(jwk["x"]))
        except (KeyError, ValueError):
            raise CheckpointError("a key's x is not base64url") from None
        if len(public) != 32:
            raise CheckpointError("a key's x is not an Ed25519 public key")
        verifiers.append(NoteVerifier(name, public))
    if not verifiers:
        raise CheckpointError("the key set holds no key")
    return verifiers


def sign_checkpoint(checkpoint: Checkpoint, key: Signer, name: str) -> str:
    """The signed note text of a checkpoint."""
    check_key_name(name)
    body = checkpoint.body()
    verifier = NoteVerifier.for_signing_key(key, name)
    blob = verifier.key_hash + key.sign(body.encode())
    return f"{body}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


def parse_checkpoint(note: str) -> tuple[Checkpoint, list[tuple[str, bytes, bytes]]]:
    """Split a signed note into its checkpoint and (name, key hash, signature) triples."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise CheckpointError("not a signed note: no blank line before the signatures")
    body, signature_text = note[: split + 1], note[split + 2 :]
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has origin, tree size and root hash lines")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        raise CheckpointError("checkpoint tree size or root hash is malformed") from None
    if size < 0 or str(size) != lines[1] or len(root) != HASH_SIZE:
        raise CheckpointError("checkpoint tree size or root hash is malformed")
    signatures: list[tuple[str, bytes, bytes]] = []
    for line in signature_text.split("\n")[:-1]:
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(f"malformed signature line {line!r}")
        try:
            name, encoded = line[len(SIGNATURE_PREFIX) :].split(" ")
            blob = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise CheckpointError(f"malformed signature line {line!r}") from None
        if len(blob) < 5:
            raise CheckpointError(f"signature by {name} is too short")
        signatures.append((name, blob[:4], blob[4:]))
    if not signatures:
        raise CheckpointError("the checkpoint carries no signature")
    return Checkpoint(lines[0], size, root, tuple(lines[3:])), signatures


def verify_checkpoint(note: str, verifiers: list[NoteVerifier]) -> Checkpoint:
    """The checkpoint, if at least one trusted key signed it and no trusted key's line fails."""
    checkpoint, signatures = parse_checkpoint(note)
    body = note[: note.rfind("\n\n") + 1].encode()
    trusted = {(v.name, v.key_hash): v for v in verifiers}
    good = 0
    for name, hash_, signature in signatures:
        verifier = trusted.get((name, hash_))
        if verifier is None:
            continue  # co-signatures from keys we do not know (witnesses) are allowed
        public = Ed25519PublicKey.from_public_bytes(verifier.public_key)
        if not verify_raw(public, signature, body):
            raise CheckpointError(f"signature by {name} does not verify")
        good += 1
    if not good:
        raise CheckpointError("no signature by a trusted key")
    return checkpoint
