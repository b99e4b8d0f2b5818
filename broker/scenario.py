"""A scripted cross-force case, used by `crossforce demo` and the scenario tests.

Kent receives the application. C, who lives in Essex, asks about A, who lives in Surrey;
B lives in Edinburgh. Essex co-ordinates; Surrey and Police Scotland respond; Edinburgh's
DMF decides for the Scottish part; co-ordination moves to the Met when C moves to London;
the disclosure to A is handed to Surrey, A's home force; the case closes with its final
intelligence submission. All names are fictitious.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crossforce.contracts.examples import example
from crossforce.contracts.messages.base import Message
from crossforce.contracts.registry import REGISTRY

RECEIVING, COORDINATING, NEW_COORDINATOR = "KENT", "ESSEX", "METROPOLITAN"
A_HOME, B_HOME, DMF = "SURREY", "PSOS", "PSOS_E"
FORCES = ("HUB", RECEIVING, COORDINATING, NEW_COORDINATOR, A_HOME, B_HOME, DMF)

A, B, C = "P1", "P2", "P4"
ENQUIRY_A, ENQUIRY_B = "ENQ-A", "ENQ-B"


@dataclass(frozen=True, slots=True)
class Step:
    sender: str
    message: Message
    recipients: tuple[str, ...]
    note: str


def _person(given: str, family: str, dob: str) -> dict[str, Any]:
    return {"given_names": given, "family_name": family, "date_of_birth": dob}


PARTIES: dict[str, dict[str, Any]] = {
    A: {
        "party_id": A,
        "role": "A",
        "home_force": A_HOME,
        "postcode_district": "GU1",
        "person": _person("Alexandra", "Example", "1991-04-17"),
    },
    B: {
        "party_id": B,
        "role": "B",
        "home_force": B_HOME,
        "postcode_district": "EH6",
        "person": _person("Barry", "Sample", "1986-11-02"),
    },
    C: {
        "party_id": C,
        "role": "C",
        "is_applicant": True,
        "identity_verified": True,
        "home_force": COORDINATING,
        "postcode_district": "CM1",
        "person": _person("Carol", "Example", "1962-08-30"),
    },
}


def _build(
    name: str, sender: str, recipient: str, *, now: datetime | None = None, **changes: Any
) -> Message:
    """An example payload of the type, with the scenario's own ids and parties, dated `now`
    (default: the real clock): the hub checks the dates a message reports against its
    envelope's time."""
    base = example(name, sender, recipient, now=now or datetime.now(UTC)).model_dump(mode="json")
    base.update(changes)
    model = REGISTRY.latest(name)
    return model.model_validate(base)


def case_steps(case_ref: str, at: datetime | None = None) -> list[Step]:
    """Every step of the scripted case, in order; `at` (default now) dates its receipt and
    closure, so the final report agrees with the case's own history."""
    at = (at or datetime.now(UTC)).replace(microsecond=0)

    def build(name: str, sender: str, recipient: str, **changes: Any) -> Message:
        return _build(name, sender, recipient, now=at, **changes)

    return [
        Step(
            RECEIVING,
            build(
                "case-opened",
                RECEIVING,
                COORDINATING,
                receiving_force=RECEIVING,
                coordinating_force=COORDINATING,
                applicant_role="C",
                parties=[PARTIES[A], PARTIES[B], PARTIES[C]],
                local_reference=f"{RECEIVING}-{case_ref}",
            ),
            (COORDINATING,),
            "Kent receives C's Right to Ask; Essex (C's home) co-ordinates",
        ),
        Step(
            COORDINATING,
            build(
                "enquiry-requested",
                COORDINATING,
                A_HOME,
                enquiry_id=ENQUIRY_A,
                responding_force=A_HOME,
                party_ids=[A],
                parties=[PARTIES[A]],
                due_at=None,  # the hub times it by the SLA policy
            ),
            (A_HOME,),
            "Essex asks Surrey about A",
        ),
        Step(
            COORDINATING,
            build(
                "enquiry-requested",
                COORDINATING,
                B_HOME,
                enquiry_id=ENQUIRY_B,
                responding_force=B_HOME,
                party_ids=[B],
                parties=[PARTIES[B]],
                due_at=None,
            ),
            (B_HOME,),
            "Essex asks Police Scotland about B",
        ),
        Step(
            A_HOME,
            build("enquiry-acknowledged", A_HOME, COORDINATING, enquiry_id=ENQUIRY_A),
            (COORDINATING,),
            "Surrey acknowledges",
        ),
        Step(
            B_HOME,
            build("enquiry-acknowledged", B_HOME, COORDINATING, enquiry_id=ENQUIRY_B),
            (COORDINATING,),
            "Police Scotland acknowledges",
        ),
        Step(
            A_HOME,
            build(
                "enquiry-result",
                A_HOME,
                COORDINATING,
                enquiry_id=ENQUIRY_A,
                checks=[
                    {"party_id": A, "check": "PNC", "result": "no-trace"},
                    {
                        "party_id": A,
                        "check": "DASH",
                        "result": "trace-concern",
                        "risk_level": "high",
                    },
                ],
            ),
            (COORDINATING,),
            "Surrey returns its checks on A",
        ),
        Step(
            B_HOME,
            build("dmf-referral", B_HOME, DMF, dmf=DMF, party_ids=[B]),
            (DMF,),
            "Police Scotland refers B's part to the Edinburgh DMF",
        ),
        Step(
            DMF,
            build("dmf-decision", DMF, B_HOME, dmf=DMF, disclosure_recipient_party_id=A),
            (B_HOME,),
            "The DMF decides: concern, recommends disclosure",
        ),
        Step(
            B_HOME,
            build(
                "enquiry-result",
                B_HOME,
                COORDINATING,
                enquiry_id=ENQUIRY_B,
                checks=[
                    {
                        "party_id": B,
                        "check": "PNC",
                        "result": "trace-concern",
                        "reference": "PNC-ASN-26-0000001X",
                    },
                    {
                        "party_id": B,
                        "check": "IVPD",
                        "result": "trace-concern",
                        "reference": "PSOS-INT-2024-55102",
                    },
                ],
            ),
            (COORDINATING,),
            "Police Scotland returns its checks on B, after the DMF",
        ),
        Step(
            COORDINATING,
            build(
                "co-ordination-transfer-requested",
                COORDINATING,
                NEW_COORDINATOR,
                from_force=COORDINATING,
                to_force=NEW_COORDINATOR,
            ),
            (NEW_COORDINATOR,),
            "C moves to London: Essex asks the Met to take over",
        ),
        Step(
            NEW_COORDINATOR,
            build("co-ordination-transfer-accepted", NEW_COORDINATOR, COORDINATING),
            (COORDINATING,),
            "The Met accepts co-ordination",
        ),
        Step(
            NEW_COORDINATOR,
            build(
                "decision-recorded",
                NEW_COORDINATOR,
                A_HOME,
                disclosure_recipient_party_id=A,
                subject_party_id=B,
            ),
            (),
            "The Met records the decision: disclose to A, who is not the applicant",
        ),
        Step(
            A_HOME,
            build("disclosure-delivered", A_HOME, NEW_COORDINATOR, recipient_party_id=A),
            (NEW_COORDINATOR,),
            "Surrey makes the disclosure to A in person",
        ),
        Step(
            NEW_COORDINATOR,
            intelligence_submission(case_ref, at),
            (),
            "The Met files the final intelligence report",
        ),
        Step(
            NEW_COORDINATOR,
            build("case-closed", NEW_COORDINATOR, RECEIVING, closed_at=at.isoformat()),
            (RECEIVING,),
            "The Met closes the case",
        ),
    ]


def intelligence_submission(case_ref: str, at: datetime) -> Message:
    parties = [
        {**PARTIES[p], "sex": sex, "ethnicity": "W1", "disability": "no"}
        for p, sex in ((A, "female"), (B, "male"), (C, "female"))
    ]
    for party in parties:
        party.pop("postcode_district", None)
        party.pop("identity_verified", None)
    request = {
        "route": "right-to-ask",
        "jurisdiction": "england-wales",
        "received_at": at.isoformat(),
        "receiving_force": RECEIVING,
        "application_category": "genuine",
        "record": {"force": RECEIVING, "reference": f"{RECEIVING}-{case_ref}"},
    }
    return _build(
        "intelligence-submission",
        NEW_COORDINATOR,
        RECEIVING,
        now=at,
        parties=parties,
        request=request,
        requester_is_third_party=True,
        closed_at=at.isoformat(),
        forces_involved=[RECEIVING, COORDINATING, NEW_COORDINATOR, A_HOME, B_HOME],
        summary=f"Right to Ask by C about B; disclosure made to A ({case_ref})",
    )
