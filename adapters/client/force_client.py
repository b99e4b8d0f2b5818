"""ForceClient: the async SDK a force system uses to talk to Crossforce.

    async with ForceClient(force="ESSEX", key=key, trust=trust, nats_url=url) as client:
        receipt = await client.send(message, case_ref="CF-2026-000123", recipients=["KENT"])
        async for delivery in client.deliveries():
            ...
            await delivery.ack()

Everything sent is signed with the force's key; everything received is verified against the
trust store before the caller sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from adapters.nats import subjects
from adapters.nats.tls import client_ssl_context
from contracts.compose import compose
from contracts.envelope import MAX_ENVELOPE_BYTES, Envelope, Jurisdiction, parse_envelope
from contracts.errors import ContractError, ReasonCode
from contracts.forces import FORCES
from contracts.keys import SigningKey
from contracts.messages.base import Message
from contracts.messages.receipt import Receipt
from contracts.registry import REGISTRY
from contracts.signing import sign_envelope, verify_envelope
from contracts.trust import TrustStore

log = logging.getLogger("crossforce.client")
UNVERIFIED_RETRY_SECONDS = 60
PRIORITY_POLL_SECONDS = 0.05
RETRY_PAUSE_SECONDS = 0.5


async def _fetch(
    subscription: JetStreamContext.PullSubscription, batch: int, wait: float
) -> list[Msg]:
    """A batch, or nothing: silence, a reconnect or a stream leader election is not an error
    for a reader that simply asks again."""
    try:
        return await subscription.fetch(batch, timeout=wait)
    except (NatsTimeoutError, TimeoutError):
        return []
    except (NatsError, ConnectionError) as exc:
        log.debug("fetch failed, asking again shortly: %s", type(exc).__name__)
        await asyncio.sleep(RETRY_PAUSE_SECONDS)
        return []


async def _settle(outcome: Awaitable[None]) -> None:
    """Ack or nak; if the connection is down the server redelivers, which is harmless."""
    try:
        await outcome
    except (NatsError, ConnectionError, TimeoutError) as exc:
        log.debug("could not settle a message, it will come again: %s", type(exc).__name__)


@dataclass(slots=True)
class Delivery:
    """A verified envelope delivered to this force. Ack it once your system has it."""

    envelope: Envelope
    message: Message
    priority: bool  # immediate risk: act on it ahead of routine work
    # False when the outcome must not reach the applicant's channel: someone other than the
    # applicant receives the disclosure (000 §3.3.3).
    applicant_channel: bool
    _msg: Msg

    @property
    def tasks(self) -> tuple[str, ...]:
        """What the hub's signed message asks this force to do, e.g. `delay-notified`: tell
        the applicant a timescale has slipped (001 ¶34(f)). Read from the verified content."""
        return tuple(str(task) for task in getattr(self.message, "tasks", ()) or ())

    async def ack(self) -> None:
        await self._msg.ack()

    async def nak(self, delay: float | None = None) -> None:
        await self._msg.nak(delay=delay)


@dataclass(frozen=True, slots=True)
class SignedReceipt:
    envelope: Envelope
    receipt: Receipt

    @property
    def accepted(self) -> bool:
        return self.receipt.status.value == "accepted"

    @property
    def reason_code(self) -> ReasonCode | None:
        return self.receipt.reason_code


class ForceClient:
    def __init__(
        self,
        *,
        force: str,
        key: SigningKey,
        trust: TrustStore,
        nats_url: str,
        credentials: Path | None = None,
        tls: Any = None,
        ca: Path | None = None,
    ) -> None:
        if key.force != force:
            raise ContractError(ReasonCode.SENDER_MISMATCH, f"key is for {key.force}, not {force}")
        if tls is not None and ca is not None:
            raise ValueError("give tls (an ssl.SSLContext) or ca (a CA file), not both")
        self.force = force
        self.key = key
        self.trust = trust
        self.nats_url = nats_url
        # The force's nkey seed file from `crossforce deploy nats-config`.
        self._auth = {"nkeys_seed": str(credentials)} if credentials else {}
        # `ca`: the CA certificate file the servers' TLS certificates are verified with
        # (e.g. tls/ca.pem from `crossforce deploy nats-config --tls`).
        self._tls = client_ssl_context(ca) if ca is not None else tls
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._receipts: dict[str, SignedReceipt] = {}
        self._waiters: dict[str, asyncio.Future[SignedReceipt]] = {}
        self._receipt_task: asyncio.Task[None] | None = None

    # -- connection ------------------------------------------------------------------------
    async def connect(self) -> Self:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((OSError, NatsTimeoutError, nats.errors.NoServersError)),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=stop_after_attempt(10),
            reraise=True,
        ):
            with attempt:
                self._nc = await nats.connect(
                    self.nats_url.split(","),  # a cluster is given as comma-separated URLs
                    inbox_prefix=subjects.inbox_prefix(self.force).encode(),
                    max_reconnect_attempts=-1,  # keep trying: nothing is lost while away
                    reconnect_time_wait=1,
                    tls=self._tls,
                    **self._auth,
                )
        assert self._nc is not None
        self._js = self._nc.jetstream()
        self._receipt_task = asyncio.create_task(self._collect_receipts())
        return self

    async def close(self) -> None:
        if self._receipt_task is not None:
            self._receipt_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._receipt_task
        if self._nc is not None:
            await self._nc.close()

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("ForceClient is not connected")
        return self._js

    # -- sending ---------------------------------------------------------------------------
    def envelope(
        self,
        message: Message,
        *,
        case_ref: str,
        recipients: Iterable[str] = (),
        causation_id: str | None = None,
        correlation_id: str | None = None,
        jurisdiction: Jurisdiction | None = None,
    ) -> Envelope:
        """A signed envelope from this force (not yet sent)."""
        unsigned = compose(
            message,
            sender=self.force,
            case_ref=case_ref,
            recipients=recipients,
            jurisdiction=jurisdiction or FORCES[self.force].jurisdiction,
            causation_id=causation_id,
            correlation_id=correlation_id,
        )
        return sign_envelope(unsigned, self.key)

    async def send(
        self, message: Message, *, case_ref: str, timeout: float = 30.0, **options: Any
    ) -> SignedReceipt:
        """Sign, send, and wait for the hub's signed receipt."""
        envelope = self.envelope(message, case_ref=case_ref, **options)
        await self.publish(envelope)
        return await self.receipt(envelope.id, timeout=timeout)

    async def publish(self, envelope: Envelope) -> None:
        data = envelope.to_bytes()
        if len(data) > MAX_ENVELOPE_BYTES:
            raise ContractError(
                ReasonCode.OVERSIZE, f"envelope is {len(data)} bytes; limit {MAX_ENVELOPE_BYTES}"
            )
        await self.publish_raw(data, case_ref=envelope.caseref, msg_id=envelope.id)

    async def publish_raw(self, data: bytes, *, case_ref: str, msg_id: str) -> None:
        """Send bytes as they are (the hub still checks everything)."""
        self._waiters.setdefault(msg_id, asyncio.get_running_loop().create_future())
        await self.js.publish(
            subjects.inbound_subject(self.force, case_ref), data, headers={"Nats-Msg-Id": msg_id}
        )

    async def receipt(self, envelope_id: str, timeout: float = 30.0) -> SignedReceipt:
        if envelope_id in self._receipts:
            return self._receipts[envelope_id]
        future = self._waiters.setdefault(envelope_id, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(asyncio.shield(future), timeout)

    async def _collect_receipts(self) -> None:
        subscription = await self.js.pull_subscribe_bind(
            durable=subjects.receipt_consumer(self.force), stream=subjects.DELIVERY_STREAM
        )
        while True:
            for msg in await _fetch(subscription, 64, 1.0):
                signed = self._verify(msg.data)
                if signed is None:
                    await _settle(msg.nak(delay=UNVERIFIED_RETRY_SECONDS))
                    continue
                if isinstance(signed[1], Receipt):
                    receipt = SignedReceipt(signed[0], signed[1])
                    answered = receipt.receipt.in_reply_to
                    self._receipts[answered] = receipt
                    waiter = self._waiters.pop(answered, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(receipt)
                # Unacked (the connection dropped), the receipt simply comes again.
                await _settle(msg.ack())

    # -- receiving -------------------------------------------------------------------------
    async def deliveries(
        self, *, idle_timeout: float | None = None, batch: int = 32
    ) -> AsyncGenerator[Delivery, None]:
        """Verified deliveries, immediate risk first, then routine traffic oldest first.

        Stops after `idle_timeout` seconds of silence (None: never)."""
        bind = self.js.pull_subscribe_bind
        urgent = await bind(
            durable=subjects.priority_consumer(self.force), stream=subjects.DELIVERY_STREAM
        )
        routine = await bind(
            durable=subjects.delivery_consumer(self.force), stream=subjects.DELIVERY_STREAM
        )
        loop = asyncio.get_running_loop()
        idle_since = loop.time()
        while True:
            # The priority queue is drained before every routine batch.
            messages = await _fetch(urgent, batch, PRIORITY_POLL_SECONDS)
            if not messages:
                messages = await _fetch(routine, batch, 1.0)
            if not messages:
                if idle_timeout is not None and loop.time() - idle_since > idle_timeout:
                    return
                continue
            idle_since = loop.time()
            for msg in messages:
                verified = self._verify(msg.data)
                if verified is None:
                    # Almost always a trust store older than a hub key rotation: keep the
                    # delivery and offer it again, never drop it.
                    await _settle(msg.nak(delay=UNVERIFIED_RETRY_SECONDS))
                    continue
                headers = msg.headers or {}
                priority = headers.get("Crossforce-Priority") is not None
                channel = headers.get("Crossforce-Applicant-Channel") != "false"
                yield Delivery(verified[0], verified[1], priority, channel, msg)

    def _verify(self, data: bytes) -> tuple[Envelope, Message] | None:
        try:
            envelope = parse_envelope(data)
            verify_envelope(envelope, self.trust)
            return envelope, REGISTRY.open(envelope)
        except ContractError as refusal:
            # A delivery that fails verification is never shown to the force system.
            log.error(
                "%s cannot verify a delivery (%s); it is kept and offered again in %d s. "
                "If the hub's key has been rotated, refresh this client's trust store.",
                self.force,
                refusal.code,
                UNVERIFIED_RETRY_SECONDS,
            )
            return None
