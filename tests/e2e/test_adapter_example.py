import pytest

from crossforce.broker.scenario import case_steps
from crossforce.contracts.examples import example
from crossforce.testing import expect_delivery, expect_receipt

pytestmark = pytest.mark.crossforce_forces("KENT", "ESSEX")


async def test_kent_opens_a_case_and_essex_hears_of_it(force_client) -> None:
    kent = await force_client("KENT")
    essex = await force_client("ESSEX")

    opened = case_steps("CF-2026-000123")[0]  # Kent opens a case that Essex co-ordinates
    receipt = await expect_receipt(
        kent.send(opened.message, case_ref="CF-2026-000123", recipients=["ESSEX"])
    )
    assert receipt.receipt.in_reply_to

    delivery = await expect_delivery(essex, "case-opened", timeout=10)
    assert delivery.envelope.caseref == "CF-2026-000123"
    assert delivery.envelope.senderforce == "KENT"


async def test_the_hub_refuses_a_message_for_an_unknown_case(force_client) -> None:
    essex = await force_client("ESSEX")

    late = example("delay-notified", "ESSEX", "KENT")
    await expect_receipt(
        essex.send(late, case_ref="CF-2026-999999", recipients=["KENT"]),
        reason_code="UNKNOWN_CASE",
    )
