"""A force system is never left guessing: the first connection fails within its timeout in one
typed error, a connection that was up keeps coming back, and every refusal names its reason
code: before sending (ContractError), from the hub (a rejection receipt), or for silence
(NoReceipt, with the envelope to send again)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crossforce.adapters.client.force_client import ForceClient, HubUnavailable, NoReceipt
from crossforce.adapters.nats.connection import NatsUnreachable, connect
from crossforce.adapters.nats.server import EmbeddedNats
from crossforce.adapters.net import free_port
from crossforce.broker.cli.common import exit_code
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.broker.scenario import case_steps
from crossforce.contracts.envelope import HUB_FORCE_CODE
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.examples import example
from crossforce.contracts.pki import EphemeralPki

pytestmark = pytest.mark.timeout(120)

CASE = "CF-2026-000901"


def _dead_url() -> str:
    return f"nats://127.0.0.1:{free_port()}"  # nothing listens there


async def test_a_first_connect_to_a_dead_server_fails_within_its_timeout(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with pytest.raises(NatsUnreachable) as failed:
        await connect(_dead_url(), timeout=1.5)
    elapsed = time.monotonic() - started
    # Not a speed target: a generous bound that an endless retry loop can never meet.
    assert elapsed < 10
    assert failed.value.code is ReasonCode.NATS_ERROR
    assert "within 1.5 s" in failed.value.message
    assert "ConnectionRefusedError" in failed.value.message
    assert "Traceback" not in caplog.text and "Traceback" not in capfd.readouterr().err


async def test_a_force_client_to_a_dead_url_fails_within_its_timeout() -> None:
    pki = EphemeralPki([HUB_FORCE_CODE, "ESSEX"])
    client = ForceClient(
        force="ESSEX",
        key=pki.key("ESSEX"),
        trust=pki.trust_store(),
        nats_url=f"{_dead_url()},{_dead_url()}",
        connect_timeout=1.0,
    )
    started = time.monotonic()
    with pytest.raises(NatsUnreachable, match="NATS_ERROR: cannot connect"):
        await client.connect()
    assert time.monotonic() - started < 10


async def test_a_connection_that_was_up_comes_back_after_the_server_restarts(
    tmp_path: Path,
) -> None:
    port = free_port()
    server = EmbeddedNats(tmp_path / "store", port=port).start()
    client = await connect(server.url, timeout=5)
    try:
        server.stop()
        await asyncio.sleep(1.5)  # the client has noticed and is retrying
        assert not client.is_connected
        server = EmbeddedNats(tmp_path / "store", port=port).start()
        for _ in range(200):
            if client.is_connected:
                break
            await asyncio.sleep(0.05)
        assert client.is_connected
        await client.flush(timeout=5)
    finally:
        await client.close()
        server.stop()


def test_up_with_a_dead_nats_url_is_one_line(tmp_path: Path) -> None:
    pki = EphemeralPki([HUB_FORCE_CODE])
    (tmp_path / "keys").mkdir()
    pki.key(HUB_FORCE_CODE).to_encrypted_file(tmp_path / "keys" / "HUB.key", "x" * 20)
    (tmp_path / "trust.json").write_text(pki.trust_store().to_json())
    env = {
        **os.environ,
        "CROSSFORCE_KEY_PASSPHRASE": "x" * 20,
        "CROSSFORCE_ANCHOR_KID": pki.trust_store().anchor.kid,
    }
    command = [sys.executable, "-c", "from crossforce.broker.cli.main import run; run()"]
    result = subprocess.run(
        [*command, "up", "--nats-url", _dead_url()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == exit_code(ReasonCode.NATS_ERROR) == 3, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error NATS_ERROR: cannot connect to NATS at nats://127.0.0.1:")


def test_refusals_before_sending_name_their_code() -> None:
    pki = EphemeralPki([HUB_FORCE_CODE, "ESSEX", "KENT"])
    trust = pki.trust_store()
    with pytest.raises(ContractError) as unknown:
        ForceClient(force="ESEX", key=pki.key("ESSEX"), trust=trust, nats_url="nats://x:4222")
    assert unknown.value.code is ReasonCode.UNKNOWN_FORCE
    without_hub = EphemeralPki(["ESSEX"])
    with pytest.raises(ContractError) as untrusted:
        ForceClient(
            force="ESSEX",
            key=without_hub.key("ESSEX"),
            trust=without_hub.trust_store(),
            nats_url="nats://x:4222",
        )
    assert untrusted.value.code is ReasonCode.UNTRUSTED_STORE
    client = ForceClient(force="ESSEX", key=pki.key("ESSEX"), trust=trust, nats_url="nats://x")
    message = example("delay-notified", "ESSEX", "KENT")
    with pytest.raises(ContractError) as bad_ref:
        client.envelope(message, case_ref="CF 2026/000123", recipients=["KENT"])
    assert bad_ref.value.code is ReasonCode.INVALID_ENVELOPE
    assert "caseref" in bad_ref.value.message
    with pytest.raises(ContractError) as bad_recipient:
        client.envelope(message, case_ref=CASE, recipients=["KENTT"])
    assert bad_recipient.value.code is ReasonCode.UNKNOWN_FORCE


async def test_a_force_the_hub_does_not_know_is_told_at_connect(tmp_path: Path) -> None:
    hub_pki = EphemeralPki([HUB_FORCE_CODE, "KENT"])  # the hub knows nothing of Essex
    settings = BrokerSettings(data_dir=tmp_path / "hub", partitions=2)
    async with RunningBroker(
        settings, trust=hub_pki.trust_store(), hub_key=hub_pki.key(HUB_FORCE_CODE)
    ) as running:
        essex_pki = EphemeralPki([HUB_FORCE_CODE, "ESSEX"])
        client = ForceClient(
            force="ESSEX",
            key=essex_pki.key("ESSEX"),
            trust=essex_pki.trust_store(),
            nats_url=running.nats_url,
        )
        with pytest.raises(HubUnavailable) as refused:
            await client.connect()
        assert refused.value.code is ReasonCode.UNKNOWN_FORCE
        assert "not in the hub's trust store" in refused.value.message


async def test_silence_is_no_receipt_and_the_same_envelope_sent_again_is_answered(
    tmp_path: Path,
) -> None:
    pki = EphemeralPki([HUB_FORCE_CODE, "KENT", "ESSEX"])
    trust = pki.trust_store()
    settings = BrokerSettings(data_dir=tmp_path / "hub", partitions=2)
    async with RunningBroker(settings, trust=trust, hub_key=pki.key(HUB_FORCE_CODE)) as running:
        kent = await ForceClient(
            force="KENT", key=pki.key("KENT"), trust=trust, nats_url=running.nats_url
        ).connect()
        try:
            await running.stop_replica()  # the hub is down; NATS keeps what is sent
            opened = case_steps(CASE)[0]
            with pytest.raises(NoReceipt) as silent:
                await kent.send(opened.message, case_ref=CASE, recipients=["ESSEX"], timeout=1)
            assert silent.value.code is ReasonCode.NATS_ERROR
            assert isinstance(silent.value, TimeoutError)
            assert "Send the same envelope again" in silent.value.message
            await running.start_replica()
            receipt = await kent.send_envelope(silent.value.envelope, timeout=30)
            assert receipt.accepted
            assert receipt.receipt.in_reply_to == silent.value.envelope.id
            # The hub's own refusals arrive as receipts with their reason code.
            late = example("delay-notified", "KENT", "ESSEX")
            refused = await kent.send(late, case_ref="CF-2026-999999", recipients=["ESSEX"])
            assert refused.reason_code is ReasonCode.UNKNOWN_CASE
        finally:
            await kent.close()
