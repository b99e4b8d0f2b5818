"""RFC 8037 Appendix A: Ed25519 key, thumbprint and JWS signature vectors."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crossforce.contracts.b64 import b64url_decode, b64url_encode
from crossforce.contracts.keys import SigningKey, jwk_thumbprint, public_key_from_jwk, verify_raw

D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
SIGNING_INPUT = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
SIGNATURE = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"


def _rfc_key() -> SigningKey:
    return SigningKey("RFC", Ed25519PrivateKey.from_private_bytes(b64url_decode(D)))


def test_a1_a2_public_key_from_private_key() -> None:
    assert _rfc_key().jwk == {"kty": "OKP", "crv": "Ed25519", "x": X}


def test_a3_jwk_thumbprint() -> None:
    assert jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": X}) == THUMBPRINT
    assert _rfc_key().kid == THUMBPRINT


def test_a4_signature() -> None:
    assert b64url_encode(_rfc_key().sign(SIGNING_INPUT.encode())) == SIGNATURE


def test_a5_verification() -> None:
    public = public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": X})
    assert verify_raw(public, b64url_decode(SIGNATURE), SIGNING_INPUT.encode())
    assert not verify_raw(public, b64url_decode(SIGNATURE), SIGNING_INPUT.encode() + b"x")
