"""An action from the web app travels as the force's own signed envelope, over NATS, through
a real hub, and comes back with the hub's signed receipt."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.testing.containers import NatsService
from crossforce.adapters.web.actions import NatsActionSender, delay_notice
from crossforce.adapters.web.store import Account, Role
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import case_steps
from crossforce.broker.service.queries import case_timeline, case_view
from crossforce.contracts.pki import EphemeralPki

CASE = "CF-2026-000901"

pytestmark = pytest.mark.timeout(120)


@pytest.mark.crossforce_forces("HUB", "KENT", "ESSEX", "SURREY", "PSOS")
async def test_delay_notified_from_the_app_is_accepted_by_the_hub(
    crossforce_broker: RunningBroker,
    crossforce_pki: EphemeralPki,
    nats_service_session: NatsService,
) -> None:
    trust = crossforce_pki.trust_store()
    # Each force's client is closed before the app's own client for Essex reads receipts:
    # they share the force's receipt consumer.
    for step in case_steps(CASE)[:3]:
        async with ForceClient(
            force=step.sender,
            key=crossforce_pki.key(step.sender),
            trust=trust,
            nats_url=crossforce_broker.nats_url,
            credentials=nats_service_session.credentials.get(step.sender),
        ) as client:
            receipt = await client.send(step.message, case_ref=CASE, recipients=step.recipients)
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
    # The app sends as the force's own NATS user, as production credentials require.
    sender = NatsActionSender(
        {"ESSEX": crossforce_pki.key("ESSEX")},
        trust,
        crossforce_broker.nats_url,
        credentials={"ESSEX": nats_service_session.credentials["ESSEX"]},
    )
    assert sender.can_sign("ESSEX") and not sender.can_sign("KENT")
    outcome = await sender.submit("ESSEX", CASE, message)
    assert outcome.accepted, outcome.reason
    sent = [line for line in case_timeline(engine, CASE, "ESSEX") if line.sent]
    assert sent[-1].message_type == "delay-notified"
    assert sent[-1].envelope_id == outcome.envelope_id
    assert sent[-1].recipients == ("PSOS",)  # the late part's owner hears of it
