"""The roles a force can hold in a case (domain.md §1.2; 000 §3.10)."""

from __future__ import annotations

from enum import StrEnum


class ForceRole(StrEnum):
    RECEIVING = "receiving"  # where the applicant lodged the enquiry [§3.10.2]
    COORDINATING = "coordinating"  # where the applicant lives; oversees [§3.10.3, §3.10.7]
    RESPONDING = "responding"  # conducts enquiries for parties in its area [§3.10.4]
    APPLICANTS_HOME_FORCE = "applicants-home-force"  # liaison and disclosure to the applicant
    THIRD_PARTYS_HOME_FORCE = "third-partys-home-force"  # disclosure to a non-applicant [§3.10.6]
    DECISION_MAKING_FORUM = "decision-making-forum"  # a Scottish divisional DMF [003 §9.11]
