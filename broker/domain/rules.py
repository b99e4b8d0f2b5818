"""Configurable rule settings.

Where the sources disagree (domain.md §9) the choice is a setting with the default named in
the digest, never a silent choice in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SpentConvictionPolicy(StrEnum):
    """How spent convictions are treated in a disclosure decision (§9 item 5)."""

    # 001 ¶67: may be disclosed, with care. Accepted, and the decision carries a warning.
    DISCLOSE_WITH_CARE = "disclose-with-care"
    # 003 §9.4: must not reach the DMF, A or C. Refused.
    EXCLUDE = "exclude"


@dataclass(frozen=True, slots=True)
class DomainSettings:
    """Rule settings. Defaults follow domain.md; each CONFLICT is named."""

    # §9 item 6 (001 ¶73 vs APP 002 L1841-47): is Children's Social Care required at the
    # England & Wales forum when children may be affected? Default: no (Home Office guidance).
    childrens_social_care_required_at_forum: bool = False
    # §9 item 5: spent convictions in an England & Wales decision.
    spent_convictions_england_wales: SpentConvictionPolicy = (
        SpentConvictionPolicy.DISCLOSE_WITH_CARE
    )
    # §9 item 5: spent convictions in a Scottish result or decision (003 §9.4).
    spent_convictions_scotland: SpentConvictionPolicy = SpentConvictionPolicy.EXCLUDE
    # §9 item 8: Kent's non-disclosure letter (000 §3.7.6) vs no written correspondence to the
    # applicant (001 ¶89(b)(iv)). Default: no letter.
    non_disclosure_letter_allowed: bool = False
    # §1.2 gap: who files the final intelligence report in a cross-force case. Default: the
    # co-ordinating force. When False, the force that owns the intelligence part files it.
    coordinating_force_files_intelligence: bool = True
