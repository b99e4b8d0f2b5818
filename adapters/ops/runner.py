"""Starting the ops port beside a running hub: the one hook `crossforce up` calls."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import Engine

from crossforce.adapters.ops.metrics import HubMetrics, watch_jetstream
from crossforce.adapters.ops.server import OpsServer


@contextlib.asynccontextmanager
async def serving_ops(
    metrics: HubMetrics,
    *,
    engine: Engine,
    ledger_size: Callable[[], int] | None,
    nats_url: str,
    nats_options: dict[str, Any],
    partitions: int,
    host: str,
    port: int,
    refresh_seconds: float = 5.0,
) -> AsyncIterator[OpsServer]:
    """/metrics, /healthz and /readyz on host:port while the block runs."""
    metrics.watch_state(engine, ledger_size)
    watcher = asyncio.create_task(
        watch_jetstream(
            metrics, nats_url.split(","), nats_options, partitions, interval=refresh_seconds
        )
    )
    server = OpsServer(metrics, host, port).start()
    try:
        yield server
    finally:
        server.stop()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
