"""Reading one inbound partition in batches, as the replica pinned to it.

Each partition's durable consumer belongs to a JetStream priority group with the
`pinned_client` policy (nats-server 2.11+, docs/decisions/0061): the server hands its
messages to one hub replica at a time, so a partition's messages are applied in stream order
by one process even when several replicas run. Another replica's pulls get nothing until the
pinned one falls silent for the pin timeout; then the next to pull is pinned.

A batch is whatever has arrived, up to `HUB_BATCH` messages: first everything waiting now
(`no_wait`), else a long poll for the next one. It is applied in one transaction
(`HubPipeline.process_batch`), published pipelined, marked sent, then acked. On an
infrastructure fault the batch stays in hand and is tried again with the redelivery delays,
telling JetStream it is still in progress: nothing later in the partition can overtake it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.api import Header

from crossforce.adapters import tracing
from crossforce.adapters.nats import subjects
from crossforce.adapters.nats.provisioning import HUB_BATCH, HUB_PRIORITY_GROUP
from crossforce.broker.hub.publisher import OutboxPublisher
from crossforce.broker.service.faults import (
    redelivery_delay,
    retry_step,
    retry_step_on_loop,
)
from crossforce.broker.service.pipeline import HubPipeline, Inbound, PipelineResult
from crossforce.contracts import headers

log = logging.getLogger("crossforce.hub")

JS_API_PREFIX = "$JS.API"
PIN_HEADER = "Nats-Pin-Id"
# How long a pull for the next message waits at the server; also how often a pinned
# replica shows it is alive (well inside the pin timeout).
LONG_POLL_SECONDS = 1.0
ANSWER_GRACE_SECONDS = 2.0
# While another replica holds the pin, or NATS is away, ask again after this long.
IDLE_PAUSE_SECONDS = 0.5
# A pull request ended normally: nothing (more) waiting, or it expired.
REQUEST_ENDED = ("404", "408")
# While a batch waits out a fault, JetStream is told it is still in progress this often.
PROGRESS_SECONDS = 5.0
# How often pinned partitions are shared out between replicas, and how long a replica that
# let one go stays away from it, so another replica's waiting pull is pinned instead.
BALANCE_SECONDS = 3.0
# How long a reader handed messages out of turn gives them back for, before asking again.
RESUME_PAUSE_SECONDS = 1.0
RELEASE_PAUSE_SECONDS = 3.0

ResultListener = Callable[[PipelineResult], Awaitable[None] | None]


class PartitionReader:
    def __init__(
        self,
        nc: Client,
        partition: int,
        pipeline: HubPipeline,
        publisher: Callable[[], OutboxPublisher],
        on_result: ResultListener | None = None,
        *,
        batch: int = HUB_BATCH,
        on_loop: bool = False,
    ) -> None:
        self.nc = nc
        # Apply batches on the event loop's thread (an in-process database, decision 0063)
        # rather than in a worker thread.
        self.on_loop = on_loop
        self.partition = partition
        self.pipeline = pipeline
        self.publisher = publisher
        self.on_result = on_result
        self.batch = batch
        consumer = f"{subjects.INBOUND_STREAM}.hub_p{partition}"
        self.next_subject = f"{JS_API_PREFIX}.CONSUMER.MSG.NEXT.{consumer}"
        self.info_subject = f"{JS_API_PREFIX}.CONSUMER.INFO.{consumer}"
        self.unpin_subject = f"{JS_API_PREFIX}.CONSUMER.UNPIN.{consumer}"
        self.pin: str | None = None
        self.running = True
        self.release_wanted = False
        self.away_until = 0.0
        # The pin under which the reader last found nothing earlier held elsewhere.
        self.checked_pin: str | None = None

    def stop(self) -> None:
        self.running = False

    async def run(self) -> None:
        """Read until stopped. The flag, not only cancellation, ends the loop."""
        inbox = self.nc.new_inbox()
        replies = itertools.count()
        subscription = await self.nc.subscribe(f"{inbox}.*")
        try:
            while self.running:
                if self.release_wanted:
                    await self._release()
                if time.monotonic() < self.away_until:
                    await asyncio.sleep(min(IDLE_PAUSE_SECONDS, self.away_until - time.monotonic()))
                    continue
                try:
                    taken = await self._pull(subscription, f"{inbox}.{next(replies)}", True)
                    if not taken and self.running:
                        reply = f"{inbox}.{next(replies)}"
                        taken = await self._pull(subscription, reply, False)
                        if taken and len(taken) < self.batch:
                            # What else has arrived meanwhile goes in the same batch.
                            reply = f"{inbox}.{next(replies)}"
                            taken += await self._pull(subscription, reply, True)
                except (NatsError, ConnectionError, TimeoutError) as exc:
                    log.debug("partition %d: pull failed: %s", self.partition, type(exc).__name__)
                    await asyncio.sleep(IDLE_PAUSE_SECONDS)
                    continue
                if taken:
                    await self._handle(taken)
        finally:
            await subscription.unsubscribe()

    async def _release(self) -> None:
        """Let the pin go, between batches: nothing is in hand and no pull is open, so the
        partition's next message goes to whichever replica is pinned next, after everything
        this one took has been acked (acks travel before the unpin on this connection)."""
        self.release_wanted = False
        if self.pin is None:
            return
        try:
            await self.nc.request(
                self.unpin_subject,
                json.dumps({"group": HUB_PRIORITY_GROUP}).encode(),
                timeout=ANSWER_GRACE_SECONDS,
            )
        except (NatsError, ConnectionError, TimeoutError) as exc:
            log.debug("partition %d: unpin failed: %s", self.partition, type(exc).__name__)
            return
        self.pin = None
        self.away_until = time.monotonic() + RELEASE_PAUSE_SECONDS
        log.info("partition %d released to another hub replica", self.partition)

    async def _pull(self, subscription: Any, reply: str, no_wait: bool) -> list[Msg]:
        """One pull request: everything waiting now (no_wait), or the next message."""
        ask: dict[str, Any] = {"group": HUB_PRIORITY_GROUP}
        if no_wait:
            ask |= {"batch": self.batch, "no_wait": True}
        else:
            ask |= {"batch": 1, "expires": int(LONG_POLL_SECONDS * 1_000_000_000)}
        if self.pin is not None:
            ask["id"] = self.pin
        await self.nc.publish(self.next_subject, json.dumps(ask).encode(), reply=reply)
        taken: list[Msg] = []
        deadline = time.monotonic() + LONG_POLL_SECONDS + ANSWER_GRACE_SECONDS
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return taken
            try:
                msg = await subscription.next_msg(timeout=remaining)
            except TimeoutError:
                return taken
            status = (msg.headers or {}).get(Header.STATUS)
            if status is None:
                self.pin = (msg.headers or {}).get(PIN_HEADER, self.pin)
                # A delivery carries its own stream subject, not the request's reply subject.
                taken.append(msg)
                if len(taken) >= int(ask["batch"]):
                    return taken
                continue
            if msg.subject != reply:
                continue  # the end of an earlier request
            if status == "423":  # the pin moved to another replica: ask as a newcomer
                self.pin = None
            if status not in REQUEST_ENDED:  # refused: a pin moved, a leader changed
                log.debug("partition %d: pull answered %s", self.partition, status)
                await asyncio.sleep(IDLE_PAUSE_SECONDS)
            return taken

    async def _handle(self, taken: list[Msg]) -> None:
        taken.sort(key=lambda msg: msg.metadata.sequence.stream)
        # Only a reader newly pinned can be handed messages out of turn: while it keeps its
        # pin, no other reader is given any.
        if self.pin is None or self.pin != self.checked_pin:
            if await self._in_order(taken):
                self.checked_pin = self.pin
            else:
                log.info(
                    "partition %d: waiting for earlier messages another reader held",
                    self.partition,
                )
                for msg in taken:
                    await msg.nak(delay=RESUME_PAUSE_SECONDS)
                await asyncio.sleep(RESUME_PAUSE_SECONDS)
                return
        inbounds = [
            Inbound(
                data=msg.data,
                subject=msg.subject,
                stream_sequence=msg.metadata.sequence.stream,
                accepted_at=msg.metadata.timestamp,
                nats_msg_id=(msg.headers or {}).get(headers.MSG_ID),
                trace_context=tracing.received_context(msg.headers),
            )
            for msg in taken
        ]
        started = time.perf_counter()
        # A slow batch (a loaded machine, a database failing over or away) must not outlive
        # its ack wait: JetStream would offer it to another replica while this one holds it.
        alive = asyncio.create_task(self._keep_in_progress(taken))
        try:
            results = await self._apply_until_done(inbounds, taken)
        finally:
            alive.cancel()
        if results is None:
            return  # stopping: unacked, JetStream offers them again
        # Committed: the outbox holds what must go out, so the batch is finished even if
        # NATS cannot take the publishes now; the relay sends them in order.
        await self.publisher().publish_committed([o for r in results for o in r.outbound])
        for msg in taken:
            await msg.ack()
        elapsed = time.perf_counter() - started
        for result in results:
            result.processing_seconds = elapsed
            if self.on_result is not None:
                outcome = self.on_result(result)
                if outcome is not None:
                    await outcome

    async def _apply_until_done(
        self, inbounds: list[Inbound], taken: list[Msg]
    ) -> list[PipelineResult] | None:
        """Apply the batch, trying again after an infrastructure fault (the only kind that
        escapes the pipeline) for as long as the reader runs; None once it stops."""
        attempt = 0
        while True:
            attempt += 1
            # What was published since is marked sent in this batch's own transaction: no
            # transaction of its own, and a duplicate in the batch finds its rows sent.
            published = self.publisher().take_published()
            try:
                if self.on_loop:
                    return await retry_step_on_loop(
                        partial(self.pipeline.process_batch, inbounds, published)
                    )
                return await asyncio.to_thread(self._apply, inbounds, published)
            except Exception as exc:
                self.publisher().give_back(published)
                # Keep the batch in hand, so nothing later in this partition overtakes it.
                delay = redelivery_delay(attempt)
                log.warning(
                    "infrastructure fault on partition %d (%d messages, attempt %d), again in "
                    "%gs: %s",
                    self.partition,
                    len(taken),
                    attempt,
                    delay,
                    type(exc).__name__,
                )
                if not await self._wait(delay):
                    return None

    def _apply(self, inbounds: list[Inbound], published: list[int]) -> list[PipelineResult]:
        return retry_step(lambda: self.pipeline.process_batch(inbounds, published))

    async def _keep_in_progress(self, taken: list[Msg]) -> None:
        """While a batch is applied, extend its ack wait."""
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            try:
                for msg in taken:
                    await msg.in_progress()
            except Exception as exc:  # NATS away: the ack wait may lapse; _in_order copes
                log.debug("in-progress not sent: %s", type(exc).__name__)

    async def _in_order(self, taken: list[Msg]) -> bool:
        """Whether nothing earlier in the partition is still held elsewhere.

        A replica that died or lost its pin with a batch in hand leaves those messages
        unacked until their ack wait runs out; this reader may meanwhile be handed later
        messages of the same cases. While the consumer has more messages pending than this
        batch, they are given back and the reader waits for the earlier ones to come round."""
        try:
            answer = await self.nc.request(self.info_subject, b"", timeout=ANSWER_GRACE_SECONDS)
            pending = int(json.loads(answer.data).get("num_ack_pending", 0))
        except (NatsError, ConnectionError, TimeoutError, ValueError) as exc:
            log.debug("partition %d: consumer info failed: %s", self.partition, type(exc).__name__)
            return False
        return pending <= len(taken)

    async def _wait(self, delay: float) -> bool:
        """Wait `delay` seconds; False if the reader stopped meanwhile."""
        deadline = time.monotonic() + delay
        while self.running and time.monotonic() < deadline:
            await asyncio.sleep(min(IDLE_PAUSE_SECONDS, deadline - time.monotonic()))
        return self.running


class PartitionBalancer:
    """Shares the partitions out between the replicas reading them.

    The server pins a partition to whichever replica pulls first, so the first replica up
    would otherwise keep every partition. Every replica keeps one pull open on each partition
    it reads, so a consumer's waiting pulls count the replicas reading it; a replica holding
    more than its share lets the rest go, one at a time between batches
    (`PartitionReader.release_wanted`), and stays away from them for a moment so another
    replica's waiting pull is pinned."""

    def __init__(
        self, nc: Client, readers: list[PartitionReader], interval: float = BALANCE_SECONDS
    ) -> None:
        self.nc = nc
        self.readers = readers
        self.interval = interval
        self.running = True

    def stop(self) -> None:
        self.running = False

    async def run(self) -> None:
        while self.running:
            await asyncio.sleep(self.interval)
            try:
                await self.balance_once()
            except (NatsError, ConnectionError, TimeoutError, ValueError) as exc:
                log.debug("partition balance skipped: %s", type(exc).__name__)

    async def balance_once(self) -> None:
        held = [reader for reader in self.readers if reader.pin is not None]
        if len(held) <= 1:
            return
        replicas = 1
        for reader in self.readers:
            answer = await self.nc.request(reader.info_subject, b"", timeout=ANSWER_GRACE_SECONDS)
            replicas = max(replicas, int(json.loads(answer.data).get("num_waiting", 0)))
        share = -(-len(self.readers) // replicas)  # ceiling
        for reader in held[share:]:
            reader.release_wanted = True
