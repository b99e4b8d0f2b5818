"""A force's Ed25519 key kept in a PKCS#11 module (an HSM, a cloud HSM, or SoftHSM2).

The private key never leaves the module: Crossforce asks it to sign (CKM_EDDSA, PKCS#11 3.0)
and reads only the public key, for the `kid` and the JWK. Keys are named by an RFC 7512
URI, `pkcs11:token=LABEL;object=FORCE`: the object's label is the force code it signs for.
The module and the user PIN are given by the caller (the command line reads them from
`$CROSSFORCE_PKCS11_MODULE` and `$CROSSFORCE_PKCS11_PIN`), or by the URI's `module-path`
and `pin-source=file:...`. A PIN in the URI itself (`pin-value`) is refused: URIs get logged.
"""

from __future__ import annotations

import threading
from typing import Any, Self

import pkcs11
from asn1crypto import core
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_named_curve_parameters

from crossforce.adapters.hsm.uri import MODULE_ENV, Pkcs11Uri, invalid
from crossforce.contracts.keys import jwk_thumbprint, public_jwk

ED25519_OID = "1.3.101.112"  # RFC 8410: id-Ed25519, as CKA_EC_PARAMS names the curve


class Pkcs11Signer:
    """A `crossforce.contracts.keys.Signer` whose private key stays in a PKCS#11 token.

    One session is opened and kept; signing is serialised on it, since a PKCS#11 session
    must not be used by two threads at once.
    """

    def __init__(self, session: Any, private_key: Any, public_raw: bytes, force: str) -> None:
        self._session = session
        self._private_key = private_key
        self._lock = threading.Lock()
        self._force = force
        self._jwk = public_jwk(Ed25519PublicKey.from_public_bytes(public_raw))
        self._kid = jwk_thumbprint(self._jwk)

    @property
    def force(self) -> str:
        return self._force

    @property
    def kid(self) -> str:
        return self._kid

    @property
    def jwk(self) -> dict[str, str]:
        return dict(self._jwk)

    def sign(self, data: bytes) -> bytes:
        with self._lock:
            signature: bytes = self._private_key.sign(data, mechanism=Mechanism.EDDSA)
        return signature

    def close(self) -> None:
        with self._lock:
            self._session.close()

    def __repr__(self) -> str:
        return f"Pkcs11Signer(force={self._force!r}, kid={self._kid!r})"

    @classmethod
    def open(cls, uri: str, *, pin: str | None = None, module_path: str | None = None) -> Self:
        """The key `uri` names; `pin` and `module_path` win over the URI's own."""
        where = Pkcs11Uri.parse(uri)
        module = module_path or where.module_path
        if not module:
            raise invalid(uri, f"names no module: set {MODULE_ENV} or module-path=")
        if pin is None and where.pin_file is not None:
            pin = where.pin_file.read_text(encoding="utf-8").rstrip("\r\n")
        try:
            token = pkcs11.lib(module).get_token(token_label=where.token)
            session = _session(token, pin)
        except (pkcs11.PKCS11Error, RuntimeError) as exc:
            raise invalid(uri, f"cannot be opened: {_reason(exc)}") from None
        try:
            private_key = session.get_key(
                object_class=ObjectClass.PRIVATE_KEY,
                key_type=KeyType.EC_EDWARDS,
                label=where.label,
                id=where.key_id,
            )
            public_key = session.get_key(
                object_class=ObjectClass.PUBLIC_KEY,
                key_type=KeyType.EC_EDWARDS,
                label=where.label,
                id=where.key_id,
            )
            public_raw = _raw_point(public_key[Attribute.EC_POINT])
        except (pkcs11.PKCS11Error, ValueError) as exc:
            session.close()
            raise invalid(uri, f"has no usable Ed25519 key pair: {_reason(exc)}") from None
        return cls(session, private_key, public_raw, where.label)

    @classmethod
    def generate(cls, uri: str, *, pin: str, module_path: str) -> Self:
        """Make a new non-extractable Ed25519 key pair in the token, labelled as `uri` says."""
        where = Pkcs11Uri.parse(uri)
        token = pkcs11.lib(module_path).get_token(token_label=where.token)
        with _session(token, pin, rw=True) as session:
            session.generate_keypair(
                KeyType.EC_EDWARDS,
                store=True,
                label=where.label,
                id=where.key_id,
                public_template={Attribute.EC_PARAMS: encode_named_curve_parameters(ED25519_OID)},
                private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
            )
        return cls.open(uri, pin=pin, module_path=module_path)


def _session(token: Any, pin: str | None, *, rw: bool = False) -> Any:
    """A session on `token`, logged in with `pin`.

    PKCS#11 logs in once per application and token, and logs out when the session that
    logged in closes: a second key of the same token in one process (the hub's and a test
    force's) shares the first one's login, so close the signers of one token together.
    """
    try:
        return token.open(user_pin=pin, rw=rw)
    except pkcs11.UserAlreadyLoggedIn:
        return token.open(rw=rw)


def _raw_point(value: bytes) -> bytes:
    """CKA_EC_POINT of an Edwards key: the 32 raw bytes, DER-wrapped in an OCTET STRING by
    most modules (SoftHSM2 among them) and bare by some."""
    if len(value) == 32:
        return value
    raw = core.OctetString.load(value).native
    if not isinstance(raw, bytes) or len(raw) != 32:
        raise ValueError("the public key is not an Ed25519 point")
    return raw


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
