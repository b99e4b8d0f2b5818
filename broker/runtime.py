"""Starting the whole broker: NATS (embedded or external), provisioning, database, hub.

Entry points (`crossforce up`, `crossforce demo`, test fixtures) only call this.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from faststream import FastStream
from faststream.nats import NatsBroker
from sqlalchemy import Engine
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from crossforce.adapters.nats import subjects
from crossforce.adapters.nats.connection import connect as connect_nats
from crossforce.adapters.nats.provisioning import Topology, provision
from crossforce.adapters.nats.server import EmbeddedNats
from crossforce.adapters.nats.tls import client_ssl_context
from crossforce.adapters.sql.engine import WalCheckpointer, make_engine
from crossforce.adapters.sql.migrate import BROKER_SCHEMA, prepare_engine
from crossforce.adapters.sql.report_queue import DEFAULT_WEB_ROLE, grant_report_queue
from crossforce.broker.bootstrap import HubCore, bootstrap
from crossforce.broker.domain.sla import load_policy
from crossforce.broker.hub.app import HubConnection, build_hub
from crossforce.broker.hub.partitions import ResultListener
from crossforce.broker.hub.trust_watch import TrustStoreWatcher
from crossforce.broker.secrets import load_or_create
from crossforce.broker.service.faults import NATS_FAULTS
from crossforce.broker.service.intelligence import IntelligenceLedger
from crossforce.broker.service.pipeline import HubPipeline
from crossforce.contracts.envelope import HUB_FORCE_CODE
from crossforce.contracts.keys import Signer, utcnow
from crossforce.contracts.trust import TrustStore
from crossforce.ledger import Ledger

log = logging.getLogger("crossforce")

PROVISION_RETRY_SECONDS = 30.0


@dataclass(slots=True)
class BrokerSettings:
    data_dir: Path = Path(".crossforce")
    nats_url: str | None = None  # None: start the embedded nats-server
    db_url: str | None = None  # None: SQLite in data_dir
    ledger_db_url: str | None = None  # None: its own SQLite file (PostgreSQL: may share db_url)
    nats_credentials: Path | None = None  # the hub's nkey seed file (deploy nats-config)
    nats_ca: Path | None = None  # CA (PEM) to verify the servers' TLS certificates with
    partitions: int = subjects.DEFAULT_PARTITIONS
    replicas: int = 1
    nats_port: int = 0
    extra_forces: tuple[str, ...] = field(default_factory=tuple)
    sla_policy: Path | None = None  # None: the packaged broker/data/sla-policy.yaml
    # The trust store's file: watched, so a re-issued store (a revocation) takes effect live.
    trust_path: Path | None = None
    anchor_kid: str | None = None  # the pinned trust anchor, if any
    # PostgreSQL: the web app's role, which may queue access reports (decision 0051).
    web_db_role: str | None = DEFAULT_WEB_ROLE

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'crossforce.db'}"

    @property
    def ledger_url(self) -> str:
        # SQLite allows one writer per file, and ledger appends happen inside the hub's
        # transaction, so the embedded ledger gets a file of its own.
        if self.ledger_db_url:
            return self.ledger_db_url
        if self.db_url and not self.db_url.startswith("sqlite"):
            return self.db_url
        return f"sqlite:///{self.data_dir / 'ledger.db'}"


def hub_connect_options(settings: BrokerSettings) -> dict[str, Any]:
    options: dict[str, Any] = {"inbox_prefix": subjects.inbox_prefix(HUB_FORCE_CODE)}
    if settings.nats_credentials is not None:
        options["nkeys_seed"] = str(settings.nats_credentials)
    if settings.nats_ca is not None:
        options["tls"] = client_ssl_context(settings.nats_ca)
    return options


class RunningBroker:
    """NATS + provisioning + database + one hub replica, as an async context manager."""

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        trust: TrustStore,
        hub_key: Signer,
        clock: Callable[[], datetime] = utcnow,
        on_result: ResultListener | None = None,
        start_hub: bool = True,
    ) -> None:
        if hub_key.force != HUB_FORCE_CODE:
            raise ValueError("the hub signs with a HUB key")
        self.settings = settings
        self.trust = trust
        self.hub_key = hub_key
        self.clock = clock
        self.on_result = on_result
        self.start_hub = start_hub
        self.nats: EmbeddedNats | None = None
        self.engine: Engine | None = None
        self.checkpointer: WalCheckpointer | None = None
        self.app: FastStream | None = None
        self.broker: NatsBroker | None = None
        self.core: HubCore | None = None
        self.pipeline: HubPipeline | None = None
        self.ledger: Ledger | None = None
        self.trust_watcher: TrustStoreWatcher | None = None
        self._trust_task: asyncio.Task[None] | None = None

    @property
    def nats_url(self) -> str:
        if self.settings.nats_url:
            return self.settings.nats_url
        assert self.nats is not None
        return self.nats.url

    def forces(self) -> tuple[str, ...]:
        known = set(self.trust.forces) | set(self.settings.extra_forces)
        return tuple(sorted(known - {HUB_FORCE_CODE}))

    async def start(self) -> Self:
        # A bad policy file stops start-up before anything runs (PolicyFileError, one line).
        policy = load_policy(self.settings.sla_policy)
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        if self.settings.nats_url is None:
            self.nats = EmbeddedNats(self.settings.data_dir / "nats", port=self.settings.nats_port)
            await self.nats.astart()
        await self.provision()
        self.engine = make_engine(self.settings.database_url, checkpoint_in_background=True)
        self.checkpointer = WalCheckpointer.for_engine(self.engine)
        if self.checkpointer is not None:
            self.checkpointer.start()
        # Replicas starting together on one PostgreSQL database take turns (advisory lock);
        # a schema older than the code is refused (`crossforce db upgrade` upgrades it).
        prepare_engine(self.engine, BROKER_SCHEMA)
        grant_report_queue(self.engine, self.settings.web_db_role)
        # A database other than the embedded SQLite file may be shared by replicas: the
        # ledger keys must then be given, never made up by whichever replica starts first.
        shared = not self.settings.database_url.startswith("sqlite")
        secrets = load_or_create(self.settings.data_dir / "secrets", create=not shared)
        self.ledger = Ledger(
            self.settings.ledger_url,
            signing_key=self.hub_key,
            hmac_key=secrets.subject_key_secret,
            master_key=secrets.ledger_master_key,
        )
        self.core = bootstrap(
            self.engine,
            self.trust,
            self.hub_key,
            clock=self.clock,
            subject_key_secret=secrets.subject_key_secret,
            policy=policy,
            hooks=(IntelligenceLedger(self.ledger),),
        )
        self.pipeline = self.core.pipeline
        if self.settings.trust_path is not None:
            self.trust_watcher = TrustStoreWatcher(
                self.settings.trust_path,
                self.trust,
                self.use_trust,
                pinned_anchor_kid=self.settings.anchor_kid,
            )
            self._trust_task = asyncio.create_task(self.trust_watcher.run_forever())
        if self.start_hub:
            await self.start_replica()
        return self

    def use_trust(self, store: TrustStore) -> None:
        """Verify with `store` from the next message on (a reloaded or re-issued store)."""
        self.trust = store
        if self.pipeline is not None:
            self.pipeline.trust = store

    async def provision(self) -> list[str]:
        """Create or update the streams and consumers; replicas starting together on a new
        cluster may meet a stream with no leader yet, so faults are retried a while."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(NATS_FAULTS),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            stop=stop_after_delay(PROVISION_RETRY_SECONDS),
            reraise=True,
        ):
            with attempt:
                return await self._provision_once()
        raise AssertionError("unreachable")

    async def _provision_once(self) -> list[str]:
        # The first thing to reach NATS: a dead server or a wrong URL ends here, in one
        # NATS_ERROR line after the connect timeout (NatsUnreachable is not retried).
        connection = await connect_nats(
            self.nats_url, name="crossforce hub", **hub_connect_options(self.settings)
        )
        try:
            topology = Topology(
                forces=self.forces(),
                partitions=self.settings.partitions,
                replicas=self.settings.replicas,
            )
            return await provision(connection.jetstream(), topology)
        finally:
            await connection.close()

    async def start_replica(self) -> FastStream:
        assert self.core is not None
        self.app, self.broker = build_hub(
            HubConnection(
                self.nats_url,
                self.settings.nats_credentials,
                self.settings.partitions,
                ca=self.settings.nats_ca,
            ),
            self.core,
            on_result=self.on_result,
        )
        await self.app.start()
        return self.app

    async def stop_replica(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    async def stop(self) -> None:
        if self._trust_task is not None:
            self._trust_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._trust_task
        await self.stop_replica()
        if self.ledger is not None:
            self.ledger.close()
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        if self.engine is not None:
            self.engine.dispose()
        if self.nats is not None:
            await self.nats.astop()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
