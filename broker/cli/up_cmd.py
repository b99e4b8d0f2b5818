"""`crossforce up`: run the broker until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crossforce.adapters.hsm.uri import is_pkcs11_uri
from crossforce.adapters.nats.connection import redact
from crossforce.adapters.nats.tls import client_ssl_context
from crossforce.adapters.ops.metrics import HubMetrics
from crossforce.adapters.ops.runner import serving_ops
from crossforce.adapters.sql.report_queue import DEFAULT_WEB_ROLE
from crossforce.broker.cli import db_cmd
from crossforce.broker.cli.common import DB_URL_ENV, FILE_SUFFIX, load_signer, setting
from crossforce.broker.cli.logs import LogFormat, LogLevel, configure_logging
from crossforce.broker.domain.sla import load_policy
from crossforce.broker.runtime import BrokerSettings, RunningBroker, hub_connect_options
from crossforce.contracts.envelope import HUB_FORCE_CODE
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import Signer
from crossforce.contracts.trust import TrustStore

console = Console(stderr=True)


def up(
    data_dir: Annotated[Path, typer.Option(help="Where the embedded NATS and SQLite live")] = Path(
        ".crossforce"
    ),
    nats_url: Annotated[
        str | None, typer.Option(envvar="CROSSFORCE_NATS_URL", help="Existing NATS cluster URL")
    ] = None,
    db_url: Annotated[
        str | None,
        typer.Option(
            envvar=DB_URL_ENV,
            help=f"postgresql+psycopg://… (or a file holding it: ${DB_URL_ENV}{FILE_SUFFIX})",
        ),
    ] = None,
    trust: Annotated[Path, typer.Option(help="Signed trust store")] = Path("trust.json"),
    hub_key: Annotated[
        str,
        typer.Option(
            envvar="CROSSFORCE_HUB_KEY",
            help="The hub's signing key: a key file, or pkcs11:token=...;object=HUB for a key "
            "in an HSM",
        ),
    ] = "keys/HUB.key",
    anchor_kid: Annotated[
        str | None, typer.Option(envvar="CROSSFORCE_ANCHOR_KID", help="Pin the trust anchor")
    ] = None,
    nats_creds: Annotated[
        Path | None, typer.Option(envvar="CROSSFORCE_NATS_CREDS", help="Hub nkey seed file")
    ] = None,
    nats_ca: Annotated[
        Path | None,
        typer.Option(
            envvar="CROSSFORCE_NATS_CA",
            help="CA certificate (PEM) of NATS servers that require TLS",
        ),
    ] = None,
    replicas: Annotated[
        int, typer.Option(envvar="CROSSFORCE_STREAM_REPLICAS", help="Stream replicas (R3)")
    ] = 1,
    partitions: Annotated[int, typer.Option(help="Inbound case partitions")] = 16,
    port: Annotated[int, typer.Option(help="Embedded NATS port (0: any free port)")] = 4222,
    sla_policy: Annotated[
        Path | None,
        typer.Option(envvar="CROSSFORCE_SLA_POLICY", help="SLA policy file (default: packaged)"),
    ] = None,
    ops_port: Annotated[
        int | None,
        typer.Option(
            envvar="CROSSFORCE_OPS_PORT",
            help="Serve /metrics, /healthz and /readyz on this port (default: off)",
        ),
    ] = None,
    ops_host: Annotated[
        str,
        typer.Option(
            envvar="CROSSFORCE_OPS_HOST",
            help="Address of the ops port (0.0.0.0 in a container, for probes and scrapes)",
        ),
    ] = "127.0.0.1",
    web_db_role: Annotated[
        str,
        typer.Option(
            envvar="CROSSFORCE_WEB_DB_ROLE",
            help="PostgreSQL: the web app's role, granted INSERT on the access-report queue",
        ),
    ] = DEFAULT_WEB_ROLE,
    upgrade: Annotated[
        bool,
        typer.Option(
            "--upgrade", help="Upgrade a database older than this Crossforce first (back it up)"
        ),
    ] = False,
    log_level: Annotated[
        LogLevel,
        typer.Option(envvar="CROSSFORCE_LOG_LEVEL", help="Refusals and faults log at warning"),
    ] = LogLevel.INFO,
    log_format: Annotated[
        LogFormat,
        typer.Option(envvar="CROSSFORCE_LOG_FORMAT", help="text, or json: one object per line"),
    ] = LogFormat.TEXT,
) -> None:
    """Start NATS (embedded unless --nats-url), provision streams, and run the hub."""
    configure_logging(log_level, log_format)
    if not trust.exists() or not (is_pkcs11_uri(hub_key) or Path(hub_key).exists()):
        raise ContractError(
            ReasonCode.KEY_FILE_INVALID,
            f"need {hub_key} and {trust}: run `crossforce keys new --force HUB --out keys/` and "
            "include keys/HUB.jwk in `crossforce keys trust`",
        )
    load_policy(sla_policy)  # refuse a bad policy file before asking for a passphrase
    db_url = setting(DB_URL_ENV, db_url)
    # A schema is changed only when the operator says so (see crossforce.adapters.sql.migrate).
    found = db_cmd.schemas(data_dir, db_url, None)
    if upgrade:
        db_cmd.upgrade_all(found)
    else:
        db_cmd.refuse_out_of_date(found)
    if nats_ca is not None:
        _check_ca(nats_ca)
    store = TrustStore.load(trust, pinned_anchor_kid=anchor_kid)
    if anchor_kid is None:
        console.print(
            f"[yellow]warning[/] trust anchor {store.anchor.kid} is not pinned: set "
            "CROSSFORCE_ANCHOR_KID (or --anchor-kid) so a store signed by any other anchor "
            "is refused",
            highlight=False,
        )
    key = load_signer(hub_key)
    if key.force != HUB_FORCE_CODE:
        raise ContractError(ReasonCode.KEY_FILE_INVALID, f"{hub_key} is not the hub's key")
    settings = BrokerSettings(
        data_dir=data_dir,
        nats_url=nats_url,
        db_url=db_url,
        nats_credentials=nats_creds,
        nats_ca=nats_ca,
        replicas=replicas,
        partitions=partitions,
        nats_port=port,
        sla_policy=sla_policy,
        trust_path=trust,
        anchor_kid=anchor_kid,
        web_db_role=web_db_role,
    )
    ops = None if ops_port is None else (ops_host, ops_port)
    asyncio.run(_serve(settings, store, key, ops))


def _check_ca(path: Path) -> None:
    try:
        client_ssl_context(path)
    except OSError as exc:
        reason = exc.strerror or "not a PEM CA certificate file"
        raise ContractError(ReasonCode.FILE_ERROR, f"--nats-ca {path}: {reason}") from None


async def _serve(
    settings: BrokerSettings, trust: TrustStore, key: Signer, ops: tuple[str, int] | None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    metrics = HubMetrics()
    async with (
        RunningBroker(settings, trust=trust, hub_key=key, on_result=metrics.observe) as running,
        _ops_port(running, metrics, ops),
    ):
        if running.trust_watcher is not None:
            # SIGHUP: look at the trust store now rather than at the next poll.
            loop.add_signal_handler(signal.SIGHUP, running.trust_watcher.check_now)
        where = "embedded nats-server" if settings.nats_url is None else "NATS cluster"
        console.print(
            f"[green]Crossforce is up[/]: {where} at {redact(running.nats_url)}; database "
            f"{redact(settings.database_url)}; {len(running.forces())} forces; "
            f"{settings.partitions} partitions. Ctrl-C stops (in-flight work drains).",
            highlight=False,
        )
        if settings.nats_credentials is None:
            # The hub connected without credentials, so any client can connect as well.
            console.print(
                "[yellow]warning[/] NATS runs without authentication: any client can publish "
                "as any force. Fine for a trial on one machine; for forces, run a secured "
                "cluster (`crossforce deploy nats-config`) and give --nats-creds",
                highlight=False,
            )
        await stop.wait()
        console.print("stopping: draining in-flight messages…")
    console.print("stopped")


@contextlib.asynccontextmanager
async def _ops_port(
    running: RunningBroker, metrics: HubMetrics, ops: tuple[str, int] | None
) -> AsyncIterator[None]:
    if ops is None or running.engine is None:
        yield
        return
    host, port = ops
    ledger = running.ledger
    async with serving_ops(
        metrics,
        engine=running.engine,
        ledger_size=(lambda: ledger.size) if ledger is not None else None,
        nats_url=running.nats_url,
        nats_options=hub_connect_options(running.settings),
        partitions=running.settings.partitions,
        host=host,
        port=port,
    ) as server:
        console.print(
            f"ops: http://{host}:{server.port}/metrics, /healthz and /readyz", highlight=False
        )
        yield
