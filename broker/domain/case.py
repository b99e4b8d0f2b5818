"""The Case aggregate: who holds which role, the parts of the job, and their history.

`opening.open_case` creates a case; `Case.handle` applies every other command through the
handlers in `crossforce.broker.domain.handlers`. A refused command
raises `DomainRefusal` and leaves the case exactly as it was; an applied one increments
`version` (optimistic concurrency) and returns the events to deliver.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from pydantic import TypeAdapter

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.checks import is_scottish, require_aware
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import (
    invalid_transition,
    not_authorised,
    rule_violation,
)
from crossforce.broker.domain.markers import MaliciousMarker
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.parts import PartHistoryEntry, PartKind, PartOfJob, PartStatus
from crossforce.broker.domain.records import (
    CoordinationTransfer,
    Decision,
    EscalationAcknowledgement,
    LinkedCrime,
    RiskFlag,
)
from crossforce.broker.domain.roles import ForceRole
from crossforce.broker.domain.routes import RequestType, Route
from crossforce.broker.domain.rules import SpentConvictionPolicy
from crossforce.broker.domain.transitions import CaseStatus, PartAction, target
from crossforce.contracts.envelope import Jurisdiction

SCHEMA_VERSION = 1
_EventT = TypeVar("_EventT", bound=e.DomainEvent)


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
    # Statutory step clocks (crossforce.broker.domain.clocks): when they started and which steps
    # are done.
    initial_contact_at: datetime | None = None
    steps_completed: dict[str, datetime] = field(default_factory=dict)
    # Notices of the escalation ladder their recipients have acknowledged (the ladder itself
    # lives in the hub's deadline rows, not here).
    escalation_acknowledgements: list[EscalationAcknowledgement] = field(default_factory=list)

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

    def is_genuine(self) -> bool:
        return self.request_type is RequestType.GENUINE

    def open_parts(self) -> list[PartOfJob]:
        return [p for p in self.parts if p.is_open]

    def has_open_part(self, kind: PartKind, party_id: str) -> bool:
        """Whether a part of this kind is already open for the party (one at a time)."""
        return any(p.kind is kind and p.party_id == party_id for p in self.open_parts())

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

    # ------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = _adapter().dump_python(self, mode="json")
        return {"schema_version": SCHEMA_VERSION, **body}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        body = {k: v for k, v in data.items() if k != "schema_version"}
        case: Case = _adapter().validate_python(body)
        return case

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

    def awaits_final_report(self, command: c.Command) -> bool:
        """An application routed away at initial contact closes at once, with no timers
        [001 ¶19, ¶34(a)], but its closure still produces the final report [001 ¶92]."""
        return (
            isinstance(command, c.SubmitIntelligence)
            and not self.is_genuine()
            and not any(p.kind is PartKind.INTELLIGENCE_SUBMISSION for p in self.parts)
        )

    def set_part_due(self, part_id: str, due_at: datetime | None) -> None:
        """Store the SLA engine's due time for an open part (the model never computes it)."""
        if due_at is not None:
            require_aware(due_at)
        if self.status is not CaseStatus.OPEN:
            raise invalid_transition(f"case {self.case_ref} is closed", "case-closed")
        part = self.part(part_id)
        if not part.is_open:
            raise invalid_transition(f"part {part_id} is {part.status}", "part-closed")
        part.due_at = due_at
        self.version += 1

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the case's state, to put back if a command is refused."""
        copied: dict[str, Any] = _adapter().dump_python(self)
        return copied

    def restore(self, snapshot: dict[str, Any]) -> None:
        # Only fields a refused command actually changed are replaced, so objects a caller
        # holds (a part, say) stay live in the usual case where nothing was touched.
        before = _adapter().validate_python(snapshot)
        for f in fields(self):
            value = getattr(before, f.name)
            if getattr(self, f.name) != value:
                setattr(self, f.name, value)

    # ----------------------------------------------------------------- helpers

    def emit(
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

    def require_coordinating(self, actor: str, what: str) -> None:
        if actor != self.coordinating_force:
            # §3.10.3, §3.10.7: the co-ordinating force oversees and instructs.
            raise not_authorised(
                f"only the co-ordinating force ({self.coordinating_force}) may {what}",
                "not-coordinating-force",
            )

    def require_owner(self, part: PartOfJob, actor: str) -> None:
        if actor != part.owner:
            raise not_authorised(
                f"part {part.part_id} is owned by {part.owner}, not {actor}", "not-part-owner"
            )

    def require_kind(self, part: PartOfJob, *kinds: PartKind) -> None:
        if part.kind not in kinds:
            raise rule_violation(f"part {part.part_id} is a {part.kind} part", "wrong-part-kind")

    def add_part(
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

    def move_part(
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

    def replace_party(self, party: Party) -> None:
        self.parties = [party if p.party_id == party.party_id else p for p in self.parties]

    def spent_policy(self, force: str, context: DomainContext) -> SpentConvictionPolicy:
        settings = context.settings
        if is_scottish(force):
            return settings.spent_convictions_scotland
        return settings.spent_convictions_england_wales

    def immediate_risk_raised(self) -> bool:
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


@cache
def _adapter() -> TypeAdapter[Case]:
    """Case <-> JSON-compatible dict, compiled once from the type hints: far faster than
    walking the fields in Python on every message."""
    return TypeAdapter(Case)
