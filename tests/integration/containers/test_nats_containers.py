"""NATS in a real container (when an engine exists) and the embedded fallback (always)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import nats
import pytest

from crossforce.adapters.testing.containers import (
    LOCAL_IMAGE,
    OFFICIAL_IMAGE,
    DockerUnavailable,
    NatsContainer,
    NatsFallbackWarning,
    build_local_image,
    docker_available,
    docker_client,
    nats_service,
    require_docker,
)

pytestmark = pytest.mark.server


async def _round_trip(url: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(name="PROBE", subjects=["probe.>"])
    await js.publish("probe.1", b"ping", headers={"Nats-Msg-Id": "p-1"})
    again = await js.publish("probe.1", b"ping", headers={"Nats-Msg-Id": "p-1"})
    assert again.duplicate
    sub = await js.pull_subscribe("probe.>", durable="probe", stream="PROBE")
    [msg] = await sub.fetch(1, timeout=5)
    assert msg.data == b"ping"
    await msg.ack()
    await nc.close()


@pytest.mark.docker
def test_local_image_is_built_from_scratch_with_the_wheel_binary() -> None:
    require_docker()
    client = docker_client()
    try:
        tag = build_local_image(client)
        image = client.images.get(tag)
        # FROM scratch plus one COPY: a single filesystem layer, no base image.
        assert len(image.attrs["RootFS"]["Layers"]) == 1
        assert image.attrs["Config"]["Entrypoint"] == ["/nats-server"]
        output = client.containers.run(tag, ["--version"], remove=True)
        assert b"v2.15.1" in output
    finally:
        client.close()


@pytest.mark.docker
async def test_nats_container_serves_jetstream(nats_container: NatsContainer) -> None:
    assert nats_container.image in (LOCAL_IMAGE, OFFICIAL_IMAGE)
    await _round_trip(nats_container.url)


@pytest.mark.docker
async def test_auto_backend_uses_a_container_when_docker_answers(tmp_path: Path) -> None:
    require_docker()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NatsFallbackWarning)
        with nats_service(tmp_path, backend="auto") as service:
            assert service.backend == "container"
            await _round_trip(service.url)


async def test_embedded_backend_forced_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSFORCE_NATS_BACKEND", "embedded")
    with nats_service(tmp_path) as service:
        assert service.backend == "embedded"
        await _round_trip(service.url)


async def test_auto_backend_falls_back_and_says_so_without_an_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Point the Docker client at a socket that does not exist: the engine check must fail.
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    monkeypatch.delenv("CROSSFORCE_NATS_BACKEND", raising=False)
    assert not docker_available()
    with (
        pytest.warns(NatsFallbackWarning, match="No Docker engine"),
        nats_service(tmp_path, backend="auto") as service,
    ):
        assert service.backend == "embedded"
        await _round_trip(service.url)


def test_require_docker_fails_when_services_are_mandatory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    monkeypatch.setenv("CROSSFORCE_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="CROSSFORCE_REQUIRE_SERVICES"):
        require_docker()
    monkeypatch.setenv("CROSSFORCE_REQUIRE_SERVICES", "0")
    with pytest.raises(pytest.skip.Exception, match="no Docker engine"):
        require_docker()


def test_the_container_backend_without_docker_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with (
        pytest.raises(DockerUnavailable, match="needs a Docker engine") as missing,
        nats_service(tmp_path, backend="container"),
    ):
        pass
    assert "\n" not in str(missing.value)
    assert missing.value.__cause__ is None and missing.value.__context__ is None

    # Through the pytest plugin, as an integration team meets it: one line per test.
    (tmp_path / "test_team.py").write_text(
        "async def test_one(crossforce_broker):\n    pass\n", encoding="utf-8"
    )
    env = {
        **os.environ,
        "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock",
        "CROSSFORCE_NATS_BACKEND": "container",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=auto",
            "test_team.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout
    lines = [line for line in result.stdout.splitlines() if "needs a Docker engine" in line]
    assert lines and lines[0].startswith("crossforce: CROSSFORCE_NATS_BACKEND=container needs")
    assert "Traceback" not in result.stdout and "docker.errors" not in result.stdout
    assert len(result.stdout.splitlines()) < 15
