"""A police employee as a party: the employing force's Professional Standards Department is
told on its own queue, and nobody else hears of it (002 L899–975; 003 §6.14), through the
hub's core in-process. The PSD reading that notice through a ForceClient of its own, on a
real server, is in tests/integration/hub/test_psd_access_scenarios.py (its `officer_case`
fixture). The pure-domain version is in tests/unit/domain/test_roles_and_opening.py."""

from __future__ import annotations

from scenario_support import A_APPLICANT, accepted, names_by_force, opened, party

from crossforce.adapters.nats import subjects
from crossforce.adapters.testing.in_process import InProcessHub

CASE = "CF-2026-500001"
PSD = "SURREY_PSD"


def test_the_employing_forces_psd_alone_is_told_of_a_police_employee_party(
    hub: InProcessHub,
) -> None:
    # B lives in Essex and is a Surrey officer; Kent receives and Essex co-ordinates.
    officer = party("P2", "B", "ESSEX", police_employee_of="SURREY")
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), officer]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))

    [delivered] = hub.drain(PSD)
    assert delivered.subject == subjects.delivery_subject(PSD)
    notice = delivered.envelope
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
    assert hub.drain("ESSEX_PSD") == []
    heard = names_by_force(hub, "SURREY", "ESSEX", "KENT")
    assert heard == {"SURREY": [], "ESSEX": ["case-opened"], "KENT": []}
