"""The whole broker in containers, for integration teams in any language that have Docker.

    with CrossforceBroker(["KENT", "ESSEX"], workdir=tmp_path) as broker:
        broker.nats_url                      # the NATS server, from the host
        broker.credentials("KENT")           # Kent's nkey seed file: its own NATS user
        broker.pki.key("KENT"), broker.trust # Kent's signing key, the signed trust store
        broker.write_force_files("KENT", out_dir)  # the same as files, for any language

Two containers on their own network: NATS (the `crossforce/nats` image, running the
configuration `crossforce deploy nats-config` writes, so every force is its own nkey user with
production's permissions) and the hub (`crossforce/hub`, built here with no registry by
`crossforce.adapters.hub_image`, running `crossforce up` as the HUB user). Keys and the trust
store are fresh for each broker.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from crossforce.adapters.hub_image import build_hub_image
from crossforce.adapters.nats.bundle import Bundle, write_bundle
from crossforce.adapters.testing.broker import DEFAULT_FORCES, make_pki
from crossforce.adapters.testing.containers import (
    CLIENT_PORT,
    NatsContainer,
    disable_ryuk_without_registry,
    docker_client,
)
from crossforce.contracts.envelope import HUB_FORCE_CODE
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.trust import TrustStore

__all__ = ["CrossforceBroker"]

NATS_ALIAS = "nats"
MOUNT = "/etc/crossforce"
HUB_UID = 10001  # the hub image's user
READY_LINE = "Crossforce is up"


class CrossforceBroker:
    """NATS and hub containers with per-force credentials (a context manager)."""

    def __init__(
        self,
        forces: Iterable[str] = DEFAULT_FORCES,
        *,
        workdir: Path,
        partitions: int = 4,
        startup_timeout: int = 120,
    ) -> None:
        self.pki: EphemeralPki = make_pki(forces)
        self.trust: TrustStore = self.pki.trust_store()
        self.workdir = workdir
        self.partitions = partitions
        self.startup_timeout = startup_timeout
        self._network: Network | None = None
        self._nats: NatsContainer | None = None
        self._hub: DockerContainer | None = None
        self._bundle: Bundle | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Self:
        client = docker_client()
        try:
            disable_ryuk_without_registry(client)
            image = build_hub_image(client)
        finally:
            client.close()
        self._bundle = write_bundle(self.workdir / "bundle", sorted(self.pki.keys), store_dir=None)
        self._network = Network().create()
        try:
            self._nats = (
                NatsContainer(config_file=self._bundle.configs[0])
                .with_network(self._network)
                .with_network_aliases(NATS_ALIAS)
            )
            self._nats.start()
            self._hub = self._hub_container(image, self._hub_files())
            self._hub.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for container in (self._hub, self._nats):
            if container is not None:
                container.stop()
        self._hub = self._nats = None
        if self._network is not None:
            self._network.remove()
            self._network = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what a force system needs ---------------------------------------------------------
    @property
    def nats_url(self) -> str:
        if self._nats is None:
            raise RuntimeError("the broker is not running")
        return self._nats.url

    def credentials(self, force: str) -> Path:
        """The force's nkey seed file (its own NATS user)."""
        if self._bundle is None:
            raise RuntimeError("the broker is not running")
        return self._bundle.credentials[force]

    def hub_logs(self) -> str:
        if self._hub is None:
            return ""
        out, err = self._hub.get_logs()
        return (out + err).decode("utf-8", "replace")

    def write_force_files(self, force: str, directory: Path, passphrase: str) -> Path:
        """keys/<FORCE>.key (encrypted), trust.json and creds/<FORCE>.nk under `directory`,
        as `crossforce keys` and `deploy nats-config` would write them."""
        self.pki.key(force).to_encrypted_file(directory / "keys" / f"{force}.key", passphrase)
        (directory / "trust.json").write_text(self.trust.to_json(), encoding="utf-8")
        (directory / "creds").mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.credentials(force), directory / "creds" / f"{force}.nk")
        return directory

    # -- the hub container -----------------------------------------------------------------
    def _hub_files(self) -> tuple[Path, str]:
        assert self._bundle is not None
        passphrase = secrets.token_urlsafe(24)
        files = self.workdir / "hub"
        self.pki.key(HUB_FORCE_CODE).to_encrypted_file(files / "keys" / "HUB.key", passphrase)
        (files / "trust.json").write_text(self.trust.to_json(), encoding="utf-8")
        (files / "creds").mkdir(parents=True, exist_ok=True)
        shutil.copy2(self._bundle.credentials[HUB_FORCE_CODE], files / "creds" / "HUB.nk")
        # Readable by the image's user only, as mounted secrets should be.
        for path in [files, *files.rglob("*")]:
            if os.geteuid() == 0:
                os.chown(path, HUB_UID, HUB_UID)
            else:  # an unprivileged engine user cannot chown: let the hub read them
                path.chmod(0o755 if path.is_dir() else 0o644)
        return files, passphrase

    def _hub_container(self, image: str, files: tuple[Path, str]) -> DockerContainer:
        assert self._network is not None
        directory, passphrase = files
        return (
            DockerContainer(image)
            .with_network(self._network)
            .with_volume_mapping(str(directory.resolve()), MOUNT, "ro")
            .with_env("CROSSFORCE_KEY_PASSPHRASE", passphrase)
            .with_env("CROSSFORCE_ANCHOR_KID", self.trust.anchor.kid)
            .waiting_for(
                LogMessageWaitStrategy(READY_LINE).with_startup_timeout(self.startup_timeout)
            )
            .with_command(
                [
                    "up",
                    "--nats-url",
                    f"nats://{NATS_ALIAS}:{CLIENT_PORT}",
                    "--nats-creds",
                    f"{MOUNT}/creds/HUB.nk",
                    "--trust",
                    f"{MOUNT}/trust.json",
                    "--hub-key",
                    f"{MOUNT}/keys/HUB.key",
                    "--data-dir",
                    "/var/lib/crossforce/data",
                    "--partitions",
                    str(self.partitions),
                ]
            )
        )
