"""Small builders for domain tests: parties, an opened case, and command helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.events import DomainEvent
from crossforce.broker.domain.forums import AgencyKind, ForumBody, ForumChair, PoliceRank
from crossforce.broker.domain.opening import open_case
from crossforce.broker.domain.parties import Party, PartyRole
from crossforce.broker.domain.routes import Route

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(hours: float = 0) -> datetime:
    return T0 + timedelta(hours=hours)


def applicant_a(home: str, *, verified: bool = True, anonymous: bool = False) -> Party:
    return Party(
        "A", PartyRole.A, home, is_applicant=True, identity_verified=verified, anonymous=anonymous
    )


def subject_b(home: str, *, key: str = "subject-b-1", division: str | None = None) -> Party:
    return Party("B", PartyRole.B, home, subject_key=key, division=division)


def opened(
    *parties: Party,
    receiving: str = "KENT",
    coordinating: str = "KENT",
    route: Route = Route.RIGHT_TO_ASK,
    ref: str = "CF-1",
    context: DomainContext | None = None,
) -> tuple[Case, list[DomainEvent]]:
    return open_case(
        c.OpenCase(
            case_ref=ref,
            actor=receiving,
            at=at(),
            receiving_force=receiving,
            coordinating_force=coordinating,
            route=route,
            parties=parties,
        ),
        context,
    )


EW_FORUM = (
    ForumBody("Kent Police", AgencyKind.POLICE),
    ForumBody("Kent Probation", AgencyKind.PROBATION),
    ForumBody("Oasis IDVA", AgencyKind.IDVA),
)

DMF_BODIES = (
    ForumBody("PSOS", AgencyKind.POLICE),
    ForumBody("Edinburgh Social Work", AgencyKind.SOCIAL_WORK),
    ForumBody("NHS Lothian", AgencyKind.HEALTH),
)

SUPERINTENDENT = ForumChair(PoliceRank.SUPERINTENDENT)


def names(events: list[DomainEvent]) -> list[str]:
    return [event.name for event in events]


def only(events: list[DomainEvent], cls: type[DomainEvent]) -> DomainEvent:
    found = [event for event in events if isinstance(event, cls)]
    assert len(found) == 1, f"expected one {cls.__name__}, got {names(events)}"
    return found[0]
