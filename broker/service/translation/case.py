"""Case opening and the co-ordinating force's steps (contracts/messages/case.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.routes import RequestType, Route
from crossforce.broker.service.translation.context import Translation, Translator
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import POLICE_SCOTLAND
from crossforce.contracts.messages import case as m
from crossforce.contracts.messages.common import Party as WireParty
from crossforce.contracts.postcodes import division_for_postcode, force_for_postcode

REQUEST_TYPES = {
    "genuine": RequestType.GENUINE,
    "dbs": RequestType.DBS_CHECK,
    "sar": RequestType.SUBJECT_ACCESS_REQUEST,
    "foi": RequestType.FREEDOM_OF_INFORMATION,
}


def case_opened(msg: m.CaseOpened, t: Translation) -> list[c.Command]:
    parties = tuple(_party(p, t) for p in msg.parties)
    for p in msg.parties:
        if p.person is not None:
            t.persons[p.party_id] = p.person.model_dump(mode="json")
    # initial_contact_at may be back-dated only so far before the envelope (domain.md §3).
    allowance = timedelta(days=t.policy.clocks.initial_contact_backdating_days)
    return [
        c.OpenCase(
            **t.base,
            receiving_force=msg.receiving_force,
            coordinating_force=msg.coordinating_force,
            route=Route(msg.route.value),
            parties=parties,
            request_type=REQUEST_TYPES[msg.application_category.value],
            initial_contact_at=msg.initial_contact_at,
            earliest_initial_contact_at=t.envelope.time - allowance,
        )
    ]


def step_completed(msg: m.StepCompleted, t: Translation) -> list[c.Command]:
    return [c.CompleteStep(**t.base, step=msg.step.value)]


def applicant_identity_verified(
    msg: m.ApplicantIdentityVerified, t: Translation
) -> list[c.Command]:
    method = ", ".join(
        msg.other_evidence if ev.value == "other" and msg.other_evidence else ev.value
        for ev in msg.evidence
    )
    return [
        c.VerifyApplicantIdentity(
            **t.base,
            party_id=msg.applicant_party_id,
            method=method,
            face_to_face=msg.face_to_face,
        )
    ]


def _party(wire: WireParty, t: Translation) -> Party:
    home = wire.home_force
    if home is None and wire.postcode_district:
        home = force_for_postcode(wire.postcode_district)
    if home is None:
        raise ContractError(
            ReasonCode.SCHEMA_INVALID,
            f"party {wire.party_id} needs a home force or postcode district",
        )
    division = wire.division
    if division is None and home == POLICE_SCOTLAND and wire.postcode_district:
        # 003 §9.11: one DMF per division; the referral must go to the party's own.
        division = division_for_postcode(wire.postcode_district)
    return Party(
        party_id=wire.party_id,
        role=PartyRole(wire.role.value),
        home_force=home,
        is_applicant=wire.is_applicant,
        identity_verified=wire.identity_verified,
        anonymous=wire.anonymous,
        subject_key=t.subject_key(wire.person),
        postcode=wire.postcode_district,
        division=division,
        police_employee_of=wire.police_employee_of,
    )


TRANSLATORS: dict[type[Any], Translator] = {
    m.CaseOpened: case_opened,
    m.StepCompleted: step_completed,
    m.ApplicantIdentityVerified: applicant_identity_verified,
}
# Only an opening may arrive before the case exists.
TRANSLATORS_OPENING = (m.CaseOpened,)
