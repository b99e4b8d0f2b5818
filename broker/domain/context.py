"""What a command is applied with, besides the case: settings, markers, a force resolver."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from crossforce.broker.domain.markers import SubjectMarkers
from crossforce.broker.domain.parties import Party
from crossforce.broker.domain.rules import DomainSettings

# Given a party, return the force code where they live, or None to use `party.home_force`.
# Must be pure (for example a postcode table already in memory).
HomeForceResolver = Callable[[Party], str | None]


def _no_resolver(party: Party) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class DomainContext:
    settings: DomainSettings = field(default_factory=DomainSettings)
    markers: SubjectMarkers = field(default_factory=SubjectMarkers)
    resolve_home_force: HomeForceResolver = _no_resolver
