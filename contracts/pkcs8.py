"""Encrypted PKCS#8 private keys under scrypt (RFC 8018 PBES2 with the RFC 7914 §7 KDF).

`cryptography` reads these (through OpenSSL) but writes PKCS#8 only with PBKDF2 at 2,048
iterations, far below what a key that signs for a police force deserves. So the structure
is written here, with `cryptography`'s scrypt and AES and `asn1crypto`'s DER, and read back
by `cryptography` alone: any OpenSSL (`openssl pkcs8 -in KEY`) reads it too.

Parameters are OWASP's (Password Storage Cheat Sheet): N=2^14, r=8, p=5 is one of its
equivalent scrypt settings, and the largest that fits OpenSSL's 32 MiB scrypt memory limit
for PBES2 (N=2^17 with r=8 needs 128 MiB and OpenSSL refuses to read it).
"""

from __future__ import annotations

import base64
import os
import textwrap
from dataclasses import dataclass

from asn1crypto import core
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
SCRYPT = "1.3.6.1.4.1.11591.4.11"
AES256_CBC = "2.16.840.1.101.3.4.1.42"


@dataclass(frozen=True, slots=True)
class ScryptCost:
    n: int = 2**14
    r: int = 8
    p: int = 5

    def at_least(self, other: ScryptCost) -> bool:
        return self.n >= other.n and self.r >= other.r and self.p >= other.p


# OWASP's equally strong scrypt settings, trading memory (N) for time (p).
OWASP_SCRYPT_SETTINGS = (
    ScryptCost(2**17, 8, 1),
    ScryptCost(2**16, 8, 2),
    ScryptCost(2**15, 8, 3),
    ScryptCost(2**14, 8, 5),
    ScryptCost(2**13, 8, 10),
)
OWASP_SCRYPT = ScryptCost()
# OWASP's PBKDF2 counts by PRF (an absent PRF is HMAC-SHA1, RFC 8018 §A.2): a key file
# with fewer is upgraded by `crossforce keys rewrap`.
OWASP_PBKDF2_ITERATIONS = {
    "1.2.840.113549.2.7": 1_300_000,  # hmacWithSHA1
    "1.2.840.113549.2.9": 600_000,  # hmacWithSHA256
    "1.2.840.113549.2.11": 210_000,  # hmacWithSHA512
}
HMAC_WITH_SHA1 = "1.2.840.113549.2.7"


class _Algorithm(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _ScryptParams(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [
        ("salt", core.OctetString),
        ("cost", core.Integer),
        ("block_size", core.Integer),
        ("parallelization", core.Integer),
        ("key_length", core.Integer, {"optional": True}),
    ]


class _Pbkdf2Params(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [
        ("salt", core.Any),
        ("iteration_count", core.Integer),
        ("key_length", core.Integer, {"optional": True}),
        ("prf", _Algorithm, {"optional": True}),
    ]


class _Pbes2Params(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("key_derivation_func", _Algorithm), ("encryption_scheme", _Algorithm)]


class _EncryptedPrivateKeyInfo(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [("encryption_algorithm", _Algorithm), ("encrypted_data", core.OctetString)]


def _any(value: core.Asn1Value) -> core.Any:
    return core.Any.load(value.dump())


def encrypt(key: PrivateKeyTypes, passphrase: bytes, cost: ScryptCost = OWASP_SCRYPT) -> bytes:
    """`key` as an encrypted PKCS#8 PEM: PBES2, scrypt, AES-256-CBC."""
    plain = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    salt, iv = os.urandom(16), os.urandom(16)
    secret = Scrypt(salt=salt, length=32, n=cost.n, r=cost.r, p=cost.p).derive(passphrase)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    kdf = _ScryptParams(
        {
            "salt": salt,
            "cost": cost.n,
            "block_size": cost.r,
            "parallelization": cost.p,
            "key_length": 32,
        }
    )
    pbes2 = _Pbes2Params(
        {
            "key_derivation_func": {"algorithm": SCRYPT, "parameters": _any(kdf)},
            "encryption_scheme": {
                "algorithm": AES256_CBC,
                "parameters": _any(core.OctetString(iv)),
            },
        }
    )
    info = _EncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": {"algorithm": PBES2, "parameters": _any(pbes2)},
            "encrypted_data": encrypted,
        }
    )
    return _pem("ENCRYPTED PRIVATE KEY", info.dump())


def _pem(label: str, der: bytes) -> bytes:
    text = base64.b64encode(der).decode("ascii")
    lines = "\n".join(textwrap.wrap(text, 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n".encode("ascii")


@dataclass(frozen=True, slots=True)
class Protection:
    """How an encrypted PKCS#8 key is protected, as far as key derivation goes."""

    kdf: str  # "scrypt", "pbkdf2" or the OID of something else
    scrypt: ScryptCost | None = None
    iterations: int | None = None
    prf: str = HMAC_WITH_SHA1

    @property
    def strong(self) -> bool:
        if self.scrypt is not None:
            return any(self.scrypt.at_least(owasp) for owasp in OWASP_SCRYPT_SETTINGS)
        needed = OWASP_PBKDF2_ITERATIONS.get(self.prf)
        return needed is not None and self.iterations is not None and self.iterations >= needed

    def describe(self) -> str:
        if self.scrypt is not None:
            return f"scrypt N={self.scrypt.n} r={self.scrypt.r} p={self.scrypt.p}"
        if self.iterations is not None:
            return f"PBKDF2 with {self.iterations} iterations"
        return f"key derivation {self.kdf}"


def protection(pem: bytes) -> Protection:
    """The key derivation of an encrypted PKCS#8 PEM; ValueError if it is not one."""
    lines = [line for line in pem.decode("ascii").splitlines() if not line.startswith("-----")]
    info = _EncryptedPrivateKeyInfo.load(base64.b64decode("".join(lines)))
    algorithm = info["encryption_algorithm"]
    if algorithm["algorithm"].dotted != PBES2:
        return Protection(algorithm["algorithm"].dotted)
    params = _Pbes2Params.load(algorithm["parameters"].dump())
    kdf = params["key_derivation_func"]
    oid = kdf["algorithm"].dotted
    if oid == SCRYPT:
        s = _ScryptParams.load(kdf["parameters"].dump())
        cost = ScryptCost(s["cost"].native, s["block_size"].native, s["parallelization"].native)
        return Protection("scrypt", scrypt=cost)
    if oid == PBKDF2:
        p = _Pbkdf2Params.load(kdf["parameters"].dump())
        prf = p["prf"]["algorithm"].dotted if p["prf"].native else HMAC_WITH_SHA1
        return Protection("pbkdf2", iterations=p["iteration_count"].native, prf=prf)
    return Protection(oid)
