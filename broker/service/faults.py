"""Which failures are the infrastructure's, and how the hub rides them out.

Only a fault of the database or of NATS is retried: it says nothing about the message, and
the same message will succeed once the service is back. Anything else that escapes while a
message is handled was caused by the message itself (or by a defect it exposed), so it is
answered at once with a typed refusal: a retry would fail the same way, and hold up every
case behind it (docs/decisions/0010-faults-and-retries.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from nats.errors import ConnectionClosedError, NoServersError, OutboundBufferLimitError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NoStreamResponseError, ServiceUnavailableError
from tenacity import (
    AsyncRetrying,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from crossforce.broker.service.ports import StorageFault

T = TypeVar("T")

# The database is unreachable, locked, or restarting; another replica changed the case first
# (ConcurrentUpdate is a StorageFault). The storage adapter raises only these.
STORAGE_FAULTS: tuple[type[BaseException], ...] = (StorageFault,)
# NATS is away, or a stream has no leader for a moment (an election after a node loss).
NATS_FAULTS: tuple[type[BaseException], ...] = (
    NoStreamResponseError,
    ServiceUnavailableError,
    NatsTimeoutError,
    ConnectionClosedError,
    NoServersError,
    OutboundBufferLimitError,
)
INFRASTRUCTURE_FAULTS: tuple[type[BaseException], ...] = (
    *STORAGE_FAULTS,
    *NATS_FAULTS,
    ConnectionError,
    TimeoutError,
)

# In-process retries of one step: quick and bounded, so a fault that outlasts them goes back
# to JetStream (a delayed redelivery) instead of tying up a worker thread.
STEP_RETRY_SECONDS = 5.0
# Redelivery delays after that: within seconds at first, never more than half a minute.
REDELIVERY_DELAYS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)


def is_infrastructure_fault(error: BaseException) -> bool:
    return isinstance(error, INFRASTRUCTURE_FAULTS)


def redelivery_delay(num_delivered: int) -> float:
    """How long JetStream waits before offering a message again after its `num_delivered`th
    attempt met an infrastructure fault."""
    index = max(0, min(num_delivered - 1, len(REDELIVERY_DELAYS) - 1))
    return REDELIVERY_DELAYS[index]


def _step_policy(within: float) -> dict[str, object]:
    return {
        "retry": retry_if_exception_type(INFRASTRUCTURE_FAULTS),
        "wait": wait_exponential(multiplier=0.05, max=1.0),
        "stop": stop_after_delay(within),
        "reraise": True,
    }


def retry_step(step: Callable[[], T], *, within: float = STEP_RETRY_SECONDS) -> T:
    """Run `step`, retrying infrastructure faults with back-off for up to `within` seconds."""
    for attempt in Retrying(**_step_policy(within)):  # type: ignore[arg-type]
        with attempt:
            return step()
    raise AssertionError("unreachable")


async def retry_step_on_loop(step: Callable[[], T], *, within: float = STEP_RETRY_SECONDS) -> T:
    """`retry_step` for a step run on the event loop's own thread: the same policy, but the
    back-off between attempts is an asynchronous sleep, so it holds up nothing else."""
    async for attempt in AsyncRetrying(**_step_policy(within)):  # type: ignore[arg-type]
        with attempt:
            return step()
    raise AssertionError("unreachable")
