"""Every case rule of the ownership issue (Scope §4, §5, §6), through the hub's core in-process.

Each scenario sends signed messages as the forces and checks the hub's signed receipts
(accepted, or the stable reason code and rule), what each force was delivered, and the case
as the hub stored it: parts, owners, history and deadlines. The pure-domain versions of these
rules are in tests/unit/domain/.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scenario_support import (
    A_APPLICANT,
    NOW,
    accepted,
    build,
    deadlines,
    enquiry,
    events,
    history_line,
    names_by_force,
    opened,
    parts,
    party,
    refused,
    send,
    view,
)

from crossforce.adapters.nats import subjects
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.broker.service.queries import case_history
from crossforce.contracts import headers
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.dmf import DmfDecision
from crossforce.contracts.signing import sign_envelope

CASE = "CF-2026-200001"


# -- payloads ---------------------------------------------------------------------------------
def decision(sender: str, **changes: Any) -> Message:
    """An Annex G decision by `sender`; by default: concern, disclose to A (P1) about B (P2)."""
    fields: dict[str, Any] = {"disclosure_recipient_party_id": "P1", "subject_party_id": "P2"}
    return build("decision-recorded", sender, sender, **{**fields, **changes})


def no(rationale: str) -> dict[str, Any]:
    return {"answer": False, "rationale": rationale}


def yes(rationale: str) -> dict[str, Any]:
    return {"answer": True, "rationale": rationale}


def scottish_part_at_the_dmf(hub: InProcessHub, *, refer: bool = True) -> None:
    """Kent receives, Essex co-ordinates, Police Scotland acknowledges its enquiry on B and
    (when `refer`) refers B to the Edinburgh DMF."""
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "PSOS")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    accepted(hub, "ESSEX", CASE, enquiry("ESSEX", "PSOS", "E1", "P2", "PSOS"))
    accepted(hub, "PSOS", CASE, build("enquiry-acknowledged", "PSOS", "ESSEX", enquiry_id="E1"))
    if refer:
        accepted(hub, "PSOS", CASE, dmf_referral())


def dmf_referral(**changes: Any) -> Message:
    return build("dmf-referral", "PSOS", "PSOS_E", dmf="PSOS_E", party_ids=["P2"], **changes)


def dmf_decision(**changes: Any) -> DmfDecision:
    message = build("dmf-decision", "PSOS_E", "PSOS", dmf="PSOS_E", **changes)
    assert isinstance(message, DmfDecision)
    return message


# -- §4: rules enforced as rejections -----------------------------------------------------------
def test_no_disclosure_instruction_without_verified_applicant_identity(hub: InProcessHub) -> None:
    unverified = {"is_applicant": True, "identity_verified": False}
    parties = [party("P1", "A", "ESSEX", **unverified), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))

    disclose = hub.sign("ESSEX", CASE, decision("ESSEX"), NOW)
    result = hub.deliver_bytes("ESSEX", CASE, disclose.to_bytes())
    receipt = hub.receipt(result)
    refused(receipt, ReasonCode.RULE_VIOLATION, "identity-not-verified")
    assert receipt.receipt.in_reply_to == disclose.id

    # The refused bytes are dead-lettered with the reason, and the rejection is recorded.
    dead = [m for m in result.outbound if m.subject == subjects.deadletter_subject("ESSEX")]
    assert [letter.payload for letter in dead] == [disclose.to_bytes()]
    assert dead[0].headers[headers.REASON] == "RULE_VIOLATION"
    assert "identity-not-verified" in dead[0].headers[headers.DETAIL]
    with hub.core.units() as uow:
        assert uow.processed.already_rejected(f"seq{dead[0].headers[headers.INBOUND_SEQUENCE]}")

    # No decision, no delivery part, no handoff to anyone.
    assert view(hub, CASE).decision is None
    assert parts(hub, "disclosure-delivery", CASE) == []
    assert "decision-recorded" not in events(hub, CASE)
    assert hub.names("SURREY") == []

    # Concerns about an unverified applicant's B still become intelligence (§4 item 4).
    concern_only = decision(
        "ESSEX", disclose=no("identity not verified"), disclosure_recipient_party_id=None
    )
    accepted(hub, "ESSEX", CASE, concern_only)
    [intel] = parts(hub, "intelligence-submission", CASE)
    assert (intel.owner, intel.status.value) == ("ESSEX", "in-progress")
    assert "reason=identity not verified" in history_line(hub, "intelligence-route-opened", CASE)


def test_an_anonymous_applicant_leads_to_the_intelligence_route(hub: InProcessHub) -> None:
    anonymous = {"is_applicant": True, "anonymous": True, "person": None}
    routes = {"ESSEX": ("CF-2026-200021", False), "PSOS": ("CF-2026-200022", True)}
    for force, (case_ref, power_to_tell) in routes.items():
        parties = [party("P1", "A", force, **anonymous), party("P2", "B", "KENT")]
        accepted(hub, force, case_ref, opened(force, force, parties))

        # The intelligence part is open from the start, owned by the co-ordinating force.
        [intel] = parts(hub, "intelligence-submission", case_ref)
        assert (intel.owner, intel.status.value) == (force, "in-progress")
        route = history_line(hub, "intelligence-route-opened", case_ref)
        assert "reason=anonymous applicant" in route
        # Power to Tell in Scotland, the England & Wales intelligence route otherwise.
        assert f"power_to_tell={power_to_tell}" in route

        # No disclosure, whatever the forum decides.
        refused(
            send(hub, force, case_ref, decision(force)),
            ReasonCode.RULE_VIOLATION,
            "anonymous-applicant",
        )
        assert parts(hub, "disclosure-delivery", case_ref) == []

        # Checks on B still run and the concerns are filed as intelligence.
        submission = build(
            "intelligence-submission", force, "KENT", summary="concerns about B filed"
        )
        accepted(hub, force, case_ref, submission)
        [intel] = parts(hub, "intelligence-submission", case_ref)
        assert intel.status.value == "completed"


def test_a_request_that_is_not_a_genuine_application_closes_with_no_timers(
    hub: InProcessHub,
) -> None:
    parties = [party("P1", "A", "KENT", **A_APPLICANT), party("P2", "B", "ESSEX")]
    # A genuine case for comparison: its enquiry to Essex starts a timer.
    genuine = "CF-2026-200030"
    accepted(hub, "KENT", genuine, opened("KENT", "KENT", parties))
    accepted(hub, "KENT", genuine, enquiry("KENT", "ESSEX", "E1", "P2", "ESSEX"))
    # An enquiry timer, and the route's step clocks from the initial contact.
    timed = {r["step"]: r["status"] for r in deadlines(hub, genuine)}
    assert timed == {
        "cross-force.responding-force-answer": "open",
        "ew-right-to-ask.initial-checks": "open",
        "ew-right-to-ask.face-to-face": "open",
        "ew-right-to-ask.whole-enquiry": "open",
    }

    for index, category in enumerate(("dbs", "sar", "foi"), start=1):
        case_ref = f"CF-2026-20003{index}"
        request = opened("KENT", "KENT", parties, application_category=category)
        accepted(hub, "KENT", case_ref, request)
        routed_away = view(hub, case_ref)
        assert routed_away.status.value == "closed", category
        assert routed_away.parts == ()
        assert events(hub, case_ref) == ["case-opened", "application-routed-away"]
        # Nothing further can start a timer on it.
        refused(
            send(hub, "KENT", case_ref, enquiry("KENT", "ESSEX", "E1", "P2", "ESSEX")),
            ReasonCode.INVALID_TRANSITION,
            "case-closed",
        )
        assert deadlines(hub, case_ref) == [], category
    assert hub.names("ESSEX") == ["enquiry-requested"]  # genuine only


def test_a_linked_crime_runs_alongside_the_case(hub: InProcessHub) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    accepted(hub, "ESSEX", CASE, enquiry("ESSEX", "SURREY", "E1", "P2", "SURREY"))
    names_by_force(hub, "SURREY", "ESSEX", "KENT")

    crime = build("crime-linked", "SURREY", "ESSEX", investigating_force="SURREY")
    accepted(hub, "SURREY", CASE, crime)
    case = view(hub, CASE)
    assert case.status.value == "open"
    assert [c.crime_reference for c in case.linked_crimes] == ["SURREY/SURREY-CR-26-0099817"]
    assert [c.investigating_force for c in case.linked_crimes] == ["SURREY"]
    got = names_by_force(hub, "ESSEX", "KENT")
    assert got == {"ESSEX": ["crime-linked"], "KENT": []}  # need to know: not the receiver

    # The case carries on: the enquiry is answered and the decision recorded.
    accepted(hub, "SURREY", CASE, build("enquiry-acknowledged", "SURREY", "ESSEX", enquiry_id="E1"))
    [part] = parts(hub, "enquiry", CASE)
    assert (part.owner, part.status.value) == ("SURREY", "in-progress")
    accepted(hub, "SURREY", CASE, build("enquiry-result", "SURREY", "ESSEX", enquiry_id="E1"))
    accepted(hub, "ESSEX", CASE, decision("ESSEX"))
    assert events(hub, CASE)[-3:] == ["enquiry-result", "decision-recorded", "disclosure-handoff"]


def test_inform_b_is_refused_when_nothing_is_disclosed(hub: InProcessHub) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    nothing = {
        "concerns": no("no concern found"),
        "disclose": no("nothing to disclose"),
        "disclosure_recipient_party_id": None,
    }
    tell_b = decision("ESSEX", inform_b=yes("let B know"), **nothing)
    refused(
        send(hub, "ESSEX", CASE, tell_b),
        ReasonCode.RULE_VIOLATION,
        "inform-b-without-disclosure",
    )
    assert view(hub, CASE).decision is None
    assert "decision-recorded" not in events(hub, CASE)

    # The same decision without telling B is recorded, and A is told in person.
    accepted(hub, "ESSEX", CASE, decision("ESSEX", **nothing))
    recorded = view(hub, CASE).decision
    assert recorded is not None and not recorded.inform_b and not recorded.disclose
    [notify] = parts(hub, "non-disclosure-notification", CASE)
    assert (notify.owner, notify.status.value) == ("ESSEX", "in-progress")


def test_a_refused_undertaking_needs_a_recorded_decision_and_the_dmf_is_told(
    hub: InProcessHub,
) -> None:
    def scottish_disclosure(case_ref: str) -> None:
        """Police Scotland co-ordinates; the Edinburgh DMF recommends disclosure to A."""
        parties = [party("P1", "A", "PSOS", **A_APPLICANT), party("P2", "B", "PSOS")]
        accepted(hub, "PSOS", case_ref, opened("PSOS", "PSOS", parties))
        accepted(hub, "PSOS", case_ref, dmf_referral())
        accepted(hub, "PSOS_E", case_ref, dmf_decision())
        accepted(hub, "PSOS", case_ref, decision("PSOS"))
        [part] = parts(hub, "disclosure-delivery", case_ref)
        assert (part.owner, part.status.value) == ("PSOS", "in-progress")
        hub.drain("PSOS_E")

    def delivered(**changes: Any) -> Message:
        return build("disclosure-delivered", "PSOS", "PSOS", recipient_party_id="P1", **changes)

    refusal = {"undertaking": "refused", "refused_rationale": "A would not sign the undertaking"}

    # Withheld: the refusal and the recorded decision reach the DMF (003 §10.3).
    withheld = "CF-2026-200061"
    scottish_disclosure(withheld)
    accepted(hub, "PSOS", withheld, delivered(refused_decision="withhold", **refusal))
    [part] = parts(hub, "disclosure-delivery", withheld)
    assert part.status.value == "withheld"
    assert [h.action for h in part.history][-2:] == [
        "refuse-undertaking",
        "withhold-after-refusal",
    ]
    assert "dmfs_informed=['PSOS_E']" in history_line(hub, "undertaking-refused", withheld)
    assert "proceed=False" in history_line(hub, "undertaking-decision", withheld)
    assert hub.names("PSOS_E") == ["disclosure-delivered"]

    # A refusal with no proceed-or-withhold decision is refused by the contract.
    pending = "CF-2026-200062"
    scottish_disclosure(pending)
    undecided = hub.sign("PSOS", pending, delivered(refused_decision="withhold", **refusal), NOW)
    data = {k: v for k, v in undecided.data.items() if k != "refused_decision"}
    no_decision = sign_envelope(undecided.model_copy(update={"data": data}), hub.pki.key("PSOS"))
    refused_undecided = hub.receipt(hub.deliver_bytes("PSOS", pending, no_decision.to_bytes()))
    assert not refused_undecided.accepted
    assert refused_undecided.reason_code is ReasonCode.SCHEMA_INVALID

    # Referred back to the DMF: the DMF is told, and nothing is delivered until a decision.
    accepted(hub, "PSOS", pending, delivered(refused_decision="refer-to-dmf", **refusal))
    [part] = parts(hub, "disclosure-delivery", pending)
    assert part.status.value == "undertaking-refused"
    assert hub.names("PSOS_E") == ["disclosure-delivered"]
    refused(
        send(hub, "PSOS", pending, delivered()),
        ReasonCode.INVALID_TRANSITION,
        "part-transition",
    )
    [part] = parts(hub, "disclosure-delivery", pending)
    assert part.status.value == "undertaking-refused"

    # The DMF reconsiders (only where an undertaking was refused) and Police Scotland hears.
    reconsidered = dmf_decision(reconsideration=True)
    refused(
        send(hub, "PSOS_E", withheld, reconsidered),
        ReasonCode.RULE_VIOLATION,
        "reconsideration-without-refusal",
    )
    accepted(hub, "PSOS_E", pending, reconsidered)
    decisions = [h for h in case_history(hub.engine, pending) if h.event == "dmf-decision"]
    assert ["reconsideration=True" in h.summary for h in decisions] == [False, True]
    assert hub.names("PSOS")[-1] == "dmf-decision"
    # Police Scotland records the decision that follows, and the DMF hears of it.
    accepted(hub, "PSOS", pending, delivered(refused_decision="proceed", **refusal))
    [part] = parts(hub, "disclosure-delivery", pending)
    assert part.status.value == "completed"
    assert [h.action for h in part.history][-3:] == [
        "refuse-undertaking",
        "proceed-after-refusal",
        "record-delivered",
    ]
    assert "proceed=True" in history_line(hub, "undertaking-decision", pending)
    assert hub.names("PSOS_E") == ["disclosure-delivered"]

    # England & Wales has no DMF: the force itself must decide.
    english = "CF-2026-200063"
    english_parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "ESSEX")]
    accepted(hub, "KENT", english, opened("KENT", "ESSEX", english_parties))
    accepted(hub, "ESSEX", english, decision("ESSEX"))
    refer = build(
        "disclosure-delivered",
        "ESSEX",
        "ESSEX",
        recipient_party_id="P1",
        refused_decision="refer-to-dmf",
        **refusal,
    )
    refused(
        send(hub, "ESSEX", english, refer),
        ReasonCode.RULE_VIOLATION,
        "dmf-referral-scotland-only",
    )
    [part] = parts(hub, "disclosure-delivery", english)
    assert part.status.value == "in-progress"


def test_a_malicious_application_marker_is_seen_by_later_requests_from_any_force(
    hub: InProcessHub,
) -> None:
    first, later, other = "CF-2026-200071", "CF-2026-200072", "CF-2026-200073"
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", first, opened("KENT", "ESSEX", parties))
    accepted(hub, "ESSEX", first, build("malicious-application-marked", "ESSEX", "ESSEX"))
    [b] = [p for p in view(hub, first).parties if p.party_id == "P2"]
    assert b.subject_key is not None
    with hub.core.units() as uow:
        [marker] = uow.markers.for_subjects([b.subject_key])
    assert (marker.case_ref, marker.marked_by) == (first, "ESSEX")

    # A different force opens a case about the same B (same identity, different home).
    again = [party("P1", "A", "METROPOLITAN", **A_APPLICANT), party("P2", "B", "KENT")]
    accepted(hub, "METROPOLITAN", later, opened("METROPOLITAN", "METROPOLITAN", again))
    seen = view(hub, later).markers_seen
    assert [(m.case_ref, m.marked_by, m.subject_key) for m in seen] == [
        (first, "ESSEX", marker.subject_key)
    ]
    found = history_line(hub, "malicious-marker-found", later)
    assert f"marked_in_case={first}" in found and "marked_by=ESSEX" in found

    # A case about a different subject sees nothing.
    stranger = party(
        "P2",
        "B",
        "KENT",
        person={"given_names": "Other", "family_name": "Sample", "date_of_birth": "1970-05-05"},
    )
    accepted(
        hub, "METROPOLITAN", other, opened("METROPOLITAN", "METROPOLITAN", [again[0], stranger])
    )
    assert view(hub, other).markers_seen == ()
    assert "malicious-marker-found" not in events(hub, other)


# -- §5: Scotland ---------------------------------------------------------------------------------
def test_a_dmf_decision_without_police_scotland_or_below_chief_inspector_is_refused(
    hub: InProcessHub,
) -> None:
    scottish_part_at_the_dmf(hub)
    good = dmf_decision()
    assert good.bodies_present[0].name == "Police Scotland"
    housing = {"agency": "housing", "name": "Edinburgh Housing", "registered_data_controller": True}
    no_police = dmf_decision(
        bodies_present=[
            *[b.model_dump(mode="json") for b in good.bodies_present[1:]],
            housing,
        ]
    )
    refused(send(hub, "PSOS_E", CASE, no_police), ReasonCode.RULE_VIOLATION, "dmf-police-scotland")
    inspector = dmf_decision(chair={"name": "I. Placeholder", "rank": "INSPECTOR"})
    refused(send(hub, "PSOS_E", CASE, inspector), ReasonCode.RULE_VIOLATION, "dmf-chair-rank")
    [referral] = parts(hub, "dmf-referral", CASE)
    assert (referral.owner, referral.status.value) == ("PSOS_E", "requested")
    assert "dmf-decision" not in events(hub, CASE)

    # A Chief Inspector (the Superintendent's deputy) with Police Scotland present may decide.
    deputy = dmf_decision(chair={"name": "C. Placeholder", "rank": "CHIEF_INSPECTOR"})
    accepted(hub, "PSOS_E", CASE, deputy)
    [referral] = parts(hub, "dmf-referral", CASE)
    assert referral.status.value == "completed"
    got = names_by_force(hub, "PSOS", "ESSEX")
    assert got["PSOS"][-1:] == ["dmf-decision"] and got["ESSEX"][-1:] == ["dmf-decision"]


def test_spent_convictions_are_refused_in_any_dmf_bound_payload(hub: InProcessHub) -> None:
    scottish_part_at_the_dmf(hub, refer=False)
    refused(
        send(hub, "PSOS", CASE, dmf_referral(includes_spent_convictions=True)),
        ReasonCode.RULE_VIOLATION,
        "spent-conviction-to-dmf",
    )
    assert parts(hub, "dmf-referral", CASE) == []
    assert hub.names("PSOS_E") == []

    accepted(hub, "PSOS", CASE, dmf_referral())
    refused(
        send(hub, "PSOS_E", CASE, dmf_decision(includes_spent_convictions=True)),
        ReasonCode.RULE_VIOLATION,
        "spent-conviction-to-dmf",
    )
    [referral] = parts(hub, "dmf-referral", CASE)
    assert referral.status.value == "requested"
    accepted(hub, "PSOS_E", CASE, dmf_decision())

    # Police Scotland's own result may not carry a spent conviction on to A either.
    spent = build(
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
    refused(send(hub, "PSOS", CASE, spent), ReasonCode.RULE_VIOLATION, "spent-conviction")
    [part] = parts(hub, "enquiry", CASE)
    assert part.status.value == "in-progress"
    accepted(hub, "PSOS", CASE, build("enquiry-result", "PSOS", "ESSEX", enquiry_id="E1"))
    [part] = parts(hub, "enquiry", CASE)
    assert part.status.value == "completed"


# -- §6: England & Wales forum --------------------------------------------------------------------
def test_an_england_and_wales_forum_without_police_probation_or_idva_is_flagged(
    hub: InProcessHub,
) -> None:
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    forums = {
        "CF-2026-200101": (["police"], ("forum-missing-probation", "forum-missing-idva")),
        "CF-2026-200102": (["probation", "idva"], ("forum-missing-police",)),
        "CF-2026-200103": (["police", "probation", "idva"], ()),
    }
    for case_ref, (agencies, flags) in forums.items():
        accepted(hub, "KENT", case_ref, opened("KENT", "ESSEX", parties))
        attendees = [{"agency": agency, "role": f"{agency} lead"} for agency in agencies]
        # A flag, not a refusal: the police make the final decision (001 ¶71-73).
        accepted(hub, "ESSEX", case_ref, decision("ESSEX", attendees=attendees))
        recorded = view(hub, case_ref).decision
        assert recorded is not None and recorded.warnings == flags, case_ref
        line = history_line(hub, "decision-recorded", case_ref)
        for flag in ("forum-missing-police", "forum-missing-probation", "forum-missing-idva"):
            assert (flag in line) is (flag in flags), (case_ref, line)


# -- ownership moves of an enquiry ---------------------------------------------------------------
def test_a_declined_enquiry_is_reassigned_and_follows_a_corrected_home_force(
    hub: InProcessHub,
) -> None:
    # A former owner's record is cut at the moment it let go, so time passes between the
    # steps here, as it does between real messages.
    def a_minute_later() -> None:
        hub.now += timedelta(minutes=1)

    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "SURREY")]
    accepted(hub, "KENT", CASE, opened("KENT", "ESSEX", parties))
    accepted(hub, "ESSEX", CASE, enquiry("ESSEX", "SURREY", "E1", "P2", "SURREY"))

    # Surrey declines with a reason; the part stays Surrey's, declined, until re-assigned.
    a_minute_later()
    accepted(hub, "SURREY", CASE, build("enquiry-declined", "SURREY", "ESSEX", enquiry_id="E1"))
    [part] = parts(hub, "enquiry", CASE)
    assert (part.owner, part.status.value) == ("SURREY", "declined")
    assert part.history[-1].note == "party-not-in-area"
    ack = build("enquiry-acknowledged", "SURREY", "ESSEX", enquiry_id="E1")
    refused(send(hub, "SURREY", CASE, ack), ReasonCode.INVALID_TRANSITION, "part-transition")

    def reassign(sender: str) -> Message:
        return build(
            "enquiry-reassigned",
            sender,
            "METROPOLITAN",
            enquiry_id="E1",
            from_force="SURREY",
            to_force="METROPOLITAN",
        )

    self_move = send(hub, "SURREY", CASE, reassign("SURREY"))
    assert not self_move.accepted and self_move.reason_code is ReasonCode.NOT_AUTHORISED
    a_minute_later()
    accepted(hub, "ESSEX", CASE, reassign("ESSEX"))
    [part] = parts(hub, "enquiry", CASE)
    assert (part.owner, part.status.value) == ("METROPOLITAN", "requested")
    met_ack = build("enquiry-acknowledged", "METROPOLITAN", "ESSEX", enquiry_id="E1")
    a_minute_later()
    accepted(hub, "METROPOLITAN", CASE, met_ack)

    # B's home force is corrected to Kent: the enquiry moves there, to be started afresh.
    corrected = build(
        "party-home-force-corrected",
        "ESSEX",
        "KENT",
        party_id="P2",
        previous_home_force="METROPOLITAN",
        corrected_home_force="KENT",
    )
    a_minute_later()
    accepted(hub, "ESSEX", CASE, corrected)
    case = view(hub, CASE)
    [part] = [p for p in case.parts if p.kind.value == "enquiry"]
    assert (part.owner, part.status.value) == ("KENT", "requested")
    assert {p.party_id: p.home_force for p in case.parties}["P2"] == "KENT"
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
    assert events(hub, CASE)[-4:] == [
        "enquiry-reassigned",
        "enquiry-acknowledged",
        "party-home-force-corrected",
        "enquiry-reassigned",
    ]
    # Only the force that now owns it sees the part; its deadline follows the owner.
    assert [p.part_id for p in view(hub, CASE, "KENT").parts] == [part.part_id]
    # Surrey holds no part any more: it keeps a read-only record of the part as it let it go
    # (decision 0021), with nothing from after.
    surrey_view = view(hub, CASE, "SURREY")
    assert surrey_view.former and surrey_view.roles == frozenset()
    [surreys] = surrey_view.parts
    assert (surreys.owner, surreys.due_at) == ("METROPOLITAN", None)
    assert "KENT" not in {h.to_owner for h in surreys.history}
    [deadline] = deadlines(hub, CASE, status="open", step="cross-force.responding-force-answer")
    assert (deadline["part_id"], deadline["owner_force"]) == (part.part_id, "KENT")
    got = names_by_force(hub, "SURREY", "METROPOLITAN", "KENT")
    assert got == {
        "SURREY": ["enquiry-requested", "enquiry-reassigned"],
        "METROPOLITAN": ["enquiry-reassigned", "party-home-force-corrected"],
        "KENT": ["party-home-force-corrected"],
    }


def test_an_enquiry_naming_someone_who_lives_elsewhere_is_refused_and_goes_nowhere(
    hub: InProcessHub,
) -> None:
    case_ref = "CF-2026-200091"
    parties = [
        party("P1", "A", "ESSEX", **A_APPLICANT),
        party("P2", "B", "PSOS"),
        party("P3", "child", "SURREY"),
    ]
    accepted(hub, "KENT", case_ref, opened("KENT", "ESSEX", parties))
    hub.drain("ESSEX")
    # One request to Police Scotland naming both B (in Scotland) and a child (in Surrey).
    both = build(
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
        send(hub, "ESSEX", case_ref, both),
        ReasonCode.RULE_VIOLATION,
        "enquiry-party-elsewhere",
    )
    assert names_by_force(hub, "PSOS", "SURREY") == {"PSOS": [], "SURREY": []}
    assert parts(hub, "enquiry", case_ref) == []
