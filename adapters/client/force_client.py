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
import itertools
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import DEFAULT_PREFIX as JS_API_PREFIX
from nats.js.api import Header
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
from crossforce.contracts.headers import MSG_ID
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
# How long one pull request for deliveries stays open at the server; it brings each
# message as soon as it comes. A request whose answer is lost (a dropped connection) is
# given up this much later.
LONG_POLL_SECONDS = 2.0
ANSWER_GRACE_SECONDS = 1.0
DEFAULT_PREFETCH = 16
# The server's word on a pull request: 404 none waiting (for no_wait), 408 expired.
STATUS_HEADER = Header.STATUS
DESCRIPTION_HEADER = Header.DESCRIPTION
REQUEST_ENDED = frozenset({"404", "408"})
# How a pull request ended: its batch filled (more may be waiting), short of it (nothing
# more was waiting), refused by the server, or lost (no answer, e.g. a dropped connection).
FILLED, SHORT, REFUSED, LOST = "filled", "short", "refused", "lost"
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


async def _release(messages: Iterable[Msg]) -> None:
    """Give back messages pulled but never handed out: they come again at once."""
    for msg in messages:
        await _settle(msg.nak())


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


_Verified = tuple[Envelope, Message, DeliveryFlags]


@dataclass(eq=False, slots=True)
class _Feed:
    """One delivery consumer as the intake reads it: the pull request open on it, and what it
    has pulled but not yet handed out (`held`; `held + asked` never exceeds the prefetch)."""

    urgent: bool
    next_subject: str  # where a pull request for the consumer is sent
    inbox: str  # requests are answered on `<inbox>.<n>`, one n per request
    subscription: Subscription | None = None
    held: int = 0
    asked: int = 0  # how many more the open request may bring
    request: str = ""  # the open request's reply subject; "" when none is open
    outcome: str = ""  # how the last request ended: FILLED, SHORT, REFUSED or LOST
    changed: asyncio.Event = field(default_factory=asyncio.Event)


# (rank, arrival, delivery, feed): immediate risk ranks 0, routine 1, the end -1.
_Item = tuple[int, int, Delivery | None, _Feed | None]


class _Intake:
    """The delivery intake of one `deliveries()` iteration: a pull task per delivery
    consumer, each keeping one long-poll pull request open, feeding one queue that hands out
    immediate risk first, then everything in the order it arrived (docs/decisions/0009).

    Nothing is acked here: a delivery is acked by the caller. Each consumer has at most
    `prefetch` deliveries pulled, or asked for, but not yet handed out. When the intake
    stops, its subscriptions are drained (the server drops the open requests, and what it had
    already sent is taken in), and every delivery not handed out is nak'd, so it comes again
    at once to whoever reads next."""

    def __init__(
        self,
        nc: Client,
        force: str,
        *,
        prefetch: int,
        verify: Callable[[bytes, Mapping[str, str]], _Verified | None],
    ) -> None:
        self._nc = nc

        def feed(consumer: str, *, urgent: bool) -> _Feed:
            next_subject = (
                f"{JS_API_PREFIX}.CONSUMER.MSG.NEXT.{subjects.DELIVERY_STREAM}.{consumer}"
            )
            return _Feed(urgent, next_subject, nc.new_inbox())

        self._urgent = feed(subjects.priority_consumer(force), urgent=True)
        self._routine = feed(subjects.delivery_consumer(force), urgent=False)
        self._prefetch = prefetch
        # The routine consumer asks again once half its prefetch is free, not for every
        # slot; the immediate-risk one as soon as one is.
        self._refill_at = max(1, prefetch // 2)
        self._verify = verify
        self._queue: asyncio.PriorityQueue[_Item] = asyncio.PriorityQueue()
        self._arrivals = itertools.count()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._stopped = False
        self._unhanded: list[Msg] = []
        self._failure: BaseException | None = None
        # Routine deliveries are handed out only while the immediate-risk consumer's last
        # word is that nothing more is waiting: not before it first answers, nor after a
        # request of it was filled or it paused for backpressure, until it answers again.
        self._urgent_current = asyncio.Event()
        # Set when something arrives or routine deliveries may go: a take waiting wakes.
        self._news = asyncio.Event()

    @property
    def _feeds(self) -> tuple[_Feed, _Feed]:
        return (self._urgent, self._routine)

    async def start(self) -> None:
        for feed in self._feeds:

            async def take_in(msg: Msg, feed: _Feed = feed) -> None:
                await self._take_in(feed, msg)

            feed.subscription = await self._nc.subscribe(f"{feed.inbox}.*", cb=take_in)
        for feed in self._feeds:
            task = asyncio.create_task(self._pull(feed))
            task.add_done_callback(self._pull_stopped)
            self._tasks.append(task)

    def _routine_may_go(self) -> None:
        self._urgent_current.set()
        self._news.set()

    async def take(self, timeout: float | None) -> Delivery | None:
        """The next delivery, or None after `timeout` seconds with none (None: wait for
        ever) or once the intake has stopped."""
        try:
            async with asyncio.timeout(timeout):
                return await self._next()
        except TimeoutError:
            return None

    async def _next(self) -> Delivery | None:
        while True:
            item = await self._queue.get()
            rank, _, delivery, feed = item
            if delivery is None or feed is None:
                self._queue.put_nowait(item)  # the end, for every later take too
                if self._failure is not None:
                    raise self._failure
                return None
            if rank > 0 and not self._urgent_current.is_set():
                # Wait for the immediate-risk queue's answer, or for a delivery to arrive.
                self._queue.put_nowait(item)
                self._news.clear()
                await self._news.wait()
                continue
            feed.held -= 1
            feed.changed.set()
            return delivery

    async def _pull(self, feed: _Feed) -> None:
        """Keep one pull request open on the consumer while there is room for what it
        brings: it waits at the server until messages come, bringing each as it comes, or
        until it expires.

        The immediate-risk consumer is asked first, and again whenever a request was filled
        or there was no room (more may be waiting), with no_wait: the server answers at once
        with what it holds. Routine deliveries wait until that answer falls short."""
        replies = itertools.count()
        probe = feed.urgent
        # The flag, not only cancellation, ends the loop.
        while not self._stopping:
            room = self._prefetch - feed.held
            if room < (1 if feed.urgent else self._refill_at):
                if feed.urgent:
                    self._urgent_current.clear()
                    probe = True
                feed.changed.clear()
                await feed.changed.wait()
                continue
            if probe:
                self._urgent_current.clear()
            outcome = await self._ask(feed, f"{feed.inbox}.{next(replies)}", room, probe)
            if feed.urgent:
                probe = outcome != SHORT
                if outcome != FILLED:  # nothing more is waiting, or it cannot be known now
                    self._routine_may_go()
            if outcome in (REFUSED, LOST) and not self._stopping:
                await asyncio.sleep(RETRY_PAUSE_SECONDS)

    async def _ask(self, feed: _Feed, reply: str, batch: int, probe: bool) -> str:
        """One pull request, answered on `reply`; how it ended."""
        ask: dict[str, Any] = {"batch": batch}
        if probe:
            ask["no_wait"] = True
        else:
            ask["expires"] = int(LONG_POLL_SECONDS * 1_000_000_000)
        feed.request, feed.asked, feed.outcome = reply, batch, ""
        try:
            await self._nc.publish(feed.next_subject, json.dumps(ask).encode(), reply=reply)
            # Bounded, in case the answer is lost with a dropped connection.
            async with asyncio.timeout(LONG_POLL_SECONDS + ANSWER_GRACE_SECONDS):
                while feed.request == reply and not self._stopping:
                    feed.changed.clear()
                    await feed.changed.wait()
        except TimeoutError:
            log.debug("no answer to a pull request; asking again")
            feed.outcome = LOST
        except (NatsError, ConnectionError) as exc:
            log.debug("pull request failed, asking again shortly: %s", type(exc).__name__)
            feed.outcome = REFUSED
        feed.request, feed.asked = "", 0
        return feed.outcome or LOST

    async def _take_in(self, feed: _Feed, msg: Msg) -> None:
        """One answer to a pull request, in the order the server sent them: a delivery, or
        the server's word that the request is over."""
        status = (msg.headers or {}).get(STATUS_HEADER)
        if status is not None:
            if msg.subject == feed.request:  # not a late word on an earlier request
                if status in REQUEST_ENDED:
                    feed.outcome = SHORT
                else:
                    description = (msg.headers or {}).get(DESCRIPTION_HEADER, "")
                    log.debug("pull request refused: %s %s", status, description)
                    feed.outcome = REFUSED
                feed.request = ""
                feed.changed.set()
            return
        if feed.asked > 0:
            feed.asked -= 1
            if feed.asked == 0:
                feed.outcome = FILLED
                feed.request = ""
                feed.changed.set()
                if feed.urgent:  # more may be waiting: routine waits until it is asked
                    self._urgent_current.clear()
        if self._stopping:
            await _settle(msg.nak())  # pulled as the intake stopped: at once to the next
            return
        try:
            verified = self._verify(msg.data, msg.headers or {})
        except Exception as exc:  # a fault in this client, not in the delivery: end loudly
            self._fail(exc)
            await _settle(msg.nak())
            return
        if verified is None:
            # Almost always a trust store older than a hub key rotation: keep the delivery
            # and offer it again, never drop it.
            await _settle(msg.nak(delay=UNVERIFIED_RETRY_SECONDS))
            return
        envelope, message, flags = verified
        delivery = Delivery(
            envelope,
            message,
            flags.priority,
            flags.applicant_channel,
            msg,
            received_context(msg.headers),
            flags.tasks,
        )
        rank = 0 if feed.urgent or flags.priority else 1
        feed.held += 1
        self._queue.put_nowait((rank, next(self._arrivals), delivery, feed))
        self._news.set()

    def _pull_stopped(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            self._fail(error)

    def _fail(self, error: BaseException) -> None:
        """Stop handing out; the iteration raises `error`."""
        log.error("delivery intake failed: %r", error)
        if self._failure is None:
            self._failure = error
        self._end()

    def _end(self) -> None:
        """Stop handing out; set aside what was pulled but not handed out."""
        if self._stopping:
            return
        self._stopping = True
        self._routine_may_go()
        for feed in self._feeds:
            feed.changed.set()
        while not self._queue.empty():
            _, _, delivery, _ = self._queue.get_nowait()
            if delivery is not None:
                self._unhanded.append(delivery._msg)
        self._queue.put_nowait((-1, next(self._arrivals), None, None))
        self._news.set()

    async def stop(self) -> None:
        """Stop both pulls and give back what they pulled but never handed out. Bounded:
        each step is given at most `CLOSE_WAIT_SECONDS`."""
        if self._stopped:
            return
        self._stopped = True
        self._end()
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_WAIT_SECONDS)
        await asyncio.gather(*(self._drain(feed) for feed in self._feeds))
        unhanded, self._unhanded = self._unhanded, []
        await _release(unhanded)

    @staticmethod
    async def _drain(feed: _Feed) -> None:
        """Drop interest, so the server discards the open request, then take in (and nak)
        whatever it sent before that."""
        if feed.subscription is None:
            return
        with contextlib.suppress(NatsError, ConnectionError, TimeoutError):
            drained = feed.subscription.drain()  # type: ignore[no-untyped-call]
            await asyncio.wait_for(drained, CLOSE_WAIT_SECONDS)


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
        self._intakes: set[_Intake] = set()
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
        # Deliveries pulled but not yet handed out go back before the connection closes.
        stopping: list[Awaitable[object]] = [intake.stop() for intake in self._intakes]
        self._intakes.clear()
        if self._receipt_task is not None:
            self._receipt_task.cancel()
            # Bounded: closing never hangs on a reader that missed its cancellation.
            stopping.append(asyncio.wait({self._receipt_task}, timeout=CLOSE_WAIT_SECONDS))
        await asyncio.gather(*stopping)
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
                        headers={MSG_ID: msg_id, **trace_headers()},
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
        self, *, idle_timeout: float | None = None, batch: int = DEFAULT_PREFETCH
    ) -> AsyncGenerator[Delivery, None]:
        """Verified deliveries: immediate risk first, then routine traffic oldest first.

        The immediate-risk and routine queues are each read by a pull of their own that
        waits at the server, so a delivery is handed out as soon as it arrives, and an
        immediate-risk delivery that is waiting is always handed out before a routine one.
        At most `batch` deliveries per queue are pulled ahead of the caller; they are not
        acked until the caller acks them, and are given back (nak'd) when the iteration
        ends or the client closes.

        Stops after `idle_timeout` seconds with no delivery (None: never)."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        if self._nc is None:
            raise RuntimeError("ForceClient is not connected")
        intake = _Intake(self._nc, self.force, prefetch=batch, verify=self._verify_delivery)
        self._intakes.add(intake)
        try:
            await intake.start()
            while (delivery := await intake.take(idle_timeout)) is not None:
                yield delivery
        finally:
            self._intakes.discard(intake)
            await intake.stop()

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
