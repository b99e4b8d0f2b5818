"""Parts of the job: each has exactly one owner force at a time and a full history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class PartKind(StrEnum):
    APPLICANT_LIAISON = "applicant-liaison"  # always the co-ordinating force [000 §3.10.7]
    ENQUIRY = "enquiry"  # one per party living outside the co-ordinating force [§3.10.4]
    DMF_REFERRAL = "dmf-referral"  # a Scottish party's case at the divisional DMF [003 §9]
    DISCLOSURE_DELIVERY = "disclosure-delivery"  # by the recipient's home force [§3.10.5-6]
    NON_DISCLOSURE_NOTIFICATION = "non-disclosure-notification"  # in person [001 ¶89(b)]
    INTELLIGENCE_SUBMISSION = "intelligence-submission"  # final report [001 ¶92]


class PartStatus(StrEnum):
    REQUESTED = "requested"  # assigned to its owner, awaiting acknowledgement
    IN_PROGRESS = "in-progress"  # the owner has it in hand
    DECLINED = "declined"  # the owner declined; the co-ordinating force must re-assign
    UNDERTAKING_REFUSED = "undertaking-refused"  # awaiting a proceed-or-withhold decision
    COMPLETED = "completed"
    WITHHELD = "withheld"  # disclosure withheld after a refused undertaking
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset(
    {
        PartStatus.REQUESTED,
        PartStatus.IN_PROGRESS,
        PartStatus.DECLINED,
        PartStatus.UNDERTAKING_REFUSED,
    }
)


@dataclass(frozen=True, slots=True)
class PartHistoryEntry:
    """Who did what, when, to one part. Ownership changes show as from_owner != to_owner."""

    at: datetime
    actor: str
    action: str
    from_status: PartStatus | None
    to_status: PartStatus
    from_owner: str | None
    to_owner: str
    note: str = ""


@dataclass(slots=True)
class PartOfJob:
    part_id: str
    kind: PartKind
    owner: str
    status: PartStatus
    created_at: datetime
    party_id: str | None = None
    parent_part_id: str | None = None  # a DMF referral's enquiry, when there is one
    due_at: datetime | None = None  # set by the SLA engine, never by this model
    referred_by: str | None = None  # the force that made a DMF referral
    concern: bool | None = None  # enquiry result or DMF decision
    recommend_disclosure: bool | None = None  # DMF decision
    summary: str = ""
    history: list[PartHistoryEntry] = field(default_factory=list)
    # Who holds the part within its owner force: the force's own reference for an officer or
    # team, with its kind. Cleared whenever the part moves to another force.
    assigned_to: str | None = None
    assignee_kind: str | None = None
    # The co-ordinating force's own id for the enquiry this part answers (one enquiry may ask
    # about several parties, one part each): how later messages name it.
    enquiry_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def ownership_history(self) -> list[PartHistoryEntry]:
        """The entries that created the part or moved it to another force."""
        return [e for e in self.history if e.from_owner is None or e.from_owner != e.to_owner]

    def record(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        to_status: PartStatus,
        to_owner: str | None = None,
        note: str = "",
    ) -> None:
        """Move the part, keeping the history. The owner is always exactly one force."""
        new_owner = self.owner if to_owner is None else to_owner
        self.history.append(
            PartHistoryEntry(
                at=at,
                actor=actor,
                action=action,
                from_status=self.status,
                to_status=to_status,
                from_owner=self.owner,
                to_owner=new_owner,
                note=note,
            )
        )
        self.status = to_status
        if new_owner != self.owner:
            # The officer or team was the old force's: the new owner assigns its own.
            self.assigned_to = None
            self.assignee_kind = None
        self.owner = new_owner
