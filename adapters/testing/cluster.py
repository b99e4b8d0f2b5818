"""A 3-node JetStream cluster of real nats-server processes on loopback, for failure tests.

Each node is an `EmbeddedNats` with a cluster block routing to every other node. Ports are
fixed at construction, so a killed node comes back at the same address and rejoins.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from crossforce.adapters.nats.config import (
    ClusterSettings,
    ServerSettings,
    Value,
    render,
    server_document,
)
from crossforce.adapters.nats.security import Identity
from crossforce.adapters.nats.server import EmbeddedNats
from crossforce.adapters.net import free_ports

LOOPBACK = "127.0.0.1"


class ClusterError(RuntimeError):
    """The cluster did not form, or a node did not become healthy in time."""


class LoopbackCluster:
    def __init__(
        self,
        workdir: Path,
        size: int = 3,
        *,
        name: str = "crossforce-test",
        identities: Iterable[Identity] | None = None,
        timeout: float = 30.0,
    ) -> None:
        """`identities` (the hub's among them) turns on the Crossforce users and permissions;
        without them the cluster is open, which suits transport-only tests."""
        if size < 1:
            raise ValueError("a cluster needs at least one node")
        self.workdir = Path(workdir)
        self.name = name
        self.timeout = timeout
        self._identities = list(identities) if identities is not None else None
        route_ports = free_ports(size)
        routes = tuple(f"nats-route://{LOOPBACK}:{port}" for port in route_ports)
        self.nodes: list[EmbeddedNats] = []
        for index, route_port in enumerate(route_ports):
            server_name = f"n{index + 1}"
            node_dir = self.workdir / server_name
            config = node_dir / "server.conf"
            config.parent.mkdir(parents=True, exist_ok=True)
            cluster = ClusterSettings(name, routes, host=LOOPBACK, port=route_port)
            config.write_text(self._render(server_name, cluster))
            self.nodes.append(
                EmbeddedNats(node_dir, config_file=config, server_name=server_name, host=LOOPBACK)
            )

    def _render(self, server_name: str, cluster: ClusterSettings) -> str:
        if self._identities is not None:
            settings = ServerSettings(server_name=server_name, store_dir=None, cluster=cluster)
            return render(server_document(settings, self._identities))
        document: dict[str, Value] = {
            "server_name": server_name,
            "jetstream": {},
            "cluster": {
                "name": cluster.name,
                "host": cluster.host,
                "port": cluster.port,
                "routes": list(cluster.routes),
            },
        }
        return render(document)

    # -- addresses -------------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """All nodes, comma-separated, as nats-py and `crossforce up --nats-url` accept."""
        return ",".join(self.urls)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        for node in self.nodes:
            node.start()
        self.wait_formed()
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def kill(self, node: int) -> None:
        """SIGKILL one node (0-based), as a crash."""
        self.nodes[node].kill()

    def stop_node(self, node: int) -> None:
        self.nodes[node].stop()

    def restart(self, node: int) -> None:
        """Start a stopped or killed node again and wait until it has caught up."""
        target = self.nodes[node]
        if target.running:
            target.stop()
        target.start()
        self.wait_formed()

    # -- readiness -------------------------------------------------------------------------

    def wait_formed(self) -> None:
        """Every running node sees every other node, agrees on a meta leader, and is healthy
        (full /healthz: JetStream meta and assets current)."""
        deadline = time.monotonic() + self.timeout
        last: str = "no answer yet"
        while time.monotonic() < deadline:
            running = [node for node in self.nodes if node.running]
            problem = self._problem(running)
            if problem is None:
                return
            last = problem
            time.sleep(0.1)
        raise ClusterError(f"cluster {self.name} not ready in {self.timeout}s: {last}")

    def _problem(self, running: Sequence[EmbeddedNats]) -> str | None:
        leaders = set()
        for node in running:
            jsz = _get_json(f"{node.monitor_url}/jsz")
            meta = (jsz or {}).get("meta_cluster") or {}
            leader = meta.get("leader")
            if not leader:
                return f"{node.server_name} has no meta leader"
            leaders.add(leader)
            routez = _get_json(f"{node.monitor_url}/routez") or {}
            peers = {route.get("remote_name") for route in routez.get("routes", [])}
            if len(peers - {None}) < len(running) - 1:
                return f"{node.server_name} routes to {len(peers)} of {len(running) - 1} peers"
            if not _healthy(f"{node.monitor_url}/healthz"):
                return f"{node.server_name} not healthy"
        if len(leaders) > 1:
            return f"nodes disagree on the meta leader: {sorted(leaders)}"
        return None

    def meta_leader(self) -> str | None:
        for node in self.nodes:
            if node.running:
                meta = (_get_json(f"{node.monitor_url}/jsz") or {}).get("meta_cluster") or {}
                if meta.get("leader"):
                    return str(meta["leader"])
        return None

    def index_of(self, server_name: str) -> int:
        for index, node in enumerate(self.nodes):
            if node.server_name == server_name:
                return index
        raise KeyError(server_name)

    # -- context manager -------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _get_json(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 - loopback
            data = json.loads(response.read())
            return data if isinstance(data, dict) else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
