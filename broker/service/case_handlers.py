"""Wire messages in, domain commands applied, need-to-know deliveries out.

This is the only place where the contract vocabulary (enquiry ids, Annex G answers, party
records) meets the domain's (part ids, commands, events). The domain decides who may do what
and who needs to know; this module translates and persists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.audience import deliveries as need_to_know
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.errors import DomainRefusal
from crossforce.broker.domain.handling import handle as open_or_handle
from crossforce.broker.domain.markers import SubjectMarkers, markers_from_events
from crossforce.broker.domain.parties import Party
from crossforce.broker.domain.sla import SlaPolicy, load_policy
from crossforce.broker.service.case_cache import CaseCache
from crossforce.broker.service.deadlines import (
    deadlines_fingerprint,
    sync_deadlines,
    wanted_deadlines,
)
from crossforce.broker.service.hub_messages import HubMessages
from crossforce.broker.service.ports import StoredCase, UnitOfWork
from crossforce.broker.service.sealed_persons import persons_key, seal_persons, unseal_persons
from crossforce.broker.service.translation import Translation, commands_for
from crossforce.contracts.envelope import HUB_FORCE_CODE, Envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.messages.base import Message
from crossforce.ledger.subject_key import subject_key

# Message types only the hub may originate.
HUB_ONLY = {
    "receipt",
    "overdue-notice",
    "escalation-raised",
    "deadline-reminder",
    "disclosure-handoff",
    "malicious-marker-found",
    "police-employee-party-notified",
    "case-access-reported",
}


@dataclass(frozen=True, slots=True)
class Delivery:
    force: str
    envelope: Envelope
    priority: bool = False
    applicant_channel: bool = True


@dataclass(frozen=True, slots=True)
class HubMessage:
    """A message the hub itself originates, and per recipient whether it may reach the
    applicant's channel."""

    envelope: Envelope
    applicant_channel: dict[str, bool]


@dataclass(slots=True)
class HandlerOutcome:
    deliveries: list[Delivery] = field(default_factory=list)
    hub_messages: list[HubMessage] = field(default_factory=list)
    priority: bool = False
    events: list[e.DomainEvent] = field(default_factory=list)


# Hooks called inside the transaction after a command is applied (deadlines, ledger).
CaseHook = Callable[[UnitOfWork, Case, Envelope, Message, datetime], None]


class CaseHandlers:
    def __init__(
        self,
        *,
        subject_key_secret: bytes,
        context: DomainContext | None = None,
        hooks: tuple[CaseHook, ...] = (),
        policy: SlaPolicy | None = None,
        cache: CaseCache | None = None,
    ) -> None:
        self.policy = policy or load_policy(None)
        # Cases as this process last committed them (see case_cache for the guards).
        self.cache = cache or CaseCache()
        self.context = context or DomainContext(resolve_home_force=_resolve_by_postcode)
        self.subject_key_secret = subject_key_secret
        self.persons_key = persons_key(subject_key_secret)
        self.hooks = hooks

    def apply(
        self, uow: UnitOfWork, envelope: Envelope, message: Message, now: datetime
    ) -> HandlerOutcome:
        name = envelope.name
        if name in HUB_ONLY:
            raise ContractError(ReasonCode.NOT_AUTHORISED, f"only the hub may send {name}")
        case_ref = envelope.caseref
        row = self.cache.get(case_ref)
        cached = row is not None
        if row is None:
            row = uow.cases.get(case_ref)
        while True:
            state: dict[str, Any] = dict(row.state) if row else {}
            case = Case.from_dict(state["case"]) if row else None
            if case is not None:
                _adopt_enquiry_ids(case, state.get("aliases", {}))
            listed = case.participants() if case is not None else frozenset()
            persons = self._persons(case_ref, state)
            translation = Translation(
                envelope,
                message,
                case,
                self.policy,
                self.subject_key,
                persons=dict(persons),
                notice=lambda envelope_id: uow.notices.get(envelope_id, case_ref),
            )
            events: list[e.DomainEvent] = []
            try:
                commands = commands_for(translation)
                context = self._context(uow, commands)
                for command in commands:
                    case, produced = open_or_handle(case, command, context)
                    events += produced
                    translation.learn(case)
            except (ContractError, DomainRefusal) as refusal:
                # A refusal writes no case row, so no version check saw the copy it was
                # decided on: a cached copy must still be the stored one.
                stored = row.version if row else None
                if cached and uow.cases.version_of(case_ref) != stored:
                    self.cache.forget(case_ref)
                    row, cached = uow.cases.get(case_ref), False
                    continue
                if isinstance(refusal, DomainRefusal):
                    raise ContractError(
                        refusal.code, f"{refusal.rule}: {refusal.message}"
                    ) from None
                raise
            break
        assert case is not None
        sealed = state.get("sealed_persons")
        if translation.persons and (sealed is None or translation.persons != persons):
            sealed = seal_persons(self.persons_key, case.case_ref, translation.persons)
        # Deadlines follow the parts: new parts are timed, answered parts stop their timers.
        wanted = wanted_deadlines(case, self.policy)
        fingerprint = deadlines_fingerprint(wanted)
        saved = {"case": case.to_dict(), "sealed_persons": sealed, "deadlines": fingerprint}
        self._save(
            uow,
            row,
            case,
            saved,
            case.participants() - listed,
            events,
            now,
            acted_by=envelope.actor,
        )
        if fingerprint != state.get("deadlines"):
            sync_deadlines(uow, case, now, self.policy, wanted)
        for hook in self.hooks:
            hook(uow, case, envelope, message, now)
        return self._outcome(
            case, envelope, events, HubMessages(envelope, translation.persons), now
        )

    # -- persistence ---------------------------------------------------------------------
    def _persons(self, case_ref: str, state: dict[str, Any]) -> dict[str, Any]:
        if "persons" in state:  # a row written before persons were sealed
            return dict(state["persons"])
        return unseal_persons(self.persons_key, case_ref, state.get("sealed_persons"))

    def _context(self, uow: UnitOfWork, commands: list[c.Command]) -> DomainContext:
        keys = {
            p.subject_key
            for cmd in commands
            if isinstance(cmd, c.OpenCase)
            for p in cmd.parties
            if p.subject_key
        }
        if not keys:
            return self.context
        markers = SubjectMarkers.of(uow.markers.for_subjects(keys))
        return DomainContext(self.context.settings, markers, self.context.resolve_home_force)

    def _save(
        self,
        uow: UnitOfWork,
        row: StoredCase | None,
        case: Case,
        state: dict[str, Any],
        new_participants: frozenset[str],
        events: list[e.DomainEvent],
        now: datetime,
        acted_by: str | None = None,
    ) -> None:
        # Whatever rolls this save back (its savepoint, the batch, a version check failing
        # now or at commit) drops the copy, so the retry reads the stored case afresh.
        uow.on_rollback(lambda: self.cache.forget(case.case_ref))
        uow.cases.save(
            case.case_ref,
            case.version,
            state,
            case.index_columns(),
            sorted(new_participants),
            now,
            expected_version=row.version if row else None,
        )
        # Kept at once, so a later message of the case in the same batch reads this copy.
        self.cache.put(StoredCase(case.case_ref, case.version, state))
        for marker in markers_from_events(events):
            uow.markers.add(marker)
        for event in events:
            uow.history.add(
                case.case_ref, event.at, event.actor, event.name, _summary(event), acted_by
            )

    # -- need-to-know --------------------------------------------------------------------
    def _outcome(
        self,
        case: Case,
        envelope: Envelope,
        events: list[e.DomainEvent],
        hub: HubMessages,
        now: datetime,
    ) -> HandlerOutcome:
        outcome = HandlerOutcome(priority=any(ev.priority for ev in events), events=events)
        recipients: dict[str, bool] = {}
        for event in events:
            if isinstance(event, e.DisclosureHandedOff):
                channels = {d.force: d.applicant_channel for d in need_to_know(case, event)}
                outcome.hub_messages.append(HubMessage(hub.handoff(case, event, now), channels))
                continue
            if isinstance(event, e.PoliceEmployeeParty):
                # 002 L899–975: only the employing force's PSD, never the applicant's channel.
                outcome.hub_messages.append(
                    HubMessage(hub.psd_notice(case, event, now), {event.psd: False})
                )
                continue
            if isinstance(event, e.MaliciousMarkerFound):
                # 000 §3.7.7: the officers of the later case see the marker, through their own
                # force system; never through the applicant's channel.
                channels = {d.force: False for d in need_to_know(case, event)}
                outcome.hub_messages.append(
                    HubMessage(hub.marker_found(case, event, now), channels)
                )
                continue
            for delivery in need_to_know(case, event):
                allowed = recipients.get(delivery.force, True) and delivery.applicant_channel
                recipients[delivery.force] = allowed
        recipients.pop(envelope.senderforce, None)
        recipients.pop(HUB_FORCE_CODE, None)
        outcome.deliveries = [
            Delivery(force, envelope, outcome.priority, channel)
            for force, channel in sorted(recipients.items())
        ]
        return outcome

    def subject_key(self, person: Any) -> str | None:
        """The keyed, privacy-preserving subject key the ledger uses too (HMAC of identity)."""
        if person is None or person.date_of_birth is None:
            return None
        identity = {
            "surname": person.family_name,
            "forenames": person.given_names,
            "date_of_birth": person.date_of_birth,
        }
        return subject_key(self.subject_key_secret, identity)


def _adopt_enquiry_ids(case: Case, aliases: dict[str, list[str]]) -> None:
    """A case row written before enquiry ids were kept on parts held them beside the case,
    as enquiry id -> part ids: put them on the parts (the row is saved without them)."""
    for enquiry_id, part_ids in aliases.items():
        for part in case.parts:
            if part.part_id in part_ids and part.enquiry_id is None:
                part.enquiry_id = enquiry_id


def _resolve_by_postcode(party: Party) -> str | None:
    return None  # parties arrive with a home force, resolved from the postcode if needed


def _summary(event: e.DomainEvent) -> str:
    details = {
        k: v
        for k, v in event.to_dict().items()
        if k not in {"name", "case_ref", "at", "actor", "priority"} and v not in (None, "")
    }
    return ", ".join(f"{k}={v}" for k, v in details.items())[:500]
