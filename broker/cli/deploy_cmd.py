"""`crossforce deploy`: write NATS server configuration, credentials and development TLS."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from crossforce.adapters.nats.bundle import write_bundle, write_helm_accounts
from crossforce.adapters.nats.tls import DEFAULT_HOSTS, write_dev_pki
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES

if TYPE_CHECKING:
    import docker

app = typer.Typer(help="Deployment artefacts: NATS config, credentials, dev certificates.")
out_console = Console()


def _codes(forces: str | None) -> list[str]:
    if not forces:
        return list(FORCES)
    codes = [code.strip().upper() for code in forces.split(",") if code.strip()]
    unknown = [code for code in codes if code not in FORCES]
    if unknown:
        raise typer.BadParameter(f"not in the force directory: {', '.join(unknown)}")
    return codes


@app.command("nats-config")
def nats_config(
    out: Annotated[Path, typer.Option(help="Directory to write into.")],
    forces: Annotated[
        str | None, typer.Option(help="Comma-separated force codes (default: every force).")
    ] = None,
    tls: Annotated[bool, typer.Option(help="Add a TLS block with a development CA.")] = False,
    cluster_size: Annotated[int, typer.Option(min=1, help="Nodes; 3 for a cluster.")] = 1,
    cluster_name: Annotated[str, typer.Option(help="JetStream cluster name.")] = "crossforce",
    mount_dir: Annotated[
        str | None, typer.Option(help="Where OUT is mounted for the server (e.g. /etc/nats).")
    ] = None,
    store_dir: Annotated[str, typer.Option(help="JetStream store directory.")] = "/data/jetstream",
    rotate: Annotated[
        bool, typer.Option(help="Issue new credentials even where some exist.")
    ] = False,
    helm_values: Annotated[
        Path | None, typer.Option(help="Also write a NATS Helm chart values overlay here.")
    ] = None,
) -> None:
    """Write nats-server config(s) and one 0600 credentials file per force plus the hub."""
    bundle = write_bundle(
        out,
        _codes(forces),
        tls=tls,
        cluster_size=cluster_size,
        cluster_name=cluster_name,
        mount_dir=mount_dir,
        store_dir=store_dir,
        rotate=rotate,
    )
    # Paths only: seeds and keys are never printed.
    for config in bundle.configs:
        out_console.print(f"server config  {config}")
    out_console.print(
        f"credentials    {len(bundle.credentials)} files in {out / 'creds'} (mode 0600)"
    )
    if bundle.tls_dir:
        out_console.print(f"tls            {bundle.tls_dir}")
    if helm_values is not None:
        write_helm_accounts(helm_values, bundle.identities)
        out_console.print(f"helm values    {helm_values}")


@contextmanager
def _docker(timeout: int = 600) -> Iterator[docker.DockerClient]:
    """A Docker client; a missing SDK or engine, or a failed build, is one DOCKER_ERROR line."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        raise ContractError(
            ReasonCode.DOCKER_ERROR, "the docker Python SDK is needed: pip install docker"
        ) from None
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as exc:
        cause = " ".join(str(exc).split())[:200]
        raise ContractError(
            ReasonCode.DOCKER_ERROR, f"no Docker engine answered ({cause})"
        ) from None
    try:
        yield client
    except DockerException as exc:
        cause = " ".join(str(exc).split())[:300]
        raise ContractError(ReasonCode.DOCKER_ERROR, cause) from None
    finally:
        client.close()


@app.command("nats-image")
def nats_image(
    tag: Annotated[str, typer.Option(help="Image tag to build.")] = "crossforce/nats:2.15.1",
) -> None:
    """Build the FROM-scratch nats-server image from the pinned wheel (needs Docker)."""
    from crossforce.adapters.nats.image import build_local_image

    with _docker() as client:
        out_console.print(f"image          {build_local_image(client, tag)}")


@app.command("hub-image")
def hub_image(
    tag: Annotated[str, typer.Option(help="Image tag to build.")] = "crossforce/hub:0.1.0",
) -> None:
    """Build the hub image from this checkout with no registry: a Debian base made by
    mmdebstrap and `docker import`, then the product installed offline (needs Docker)."""
    from crossforce.adapters.hub_image import build_hub_image

    with _docker() as client:
        out_console.print(f"image          {build_hub_image(client, tag)}")


@app.command("dev-ca")
def dev_ca(
    out: Annotated[Path, typer.Option(help="Directory to write into.")],
    hosts: Annotated[
        str, typer.Option(help="Comma-separated DNS names / IPs for the server certificate.")
    ] = ",".join(DEFAULT_HOSTS),
) -> None:
    """Write a development CA plus a server and a client certificate (keys at mode 0600)."""
    pki = write_dev_pki(out, hosts=[h.strip() for h in hosts.split(",") if h.strip()])
    out_console.print(f"CA             {pki.ca_cert}")
    out_console.print(f"server         {pki.server_cert}")
    out_console.print(f"client         {pki.client_cert}")
