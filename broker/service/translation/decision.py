"""The disclosure decision (contracts/messages/decision.py)."""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.forums import AgencyKind, ForumBody, ForumKind
from crossforce.broker.service.translation.context import Translation, Translator
from crossforce.contracts.messages import decision as m

FORUMS = {
    "marac": ForumKind.MARAC,
    "mappa": ForumKind.MAPPA,
    "child-protection": ForumKind.CHILD_PROTECTION,
    "panel": ForumKind.LOCAL_PANEL,
    "police": ForumKind.LOCAL_PANEL,
}


def agency(value: str) -> AgencyKind:
    try:
        return AgencyKind(value)
    except ValueError:
        return AgencyKind.OTHER


def decision_recorded(msg: m.DecisionRecorded, t: Translation) -> list[c.Command]:
    return [
        c.RecordDecision(
            **t.base,
            concern=msg.concerns.answer,
            disclose=msg.disclose.answer,
            rationale=msg.disclose.rationale,
            recipient_party_id=msg.disclosure_recipient_party_id,
            inform_b=msg.inform_b.answer,
            seek_representations=msg.representations_from_b.answer,
            mappa_iom_referral=msg.mappa_iom_referral.answer,
            forum=FORUMS.get(msg.forum.value, ForumKind.LOCAL_PANEL),
            bodies=tuple(
                ForumBody(a.agency_name or a.agency.value, agency(a.agency.value))
                for a in msg.attendees
            ),
        )
    ]


TRANSLATORS: dict[type[Any], Translator] = {m.DecisionRecorded: decision_recorded}
