"""Immediate risk and linked crimes (contracts/messages/risk.py)."""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.service.translation.context import Translation, Translator, ref_text
from crossforce.contracts.messages import risk as m


def immediate_risk_raised(msg: m.ImmediateRiskRaised, t: Translation) -> list[c.Command]:
    return [c.RaiseImmediateRisk(**t.base, summary=msg.action_taken)]


def crime_linked(msg: m.CrimeLinked, t: Translation) -> list[c.Command]:
    return [
        c.LinkCrime(
            **t.base,
            crime_reference=ref_text(msg.crime),
            investigating_force=msg.investigating_force,
        )
    ]


TRANSLATORS: dict[type[Any], Translator] = {
    m.ImmediateRiskRaised: immediate_risk_raised,
    m.CrimeLinked: crime_linked,
}
