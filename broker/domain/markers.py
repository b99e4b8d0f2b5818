"""Malicious-application markers kept against a subject (domain.md §4 item 5).

The marker is held against an opaque subject key, so a later request about the same subject,
from any force, sees it [000 §3.7.7]; the evidence is documented [003 §8.11]. This is a pure
value: the application layer persists it and passes it in when a case is opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class MaliciousMarker:
    subject_key: str
    case_ref: str
    marked_by: str
    marked_at: datetime
    evidence: str


@dataclass(frozen=True, slots=True)
class SubjectMarkers:
    """An immutable lookup from subject key to the markers held against it."""

    _by_subject: Mapping[str, tuple[MaliciousMarker, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @classmethod
    def of(cls, markers: Iterable[MaliciousMarker]) -> SubjectMarkers:
        result = cls()
        for marker in markers:
            result = result.with_marker(marker)
        return result

    def with_marker(self, marker: MaliciousMarker) -> SubjectMarkers:
        merged = dict(self._by_subject)
        merged[marker.subject_key] = (*merged.get(marker.subject_key, ()), marker)
        return SubjectMarkers(MappingProxyType(merged))

    def for_subject(self, subject_key: str) -> tuple[MaliciousMarker, ...]:
        return self._by_subject.get(subject_key, ())

    def __contains__(self, subject_key: object) -> bool:
        return subject_key in self._by_subject

    def __len__(self) -> int:
        return sum(len(markers) for markers in self._by_subject.values())


def markers_from_events(events: Iterable[object]) -> tuple[MaliciousMarker, ...]:
    """The markers a batch of events asks the application layer to persist."""
    from crossforce.broker.domain.events import MaliciousApplicationMarked

    return tuple(
        MaliciousMarker(ev.subject_key, ev.case_ref, ev.actor, ev.at, ev.evidence)
        for ev in events
        if isinstance(ev, MaliciousApplicationMarked)
    )
