"""What each force may see of a case (domain.md §6: data minimisation).

The co-ordinating force sees every part and party. Any other participant sees only the parts
it owns (or, for Police Scotland, the DMF referrals it made) and the parties those concern.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from broker.domain.case import Case
from broker.domain.errors import not_authorised
from broker.domain.markers import MaliciousMarker
from broker.domain.parties import Party
from broker.domain.parts import PartOfJob
from broker.domain.records import CoordinationTransfer, Decision, LinkedCrime, RiskFlag
from broker.domain.roles import ForceRole
from broker.domain.routes import Route
from broker.domain.transitions import CaseStatus
from contracts.envelope import Jurisdiction


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
    )
