"""Statutory step clocks: every timescale of domain.md §3 that runs on a case's own steps.

Each route has its steps in order (domain.md §2, §3):

- England & Wales, Right to Ask: initial checks (24 clock hours, 001 ¶34(c)), face-to-face
  (10 working days, 001 ¶40), full risk assessment and concern / no concern (5 or 10 working
  days, 001 ¶70; 002 L1792), referral to the forum (20 working days, 001 ¶74), and the whole
  enquiry (28 days, 001 ¶34(f)) alongside them.
- England & Wales, Right to Know: intelligence checks and categorisation (5 or 10 working days,
  001 ¶70, Table 1), then the referral to the forum.
- Scotland, Right to Ask and Power to Tell: stages 2 to 5 (3, 12, 20 and 10 days, 003 §4).

A clock starts at the milestone its SLA policy entry `counts_from` names (initial contact, or
the end of an earlier step; each CONFLICT of domain.md §9 decides which), and stops on the
message that completes its step: `step-completed`, or the message that is itself the step's
outcome (a face-to-face identity check, the decision, the DMF's decision, the disclosure or
non-disclosure). Completing a step also completes any earlier step of the route still open,
at the same instant: the later step could not have happened without it.

The clock's owner is the co-ordinating force, which keeps the applicant's level of service
[000 §3.10.7] and holds the applicant-liaison part. Pure: this module records milestones and
works out due times from the policy; arming timers is the escalation service's work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from crossforce.broker.domain import events as e
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.routes import Route
from crossforce.broker.domain.sla import SlaPolicy, SlaStep, due_at
from crossforce.contracts.envelope import Jurisdiction

if TYPE_CHECKING:
    from crossforce.broker.domain.case import Case

_S = SlaStep
INITIAL_CONTACT: Final = "initial-contact"
# The milestone 001 Table 1 counts a Right to Know forum referral from: the intelligence
# checks made, that is, every cross-force enquiry answered.
CHECKS_MADE: Final = "intelligence-checks-made"

# Steps in the order they happen on each route; the whole enquiry runs beside them.
SEQUENCES: Final[Mapping[tuple[Jurisdiction, Route], tuple[SlaStep, ...]]] = MappingProxyType(
    {
        (Jurisdiction.ENGLAND_WALES, Route.RIGHT_TO_ASK): (
            _S.EW_RTA_INITIAL_CHECKS,
            _S.EW_RTA_FACE_TO_FACE,
            _S.EW_RTA_FULL_RISK_ASSESSMENT,
            _S.EW_FORUM_REFERRAL,
        ),
        (Jurisdiction.ENGLAND_WALES, Route.RIGHT_TO_KNOW): (
            _S.EW_RTK_INTELLIGENCE_CHECKS,
            _S.EW_FORUM_REFERRAL,
        ),
        (Jurisdiction.SCOTLAND, Route.RIGHT_TO_ASK): (
            _S.SCOTLAND_STAGE_2_INITIAL_CHECKS,
            _S.SCOTLAND_STAGE_3_FACE_TO_FACE,
            _S.SCOTLAND_STAGE_4_DMF_REFERRAL,
            _S.SCOTLAND_STAGE_5_DISCLOSURE,
        ),
        (Jurisdiction.SCOTLAND, Route.POWER_TO_TELL): (
            _S.SCOTLAND_STAGE_2_INITIAL_CHECKS,
            _S.SCOTLAND_STAGE_3_FACE_TO_FACE,
            _S.SCOTLAND_STAGE_4_DMF_REFERRAL,
            _S.SCOTLAND_STAGE_5_DISCLOSURE,
        ),
    }
)
# 001 ¶34(f): the applicant hears within 28 days; only Right to Ask has an applicant.
ALONGSIDE: Final[Mapping[tuple[Jurisdiction, Route], tuple[SlaStep, ...]]] = MappingProxyType(
    {(Jurisdiction.ENGLAND_WALES, Route.RIGHT_TO_ASK): (_S.EW_RTA_WHOLE_ENQUIRY,)}
)

# What each outcome event completes, besides an explicit `step-completed`.
_FACE_TO_FACE = (_S.EW_RTA_FACE_TO_FACE, _S.SCOTLAND_STAGE_3_FACE_TO_FACE)
_CATEGORISATION = (_S.EW_RTA_FULL_RISK_ASSESSMENT, _S.EW_RTK_INTELLIGENCE_CHECKS)
_OUTCOME_TOLD = (_S.SCOTLAND_STAGE_5_DISCLOSURE, _S.EW_RTA_WHOLE_ENQUIRY)


def steps_of(case: Case) -> tuple[SlaStep, ...]:
    """Every clocked step of the case's route, in order, then those that run alongside."""
    key = (case.jurisdiction, case.route)
    return SEQUENCES.get(key, ()) + ALONGSIDE.get(key, ())


def completed_by(event: e.DomainEvent) -> tuple[SlaStep, ...]:
    """The steps an outcome event completes (before implicit earlier steps)."""
    match event:
        case e.StepCompleted():
            return (SlaStep(event.step),)
        case e.ApplicantIdentityVerified() if event.face_to_face:
            return _FACE_TO_FACE
        case e.DecisionRecorded():
            # Annex G is the forum's decision: concern / no concern made, and the forum held.
            return (*_CATEGORISATION, _S.EW_FORUM_REFERRAL)
        case e.DmfDecisionRecorded():
            return (_S.SCOTLAND_STAGE_4_DMF_REFERRAL,)
        case e.DisclosureDelivered() | e.NonDisclosureNotified():
            return _OUTCOME_TOLD
        case _:
            return ()


def record_completions(case: Case, events: list[e.DomainEvent]) -> None:
    """Stop the clocks the events complete, and any earlier step of the route still open."""
    sequence = SEQUENCES.get((case.jurisdiction, case.route), ())
    mine = set(steps_of(case))
    for event in events:
        for step in completed_by(event):
            if step not in mine:
                continue
            earlier = sequence[: sequence.index(step) + 1] if step in sequence else (step,)
            for done in earlier:
                case.steps_completed.setdefault(done.value, event.at)
    if any(isinstance(event, e.EnquiryResultRecorded) for event in events):
        enquiries = [p for p in case.parts if p.kind is PartKind.ENQUIRY]
        if enquiries and not any(p.is_open for p in enquiries):
            case.steps_completed.setdefault(CHECKS_MADE, events[-1].at)


@dataclass(frozen=True, slots=True)
class StepClock:
    """One statutory clock of a case: running while `completed_at` is None."""

    step: SlaStep
    owner: str
    part_id: str | None  # the applicant-liaison part, when the route has an applicant
    started_at: datetime
    due_at: datetime
    completed_at: datetime | None
    source: str

    @property
    def running(self) -> bool:
        return self.completed_at is None


def _start(case: Case, step: SlaStep, counts_from: str) -> datetime | None:
    done = case.steps_completed
    if counts_from in (
        INITIAL_CONTACT,
        "receipt-of-indirect-information",
        "receipt-of-application",
    ):
        return case.initial_contact_at or case.opened_at
    if counts_from == "initial-checks":
        return _when(done, _S.EW_RTA_INITIAL_CHECKS)
    if counts_from == "face-to-face":
        return _when(done, _S.EW_RTA_FACE_TO_FACE)
    if counts_from == "categorisation":
        return _when(done, *_CATEGORISATION)
    if counts_from == "full-risk-assessment-or-intelligence-checks":
        # 001 Table 1: from step 3 (Right to Ask) or from the intelligence checks being made
        # (Right to Know), which may come before the categorisation.
        if case.route is Route.RIGHT_TO_KNOW:
            checks = done.get(CHECKS_MADE)
            categorised = _when(done, _S.EW_RTK_INTELLIGENCE_CHECKS)
            known = [t for t in (checks, categorised) if t is not None]
            return min(known) if known else None
        return _when(done, _S.EW_RTA_FULL_RISK_ASSESSMENT)
    stage = {
        "end-of-stage-2": _S.SCOTLAND_STAGE_2_INITIAL_CHECKS,
        "end-of-stage-3": _S.SCOTLAND_STAGE_3_FACE_TO_FACE,
        "end-of-stage-4": _S.SCOTLAND_STAGE_4_DMF_REFERRAL,
    }.get(counts_from)
    return _when(done, stage) if stage is not None else None


def _when(done: Mapping[str, datetime], *steps: SlaStep) -> datetime | None:
    return next((done[s.value] for s in steps if s.value in done), None)


def step_clocks(case: Case, policy: SlaPolicy) -> tuple[StepClock, ...]:
    """The case's clocks that have started, running or stopped, in route order."""
    if not case.is_genuine():
        return ()  # DBS, SAR and FOI requests start no timers [001 ¶19, ¶34(a)]
    liaison = next((p for p in case.parts if p.kind is PartKind.APPLICANT_LIAISON), None)
    owner = case.coordinating_force
    clocks = []
    for step in steps_of(case):
        limit = policy.limit_for(step)
        started = _start(case, step, limit.counts_from)
        if started is None:
            continue
        clocks.append(
            StepClock(
                step=step,
                owner=owner,
                part_id=liaison.part_id if liaison else None,
                started_at=started,
                due_at=due_at(step, started, owner, policy),
                completed_at=case.steps_completed.get(step.value),
                source=limit.source,
            )
        )
    return tuple(clocks)
