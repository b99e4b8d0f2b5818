"""Scottish Decision Making Forums (contracts/messages/dmf.py)."""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.forums import DisclosableItem, ForumBody, ForumChair, PoliceRank
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.sla import SlaStep, due_at
from crossforce.broker.service.translation.context import Translation, Translator, ref_text
from crossforce.broker.service.translation.decision import agency
from crossforce.contracts.messages import dmf as m

RANKS = {rank.name: rank for rank in PoliceRank}


def dmf_referral(msg: m.DmfReferral, t: Translation) -> list[c.Command]:
    items = (
        DisclosableItem(
            ref_text(msg.referral_pack), "referral pack", msg.includes_spent_convictions
        ),
    )
    due = due_at(SlaStep.SCOTLAND_STAGE_4_DMF_REFERRAL, t.envelope.time, msg.dmf, t.policy)
    return [
        c.ReferToDmf(**t.base, party_id=party_id, dmf=msg.dmf, items=items, due_at=due)
        for party_id in msg.party_ids
    ]


def dmf_decision(msg: m.DmfDecision, t: Translation) -> list[c.Command]:
    part = t.part_of_kind(PartKind.DMF_REFERRAL, msg.dmf)
    return [
        c.RecordDmfDecision(
            **t.base,
            part_id=part,
            concern=msg.concern,
            recommend_disclosure=msg.recommend_disclosure,
            rationale=msg.rationale,
            reconsideration=msg.reconsideration,
            includes_spent_convictions=msg.includes_spent_convictions,
            # A Chief Inspector can only chair as the Superintendent's nominated deputy.
            chair=ForumChair(
                RANKS.get(msg.chair.rank.name, PoliceRank.CONSTABLE),
                nominated_deputy=msg.chair.rank.name == "CHIEF_INSPECTOR",
            ),
            bodies=tuple(
                ForumBody(
                    body.name,
                    agency(body.agency.value),
                    body.registered_data_controller,
                    body.force,
                )
                for body in msg.bodies_present
            ),
        )
    ]


TRANSLATORS: dict[type[Any], Translator] = {
    m.DmfReferral: dmf_referral,
    m.DmfDecision: dmf_decision,
}
