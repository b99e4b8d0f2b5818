"""Every message type has a realistic, valid example."""

from __future__ import annotations

import pytest

from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.examples import example, example_data
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.dmf import DmfReferral
from crossforce.contracts.messages.enquiry import EnquiryRequested
from crossforce.contracts.registry import REGISTRY


@pytest.mark.parametrize("model", REGISTRY.catalogue(), ids=lambda m: m.type_uri())
def test_every_registered_version_has_a_valid_example(model: type[Message]) -> None:
    message = example(model.NAME, "KENT", "ESSEX", version=model.VERSION)
    assert type(message) is model
    assert model.model_validate(message.model_dump(mode="json")) == message


@pytest.mark.parametrize("name", REGISTRY.names())
def test_default_example_is_the_latest_version(name: str) -> None:
    assert type(example(name, "PSOS", "METROPOLITAN")) is REGISTRY.latest(name)


def test_sender_and_recipient_land_in_the_right_fields() -> None:
    message = example("enquiry-requested", "KENT", "ESSEX")
    assert isinstance(message, EnquiryRequested)
    assert message.responding_force == "ESSEX"
    assert message.parties[0].home_force == "ESSEX"


def test_dmf_examples_use_a_divisional_dmf() -> None:
    referral = example("dmf-referral", "PSOS", "PSOS_G")
    assert isinstance(referral, DmfReferral) and referral.dmf == "PSOS_G"
    fallback = example("dmf-referral", "PSOS", "KENT")
    assert isinstance(fallback, DmfReferral) and fallback.dmf == "PSOS_E"


def test_examples_use_clearly_fictitious_people() -> None:
    text = str(example_data("intelligence-submission", "KENT", "ESSEX"))
    assert "Example" in text and "Sample" in text


def test_unknown_name_or_version() -> None:
    with pytest.raises(ContractError) as caught:
        example("no-such-message", "KENT", "ESSEX")
    assert caught.value.code is ReasonCode.UNKNOWN_TYPE
    with pytest.raises(ContractError) as caught:
        example("receipt", "KENT", "ESSEX", version=7)
    assert caught.value.code is ReasonCode.UNKNOWN_VERSION


@pytest.mark.parametrize("name", ["case-opened", "enquiry-requested", "enquiry-result"])
def test_scottish_forces_get_scottish_examples(name: str) -> None:
    # Each example is valid whichever side of the border its forces are on.
    for sender, recipient in [("PSOS", "KENT"), ("KENT", "PSOS"), ("PSOS", "PSOS_E")]:
        message = example(name, sender, recipient)
        assert message.model_dump()["jurisdiction"] in ("scotland", "england-wales")
    assert example("enquiry-requested", "KENT", "PSOS").model_dump()["jurisdiction"] == "scotland"
    assert example("case-opened", "PSOS", "KENT").model_dump()["jurisdiction"] == "scotland"
