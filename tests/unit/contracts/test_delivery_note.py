"""The hub's signed note over a delivery's flags: any change to a flag is caught."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crossforce.contracts.delivery_note import (
    APPLICANT_CHANNEL_HEADER,
    DELIVERY_NOTE_HEADER,
    PRIORITY_HEADER,
    TASK_HEADER,
    DeliveryFlags,
    signed_headers,
    verified_flags,
)
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.pki import EphemeralPki

PKI = EphemeralPki(["HUB", "ESSEX"], now=datetime(2026, 11, 2, 9, tzinfo=UTC))
TRUST = PKI.trust_store()
FLAGS = DeliveryFlags(
    "01a2365f-e0ae-7d61-bc29-1a36e7e104fb",
    "ESSEX",
    priority=True,
    applicant_channel=False,
    tasks=("delay-notified",),
)


def test_signed_flags_verify() -> None:
    headers = signed_headers(FLAGS, PKI.key("HUB"))
    assert verified_flags(FLAGS.envelope_id, "ESSEX", headers, TRUST) == FLAGS


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h: h.pop(PRIORITY_HEADER),  # demoted from immediate risk
        lambda h: h.pop(APPLICANT_CHANNEL_HEADER),  # opened to the applicant
        lambda h: h.pop(TASK_HEADER),  # a task hidden
        lambda h: h.update({TASK_HEADER: "delay-notified,other"}),
    ],
)
def test_a_changed_flag_is_refused(tamper: object) -> None:
    headers = signed_headers(FLAGS, PKI.key("HUB"))
    tamper(headers)  # type: ignore[operator]
    with pytest.raises(ContractError) as refused:
        verified_flags(FLAGS.envelope_id, "ESSEX", headers, TRUST)
    assert refused.value.code is ReasonCode.BAD_SIGNATURE


def test_a_note_for_another_force_or_envelope_is_refused() -> None:
    headers = signed_headers(FLAGS, PKI.key("HUB"))
    with pytest.raises(ContractError):
        verified_flags(FLAGS.envelope_id, "KENT", headers, TRUST)
    with pytest.raises(ContractError):
        verified_flags("01a2365f-e0ae-7d61-bc29-1a36e7e104fc", "ESSEX", headers, TRUST)


def test_a_note_not_signed_by_the_hub_is_refused() -> None:
    forged = signed_headers(FLAGS, PKI.key("ESSEX"))
    with pytest.raises(ContractError) as refused:
        verified_flags(FLAGS.envelope_id, "ESSEX", forged, TRUST)
    assert refused.value.code is ReasonCode.UNKNOWN_KEY
    missing = {k: v for k, v in forged.items() if k != DELIVERY_NOTE_HEADER}
    with pytest.raises(ContractError) as refused:
        verified_flags(FLAGS.envelope_id, "ESSEX", missing, TRUST)
    assert refused.value.code is ReasonCode.MISSING_SIGNATURE
