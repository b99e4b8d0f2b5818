"""Messages the hub itself originates from a case's events: the PSD notice, the malicious
marker found, and the disclosure hand-off. Composed here, signed on the outbound path."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import audience
from crossforce.broker.domain.case import Case
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import HUB_FORCE_CODE, Envelope
from crossforce.contracts.messages import case as m_case
from crossforce.contracts.messages import disclosure as m_disc
from crossforce.contracts.messages.common import Party as WireParty
from crossforce.contracts.messages.common import PartyRole as WirePartyRole
from crossforce.contracts.messages.common import RecordRef
from crossforce.contracts.messages.common import Route as WireRoute


class HubMessages:
    """The hub's own messages caused by `envelope`, naming persons from `persons` where a
    recipient needs them."""

    def __init__(self, envelope: Envelope, persons: dict[str, Any]) -> None:
        self.envelope = envelope
        self.persons = persons

    def psd_notice(self, case: Case, event: e.PoliceEmployeeParty, now: datetime) -> Envelope:
        party = case.party(event.party_id)
        person = self.persons.get(party.party_id)
        message = m_case.PoliceEmployeePartyNotified(
            party=WireParty(
                party_id=party.party_id,
                role=WirePartyRole(party.role.value),
                is_applicant=party.is_applicant,
                home_force=party.home_force,
                person=person,
                police_employee_of=event.employing_force,
            ),
            employing_force=event.employing_force,
            route=WireRoute(case.route.value),
            jurisdiction=case.jurisdiction,
            receiving_force=case.receiving_force,
            coordinating_force=case.coordinating_force,
            opened_at=case.opened_at,
        )
        return compose(
            message,
            sender=HUB_FORCE_CODE,
            case_ref=case.case_ref,
            recipients=[event.psd],
            jurisdiction=case.jurisdiction,
            causation_id=self.envelope.id,
            correlation_id=self.envelope.caseref,
            time=now,
        )

    def marker_found(self, case: Case, event: e.MaliciousMarkerFound, now: datetime) -> Envelope:
        party = next(p for p in case.parties if p.subject_key == event.subject_key)
        message = m_disc.MaliciousMarkerFound(
            party_id=party.party_id,
            marked_in_case=event.marked_in_case,
            marked_by=event.marked_by,
            marked_at=event.marked_at,
        )
        return compose(
            message,
            sender=HUB_FORCE_CODE,
            case_ref=case.case_ref,
            recipients=sorted(audience(case, event) - {HUB_FORCE_CODE}),
            jurisdiction=case.jurisdiction,
            causation_id=self.envelope.id,
            correlation_id=self.envelope.caseref,
            time=now,
        )

    def handoff(self, case: Case, event: e.DisclosureHandedOff, now: datetime) -> Envelope:
        recipient = case.party(event.recipient_party_id)
        subject = case.subject()
        person = self.persons.get(recipient.party_id)
        message = m_disc.DisclosureHandoff(
            to_force=event.to_force,
            recipient_party_id=recipient.party_id,
            recipient=WireParty(
                party_id=recipient.party_id,
                role=WirePartyRole(recipient.role.value),
                is_applicant=recipient.is_applicant,
                home_force=recipient.home_force,
                person=person,
            ),
            subject_party_id=subject.party_id if subject else recipient.party_id,
            # References only: the wording stays in the holding force's record (001 ¶87).
            decision=RecordRef(force=self.envelope.senderforce, reference=self.envelope.id),
            wording=RecordRef(
                force=case.coordinating_force, reference=f"wording/{self.envelope.id}"
            ),
            deliver_by=event.due_at,
        )
        audience = sorted({event.to_force, case.coordinating_force} - {HUB_FORCE_CODE})
        return compose(
            message,
            sender=HUB_FORCE_CODE,
            case_ref=case.case_ref,
            recipients=audience,
            jurisdiction=case.jurisdiction,
            causation_id=self.envelope.id,
            correlation_id=self.envelope.caseref,
            time=now,
        )
