"""A hub with real multi-force cases, built through the real pipeline on a fixed clock, and
the supervisors' web app served over it (uvicorn in a thread) for browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from sqlalchemy import Engine

from crossforce.adapters.sql.engine import make_engine, open_read_only
from crossforce.adapters.sql.schema import metadata
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.adapters.web.actions import ActionOutcome
from crossforce.adapters.web.app import WebConfig, create_app
from crossforce.adapters.web.oidc import OidcSettings
from crossforce.adapters.web.store import Role, WebStore
from crossforce.broker.scenario import FORCES, case_steps
from crossforce.broker.secrets import load_or_create
from crossforce.broker.service.pipeline import PipelineResult
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.case import StepCompleted, TimedStep
from crossforce.contracts.pki import EphemeralPki

LATE_CASE = "CF-2026-000777"  # Essex co-ordinates; Surrey and Police Scotland are late
MOVED_CASE = "CF-2026-000778"  # co-ordination moved from Essex to the Met
# A fixed Monday with no holiday within the cases' working days in any jurisdiction.
OPENED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
VIEWED = OPENED + timedelta(days=14)
PASSWORD = "correct horse battery staple"
ACCOUNTS = {
    "essex.sup": "ESSEX",
    "met.sup": "METROPOLITAN",
    "kent.sup": "KENT",
    "surrey.sup": "SURREY",
}


@dataclass
class Hub:
    """The hub's side: its core on the fixed clock, and every force's key."""

    core: InProcessHub

    @property
    def engine(self) -> Engine:
        return self.core.engine

    @property
    def pki(self) -> EphemeralPki:
        return self.core.pki

    @property
    def now(self) -> datetime:
        return self.core.now

    def send(
        self,
        sender: str,
        case_ref: str,
        message: Message,
        at: datetime | None = None,
        actor: str | None = None,
    ) -> str:
        envelope_id, result = self.process(sender, case_ref, message, at, actor)
        assert result.accepted, result.detail
        return envelope_id

    def process(
        self,
        sender: str,
        case_ref: str,
        message: Message,
        at: datetime | None = None,
        actor: str | None = None,
    ) -> tuple[str, PipelineResult]:
        envelope = self.core.sign(sender, case_ref, message, at or self.core.now, actor)
        return envelope.id, self.core.deliver_bytes(sender, case_ref, envelope.to_bytes(), at)


class PipelineActionSender:
    """Sends the app's actions into the hub pipeline, signed under the force's own key: the
    hub verifies and applies them exactly as it does a message from NATS."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def can_sign(self, force: str) -> bool:
        return force in FORCES

    async def submit(
        self, force: str, case_ref: str, message: Message, actor: str
    ) -> ActionOutcome:
        envelope_id, result = self.hub.process(force, case_ref, message, actor=actor)
        reason = f"{result.reason}: {result.detail}" if result.reason else ""
        return ActionOutcome(result.accepted, envelope_id, reason)

    async def aclose(self) -> None:
        pass


def build_hub(tmp: Path) -> Hub:
    engine = make_engine(f"sqlite:///{tmp / 'crossforce.db'}")
    metadata.create_all(engine)
    pki = EphemeralPki(FORCES, now=OPENED)
    hub = Hub(
        InProcessHub(engine, pki, OPENED, subject_key_secret=load_or_create(tmp).subject_key_secret)
    )
    late_steps = case_steps(LATE_CASE, OPENED)[:3]
    for step in late_steps:
        hub.send(step.sender, LATE_CASE, step.message, OPENED)
    # The co-ordinating force finishes its own initial checks on time; only the responding
    # forces are late.
    hub.send(
        "ESSEX",
        LATE_CASE,
        StepCompleted(step=TimedStep.EW_RTA_INITIAL_CHECKS),
        OPENED + timedelta(hours=2),
    )
    # The moved case runs to the Met's acceptance of co-ordination.
    for step in case_steps(MOVED_CASE, OPENED)[:11]:
        hub.send(step.sender, MOVED_CASE, step.message, OPENED)
    # The escalation ladder runs to the viewing time: the late case turns red.
    hub.core.now = VIEWED
    hub.core.core.escalation.fire_due(VIEWED)
    return hub


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_web(
    tmp: Path,
    hub: Hub,
    *,
    poll_seconds: float = 0.2,
    port: int | None = None,
    oidc: OidcSettings | None = None,
) -> Iterator[tuple[str, WebStore]]:
    store = WebStore.open(f"sqlite:///{tmp / 'web.db'}")
    for username, force in ACCOUNTS.items():
        store.add_account(username, force, Role.SUPERVISOR, PASSWORD, OPENED)
    config = WebConfig(
        hub=open_read_only(f"sqlite:///{tmp / 'crossforce.db'}"),
        store=store,
        secret_key="test-session-signing-key-0123456789",
        as_at=VIEWED,
        clock=lambda: VIEWED,  # sessions too run on the fixed clock
        poll_seconds=poll_seconds,
        actions=PipelineActionSender(hub),
        oidc=oidc,
    )
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        server.should_exit = True
        thread.join(timeout=10)
