"""Render nats-server configuration files for Crossforce.

The server config holds only public nkeys and file paths, never a secret, so it can be kept in
version control; the per-participant seeds go to separate 0600 files (see `security`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crossforce.adapters.nats.security import HUB, Identity, Permissions, permissions_for

ACCOUNT = "CROSSFORCE"
CLIENT_PORT = 4222
CLUSTER_PORT = 6222
MONITOR_PORT = 8222

Value = str | int | bool | Sequence["Value"] | Mapping[str, "Value"]


@dataclass(frozen=True, slots=True)
class TlsSettings:
    cert: str
    key: str
    ca: str
    # Clients authenticate with nkeys; mutual TLS is an optional extra layer.
    verify_clients: bool = False


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    name: str
    routes: tuple[str, ...]
    host: str = "0.0.0.0"
    port: int = CLUSTER_PORT


@dataclass(frozen=True, slots=True)
class ServerSettings:
    server_name: str
    # None leaves the store directory to the command line (EmbeddedNats passes `-sd`).
    store_dir: str | None = "/data/jetstream"
    host: str = "0.0.0.0"
    port: int = CLIENT_PORT
    http_port: int = MONITOR_PORT
    max_file_store: str | None = None
    max_payload: int | None = None
    tls: TlsSettings | None = None
    cluster: ClusterSettings | None = None
    extra: Mapping[str, Value] = field(default_factory=dict)


def _user_entry(identity: Identity, permissions: Permissions) -> dict[str, Value]:
    return {
        "nkey": identity.public_key,
        "permissions": {
            "publish": {"allow": list(permissions.publish)},
            "subscribe": {"allow": list(permissions.subscribe)},
        },
    }


def _tls_block(tls: TlsSettings, *, routes: bool) -> dict[str, Value]:
    block: dict[str, Value] = {"cert_file": tls.cert, "key_file": tls.key, "ca_file": tls.ca}
    # Routes always verify: a node that cannot show a CA-issued certificate may not join.
    if routes or tls.verify_clients:
        block["verify"] = True
    return block


def server_document(settings: ServerSettings, identities: Iterable[Identity]) -> dict[str, Value]:
    """The configuration as a plain mapping (rendered by `render`)."""
    identities = list(identities)
    users = [_user_entry(ident, permissions_for(ident.code)) for ident in identities]
    if not any(ident.code == HUB for ident in identities):
        raise ValueError("the configuration must include the HUB identity")
    jetstream: dict[str, Value] = {}
    if settings.store_dir:
        jetstream["store_dir"] = settings.store_dir
    if settings.max_file_store:
        jetstream["max_file_store"] = settings.max_file_store
    doc: dict[str, Value] = {
        "server_name": settings.server_name,
        "host": settings.host,
        "port": settings.port,
        "http_port": settings.http_port,
        "jetstream": jetstream,
        # One account holds every participant, so the hub and forces share the streams while
        # the per-user permissions below keep forces apart.
        "accounts": {ACCOUNT: {"jetstream": "enabled", "users": users}},
    }
    if settings.max_payload:
        doc["max_payload"] = settings.max_payload
    if settings.tls:
        doc["tls"] = _tls_block(settings.tls, routes=False)
    if settings.cluster:
        cluster: dict[str, Value] = {
            "name": settings.cluster.name,
            "host": settings.cluster.host,
            "port": settings.cluster.port,
            "routes": list(settings.cluster.routes),
        }
        if settings.tls:
            cluster["tls"] = _tls_block(settings.tls, routes=True)
        doc["cluster"] = cluster
    doc.update(settings.extra)
    return doc


def _render_value(value: Value, indent: int) -> str:
    pad = "  " * indent
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # Always quoted: an unquoted `$JS...` would be read as a variable reference.
        return json.dumps(value)
    if isinstance(value, Mapping):
        lines = [f"{pad}  {_key(k)}: {_render_value(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + "\n".join(lines) + f"\n{pad}}}"
    items = [f"{pad}  {_render_value(v, indent + 1)}" for v in value]
    if not items:
        return "[]"
    return "[\n" + ",\n".join(items) + f"\n{pad}]"


def _key(key: str) -> str:
    return key if key.replace("_", "").isalnum() else json.dumps(key)


def render(document: Mapping[str, Value], header: str = "") -> str:
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += [f"{_key(k)}: {_render_value(v, 0)}" for k, v in document.items()]
    return "\n".join(lines) + "\n"


def render_server_config(
    settings: ServerSettings, identities: Iterable[Identity], header: str = ""
) -> str:
    return render(server_document(settings, list(identities)), header)


def write_server_config(
    path: Path, settings: ServerSettings, identities: Iterable[Identity], header: str = ""
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_server_config(settings, identities, header))
    return path


def cluster_routes(hosts: Sequence[str], port: int = CLUSTER_PORT) -> tuple[str, ...]:
    # Every node lists every node (itself included); nats-server ignores the self-route.
    return tuple(f"nats-route://{host}:{port}" for host in hosts)
