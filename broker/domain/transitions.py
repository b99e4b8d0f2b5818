"""The state machines of parts and of the case, as data.

`python -m crossforce.broker.domain.transitions > docs/state-model.md` renders them as Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from crossforce.broker.domain.errors import invalid_transition
from crossforce.broker.domain.parts import PartKind, PartStatus


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PartAction(StrEnum):
    OPEN_CASE = "open-case"
    TRANSFER_COORDINATION = "transfer-coordination"
    CLOSE_CASE = "close-case"
    REQUEST_ENQUIRY = "request-enquiry"
    ACKNOWLEDGE = "acknowledge"
    DECLINE = "decline"
    REASSIGN = "reassign"
    RECORD_RESULT = "record-result"
    REFER_TO_DMF = "refer-to-dmf"
    RECORD_DMF_DECISION = "record-dmf-decision"
    RECONSIDER = "reconsider-after-refusal"
    HAND_OFF = "hand-off"
    DELIVER_OWN = "deliver-own"
    REFUSE_UNDERTAKING = "refuse-undertaking"
    PROCEED = "proceed-after-refusal"
    WITHHOLD = "withhold-after-refusal"
    RECORD_DELIVERED = "record-delivered"
    OPEN_NON_DISCLOSURE = "open-non-disclosure"
    NOTIFY_NON_DISCLOSURE = "notify-non-disclosure"
    OPEN_INTELLIGENCE_ROUTE = "open-intelligence-route"
    SUBMIT_INTELLIGENCE = "submit-intelligence"
    CANCEL = "cancel"
    EXTEND_DEADLINE = "extend-deadline"
    CHASE = "chase"
    REASSIGN_WITHIN_FORCE = "reassign-within-force"


@dataclass(frozen=True, slots=True)
class Transition:
    kind: PartKind
    source: PartStatus | None  # None: the part is created by this action
    action: PartAction
    target: PartStatus
    who: str
    why: str = ""


@dataclass(frozen=True, slots=True)
class CaseTransition:
    source: CaseStatus | None
    action: str
    target: CaseStatus
    who: str
    why: str = ""


_K = PartKind
_S = PartStatus
_A = PartAction
_COORD = "co-ordinating force"
_OWNER = "owner"

PART_TRANSITIONS: tuple[Transition, ...] = (
    # Applicant liaison: always the co-ordinating force [000 §3.10.7].
    Transition(
        _K.APPLICANT_LIAISON, None, _A.OPEN_CASE, _S.IN_PROGRESS, "receiving or co-ordinating force"
    ),
    Transition(
        _K.APPLICANT_LIAISON,
        _S.IN_PROGRESS,
        _A.TRANSFER_COORDINATION,
        _S.IN_PROGRESS,
        "new co-ordinating force (accepting)",
        "owner moves with co-ordination",
    ),
    Transition(_K.APPLICANT_LIAISON, _S.IN_PROGRESS, _A.CLOSE_CASE, _S.COMPLETED, _COORD),
    # Enquiry for a party living outside the co-ordinating force [000 §3.10.4, §3.10.8].
    Transition(
        _K.ENQUIRY,
        None,
        _A.REQUEST_ENQUIRY,
        _S.REQUESTED,
        _COORD,
        "owned by the party's home force",
    ),
    Transition(_K.ENQUIRY, _S.REQUESTED, _A.ACKNOWLEDGE, _S.IN_PROGRESS, _OWNER),
    Transition(_K.ENQUIRY, _S.REQUESTED, _A.DECLINE, _S.DECLINED, _OWNER, "reason required"),
    Transition(_K.ENQUIRY, _S.IN_PROGRESS, _A.DECLINE, _S.DECLINED, _OWNER, "reason required"),
    Transition(
        _K.ENQUIRY,
        _S.DECLINED,
        _A.REASSIGN,
        _S.REQUESTED,
        _COORD,
        "the co-ordinating force must re-assign",
    ),
    Transition(
        _K.ENQUIRY, _S.REQUESTED, _A.REASSIGN, _S.REQUESTED, _COORD, "party's home force corrected"
    ),
    Transition(
        _K.ENQUIRY,
        _S.IN_PROGRESS,
        _A.REASSIGN,
        _S.REQUESTED,
        _COORD,
        "party's home force corrected",
    ),
    Transition(_K.ENQUIRY, _S.IN_PROGRESS, _A.RECORD_RESULT, _S.COMPLETED, _OWNER),
    Transition(
        _K.ENQUIRY,
        _S.REQUESTED,
        _A.CANCEL,
        _S.CANCELLED,
        _COORD,
        "case closed, or party lives in the co-ordinating force",
    ),
    Transition(
        _K.ENQUIRY,
        _S.IN_PROGRESS,
        _A.CANCEL,
        _S.CANCELLED,
        _COORD,
        "case closed, or party lives in the co-ordinating force",
    ),
    Transition(
        _K.ENQUIRY,
        _S.DECLINED,
        _A.CANCEL,
        _S.CANCELLED,
        _COORD,
        "case closed, or party lives in the co-ordinating force",
    ),
    # DSDAS DMF referral [003 §9].
    Transition(
        _K.DMF_REFERRAL,
        None,
        _A.REFER_TO_DMF,
        _S.REQUESTED,
        "Police Scotland (co-ordinating or responding)",
        "owned by the divisional DMF",
    ),
    Transition(
        _K.DMF_REFERRAL,
        _S.REQUESTED,
        _A.RECORD_DMF_DECISION,
        _S.COMPLETED,
        "owner (the DMF)",
        "quorum and chair checked",
    ),
    Transition(
        _K.DMF_REFERRAL,
        _S.COMPLETED,
        _A.RECONSIDER,
        _S.COMPLETED,
        "owner (the DMF)",
        "after a refused undertaking [003 §8.17, §10.3]",
    ),
    Transition(_K.DMF_REFERRAL, _S.REQUESTED, _A.CANCEL, _S.CANCELLED, _COORD, "case closed"),
    # Disclosure delivery by the recipient's home force [000 §3.10.5-3.10.6].
    Transition(
        _K.DISCLOSURE_DELIVERY,
        None,
        _A.HAND_OFF,
        _S.REQUESTED,
        _COORD,
        "decision names a recipient living in another force",
    ),
    Transition(
        _K.DISCLOSURE_DELIVERY,
        None,
        _A.DELIVER_OWN,
        _S.IN_PROGRESS,
        _COORD,
        "recipient lives in the co-ordinating force",
    ),
    Transition(_K.DISCLOSURE_DELIVERY, _S.REQUESTED, _A.ACKNOWLEDGE, _S.IN_PROGRESS, _OWNER),
    Transition(
        _K.DISCLOSURE_DELIVERY,
        _S.REQUESTED,
        _A.DECLINE,
        _S.DECLINED,
        _OWNER,
        "reason required; the part returns to the co-ordinating force",
    ),
    Transition(
        _K.DISCLOSURE_DELIVERY,
        _S.IN_PROGRESS,
        _A.DECLINE,
        _S.DECLINED,
        _OWNER,
        "reason required; the part returns to the co-ordinating force",
    ),
    Transition(_K.DISCLOSURE_DELIVERY, _S.DECLINED, _A.REASSIGN, _S.REQUESTED, _COORD),
    Transition(
        _K.DISCLOSURE_DELIVERY,
        _S.REQUESTED,
        _A.REASSIGN,
        _S.REQUESTED,
        _COORD,
        "recipient's home force corrected",
    ),
    Transition(
        _K.DISCLOSURE_DELIVERY,
        _S.IN_PROGRESS,
        _A.REASSIGN,
        _S.REQUESTED,
        _COORD,
        "recipient's home force corrected",
    ),
    Transition(
        _K.DISCLOSURE_DELIVERY,
        _S.IN_PROGRESS,
        _A.REFUSE_UNDERTAKING,
        _S.UNDERTAKING_REFUSED,
        _OWNER,
        "in Scotland the DMF is told [003 §10.3]",
    ),
    Transition(
        _K.DISCLOSURE_DELIVERY,
        _S.UNDERTAKING_REFUSED,
        _A.PROCEED,
        _S.IN_PROGRESS,
        "owner or co-ordinating force",
        "recorded decision [001 ¶86]",
    ),
    Transition(
        _K.DISCLOSURE_DELIVERY,
        _S.UNDERTAKING_REFUSED,
        _A.WITHHOLD,
        _S.WITHHELD,
        "owner or co-ordinating force",
        "recorded decision [001 ¶86]",
    ),
    Transition(_K.DISCLOSURE_DELIVERY, _S.IN_PROGRESS, _A.RECORD_DELIVERED, _S.COMPLETED, _OWNER),
    Transition(
        _K.DISCLOSURE_DELIVERY, _S.REQUESTED, _A.CANCEL, _S.CANCELLED, _COORD, "case closed"
    ),
    Transition(
        _K.DISCLOSURE_DELIVERY, _S.IN_PROGRESS, _A.CANCEL, _S.CANCELLED, _COORD, "case closed"
    ),
    Transition(_K.DISCLOSURE_DELIVERY, _S.DECLINED, _A.CANCEL, _S.CANCELLED, _COORD, "case closed"),
    Transition(
        _K.DISCLOSURE_DELIVERY,
        _S.UNDERTAKING_REFUSED,
        _A.CANCEL,
        _S.CANCELLED,
        _COORD,
        "case closed",
    ),
    # Telling the applicant there is nothing to disclose, in person [001 ¶89(b); 003 §10.8.2].
    Transition(
        _K.NON_DISCLOSURE_NOTIFICATION,
        None,
        _A.OPEN_NON_DISCLOSURE,
        _S.IN_PROGRESS,
        _COORD,
        "Right to Ask, nothing disclosed",
    ),
    Transition(
        _K.NON_DISCLOSURE_NOTIFICATION,
        _S.IN_PROGRESS,
        _A.NOTIFY_NON_DISCLOSURE,
        _S.COMPLETED,
        _OWNER,
    ),
    Transition(
        _K.NON_DISCLOSURE_NOTIFICATION,
        _S.IN_PROGRESS,
        _A.TRANSFER_COORDINATION,
        _S.IN_PROGRESS,
        "new co-ordinating force (accepting)",
        "owner moves with co-ordination",
    ),
    Transition(
        _K.NON_DISCLOSURE_NOTIFICATION,
        _S.IN_PROGRESS,
        _A.CANCEL,
        _S.CANCELLED,
        _COORD,
        "case closed",
    ),
    # Final intelligence report [001 ¶92-93]; also the anonymous-applicant route [001 ¶46].
    Transition(
        _K.INTELLIGENCE_SUBMISSION,
        None,
        _A.OPEN_INTELLIGENCE_ROUTE,
        _S.IN_PROGRESS,
        _COORD,
        "anonymous or unverified applicant",
    ),
    Transition(
        _K.INTELLIGENCE_SUBMISSION,
        None,
        _A.SUBMIT_INTELLIGENCE,
        _S.COMPLETED,
        _COORD,
        "created and filed at once",
    ),
    Transition(
        _K.INTELLIGENCE_SUBMISSION, _S.IN_PROGRESS, _A.SUBMIT_INTELLIGENCE, _S.COMPLETED, _OWNER
    ),
    Transition(
        _K.INTELLIGENCE_SUBMISSION,
        _S.IN_PROGRESS,
        _A.TRANSFER_COORDINATION,
        _S.IN_PROGRESS,
        "new co-ordinating force (accepting)",
        "owner moves with co-ordination",
    ),
)

# An agreed extension moves a timed part's due date, never its status [000 §3.10.7; 001 fn4].
_EXTENDABLE: tuple[tuple[PartKind, PartStatus], ...] = (
    (_K.ENQUIRY, _S.REQUESTED),
    (_K.ENQUIRY, _S.IN_PROGRESS),
    (_K.DMF_REFERRAL, _S.REQUESTED),
    (_K.DISCLOSURE_DELIVERY, _S.REQUESTED),
    (_K.DISCLOSURE_DELIVERY, _S.IN_PROGRESS),
)
PART_TRANSITIONS += tuple(
    Transition(
        kind,
        status,
        _A.EXTEND_DEADLINE,
        status,
        _COORD,
        "agreed with the owner; new due date and reason; the ladder restarts",
    )
    for kind, status in _EXTENDABLE
)
# Chasing records that the co-ordinating force pressed the owner of a timed part; nothing
# moves: not the status, the owner or the due date [000 §3.10.7].
PART_TRANSITIONS += tuple(
    Transition(
        kind,
        status,
        _A.CHASE,
        status,
        _COORD,
        "the owner is another force; an optional short note; nothing else changes",
    )
    for kind, status in _EXTENDABLE
)
# Another officer or team of the owner force takes the part on: the owner force, status, due
# date and ladder stay as they were. A declined part waits for the co-ordinating force.
_ASSIGNABLE: tuple[tuple[PartKind, PartStatus], ...] = (
    (_K.APPLICANT_LIAISON, _S.IN_PROGRESS),
    (_K.ENQUIRY, _S.REQUESTED),
    (_K.ENQUIRY, _S.IN_PROGRESS),
    (_K.DMF_REFERRAL, _S.REQUESTED),
    (_K.DISCLOSURE_DELIVERY, _S.REQUESTED),
    (_K.DISCLOSURE_DELIVERY, _S.IN_PROGRESS),
    (_K.DISCLOSURE_DELIVERY, _S.UNDERTAKING_REFUSED),
    (_K.NON_DISCLOSURE_NOTIFICATION, _S.IN_PROGRESS),
    (_K.INTELLIGENCE_SUBMISSION, _S.IN_PROGRESS),
)
PART_TRANSITIONS += tuple(
    Transition(
        kind,
        status,
        _A.REASSIGN_WITHIN_FORCE,
        status,
        _OWNER,
        "another officer or team of the same force; the due date and ladder stay",
    )
    for kind, status in _ASSIGNABLE
)

CASE_TRANSITIONS: tuple[CaseTransition, ...] = (
    CaseTransition(None, "open-case", CaseStatus.OPEN, "receiving or co-ordinating force"),
    CaseTransition(
        None,
        "open-case (not a genuine application)",
        CaseStatus.CLOSED,
        "receiving or co-ordinating force",
        "DBS, SAR, FOI: no timers [001 ¶19]",
    ),
    CaseTransition(
        CaseStatus.OPEN,
        "close-case",
        CaseStatus.CLOSED,
        _COORD,
        "needs an intelligence submission [001 ¶92]",
    ),
)

_TABLE: dict[tuple[PartKind, PartStatus | None, PartAction], PartStatus] = {
    (t.kind, t.source, t.action): t.target for t in PART_TRANSITIONS
}


def can(kind: PartKind, source: PartStatus | None, action: PartAction) -> bool:
    return (kind, source, action) in _TABLE


def target(kind: PartKind, source: PartStatus | None, action: PartAction) -> PartStatus:
    """The status after `action`, or an INVALID_TRANSITION refusal."""
    try:
        return _TABLE[(kind, source, action)]
    except KeyError:
        where = "new" if source is None else str(source)
        raise invalid_transition(
            f"a {kind} part cannot '{action}' from '{where}'", "part-transition"
        ) from None


def render_markdown() -> str:
    lines = [
        "<!-- Generated by `python -m crossforce.broker.domain.transitions > docs/state-model.md`. "
        "Do not edit by hand. -->",
        "",
        "# Case and part state model",
        "",
        "Generated from `broker/domain/transitions.py`, the table the domain model enforces.",
        "A transition not listed here is refused with `INVALID_TRANSITION`.",
        "",
        "## Case",
        "",
        "| from | action | to | who | note |",
        "|---|---|---|---|---|",
    ]
    for c in CASE_TRANSITIONS:
        source = "(new)" if c.source is None else c.source.value
        lines.append(f"| {source} | {c.action} | {c.target.value} | {c.who} | {c.why} |")
    for kind in PartKind:
        lines += ["", f"## Part: {kind.value}", ""]
        lines += ["| from | action | to | who | note |", "|---|---|---|---|---|"]
        for t in PART_TRANSITIONS:
            if t.kind is kind:
                source = "(new)" if t.source is None else t.source.value
                lines.append(
                    f"| {source} | {t.action.value} | {t.target.value} | {t.who} | {t.why} |"
                )
    lines += _render_clocks()
    return "\n".join(lines) + "\n"


def _render_clocks() -> list[str]:
    from crossforce.broker.domain.clocks import ALONGSIDE, SEQUENCES
    from crossforce.broker.domain.sla import SlaPolicy

    policy = SlaPolicy()
    lines = [
        "",
        "## Step clocks",
        "",
        "Each route's statutory step clocks (`broker/domain/clocks.py`, docs/decisions/"
        "0050-step-clocks.md), with the default SLA policy. Owned by the co-ordinating force; "
        "a step completes on `step-completed` or on its own outcome message, and completes "
        "the earlier steps still open.",
        "",
        "| jurisdiction | route | step | limit | counts from | source |",
        "|---|---|---|---|---|---|",
    ]
    for (jurisdiction, route), steps in SEQUENCES.items():
        for step in steps + ALONGSIDE.get((jurisdiction, route), ()):
            limit = policy.limit_for(step)
            lines.append(
                f"| {jurisdiction.value} | {route.value} | {step.value} | "
                f"{limit.limit} {limit.unit.value} | {limit.counts_from} | {limit.source} |"
            )
    return lines


if __name__ == "__main__":
    print(render_markdown(), end="")
