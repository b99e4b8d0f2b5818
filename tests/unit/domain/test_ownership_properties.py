"""Property: whatever commands arrive, in whatever order, every part has exactly one owner."""

from __future__ import annotations

import dataclasses
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.forums import DisclosableItem, ForumChair, PoliceRank
from crossforce.broker.domain.handling import apply_command
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.routes import DeliveryMethod
from crossforce.contracts.forces import FORCES

from .builders import DMF_BODIES, EW_FORUM, at, opened

FORCE_POOL = ["ESSEX", "KENT", "SURREY", "SUSSEX", "PSOS", "PSOS_E", "PSOS_G"]
PARTIES = ["A", "B", "K1", "P"]
# "?k" picks the k-th most recent part when applied; "part-99" never exists.
PART_IDS = [f"?{k}" for k in range(4)] + ["part-99"]
REF = "CF-1"
T = at()

# Most commands come from the force entitled to send them ("?auto", resolved against the case
# when applied); the rest come from any force.
actors = st.sampled_from(["?auto"] * 8 + FORCE_POOL)
forces = st.sampled_from(FORCE_POOL)
parties = st.sampled_from(PARTIES)
part_ids = st.sampled_from(PART_IDS)
text = st.sampled_from(["reason", "reason", "reason", ""])
items = st.lists(
    st.builds(DisclosableItem, st.just("PNC-1"), st.just("conviction"), st.booleans()),
    max_size=1,
).map(tuple)

command_strategy: st.SearchStrategy[c.Command] = st.one_of(
    st.builds(
        c.RequestEnquiry, case_ref=st.just(REF), actor=actors, at=st.just(T), party_id=parties
    ),
    st.builds(
        c.AcknowledgeEnquiry, case_ref=st.just(REF), actor=actors, at=st.just(T), part_id=part_ids
    ),
    st.builds(
        c.DeclineEnquiry,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        part_id=part_ids,
        reason=text,
    ),
    st.builds(
        c.ReassignEnquiry,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        part_id=part_ids,
        to_force=forces,
        reason=text,
    ),
    st.builds(
        c.RecordEnquiryResult,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        part_id=part_ids,
        concern=st.booleans(),
        summary=text,
        items=items,
    ),
    st.builds(
        c.CorrectPartyHomeForce,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        party_id=parties,
        home_force=forces,
        reason=text,
    ),
    st.builds(
        c.RequestCoordinationTransfer,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        to_force=forces,
        reason=text,
    ),
    st.builds(c.AcceptCoordinationTransfer, case_ref=st.just(REF), actor=actors, at=st.just(T)),
    st.builds(
        c.DeclineCoordinationTransfer,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        reason=text,
    ),
    st.builds(
        c.RaiseImmediateRisk, case_ref=st.just(REF), actor=actors, at=st.just(T), summary=text
    ),
    st.builds(
        c.ReferToDmf,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        party_id=parties,
        dmf=forces,
        items=items,
    ),
    st.builds(
        c.RecordDmfDecision,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        part_id=part_ids,
        bodies=st.sampled_from([DMF_BODIES, DMF_BODIES[:2]]),
        chair=st.builds(ForumChair, st.sampled_from(list(PoliceRank)), st.booleans()),
        concern=st.booleans(),
        recommend_disclosure=st.booleans(),
        rationale=text,
    ),
    st.builds(
        c.RecordDecision,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        concern=st.booleans(),
        disclose=st.booleans(),
        rationale=text,
        recipient_party_id=st.none() | parties,
        inform_b=st.booleans(),
        bodies=st.just(EW_FORUM),
        items=items,
    ),
    st.builds(
        c.AcknowledgeDisclosureHandoff,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        part_id=part_ids,
    ),
    st.builds(
        c.DeclineDisclosureHandoff,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        part_id=part_ids,
        reason=text,
    ),
    st.builds(
        c.ReassignDisclosureDelivery,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        part_id=part_ids,
        to_force=forces,
        reason=text,
    ),
    st.builds(
        c.RecordUndertakingRefused,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        part_id=part_ids,
    ),
    st.builds(
        c.RecordUndertakingDecision,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        part_id=part_ids,
        proceed=st.booleans(),
        rationale=text,
    ),
    st.builds(
        c.RecordDisclosureDelivered,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        part_id=part_ids,
        method=st.sampled_from(list(DeliveryMethod)),
    ),
    st.builds(
        c.NotifyNonDisclosure, case_ref=st.just(REF), actor=actors, at=st.just(T), part_id=part_ids
    ),
    st.builds(
        c.NotifyDelay,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        reason=text,
        part_id=st.none() | part_ids,
    ),
    st.builds(
        c.SubmitIntelligence,
        case_ref=st.just(REF),
        actor=actors,
        at=st.just(T),
        summary=text,
        outcome=text,
    ),
    st.builds(c.CloseCase, case_ref=st.just(REF), actor=actors, at=st.just(T), reason=text),
)


def _script() -> list[c.Command]:
    """A valid path deep into the workflow; each example starts from a prefix of it."""
    base = {"case_ref": REF, "at": T}
    return [
        c.RequestEnquiry(actor="ESSEX", party_id="B", **base),  # part-2, Police Scotland
        c.RequestEnquiry(actor="ESSEX", party_id="K1", **base),  # part-3, Surrey
        c.AcknowledgeEnquiry(actor="PSOS", part_id="part-2", **base),
        c.DeclineEnquiry(actor="SURREY", part_id="part-3", reason="not known", **base),
        c.ReassignEnquiry(actor="ESSEX", part_id="part-3", to_force="SUSSEX", reason="r", **base),
        c.ReferToDmf(actor="PSOS", party_id="B", dmf="PSOS_E", **base),  # part-4
        c.RecordDmfDecision(
            actor="PSOS_E",
            part_id="part-4",
            bodies=DMF_BODIES,
            chair=ForumChair(PoliceRank.SUPERINTENDENT),
            concern=True,
            recommend_disclosure=True,
            rationale="r",
            **base,
        ),
        c.RecordEnquiryResult(actor="PSOS", part_id="part-2", concern=True, summary="s", **base),
        c.RecordDecision(
            actor="ESSEX",
            concern=True,
            disclose=True,
            rationale="r",
            recipient_party_id="P",
            **base,
        ),  # part-5, Kent
        c.RequestCoordinationTransfer(actor="ESSEX", to_force="SURREY", reason="moved", **base),
        c.AcceptCoordinationTransfer(actor="SURREY", **base),
        c.AcknowledgeDisclosureHandoff(actor="KENT", part_id="part-5", **base),
        c.RecordUndertakingRefused(actor="KENT", part_id="part-5", **base),
    ]


SCRIPT = _script()


def _new_case() -> Case:
    case, _ = opened(
        Party("A", PartyRole.A, "ESSEX", is_applicant=True, identity_verified=True),
        Party("B", PartyRole.B, "PSOS", subject_key="b-1", division="E"),
        Party("K1", PartyRole.CHILD, "SURREY"),
        Party("P", PartyRole.DISCLOSURE_RECIPIENT, "KENT"),
        receiving="KENT",
        coordinating="ESSEX",
    )
    return case


def _resolve(case: Case, command: c.Command, step: int) -> c.Command:
    part_id = getattr(command, "part_id", None)
    if part_id is not None and part_id.startswith("?") and case.parts:
        candidates = case.open_parts() or case.parts
        k = int(part_id[1:]) % len(candidates)
        command = dataclasses.replace(command, part_id=candidates[-k - 1].part_id)  # type: ignore[call-arg]
    return dataclasses.replace(command, actor=_resolve_actor(case, command), at=at(step))


def _resolve_actor(case: Case, command: c.Command) -> str:
    """ "?auto" is the force entitled to send the command, so sequences reach deep states."""
    if command.actor != "?auto":
        return command.actor
    if isinstance(command, c.AcceptCoordinationTransfer | c.DeclineCoordinationTransfer):
        return case.pending_transfer.to_force if case.pending_transfer else "KENT"
    if isinstance(command, c.ReferToDmf):
        return "PSOS"
    coordinating_only = (
        c.ReassignEnquiry | c.ReassignDisclosureDelivery | c.RecordUndertakingDecision
    )
    part_id = getattr(command, "part_id", None)
    owners = [p.owner for p in case.parts if p.part_id == part_id]
    if owners and not isinstance(command, coordinating_only):
        return owners[0]
    return case.coordinating_force


def _assert_ownership_invariants(case: Case) -> None:
    assert len({p.part_id for p in case.parts}) == len(case.parts)
    for part in case.parts:
        # Exactly one owner: a single known force, and the history agrees with it.
        assert isinstance(part.owner, str) and part.owner in FORCES
        assert part.history, part.part_id
        assert part.history[0].from_owner is None
        for before, after in zip(part.history, part.history[1:], strict=False):
            assert after.from_owner == before.to_owner
            assert after.from_status == before.to_status
        assert part.history[-1].to_owner == part.owner
        assert part.history[-1].to_status == part.status
        if part.kind is PartKind.APPLICANT_LIAISON and part.is_open:
            assert part.owner == case.coordinating_force
    open_per_party = Counter(
        (p.kind, p.party_id)
        for p in case.parts
        if p.is_open and p.kind in (PartKind.ENQUIRY, PartKind.DMF_REFERRAL)
    )
    assert all(count == 1 for count in open_per_party.values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=0, max_value=len(SCRIPT)),
    st.lists(command_strategy, min_size=10, max_size=60),
)
def test_random_commands_never_leave_a_part_with_zero_or_two_owners(
    prefix: int, commands: list[c.Command]
) -> None:
    case = _new_case()
    for step, command in enumerate(SCRIPT[:prefix], start=1):
        apply_command(case, dataclasses.replace(command, at=at(step)))
        _assert_ownership_invariants(case)
    for step, command in enumerate(commands, start=prefix + 1):
        command = _resolve(case, command, step)
        before = case.to_dict()
        try:
            apply_command(case, command)
        except DomainRefusal:
            assert case.to_dict() == before  # a refusal changes nothing
        else:
            assert case.version == before["version"] + 1
        _assert_ownership_invariants(case)
    assert Case.from_dict(case.to_dict()) == case
