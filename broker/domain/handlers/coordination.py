"""Co-ordination handover when the applicant moves force [000 §3.10.3]."""

from __future__ import annotations

from dataclasses import replace

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.checks import force_of, police_force, require_text
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import invalid_transition, not_authorised, rule_violation
from crossforce.broker.domain.parts import PartKind, PartStatus
from crossforce.broker.domain.records import (
    CoordinationTransfer,
    TransferOutcome,
)
from crossforce.broker.domain.transitions import PartAction


def request_transfer(
    case: Case, cmd: c.RequestCoordinationTransfer, ctx: DomainContext
) -> list[e.DomainEvent]:
    case.require_coordinating(cmd.actor, "hand over co-ordination")
    if case.pending_transfer is not None:
        raise invalid_transition(
            f"a transfer to {case.pending_transfer.to_force} is already pending",
            "transfer-already-pending",
        )
    police_force(cmd.to_force)
    if cmd.to_force == case.coordinating_force:
        raise rule_violation(f"{cmd.to_force} already co-ordinates", "already-coordinating")
    require_text(cmd.reason, "reason-required", "a reason for the transfer")
    if cmd.transfer_id and any(t.transfer_id == cmd.transfer_id for t in case.coordination_history):
        # Answers are matched by id, so an id names one request for the life of the case.
        raise rule_violation(
            f"transfer {cmd.transfer_id} was already requested and answered", "transfer-id-reused"
        )
    case.pending_transfer = CoordinationTransfer(
        from_force=case.coordinating_force,
        to_force=cmd.to_force,
        reason=cmd.reason,
        requested_by=cmd.actor,
        requested_at=cmd.at,
        transfer_id=cmd.transfer_id,
    )
    return [
        case.emit(
            e.CoordinationTransferRequested,
            cmd,
            from_force=case.coordinating_force,
            to_force=cmd.to_force,
            reason=cmd.reason,
        )
    ]


def _pending_for(case: Case, actor: str, transfer_id: str) -> CoordinationTransfer:
    pending = case.pending_transfer
    if pending is None:
        raise invalid_transition("no co-ordination transfer is pending", "no-transfer-pending")
    if actor != pending.to_force:
        raise not_authorised(
            f"only {pending.to_force} may answer this transfer", "not-transfer-target"
        )
    if transfer_id and pending.transfer_id and transfer_id != pending.transfer_id:
        # An answer to a request that is not the open one (an old, or mistyped, id) must not
        # move co-ordination.
        raise rule_violation(
            f"transfer {transfer_id} is not the open request ({pending.transfer_id})",
            "unknown-transfer",
        )
    return pending


def accept_transfer(
    case: Case, cmd: c.AcceptCoordinationTransfer, ctx: DomainContext
) -> list[e.DomainEvent]:
    pending = _pending_for(case, cmd.actor, cmd.transfer_id)
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
        case.replace_party(replace(applicant, home_force=new))
    events: list[e.DomainEvent] = [
        case.emit(e.CoordinationTransferAccepted, cmd, from_force=old, to_force=new)
    ]
    for part in case.open_parts():
        if part.owner != old:
            continue
        if part.kind in (
            PartKind.APPLICANT_LIAISON,
            PartKind.INTELLIGENCE_SUBMISSION,
            PartKind.NON_DISCLOSURE_NOTIFICATION,
        ):
            case.move_part(part, cmd, PartAction.TRANSFER_COORDINATION, to_owner=new)
        elif (
            part.kind is PartKind.DISCLOSURE_DELIVERY
            and applicant is not None
            and part.party_id == applicant.party_id
            and part.status is not PartStatus.UNDERTAKING_REFUSED
        ):
            # The applicant's new home force makes any disclosure to them [§3.10.5].
            case.move_part(part, cmd, PartAction.REASSIGN, to_owner=new, note="applicant moved")
            events.append(
                case.emit(
                    e.DisclosureReassigned,
                    cmd,
                    part,
                    from_force=old,
                    to_force=new,
                    reason="applicant moved",
                )
            )
    return events


def decline_transfer(
    case: Case, cmd: c.DeclineCoordinationTransfer, ctx: DomainContext
) -> list[e.DomainEvent]:
    pending = _pending_for(case, cmd.actor, cmd.transfer_id)
    require_text(cmd.reason, "reason-required", "a reason for declining")
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
        case.emit(
            e.CoordinationTransferDeclined,
            cmd,
            from_force=pending.from_force,
            to_force=pending.to_force,
            reason=cmd.reason,
        )
    ]
