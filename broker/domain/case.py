"""The Case aggregate: who holds which role, the parts of the job, and the rules between them.

`open_case` creates a case; `Case.handle` applies every other command. A refused command
raises `DomainRefusal` and leaves the case exactly as it was; an applied one increments
`version` (optimistic concurrency) and returns the events to deliver.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, TypeVar

from broker.domain import commands as c
from broker.domain import events as e
from broker.domain.context import DomainContext
from broker.domain.errors import DomainRefusal, invalid_transition, not_authorised, rule_violation
from broker.domain.forums import DisclosableItem, check_dmf_composition, forum_warnings
from broker.domain.markers import MaliciousMarker
from broker.domain.parties import Party, PartyRole
from broker.domain.parts import PartHistoryEntry, PartKind, PartOfJob, PartStatus
from broker.domain.records import (
    CoordinationTransfer,
    Decision,
    LinkedCrime,
    RiskFlag,
    TransferOutcome,
)
from broker.domain.roles import ForceRole
from broker.domain.routes import DeliveryMethod, RequestType, Route
from broker.domain.rules import SpentConvictionPolicy
from broker.domain.serialisation import decode, encode
from broker.domain.transitions import CaseStatus, PartAction, target
from contracts.envelope import Jurisdiction
from contracts.errors import ContractError, ReasonCode
from contracts.forces import POLICE_SCOTLAND, Force, ParticipantKind, get_force

SCHEMA_VERSION = 1
_EventT = TypeVar("_EventT", bound=e.DomainEvent)


def force_of(code: str) -> Force:
    try:
        return get_force(code)
    except ContractError:
        raise DomainRefusal(
            ReasonCode.UNKNOWN_FORCE,
            f"{code!r} is not in the force directory",
            rule="unknown-force",
        ) from None


def _police_force(code: str) -> Force:
    """A force that can own enquiries and co-ordinate: not a DMF."""
    force = force_of(code)
    if force.kind is ParticipantKind.DMF:
        raise rule_violation(f"{code} is a decision-making forum, not a force", "not-a-force")
    return force


def _is_scottish(code: str) -> bool:
    return force_of(code).jurisdiction is Jurisdiction.SCOTLAND


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise rule_violation("times must be timezone-aware", "naive-datetime")


def _require_text(value: str, rule: str, what: str) -> None:
    if not value.strip():
        raise rule_violation(f"{what} is required", rule)


@dataclass(slots=True)
class Case:
    case_ref: str
    receiving_force: str
    coordinating_force: str
    route: Route
    jurisdiction: Jurisdiction  # of the co-ordinating force
    request_type: RequestType
    status: CaseStatus
    opened_at: datetime
    parties: list[Party] = field(default_factory=list)
    parts: list[PartOfJob] = field(default_factory=list)
    version: int = 0
    next_part_number: int = 1
    priority: bool = False
    disclosure_barred: bool = False  # anonymous applicant: intelligence route [001 ¶46]
    pending_transfer: CoordinationTransfer | None = None
    coordination_history: list[CoordinationTransfer] = field(default_factory=list)
    decision: Decision | None = None
    immediate_risks: list[RiskFlag] = field(default_factory=list)
    linked_crimes: list[LinkedCrime] = field(default_factory=list)
    markers_seen: list[MaliciousMarker] = field(default_factory=list)
    markers_set: list[MaliciousMarker] = field(default_factory=list)
    closed_at: datetime | None = None
    closure_reason: str = ""

    # ------------------------------------------------------------------ lookups

    def party(self, party_id: str) -> Party:
        for party in self.parties:
            if party.party_id == party_id:
                return party
        raise rule_violation(f"no party {party_id!r} in case {self.case_ref}", "unknown-party")

    def part(self, part_id: str) -> PartOfJob:
        for part in self.parts:
            if part.part_id == part_id:
                return part
        raise rule_violation(f"no part {part_id!r} in case {self.case_ref}", "unknown-part")

    def applicant(self) -> Party | None:
        return next((p for p in self.parties if p.is_applicant), None)

    def subject(self) -> Party | None:
        return next((p for p in self.parties if p.role is PartyRole.B), None)

    def open_parts(self) -> list[PartOfJob]:
        return [p for p in self.parts if p.is_open]

    def parts_owned_by(self, force: str) -> list[PartOfJob]:
        return [p for p in self.parts if p.owner == force]

    def parts_needing_timers(self) -> list[PartOfJob]:
        """Open parts the SLA engine should time. None once the case is closed."""
        if self.status is not CaseStatus.OPEN:
            return []
        return [p for p in self.parts if p.status in (PartStatus.REQUESTED, PartStatus.IN_PROGRESS)]

    def dmf_forces(self) -> tuple[str, ...]:
        return tuple(sorted({p.owner for p in self.parts if p.kind is PartKind.DMF_REFERRAL}))

    def roles_of(self, force: str) -> frozenset[ForceRole]:
        roles: set[ForceRole] = set()
        if force == self.receiving_force:
            roles.add(ForceRole.RECEIVING)
        if force == self.coordinating_force:
            roles.add(ForceRole.COORDINATING)
        applicant = self.applicant()
        for part in self.parts_owned_by(force):
            if not part.is_open and part.status is not PartStatus.COMPLETED:
                continue
            if part.kind is PartKind.APPLICANT_LIAISON:
                roles.add(ForceRole.APPLICANTS_HOME_FORCE)
            elif part.kind is PartKind.ENQUIRY and force != self.coordinating_force:
                roles.add(ForceRole.RESPONDING)
            elif part.kind is PartKind.DMF_REFERRAL:
                roles.add(ForceRole.DECISION_MAKING_FORUM)
            elif part.kind is PartKind.DISCLOSURE_DELIVERY:
                if applicant is not None and part.party_id == applicant.party_id:
                    roles.add(ForceRole.APPLICANTS_HOME_FORCE)
                else:
                    # §3.10.6: the third party's home force acts as a responding force.
                    roles.add(ForceRole.THIRD_PARTYS_HOME_FORCE)
                    if force != self.coordinating_force:
                        roles.add(ForceRole.RESPONDING)
        return frozenset(roles)

    def participants(self) -> frozenset[str]:
        """Every force with a role in the case, including a pending co-ordination target."""
        forces = {self.receiving_force, self.coordinating_force}
        forces.update(p.owner for p in self.parts)
        if self.pending_transfer is not None:
            forces.add(self.pending_transfer.to_force)
        return frozenset(forces)

    def audience(self, event: e.DomainEvent) -> frozenset[str]:
        from broker.domain.audience import audience

        return audience(self, event)

    # ------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        body = encode(self)
        assert isinstance(body, dict)
        return {"schema_version": SCHEMA_VERSION, **body}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        body = {k: v for k, v in data.items() if k != "schema_version"}
        return decode(cls, body)

    def index_columns(self) -> dict[str, Any]:
        """Columns a repository may index next to the JSON body."""
        return {
            "case_ref": self.case_ref,
            "status": self.status.value,
            "receiving_force": self.receiving_force,
            "coordinating_force": self.coordinating_force,
            "jurisdiction": self.jurisdiction.value,
            "priority": self.priority,
            "version": self.version,
            "subject_key": (s.subject_key if (s := self.subject()) else None),
        }

    # ----------------------------------------------------------- command entry

    def handle(
        self, command: c.Command, context: DomainContext | None = None
    ) -> list[e.DomainEvent]:
        """Apply one command. All or nothing: a refusal leaves the case untouched."""
        context = context or DomainContext()
        if isinstance(command, c.OpenCase):
            refuse_second_open(self, command)
        if command.case_ref != self.case_ref:
            raise DomainRefusal(
                ReasonCode.UNKNOWN_CASE,
                f"command is for {command.case_ref}, not {self.case_ref}",
                rule="case-ref-mismatch",
            )
        _require_aware(command.at)
        if self.status is not CaseStatus.OPEN:
            raise invalid_transition(f"case {self.case_ref} is closed", "case-closed")
        handler = _HANDLERS.get(type(command))
        if handler is None:
            raise rule_violation(f"unsupported command {type(command).__name__}", "unknown-command")
        snapshot = self._snapshot()
        try:
            events = handler(self, command, context)
        except BaseException:
            self._restore(snapshot)
            raise
        self.version += 1
        return events

    def set_part_due(self, part_id: str, due_at: datetime | None) -> None:
        """Store the SLA engine's due time for an open part (the model never computes it)."""
        if due_at is not None:
            _require_aware(due_at)
        if self.status is not CaseStatus.OPEN:
            raise invalid_transition(f"case {self.case_ref} is closed", "case-closed")
        part = self.part(part_id)
        if not part.is_open:
            raise invalid_transition(f"part {part_id} is {part.status}", "part-closed")
        part.due_at = due_at
        self.version += 1

    def _snapshot(self) -> dict[str, Any]:
        return {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self)}

    def _restore(self, snapshot: dict[str, Any]) -> None:
        # Only fields a refused command actually changed are replaced, so objects a caller
        # holds (a part, say) stay live in the usual case where nothing was touched.
        for name, value in snapshot.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    # ----------------------------------------------------------------- helpers

    def _event(
        self,
        cls: type[_EventT],
        command: c.Command,
        part: PartOfJob | None = None,
        **values: Any,
    ) -> _EventT:
        return cls(
            case_ref=self.case_ref,
            at=command.at,
            actor=command.actor,
            priority=values.pop("priority", self.priority),
            part_id=part.part_id if part else None,
            part_owner=part.owner if part else None,
            **values,
        )

    def _require_coordinating(self, actor: str, what: str) -> None:
        if actor != self.coordinating_force:
            # §3.10.3, §3.10.7: the co-ordinating force oversees and instructs.
            raise not_authorised(
                f"only the co-ordinating force ({self.coordinating_force}) may {what}",
                "not-coordinating-force",
            )

    def _require_owner(self, part: PartOfJob, actor: str) -> None:
        if actor != part.owner:
            raise not_authorised(
                f"part {part.part_id} is owned by {part.owner}, not {actor}", "not-part-owner"
            )

    def _require_kind(self, part: PartOfJob, *kinds: PartKind) -> None:
        if part.kind not in kinds:
            raise rule_violation(f"part {part.part_id} is a {part.kind} part", "wrong-part-kind")

    def _new_part(
        self,
        command: c.Command,
        kind: PartKind,
        owner: str,
        action: PartAction,
        *,
        party_id: str | None = None,
        due_at: datetime | None = None,
        note: str = "",
        **values: Any,
    ) -> PartOfJob:
        status = target(kind, None, action)
        part = PartOfJob(
            part_id=f"part-{self.next_part_number}",
            kind=kind,
            owner=owner,
            status=status,
            created_at=command.at,
            party_id=party_id,
            due_at=due_at,
            **values,
        )
        part.history.append(_creation_entry(command.at, command.actor, action, status, owner, note))
        self.next_part_number += 1
        self.parts.append(part)
        return part

    def _move(
        self,
        part: PartOfJob,
        command: c.Command,
        action: PartAction,
        *,
        to_owner: str | None = None,
        note: str = "",
    ) -> None:
        part.record(
            at=command.at,
            actor=command.actor,
            action=action.value,
            to_status=target(part.kind, part.status, action),
            to_owner=to_owner,
            note=note,
        )

    def _replace_party(self, party: Party) -> None:
        self.parties = [party if p.party_id == party.party_id else p for p in self.parties]

    def _spent_policy(self, force: str, context: DomainContext) -> SpentConvictionPolicy:
        settings = context.settings
        if _is_scottish(force):
            return settings.spent_convictions_scotland
        return settings.spent_convictions_england_wales

    def _scottish_stages_skippable(self) -> bool:
        # 003 §5.20.2: immediate risk is the only case for disclosing before all stages.
        return bool(self.immediate_risks)


def _creation_entry(
    at: datetime, actor: str, action: PartAction, status: PartStatus, owner: str, note: str
) -> PartHistoryEntry:
    return PartHistoryEntry(
        at=at,
        actor=actor,
        action=action.value,
        from_status=None,
        to_status=status,
        from_owner=None,
        to_owner=owner,
        note=note,
    )


# =============================================================== opening a case


def refuse_second_open(case: Case, command: c.OpenCase) -> None:
    """A case has exactly one receiving and one co-ordinating force [000 §3.10.2-3.10.3]."""
    if command.coordinating_force != case.coordinating_force:
        raise rule_violation(
            f"case {case.case_ref} already has a co-ordinating force ({case.coordinating_force})",
            "one-coordinating-force",
        )
    if command.receiving_force != case.receiving_force:
        raise rule_violation(
            f"case {case.case_ref} already has a receiving force ({case.receiving_force})",
            "one-receiving-force",
        )
    raise invalid_transition(f"case {case.case_ref} is already open", "case-already-open")


def open_case(
    command: c.OpenCase, context: DomainContext | None = None
) -> tuple[Case, list[e.DomainEvent]]:
    context = context or DomainContext()
    _require_aware(command.at)
    _require_text(command.case_ref, "case-ref-required", "a case reference")
    if command.actor not in (command.receiving_force, command.coordinating_force):
        raise not_authorised(
            "a case is opened by its receiving or co-ordinating force", "not-receiving-force"
        )
    _police_force(command.receiving_force)
    coordinating = _police_force(command.coordinating_force)
    ids = [p.party_id for p in command.parties]
    if len(set(ids)) != len(ids):
        raise rule_violation("party ids must be unique", "duplicate-party")
    for party in command.parties:
        _police_force(party.home_force)

    case = Case(
        case_ref=command.case_ref,
        receiving_force=command.receiving_force,
        coordinating_force=command.coordinating_force,
        route=command.route,
        jurisdiction=coordinating.jurisdiction,
        request_type=command.request_type,
        status=CaseStatus.OPEN,
        opened_at=command.at,
        parties=list(command.parties),
        version=1,
    )
    opened = case._event(
        e.CaseOpened,
        command,
        receiving_force=case.receiving_force,
        coordinating_force=case.coordinating_force,
        route=case.route,
        jurisdiction=case.jurisdiction,
    )
    if command.request_type is not RequestType.GENUINE:
        # §4 item 1: DBS, SAR and FOI are routed away at initial contact; no timers start,
        # so the case is closed at once and has no parts.
        case.status = CaseStatus.CLOSED
        case.closed_at = command.at
        case.closure_reason = f"not a genuine application: {command.request_type.value}"
        routed = case._event(e.ApplicationRoutedAway, command, request_type=command.request_type)
        return case, [opened, routed]

    _check_route(case)
    events: list[e.DomainEvent] = [opened]
    applicant = case.applicant()
    if applicant is not None:
        # The co-ordinating force keeps the applicant's level of service [000 §3.10.7].
        case._new_part(
            command,
            PartKind.APPLICANT_LIAISON,
            case.coordinating_force,
            PartAction.OPEN_CASE,
            party_id=applicant.party_id,
        )
        if applicant.anonymous:
            case.disclosure_barred = True
            part = case._new_part(
                command,
                PartKind.INTELLIGENCE_SUBMISSION,
                case.coordinating_force,
                PartAction.OPEN_INTELLIGENCE_ROUTE,
                note="anonymous applicant",
            )
            events.append(
                case._event(
                    e.IntelligenceRouteOpened,
                    command,
                    part,
                    reason="anonymous applicant",
                    power_to_tell=case.jurisdiction is Jurisdiction.SCOTLAND,
                )
            )
    for party in case.parties:
        if party.subject_key is None:
            continue
        for marker in context.markers.for_subject(party.subject_key):
            # §4 item 5: earlier malicious applications are seen by every later request.
            case.markers_seen.append(marker)
            events.append(
                case._event(
                    e.MaliciousMarkerFound,
                    command,
                    subject_key=marker.subject_key,
                    marked_in_case=marker.case_ref,
                    marked_by=marker.marked_by,
                    marked_at=marker.marked_at,
                )
            )
    return case, events


def _check_route(case: Case) -> None:
    applicants = [p for p in case.parties if p.is_applicant]
    subjects = [p for p in case.parties if p.role is PartyRole.B]
    if len(subjects) != 1:
        raise rule_violation("a case is about exactly one subject (B)", "one-subject")
    if case.route is Route.RIGHT_TO_ASK:
        if len(applicants) != 1:
            raise rule_violation("Right to Ask needs exactly one applicant", "one-applicant")
        if applicants[0].role not in (PartyRole.A, PartyRole.C):
            # §1.1: the applicant is A or C.
            raise rule_violation("the applicant must be A or C", "applicant-must-be-a-or-c")
    elif applicants:
        raise rule_violation(f"{case.route} has no applicant", "no-applicant-on-route")
    if case.route is Route.RIGHT_TO_KNOW and case.jurisdiction is not Jurisdiction.ENGLAND_WALES:
        raise rule_violation("Right to Know is an England & Wales route", "route-jurisdiction")
    if case.route is Route.POWER_TO_TELL and case.jurisdiction is not Jurisdiction.SCOTLAND:
        raise rule_violation("Power to Tell is a Scottish route", "route-jurisdiction")


def handle(
    case: Case | None, command: c.Command, context: DomainContext | None = None
) -> tuple[Case, list[e.DomainEvent]]:
    """Entry point for the application layer: OpenCase creates, everything else applies."""
    if isinstance(command, c.OpenCase):
        if case is not None:
            refuse_second_open(case, command)
        return open_case(command, context)
    if case is None:
        raise DomainRefusal(
            ReasonCode.UNKNOWN_CASE, f"no case {command.case_ref}", rule="unknown-case"
        )
    return case, case.handle(command, context)


# ============================================================== command handlers


def _verify_identity(
    case: Case, cmd: c.VerifyApplicantIdentity, ctx: DomainContext
) -> list[e.DomainEvent]:
    case._require_coordinating(cmd.actor, "verify the applicant's identity")
    party = case.party(cmd.party_id)
    if not party.is_applicant:
        raise rule_violation(f"{party.party_id} is not the applicant", "not-the-applicant")
    if party.anonymous:
        raise rule_violation("an anonymous applicant cannot be verified", "anonymous-applicant")
    _require_text(cmd.method, "method-required", "the verification method")
    case._replace_party(replace(party, identity_verified=True))
    return [
        case._event(e.ApplicantIdentityVerified, cmd, party_id=party.party_id, method=cmd.method)
    ]


def _request_enquiry(case: Case, cmd: c.RequestEnquiry, ctx: DomainContext) -> list[e.DomainEvent]:
    # §3.10.8: responding forces start once informed by the co-ordinating force.
    case._require_coordinating(cmd.actor, "request an enquiry")
    party = case.party(cmd.party_id)
    if party.home_force == case.coordinating_force:
        raise rule_violation(
            f"{party.party_id} lives in the co-ordinating force; no cross-force enquiry",
            "enquiry-not-cross-force",
        )
    if any(
        p.kind is PartKind.ENQUIRY and p.party_id == party.party_id and p.is_open
        for p in case.parts
    ):
        raise rule_violation(
            f"an enquiry for {party.party_id} is already open", "enquiry-already-open"
        )
    if cmd.due_at is not None:
        _require_aware(cmd.due_at)
    part = case._new_part(
        cmd,
        PartKind.ENQUIRY,
        party.home_force,
        PartAction.REQUEST_ENQUIRY,
        party_id=party.party_id,
        due_at=cmd.due_at,
    )
    return [
        case._event(
            e.EnquiryRequested,
            cmd,
            part,
            party_id=party.party_id,
            to_force=party.home_force,
            due_at=cmd.due_at,
        )
    ]


def _acknowledge(
    case: Case,
    cmd: c.AcknowledgeEnquiry | c.AcknowledgeDisclosureHandoff,
    kind: PartKind,
    event: type[e.EnquiryAcknowledged] | type[e.DisclosureHandoffAcknowledged],
) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id)
    case._require_kind(part, kind)
    case._require_owner(part, cmd.actor)
    case._move(part, cmd, PartAction.ACKNOWLEDGE)
    return [case._event(event, cmd, part)]


def _decline(
    case: Case,
    cmd: c.DeclineEnquiry | c.DeclineDisclosureHandoff,
    kind: PartKind,
    event: type[e.EnquiryDeclined] | type[e.DisclosureHandoffDeclined],
) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id)
    case._require_kind(part, kind)
    case._require_owner(part, cmd.actor)
    _require_text(cmd.reason, "reason-required", "a reason for declining")
    # The part stays with the declining force, in DECLINED, until the co-ordinating force
    # re-assigns it: it always has exactly one owner.
    case._move(part, cmd, PartAction.DECLINE, note=cmd.reason)
    return [case._event(event, cmd, part, reason=cmd.reason)]


def _reassign(
    case: Case,
    cmd: c.ReassignEnquiry | c.ReassignDisclosureDelivery,
    kind: PartKind,
    event: type[e.EnquiryReassigned] | type[e.DisclosureReassigned],
) -> list[e.DomainEvent]:
    case._require_coordinating(cmd.actor, "re-assign a part")
    part = case.part(cmd.part_id)
    case._require_kind(part, kind)
    _police_force(cmd.to_force)
    _require_text(cmd.reason, "reason-required", "a reason for re-assigning")
    if kind is PartKind.ENQUIRY and cmd.to_force == case.coordinating_force:
        raise rule_violation(
            "an enquiry is for a force other than the co-ordinating force; correct the "
            "party's home force instead",
            "enquiry-not-cross-force",
        )
    from_force = part.owner
    case._move(part, cmd, PartAction.REASSIGN, to_owner=cmd.to_force, note=cmd.reason)
    return [
        case._event(
            event, cmd, part, from_force=from_force, to_force=cmd.to_force, reason=cmd.reason
        )
    ]


def _check_items(
    case: Case, items: Iterable[DisclosableItem], force: str, ctx: DomainContext
) -> tuple[str, ...]:
    """Apply the spent-convictions policy (§9 item 5); returns warnings."""
    if not any(item.spent_conviction for item in items):
        return ()
    if case._spent_policy(force, ctx) is SpentConvictionPolicy.EXCLUDE:
        raise rule_violation(
            "spent convictions may not be passed on here (003 §9.4)", "spent-conviction"
        )
    return ("spent-conviction-disclosed-with-care",)


def _record_result(
    case: Case, cmd: c.RecordEnquiryResult, ctx: DomainContext
) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id)
    case._require_kind(part, PartKind.ENQUIRY)
    # Only the force the enquiry was assigned to may send its result.
    case._require_owner(part, cmd.actor)
    target(part.kind, part.status, PartAction.RECORD_RESULT)
    if (
        cmd.concern
        and _is_scottish(part.owner)
        and not case._scottish_stages_skippable()
        and not _dmf_decided(case, part.party_id)
    ):
        # DSDAS: concern / no concern is the DMF's decision for a Scottish party [003 §9.8].
        raise rule_violation(
            "a concern about a Scottish party needs a DMF decision first", "dmf-decision-required"
        )
    _check_items(case, cmd.items, part.owner, ctx)
    part.concern = cmd.concern
    part.summary = cmd.summary
    case._move(part, cmd, PartAction.RECORD_RESULT)
    return [
        case._event(
            e.EnquiryResultRecorded,
            cmd,
            part,
            concern=cmd.concern,
            summary=cmd.summary,
            items=cmd.items,
        )
    ]


def _dmf_decided(case: Case, party_id: str | None) -> bool:
    return any(
        p.kind is PartKind.DMF_REFERRAL
        and p.status is PartStatus.COMPLETED
        and (party_id is None or p.party_id == party_id)
        for p in case.parts
    )


def _correct_home_force(
    case: Case, cmd: c.CorrectPartyHomeForce, ctx: DomainContext
) -> list[e.DomainEvent]:
    case._require_coordinating(cmd.actor, "correct a party's home force")
    party = case.party(cmd.party_id)
    _police_force(cmd.home_force)
    _require_text(cmd.reason, "reason-required", "a reason for the correction")
    if cmd.home_force == party.home_force:
        raise rule_violation(f"{party.party_id} already lives in {party.home_force}", "unchanged")
    if party.is_applicant and cmd.home_force != case.coordinating_force:
        # The co-ordinating force is where the applicant lives [§3.10.3]: hand it over.
        raise rule_violation(
            "the applicant has moved: request a co-ordination transfer",
            "applicant-moves-by-coordination-transfer",
        )
    events: list[e.DomainEvent] = [
        case._event(
            e.PartyHomeForceCorrected,
            cmd,
            party_id=party.party_id,
            from_force=party.home_force,
            to_force=cmd.home_force,
            reason=cmd.reason,
        )
    ]
    case._replace_party(replace(party, home_force=cmd.home_force))
    for part in case.open_parts():
        if part.party_id != party.party_id:
            continue
        if part.kind is PartKind.ENQUIRY and cmd.home_force == case.coordinating_force:
            case._move(part, cmd, PartAction.CANCEL, note=cmd.reason)
            events.append(
                case._event(e.PartCancelled, cmd, part, kind=part.kind, reason=cmd.reason)
            )
        elif part.kind in (PartKind.ENQUIRY, PartKind.DISCLOSURE_DELIVERY):
            if part.status is PartStatus.UNDERTAKING_REFUSED:
                continue  # awaits its proceed-or-withhold decision first
            from_force = part.owner
            case._move(part, cmd, PartAction.REASSIGN, to_owner=cmd.home_force, note=cmd.reason)
            cls: type[e.EnquiryReassigned] | type[e.DisclosureReassigned] = (
                e.EnquiryReassigned if part.kind is PartKind.ENQUIRY else e.DisclosureReassigned
            )
            events.append(
                case._event(
                    cls,
                    cmd,
                    part,
                    from_force=from_force,
                    to_force=cmd.home_force,
                    reason=cmd.reason,
                )
            )
    return events


def _request_transfer(
    case: Case, cmd: c.RequestCoordinationTransfer, ctx: DomainContext
) -> list[e.DomainEvent]:
    case._require_coordinating(cmd.actor, "hand over co-ordination")
    if case.pending_transfer is not None:
        raise invalid_transition(
            f"a transfer to {case.pending_transfer.to_force} is already pending",
            "transfer-already-pending",
        )
    _police_force(cmd.to_force)
    if cmd.to_force == case.coordinating_force:
        raise rule_violation(f"{cmd.to_force} already co-ordinates", "already-coordinating")
    _require_text(cmd.reason, "reason-required", "a reason for the transfer")
    case.pending_transfer = CoordinationTransfer(
        from_force=case.coordinating_force,
        to_force=cmd.to_force,
        reason=cmd.reason,
        requested_by=cmd.actor,
        requested_at=cmd.at,
    )
    return [
        case._event(
            e.CoordinationTransferRequested,
            cmd,
            from_force=case.coordinating_force,
            to_force=cmd.to_force,
            reason=cmd.reason,
        )
    ]


def _pending_for(case: Case, actor: str) -> CoordinationTransfer:
    pending = case.pending_transfer
    if pending is None:
        raise invalid_transition("no co-ordination transfer is pending", "no-transfer-pending")
    if actor != pending.to_force:
        raise not_authorised(
            f"only {pending.to_force} may answer this transfer", "not-transfer-target"
        )
    return pending


def _accept_transfer(
    case: Case, cmd: c.AcceptCoordinationTransfer, ctx: DomainContext
) -> list[e.DomainEvent]:
    pending = _pending_for(case, cmd.actor)
    old, new = pending.from_force, pending.to_force
    case.coordination_history.append(
        replace(pending, outcome=TransferOutcome.ACCEPTED, decided_at=cmd.at)
    )
    case.pending_transfer = None
    # From here the old force has no co-ordinating authority: every check reads this field.
    case.coordinating_force = new
    case.jurisdiction = force_of(new).jurisdiction
    applicant = case.applicant()
    if applicant is not None:
        case._replace_party(replace(applicant, home_force=new))
    events: list[e.DomainEvent] = [
        case._event(e.CoordinationTransferAccepted, cmd, from_force=old, to_force=new)
    ]
    for part in case.open_parts():
        if part.owner != old:
            continue
        if part.kind in (
            PartKind.APPLICANT_LIAISON,
            PartKind.INTELLIGENCE_SUBMISSION,
            PartKind.NON_DISCLOSURE_NOTIFICATION,
        ):
            case._move(part, cmd, PartAction.TRANSFER_COORDINATION, to_owner=new)
        elif (
            part.kind is PartKind.DISCLOSURE_DELIVERY
            and applicant is not None
            and part.party_id == applicant.party_id
            and part.status is not PartStatus.UNDERTAKING_REFUSED
        ):
            # The applicant's new home force makes any disclosure to them [§3.10.5].
            case._move(part, cmd, PartAction.REASSIGN, to_owner=new, note="applicant moved")
            events.append(
                case._event(
                    e.DisclosureReassigned,
                    cmd,
                    part,
                    from_force=old,
                    to_force=new,
                    reason="applicant moved",
                )
            )
    return events


def _decline_transfer(
    case: Case, cmd: c.DeclineCoordinationTransfer, ctx: DomainContext
) -> list[e.DomainEvent]:
    pending = _pending_for(case, cmd.actor)
    _require_text(cmd.reason, "reason-required", "a reason for declining")
    case.coordination_history.append(
        replace(
            pending,
            outcome=TransferOutcome.DECLINED,
            decided_at=cmd.at,
            decline_reason=cmd.reason,
        )
    )
    case.pending_transfer = None
    return [
        case._event(
            e.CoordinationTransferDeclined,
            cmd,
            from_force=pending.from_force,
            to_force=pending.to_force,
            reason=cmd.reason,
        )
    ]


def _require_participant(case: Case, actor: str) -> None:
    if actor not in case.participants():
        raise not_authorised(f"{actor} has no part in case {case.case_ref}", "not-a-participant")


def _raise_immediate_risk(
    case: Case, cmd: c.RaiseImmediateRisk, ctx: DomainContext
) -> list[e.DomainEvent]:
    # §4 item 3: any participant, at any stage; it pre-empts but does not end the case.
    _require_participant(case, cmd.actor)
    _require_text(cmd.summary, "summary-required", "a summary of the risk")
    part = case.part(cmd.part_id) if cmd.part_id is not None else None
    case.priority = True
    case.immediate_risks.append(RiskFlag(cmd.actor, cmd.at, cmd.summary, cmd.part_id))
    return [case._event(e.ImmediateRiskRaised, cmd, part, priority=True, summary=cmd.summary)]


def _link_crime(case: Case, cmd: c.LinkCrime, ctx: DomainContext) -> list[e.DomainEvent]:
    # §4 item 2: the crime is investigated alongside; the case carries on.
    _require_participant(case, cmd.actor)
    _require_text(cmd.crime_reference, "crime-reference-required", "a crime reference")
    _police_force(cmd.investigating_force)
    case.linked_crimes.append(
        LinkedCrime(cmd.crime_reference, cmd.investigating_force, cmd.actor, cmd.at)
    )
    return [
        case._event(
            e.CrimeLinked,
            cmd,
            crime_reference=cmd.crime_reference,
            investigating_force=cmd.investigating_force,
        )
    ]


def _refer_to_dmf(case: Case, cmd: c.ReferToDmf, ctx: DomainContext) -> list[e.DomainEvent]:
    if cmd.actor != POLICE_SCOTLAND:
        raise not_authorised("only Police Scotland refers to a DMF", "not-police-scotland")
    party = case.party(cmd.party_id)
    enquiry = next(
        (
            p
            for p in case.parts
            if p.kind is PartKind.ENQUIRY
            and p.party_id == party.party_id
            and p.owner == cmd.actor
            and p.status is PartStatus.IN_PROGRESS
        ),
        None,
    )
    if cmd.actor != case.coordinating_force and enquiry is None:
        raise not_authorised(
            f"Police Scotland holds no open enquiry for {party.party_id}", "no-scottish-part"
        )
    if not _is_scottish(party.home_force):
        raise rule_violation(f"{party.party_id} does not live in Scotland", "not-a-scottish-party")
    dmf = force_of(cmd.dmf)
    if dmf.kind is not ParticipantKind.DMF:
        raise rule_violation(f"{cmd.dmf} is not a DMF", "not-a-dmf")
    if party.division is not None and cmd.dmf != f"{POLICE_SCOTLAND}_{party.division}":
        # 003 §9.11: one DMF per local policing division.
        raise rule_violation(
            f"{party.party_id} is in division {party.division}; refer to "
            f"{POLICE_SCOTLAND}_{party.division}",
            "wrong-dmf",
        )
    if any(item.spent_conviction for item in cmd.items):
        # 003 §9.4: spent convictions must not reach the DMF.
        raise rule_violation("spent convictions must not reach the DMF", "spent-conviction-to-dmf")
    if any(
        p.kind is PartKind.DMF_REFERRAL and p.party_id == party.party_id and p.is_open
        for p in case.parts
    ):
        raise rule_violation(
            f"a DMF referral for {party.party_id} is already open", "dmf-referral-already-open"
        )
    if cmd.due_at is not None:
        _require_aware(cmd.due_at)
    part = case._new_part(
        cmd,
        PartKind.DMF_REFERRAL,
        cmd.dmf,
        PartAction.REFER_TO_DMF,
        party_id=party.party_id,
        due_at=cmd.due_at,
        parent_part_id=enquiry.part_id if enquiry else None,
        referred_by=cmd.actor,
    )
    return [
        case._event(
            e.DmfReferred,
            cmd,
            part,
            party_id=party.party_id,
            dmf=cmd.dmf,
            referred_by=cmd.actor,
            items=cmd.items,
            due_at=cmd.due_at,
        )
    ]


def _record_dmf_decision(
    case: Case, cmd: c.RecordDmfDecision, ctx: DomainContext
) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id)
    case._require_kind(part, PartKind.DMF_REFERRAL)
    case._require_owner(part, cmd.actor)
    target(part.kind, part.status, PartAction.RECORD_DMF_DECISION)
    check_dmf_composition(cmd.bodies, cmd.chair)
    _require_text(cmd.rationale, "rationale-required", "a rationale")
    if cmd.recommend_disclosure and not cmd.concern:
        raise rule_violation("disclosure needs a concern", "disclose-without-concern")
    part.concern = cmd.concern
    part.recommend_disclosure = cmd.recommend_disclosure
    part.summary = cmd.rationale
    case._move(part, cmd, PartAction.RECORD_DMF_DECISION)
    return [
        case._event(
            e.DmfDecisionRecorded,
            cmd,
            part,
            referred_by=part.referred_by or POLICE_SCOTLAND,
            concern=cmd.concern,
            recommend_disclosure=cmd.recommend_disclosure,
            rationale=cmd.rationale,
        )
    ]


def _record_decision(case: Case, cmd: c.RecordDecision, ctx: DomainContext) -> list[e.DomainEvent]:
    # The police make the final decision [001 Annex A, ¶71]; the co-ordinating force owns it.
    case._require_coordinating(cmd.actor, "record the decision")
    if case.decision is not None:
        raise invalid_transition("the decision is already recorded", "decision-already-recorded")
    _require_text(cmd.rationale, "rationale-required", "a rationale")
    if cmd.inform_b and not cmd.disclose:
        # §4 item 9: B is never told when nothing is disclosed.
        raise rule_violation(
            "B is never told when nothing is disclosed", "inform-b-without-disclosure"
        )
    if cmd.disclose and not cmd.concern:
        raise rule_violation("disclosure needs a concern", "disclose-without-concern")
    if any(p.kind is PartKind.DMF_REFERRAL and p.is_open for p in case.parts):
        raise rule_violation("a DMF decision is still awaited", "dmf-decision-pending")
    applicant = case.applicant()
    warnings: list[str] = []
    recipient: Party | None = None
    if cmd.disclose:
        if applicant is not None and (applicant.anonymous or case.disclosure_barred):
            # §4 item 4: anonymous applicant, no disclosure; intelligence route instead.
            raise rule_violation("no disclosure for an anonymous applicant", "anonymous-applicant")
        if applicant is not None and not applicant.identity_verified:
            raise rule_violation(
                "no disclosure before the applicant's identity is verified",
                "identity-not-verified",
            )
        if cmd.recipient_party_id is None:
            raise rule_violation("a disclosure needs a recipient", "recipient-required")
        recipient = case.party(cmd.recipient_party_id)
        if recipient.role is PartyRole.B:
            raise rule_violation("B is not a disclosure recipient", "recipient-is-subject")
        if (
            case.jurisdiction is Jurisdiction.SCOTLAND
            and not case._scottish_stages_skippable()
            and not any(
                p.kind is PartKind.DMF_REFERRAL and p.recommend_disclosure for p in case.parts
            )
        ):
            # 003 §5.4, §9.8: the DMF recommends disclosure; Police Scotland discloses.
            raise rule_violation(
                "a Scottish disclosure needs a DMF recommendation", "dmf-decision-required"
            )
        warnings += _check_items(case, cmd.items, case.coordinating_force, ctx)
    if case.jurisdiction is Jurisdiction.ENGLAND_WALES:
        warnings += forum_warnings(
            cmd.bodies,
            children_involved=any(p.role is PartyRole.CHILD for p in case.parties),
            childrens_social_care_required=ctx.settings.childrens_social_care_required_at_forum,
        )
    case.decision = Decision(
        decided_by=cmd.actor,
        decided_at=cmd.at,
        concern=cmd.concern,
        disclose=cmd.disclose,
        rationale=cmd.rationale,
        recipient_party_id=cmd.recipient_party_id if cmd.disclose else None,
        inform_b=cmd.inform_b,
        seek_representations=cmd.seek_representations,
        mappa_iom_referral=cmd.mappa_iom_referral,
        forum=cmd.forum,
        bodies=cmd.bodies,
        items=cmd.items,
        warnings=tuple(warnings),
    )
    events: list[e.DomainEvent] = [
        case._event(
            e.DecisionRecorded,
            cmd,
            concern=cmd.concern,
            disclose=cmd.disclose,
            recipient_party_id=case.decision.recipient_party_id,
            inform_b=cmd.inform_b,
            warnings=tuple(warnings),
        )
    ]
    if recipient is not None:
        events.append(_hand_off(case, cmd, recipient, applicant, ctx))
    elif case.route is Route.RIGHT_TO_ASK and applicant is not None and not applicant.anonymous:
        # §4 item 11: the applicant is told in person that there is nothing to disclose.
        part = case._new_part(
            cmd,
            PartKind.NON_DISCLOSURE_NOTIFICATION,
            case.coordinating_force,
            PartAction.OPEN_NON_DISCLOSURE,
            party_id=applicant.party_id,
        )
        events.append(
            case._event(e.NonDisclosureNotificationOpened, cmd, part, party_id=applicant.party_id)
        )
    if (
        cmd.concern
        and applicant is not None
        and not applicant.identity_verified
        and not any(p.kind is PartKind.INTELLIGENCE_SUBMISSION for p in case.parts)
    ):
        # §4 item 4: concerns about an unverified applicant's B become intelligence.
        part = case._new_part(
            cmd,
            PartKind.INTELLIGENCE_SUBMISSION,
            case.coordinating_force,
            PartAction.OPEN_INTELLIGENCE_ROUTE,
            note="identity not verified",
        )
        events.append(
            case._event(
                e.IntelligenceRouteOpened,
                cmd,
                part,
                reason="identity not verified",
                power_to_tell=case.jurisdiction is Jurisdiction.SCOTLAND,
            )
        )
    return events


def _hand_off(
    case: Case,
    cmd: c.RecordDecision,
    recipient: Party,
    applicant: Party | None,
    ctx: DomainContext,
) -> e.DomainEvent:
    """Give the disclosure to the recipient's home force; oversight stays put [§3.10.5-6]."""
    applicant_is_recipient = applicant is not None and recipient.party_id == applicant.party_id
    if applicant_is_recipient:
        owner = case.coordinating_force
    else:
        owner = ctx.resolve_home_force(recipient) or recipient.home_force
        _police_force(owner)
    action = PartAction.DELIVER_OWN if owner == case.coordinating_force else PartAction.HAND_OFF
    if cmd.delivery_due_at is not None:
        _require_aware(cmd.delivery_due_at)
    part = case._new_part(
        cmd,
        PartKind.DISCLOSURE_DELIVERY,
        owner,
        action,
        party_id=recipient.party_id,
        due_at=cmd.delivery_due_at,
    )
    return case._event(
        e.DisclosureHandedOff,
        cmd,
        part,
        recipient_party_id=recipient.party_id,
        to_force=owner,
        oversight_force=case.coordinating_force,
        applicant_is_recipient=applicant_is_recipient,
        due_at=cmd.delivery_due_at,
    )


def _delivery_part(case: Case, part_id: str) -> PartOfJob:
    part = case.part(part_id)
    case._require_kind(part, PartKind.DISCLOSURE_DELIVERY)
    return part


def _informed_dmfs(case: Case, part: PartOfJob) -> tuple[str, ...]:
    # 003 §10.3: in Scotland the DMF is told and reconsiders.
    if _is_scottish(part.owner) or case.jurisdiction is Jurisdiction.SCOTLAND:
        return case.dmf_forces()
    return ()


def _undertaking_refused(
    case: Case, cmd: c.RecordUndertakingRefused, ctx: DomainContext
) -> list[e.DomainEvent]:
    part = _delivery_part(case, cmd.part_id)
    case._require_owner(part, cmd.actor)
    case._move(part, cmd, PartAction.REFUSE_UNDERTAKING, note=cmd.note)
    return [case._event(e.UndertakingRefused, cmd, part, dmfs_informed=_informed_dmfs(case, part))]


def _undertaking_decision(
    case: Case, cmd: c.RecordUndertakingDecision, ctx: DomainContext
) -> list[e.DomainEvent]:
    # §4 item 10: a recorded decision to proceed or withhold [001 ¶86].
    part = _delivery_part(case, cmd.part_id)
    if cmd.actor not in (part.owner, case.coordinating_force):
        raise not_authorised(
            "the delivering or co-ordinating force records this decision", "not-part-owner"
        )
    _require_text(cmd.rationale, "rationale-required", "a rationale")
    action = PartAction.PROCEED if cmd.proceed else PartAction.WITHHOLD
    case._move(part, cmd, action, note=cmd.rationale)
    return [
        case._event(
            e.UndertakingDecisionRecorded,
            cmd,
            part,
            proceed=cmd.proceed,
            rationale=cmd.rationale,
            dmfs_informed=_informed_dmfs(case, part),
        )
    ]


def _disclosure_delivered(
    case: Case, cmd: c.RecordDisclosureDelivered, ctx: DomainContext
) -> list[e.DomainEvent]:
    part = _delivery_part(case, cmd.part_id)
    case._require_owner(part, cmd.actor)
    target(part.kind, part.status, PartAction.RECORD_DELIVERED)
    if cmd.method is DeliveryMethod.LETTER:
        # 001 ¶87; 003 §10.4-10.5: never given in writing.
        raise rule_violation("a disclosure is never given in writing", "no-written-disclosure")
    if cmd.method is not DeliveryMethod.IN_PERSON and _is_scottish(part.owner):
        raise rule_violation("in Scotland a disclosure is made in person", "in-person-only")
    if not cmd.wording_recorded:
        raise rule_violation(
            "the words disclosed must be recorded verbatim", "wording-not-recorded"
        )
    case._move(part, cmd, PartAction.RECORD_DELIVERED)
    return [
        case._event(
            e.DisclosureDelivered,
            cmd,
            part,
            recipient_party_id=part.party_id or "",
            method=cmd.method,
        )
    ]


def _notify_non_disclosure(
    case: Case, cmd: c.NotifyNonDisclosure, ctx: DomainContext
) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id)
    case._require_kind(part, PartKind.NON_DISCLOSURE_NOTIFICATION)
    case._require_owner(part, cmd.actor)
    target(part.kind, part.status, PartAction.NOTIFY_NON_DISCLOSURE)
    if cmd.method is DeliveryMethod.LETTER and not ctx.settings.non_disclosure_letter_allowed:
        # CONFLICT §9 item 8: no written correspondence by default [001 ¶89(b)(iv)].
        raise rule_violation(
            "no written correspondence to the applicant", "no-written-correspondence"
        )
    case._move(part, cmd, PartAction.NOTIFY_NON_DISCLOSURE)
    return [case._event(e.NonDisclosureNotified, cmd, part, method=cmd.method)]


def _notify_delay(case: Case, cmd: c.NotifyDelay, ctx: DomainContext) -> list[e.DomainEvent]:
    part = case.part(cmd.part_id) if cmd.part_id is not None else None
    allowed = {case.coordinating_force} | ({part.owner} if part else set())
    if cmd.actor not in allowed:
        raise not_authorised(
            "a delay is notified by the part's owner or the co-ordinating force", "not-part-owner"
        )
    _require_text(cmd.reason, "reason-required", "a reason for the delay")
    if cmd.expected_by is not None:
        _require_aware(cmd.expected_by)
    return [case._event(e.DelayNotified, cmd, part, reason=cmd.reason, expected_by=cmd.expected_by)]


def _mark_malicious(
    case: Case, cmd: c.MarkMaliciousApplication, ctx: DomainContext
) -> list[e.DomainEvent]:
    case._require_coordinating(cmd.actor, "mark an application as malicious")
    # 003 §8.11: the evidence is documented.
    _require_text(cmd.evidence, "evidence-required", "the evidence")
    subject = case.subject()
    key = cmd.subject_key or (subject.subject_key if subject else None)
    if not key:
        raise rule_violation("no subject key to hold the marker against", "subject-key-required")
    case.markers_set.append(MaliciousMarker(key, case.case_ref, cmd.actor, cmd.at, cmd.evidence))
    return [case._event(e.MaliciousApplicationMarked, cmd, subject_key=key, evidence=cmd.evidence)]


def _submit_intelligence(
    case: Case, cmd: c.SubmitIntelligence, ctx: DomainContext
) -> list[e.DomainEvent]:
    open_part = next(
        (p for p in case.open_parts() if p.kind is PartKind.INTELLIGENCE_SUBMISSION), None
    )
    if ctx.settings.coordinating_force_files_intelligence or open_part is None:
        submitter = case.coordinating_force  # §1.2 gap; default the co-ordinating force
    else:
        submitter = open_part.owner
    if cmd.actor != submitter:
        raise not_authorised(
            f"the intelligence report is filed by {submitter}", "not-the-submitter"
        )
    _require_text(cmd.summary, "summary-required", "a summary")
    if open_part is None and any(p.kind is PartKind.INTELLIGENCE_SUBMISSION for p in case.parts):
        raise invalid_transition(
            "the intelligence submission is already filed", "intelligence-already-submitted"
        )
    if open_part is not None:
        if open_part.owner != submitter:
            case._move(open_part, cmd, PartAction.TRANSFER_COORDINATION, to_owner=submitter)
        case._move(open_part, cmd, PartAction.SUBMIT_INTELLIGENCE)
        part = open_part
    else:
        part = case._new_part(
            cmd, PartKind.INTELLIGENCE_SUBMISSION, submitter, PartAction.SUBMIT_INTELLIGENCE
        )
    part.summary = cmd.summary
    applicant = case.applicant()
    return [
        case._event(
            e.IntelligenceSubmitted,
            cmd,
            part,
            submitted_by=cmd.actor,
            summary=cmd.summary,
            outcome_summary=cmd.outcome,
            route=case.route,
            third_party_requester=applicant is not None and applicant.role is PartyRole.C,
        )
    ]


def _close_case(case: Case, cmd: c.CloseCase, ctx: DomainContext) -> list[e.DomainEvent]:
    case._require_coordinating(cmd.actor, "close the case")
    _require_text(cmd.reason, "reason-required", "a reason for closing")
    events: list[e.DomainEvent] = []
    if cmd.intelligence is not None:
        if cmd.intelligence.case_ref != case.case_ref:
            raise DomainRefusal(
                ReasonCode.UNKNOWN_CASE,
                "intelligence is for another case",
                rule="case-ref-mismatch",
            )
        events += _submit_intelligence(case, cmd.intelligence, ctx)
    if not any(
        p.kind is PartKind.INTELLIGENCE_SUBMISSION and p.status is PartStatus.COMPLETED
        for p in case.parts
    ):
        # §4 item 12; 001 ¶92: every closure produces a final intelligence report.
        raise rule_violation(
            "closing needs the final intelligence submission", "intelligence-submission-required"
        )
    for part in case.open_parts():
        if part.kind is PartKind.APPLICANT_LIAISON:
            case._move(part, cmd, PartAction.CLOSE_CASE)
        else:
            case._move(part, cmd, PartAction.CANCEL, note="case closed")
            events.append(
                case._event(e.PartCancelled, cmd, part, kind=part.kind, reason="case closed")
            )
    case.pending_transfer = None
    case.status = CaseStatus.CLOSED
    case.closed_at = cmd.at
    case.closure_reason = cmd.reason
    events.append(case._event(e.CaseClosed, cmd, reason=cmd.reason))
    return events


_Handler = Callable[[Case, Any, DomainContext], list[e.DomainEvent]]

_HANDLERS: dict[type[c.Command], _Handler] = {
    c.VerifyApplicantIdentity: _verify_identity,
    c.RequestEnquiry: _request_enquiry,
    c.AcknowledgeEnquiry: lambda case, cmd, ctx: _acknowledge(
        case, cmd, PartKind.ENQUIRY, e.EnquiryAcknowledged
    ),
    c.DeclineEnquiry: lambda case, cmd, ctx: _decline(
        case, cmd, PartKind.ENQUIRY, e.EnquiryDeclined
    ),
    c.ReassignEnquiry: lambda case, cmd, ctx: _reassign(
        case, cmd, PartKind.ENQUIRY, e.EnquiryReassigned
    ),
    c.RecordEnquiryResult: _record_result,
    c.CorrectPartyHomeForce: _correct_home_force,
    c.RequestCoordinationTransfer: _request_transfer,
    c.AcceptCoordinationTransfer: _accept_transfer,
    c.DeclineCoordinationTransfer: _decline_transfer,
    c.RaiseImmediateRisk: _raise_immediate_risk,
    c.LinkCrime: _link_crime,
    c.ReferToDmf: _refer_to_dmf,
    c.RecordDmfDecision: _record_dmf_decision,
    c.RecordDecision: _record_decision,
    c.AcknowledgeDisclosureHandoff: lambda case, cmd, ctx: _acknowledge(
        case, cmd, PartKind.DISCLOSURE_DELIVERY, e.DisclosureHandoffAcknowledged
    ),
    c.DeclineDisclosureHandoff: lambda case, cmd, ctx: _decline(
        case, cmd, PartKind.DISCLOSURE_DELIVERY, e.DisclosureHandoffDeclined
    ),
    c.ReassignDisclosureDelivery: lambda case, cmd, ctx: _reassign(
        case, cmd, PartKind.DISCLOSURE_DELIVERY, e.DisclosureReassigned
    ),
    c.RecordUndertakingRefused: _undertaking_refused,
    c.RecordUndertakingDecision: _undertaking_decision,
    c.RecordDisclosureDelivered: _disclosure_delivered,
    c.NotifyNonDisclosure: _notify_non_disclosure,
    c.NotifyDelay: _notify_delay,
    c.MarkMaliciousApplication: _mark_malicious,
    c.SubmitIntelligence: _submit_intelligence,
    c.CloseCase: _close_case,
}
