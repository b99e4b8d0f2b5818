"""A police employee as a party: the employing force's Professional Standards Department is
told through its own queue and credentials, and nobody else hears of it (002 L899–975;
003 §6.14). The pure-domain version is in tests/unit/domain/test_roles_and_opening.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import FORCES
from hub_helpers import A_APPLICANT, drain, names_by_force, opened, party

from crossforce.adapters.client.force_client import ForceClient
from crossforce.broker.runtime import RunningBroker
from crossforce.contracts.pki import EphemeralPki

CASE = "CF-2026-500001"
PSD = "SURREY_PSD"


@pytest.fixture()
def pki() -> EphemeralPki:
    return EphemeralPki([*FORCES, PSD, "ESSEX_PSD"])


@pytest.fixture()
async def psds(running: RunningBroker, pki: EphemeralPki) -> AsyncIterator[dict[str, ForceClient]]:
    trust = pki.trust_store()
    connected = {
        code: await ForceClient(
            force=code, key=pki.key(code), trust=trust, nats_url=running.nats_url
        ).connect()
        for code in (PSD, "ESSEX_PSD")
    }
    yield connected
    for client in connected.values():
        await client.close()


async def test_the_employing_forces_psd_alone_is_told_of_a_police_employee_party(
    running: RunningBroker, clients: dict[str, ForceClient], psds: dict[str, ForceClient]
) -> None:
    # B lives in Essex and is a Surrey officer; Kent receives and Essex co-ordinates.
    officer = party("P2", "B", "ESSEX", police_employee_of="SURREY")
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), officer]
    receipt = await clients["KENT"].send(opened("KENT", "ESSEX", parties), case_ref=CASE)
    assert receipt.accepted, receipt.receipt.message

    [notice] = await drain(psds[PSD])
    assert (notice.name, notice.senderforce, notice.caseref) == (
        "police-employee-party-notified",
        "HUB",
        CASE,
    )
    data = notice.data
    assert data["party"]["party_id"] == "P2" and data["employing_force"] == "SURREY"
    assert (data["receiving_force"], data["coordinating_force"]) == ("KENT", "ESSEX")
    assert data["party"]["person"]["family_name"] == "Sample"  # the scenario's B

    # Surrey's own DVDS system, other PSDs and the rest hear nothing of the PSD notice.
    assert await drain(psds["ESSEX_PSD"]) == []
    heard = await names_by_force(clients, "SURREY", "ESSEX", "KENT")
    assert heard == {"SURREY": [], "ESSEX": ["case-opened"], "KENT": []}
