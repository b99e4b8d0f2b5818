"""Forgery and replay against a running hub (real nats-server, SQLite, the trust store file
watched as `crossforce up` watches it). Each scenario ends with the conservation check.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from conservation import ANSWERED_AGAIN, APPLIED, REFUSED, SendLog, check_conservation
from harness import signed_step, wait_for_answers
from nats.aio.client import Client
from nats.js import JetStreamContext

from crossforce.adapters.client.force_client import ForceClient
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.broker.scenario import FORCES, _build
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.forces import FORCES as DIRECTORY
from crossforce.contracts.keys import ForceKeySet, RevocationReason, SigningKey
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope
from crossforce.contracts.trust import TrustStore

pytestmark = pytest.mark.server


class Hub:
    def __init__(self, running: RunningBroker, pki: EphemeralPki, trust_path: Path, nc: Client):
        self.running = running
        self.pki = pki
        self.trust_path = trust_path
        self.nc = nc
        self.log = SendLog()

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream()

    async def send(self, envelope: Envelope, **options: Any) -> None:
        await self.log.publish_envelope(self.js, envelope, **options)

    def issue(self, store: TrustStore) -> None:
        """Replace the trust store file in one step, as an operator's deployment would."""
        staged = self.trust_path.with_suffix(".new")
        staged.write_text(store.to_json())
        os.replace(staged, self.trust_path)

    def revoke(self, force: str, at: datetime, reason: RevocationReason) -> TrustStore:
        [record] = self.pki.key_sets[force].keys
        revoked = record.model_copy(update={"revoked_at": at, "revocation_reason": reason})
        self.pki.key_sets[force] = ForceKeySet(force=force, keys=[revoked])
        return self.pki.trust_store()

    async def conserved(self) -> None:
        await wait_for_answers(self.running.nats_url, self.log, timeout=60)
        assert self.running.engine is not None
        report = await check_conservation(self.running.nats_url, self.running.engine, self.log)
        assert report.ok, str(report)


@pytest.fixture()
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    pki = EphemeralPki(FORCES)
    trust_path = tmp_path / "trust.json"
    trust_path.write_text(pki.trust_store().to_json())
    settings = BrokerSettings(
        data_dir=tmp_path / "broker",
        partitions=4,
        trust_path=trust_path,
        anchor_kid=pki.trust_store().anchor.kid,
    )
    async with RunningBroker(settings, trust=pki.trust_store(), hub_key=pki.key("HUB")) as running:
        nc = await nats.connect(running.nats_url)
        yield Hub(running, pki, trust_path, nc)
        await nc.close()


def _signed(pki: EphemeralPki, sender: str, message_name: str, case_ref: str) -> Envelope:
    message = _build(message_name, sender, "ESSEX")
    return sign_envelope(
        compose(
            message,
            sender=sender,
            case_ref=case_ref,
            recipients=["ESSEX"],
            jurisdiction=DIRECTORY[sender].jurisdiction,
        ),
        pki.key(sender),
    )


async def test_a_key_revoked_for_compromise_signs_nothing_new_even_back_dated(hub: Hub) -> None:
    now = datetime.now(UTC)
    # Kent's last genuine use the hub sees, five minutes back (within the skew window).
    await hub.send(
        signed_step(hub.pki, "CF-REV-0001", 0, time=now - timedelta(minutes=5)), expect=APPLIED
    )
    await hub.conserved()
    hub.issue(hub.revoke("KENT", now - timedelta(minutes=1), RevocationReason.COMPROMISE))
    hub.running.trust_watcher.check_now()  # what SIGHUP does; the poll would find it in 2 s
    await _until_trust_has_revocation(hub.running, "KENT")
    refused = {"expect": REFUSED, "reason": ReasonCode.REVOKED_KEY}
    # After the revocation, at the hub's own time.
    await hub.send(signed_step(hub.pki, "CF-REV-0002", 0), **refused)
    # Back-dated to before the revocation, but after the last use the hub saw.
    await hub.send(
        signed_step(hub.pki, "CF-REV-0003", 0, time=now - timedelta(minutes=2)), **refused
    )
    await hub.conserved()


async def test_a_compromised_key_the_hub_never_saw_in_use_signs_nothing(hub: Hub) -> None:
    now = datetime.now(UTC)
    hub.issue(hub.revoke("KENT", now - timedelta(minutes=1), RevocationReason.COMPROMISE))
    hub.running.trust_watcher.check_now()
    await _until_trust_has_revocation(hub.running, "KENT")
    await hub.send(
        signed_step(hub.pki, "CF-REV-0010", 0, time=now - timedelta(minutes=8)),
        expect=REFUSED,
        reason=ReasonCode.REVOKED_KEY,
    )
    await hub.conserved()


async def test_a_retired_key_keeps_what_it_signed_before_retirement(hub: Hub) -> None:
    now = datetime.now(UTC)
    hub.issue(hub.revoke("KENT", now - timedelta(minutes=2), RevocationReason.RETIREMENT))
    hub.running.trust_watcher.check_now()
    await _until_trust_has_revocation(hub.running, "KENT")
    await hub.send(
        signed_step(hub.pki, "CF-RET-0001", 0, time=now - timedelta(minutes=4)), expect=APPLIED
    )
    await hub.send(
        signed_step(hub.pki, "CF-RET-0002", 0), expect=REFUSED, reason=ReasonCode.REVOKED_KEY
    )
    await hub.conserved()


async def test_a_revocation_issued_while_the_hub_runs_takes_effect_within_seconds(
    hub: Hub, notes: dict[str, str]
) -> None:
    kent = ForceClient(
        force="KENT",
        key=hub.pki.key("KENT"),
        trust=hub.pki.trust_store(),
        nats_url=hub.running.nats_url,
    )
    async with kent:
        first = signed_step(hub.pki, "CF-LIVE-0000", 0)
        await hub.send(first, expect=APPLIED)
        assert (await kent.receipt(first.id)).accepted
        loop = asyncio.get_running_loop()
        # No SIGHUP here: the poll alone must find the new file.
        hub.issue(hub.revoke("KENT", datetime.now(UTC), RevocationReason.COMPROMISE))
        issued = loop.time()
        for number in range(1, 100):
            envelope = signed_step(hub.pki, f"CF-LIVE-{number:04d}", 0)
            await hub.send(envelope)
            receipt = await kent.receipt(envelope.id, timeout=30)
            if not receipt.accepted:
                assert receipt.reason_code == ReasonCode.REVOKED_KEY
                break
            await asyncio.sleep(0.25)
        took = loop.time() - issued
    notes["revocation took effect after"] = f"{took:.1f} s"
    assert took < 10, f"the revocation took {took:.1f} s"
    await hub.conserved()


async def test_an_edited_trust_store_is_refused_and_the_old_one_still_verifies(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="crossforce.hub.trust")
    before = hub.running.trust
    # Essex's key swapped for one an attacker holds, without the anchor's signature.
    attacker = SigningKey.generate("ESSEX")
    edited = json.loads(hub.trust_path.read_text())
    record = attacker.public_record(hub.pki.not_before, hub.pki.not_after)
    edited["forces"]["ESSEX"]["keys"] = [json.loads(record.model_dump_json(exclude_none=True))]
    hub.trust_path.write_text(json.dumps(edited, indent=2))
    hub.running.trust_watcher.check_now()
    await _until(lambda: "not reloaded" in caplog.text)
    assert "UNTRUSTED_STORE" in caplog.text
    # A store properly signed, but by another anchor.
    other = EphemeralPki(FORCES)
    hub.issue(other.trust_store())
    hub.running.trust_watcher.check_now()
    await _until(lambda: caplog.text.count("not reloaded") >= 2)
    assert hub.running.trust is before and hub.running.pipeline.trust is before

    # The old store still verifies Kent, and still refuses the attacker's Essex key.
    await hub.send(signed_step(hub.pki, "CF-EDIT-0001", 0), expect=APPLIED)
    forged = sign_envelope(
        compose(
            _build("case-opened", "ESSEX", "KENT"),
            sender="ESSEX",
            case_ref="CF-EDIT-0002",
            recipients=["KENT"],
        ),
        attacker,
    )
    await hub.send(forged, expect=REFUSED, reason=ReasonCode.UNKNOWN_KEY)
    await hub.send(
        signed_step(other, "CF-EDIT-0003", 0), expect=REFUSED, reason=ReasonCode.UNKNOWN_KEY
    )
    await hub.conserved()


async def test_a_replay_under_a_new_id_gets_the_original_receipt(hub: Hub) -> None:
    envelope = signed_step(hub.pki, "CF-REPLAY-0001", 0)
    await hub.send(envelope, expect=APPLIED)
    await hub.conserved()
    for attempt in range(3):
        await hub.send(envelope, msg_id=f"replay-{attempt}", expect=ANSWERED_AGAIN)
    # The same id for a different message is never taken for a repeat.
    other = signed_step(hub.pki, "CF-REPLAY-0002", 0)
    reused = sign_envelope(other.model_copy(update={"id": envelope.id}), hub.pki.key("KENT"))
    await hub.send(reused, msg_id="reused", expect=REFUSED, reason=ReasonCode.ENVELOPE_ID_REUSED)
    await hub.conserved()


async def test_one_forces_envelope_on_another_forces_subject_is_refused(hub: Hub) -> None:
    kent = signed_step(hub.pki, "CF-CROSS-0001", 0)
    await hub.log.publish(
        hub.js,
        "ESSEX",
        kent.caseref,
        kent.to_bytes(),
        kent.id,
        envelope_id=kent.id,
        expect=REFUSED,
        reason=ReasonCode.SENDER_MISMATCH,
    )
    # Signed by Essex's key but claiming to be Kent's, on Kent's subject.
    claimed = compose(
        _build("case-opened", "KENT", "ESSEX"),
        sender="KENT",
        case_ref="CF-CROSS-0002",
        recipients=["ESSEX"],
    )
    payload = claimed.model_copy(update={"senderforce": "ESSEX"})
    by_essex = sign_envelope(payload, hub.pki.key("ESSEX")).model_copy(
        update={"senderforce": "KENT"}
    )
    await hub.send(by_essex, expect=REFUSED)
    # The right case on the wrong case's subject.
    moved = signed_step(hub.pki, "CF-CROSS-0003", 0)
    await hub.log.publish(
        hub.js,
        "KENT",
        "CF-CROSS-0004",
        moved.to_bytes(),
        moved.id,
        envelope_id=moved.id,
        expect=REFUSED,
        reason=ReasonCode.INVALID_ENVELOPE,
    )
    await hub.conserved()


@pytest.mark.parametrize(
    "name",
    ["receipt", "overdue-notice", "escalation-raised", "deadline-reminder", "disclosure-handoff"],
)
async def test_hub_only_types_from_a_force_are_refused(hub: Hub, name: str) -> None:
    await hub.send(signed_step(hub.pki, "CF-HUBONLY-0001", 0), expect=APPLIED)
    forged = _signed(hub.pki, "KENT", name, "CF-HUBONLY-0001")
    await hub.send(forged, expect=REFUSED, reason=ReasonCode.NOT_AUTHORISED)
    await hub.conserved()


async def _until_trust_has_revocation(running: RunningBroker, force: str) -> None:
    def revoked() -> bool:
        key_set = running.pipeline.trust.key_set(force)
        return key_set is not None and all(k.revoked_at for k in key_set.keys)

    await _until(revoked)


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_the_conservation_check_notices_a_loss_a_double_and_a_wrong_answer(
    hub: Hub,
) -> None:
    from dataclasses import replace

    from crossforce.adapters.nats import subjects

    envelope = signed_step(hub.pki, "CF-CHECK-0001", 0)
    await hub.send(envelope, expect=APPLIED)
    await hub.conserved()
    [sent] = list(hub.log)
    # A second copy of its delivery, a send the hub never saw, and a wrong expectation.
    await hub.js.publish(
        subjects.delivery_subject("ESSEX"), envelope.to_bytes(), headers={"Nats-Msg-Id": "copy"}
    )
    never = replace(sent, sequence=10_000, msg_id="never", envelope_id="never-stored")
    wrong = replace(sent, expect=REFUSED)
    assert hub.running.engine is not None
    report = await check_conservation(hub.running.nats_url, hub.running.engine, [wrong, never])
    text = str(report)
    assert report.lost == 1 and report.doubled == 1, text
    assert "neither applied nor refused" in text
    assert "delivered 2 times to ESSEX" in text
    assert "applied, expected a refusal" in text
