"""With tracing on, a sender's trace rides through the hub to the recipient; off, nothing."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from crossforce.adapters import tracing
from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.testing.broker import expect_delivery
from crossforce.broker.runtime import RunningBroker
from crossforce.broker.scenario import case_steps

pytestmark = pytest.mark.server

CASE = "CF-2026-700001"
EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def tracer_provider() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)


async def test_trace_context_rides_from_sender_through_hub_to_recipient(
    running: RunningBroker, clients: dict[str, ForceClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tracing.ENABLE_ENV, "1")
    EXPORTER.clear()
    opening = case_steps(CASE)[0]
    with trace.get_tracer("kent-case-system").start_as_current_span("open case") as sending:
        receipt = await clients[opening.sender].send(
            opening.message, case_ref=CASE, recipients=opening.recipients
        )
    assert receipt.accepted
    trace_id = f"{sending.get_span_context().trace_id:032x}"

    delivered = await expect_delivery(clients[opening.recipients[0]], "case-opened")
    assert delivered.trace_context["traceparent"].split("-")[1] == trace_id
    [hub_span] = [s for s in EXPORTER.get_finished_spans() if s.name == "crossforce.hub.process"]
    assert hub_span.context.trace_id == sending.get_span_context().trace_id
    assert hub_span.parent is not None
    assert hub_span.parent.span_id == sending.get_span_context().span_id
    # The recipient continues the hub's span, not the sender's.
    assert (
        delivered.trace_context["traceparent"].split("-")[2] == f"{hub_span.context.span_id:016x}"
    )


async def test_tracing_is_off_by_default(
    running: RunningBroker, clients: dict[str, ForceClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(tracing.ENABLE_ENV, raising=False)
    EXPORTER.clear()
    opening = case_steps(CASE)[0]
    with trace.get_tracer("kent-case-system").start_as_current_span("open case"):
        receipt = await clients[opening.sender].send(
            opening.message, case_ref=CASE, recipients=opening.recipients
        )
    assert receipt.accepted
    delivered = await expect_delivery(clients[opening.recipients[0]], "case-opened")
    assert delivered.trace_context == {}
    assert [s.name for s in EXPORTER.get_finished_spans()] == ["open case"]
