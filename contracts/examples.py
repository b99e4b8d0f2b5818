"""A realistic example payload of every message type, for documentation, demos and tests.

All people are fictitious (surnames such as "Example" and "Sample" make that plain) and all
references are made up. `sender` and `recipient` are force codes; each example puts them in
the fields a real message from `sender` to `recipient` would carry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from crossforce.contracts.envelope import Jurisdiction
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES, ParticipantKind
from crossforce.contracts.messages.base import Message
from crossforce.contracts.registry import REGISTRY

# A fixed moment, so examples are reproducible. `now=` moves an example's dates so that what
# it reports happened just now, and what it asks for (due dates) falls after now: the command
# line's examples and scenarios run on the real clock.
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
_AHEAD = frozenset({"due_at", "deliver_by", "expected_by", "new_due_at"})
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
DEFAULT_DMF = "PSOS_E"


def _at(day: int, hour: int = 10) -> str:
    return T0.replace(day=day, hour=hour, minute=0).isoformat()


def _person(
    given: str, family: str, born: date | None = None, age: int | None = None
) -> dict[str, Any]:
    person: dict[str, Any] = {"given_names": given, "family_name": family}
    if born is not None:
        person["date_of_birth"] = born.isoformat()
    if age is not None:
        person["approximate_age"] = age
    return person


def _scottish(code: str) -> bool:
    force = FORCES.get(code)
    return force is not None and force.jurisdiction is Jurisdiction.SCOTLAND


def _jurisdiction(code: str) -> str:
    # Unknown codes (e.g. HUB) fall back to England & Wales.
    return (Jurisdiction.SCOTLAND if _scottish(code) else Jurisdiction.ENGLAND_WALES).value


def _checks(code: str) -> list[str]:
    if _scottish(code):
        return ["PNC", "CHS", "CRS", "IVPD", "SID"]
    return ["PNC", "PND", "VISOR", "LOCAL_INTELLIGENCE"]


def _employer(code: str) -> str:
    """The force whose PSD `code` is (`SURREY_PSD` -> `SURREY`), or `code` itself."""
    force = FORCES.get(code)
    if force is not None and force.kind is ParticipantKind.PSD and force.parent is not None:
        return force.parent
    return code


def _reader(code: str, employer: str) -> str:
    """A force reading a case about another force's employee: `code`, unless it cannot be."""
    force = FORCES.get(code)
    if force is not None and force.kind is not ParticipantKind.PSD and code != employer:
        return code
    return "ESSEX" if employer != "ESSEX" else "KENT"


def _party_a(home: str) -> dict[str, Any]:
    return {
        "party_id": "P1",
        "role": "A",
        "is_applicant": True,
        "home_force": home,
        "postcode_district": "EH6" if _scottish(home) else "ME14",
        "identity_verified": True,
        "person": _person("Alexandra", "Example", date(1991, 4, 17)),
    }


def _party_b(home: str) -> dict[str, Any]:
    return {
        "party_id": "P2",
        "role": "B",
        "home_force": home,
        "person": _person("Barry", "Sample", date(1986, 11, 2)),
    }


def _party_child(home: str) -> dict[str, Any]:
    return {
        "party_id": "P3",
        "role": "child",
        "home_force": home,
        "person": _person("Charlie", "Example", age=6),
    }


def _ref(force: str, reference: str) -> dict[str, str]:
    return {"force": force, "reference": reference}


def _dmf(code: str) -> str:
    # A DMF field needs a divisional DMF code; fall back to Edinburgh City's when the
    # recipient is not one (e.g. a co-ordinating force asking for an example).
    return code if re.fullmatch(r"PSOS_[A-Z]", code) else DEFAULT_DMF


def _annex_g(answer: bool, rationale: str) -> dict[str, Any]:
    return {"answer": answer, "rationale": rationale}


def _deadline(s: str, r: str) -> dict[str, Any]:
    return {
        "part_id": "ENQ-0001",
        "deadline": "responding-force-answer",
        "owner_force": r,
        "due_at": _at(9, 17),
    }


def _enquiry_result(responding: str) -> dict[str, Any]:
    # Sent by the responding force, from its own jurisdiction's catalogue.
    scottish = _scottish(responding)
    intelligence, risk_tool = ("IVPD", "DAQ") if scottish else ("LOCAL_INTELLIGENCE", "DASH")
    return {
        "enquiry_id": "ENQ-0001",
        "jurisdiction": _jurisdiction(responding),
        "checks": [
            {
                "party_id": "P2",
                "check": "PNC",
                "result": "trace-concern",
                "reference": "PNC-ASN-26-0000001X",
            },
            {"party_id": "P2", "check": "PND", "result": "no-trace"},
            {"party_id": "P2", "check": "VISOR", "result": "no-trace"},
            {
                "party_id": "P2",
                "check": intelligence,
                "result": "trace-concern",
                "reference": f"{responding}-INT-2024-55102",
            },
            {
                "party_id": "P1",
                "check": risk_tool,
                "result": "trace-concern",
                "risk_level": "medium",
            },
        ],
        "completed_at": _at(5, 15),
    }


_BUILDERS: dict[tuple[str, int], Callable[[str, str], dict[str, Any]]] = {
    ("case-opened", 1): lambda s, r: {
        "route": "right-to-ask",
        "jurisdiction": _jurisdiction(s),
        "receiving_force": s,
        "coordinating_force": s,
        "applicant_role": "A",
        "application_category": "genuine",
        "initial_contact_at": T0.isoformat(),
        "parties": [_party_a(s), _party_b(r), _party_child(s)],
        "local_reference": f"{s}-DVDS-2026-00417",
        "non_crime_incident_reference": f"{s}-NCI-26-88120",
    },
    ("co-ordination-transfer-requested", 1): lambda s, r: {
        "transfer_id": "TR-0001",
        "from_force": s,
        "to_force": r,
        "reason": "applicant-moved",
        "detail": "Applicant moved to a refuge address in the recipient force area",
    },
    ("co-ordination-transfer-accepted", 1): lambda s, r: {"transfer_id": "TR-0001"},
    ("co-ordination-transfer-declined", 1): lambda s, r: {
        "transfer_id": "TR-0001",
        "reason": "applicant-not-in-area",
        "detail": "No trace of the applicant at the address given",
    },
    ("party-home-force-corrected", 1): lambda s, r: {
        "party_id": "P2",
        "previous_home_force": s,
        "corrected_home_force": r,
        "postcode_district": "CM1",
        "reason": "address-corrected",
    },
    ("enquiry-reassigned", 1): lambda s, r: {
        "enquiry_id": "ENQ-0001",
        "from_force": s,
        "to_force": r,
        "party_ids": ["P2"],
        "reason": "party-not-in-area",
    },
    ("enquiry-requested", 1): lambda s, r: {
        "enquiry_id": "ENQ-0001",
        "responding_force": r,
        "jurisdiction": _jurisdiction(r),
        "party_ids": ["P2"],
        "parties": [_party_b(r)],
        "requested_checks": _checks(r),
        "due_at": _at(9, 17),
    },
    ("enquiry-acknowledged", 1): lambda s, r: {
        "enquiry_id": "ENQ-0001",
        "expected_by": _at(6, 17),
    },
    ("enquiry-declined", 1): lambda s, r: {
        "enquiry_id": "ENQ-0001",
        "reason": "party-not-in-area",
        "detail": "Subject moved out of the area in 2024",
        "suggested_force": "ESSEX",
    },
    ("enquiry-result", 1): lambda s, r: {
        "enquiry_id": "ENQ-0001",
        "checks": [
            {"check": "PNC", "outcome": "Trace: two previous convictions for assault (DA)"},
            {"check": "PND", "outcome": "No trace"},
            {"check": "ViSOR", "outcome": "No trace"},
            {"check": "Local intelligence", "outcome": "Three DA incidents 2023-24, concern"},
        ],
    },
    ("enquiry-result", 2): lambda s, r: _enquiry_result(s),
    ("immediate-risk-raised", 1): lambda s, r: {
        "at_risk_party_ids": ["P1", "P3"],
        "raised_at": _at(3, 14),
        "action_taken": "Patrol dispatched to A's address; safeguarding visit arranged",
        "action_force": r,
        "incident": _ref(s, f"{s}-INC-26-03-0412"),
    },
    ("crime-linked", 1): lambda s, r: {
        "crime": _ref(s, f"{s}-CR-26-0099817"),
        "investigating_force": s,
        "linked_at": _at(4),
        "runs_alongside": True,
        "party_ids": ["P1", "P2"],
    },
    ("decision-recorded", 1): lambda s, r: {
        "forum": "marac",
        "decided_at": _at(20, 11),
        "decided_by": {
            "name": "D. Fictitious",
            "rank": "INSPECTOR",
            "force": s,
            "staff_number": "I-4411",
        },
        "concerns": _annex_g(True, "PNC and local intelligence show a pattern of DA (001 ¶66)"),
        "disclose": _annex_g(True, "Lawful, necessary and proportionate to protect A"),
        "representations_from_b": _annex_g(False, "Seeking them would raise the risk to A"),
        "inform_b": _annex_g(False, "Telling B could raise the risk to A (001 ¶81)"),
        "mappa_iom_referral": _annex_g(True, "Referred to IOM for offender management"),
        "attendees": [
            {"agency": "police", "role": "chair"},
            {"agency": "probation", "role": "senior probation officer"},
            {"agency": "idva", "role": "IDVA"},
            {"agency": "childrens-social-care", "role": "team manager"},
        ],
        "disclosure_recipient_party_id": "P1",
        "subject_party_id": "P2",
    },
    ("dmf-referral", 1): lambda s, r: {
        "dmf": _dmf(r),
        "referred_at": _at(16),
        "party_ids": ["P1", "P2"],
        "referral_pack": _ref(s, f"{s}-DSDAS-26-000311"),
        "includes_spent_convictions": False,
    },
    ("dmf-decision", 1): lambda s, r: {
        "dmf": _dmf(s),
        "met_at": _at(23, 14),
        "chair": {"name": "E. Placeholder", "rank": "SUPERINTENDENT"},
        "bodies_present": [
            {"agency": "police", "name": "Police Scotland", "registered_data_controller": True},
            {
                "agency": "social-work",
                "name": "City of Edinburgh Council Social Work",
                "registered_data_controller": True,
            },
            {
                "agency": "advocacy",
                "name": "Edinburgh Women's Aid",
                "registered_data_controller": True,
            },
        ],
        "concern": True,
        "recommend_disclosure": True,
        "rationale": "Unspent convictions for DA against two former partners (003 §9.6)",
        "includes_spent_convictions": False,
        "disclosure_recipient_party_id": "P1",
        "agreed_wording": _ref("PSOS", "PSOS-DSDAS-26-000311/WORDING/1"),
    },
    ("disclosure-handoff", 1): lambda s, r: {
        "to_force": r,
        "recipient_party_id": "P1",
        "recipient": _party_a(r),
        "subject_party_id": "P2",
        "decision": _ref(s, f"{s}-DVDS-2026-00417/DECISION/1"),
        "wording": _ref(s, f"{s}-DVDS-2026-00417/WORDING/1"),
        "deliver_by": _at(30, 17),
    },
    ("disclosure-delivered", 1): lambda s, r: {
        "recipient_party_id": "P1",
        "delivered_at": _at(25, 11),
        "mode": "in-person",
        "undertaking": "signed",
        "wording": _ref(s, f"{s}-DVDS-2026-00417/WORDING/1"),
        "support_plan": _ref(s, f"{s}-DVDS-2026-00417/SUPPORT/1"),
    },
    ("non-disclosure-notified", 1): lambda s, r: {
        "notified_party_id": "P1",
        "notified_at": _at(25, 11),
        "mode": "in-person",
        "told_not_no_risk": True,
        "letter_sent": False,
        "record": _ref(s, f"{s}-DVDS-2026-00417/ANNEX-I"),
    },
    ("delay-notified", 1): lambda s, r: {
        "notified_party_id": "P1",
        "notified_at": _at(27),
        "part_id": "ENQ-0001",
        "reason": "Responding force checks outstanding",
        "expected_by": _at(31),
    },
    ("malicious-application-marked", 1): lambda s, r: {
        "applicant_party_id": "P1",
        "marked_at": _at(12),
        "evidence": _ref(s, f"{s}-DVDS-2026-00417/EVIDENCE/2"),
        "rationale": "Applicant admitted the application was made to harass the subject",
    },
    ("case-closed", 1): lambda s, r: {
        "closing_stage": "disclosure",
        "outcome": "disclosure-made",
        "closed_at": _at(27, 16),
        "rationale": _ref(s, f"{s}-DVDS-2026-00417/CLOSURE"),
    },
    ("intelligence-submission", 1): lambda s, r: {
        "request": {
            "route": "right-to-ask",
            "jurisdiction": _jurisdiction(s),
            "received_at": T0.isoformat(),
            "receiving_force": s,
            "application_category": "genuine",
            "record": _ref(s, f"{s}-DVDS-2026-00417"),
        },
        "outcomes": [
            {
                "decision": "concern",
                "answer": True,
                "decided_at": _at(20, 11),
                "rationale": _ref(s, f"{s}-DVDS-2026-00417/DECISION/1#concerns"),
            },
            {
                "decision": "disclose",
                "answer": True,
                "decided_at": _at(20, 11),
                "rationale": _ref(s, f"{s}-DVDS-2026-00417/DECISION/1#disclose"),
            },
        ],
        "parties": [
            {
                "party_id": "P1",
                "role": "A",
                "is_applicant": True,
                "home_force": s,
                "person": _person("Alexandra", "Example", date(1991, 4, 17)),
                "sex": "female",
                "ethnicity": "W1",
                "disability": "no",
            },
            {
                "party_id": "P2",
                "role": "B",
                "home_force": r,
                "person": _person("Barry", "Sample", date(1986, 11, 2)),
                "sex": "male",
                "ethnicity": "W1",
                "disability": "not-known",
            },
        ],
        "requester_is_third_party": False,
        "forces_involved": sorted({s, r}),
        "closing_stage": "disclosure",
        "outcome": "disclosure-made",
        "closed_at": _at(27, 16),
    },
    ("receipt", 1): lambda s, r: {
        "status": "accepted",
        "in_reply_to": "01953a1e-8b7c-7d21-9a4f-3c2b1a0f9e8d",
        "answered_type": "uk.police.dvds.enquiry-requested.v1",
        "received_at": T0.isoformat(),
    },
    ("deadline-reminder", 1): lambda s, r: {**_deadline(s, r), "working_days_late": -1},
    ("overdue-notice", 1): lambda s, r: {
        **_deadline(s, r),
        "working_days_late": 2,
        "level": 1,
        "tasks": ["delay-notified"],
    },
    ("escalation-raised", 1): lambda s, r: {
        **_deadline(s, r),
        "working_days_late": 4,
        "level": 2,
        "escalated_to": s,
        "reason": "Responding force checks four working days late",
    },
    ("disclosure-handoff-acknowledged", 1): lambda s, r: {
        "recipient_party_id": "P1",
        "expected_by": _at(30, 17),
    },
    ("disclosure-handoff-declined", 1): lambda s, r: {
        "recipient_party_id": "P1",
        "reason": "recipient-not-in-area",
        "detail": "The recipient moved out of the area last month",
        "suggested_force": r,
    },
    ("malicious-marker-found", 1): lambda s, r: {
        "party_id": "P2",
        "marked_in_case": "CF-2025-004711",
        "marked_by": r,
        "marked_at": _at(2, 9),
    },
    ("police-employee-party-notified", 1): lambda s, r: {
        "party": {**_party_b(s), "police_employee_of": s},
        "employing_force": s,
        "route": "right-to-ask",
        "jurisdiction": _jurisdiction(r),
        "receiving_force": r,
        "coordinating_force": r,
        "opened_at": T0.isoformat(),
    },
    ("case-access-reported", 1): lambda s, r: {
        "report_id": "0195a2c4-3e1b-7c8d-9f20-6a1b2c3d4e5f",
        "employing_force": _employer(r),
        "party_ids": ["P2"],
        "reader_force": _reader(s, _employer(r)),
        "reader": f"{_reader(s, _employer(r)).lower()}.sup",
        "channel": "web",
        "allowed": True,
        "justification": "supervision of a cross-force DVDS/DSDAS case the force takes part in",
        "read_at": _at(3, 11),
    },
    ("step-completed", 1): lambda s, r: {
        "step": (
            "scotland.stage-2-initial-checks" if _scottish(s) else "ew-right-to-ask.initial-checks"
        ),
        "record": _ref(s, f"{s}-DVDS-2026-00417/ANNEX-D"),
    },
    ("applicant-identity-verified", 1): lambda s, r: {
        "applicant_party_id": "P1",
        "evidence": ["passport", "other"],
        "other_evidence": "Council tax bill at the home address",
        "face_to_face": True,
        "warnings_given": True,
        "record": _ref(s, f"{s}-DVDS-2026-00417/ANNEX-E"),
    },
    ("escalation-acknowledged", 1): lambda s, r: {
        "escalation_id": "01953a1f-0c2d-7e40-8b1a-5d6e7f8091a2",
        "part_id": "part-2",
        "deadline": "responding-force-answer",
        "level": 3,
    },
    ("part-chased", 1): lambda s, r: {
        "part_id": "ENQ-0001",
        "note": "The applicant has asked for news twice this week",
    },
    ("part-reassigned", 1): lambda s, r: {
        "part_id": "ENQ-0001",
        "assigned_to": f"{s}-DA-TEAM-2",
        "assignee_kind": "team",
    },
    ("deadline-extended", 1): lambda s, r: {
        "part_id": "ENQ-0001",
        "new_due_at": _at(16, 17),
        "reason": "Responding force awaiting a partner agency's records",
        "agreed_with": r,
    },
}


def _happened(value: Any, key: str = "") -> list[datetime]:
    """Every instant in `value` that reports something done, not a date asked for."""
    if isinstance(value, dict):
        return [when for k, item in value.items() for when in _happened(item, k)]
    if isinstance(value, list):
        return [when for item in value for when in _happened(item, key)]
    if isinstance(value, str) and key not in _AHEAD and _INSTANT.match(value):
        return [datetime.fromisoformat(value)]
    return []


def _shifted(value: Any, by: timedelta) -> Any:
    """`value` with every instant moved by `by`; dates of birth (no time) stay as they are."""
    if isinstance(value, dict):
        return {key: _shifted(item, by) for key, item in value.items()}
    if isinstance(value, list):
        return [_shifted(item, by) for item in value]
    if isinstance(value, str) and _INSTANT.match(value):
        return (datetime.fromisoformat(value) + by).isoformat()
    return value


def example_data(
    name: str,
    sender: str,
    recipient: str,
    version: int | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The example payload as JSON-ready data, dated from T0, or from `now` when given (the
    case opens at `now`; later steps fall after it, as they would in a real case)."""
    if version is None:
        version = REGISTRY.latest(name).VERSION
    REGISTRY.model_for(name, version)  # UNKNOWN_TYPE / UNKNOWN_VERSION for bad input
    builder = _BUILDERS.get((name, version))
    if builder is None:
        raise ContractError(ReasonCode.UNKNOWN_TYPE, f"no example for {name} v{version}")
    data = builder(sender, recipient)
    if now is None:
        return data
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    latest = max(_happened(data), default=T0)
    shifted: dict[str, Any] = _shifted(data, now.astimezone(UTC) - latest)
    return shifted


def example(
    name: str,
    sender: str,
    recipient: str,
    version: int | None = None,
    *,
    now: datetime | None = None,
) -> Message:
    """A validated example of message `name` (latest version unless `version` is given),
    dated relative to `now` when given."""
    data = example_data(name, sender, recipient, version, now=now)
    return REGISTRY.model_for(name, version or REGISTRY.latest(name).VERSION).model_validate(data)
