"""Keys that never leave an HSM: a PKCS#11 signer over SoftHSM2 (CKM_EDDSA) signs for the
hub and for a force client, and every Crossforce and JOSE verifier accepts its signatures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.hsm.pkcs11 import Pkcs11Signer
from crossforce.adapters.hsm.uri import MODULE_ENV, PIN_ENV, Pkcs11Uri
from crossforce.adapters.testing.softhsm import USER_PIN, SoftHsm
from crossforce.broker.cli import main
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.broker.scenario import case_steps
from crossforce.contracts.b64 import b64url_encode
from crossforce.contracts.canonical import canonical_json
from crossforce.contracts.envelope import parse_envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import Signer, jwk_thumbprint
from crossforce.contracts.keystore import load_key_set
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope, verify_envelope

CASE = "CF-2026-000808"
runner = CliRunner()


def _uri(token: str, force: str) -> str:
    return f"pkcs11:token={token};object={force}"


def _signer(softhsm: SoftHsm, token: str, force: str) -> Pkcs11Signer:
    return Pkcs11Signer.generate(_uri(token, force), pin=USER_PIN, module_path=softhsm.module)


def test_a_signer_in_the_hsm_signs_what_jose_libraries_verify(softhsm: SoftHsm) -> None:
    from joserfc import jws
    from joserfc.jwk import OKPKey

    token = softhsm.new_token()
    signer = _signer(softhsm, token, "KENT")
    try:
        assert isinstance(signer, Signer)
        assert signer.kid == jwk_thumbprint(signer.jwk)
        now = datetime.now(UTC)
        pki = EphemeralPki(["KENT", "ESSEX"], now=now)
        pki.adopt(signer)
        step = case_steps(CASE, now)[0]
        from crossforce.contracts.compose import compose

        envelope = sign_envelope(
            compose(
                step.message, sender="KENT", case_ref=CASE, jurisdiction="england-wales", time=now
            ),
            signer,
        )
        assert verify_envelope(envelope, pki.trust_store()).kid == signer.kid
        header, _, signature = (envelope.signature or "").split(".")
        payload = b64url_encode(canonical_json(envelope.signing_dict()))
        verified = jws.deserialize_compact(
            f"{header}.{payload}.{signature}",
            OKPKey.import_key({**signer.jwk}),
            algorithms=["Ed25519"],
        )
        assert verified.headers()["kid"] == signer.kid

        # Opened again by its URI (as `crossforce up --hub-key pkcs11:...` does): same key.
        again = Pkcs11Signer.open(_uri(token, "KENT"), pin=USER_PIN, module_path=softhsm.module)
        assert again.kid == signer.kid
        again.close()
    finally:
        signer.close()


def test_a_wrong_pin_or_a_missing_key_is_one_typed_line(softhsm: SoftHsm) -> None:
    token = softhsm.new_token()
    _signer(softhsm, token, "KENT").close()
    with pytest.raises(ContractError) as wrong_pin:
        Pkcs11Signer.open(_uri(token, "KENT"), pin="0000", module_path=softhsm.module)
    assert wrong_pin.value.code is ReasonCode.KEY_FILE_INVALID
    assert "0000" not in wrong_pin.value.message
    with pytest.raises(ContractError) as missing:
        Pkcs11Signer.open(_uri(token, "ESSEX"), pin=USER_PIN, module_path=softhsm.module)
    assert "no usable Ed25519 key pair" in missing.value.message


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("pkcs11:token=t;object=KENT?pin-value=1234", "carries a PIN"),
        ("pkcs11:object=KENT", "needs token"),
        ("file:keys/KENT.key", "does not start with pkcs11:"),
        ("pkcs11:token=t;object=KENT?pin-source=env:PIN", "pin-source"),
    ],
)
def test_uris_that_could_leak_a_pin_or_name_no_key_are_refused(uri: str, why: str) -> None:
    with pytest.raises(ContractError) as refused:
        Pkcs11Uri.parse(uri)
    assert why in refused.value.message
    assert "1234" not in refused.value.message


def test_uris_name_token_object_id_and_module() -> None:
    where = Pkcs11Uri.parse(
        "pkcs11:token=Crossforce%20HUB;object=HUB;id=%01%02?module-path=/usr/lib/x.so"
        "&pin-source=file:/run/secrets/pin"
    )
    assert (where.token, where.label, where.key_id) == ("Crossforce HUB", "HUB", b"\x01\x02")
    assert where.module_path == "/usr/lib/x.so"
    assert where.pin_file == Path("/run/secrets/pin")


async def test_the_hub_and_a_force_client_sign_with_hsm_keys(
    softhsm: SoftHsm, tmp_path: Path
) -> None:
    token = softhsm.new_token()
    forces = ["HUB", "KENT", "ESSEX"]
    pki = EphemeralPki(forces)
    hub, kent = _signer(softhsm, token, "HUB"), _signer(softhsm, token, "KENT")
    pki.adopt(hub)
    pki.adopt(kent)
    trust = pki.trust_store()
    settings = BrokerSettings(data_dir=tmp_path / "broker", partitions=2)
    try:
        async with (
            RunningBroker(settings, trust=trust, hub_key=hub) as running,
            ForceClient(force="KENT", key=kent, trust=trust, nats_url=running.nats_url) as k,
            ForceClient(
                force="ESSEX", key=pki.key("ESSEX"), trust=trust, nats_url=running.nats_url
            ) as essex,
        ):
            step = case_steps(CASE)[0]  # KENT opens the case, ESSEX co-ordinates
            assert step.sender == "KENT"
            envelope = k.envelope(step.message, case_ref=CASE, recipients=step.recipients)
            await k.publish(envelope)
            receipt = await k.receipt(envelope.id, timeout=30)
            assert receipt.accepted, receipt.reason_code
            assert verify_envelope(receipt.envelope, trust).kid == hub.kid
            delivered = []
            async for delivery in essex.deliveries(idle_timeout=1.0):
                delivered.append(delivery.envelope)
                await delivery.ack()
            assert [e.id for e in delivered] == [envelope.id]
            assert verify_envelope(delivered[0], trust).kid == kent.kid
    finally:
        hub.close()
        kent.close()


def test_keys_new_makes_the_key_in_the_hsm_and_publishes_its_jwk(
    softhsm: SoftHsm, tmp_path: Path
) -> None:
    main._register()
    token = softhsm.new_token()
    env = {MODULE_ENV: softhsm.module, PIN_ENV: USER_PIN}
    made = runner.invoke(
        main.app,
        ["keys", "new", "--force", "HUB", "--out", str(tmp_path), "--pkcs11", _uri(token, "HUB")],
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert not (tmp_path / "HUB.key").exists()  # the private key is only in the HSM
    [record] = load_key_set(tmp_path / "HUB.jwk").keys
    signer = Pkcs11Signer.open(_uri(token, "HUB"), pin=USER_PIN, module_path=softhsm.module)
    try:
        assert record.kid == signer.kid
    finally:
        signer.close()

    # `message sign --key pkcs11:...` signs with it too.
    runner.invoke(
        main.app,
        ["keys", "new", "--force", "KENT", "--out", str(tmp_path), "--pkcs11", _uri(token, "KENT")],
        env=env,
    )
    example = runner.invoke(
        main.app, ["message", "example", "case-opened", "--from", "KENT", "--to", "ESSEX"]
    )
    assert example.exit_code == 0, example.output
    (tmp_path / "unsigned.json").write_text(example.output)
    signed = runner.invoke(
        main.app,
        ["message", "sign", str(tmp_path / "unsigned.json"), "--key", _uri(token, "KENT")],
        env=env,
    )
    assert signed.exit_code == 0, signed.output
    envelope = parse_envelope(signed.output.encode())
    kent_kid = load_key_set(tmp_path / "KENT.jwk").keys[0].kid
    assert json.loads(signed.output)["signature"].split(".")[0]
    from crossforce.contracts.jws import read_header

    assert read_header(envelope.signature or "")["kid"] == kent_kid
