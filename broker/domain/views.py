"""What each force may see of a case (domain.md §6: data minimisation).

The co-ordinating force sees every part and party. Any other participant sees only the parts
it owns (or, for Police Scotland, the DMF referrals it made) and the parties those concern.

A force that had a role and lost it (a former co-ordinator after a transfer, a responding
force whose enquiry was reassigned) keeps a read-only record of what it handled, as it stood
when the force let go: nothing that happened after is shown (docs/decisions/0021).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from crossforce.broker.domain.case import Case
from crossforce.broker.domain.errors import not_authorised
from crossforce.broker.domain.markers import MaliciousMarker
from crossforce.broker.domain.parties import Party
from crossforce.broker.domain.parts import PartOfJob
from crossforce.broker.domain.records import (
    CoordinationTransfer,
    Decision,
    EscalationAcknowledgement,
    LinkedCrime,
    RiskFlag,
)
from crossforce.broker.domain.roles import ForceRole
from crossforce.broker.domain.routes import Route
from crossforce.broker.domain.transitions import CaseStatus
from crossforce.contracts.envelope import Jurisdiction


@dataclass(frozen=True, slots=True)
class CaseView:
    case_ref: str
    viewer: str
    roles: frozenset[ForceRole]
    status: CaseStatus
    version: int
    receiving_force: str
    coordinating_force: str
    jurisdiction: Jurisdiction
    route: Route
    priority: bool
    parts: tuple[PartOfJob, ...]
    parties: tuple[Party, ...]
    immediate_risks: tuple[RiskFlag, ...]
    decision: Decision | None = None
    pending_transfer: CoordinationTransfer | None = None
    linked_crimes: tuple[LinkedCrime, ...] = ()
    markers_seen: tuple[MaliciousMarker, ...] = ()
    # Acknowledged notices of the escalation ladder: the force's own, and those about parts
    # it may see (the co-ordinating force: all of them).
    escalation_acknowledgements: tuple[EscalationAcknowledgement, ...] = ()
    # A former participant's read-only record: `left_at` is when its last role ended.
    former: bool = False
    left_at: datetime | None = None


class Standing(StrEnum):
    """A force's standing in a case, for lists and pages alike."""

    CURRENT = "current"
    FORMER = "former"
    NONE = "none"


def standing(case: Case, force: str) -> Standing:
    if force in case.participants():
        return Standing.CURRENT
    held = any(entry.to_owner == force for part in case.parts for entry in part.ownership_history())
    moved = any(force in (t.from_force, t.to_force) for t in case.coordination_history)
    referred = any(part.referred_by == force for part in case.parts)
    return Standing.FORMER if held or moved or referred else Standing.NONE


def consultation_view(case: Case, force: str) -> CaseView:
    """What `force` may consult: its current view, its former record, or a refusal."""
    match standing(case, force):
        case Standing.CURRENT:
            return view_for(case, force)
        case Standing.FORMER:
            return former_view_for(case, force)
        case _:
            raise not_authorised(
                f"{force} has no part in case {case.case_ref}", "not-a-participant"
            )


def view_for(case: Case, force: str) -> CaseView:
    if force not in case.participants():
        raise not_authorised(f"{force} has no part in case {case.case_ref}", "not-a-participant")
    coordinating = force == case.coordinating_force
    if coordinating:
        parts = list(case.parts)
        parties = list(case.parties)
    else:
        parts = [p for p in case.parts if p.owner == force or p.referred_by == force]
        party_ids = {p.party_id for p in parts}
        parties = [p for p in case.parties if p.party_id in party_ids]
    pending = case.pending_transfer
    return CaseView(
        case_ref=case.case_ref,
        viewer=force,
        roles=case.roles_of(force),
        status=case.status,
        version=case.version,
        receiving_force=case.receiving_force,
        coordinating_force=case.coordinating_force,
        jurisdiction=case.jurisdiction,
        route=case.route,
        priority=case.priority,
        parts=tuple(copy.deepcopy(parts)),
        parties=tuple(parties),
        immediate_risks=tuple(case.immediate_risks),
        decision=case.decision if coordinating else None,
        pending_transfer=pending
        if pending and force in (pending.from_force, pending.to_force)
        else None,
        linked_crimes=tuple(case.linked_crimes) if coordinating else (),
        markers_seen=tuple(case.markers_seen) if coordinating else (),
        escalation_acknowledgements=tuple(
            a
            for a in case.escalation_acknowledgements
            if coordinating
            or a.acknowledged_by == force
            or any(p.part_id == a.part_id for p in parts)
        ),
    )


def former_view_for(case: Case, force: str) -> CaseView:
    """What `force` handled, each part as it stood when the force let go of it.

    A former co-ordinator oversaw every part until the transfer [000 §3.10.7]; a former owner
    held its own parts until they moved. Nothing after the force let go is shown.
    """
    handed_over = [
        t.decided_at
        for t in case.coordination_history
        if t.from_force == force and t.decided_at is not None
    ]
    oversaw_until = max(handed_over) if handed_over else None
    held: list[PartOfJob] = []
    for part in case.parts:
        cut = _when_left(part, force)
        if oversaw_until is not None:
            cut = max(cut, oversaw_until) if cut is not None else oversaw_until
        if cut is None:
            continue
        as_left = _as_at(part, cut)
        if as_left is not None:
            held.append(as_left)
    if oversaw_until is not None:
        parties = list(case.parties)
    else:
        party_ids = {p.party_id for p in held}
        parties = [p for p in case.parties if p.party_id in party_ids]
    left = [e.at for p in held for e in p.history[-1:]] + handed_over
    return CaseView(
        case_ref=case.case_ref,
        viewer=force,
        roles=frozenset(),
        status=case.status,
        version=case.version,
        receiving_force=case.receiving_force,
        coordinating_force=case.coordinating_force,
        jurisdiction=case.jurisdiction,
        route=case.route,
        priority=False,
        parts=tuple(held),
        parties=tuple(parties),
        immediate_risks=(),
        former=True,
        left_at=max(left) if left else None,
    )


def _when_left(part: PartOfJob, force: str) -> datetime | None:
    """When the part moved away from `force`, if the force ever held it."""
    history = part.history
    start = next((i for i, e in enumerate(history) if e.to_owner == force), None)
    if start is None:
        return None
    moved = next((e.at for e in history[start + 1 :] if e.to_owner != force), None)
    return moved or history[-1].at


def _as_at(part: PartOfJob, cut: datetime) -> PartOfJob | None:
    """The part as its history stood at `cut`; None if it did not exist yet."""
    kept = [e for e in part.history if e.at <= cut]
    if not kept:
        return None
    return replace(
        copy.deepcopy(part),
        owner=kept[-1].to_owner,
        status=kept[-1].to_status,
        due_at=None,
        history=kept,
        # Who holds it within a force is current information, not part of the record.
        assigned_to=None,
        assignee_kind=None,
    )
