"""Decision forums: the England & Wales multi-agency forum and the Scottish DMF (§1.3).

The DMF rules are refusals (003 §9.11-9.12); the England & Wales composition rules are
warnings on the decision, because the police make the final decision (001 ¶71) and the
composition is guidance ("ideally MARAC", 001 ¶72-73).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from crossforce.broker.domain.errors import rule_violation
from crossforce.contracts.forces import POLICE_SCOTLAND


class AgencyKind(StrEnum):
    POLICE = "police"
    PROBATION = "probation"
    IDVA = "idva"
    CHILDRENS_SOCIAL_CARE = "childrens-social-care"
    SOCIAL_WORK = "social-work"
    HEALTH = "health"
    HOUSING = "housing"
    EDUCATION = "education"
    OTHER = "other"


class ForumKind(StrEnum):
    MARAC = "marac"
    MAPPA = "mappa"
    CHILD_PROTECTION = "child-protection"
    DA_HUB = "da-hub"  # Kent: DA Hub DI chairs when no other forum holds the case [000 §3.8]
    LOCAL_PANEL = "local-panel"
    DMF = "dmf"


class PoliceRank(StrEnum):
    CONSTABLE = "constable"
    SERGEANT = "sergeant"
    INSPECTOR = "inspector"
    CHIEF_INSPECTOR = "chief-inspector"
    SUPERINTENDENT = "superintendent"
    CHIEF_SUPERINTENDENT = "chief-superintendent"
    ASSISTANT_CHIEF_CONSTABLE = "assistant-chief-constable"
    DEPUTY_CHIEF_CONSTABLE = "deputy-chief-constable"
    CHIEF_CONSTABLE = "chief-constable"

    @property
    def seniority(self) -> int:
        return list(PoliceRank).index(self)


@dataclass(frozen=True, slots=True)
class ForumBody:
    """A body present at a forum. Police Scotland is `POLICE` named "PSOS" or "Police Scotland"."""

    name: str
    kind: AgencyKind
    data_controller: bool = True
    force: str | None = None  # a police body's force code, when the sender gives it

    @property
    def is_police_scotland(self) -> bool:
        """A member body is known by its kind, not its exact name (003 §9.11–9.12): a DMF is a
        Police Scotland forum, so its police body is Police Scotland ("Police Scotland –
        Edinburgh City Division" included) unless it names another force."""
        if self.kind is not AgencyKind.POLICE:
            return False
        return self.force is None or self.force.split("_")[0] == POLICE_SCOTLAND

    @property
    def identity(self) -> str:
        """Who the body is, for counting distinct bodies: every part of Police Scotland is
        one body."""
        if self.is_police_scotland:
            return POLICE_SCOTLAND
        return f"{self.kind.value}:{self.force or ' '.join(self.name.casefold().split())}"


@dataclass(frozen=True, slots=True)
class ForumChair:
    rank: PoliceRank
    nominated_deputy: bool = False


@dataclass(frozen=True, slots=True)
class DisclosableItem:
    """One piece of information that may be disclosed (a conviction, an intelligence item)."""

    reference: str
    description: str
    spent_conviction: bool = False


def check_dmf_composition(bodies: Iterable[ForumBody], chair: ForumChair) -> None:
    """Refuse a DMF decision taken by a forum that is not properly constituted."""
    bodies = tuple(bodies)
    distinct = {body.identity for body in bodies}
    if len(distinct) < 3:
        # 003 §9.12: at least three bodies.
        raise rule_violation(
            f"a DMF needs at least three bodies; {len(distinct)} present", "dmf-quorum"
        )
    if not any(body.is_police_scotland for body in bodies):
        # 003 §9.12: Police Scotland must always be one of them.
        raise rule_violation("Police Scotland must be one of the DMF bodies", "dmf-police-scotland")
    if not all(body.data_controller for body in bodies):
        # 003 §9.12: every member body must be a registered data controller.
        raise rule_violation(
            "every DMF body must be a registered data controller", "dmf-data-controller"
        )
    minimum = PoliceRank.CHIEF_INSPECTOR if chair.nominated_deputy else PoliceRank.SUPERINTENDENT
    if chair.rank.seniority < minimum.seniority:
        # 003 §9.11: the divisional Superintendent, or a nominated deputy of Chief Inspector+.
        raise rule_violation(
            f"a DMF chair must be a Superintendent or a deputy of at least Chief Inspector; "
            f"got {chair.rank}{' (deputy)' if chair.nominated_deputy else ''}",
            "dmf-chair-rank",
        )


def forum_warnings(
    bodies: Iterable[ForumBody], *, children_involved: bool, childrens_social_care_required: bool
) -> tuple[str, ...]:
    """Warnings for an England & Wales forum that lacks the expected bodies (001 ¶73)."""
    kinds = {body.kind for body in bodies}
    warnings: list[str] = []
    for kind, label in (
        (AgencyKind.POLICE, "forum-missing-police"),
        (AgencyKind.PROBATION, "forum-missing-probation"),
        (AgencyKind.IDVA, "forum-missing-idva"),
    ):
        if kind not in kinds:
            warnings.append(label)
    # CONFLICT §9 item 6: APP adds Children's Social Care when children may be affected.
    if (
        childrens_social_care_required
        and children_involved
        and AgencyKind.CHILDRENS_SOCIAL_CARE not in kinds
    ):
        warnings.append("forum-missing-childrens-social-care")
    return tuple(warnings)
