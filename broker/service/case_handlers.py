"""Wire messages in, domain commands applied, need-to-know deliveries out.

This is the only place where the contract vocabulary (enquiry ids, Annex G answers, party
records) meets the domain's (part ids, commands, events). The domain decides who may do what
and who needs to know; this module translates and persists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import Engine, insert, select

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import stored_utc
from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import deliveries as need_to_know
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.forums import (
    AgencyKind,
    DisclosableItem,
    ForumBody,
    ForumChair,
    ForumKind,
    PoliceRank,
)
from crossforce.broker.domain.markers import MaliciousMarker, SubjectMarkers, markers_from_events
from crossforce.broker.domain.opening import handle as open_or_handle
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.records import FinalReport, ReportedParty
from crossforce.broker.domain.routes import DeliveryMethod, RequestType, Route
from crossforce.broker.domain.sla import SlaPolicy, SlaStep, due_at, load_policy
from crossforce.broker.escalation.service import sync_deadlines
from crossforce.broker.service.unit_of_work import SqlUnitOfWork
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import HUB_FORCE_CODE, Envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import POLICE_SCOTLAND
from crossforce.contracts.messages import case as m_case
from crossforce.contracts.messages import closure as m_closure
from crossforce.contracts.messages import coordination as m_coord
from crossforce.contracts.messages import decision as m_decision
from crossforce.contracts.messages import disclosure as m_disc
from crossforce.contracts.messages import dmf as m_dmf
from crossforce.contracts.messages import enquiry as m_enq
from crossforce.contracts.messages import escalation as m_esc
from crossforce.contracts.messages import risk as m_risk
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import Party as WireParty
from crossforce.contracts.messages.common import PartyRole as WirePartyRole
from crossforce.contracts.messages.common import RecordRef
from crossforce.contracts.messages.common import Route as WireRoute
from crossforce.contracts.postcodes import division_for_postcode, force_for_postcode
from crossforce.ledger.subject_key import subject_key

# Message types only the hub may originate.
HUB_ONLY = {
    "receipt",
    "overdue-notice",
    "escalation-raised",
    "deadline-reminder",
    "disclosure-handoff",
    "malicious-marker-found",
    "police-employee-party-notified",
    "case-access-reported",
}


@dataclass(frozen=True, slots=True)
class Delivery:
    force: str
    envelope: Envelope
    priority: bool = False
    applicant_channel: bool = True


@dataclass(frozen=True, slots=True)
class HubMessage:
    """A message the hub itself originates, and per recipient whether it may reach the
    applicant's channel."""

    envelope: Envelope
    applicant_channel: dict[str, bool]


@dataclass(slots=True)
class HandlerOutcome:
    deliveries: list[Delivery] = field(default_factory=list)
    hub_messages: list[HubMessage] = field(default_factory=list)
    priority: bool = False
    events: list[e.DomainEvent] = field(default_factory=list)


# Hooks called inside the transaction after a command is applied (deadlines, ledger).
CaseHook = Callable[[SqlUnitOfWork, Case, Envelope, Message, datetime], None]


class CaseHandlers:
    def __init__(
        self,
        engine: Engine,
        *,
        subject_key_secret: bytes,
        context: DomainContext | None = None,
        hooks: tuple[CaseHook, ...] = (),
        policy: SlaPolicy | None = None,
    ) -> None:
        self.engine = engine
        self.policy = policy or load_policy(None)
        self.context = context or DomainContext(resolve_home_force=_resolve_by_postcode)
        self.subject_key_secret = subject_key_secret
        self.hooks = hooks

    def apply(
        self, uow: SqlUnitOfWork, envelope: Envelope, message: Message, now: datetime
    ) -> HandlerOutcome:
        name = envelope.name
        if name in HUB_ONLY:
            raise ContractError(ReasonCode.NOT_AUTHORISED, f"only the hub may send {name}")
        row = uow.load_case_row(envelope.caseref)
        state: dict[str, Any] = dict(row["state"]) if row else {}
        case = Case.from_dict(state["case"]) if row else None
        aliases: dict[str, list[str]] = dict(state.get("aliases", {}))
        persons: dict[str, Any] = dict(state.get("persons", {}))
        translate = _Translator(self, envelope, message, case, aliases, persons)
        commands = translate.commands()
        context = self._context(uow, commands)
        events: list[e.DomainEvent] = []
        try:
            for command in commands:
                case, produced = open_or_handle(case, command, context)
                events += produced
                translate.learn(case, produced)
        except DomainRefusal as refusal:
            raise ContractError(refusal.code, f"{refusal.rule}: {refusal.message}") from None
        assert case is not None
        self._save(uow, row, case, aliases, persons, events, now)
        # Deadlines follow the parts: new parts are timed, answered parts stop their timers.
        sync_deadlines(uow, case, now, self.policy)
        for hook in self.hooks:
            hook(uow, case, envelope, message, now)
        return self._outcome(case, envelope, events, translate, now)

    # -- persistence ---------------------------------------------------------------------
    def _context(self, uow: SqlUnitOfWork, commands: list[c.Command]) -> DomainContext:
        keys = {
            p.subject_key
            for cmd in commands
            if isinstance(cmd, c.OpenCase)
            for p in cmd.parties
            if p.subject_key
        }
        if not keys:
            return self.context
        rows = uow.db.execute(
            select(schema.subject_markers).where(schema.subject_markers.c.subject_key.in_(keys))
        ).mappings()
        markers = SubjectMarkers.of(
            MaliciousMarker(
                r["subject_key"],
                r["case_ref"],
                r["marked_by"],
                stored_utc(r["marked_at"]),
                "recorded",
            )
            for r in rows
        )
        return DomainContext(self.context.settings, markers, self.context.resolve_home_force)

    def _save(
        self,
        uow: SqlUnitOfWork,
        row: dict[str, Any] | None,
        case: Case,
        aliases: dict[str, list[str]],
        persons: dict[str, Any],
        events: list[e.DomainEvent],
        now: datetime,
    ) -> None:
        columns = case.index_columns()
        uow.save_case_row(
            {
                "case_ref": case.case_ref,
                "version": case.version,
                "receiving_force": case.receiving_force,
                "coordinating_force": case.coordinating_force,
                "status": columns["status"],
                "state": {"case": case.to_dict(), "aliases": aliases, "persons": persons},
                "updated_at": now,
                "participants": sorted(case.participants()),
            },
            expected_version=row["version"] if row else None,
        )
        for marker in markers_from_events(events):
            uow.db.execute(
                insert(schema.subject_markers).values(
                    subject_key=marker.subject_key,
                    marker="malicious",
                    case_ref=marker.case_ref,
                    marked_by=marker.marked_by,
                    marked_at=marker.marked_at,
                )
            )
        for event in events:
            uow.add_history(case.case_ref, event.at, event.actor, event.name, _summary(event))

    # -- need-to-know --------------------------------------------------------------------
    def _outcome(
        self,
        case: Case,
        envelope: Envelope,
        events: list[e.DomainEvent],
        translate: _Translator,
        now: datetime,
    ) -> HandlerOutcome:
        outcome = HandlerOutcome(priority=any(ev.priority for ev in events), events=events)
        recipients: dict[str, bool] = {}
        for event in events:
            if isinstance(event, e.DisclosureHandedOff):
                channels = {d.force: d.applicant_channel for d in need_to_know(case, event)}
                outcome.hub_messages.append(
                    HubMessage(translate.handoff(case, event, now), channels)
                )
                continue
            if isinstance(event, e.PoliceEmployeeParty):
                # 002 L899–975: only the employing force's PSD, never the applicant's channel.
                outcome.hub_messages.append(
                    HubMessage(translate.psd_notice(case, event, now), {event.psd: False})
                )
                continue
            if isinstance(event, e.MaliciousMarkerFound):
                # 000 §3.7.7: the officers of the later case see the marker, through their own
                # force system; never through the applicant's channel.
                channels = {d.force: False for d in need_to_know(case, event)}
                outcome.hub_messages.append(
                    HubMessage(translate.marker_found(case, event, now), channels)
                )
                continue
            for delivery in need_to_know(case, event):
                allowed = recipients.get(delivery.force, True) and delivery.applicant_channel
                recipients[delivery.force] = allowed
        recipients.pop(envelope.senderforce, None)
        recipients.pop(HUB_FORCE_CODE, None)
        outcome.deliveries = [
            Delivery(force, envelope, outcome.priority, channel)
            for force, channel in sorted(recipients.items())
        ]
        return outcome

    def subject_key(self, person: Any) -> str | None:
        """The keyed, privacy-preserving subject key the ledger uses too (HMAC of identity)."""
        if person is None or person.date_of_birth is None:
            return None
        identity = {
            "surname": person.family_name,
            "forenames": person.given_names,
            "date_of_birth": person.date_of_birth,
        }
        return subject_key(self.subject_key_secret, identity)


class _CommandBase(TypedDict):
    case_ref: str
    actor: str
    at: datetime


class _Translator:
    """Turns one wire message into domain commands, and remembers enquiry id -> part ids."""

    def __init__(
        self,
        handlers: CaseHandlers,
        envelope: Envelope,
        message: Message,
        case: Case | None,
        aliases: dict[str, list[str]],
        persons: dict[str, Any],
    ) -> None:
        self.handlers = handlers
        self.envelope = envelope
        self.message = message
        self.case = case
        self.aliases = aliases
        self.persons = persons
        self.base: _CommandBase = {
            "case_ref": envelope.caseref,
            "actor": envelope.senderforce,
            "at": envelope.time,
        }
        self.pending_alias: str | None = None

    def parts_for(self, enquiry_id: str) -> list[str]:
        parts = self.aliases.get(enquiry_id)
        if not parts:
            raise ContractError(ReasonCode.RULE_VIOLATION, f"unknown enquiry {enquiry_id}")
        return parts

    def known_part(self, name: str) -> str | None:
        """A hub part id, or the one part of a one-party enquiry id; None for anything else."""
        assert self.case is not None
        if any(part.part_id == name for part in self.case.parts):
            return name
        parts = self.aliases.get(name, [])
        return parts[0] if len(parts) == 1 else None

    def handoff_part(self, recipient_party_id: str) -> str:
        """The open disclosure-delivery part the sender holds for this recipient."""
        assert self.case is not None
        for part in reversed(self.case.parts):
            if (
                part.kind is PartKind.DISCLOSURE_DELIVERY
                and part.party_id == recipient_party_id
                and part.owner == self.envelope.senderforce
                and part.is_open
            ):
                return part.part_id
        raise ContractError(
            ReasonCode.INVALID_TRANSITION,
            f"no-handoff: {self.envelope.senderforce} holds no disclosure hand-off for "
            f"{recipient_party_id}",
        )

    def part_of_kind(self, kind: PartKind, owner: str | None = None) -> str:
        assert self.case is not None
        for part in reversed(self.case.parts):
            if part.kind is kind and (owner is None or part.owner == owner):
                return part.part_id
        raise ContractError(ReasonCode.INVALID_TRANSITION, f"no {kind.value} part for this case")

    def commands(self) -> list[c.Command]:
        m, b = self.message, self.base
        if isinstance(m, m_case.CaseOpened):
            parties = tuple(self._party(p) for p in m.parties)
            for p in m.parties:
                if p.person is not None:
                    self.persons[p.party_id] = p.person.model_dump(mode="json")
            allowance = timedelta(days=self.handlers.policy.clocks.initial_contact_backdating_days)
            return [
                c.OpenCase(
                    **b,
                    receiving_force=m.receiving_force,
                    coordinating_force=m.coordinating_force,
                    route=Route(m.route.value),
                    parties=parties,
                    request_type=_REQUEST_TYPES[m.application_category.value],
                    initial_contact_at=m.initial_contact_at,
                    earliest_initial_contact_at=self.envelope.time - allowance,
                )
            ]
        if self.case is None:
            raise ContractError(ReasonCode.UNKNOWN_CASE, f"no open case {self.envelope.caseref}")
        if isinstance(m, m_enq.EnquiryRequested):
            self.pending_alias = m.enquiry_id
            # Without a due time from the sender, the local-policy answer deadline applies,
            # counted in the responding force's own working days; a sender's own due time may
            # not be sooner without immediate risk (domain rule due-at-shorter-than-policy).
            policy_due = due_at(
                SlaStep.RESPONDING_FORCE_ANSWER,
                self.envelope.time,
                m.responding_force,
                self.handlers.policy,
            )
            return [
                c.RequestEnquiry(
                    **b,
                    party_id=pid,
                    due_at=m.due_at or policy_due,
                    earliest_due_at=policy_due,
                    responding_force=m.responding_force,
                )
                for pid in m.party_ids
            ]
        if isinstance(m, m_enq.EnquiryAcknowledged):
            return [c.AcknowledgeEnquiry(**b, part_id=p) for p in self.parts_for(m.enquiry_id)]
        if isinstance(m, m_enq.EnquiryDeclined):
            return [
                c.DeclineEnquiry(**b, part_id=p, reason=m.reason.value)
                for p in self.parts_for(m.enquiry_id)
            ]
        if isinstance(m, m_coord.EnquiryReassigned):
            return [
                c.ReassignEnquiry(**b, part_id=p, to_force=m.to_force, reason=m.reason.value)
                for p in self.parts_for(m.enquiry_id)
            ]
        if isinstance(m, m_enq.EnquiryResult):
            concern = any(
                ch.result.value == "trace-concern"
                or (ch.risk_level is not None and ch.risk_level.value == "high")
                for ch in m.checks
            )
            items = tuple(
                DisclosableItem(
                    ch.reference or f"{ch.check.value}-{i}", ch.check.value, ch.spent_conviction
                )
                for i, ch in enumerate(m.checks)
                if ch.result.value == "trace-concern"
            )
            summary = f"{len(m.checks)} checks; concern={'yes' if concern else 'no'}"
            return [
                c.RecordEnquiryResult(**b, part_id=p, concern=concern, summary=summary, items=items)
                for p in self.parts_for(m.enquiry_id)
            ]
        if isinstance(m, m_coord.PartyHomeForceCorrected):
            return [
                c.CorrectPartyHomeForce(
                    **b,
                    party_id=m.party_id,
                    home_force=m.corrected_home_force,
                    reason=m.reason.value,
                )
            ]
        if isinstance(m, m_coord.CoordinationTransferRequested):
            return [
                c.RequestCoordinationTransfer(
                    **b, to_force=m.to_force, reason=m.reason.value, transfer_id=m.transfer_id
                )
            ]
        if isinstance(m, m_coord.CoordinationTransferAccepted):
            return [c.AcceptCoordinationTransfer(**b, transfer_id=m.transfer_id)]
        if isinstance(m, m_coord.CoordinationTransferDeclined):
            return [
                c.DeclineCoordinationTransfer(**b, reason=m.reason.value, transfer_id=m.transfer_id)
            ]
        if isinstance(m, m_case.StepCompleted):
            return [c.CompleteStep(**b, step=m.step.value)]
        if isinstance(m, m_case.ApplicantIdentityVerified):
            return [
                c.VerifyApplicantIdentity(
                    **b,
                    party_id=m.applicant_party_id,
                    method=", ".join(
                        m.other_evidence if ev.value == "other" and m.other_evidence else ev.value
                        for ev in m.evidence
                    ),
                    face_to_face=m.face_to_face,
                )
            ]
        if isinstance(m, m_risk.ImmediateRiskRaised):
            return [c.RaiseImmediateRisk(**b, summary=m.action_taken)]
        if isinstance(m, m_risk.CrimeLinked):
            return [
                c.LinkCrime(
                    **b,
                    crime_reference=_ref_text(m.crime),
                    investigating_force=m.investigating_force,
                )
            ]
        if isinstance(m, m_decision.DecisionRecorded):
            return [
                c.RecordDecision(
                    **b,
                    concern=m.concerns.answer,
                    disclose=m.disclose.answer,
                    rationale=m.disclose.rationale,
                    recipient_party_id=m.disclosure_recipient_party_id,
                    inform_b=m.inform_b.answer,
                    seek_representations=m.representations_from_b.answer,
                    mappa_iom_referral=m.mappa_iom_referral.answer,
                    forum=_FORUMS.get(m.forum.value, ForumKind.LOCAL_PANEL),
                    bodies=tuple(
                        ForumBody(a.agency_name or a.agency.value, _agency(a.agency.value))
                        for a in m.attendees
                    ),
                )
            ]
        if isinstance(m, m_dmf.DmfReferral):
            items = (
                DisclosableItem(
                    _ref_text(m.referral_pack), "referral pack", m.includes_spent_convictions
                ),
            )
            due = due_at(
                SlaStep.SCOTLAND_STAGE_4_DMF_REFERRAL,
                self.envelope.time,
                m.dmf,
                self.handlers.policy,
            )
            return [
                c.ReferToDmf(**b, party_id=pid, dmf=m.dmf, items=items, due_at=due)
                for pid in m.party_ids
            ]
        if isinstance(m, m_dmf.DmfDecision):
            if m.includes_spent_convictions:
                raise ContractError(
                    ReasonCode.RULE_VIOLATION,
                    "spent-conviction-to-dmf: spent convictions must not reach a DMF",
                )
            part = self.part_of_kind(PartKind.DMF_REFERRAL, m.dmf)
            return [
                c.RecordDmfDecision(
                    **b,
                    part_id=part,
                    concern=m.concern,
                    recommend_disclosure=m.recommend_disclosure,
                    rationale=m.rationale,
                    reconsideration=m.reconsideration,
                    # A Chief Inspector can only chair as the Superintendent's nominated deputy.
                    chair=ForumChair(
                        _RANKS.get(m.chair.rank.name, PoliceRank.CONSTABLE),
                        nominated_deputy=m.chair.rank.name == "CHIEF_INSPECTOR",
                    ),
                    bodies=tuple(
                        ForumBody(
                            body.name,
                            _agency(body.agency.value),
                            body.registered_data_controller,
                            body.force,
                        )
                        for body in m.bodies_present
                    ),
                )
            ]
        if isinstance(m, m_disc.DisclosureHandoffAcknowledged | m_disc.DisclosureHandoffDeclined):
            part = self.handoff_part(m.recipient_party_id)
            if isinstance(m, m_disc.DisclosureHandoffAcknowledged):
                return [c.AcknowledgeDisclosureHandoff(**b, part_id=part)]
            reason = m.reason.value + (f": {m.detail}" if m.detail else "")
            return [c.DeclineDisclosureHandoff(**b, part_id=part, reason=reason)]
        if isinstance(m, m_disc.DisclosureDelivered):
            part = self.part_of_kind(PartKind.DISCLOSURE_DELIVERY, self.envelope.senderforce)
            # Delivering is the clearest acknowledgement of a handoff not yet acknowledged.
            accept: list[c.Command] = (
                [c.AcknowledgeDisclosureHandoff(**b, part_id=part)]
                if self.case.part(part).status.value == "requested"
                else []
            )
            if m.undertaking.value == "refused":
                decision = m.refused_decision.value if m.refused_decision else None
                refer = decision == "refer-to-dmf"
                out: list[c.Command] = list(accept)
                # After a referral to the DMF the refusal is already recorded: this message
                # carries the decision that follows it.
                if refer or self.case.part(part).status.value != "undertaking-refused":
                    out.append(c.RecordUndertakingRefused(**b, part_id=part, refer_to_dmf=refer))
                if decision is not None and not refer:
                    out.append(
                        c.RecordUndertakingDecision(
                            **b,
                            part_id=part,
                            proceed=decision == "proceed",
                            rationale=m.refused_rationale or "",
                        )
                    )
                    if decision == "proceed":
                        out.append(
                            c.RecordDisclosureDelivered(
                                **b, part_id=part, method=DeliveryMethod(m.mode.value)
                            )
                        )
                return out
            delivered = c.RecordDisclosureDelivered(
                **b, part_id=part, method=DeliveryMethod(m.mode.value)
            )
            return [*accept, delivered]
        if isinstance(m, m_disc.NonDisclosureNotified):
            part = self.part_of_kind(PartKind.NON_DISCLOSURE_NOTIFICATION)
            method = DeliveryMethod.LETTER if m.letter_sent else DeliveryMethod(m.mode.value)
            return [c.NotifyNonDisclosure(**b, part_id=part, method=method)]
        if isinstance(m, m_disc.DelayNotified):
            # The late item may be a part, a one-party enquiry or an SLA step name: a part is
            # linked, anything else is kept as sent in the history.
            return [
                c.NotifyDelay(
                    **b,
                    reason=m.reason,
                    expected_by=m.expected_by,
                    part_id=self.known_part(m.part_id),
                    late_step=m.part_id,
                )
            ]
        if isinstance(m, m_esc.DeadlineExtended):
            part_id = self.known_part(m.part_id)
            if part_id is None:
                raise ContractError(
                    ReasonCode.RULE_VIOLATION,
                    f"unknown-part: no part or one-party enquiry {m.part_id} in this case",
                )
            return [
                c.ExtendDeadline(
                    **b,
                    part_id=part_id,
                    due_at=m.new_due_at,
                    reason=m.reason,
                    agreed_with=m.agreed_with,
                )
            ]
        if isinstance(m, m_disc.MaliciousApplicationMarked):
            return [c.MarkMaliciousApplication(**b, evidence=_ref_text(m.evidence))]
        if isinstance(m, m_closure.IntelligenceSubmission):
            report = FinalReport(
                route=Route(m.request.route.value),
                request_type=_REQUEST_TYPES[m.request.application_category.value],
                receiving_force=m.request.receiving_force,
                parties=tuple(
                    ReportedParty(p.party_id, PartyRole(p.role.value), p.is_applicant)
                    for p in m.parties
                ),
                requester_is_third_party=m.requester_is_third_party,
                forces_involved=tuple(m.forces_involved),
            )
            return [
                c.SubmitIntelligence(
                    **b,
                    summary=m.summary or m.outcome.value,
                    outcome=m.outcome.value,
                    report=report,
                )
            ]
        if isinstance(m, m_closure.CaseClosed):
            return [c.CloseCase(**b, reason=f"{m.closing_stage.value}: {m.outcome.value}")]
        raise ContractError(
            ReasonCode.UNKNOWN_TYPE, f"the hub does not act on {self.envelope.type}"
        )

    def learn(self, case: Case, events: list[e.DomainEvent]) -> None:
        self.case = case
        if self.pending_alias is None:
            return
        created = [ev.part_id for ev in events if isinstance(ev, e.EnquiryRequested) and ev.part_id]
        if created:
            self.aliases.setdefault(self.pending_alias, []).extend(created)

    def _party(self, wire: WireParty) -> Party:
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
            subject_key=self.handlers.subject_key(wire.person),
            postcode=wire.postcode_district,
            division=division,
            police_employee_of=wire.police_employee_of,
        )

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
            recipients=sorted(case.audience(event) - {HUB_FORCE_CODE}),
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


def _resolve_by_postcode(party: Party) -> str | None:
    return None  # parties arrive with a home force, resolved from the postcode if needed


def _ref_text(ref: Any) -> str:
    return f"{ref.force}/{ref.reference}"


def _agency(value: str) -> AgencyKind:
    try:
        return AgencyKind(value)
    except ValueError:
        return AgencyKind.OTHER


def _summary(event: e.DomainEvent) -> str:
    details = {
        k: v
        for k, v in event.to_dict().items()
        if k not in {"name", "case_ref", "at", "actor", "priority"} and v not in (None, "")
    }
    return ", ".join(f"{k}={v}" for k, v in details.items())[:500]


_REQUEST_TYPES = {
    "genuine": RequestType.GENUINE,
    "dbs": RequestType.DBS_CHECK,
    "sar": RequestType.SUBJECT_ACCESS_REQUEST,
    "foi": RequestType.FREEDOM_OF_INFORMATION,
}
_FORUMS = {
    "marac": ForumKind.MARAC,
    "mappa": ForumKind.MAPPA,
    "child-protection": ForumKind.CHILD_PROTECTION,
    "panel": ForumKind.LOCAL_PANEL,
    "police": ForumKind.LOCAL_PANEL,
}
_RANKS = {rank.name: rank for rank in PoliceRank}
