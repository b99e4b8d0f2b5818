"""An action from the web app travels as the force's own signed envelope, naming who acted,
over NATS as the force's own NATS user, through a real hub, and comes back with the hub's
signed receipt, read through the app's own receipt consumer: the force's own system, running
at the same time, still gets every receipt it waits for."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.testing.containers import NatsService
from crossforce.adapters.web.actions import NatsActionSender, delay_notice
from crossforce.adapters.web.store import Account, Role
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import case_steps
from crossforce.broker.service.queries import case_history, case_timeline, case_view
from crossforce.contracts.messages.supervision import PartChased
from crossforce.contracts.pki import EphemeralPki

CASE = "CF-2026-000901"

pytestmark = pytest.mark.timeout(120)


@pytest.mark.crossforce_forces("HUB", "KENT", "ESSEX", "SURREY", "PSOS")
async def test_an_action_from_the_app_is_accepted_and_its_receipt_taken_from_no_one(
    crossforce_broker: RunningBroker,
    crossforce_pki: EphemeralPki,
    nats_service_session: NatsService,
) -> None:
    trust = crossforce_pki.trust_store()
    clients: dict[str, ForceClient] = {}
    for force in ("KENT", "ESSEX", "PSOS"):
        clients[force] = await ForceClient(
            force=force,
            key=crossforce_pki.key(force),
            trust=trust,
            nats_url=crossforce_broker.nats_url,
            credentials=nats_service_session.credentials.get(force),
        ).connect()
    sender = NatsActionSender(
        {"ESSEX": crossforce_pki.key("ESSEX")},
        trust,
        crossforce_broker.nats_url,
        credentials={"ESSEX": nats_service_session.credentials["ESSEX"]},
    )
    try:
        steps = case_steps(CASE)
        # Essex's own system stays connected throughout, reading its own receipt consumer.
        for step in steps[:3]:
            receipt = await clients[step.sender].send(
                step.message, case_ref=CASE, recipients=step.recipients
            )
            assert receipt.accepted, receipt.reason_code
        engine = crossforce_broker.engine
        assert engine is not None
        view = case_view(engine, CASE, "ESSEX")
        supervisor = Account("essex.sup", "ESSEX", Role.SUPERVISOR, False)
        message = delay_notice(
            view,
            supervisor,
            part_id=next(p.part_id for p in view.parts if p.owner == "PSOS"),
            reason="Police Scotland's checks are taking longer than planned",
            expected_by=(crossforce_pki.now + timedelta(days=30)).date().isoformat(),
            now=crossforce_pki.now,
        )
        assert sender.can_sign("ESSEX") and not sender.can_sign("KENT")
        outcome = await sender.submit("ESSEX", CASE, message, "essex.sup")
        assert outcome.accepted, outcome.reason

        # The force's own consumer saw the app's receipt too: nothing was taken from it.
        seen = await clients["ESSEX"].receipt(outcome.envelope_id, timeout=10)
        assert seen.accepted
        # And the force's own next message gets its receipt, with the app still connected.
        psos_part = next(p.part_id for p in view.parts if p.owner == "PSOS")
        chased = PartChased(part_id=psos_part, note="Chased by the force's own system")
        mine = await clients["ESSEX"].send(chased, case_ref=CASE)
        assert mine.accepted, mine.reason_code
        # A second action reuses the app's connection and gets its own receipt.
        again = await sender.submit("ESSEX", CASE, message, "essex.sup")
        assert again.accepted and again.envelope_id != outcome.envelope_id

        sent = [line for line in case_timeline(engine, CASE, "ESSEX") if line.sent]
        line = next(line for line in sent if line.envelope_id == outcome.envelope_id)
        assert line.message_type == "delay-notified" and line.acted_by == "essex.sup"
        assert line.recipients == ("PSOS",)  # the late part's owner hears of it
        told = [h for h in case_history(engine, CASE) if h.event == "delay-notified"]
        assert [h.acted_by for h in told] == ["essex.sup", "essex.sup"]

        # Police Scotland receives Essex's envelope as Essex signed it, naming who acted.
        delivered = []
        async for delivery in clients["PSOS"].deliveries(idle_timeout=2.0):
            delivered.append(delivery.envelope)
            await delivery.ack()
        [first, *_] = [e for e in delivered if e.id == outcome.envelope_id]
        assert (first.senderforce, first.actor) == ("ESSEX", "essex.sup")
    finally:
        await sender.aclose()
        for client in clients.values():
            await client.close()
