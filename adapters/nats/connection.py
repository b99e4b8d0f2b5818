"""Connecting to NATS: fail fast the first time, keep trying once connected.

nats-py retries a first connection as often as it retries a lost one, and logs a traceback
for every attempt, so a wrong URL or a dead server looks like a hang. Here the first connection
has one deadline (default 10 s) and ends in one typed error, `NatsUnreachable` (reason code
NATS_ERROR), naming the servers and the last thing that went wrong. Once connected, the client
reconnects for ever (nothing is lost while away: JetStream keeps the messages), and each
connection problem is one log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from nats.aio.client import Client

from crossforce.contracts.errors import ContractError, ReasonCode

log = logging.getLogger("crossforce.nats")

DEFAULT_CONNECT_TIMEOUT = 10.0
# Each attempt's own TCP/TLS handshake limit (whole seconds, as nats-py types it), within the
# overall deadline.
ATTEMPT_TIMEOUT = 2
RECONNECT_WAIT = 1


class NatsUnreachable(ContractError):
    """No connection to any of the servers within the deadline."""

    def __init__(self, servers: Sequence[str], timeout: float, last_error: str | None) -> None:
        cause = f": {last_error}" if last_error else ""
        super().__init__(
            ReasonCode.NATS_ERROR,
            f"cannot connect to NATS at {redact(servers)} within {timeout:g} s{cause}",
        )
        self.servers = tuple(servers)
        self.timeout = timeout


def redact(servers: Sequence[str] | str) -> str:
    """Never show a password or token: the user-info part of each URL is masked."""
    urls = servers.split(",") if isinstance(servers, str) else list(servers)
    shown = []
    for url in urls:
        scheme, sep, rest = url.partition("://")
        shown.append(f"{scheme}{sep}***@{rest.split('@', 1)[1]}" if "@" in rest else url)
    return ",".join(shown)


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def connect(
    servers: str | Sequence[str],
    *,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
    name: str = "crossforce",
    **options: Any,
) -> Client:
    """A connected nats-py client, or `NatsUnreachable` after `timeout` seconds.

    `servers` is one URL, comma-separated URLs (a cluster) or a list; `options` go to
    nats-py's `Client.connect` (credentials, TLS, inbox prefix)."""
    urls = servers.split(",") if isinstance(servers, str) else list(servers)
    last_error: list[str] = []
    connected = asyncio.Event()

    async def on_error(error: Exception) -> None:
        if connected.is_set():
            log.warning("%s: NATS connection problem (%s); reconnecting", name, _describe(error))
        else:
            last_error[:] = [_describe(error)]
            log.debug("%s: NATS connect attempt failed: %s", name, _describe(error))

    async def on_disconnected() -> None:
        if connected.is_set() and not client.is_closed:  # not when closed on purpose
            log.warning("%s: disconnected from NATS; reconnecting", name)

    async def on_reconnected() -> None:
        log.info("%s: reconnected to NATS", name)

    client = Client()
    try:
        async with asyncio.timeout(timeout):
            await client.connect(
                servers=urls,
                connect_timeout=max(1, min(ATTEMPT_TIMEOUT, int(timeout))),
                allow_reconnect=True,
                max_reconnect_attempts=-1,  # after the first connect: keep trying
                reconnect_time_wait=RECONNECT_WAIT,
                error_cb=on_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
                **options,
            )
    except TimeoutError:
        with contextlib.suppress(Exception):
            await client.close()
        raise NatsUnreachable(urls, timeout, last_error[0] if last_error else None) from None
    connected.set()
    return client
