"""The ops port: `/metrics` (Prometheus), `/healthz` (alive) and `/readyz` (ready for work).

Served from a thread of its own, so a busy or stuck event loop cannot hide itself from the
liveness probe, and the probes never wait on the hub's work. Readiness means the database
answers now, JetStream answered within the last few refreshes, and every hub stream exists.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from crossforce.adapters.ops.metrics import HubMetrics

# A JetStream look older than this (several missed refreshes) is no longer evidence.
STALE_AFTER_SECONDS = 20.0

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """Probes come every few seconds: no access log."""


def readiness(metrics: HubMetrics, now: float | None = None) -> dict[str, Any]:
    now = time.monotonic() if now is None else now
    snapshot = metrics.jetstream
    fresh = snapshot.at > 0 and now - snapshot.at <= STALE_AFTER_SECONDS
    checks = {
        "database": metrics.database_reachable(),
        "nats": fresh and snapshot.connected,
        "streams": fresh and snapshot.connected and not snapshot.missing_streams,
    }
    document: dict[str, Any] = {"ready": all(checks.values()), "checks": checks}
    if snapshot.missing_streams and snapshot.connected:
        document["missing_streams"] = list(snapshot.missing_streams)
    return document


def ops_app(metrics: HubMetrics) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    prometheus = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            served: Iterable[bytes] = prometheus(environ, start_response)
            return served
        if path == "/healthz":
            return _json(start_response, "200 OK", {"alive": True})
        if path == "/readyz":
            document = readiness(metrics)
            status = "200 OK" if document["ready"] else "503 Service Unavailable"
            return _json(start_response, status, document)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return app


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


class OpsServer:
    """The ops endpoints on `host:port` (port 0: any free port), in a daemon thread."""

    def __init__(self, metrics: HubMetrics, host: str, port: int) -> None:
        self.server: WSGIServer = make_server(
            host, port, ops_app(metrics), ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="crossforce-ops", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def start(self) -> OpsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
