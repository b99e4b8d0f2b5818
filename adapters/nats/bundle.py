"""A deployable NATS bundle: server config(s), per-participant credentials, optional dev TLS.

Layout written under `out`:
    server.conf            (single node)   or   nats-1.conf ... nats-N.conf (cluster)
    creds/<CODE>.nk        one nkey seed per force and one for the hub, mode 0600
    tls/                   dev CA and certificates, when TLS is requested
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from crossforce.adapters.nats.config import (
    ACCOUNT,
    CLUSTER_PORT,
    ClusterSettings,
    ServerSettings,
    TlsSettings,
    cluster_routes,
    server_document,
    write_server_config,
)
from crossforce.adapters.nats.security import HUB, Identity, load_or_create
from crossforce.adapters.nats.tls import DEFAULT_HOSTS, write_dev_pki

HEADER = (
    "nats-server configuration for Crossforce, written by `crossforce deploy nats-config`.\n"
    "It holds public nkeys only; the matching seeds are in creds/ and must stay secret."
)


@dataclass(frozen=True, slots=True)
class Bundle:
    configs: tuple[Path, ...]
    credentials: dict[str, Path]
    tls_dir: Path | None
    identities: tuple[Identity, ...]


def node_names(cluster_size: int) -> tuple[str, ...]:
    return (
        ("nats",) if cluster_size <= 1 else tuple(f"nats-{i}" for i in range(1, cluster_size + 1))
    )


def write_bundle(
    out: Path,
    codes: Sequence[str],
    *,
    tls: bool = False,
    cluster_size: int = 1,
    cluster_name: str = "crossforce",
    mount_dir: str | None = None,
    store_dir: str | None = "/data/jetstream",
    rotate: bool = False,
) -> Bundle:
    """Write the bundle. `mount_dir` is where `out` appears to the server (e.g. /etc/nats in
    a container); paths inside the configs are built from it. Existing credentials are reused
    unless `rotate` is set, so regenerating configs does not lock anyone out."""
    out.mkdir(parents=True, exist_ok=True)
    base = mount_dir if mount_dir is not None else str(out.resolve())
    creds_dir = out / "creds"
    participants = [HUB, *[code for code in codes if code != HUB]]
    identities: list[Identity] = [
        load_or_create(code, creds_dir, rotate=rotate) for code in participants
    ]

    names = node_names(cluster_size)
    tls_settings: TlsSettings | None = None
    tls_dir: Path | None = None
    if tls:
        tls_dir = out / "tls"
        if rotate or not (tls_dir / "server.pem").exists():
            write_dev_pki(tls_dir, hosts=(*DEFAULT_HOSTS, *names))
        tls_settings = TlsSettings(
            cert=f"{base}/tls/server.pem", key=f"{base}/tls/server-key.pem", ca=f"{base}/tls/ca.pem"
        )

    configs: list[Path] = []
    routes = cluster_routes(names, CLUSTER_PORT)
    for name in names:
        cluster = ClusterSettings(cluster_name, routes) if cluster_size > 1 else None
        settings = ServerSettings(
            server_name=name, store_dir=store_dir, tls=tls_settings, cluster=cluster
        )
        filename = "server.conf" if cluster_size <= 1 else f"{name}.conf"
        configs.append(write_server_config(out / filename, settings, identities, HEADER))
    credentials = {ident.code: creds_dir / f"{ident.code}.nk" for ident in identities}
    return Bundle(tuple(configs), credentials, tls_dir, tuple(identities))


def write_helm_accounts(path: Path, identities: Sequence[Identity]) -> Path:
    """A values overlay for the official NATS Helm chart (1.x) adding the Crossforce account,
    its users and permissions through `config.merge`; public keys only."""
    document = server_document(ServerSettings(server_name="helm", store_dir=None), identities)
    accounts = document["accounts"]
    values = {"config": {"merge": {"accounts": accounts}}}
    header = f"# {ACCOUNT} account for the NATS Helm chart. {HEADER.splitlines()[1]}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(values, sort_keys=False))
    return path
