"""Wire messages to domain commands: one translator per message family, as a table.

The modules mirror `contracts/messages/` and `broker/domain/handlers/`. A translator maps
contract vocabulary (enquiry ids, Annex G answers, party records) to the domain's (part ids,
commands); the rules themselves live in the domain.
"""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.service.translation import (
    case,
    closure,
    coordination,
    decision,
    disclosure,
    dmf,
    enquiry,
    escalation,
    risk,
    supervision,
)
from crossforce.broker.service.translation.context import Translation, Translator
from crossforce.contracts.errors import ContractError, ReasonCode

TRANSLATORS: dict[type[Any], Translator] = {
    **case.TRANSLATORS,
    **enquiry.TRANSLATORS,
    **coordination.TRANSLATORS,
    **risk.TRANSLATORS,
    **decision.TRANSLATORS,
    **dmf.TRANSLATORS,
    **disclosure.TRANSLATORS,
    **escalation.TRANSLATORS,
    **closure.TRANSLATORS,
    **supervision.TRANSLATORS,
}
# Only these may arrive before the case exists.
OPENING = frozenset(case.TRANSLATORS_OPENING)


def commands_for(t: Translation) -> list[c.Command]:
    """The domain commands for `t.message`, in order."""
    if type(t.message) not in OPENING:
        _ = t.open_case  # anything but an opening needs the case: UNKNOWN_CASE otherwise
    translator = TRANSLATORS.get(type(t.message))
    if translator is None:
        raise ContractError(ReasonCode.UNKNOWN_TYPE, f"the hub does not act on {t.envelope.type}")
    return translator(t.message, t)


__all__ = ["TRANSLATORS", "Translation", "commands_for"]
