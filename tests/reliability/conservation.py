"""The conservation check: nothing a force sent is lost, and nothing is applied twice.

For every input a force put on its inbound subject, exactly one of these holds:

- **applied** once: one `processed_envelopes` row, one accepted receipt to the sender, and,
  for every recipient the hub's s.62 `disclosure_log` names for it, exactly one copy on the
  delivery stream (and none to anyone else);
- **refused**: one `rejections` row for its inbound stream sequence, one rejection receipt
  naming it (with the same reason code) and one dead-letter record holding its original bytes.

A replay of an applied envelope under a new transport id is answered with the original
receipt again (header `Crossforce-Duplicate-Of`), and applies nothing.

Senders record what they sent in a `SendLog`; the check reads the hub's database through
SQLAlchemy and the streams through nats-py, so it works against any running hub (in-process,
a `crossforce up` subprocess, or replicas on a cluster).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import Engine, select

from crossforce.adapters.nats import subjects
from crossforce.adapters.sql import schema
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.errors import ReasonCode

# What a send is expected to come to, when the sender knows (None: either is fine).
APPLIED = "applied"
REFUSED = "refused"
ANSWERED_AGAIN = "answered-again"  # a replay of an applied envelope under a new transport id


@dataclass(frozen=True, slots=True)
class Sent:
    """One input as JetStream stored it on a force's inbound subject."""

    force: str
    case_ref: str
    data: bytes
    msg_id: str
    sequence: int  # the inbound stream sequence from the publish acknowledgement
    envelope_id: str | None = None  # set when the bytes carry an envelope id
    expect: str | None = None
    reason: ReasonCode | None = None  # the refusal the sender expects, if any


@dataclass
class SendLog:
    """Every input the test's forces sent, by inbound stream sequence."""

    sent: dict[int, Sent] = field(default_factory=dict)

    def add(self, item: Sent) -> Sent:
        # JetStream answers a deduplicated publish with the first copy's sequence.
        self.sent.setdefault(item.sequence, item)
        return item

    def __len__(self) -> int:
        return len(self.sent)

    def __iter__(self) -> Any:
        return iter(self.sent.values())

    async def publish(
        self,
        js: JetStreamContext,
        force: str,
        case_ref: str,
        data: bytes,
        msg_id: str,
        *,
        envelope_id: str | None = None,
        expect: str | None = None,
        reason: ReasonCode | None = None,
        patience: float = 60.0,
    ) -> Sent:
        """Publish as a force does: retry under the same Nats-Msg-Id until JetStream
        acknowledges, so a publish cut off by a fault is stored once or not at all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while True:
            try:
                ack = await js.publish(
                    subjects.inbound_subject(force, case_ref),
                    data,
                    timeout=2.0,
                    headers={"Nats-Msg-Id": msg_id},
                )
                break
            except (nats.errors.Error, TimeoutError, OSError):
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.25)
        return self.add(Sent(force, case_ref, data, msg_id, ack.seq, envelope_id, expect, reason))

    async def publish_envelope(
        self, js: JetStreamContext, envelope: Envelope, **options: Any
    ) -> Sent:
        return await self.publish(
            js,
            envelope.senderforce,
            envelope.caseref,
            envelope.to_bytes(),
            options.pop("msg_id", envelope.id),
            envelope_id=envelope.id,
            **options,
        )


@dataclass
class Report:
    sent: int = 0
    applied: int = 0
    refused: int = 0
    answered_again: int = 0
    lost: int = 0
    doubled: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def figures(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "applied": self.applied,
            "refused": self.refused,
            "answered_again": self.answered_again,
            "lost": self.lost,
            "doubled": self.doubled,
            "refusals_by_reason": dict(sorted(self.refusals.items())),
            "problems": len(self.problems),
        }

    def __str__(self) -> str:
        shown = "\n  ".join(self.problems[:25])
        more = f"\n  … and {len(self.problems) - 25} more" if len(self.problems) > 25 else ""
        return f"{self.figures()}\n  {shown}{more}"


async def read_stream(js: JetStreamContext, stream: str, subject: str = ">") -> list[Msg]:
    """Every message stored in `stream` on `subject`, oldest first (an ephemeral consumer)."""
    sub = await js.pull_subscribe(
        subject,
        stream=stream,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=30.0
        ),
    )
    try:
        pending = (await sub.consumer_info()).num_pending
        messages: list[Msg] = []
        while len(messages) < pending:
            messages += await sub.fetch(min(512, pending - len(messages)), timeout=10.0)
    finally:
        await sub.unsubscribe()
    return messages


def in_reply_to(answered: str) -> str:
    """The receipt's `in_reply_to` for an answered id (as the hub makes it safe to echo)."""

    def keep(ch: str) -> bool:
        return ch.isascii() and ch.isalnum()

    cleaned = "".join(ch if keep(ch) or ch in "_.:-" else "-" for ch in answered)[:64]
    return cleaned if cleaned and keep(cleaned[0]) else f"x{cleaned}"[:64]


def _envelope_json(data: bytes) -> dict[str, Any]:
    body = json.loads(data)
    assert isinstance(body, dict)
    return body


async def check_conservation(
    nats_url: str,
    engine: Engine,
    log: SendLog | Iterable[Sent],
    *,
    connect_options: dict[str, Any] | None = None,
) -> Report:
    """Read the hub's database and streams, and hold every sent input to conservation."""
    sends = list(log)
    nc = await nats.connect(nats_url.split(","), **(connect_options or {}))
    try:
        js = nc.jetstream()
        inbound = await js.stream_info(subjects.INBOUND_STREAM)
        out = await read_stream(js, subjects.DELIVERY_STREAM)
        dead = await read_stream(js, subjects.DEADLETTER_STREAM)
    finally:
        await nc.close()
    report = Report(sent=len(sends))
    if inbound.state.messages:
        report.problems.append(f"{inbound.state.messages} inputs still wait in the inbound stream")

    with engine.connect() as db:
        processed = {row.envelope_id: row for row in db.execute(select(schema.processed_envelopes))}
        rejected = {row.inbound_key: row for row in db.execute(select(schema.rejections))}
        disclosed: dict[str, list[str]] = defaultdict(list)
        for row in db.execute(select(schema.disclosure_log)):
            disclosed[row.envelope_id].append(row.disclosed_to)

    # Receipts: (force, in_reply_to, status, reason) -> how many; replays answered separately.
    receipts: Counter[tuple[str, str, str, str | None]] = Counter()
    # Receipts sent again, by (force, envelope id): the inbound sequences they answer.
    again: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
    # Deliveries: (envelope id, force) -> copies on the delivery stream.
    delivered: Counter[tuple[str, str]] = Counter()
    for msg in out:
        force = msg.subject.split(".")[2]
        body = _envelope_json(msg.data)
        if msg.subject == subjects.receipt_subject(force):
            data = body["data"]
            duplicate_of = (msg.headers or {}).get("Crossforce-Duplicate-Of")
            if duplicate_of is not None:
                # Published as <envelope id>/receipt/again/<inbound sequence>.
                answered = (msg.headers or {}).get("Nats-Msg-Id", "").rsplit("/", 1)[-1]
                again[(force, duplicate_of)][int(answered) if answered.isdigit() else 0] += 1
            else:
                key = (force, data["in_reply_to"], data["status"], data.get("reason_code"))
                receipts[key] += 1
        else:
            delivered[(body["id"], force)] += 1

    letters: Counter[int] = Counter()
    letter_bytes: dict[int, bytes] = {}
    for msg in dead:
        headers = msg.headers or {}
        sequence = int(headers.get("Crossforce-Inbound-Sequence", "0"))
        letters[sequence] += 1
        letter_bytes[sequence] = msg.data

    first_send: dict[str, int] = {}
    for item in sorted(sends, key=lambda s: s.sequence):
        if item.envelope_id and f"seq{item.sequence}" not in rejected:
            first_send.setdefault(item.envelope_id, item.sequence)

    expected_receipts: Counter[tuple[str, str, str, str | None]] = Counter()
    for item in sends:
        where = f"seq {item.sequence} ({item.force} {item.case_ref} {item.msg_id})"
        refusal = rejected.get(f"seq{item.sequence}")
        is_first = item.envelope_id is not None and first_send.get(item.envelope_id) == (
            item.sequence
        )
        if refusal is not None:
            report.refused += 1
            report.refusals[refusal.reason_code] += 1
            if item.expect in (APPLIED, ANSWERED_AGAIN):
                report.problems.append(f"{where}: refused {refusal.reason_code}, not {item.expect}")
            if item.reason is not None and refusal.reason_code != item.reason.value:
                report.problems.append(
                    f"{where}: refused {refusal.reason_code}, expected {item.reason.value}"
                )
            answered = refusal.envelope_id or item.msg_id
            expected_receipts[
                (item.force, in_reply_to(answered), "rejected", refusal.reason_code)
            ] += 1
            if letters[item.sequence] != 1:
                report.problems.append(f"{where}: {letters[item.sequence]} dead letters, not 1")
                report.doubled += letters[item.sequence] > 1
            elif letter_bytes[item.sequence] != item.data:
                report.problems.append(f"{where}: the dead letter does not hold the sent bytes")
            if is_first and item.envelope_id in processed:
                report.problems.append(f"{where}: refused and applied")
                report.doubled += 1
            continue
        if letters[item.sequence]:
            report.problems.append(f"{where}: dead-lettered without a rejection row")
        if item.envelope_id is None or item.envelope_id not in processed:
            report.lost += 1
            report.problems.append(f"{where}: neither applied nor refused")
            continue
        if not is_first:
            report.answered_again += 1
            if item.expect not in (None, ANSWERED_AGAIN):
                report.problems.append(f"{where}: taken as a repeat, expected {item.expect}")
            continue
        report.applied += 1
        if item.expect == REFUSED:
            report.problems.append(f"{where}: applied, expected a refusal")
        expected_receipts[(item.force, in_reply_to(item.envelope_id), "accepted", None)] += 1
        recipients = disclosed.get(item.envelope_id, [])
        for force, count in Counter(recipients).items():
            if count != 1:
                report.problems.append(f"{where}: {count} s.62 disclosures to {force}")
        for force in set(recipients):
            copies = delivered.pop((item.envelope_id, force), 0)
            if copies != 1:
                report.problems.append(f"{where}: delivered {copies} times to {force}")
                report.doubled += copies > 1
                report.lost += copies == 0

    # Deliveries of sent envelopes that no disclosure accounts for (hub messages have ids of
    # their own and are not sends).
    sent_ids = {item.envelope_id for item in sends if item.envelope_id}
    for (envelope_id, force), copies in delivered.items():
        if envelope_id in sent_ids:
            report.problems.append(f"{envelope_id}: {copies} deliveries to {force} not disclosed")

    # Replays: each one answered once with the original receipt again. A redelivery of the
    # first copy (after a fault, once everything was out) may be answered again too, since
    # its sender may have lost the receipt; nothing else may be.
    sequences: dict[tuple[str, str], set[int]] = defaultdict(set)
    for item in sends:
        if item.envelope_id and f"seq{item.sequence}" not in rejected:
            sequences[(item.force, item.envelope_id)].add(item.sequence)
    for item in sends:
        if (
            item.envelope_id
            and first_send.get(item.envelope_id) != item.sequence
            and f"seq{item.sequence}" not in rejected
        ):
            copies = again[(item.force, item.envelope_id)][item.sequence]
            if copies != 1:
                report.problems.append(
                    f"replay seq {item.sequence} of {item.envelope_id}: {copies} receipts again"
                )
    for key, answered in again.items():
        for sequence, copies in answered.items():
            if sequence not in sequences.get(key, set()) or copies != 1:
                report.problems.append(
                    f"{copies} receipts again for {key[1]} answering seq {sequence}, "
                    "which is no copy of it"
                )
                report.doubled += copies > 1

    for key, count in expected_receipts.items():
        found = receipts.get(key, 0)
        if found != count:
            report.problems.append(f"receipt {key}: {found} on the stream, {count} expected")
            report.doubled += found > count

    extra = set(rejected) - {f"seq{item.sequence}" for item in sends}
    if extra:
        report.problems.append(f"rejections of inputs nobody sent: {sorted(extra)[:5]}")
    return report


def summary_line(report: Report) -> str:
    figures = report.figures()
    return ", ".join(f"{k} {v}" for k, v in figures.items() if k != "refusals_by_reason")
