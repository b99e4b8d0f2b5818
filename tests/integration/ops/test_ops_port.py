"""The ops port of a running hub: Prometheus metrics read with Prometheus' own parser,
/healthz and /readyz, and `crossforce up --ops-port` serving them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.net import free_port
from crossforce.adapters.ops.metrics import HubMetrics, JetStreamSnapshot
from crossforce.adapters.ops.runner import serving_ops
from crossforce.adapters.ops.server import readiness
from crossforce.adapters.sql import schema
from crossforce.broker.runtime import BrokerSettings, RunningBroker, hub_connect_options
from crossforce.broker.scenario import PARTIES, case_steps
from crossforce.contracts.pki import EphemeralPki

CASE = "CF-2026-000909"
FORCES = ["HUB", "KENT", "ESSEX", "SURREY", "PSOS"]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def _eventually(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {value!r}")
        await asyncio.sleep(0.1)


async def test_metrics_health_and_readiness_of_a_running_hub(tmp_path: Path) -> None:
    pki = EphemeralPki(FORCES)
    trust = pki.trust_store()
    metrics = HubMetrics()
    settings = BrokerSettings(data_dir=tmp_path / "broker", partitions=3)
    async with (
        RunningBroker(
            settings, trust=trust, hub_key=pki.key("HUB"), on_result=metrics.observe
        ) as running,
        serving_ops(
            metrics,
            engine=running.engine,
            ledger_size=lambda: running.ledger.size,
            nats_url=running.nats_url,
            nats_options=hub_connect_options(settings),
            partitions=settings.partitions,
            host="127.0.0.1",
            port=0,
            refresh_seconds=0.2,
        ) as server,
        ForceClient(
            force="KENT", key=pki.key("KENT"), trust=trust, nats_url=running.nats_url
        ) as kent,
    ):
        base = f"http://127.0.0.1:{server.port}"
        assert await asyncio.to_thread(_get, f"{base}/healthz") == (200, '{"alive": true}')
        status, body = await _eventually(lambda: (s := _get(f"{base}/readyz"))[0] == 200 and s)
        assert json.loads(body) == {
            "ready": True,
            "checks": {"database": True, "nats": True, "streams": True},
        }

        step = case_steps(CASE)[0]
        envelope = kent.envelope(step.message, case_ref=CASE, recipients=step.recipients)
        await kent.publish(envelope)
        assert (await kent.receipt(envelope.id, timeout=30)).accepted
        await kent.publish_raw(b"{not json", case_ref=CASE, msg_id="junk-1")
        assert not (await kent.receipt("junk-1", timeout=30)).accepted

        def counted() -> dict[Any, float] | None:
            found = _samples(_get(f"{base}/metrics")[1])
            refused = (("outcome", "refused"), ("reason", "MALFORMED_JSON"))
            return found if ("crossforce_messages_total", refused) in found else None

        samples = await _eventually(counted)
        assert (
            samples[("crossforce_messages_total", (("outcome", "accepted"), ("reason", "")))] == 1
        )
        with running.engine.connect() as db:  # the figures are the database's own
            open_deadlines = db.execute(
                select(func.count()).where(schema.deadlines.c.status == "open")
            ).scalar_one()
            unsent = db.execute(
                select(func.count()).where(schema.outbox.c.sent_at.is_(None))
            ).scalar_one()
        # The processing-latency histogram counted both answers.
        processed = ("crossforce_processing_seconds_count", (("outcome", "accepted"),))
        assert samples[processed] == 1
        refused_count = ("crossforce_processing_seconds_count", (("outcome", "refused"),))
        assert samples[refused_count] == 1
        assert samples[("crossforce_deadlines_open", ())] == open_deadlines
        assert samples[("crossforce_outbox_backlog", ())] == unsent
        assert samples[("crossforce_deadlines_red", ())] == 0
        assert samples[("crossforce_ledger_entries", ())] == 0
        assert ("crossforce_escalations_fired", ()) in samples
        for partition in range(settings.partitions):
            assert (
                samples[("crossforce_inbound_consumer_lag", (("partition", str(partition)),))] >= 0
            )
        assert samples[("crossforce_nats_connected", ())] == 1

        # Labels are codes and numbers: no case reference, name or date of birth.
        text = _get(f"{base}/metrics")[1]
        assert CASE not in text
        for party in PARTIES.values():
            person = party.get("person") or {}
            for value in person.values():
                assert str(value) not in text
        assert _get(f"{base}/nothing-here")[0] == 404


def test_not_ready_without_a_database_or_a_recent_look_at_jetstream(tmp_path: Path) -> None:
    metrics = HubMetrics()
    assert readiness(metrics)["ready"] is False  # nothing bound yet
    (tmp_path / "a-directory").mkdir()
    metrics.watch_state(create_engine(f"sqlite:///{tmp_path / 'a-directory'}"))
    metrics.jetstream = JetStreamSnapshot(at=time.monotonic(), connected=True, missing_streams=())
    document = readiness(metrics)
    assert document["checks"] == {"database": False, "nats": True, "streams": True}

    metrics.watch_state(create_engine(f"sqlite:///{tmp_path / 'ok.db'}"))
    assert readiness(metrics)["checks"]["database"] is True
    stale = JetStreamSnapshot(at=time.monotonic() - 60, connected=True, missing_streams=())
    metrics.jetstream = stale
    assert readiness(metrics)["checks"] == {"database": True, "nats": False, "streams": False}
    metrics.jetstream = JetStreamSnapshot(
        at=time.monotonic(), connected=True, missing_streams=("CF_TIMERS",)
    )
    document = readiness(metrics)
    assert document["checks"]["streams"] is False and document["missing_streams"] == ["CF_TIMERS"]


def test_crossforce_up_serves_the_ops_port(tmp_path: Path) -> None:
    pki = EphemeralPki(FORCES)
    (tmp_path / "trust.json").write_text(pki.trust_store().to_json())
    pki.key("HUB").to_encrypted_file(tmp_path / "HUB.key", "a long test passphrase")
    ops_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    env.update(
        CROSSFORCE_KEY_PASSPHRASE="a long test passphrase",
        CROSSFORCE_ANCHOR_KID=pki.anchor.kid,
    )
    command = [
        sys.executable, "-c", "from crossforce.broker.cli.main import run; run()", "up",
        "--data-dir", str(tmp_path / "data"), "--trust", str(tmp_path / "trust.json"),
        "--hub-key", str(tmp_path / "HUB.key"), "--port", "0", "--partitions", "2",
        "--ops-port", str(ops_port),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{ops_port}/readyz")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200, process.stderr.read() if process.poll() is not None else status
        assert json.loads(body)["ready"] is True
        assert "crossforce_messages" in _get(f"http://127.0.0.1:{ops_port}/metrics")[1]
        assert _image_healthcheck(ops_port) == 0
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert f"ops: http://127.0.0.1:{ops_port}/metrics" in stderr
    assert "warning NATS runs without authentication" in " ".join(stderr.split())
    assert _image_healthcheck(ops_port) != 0  # the hub is gone: unhealthy
    assert _image_healthcheck(None) == 0  # no ops port (the dashboard): nothing to probe


DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def _image_healthcheck(ops_port: int | None) -> int:
    """The hub image's HEALTHCHECK command, run as the container would run it."""
    dockerfile = (DEPLOY / "hub.Dockerfile").read_text()
    command = dockerfile.split("HEALTHCHECK", 1)[1].split(" CMD ", 1)[1]
    command = command.split("\n\n", 1)[0].replace("\\\n", " ").strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    if ops_port is not None:
        env["CROSSFORCE_OPS_PORT"] = str(ops_port)
    return subprocess.run(command, shell=True, env=env, capture_output=True, timeout=30).returncode


def test_kubernetes_probes_and_scrapes_the_ops_port() -> None:
    import yaml

    deployment = next(
        doc
        for doc in yaml.safe_load_all((DEPLOY / "k8s" / "hub-deployment.yaml").read_text())
        if doc["kind"] == "Deployment"
    )
    template = deployment["spec"]["template"]
    [hub] = template["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in hub["env"]}
    port = int(env["CROSSFORCE_OPS_PORT"])
    assert env["CROSSFORCE_OPS_HOST"] == "0.0.0.0"
    assert {"name": "ops", "containerPort": port} in hub["ports"]
    assert hub["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}
    assert hub["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/metrics"


def test_up_names_the_real_reason_when_the_embedded_nats_cannot_start(tmp_path: Path) -> None:
    from crossforce.adapters.nats.server import EmbeddedNats

    pki = EphemeralPki(FORCES)
    (tmp_path / "trust.json").write_text(pki.trust_store().to_json())
    pki.key("HUB").to_encrypted_file(tmp_path / "HUB.key", "a long test passphrase")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    env.update(CROSSFORCE_KEY_PASSPHRASE="a long test passphrase", COLUMNS="60")
    with EmbeddedNats(tmp_path / "taken") as taken:  # already listening on the port
        result = subprocess.run(
            [
                sys.executable, "-c", "from crossforce.broker.cli.main import run; run()", "up",
                "--data-dir", str(tmp_path / "data"), "--trust", str(tmp_path / "trust.json"),
                "--hub-key", str(tmp_path / "HUB.key"), "--port", str(taken.port),
            ],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 3
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert line.startswith("error NATS_ERROR: nats-server exited during startup: ")
    assert "address already in use" in line and not line.endswith(":")
