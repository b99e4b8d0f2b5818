"""Enquiries: the co-ordinating force asks a responding force to check the parties in its area.

A responding force starts only once informed by the co-ordinating force (000 §3.10.8), and it
receives only the parties it must check (domain.md §6 data minimisation).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field, model_validator

from crossforce.contracts.envelope import Jurisdiction
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import (
    ForceCode,
    Identifier,
    OneLine,
    Part,
    Party,
    PartyId,
    RecordReference,
    unique,
)
from crossforce.contracts.registry import REGISTRY


class CheckType(StrEnum):
    """Checks from both catalogues (domain.md §7). OTHER covers a local check outside them and
    needs `check_name`."""

    PNC = "PNC"
    PND = "PND"
    VISOR = "VISOR"
    LOCAL_INTELLIGENCE = "LOCAL_INTELLIGENCE"
    PARTNER_AGENCY = "PARTNER_AGENCY"
    DASH = "DASH"
    CHS = "CHS"
    CRS = "CRS"
    IVPD = "IVPD"
    SID = "SID"
    INTERNATIONAL = "INTERNATIONAL"
    DAQ = "DAQ"
    OTHER = "OTHER"


# 001 ¶35, ¶53–56 (England & Wales) and 003 §7.6, §8.2, §8.18 (Scotland).
CHECK_CATALOGUE: dict[Jurisdiction, frozenset[CheckType]] = {
    Jurisdiction.ENGLAND_WALES: frozenset(
        {
            CheckType.PNC,
            CheckType.PND,
            CheckType.VISOR,
            CheckType.LOCAL_INTELLIGENCE,
            CheckType.PARTNER_AGENCY,
            CheckType.DASH,
            CheckType.OTHER,
        }
    ),
    Jurisdiction.SCOTLAND: frozenset(
        {
            CheckType.PNC,
            CheckType.CHS,
            CheckType.CRS,
            CheckType.IVPD,
            CheckType.SID,
            CheckType.VISOR,
            CheckType.PND,
            CheckType.INTERNATIONAL,
            CheckType.DAQ,
            CheckType.OTHER,
        }
    ),
    Jurisdiction.NORTHERN_IRELAND: frozenset(),
}
RISK_TOOLS = frozenset({CheckType.DASH, CheckType.DAQ})


class CheckResult(StrEnum):
    NO_TRACE = "no-trace"
    TRACE_NO_CONCERN = "trace-no-concern"
    TRACE_CONCERN = "trace-concern"
    NOT_DONE = "not-done"


class RiskLevel(StrEnum):
    """DASH / DAQ grading (001 ¶53, 003 §8.18)."""

    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"


class EnquiryDeclineReason(StrEnum):
    PARTY_NOT_IN_AREA = "party-not-in-area"
    INSUFFICIENT_IDENTITY = "insufficient-identity"
    DUPLICATE_ENQUIRY = "duplicate-enquiry"
    NOT_A_RESPONDING_FORCE = "not-a-responding-force"
    OTHER = "other"


def _checks_in_catalogue(checks: list[CheckType], jurisdiction: Jurisdiction) -> None:
    outside = sorted(set(checks) - CHECK_CATALOGUE[jurisdiction])
    if outside:
        raise ValueError(f"checks {outside} are not in the {jurisdiction} catalogue")


@REGISTRY.register
class EnquiryRequested(Message):
    """The co-ordinating force asks a responding force to run checks on the parties in its area
    (domain.md §1.2, §7; 000 §3.10.4, §3.10.8; 001 ¶35; 003 §7.6)."""

    NAME = "enquiry-requested"
    VERSION = 1

    enquiry_id: Identifier
    responding_force: ForceCode
    # The catalogue the checks come from: the responding force's jurisdiction.
    jurisdiction: Jurisdiction
    party_ids: list[PartyId] = Field(min_length=1, max_length=20)
    # Exactly the parties named in party_ids, with the identity needed to search for them.
    parties: list[Party] = Field(min_length=1, max_length=20)
    requested_checks: list[CheckType] = Field(min_length=1, max_length=len(CheckType))
    due_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _coherent(self) -> EnquiryRequested:
        unique(self.party_ids, "party_id")
        unique(list(self.requested_checks), "check")
        _checks_in_catalogue(self.requested_checks, self.jurisdiction)
        if sorted(p.party_id for p in self.parties) != sorted(self.party_ids):
            raise ValueError("parties must be exactly the parties named in party_ids")
        return self


@REGISTRY.register
class EnquiryAcknowledged(Message):
    """The responding force has the enquiry and is working on it (domain.md §1.2,
    000 §3.10.8)."""

    NAME = "enquiry-acknowledged"
    VERSION = 1

    enquiry_id: Identifier
    expected_by: AwareDatetime | None = None


@REGISTRY.register
class EnquiryDeclined(Message):
    """The responding force will not run the enquiry, e.g. the party does not live in its area
    (domain.md §1.2, 000 §3.10.4)."""

    NAME = "enquiry-declined"
    VERSION = 1

    enquiry_id: Identifier
    reason: EnquiryDeclineReason
    detail: OneLine | None = None
    # For party-not-in-area: where the responding force believes the party lives.
    suggested_force: ForceCode | None = None


class CheckOutcomeV1(Part):
    check: OneLine
    outcome: OneLine


@REGISTRY.register
class EnquiryResultV1(Message):
    """Results of a responding force's checks, as free text (domain.md §7 Annex D,
    000 §3.10.4). Superseded by v2; still accepted and upcast."""

    NAME = "enquiry-result"
    VERSION = 1

    enquiry_id: Identifier
    checks: list[CheckOutcomeV1] = Field(min_length=1, max_length=100)


class CheckOutcome(Part):
    """One check on one party (001 Annex D)."""

    # Absent only for results upcast from v1, which did not say which party a check was on.
    party_id: PartyId | None = None
    check: CheckType
    check_name: OneLine | None = None
    result: CheckResult
    risk_level: RiskLevel | None = None
    reference: RecordReference | None = None
    # Spent convictions may be disclosed with care in E&W but must never reach a DMF, A or C
    # in Scotland (001 ¶67; 003 §9.4), so every trace says whether it rests on one.
    spent_conviction: bool = False
    # Free text from the responding force; v1 outcomes are carried here verbatim.
    note: OneLine | None = None

    @model_validator(mode="after")
    def _coherent(self) -> CheckOutcome:
        if self.check is CheckType.OTHER and self.check_name is None:
            raise ValueError("an OTHER check needs check_name")
        if self.risk_level is not None and self.check not in RISK_TOOLS:
            raise ValueError("risk_level belongs to a DASH or DAQ check only")
        if self.spent_conviction and self.result in (CheckResult.NO_TRACE, CheckResult.NOT_DONE):
            raise ValueError("a spent conviction is a trace")
        return self


@REGISTRY.register
class EnquiryResult(Message):
    """Structured results of a responding force's checks (domain.md §7 Annex D and check
    catalogues; 001 ¶35, ¶53–56; 003 §7.6, §8.2, §8.18)."""

    NAME = "enquiry-result"
    VERSION = 2

    enquiry_id: Identifier
    jurisdiction: Jurisdiction
    checks: list[CheckOutcome] = Field(min_length=1, max_length=200)
    completed_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _coherent(self) -> EnquiryResult:
        _checks_in_catalogue([c.check for c in self.checks], self.jurisdiction)
        return self

    @property
    def any_concern(self) -> bool:
        return any(c.result is CheckResult.TRACE_CONCERN for c in self.checks)


# v1 -> v2 ------------------------------------------------------------------------------------

_CHECK_ALIASES: dict[str, CheckType] = {
    "PNC": CheckType.PNC,
    "PND": CheckType.PND,
    "VISOR": CheckType.VISOR,
    "LOCALINTELLIGENCE": CheckType.LOCAL_INTELLIGENCE,
    "LOCALINTEL": CheckType.LOCAL_INTELLIGENCE,
    "INTELLIGENCE": CheckType.LOCAL_INTELLIGENCE,
    "PARTNERAGENCY": CheckType.PARTNER_AGENCY,
    "PARTNERAGENCIES": CheckType.PARTNER_AGENCY,
    "DASH": CheckType.DASH,
    "SDASH": CheckType.DASH,
    "CHS": CheckType.CHS,
    "CRS": CheckType.CRS,
    "IVPD": CheckType.IVPD,
    "SID": CheckType.SID,
    "INTERNATIONAL": CheckType.INTERNATIONAL,
    "INTERNATIONALCHECKS": CheckType.INTERNATIONAL,
    "DAQ": CheckType.DAQ,
}
_SCOTLAND_ONLY = (
    CHECK_CATALOGUE[Jurisdiction.SCOTLAND] - CHECK_CATALOGUE[Jurisdiction.ENGLAND_WALES]
)


def check_type_from_text(text: str) -> CheckType:
    """'ViSOR', 'local intelligence', 'iVPD' ... -> CheckType; anything else is OTHER."""
    key = re.sub(r"[^A-Z]", "", text.upper())
    return _CHECK_ALIASES.get(key, CheckType.OTHER)


_NOT_DONE = re.compile(r"\b(not (done|checked|completed|available|possible)|n/a|unable)\b")
_NO_CONCERN = re.compile(r"\b(no concerns?|not of concern|nothing of concern)\b")
_NO_TRACE = re.compile(
    r"\b(no trace|nil( trace)?|none|no records?|nothing (found|known|recorded))\b"
)
_CONCERN = re.compile(r"concern|risk|warning|marker|danger")
_TRACE = re.compile(r"trace|record|convict|offen[cs]|intel|arrest|incident|caution")


def check_result_from_text(text: str) -> CheckResult:
    """Read a v1 free-text outcome. Whatever cannot be read as clearly negative becomes
    trace-concern: risk is never downgraded by a translation (002 L144–146)."""
    lowered = " ".join(text.lower().split())
    if _NOT_DONE.search(lowered):
        return CheckResult.NOT_DONE
    no_concern = bool(_NO_CONCERN.search(lowered))
    no_trace = bool(_NO_TRACE.search(lowered))
    remainder = _NO_TRACE.sub(" ", _NO_CONCERN.sub(" ", lowered))
    if _CONCERN.search(remainder):
        return CheckResult.TRACE_CONCERN
    if _TRACE.search(remainder):
        return CheckResult.TRACE_NO_CONCERN if no_concern else CheckResult.TRACE_CONCERN
    if no_trace:
        return CheckResult.NO_TRACE
    if no_concern:
        return CheckResult.TRACE_NO_CONCERN
    return CheckResult.TRACE_CONCERN


_RISK_WORDS = {"high": RiskLevel.HIGH, "medium": RiskLevel.MEDIUM, "standard": RiskLevel.STANDARD}


@REGISTRY.upcaster("enquiry-result", 1)
def _enquiry_result_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    checks = []
    for old in data["checks"]:
        check = check_type_from_text(old["check"])
        outcome: dict[str, Any] = {
            "check": check.value,
            "result": check_result_from_text(old["outcome"]).value,
            "note": old["outcome"],
        }
        if check is CheckType.OTHER:
            outcome["check_name"] = old["check"]
        if check in RISK_TOOLS:
            words = set(re.findall(r"[a-z]+", old["outcome"].lower()))
            # The highest grade mentioned wins, for the same reason as above.
            for word in ("high", "medium", "standard"):
                if word in words:
                    outcome["risk_level"] = _RISK_WORDS[word].value
                    if outcome["result"] != CheckResult.NOT_DONE:
                        concern = word != "standard"
                        outcome["result"] = (
                            CheckResult.TRACE_CONCERN if concern else CheckResult.TRACE_NO_CONCERN
                        ).value
                    break
        checks.append(outcome)
    scottish = any(CheckType(c["check"]) in _SCOTLAND_ONLY for c in checks)
    jurisdiction = Jurisdiction.SCOTLAND if scottish else Jurisdiction.ENGLAND_WALES
    # v1 did not police catalogues, so a result may mix them; a check from the other
    # catalogue is kept, by its v1 name, as OTHER rather than refused.
    for outcome, old in zip(checks, data["checks"], strict=True):
        if CheckType(outcome["check"]) not in CHECK_CATALOGUE[jurisdiction]:
            outcome.update(check=CheckType.OTHER.value, check_name=old["check"])
            outcome.pop("risk_level", None)
    return {"enquiry_id": data["enquiry_id"], "jurisdiction": jurisdiction.value, "checks": checks}
