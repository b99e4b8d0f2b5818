"""Need-to-know: which forces receive each event (domain.md §6; 000 §3.3.3, §3.10).

- The co-ordinating force sees everything: it oversees the case [§3.10.7].
- A responding force, a third party's home force and a DMF see only events about their own
  parts [001 Annex F: adequate, relevant and not excessive].
- The receiving force, once it has passed the case on, hears only that the case opened,
  immediate risk, and closure.
- Immediate risk and closure go to every participant [§4 item 3].
- The applicant may never learn the outcome when someone else receives the disclosure
  [000 §3.3.3]: `applicant_may_be_told` is False for such events, and `deliveries` marks them
  as not for the applicant-liaison channel even though the co-ordinating force receives them
  for oversight.
"""

from __future__ import annotations

from dataclasses import dataclass

from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.roles import ForceRole


@dataclass(frozen=True, slots=True)
class Delivery:
    force: str
    roles: frozenset[ForceRole]
    applicant_channel: bool  # may be relayed to the applicant by their liaison officer


def audience(case: Case, event: e.DomainEvent) -> frozenset[str]:
    if isinstance(event, e.PoliceEmployeeParty):
        # Only the employing force's PSD: a police employee's colleagues working the case
        # in other roles have no need to know from the hub (002 L899–975).
        return frozenset({event.psd})
    forces = {case.coordinating_force}
    if event.part_owner is not None:
        forces.add(event.part_owner)
    match event:
        case e.CaseOpened() | e.ApplicationRoutedAway():
            forces.add(case.receiving_force)
        case e.ImmediateRiskRaised() | e.CaseClosed():
            forces |= case.participants()
        case e.EnquiryReassigned() | e.DisclosureReassigned():
            forces |= {event.from_force, event.to_force}
        case e.CoordinationTransferRequested() | e.CoordinationTransferDeclined():
            forces |= {event.from_force, event.to_force}
        case e.CoordinationTransferAccepted():
            # Responding forces need to know whom they now answer to.
            forces |= {event.from_force, event.to_force}
            forces |= {p.owner for p in case.open_parts()}
        case e.DmfReferred() | e.DmfDecisionRecorded():
            forces.add(event.referred_by)
        case e.UndertakingRefused() | e.UndertakingDecisionRecorded():
            forces |= set(event.dmfs_informed)
        case e.DisclosureHandedOff():
            forces.add(event.to_force)
        case e.DelayNotified() | e.CrimeLinked():
            forces.add(event.actor)
        case _:
            pass
    return frozenset(forces)


def applicant_may_be_told(case: Case, event: e.DomainEvent) -> bool:
    """May this event reach the applicant through their liaison officer?"""
    applicant = case.applicant()
    if applicant is None or applicant.anonymous:
        return False
    match event:
        case e.DelayNotified():
            return True  # 001 ¶34(f): the applicant is told when a timescale slips
        case e.NonDisclosureNotificationOpened() | e.NonDisclosureNotified():
            return True
        case e.DecisionRecorded():
            return not event.disclose or event.recipient_party_id == applicant.party_id
        case (
            e.DisclosureHandedOff()
            | e.DisclosureHandoffAcknowledged()
            | e.DisclosureHandoffDeclined()
            | e.DisclosureReassigned()
            | e.UndertakingRefused()
            | e.UndertakingDecisionRecorded()
            | e.DisclosureDelivered()
        ):
            if event.part_id is None:
                return False
            return case.part(event.part_id).party_id == applicant.party_id
        case _:
            return False


def liaison_force(case: Case) -> str | None:
    return next(
        (p.owner for p in case.parts if p.kind is PartKind.APPLICANT_LIAISON and p.is_open), None
    )


def deliveries(case: Case, event: e.DomainEvent) -> tuple[Delivery, ...]:
    """One delivery per force in the audience, with its roles and applicant-channel flag."""
    tell_applicant = applicant_may_be_told(case, event)
    liaison = liaison_force(case)
    return tuple(
        Delivery(
            force=force,
            roles=case.roles_of(force),
            applicant_channel=tell_applicant and force == liaison,
        )
        for force in sorted(audience(case, event))
    )
