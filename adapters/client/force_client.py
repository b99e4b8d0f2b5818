"""ForceClient: the async SDK a force system uses to talk to Crossforce.

    async with ForceClient(force="ESSEX", key=key, trust=trust, nats_url=url) as client:
        receipt = await client.send(message, case_ref="CF-2026-000123", recipients=["KENT"])
        async for delivery in client.deliveries():
            ...
            await delivery.ack()

Everything sent is signed with the force's key; everything received is verified against the
trust store before the caller sees it. Every refusal is typed and names its reason code: a
`ContractError` (or a subclass below) before anything is sent, a rejection receipt from the hub
after. The first connection fails within `connect_timeout` (`NatsUnreachable`); once
connected, the client reconnects for ever.

The hub routes by need-to-know (docs/decisions/0008-need-to-know.md): `recipients` is signed
as the sender's statement of who it is for, and must name known forces, but the hub decides
from the case who receives each message. See docs/decisions/0031-sdk-refusals.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import NoStreamResponseError, NotFoundError, ServiceUnavailableError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from crossforce.adapters.nats import subjects
from crossforce.adapters.nats.connection import DEFAULT_CONNECT_TIMEOUT, NatsUnreachable
from crossforce.adapters.nats.connection import connect as connect_nats
from crossforce.adapters.nats.tls import client_ssl_context
from crossforce.adapters.tracing import received_context, trace_headers
from crossforce.contracts.compose import compose
from crossforce.contracts.delivery_note import DeliveryFlags, verified_flags
from crossforce.contracts.envelope import (
    HUB_FORCE_CODE,
    MAX_ENVELOPE_BYTES,
    Envelope,
    Jurisdiction,
    parse_envelope,
)
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES
from crossforce.contracts.keys import Signer
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.receipt import Receipt
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.signing import sign_envelope, verify_envelope
from crossforce.contracts.trust import TrustStore

__all__ = [
    "Delivery",
    "ForceClient",
    "HubUnavailable",
    "NatsUnreachable",
    "NoReceipt",
    "SignedReceipt",
]

log = logging.getLogger("crossforce.client")
DEFAULT_RECEIPT_TIMEOUT = 30.0
UNVERIFIED_RETRY_SECONDS = 60
PRIORITY_POLL_SECONDS = 0.05
RETRY_PAUSE_SECONDS = 0.5
CLOSE_WAIT_SECONDS = 5.0
# Receipts no one is waiting for yet, kept for a later `receipt(id)`: the newest this many.
RECEIPTS_KEPT = 10_000
# A JetStream leader election takes a few seconds; a publish waits that long before failing.
PUBLISH_RETRY_SECONDS = 10.0
PUBLISH_FAULTS = (NoStreamResponseError, ServiceUnavailableError, NatsTimeoutError)


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
    # W3C trace context the delivery arrived with (tracing on: adapters/tracing.py), to
    # continue the sender's trace in this force's system. Not signed; never trust it.
    trace_context: dict[str, str] = field(default_factory=dict)
    # Tasks the hub signed for this delivery (its note), beside any in the message itself.
    signed_tasks: tuple[str, ...] = ()

    @property
    def tasks(self) -> tuple[str, ...]:
        """What the hub's signed message asks this force to do, e.g. `delay-notified`: tell
        the applicant a timescale has slipped (001 ¶34(f)). Read from the verified content."""
        in_message = tuple(str(task) for task in getattr(self.message, "tasks", ()) or ())
        return tuple(dict.fromkeys((*in_message, *self.signed_tasks)))

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


class NoReceipt(ContractError, TimeoutError):
    """No receipt within the time allowed: the hub may be down or far behind. From `send`, the
    envelope is kept on the exception; send it again (`send_envelope`) to retry. The hub never
    applies an envelope twice, so a retry is always safe."""

    def __init__(self, envelope_id: str, timeout: float, envelope: Envelope | None = None) -> None:
        super().__init__(
            ReasonCode.NATS_ERROR,
            f"no receipt for envelope {envelope_id} within {timeout:g} s; the hub may be "
            "down or behind. Send the same envelope again to retry (it is never applied twice)",
        )
        self.envelope_id = envelope_id
        self.envelope = envelope


class HubUnavailable(ContractError):
    """Connected to NATS, but the hub has made no queues for this force."""


class ForceClient:
    def __init__(
        self,
        *,
        force: str,
        key: Signer,
        trust: TrustStore,
        nats_url: str,
        credentials: Path | None = None,
        tls: Any = None,
        ca: Path | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        receipt_consumer: str | None = None,
    ) -> None:
        """`receipt_consumer`: read receipts through this durable consumer instead of the
        force's own (`<FORCE>_receipt`), e.g. `subjects.client_receipt_consumer(force,
        "web")` for a client that sends for the force beside its own system."""
        if force not in FORCES:
            raise ContractError(
                ReasonCode.UNKNOWN_FORCE, f"{force!r} is not a force code in the force directory"
            )
        if key.force != force:
            raise ContractError(ReasonCode.SENDER_MISMATCH, f"key is for {key.force}, not {force}")
        if trust.key_set(HUB_FORCE_CODE) is None:
            # Every receipt and delivery is signed by the hub: none could ever be verified.
            raise ContractError(
                ReasonCode.UNTRUSTED_STORE,
                "the trust store has no HUB key set, so the hub's receipts cannot be verified",
            )
        if tls is not None and ca is not None:
            raise ValueError("give tls (an ssl.SSLContext) or ca (a CA file), not both")
        self.force = force
        self.key = key
        self.trust = trust
        self.nats_url = nats_url
        self.connect_timeout = connect_timeout
        # The force's nkey seed file from `crossforce deploy nats-config`.
        self._auth = {"nkeys_seed": str(credentials)} if credentials else {}
        # `ca`: the CA certificate file the servers' TLS certificates are verified with
        # (e.g. tls/ca.pem from `crossforce deploy nats-config --tls`).
        self._tls = client_ssl_context(ca) if ca is not None else tls
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._receipt_consumer = receipt_consumer or subjects.receipt_consumer(force)
        self._receipts: dict[str, SignedReceipt] = {}
        self._waiters: dict[str, asyncio.Future[SignedReceipt]] = {}
        self._receipt_task: asyncio.Task[None] | None = None
        self._closing = False
        self._receipt_failure: ContractError | None = None

    # -- connection ------------------------------------------------------------------------
    async def connect(self) -> Self:
        """Connect, or raise `NatsUnreachable` after `connect_timeout` seconds, or
        `HubUnavailable` when the hub has no queues for this force."""
        self._nc = await connect_nats(
            self.nats_url,  # a cluster is given as comma-separated URLs
            timeout=self.connect_timeout,
            name=f"ForceClient {self.force}",
            inbox_prefix=subjects.inbox_prefix(self.force).encode(),
            tls=self._tls,
            **self._auth,
        )
        self._js = self._nc.jetstream()
        try:
            await self._check_queues()
            receipts = await self._js.pull_subscribe_bind(
                durable=self._receipt_consumer,
                stream=subjects.DELIVERY_STREAM,
                inbox_prefix=subjects.pull_inbox_prefix(self.force),
            )
        except BaseException:
            await self._nc.close()
            raise
        self._receipt_task = asyncio.create_task(self._collect_receipts(receipts))
        self._receipt_task.add_done_callback(self._receipts_stopped)
        return self

    async def _check_queues(self) -> None:
        # The force's deliveries, and the receipt consumer this client reads.
        for consumer in (
            subjects.priority_consumer(self.force),
            subjects.delivery_consumer(self.force),
            self._receipt_consumer,
        ):
            try:
                await self.js.consumer_info(subjects.DELIVERY_STREAM, consumer, timeout=5.0)
            except NotFoundError:
                raise HubUnavailable(
                    ReasonCode.UNKNOWN_FORCE,
                    f"the hub has no queue {consumer} for {self.force}: {self.force} is not in "
                    "the hub's trust store, or the hub has never started on this NATS",
                ) from None
            except (NatsError, TimeoutError) as exc:
                raise HubUnavailable(
                    ReasonCode.NATS_ERROR,
                    f"cannot read {self.force}'s queue {consumer} ({type(exc).__name__}): "
                    "are these the force's NATS credentials?",
                ) from None

    def _receipts_stopped(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        self._receipt_failure = ContractError(
            ReasonCode.NATS_ERROR, f"receipts can no longer be read ({type(error).__name__})"
        )
        log.error("%s: %s", self.force, self._receipt_failure.message)
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(self._receipt_failure)

    async def close(self) -> None:
        self._closing = True
        if self._receipt_task is not None:
            self._receipt_task.cancel()
            # Bounded: closing never hangs on a reader that missed its cancellation.
            await asyncio.wait({self._receipt_task}, timeout=CLOSE_WAIT_SECONDS)
        if self._nc is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nc.close(), timeout=CLOSE_WAIT_SECONDS)

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
        """A signed envelope from this force (not yet sent).

        `recipients` is signed as the sender's statement of who the message is for; each must
        be a known force. The hub delivers by need-to-know from the case, whatever it says."""
        recipients = tuple(recipients)
        unknown = [code for code in recipients if code not in FORCES and code != HUB_FORCE_CODE]
        if unknown:
            raise ContractError(
                ReasonCode.UNKNOWN_FORCE, f"recipient {', '.join(unknown)} is not a known force"
            )
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
        self,
        message: Message,
        *,
        case_ref: str,
        timeout: float = DEFAULT_RECEIPT_TIMEOUT,
        **options: Any,
    ) -> SignedReceipt:
        """Sign, send, and wait for the hub's signed receipt (accepted, or rejected with a
        reason code). Raises `NoReceipt` after `timeout` seconds; retry with
        `send_envelope(error.envelope)`."""
        return await self.send_envelope(
            self.envelope(message, case_ref=case_ref, **options), timeout=timeout
        )

    async def send_envelope(
        self, envelope: Envelope, *, timeout: float = DEFAULT_RECEIPT_TIMEOUT
    ) -> SignedReceipt:
        """Send a signed envelope (again, to retry) and wait for its receipt."""
        await self.publish(envelope)
        try:
            return await self.receipt(envelope.id, timeout=timeout)
        except NoReceipt:
            raise NoReceipt(envelope.id, timeout, envelope) from None

    async def publish(self, envelope: Envelope) -> None:
        data = envelope.to_bytes()
        if len(data) > MAX_ENVELOPE_BYTES:
            raise ContractError(
                ReasonCode.OVERSIZE, f"envelope is {len(data)} bytes; limit {MAX_ENVELOPE_BYTES}"
            )
        await self.publish_raw(data, case_ref=envelope.caseref, msg_id=envelope.id)

    async def publish_raw(self, data: bytes, *, case_ref: str, msg_id: str) -> None:
        """Send bytes as they are (the hub still checks everything)."""
        if self._receipt_failure is not None:
            raise self._receipt_failure
        self._waiters.setdefault(msg_id, asyncio.get_running_loop().create_future())
        # A stream with no leader for a moment (an election after a node loss) is ridden
        # out here; the same Nats-Msg-Id makes a publish that did land count once.
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(PUBLISH_FAULTS),
                wait=wait_exponential(multiplier=0.1, max=1.0),
                stop=stop_after_delay(PUBLISH_RETRY_SECONDS),
                reraise=True,
            ):
                with attempt:
                    await self.js.publish(
                        subjects.inbound_subject(self.force, case_ref),
                        data,
                        # With tracing on, the caller's trace rides to the hub and on.
                        headers={"Nats-Msg-Id": msg_id, **trace_headers()},
                    )
        except (NatsError, TimeoutError) as exc:
            raise ContractError(
                ReasonCode.NATS_ERROR,
                f"could not publish envelope {msg_id} ({type(exc).__name__}); it was not "
                "sent, so send the same envelope again",
            ) from None

    async def receipt(
        self, envelope_id: str, timeout: float = DEFAULT_RECEIPT_TIMEOUT
    ) -> SignedReceipt:
        """The hub's receipt for an envelope this client sent; `NoReceipt` if none comes
        within `timeout` seconds."""
        if envelope_id in self._receipts:
            return self._receipts[envelope_id]
        if self._receipt_failure is not None:
            raise self._receipt_failure
        future = self._waiters.setdefault(envelope_id, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise NoReceipt(envelope_id, timeout) from None

    async def _collect_receipts(self, subscription: JetStreamContext.PullSubscription) -> None:
        # The flag, not only cancellation, ends the loop: a fetch cut short by cancelling
        # can come back as an ordinary timeout, and the loop would ask again for ever.
        while not self._closing:
            for msg in await _fetch(subscription, 64, 1.0):
                signed = self._verify(msg.data)
                if signed is None:
                    await _settle(msg.nak(delay=UNVERIFIED_RETRY_SECONDS))
                    continue
                if isinstance(signed[1], Receipt):
                    receipt = SignedReceipt(signed[0], signed[1])
                    answered = receipt.receipt.in_reply_to
                    self._receipts[answered] = receipt
                    if len(self._receipts) > RECEIPTS_KEPT:
                        # A long-lived client sees every receipt of its force: keep the newest.
                        del self._receipts[next(iter(self._receipts))]
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
                verified = self._verify_delivery(msg.data, msg.headers or {})
                if verified is None:
                    # Almost always a trust store older than a hub key rotation: keep the
                    # delivery and offer it again, never drop it.
                    await _settle(msg.nak(delay=UNVERIFIED_RETRY_SECONDS))
                    continue
                envelope, message, flags = verified
                yield Delivery(
                    envelope,
                    message,
                    flags.priority,
                    flags.applicant_channel,
                    msg,
                    received_context(msg.headers),
                    flags.tasks,
                )

    def _verify(self, data: bytes) -> tuple[Envelope, Message] | None:
        verified = self._verify_delivery(data, None)
        return None if verified is None else (verified[0], verified[1])

    def _verify_delivery(
        self, data: bytes, headers: Mapping[str, str] | None
    ) -> tuple[Envelope, Message, DeliveryFlags] | None:
        """The envelope, its message and, for a delivery (`headers` given), the hub's signed
        flags; None, logged, when anything fails to verify."""
        try:
            envelope = parse_envelope(data)
            verify_envelope(envelope, self.trust)
            # The hub's signed word on how to treat it: priority, applicant channel, tasks.
            flags = (
                verified_flags(envelope.id, self.force, headers, self.trust)
                if headers is not None
                else DeliveryFlags(envelope.id, self.force)
            )
            return envelope, REGISTRY.open(envelope), flags
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
