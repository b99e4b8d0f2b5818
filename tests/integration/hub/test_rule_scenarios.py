"""Every case rule of the ownership issue (Scope §4, §5, §6), end to end through the hub.

Each scenario sends signed messages from ForceClients to a real nats-server and hub, and
checks the hub's signed receipts (accepted, or the stable reason code and rule), what each
force received, and the case as the hub stored it: parts, owners, history and deadlines.
The pure-domain versions of these rules are in tests/unit/domain/.
"""

from __future__ import annotations

from typing import Any

import pytest
from hub_helpers import A_APPLICANT, enquiry, names_by_force, opened, party

from crossforce.adapters.client.force_client import ForceClient, SignedReceipt
from crossforce.adapters.nats import subjects
from crossforce.adapters.sql import schema
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import _build
from crossforce.broker.service.queries import case_history, case_view
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.dmf import DmfDecision
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import sign_envelope

pytestmark = pytest.mark.server

CASE = "CF-2026-200001"


# -- payloads ---------------------------------------------------------------------------------
def decision(sender: str, **changes: Any) -> Message:
    """An Annex G decision by `sender`; by default: concern, disclose to A (P1) about B (P2)."""
    fields: dict[str, Any] = {"disclosure_recipient_party_id": "P1", "subject_party_id": "P2"}
    return _build("decision-recorded", sender, sender, **{**fields, **changes})


def no(rationale: str) -> dict[str, Any]:
    return {"answer": False, "rationale": rationale}


def yes(rationale: str) -> dict[str, Any]:
    return {"answer": True, "rationale": rationale}


# -- checks ---------------------------------------------------------------------------------
def refused(receipt: SignedReceipt, code: ReasonCode, rule: str) -> None:
    """A HUB-signed rejection with the stable reason code, naming the domain rule."""
    assert not receipt.accepted, f"accepted, but {rule} should have refused it"
    assert receipt.reason_code is code, receipt.receipt.message
    assert receipt.envelope.senderforce == "HUB"
    assert (receipt.receipt.message or "").startswith(f"{rule}:"), receipt.receipt.message


async def accepted(client: ForceClient, message: Message, case_ref: str = CASE) -> SignedReceipt:
    receipt = await client.send(message, case_ref=case_ref)
    assert receipt.accepted, f"{message.NAME}: {receipt.reason_code} {receipt.receipt.message}"
    return receipt


def events(running: RunningBroker, case_ref: str = CASE) -> list[str]:
    assert running.engine is not None
    return [line.event for line in case_history(running.engine, case_ref)]


def history_line(running: RunningBroker, event: str, case_ref: str = CASE) -> str:
    assert running.engine is not None
    [line] = [h for h in case_history(running.engine, case_ref) if h.event == event]
    return line.summary


def parts(running: RunningBroker, kind: str, case_ref: str = CASE) -> list[Any]:
    assert running.engine is not None
    return [p for p in case_view(running.engine, case_ref, None).parts if p.kind.value == kind]


async def scottish_part_at_the_dmf(clients: dict[str, ForceClient], *, refer: bool = True) -> None:
    """Kent receives, Essex co-ordinates, Police Scotland acknowledges its enquiry on B and
    (when `refer`) refers B to the Edinburgh DMF."""
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "PSOS")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties))
    await accepted(clients["ESSEX"], enquiry("ESSEX", "PSOS", "E1", "P2", "PSOS"))
    await accepted(
        clients["PSOS"], _build("enquiry-acknowledged", "PSOS", "ESSEX", enquiry_id="E1")
    )
    if refer:
        await accepted(clients["PSOS"], dmf_referral())


def dmf_referral(**changes: Any) -> Message:
    return _build("dmf-referral", "PSOS", "PSOS_E", dmf="PSOS_E", party_ids=["P2"], **changes)


def dmf_decision(**changes: Any) -> DmfDecision:
    message = _build("dmf-decision", "PSOS_E", "PSOS", dmf="PSOS_E", **changes)
    assert isinstance(message, DmfDecision)
    return message


# -- §4: rules enforced as rejections -----------------------------------------------------------
async def test_no_disclosure_instruction_without_verified_applicant_identity(
    running: RunningBroker, clients: dict[str, ForceClient], admin: Any
) -> None:
    unverified = {"is_applicant": True, "identity_verified": False}
    parties = [party("P1", "A", "ESSEX", **unverified), party("P2", "B", "SURREY")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties))

    disclose = clients["ESSEX"].envelope(decision("ESSEX"), case_ref=CASE)
    await clients["ESSEX"].publish(disclose)
    receipt = await clients["ESSEX"].receipt(disclose.id)
    refused(receipt, ReasonCode.RULE_VIOLATION, "identity-not-verified")
    assert receipt.receipt.in_reply_to == disclose.id

    # The refused bytes are dead-lettered with the reason, and the rejection is recorded.
    dead = await admin.eventually(
        lambda: admin.read(subjects.DEADLETTER_STREAM, subjects.deadletter_subject("ESSEX"))
    )
    assert [letter.data for letter in dead] == [disclose.to_bytes()]
    assert (dead[0].headers or {})["Crossforce-Reason"] == "RULE_VIOLATION"
    assert "identity-not-verified" in (dead[0].headers or {})["Crossforce-Detail"]
    [rejection] = admin.rows(schema.rejections, envelope_id=disclose.id)
    assert (rejection["reason_code"], rejection["arrival_force"]) == ("RULE_VIOLATION", "ESSEX")

    # No decision, no delivery part, no handoff to anyone.
    assert running.engine is not None
    assert case_view(running.engine, CASE, None).decision is None
    assert parts(running, "disclosure-delivery") == []
    assert "decision-recorded" not in events(running)
    assert (await names_by_force(clients, "SURREY"))["SURREY"] == []

    # Concerns about an unverified applicant's B still become intelligence (§4 item 4).
    concern_only = decision(
        "ESSEX", disclose=no("identity not verified"), disclosure_recipient_party_id=None
    )
    await accepted(clients["ESSEX"], concern_only)
    [intel] = parts(running, "intelligence-submission")
    assert (intel.owner, intel.status.value) == ("ESSEX", "in-progress")
    assert "reason=identity not verified" in history_line(running, "intelligence-route-opened")


async def test_an_anonymous_applicant_leads_to_the_intelligence_route(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    anonymous = {"is_applicant": True, "anonymous": True, "person": None}
    routes = {"ESSEX": ("CF-2026-200021", False), "PSOS": ("CF-2026-200022", True)}
    for force, (case_ref, power_to_tell) in routes.items():
        parties = [party("P1", "A", force, **anonymous), party("P2", "B", "KENT")]
        await accepted(clients[force], opened(force, force, parties), case_ref)

        # The intelligence part is open from the start, owned by the co-ordinating force.
        [intel] = parts(running, "intelligence-submission", case_ref)
        assert (intel.owner, intel.status.value) == (force, "in-progress")
        route = history_line(running, "intelligence-route-opened", case_ref)
        assert "reason=anonymous applicant" in route
        # Power to Tell in Scotland, the England & Wales intelligence route otherwise.
        assert f"power_to_tell={power_to_tell}" in route

        # No disclosure, whatever the forum decides.
        refused(
            await clients[force].send(decision(force), case_ref=case_ref),
            ReasonCode.RULE_VIOLATION,
            "anonymous-applicant",
        )
        assert parts(running, "disclosure-delivery", case_ref) == []

        # Checks on B still run and the concerns are filed as intelligence.
        submission = _build(
            "intelligence-submission", force, "KENT", summary="concerns about B filed"
        )
        await accepted(clients[force], submission, case_ref)
        [intel] = parts(running, "intelligence-submission", case_ref)
        assert intel.status.value == "completed"


async def test_a_request_that_is_not_a_genuine_application_closes_with_no_timers(
    running: RunningBroker, clients: dict[str, ForceClient], admin: Any
) -> None:
    kent = clients["KENT"]
    parties = [party("P1", "A", "KENT", **A_APPLICANT), party("P2", "B", "ESSEX")]
    # A genuine case for comparison: its enquiry to Essex starts a timer.
    genuine = "CF-2026-200030"
    await accepted(kent, opened("KENT", "KENT", parties), genuine)
    await accepted(kent, enquiry("KENT", "ESSEX", "E1", "P2", "ESSEX"), genuine)
    # An enquiry timer, and the route's step clocks from the initial contact.
    timed = {r["step"]: r["status"] for r in admin.rows(schema.deadlines, case_ref=genuine)}
    assert timed == {
        "cross-force.responding-force-answer": "open",
        "ew-right-to-ask.initial-checks": "open",
        "ew-right-to-ask.face-to-face": "open",
        "ew-right-to-ask.whole-enquiry": "open",
    }

    for index, category in enumerate(("dbs", "sar", "foi"), start=1):
        case_ref = f"CF-2026-20003{index}"
        request = opened("KENT", "KENT", parties, application_category=category)
        await accepted(kent, request, case_ref)
        assert running.engine is not None
        view = case_view(running.engine, case_ref, None)
        assert view.status.value == "closed", category
        assert view.parts == ()
        assert events(running, case_ref) == ["case-opened", "application-routed-away"]
        # Nothing further can start a timer on it.
        refused(
            await kent.send(enquiry("KENT", "ESSEX", "E1", "P2", "ESSEX"), case_ref=case_ref),
            ReasonCode.INVALID_TRANSITION,
            "case-closed",
        )
        assert admin.rows(schema.deadlines, case_ref=case_ref) == [], category
    assert (await names_by_force(clients, "ESSEX"))["ESSEX"] == [
        "enquiry-requested"
    ]  # genuine only


async def test_a_linked_crime_runs_alongside_the_case(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties))
    await accepted(clients["ESSEX"], enquiry("ESSEX", "SURREY", "E1", "P2", "SURREY"))
    await names_by_force(clients, "SURREY", "ESSEX", "KENT")

    crime = _build("crime-linked", "SURREY", "ESSEX", investigating_force="SURREY")
    await accepted(clients["SURREY"], crime)
    assert running.engine is not None
    view = case_view(running.engine, CASE, None)
    assert view.status.value == "open"
    assert [c.crime_reference for c in view.linked_crimes] == ["SURREY/SURREY-CR-26-0099817"]
    assert [c.investigating_force for c in view.linked_crimes] == ["SURREY"]
    got = await names_by_force(clients, "ESSEX", "KENT")
    assert got == {"ESSEX": ["crime-linked"], "KENT": []}  # need to know: not the receiver

    # The case carries on: the enquiry is answered and the decision recorded.
    ack = _build("enquiry-acknowledged", "SURREY", "ESSEX", enquiry_id="E1")
    await accepted(clients["SURREY"], ack)
    [part] = parts(running, "enquiry")
    assert (part.owner, part.status.value) == ("SURREY", "in-progress")
    result = _build("enquiry-result", "SURREY", "ESSEX", enquiry_id="E1")
    await accepted(clients["SURREY"], result)
    await accepted(clients["ESSEX"], decision("ESSEX"))
    assert events(running)[-3:] == ["enquiry-result", "decision-recorded", "disclosure-handoff"]


async def test_inform_b_is_refused_when_nothing_is_disclosed(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties))
    nothing = {
        "concerns": no("no concern found"),
        "disclose": no("nothing to disclose"),
        "disclosure_recipient_party_id": None,
    }
    tell_b = decision("ESSEX", inform_b=yes("let B know"), **nothing)
    refused(
        await clients["ESSEX"].send(tell_b, case_ref=CASE),
        ReasonCode.RULE_VIOLATION,
        "inform-b-without-disclosure",
    )
    assert running.engine is not None
    assert case_view(running.engine, CASE, None).decision is None
    assert "decision-recorded" not in events(running)

    # The same decision without telling B is recorded, and A is told in person.
    await accepted(clients["ESSEX"], decision("ESSEX", **nothing))
    recorded = case_view(running.engine, CASE, None).decision
    assert recorded is not None and not recorded.inform_b and not recorded.disclose
    [notify] = parts(running, "non-disclosure-notification")
    assert (notify.owner, notify.status.value) == ("ESSEX", "in-progress")


async def test_a_refused_undertaking_needs_a_recorded_decision_and_the_dmf_is_told(
    running: RunningBroker, clients: dict[str, ForceClient], pki: EphemeralPki
) -> None:
    psos = clients["PSOS"]

    async def scottish_disclosure(case_ref: str) -> None:
        """Police Scotland co-ordinates; the Edinburgh DMF recommends disclosure to A."""
        parties = [party("P1", "A", "PSOS", **A_APPLICANT), party("P2", "B", "PSOS")]
        await accepted(psos, opened("PSOS", "PSOS", parties), case_ref)
        await accepted(psos, dmf_referral(), case_ref)
        await accepted(clients["PSOS_E"], dmf_decision(), case_ref)
        await accepted(psos, decision("PSOS"), case_ref)
        [part] = parts(running, "disclosure-delivery", case_ref)
        assert (part.owner, part.status.value) == ("PSOS", "in-progress")
        await names_by_force(clients, "PSOS_E")

    def delivered(**changes: Any) -> Message:
        return _build("disclosure-delivered", "PSOS", "PSOS", recipient_party_id="P1", **changes)

    refusal = {"undertaking": "refused", "refused_rationale": "A would not sign the undertaking"}

    # Withheld: the refusal and the recorded decision reach the DMF (003 §10.3).
    withheld = "CF-2026-200061"
    await scottish_disclosure(withheld)
    await accepted(psos, delivered(refused_decision="withhold", **refusal), withheld)
    [part] = parts(running, "disclosure-delivery", withheld)
    assert part.status.value == "withheld"
    assert [h.action for h in part.history][-2:] == [
        "refuse-undertaking",
        "withhold-after-refusal",
    ]
    assert "dmfs_informed=['PSOS_E']" in history_line(running, "undertaking-refused", withheld)
    assert "proceed=False" in history_line(running, "undertaking-decision", withheld)
    assert (await names_by_force(clients, "PSOS_E"))["PSOS_E"] == ["disclosure-delivered"]

    # A refusal with no proceed-or-withhold decision is refused by the contract.
    pending = "CF-2026-200062"
    await scottish_disclosure(pending)
    undecided = psos.envelope(delivered(refused_decision="withhold", **refusal), case_ref=pending)
    data = {k: v for k, v in undecided.data.items() if k != "refused_decision"}
    no_decision = sign_envelope(undecided.model_copy(update={"data": data}), pki.key("PSOS"))
    await psos.publish(no_decision)
    refused_undecided = await psos.receipt(no_decision.id)
    assert not refused_undecided.accepted
    assert refused_undecided.reason_code is ReasonCode.SCHEMA_INVALID

    # Referred back to the DMF: the DMF is told, and nothing is delivered until a decision.
    await accepted(psos, delivered(refused_decision="refer-to-dmf", **refusal), pending)
    [part] = parts(running, "disclosure-delivery", pending)
    assert part.status.value == "undertaking-refused"
    assert (await names_by_force(clients, "PSOS_E"))["PSOS_E"] == ["disclosure-delivered"]
    refused(
        await psos.send(delivered(), case_ref=pending),
        ReasonCode.INVALID_TRANSITION,
        "part-transition",
    )
    [part] = parts(running, "disclosure-delivery", pending)
    assert part.status.value == "undertaking-refused"

    # The DMF reconsiders (only where an undertaking was refused) and Police Scotland hears.
    reconsidered = dmf_decision(reconsideration=True)
    refused(
        await clients["PSOS_E"].send(reconsidered, case_ref=withheld),
        ReasonCode.RULE_VIOLATION,
        "reconsideration-without-refusal",
    )
    await accepted(clients["PSOS_E"], reconsidered, pending)
    assert running.engine is not None
    decisions = [h for h in case_history(running.engine, pending) if h.event == "dmf-decision"]
    assert ["reconsideration=True" in h.summary for h in decisions] == [False, True]
    assert (await names_by_force(clients, "PSOS"))["PSOS"][-1] == "dmf-decision"
    # Police Scotland records the decision that follows, and the DMF hears of it.
    await accepted(psos, delivered(refused_decision="proceed", **refusal), pending)
    [part] = parts(running, "disclosure-delivery", pending)
    assert part.status.value == "completed"
    assert [h.action for h in part.history][-3:] == [
        "refuse-undertaking",
        "proceed-after-refusal",
        "record-delivered",
    ]
    assert "proceed=True" in history_line(running, "undertaking-decision", pending)
    assert (await names_by_force(clients, "PSOS_E"))["PSOS_E"] == ["disclosure-delivered"]

    # England & Wales has no DMF: the force itself must decide.
    english = "CF-2026-200063"
    essex = clients["ESSEX"]
    english_parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "ESSEX")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", english_parties), english)
    await accepted(essex, decision("ESSEX"), english)
    refer = _build(
        "disclosure-delivered",
        "ESSEX",
        "ESSEX",
        recipient_party_id="P1",
        refused_decision="refer-to-dmf",
        **refusal,
    )
    refused(
        await essex.send(refer, case_ref=english),
        ReasonCode.RULE_VIOLATION,
        "dmf-referral-scotland-only",
    )
    [part] = parts(running, "disclosure-delivery", english)
    assert part.status.value == "in-progress"


async def test_a_malicious_application_marker_is_seen_by_later_requests_from_any_force(
    running: RunningBroker, clients: dict[str, ForceClient], admin: Any
) -> None:
    first, later, other = "CF-2026-200071", "CF-2026-200072", "CF-2026-200073"
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties), first)
    mark = _build("malicious-application-marked", "ESSEX", "ESSEX")
    await accepted(clients["ESSEX"], mark, first)
    [marker] = admin.rows(schema.subject_markers)
    assert (marker["case_ref"], marker["marked_by"], marker["marker"]) == (
        first,
        "ESSEX",
        "malicious",
    )

    # A different force opens a case about the same B (same identity, different home).
    again = [party("P1", "A", "METROPOLITAN", **A_APPLICANT), party("P2", "B", "KENT")]
    await accepted(clients["METROPOLITAN"], opened("METROPOLITAN", "METROPOLITAN", again), later)
    assert running.engine is not None
    seen = case_view(running.engine, later, None).markers_seen
    assert [(m.case_ref, m.marked_by, m.subject_key) for m in seen] == [
        (first, "ESSEX", marker["subject_key"])
    ]
    found = history_line(running, "malicious-marker-found", later)
    assert f"marked_in_case={first}" in found and "marked_by=ESSEX" in found

    # A case about a different subject sees nothing.
    stranger = party(
        "P2",
        "B",
        "KENT",
        person={"given_names": "Other", "family_name": "Sample", "date_of_birth": "1970-05-05"},
    )
    await accepted(
        clients["METROPOLITAN"],
        opened("METROPOLITAN", "METROPOLITAN", [again[0], stranger]),
        other,
    )
    assert case_view(running.engine, other, None).markers_seen == ()
    assert "malicious-marker-found" not in events(running, other)


# -- §5: Scotland ---------------------------------------------------------------------------------
async def test_a_dmf_decision_without_police_scotland_or_below_chief_inspector_is_refused(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    await scottish_part_at_the_dmf(clients)
    dmf = clients["PSOS_E"]
    good = dmf_decision()
    assert good.bodies_present[0].name == "Police Scotland"
    housing = {"agency": "housing", "name": "Edinburgh Housing", "registered_data_controller": True}
    no_police = dmf_decision(
        bodies_present=[
            *[b.model_dump(mode="json") for b in good.bodies_present[1:]],
            housing,
        ]
    )
    refused(
        await dmf.send(no_police, case_ref=CASE), ReasonCode.RULE_VIOLATION, "dmf-police-scotland"
    )
    inspector = dmf_decision(chair={"name": "I. Placeholder", "rank": "INSPECTOR"})
    refused(await dmf.send(inspector, case_ref=CASE), ReasonCode.RULE_VIOLATION, "dmf-chair-rank")
    [referral] = parts(running, "dmf-referral")
    assert (referral.owner, referral.status.value) == ("PSOS_E", "requested")
    assert "dmf-decision" not in events(running)

    # A Chief Inspector (the Superintendent's deputy) with Police Scotland present may decide.
    deputy = dmf_decision(chair={"name": "C. Placeholder", "rank": "CHIEF_INSPECTOR"})
    await accepted(dmf, deputy)
    [referral] = parts(running, "dmf-referral")
    assert referral.status.value == "completed"
    got = await names_by_force(clients, "PSOS", "ESSEX")
    assert got["PSOS"][-1:] == ["dmf-decision"] and got["ESSEX"][-1:] == ["dmf-decision"]


async def test_spent_convictions_are_refused_in_any_dmf_bound_payload(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    await scottish_part_at_the_dmf(clients, refer=False)
    psos, dmf = clients["PSOS"], clients["PSOS_E"]
    refused(
        await psos.send(dmf_referral(includes_spent_convictions=True), case_ref=CASE),
        ReasonCode.RULE_VIOLATION,
        "spent-conviction-to-dmf",
    )
    assert parts(running, "dmf-referral") == []
    assert (await names_by_force(clients, "PSOS_E"))["PSOS_E"] == []

    await accepted(psos, dmf_referral())
    refused(
        await dmf.send(dmf_decision(includes_spent_convictions=True), case_ref=CASE),
        ReasonCode.RULE_VIOLATION,
        "spent-conviction-to-dmf",
    )
    [referral] = parts(running, "dmf-referral")
    assert referral.status.value == "requested"
    await accepted(dmf, dmf_decision())

    # Police Scotland's own result may not carry a spent conviction on to A either.
    spent = _build(
        "enquiry-result",
        "PSOS",
        "ESSEX",
        enquiry_id="E1",
        checks=[
            {
                "party_id": "P2",
                "check": "CHS",
                "result": "trace-concern",
                "reference": "CHS-9",
                "spent_conviction": True,
            }
        ],
    )
    refused(await psos.send(spent, case_ref=CASE), ReasonCode.RULE_VIOLATION, "spent-conviction")
    [part] = parts(running, "enquiry")
    assert part.status.value == "in-progress"
    await accepted(psos, _build("enquiry-result", "PSOS", "ESSEX", enquiry_id="E1"))
    [part] = parts(running, "enquiry")
    assert part.status.value == "completed"


# -- §6: England & Wales forum --------------------------------------------------------------------
async def test_an_england_and_wales_forum_without_police_probation_or_idva_is_flagged(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    forums = {
        "CF-2026-200101": (["police"], ("forum-missing-probation", "forum-missing-idva")),
        "CF-2026-200102": (["probation", "idva"], ("forum-missing-police",)),
        "CF-2026-200103": (["police", "probation", "idva"], ()),
    }
    assert running.engine is not None
    for case_ref, (agencies, flags) in forums.items():
        await accepted(clients["KENT"], opened("KENT", "ESSEX", parties), case_ref)
        attendees = [{"agency": agency, "role": f"{agency} lead"} for agency in agencies]
        # A flag, not a refusal: the police make the final decision (001 ¶71-73).
        await accepted(clients["ESSEX"], decision("ESSEX", attendees=attendees), case_ref)
        recorded = case_view(running.engine, case_ref, None).decision
        assert recorded is not None and recorded.warnings == flags, case_ref
        line = history_line(running, "decision-recorded", case_ref)
        for flag in ("forum-missing-police", "forum-missing-probation", "forum-missing-idva"):
            assert (flag in line) is (flag in flags), (case_ref, line)


# -- ownership moves of an enquiry ---------------------------------------------------------------
async def test_a_declined_enquiry_is_reassigned_and_follows_a_corrected_home_force(
    running: RunningBroker, clients: dict[str, ForceClient], admin: Any
) -> None:
    essex, surrey, met = clients["ESSEX"], clients["SURREY"], clients["METROPOLITAN"]
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties))
    await accepted(essex, enquiry("ESSEX", "SURREY", "E1", "P2", "SURREY"))

    # Surrey declines with a reason; the part stays Surrey's, declined, until re-assigned.
    declined = _build("enquiry-declined", "SURREY", "ESSEX", enquiry_id="E1")
    await accepted(surrey, declined)
    [part] = parts(running, "enquiry")
    assert (part.owner, part.status.value) == ("SURREY", "declined")
    assert part.history[-1].note == "party-not-in-area"
    ack = _build("enquiry-acknowledged", "SURREY", "ESSEX", enquiry_id="E1")
    refused(await surrey.send(ack, case_ref=CASE), ReasonCode.INVALID_TRANSITION, "part-transition")

    def reassign(sender: str) -> Message:
        return _build(
            "enquiry-reassigned",
            sender,
            "METROPOLITAN",
            enquiry_id="E1",
            from_force="SURREY",
            to_force="METROPOLITAN",
        )

    self_move = await surrey.send(reassign("SURREY"), case_ref=CASE)
    assert not self_move.accepted and self_move.reason_code is ReasonCode.NOT_AUTHORISED
    await accepted(essex, reassign("ESSEX"))
    [part] = parts(running, "enquiry")
    assert (part.owner, part.status.value) == ("METROPOLITAN", "requested")
    await accepted(met, _build("enquiry-acknowledged", "METROPOLITAN", "ESSEX", enquiry_id="E1"))

    # B's home force is corrected to Kent: the enquiry moves there, to be started afresh.
    corrected = _build(
        "party-home-force-corrected",
        "ESSEX",
        "KENT",
        party_id="P2",
        previous_home_force="METROPOLITAN",
        corrected_home_force="KENT",
    )
    await accepted(essex, corrected)
    assert running.engine is not None
    view = case_view(running.engine, CASE, None)
    [part] = [p for p in view.parts if p.kind.value == "enquiry"]
    assert (part.owner, part.status.value) == ("KENT", "requested")
    assert {p.party_id: p.home_force for p in view.parties}["P2"] == "KENT"
    assert [(h.from_owner, h.to_owner) for h in part.ownership_history()] == [
        (None, "SURREY"),
        ("SURREY", "METROPOLITAN"),
        ("METROPOLITAN", "KENT"),
    ]
    assert [h.action for h in part.history] == [
        "request-enquiry",
        "decline",
        "reassign",
        "acknowledge",
        "reassign",
    ]
    assert events(running)[-4:] == [
        "enquiry-reassigned",
        "enquiry-acknowledged",
        "party-home-force-corrected",
        "enquiry-reassigned",
    ]
    # Only the force that now owns it sees the part; its deadline follows the owner.
    assert [p.part_id for p in case_view(running.engine, CASE, "KENT").parts] == [part.part_id]
    # Surrey holds no part any more: it keeps a read-only record of the part as it let it go
    # (decision 0021), with nothing from after.
    surrey_view = case_view(running.engine, CASE, "SURREY")
    assert surrey_view.former and surrey_view.roles == frozenset()
    [surreys] = surrey_view.parts
    assert (surreys.owner, surreys.due_at) == ("METROPOLITAN", None)
    assert "KENT" not in {h.to_owner for h in surreys.history}
    [deadline] = admin.rows(
        schema.deadlines, case_ref=CASE, status="open", step="cross-force.responding-force-answer"
    )
    assert (deadline["part_id"], deadline["owner_force"]) == (part.part_id, "KENT")
    got = await names_by_force(clients, "SURREY", "METROPOLITAN", "KENT")
    assert got == {
        "SURREY": ["enquiry-requested", "enquiry-reassigned"],
        "METROPOLITAN": ["enquiry-reassigned", "party-home-force-corrected"],
        "KENT": ["party-home-force-corrected"],
    }


async def test_an_enquiry_naming_someone_who_lives_elsewhere_is_refused_and_goes_nowhere(
    running: RunningBroker, clients: dict[str, ForceClient]
) -> None:
    case_ref = "CF-2026-200091"
    parties = [
        party("P1", "A", "ESSEX", **A_APPLICANT),
        party("P2", "B", "PSOS"),
        party("P3", "child", "SURREY"),
    ]
    await accepted(clients["KENT"], opened("KENT", "ESSEX", parties), case_ref)
    await names_by_force(clients, "ESSEX")
    # One request to Police Scotland naming both B (in Scotland) and a child (in Surrey).
    both = _build(
        "enquiry-requested",
        "ESSEX",
        "PSOS",
        enquiry_id="ENQ-BOTH",
        responding_force="PSOS",
        party_ids=["P2", "P3"],
        parties=[parties[1], parties[2]],
        due_at=None,
    )
    refused(
        await clients["ESSEX"].send(both, case_ref=case_ref),
        ReasonCode.RULE_VIOLATION,
        "enquiry-party-elsewhere",
    )
    assert await names_by_force(clients, "PSOS", "SURREY") == {"PSOS": [], "SURREY": []}
    assert parts(running, "enquiry", case_ref) == []
