"""Optional OpenTelemetry tracing: off by default, on with `CROSSFORCE_OTEL=1`.

When on, and the `otel` extra is installed (`pip install "crossforce[otel]"`), W3C trace
context (`traceparent`, `tracestate`) rides in NATS headers from a ForceClient's publish,
through the hub (a `crossforce.hub.process` span, child of the sender's), to each recipient's
delivery (`Delivery.trace_context`). Configure the SDK and exporter the usual way (a tracer
provider set by the application); without one, only the context is carried.

Trace headers are outside the signature: they say how a message travelled, never what it
says, and nothing in them is trusted for a decision. No span attribute carries content.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

ENABLE_ENV = "CROSSFORCE_OTEL"
TRACE_HEADERS = ("traceparent", "tracestate")


def enabled() -> bool:
    if os.environ.get(ENABLE_ENV, "").lower() not in {"1", "true", "yes"}:
        return False
    try:
        import opentelemetry.propagate  # noqa: F401
    except ImportError:
        return False
    return True


def trace_headers() -> dict[str, str]:
    """The current trace context as NATS headers ({} when tracing is off)."""
    if not enabled():
        return {}
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return {name: carrier[name] for name in TRACE_HEADERS if name in carrier}


def received_context(headers: Mapping[str, str] | None) -> dict[str, str]:
    """The trace headers a message arrived with (what a recipient may continue)."""
    if not headers:
        return {}
    return {name: headers[name] for name in TRACE_HEADERS if name in headers}


@contextlib.contextmanager
def span(name: str, parent: Mapping[str, str], **attributes: str) -> Iterator[None]:
    """A span continuing `parent`'s trace; nothing at all when tracing is off."""
    if not enabled():
        yield
        return
    from opentelemetry import trace
    from opentelemetry.propagate import extract

    tracer = trace.get_tracer("crossforce")
    context: Any = extract(dict(parent))
    with tracer.start_as_current_span(name, context=context, attributes=attributes):
        yield
