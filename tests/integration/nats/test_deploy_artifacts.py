"""The committed deployment files are consistent and accepted by the real nats-server."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from adapters.nats.server import find_nats_server

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
CONFIGS = sorted((DEPLOY / "nats").glob("nats-*.conf"))
NKEY = re.compile(r"\bU[A-Z2-7]{55}\b")


def test_three_node_sample_configs_exist() -> None:
    assert [c.name for c in CONFIGS] == ["nats-1.conf", "nats-2.conf", "nats-3.conf"]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_sample_config_is_valid_for_nats_server(config: Path) -> None:
    result = subprocess.run(
        [str(find_nats_server()), "-t", "-c", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    for node in ("nats-1", "nats-2", "nats-3"):
        assert f"nats-route://{node}:6222" in text
    # No seed (secret) ever appears in a server config.
    assert not re.search(r"\bSU[A-Z2-7]{50,}", text)


def test_helm_overlay_and_compose_configs_name_the_same_users() -> None:
    overlay = (DEPLOY / "k8s" / "nats-accounts.values.yaml").read_text()
    keys = set(NKEY.findall(CONFIGS[0].read_text()))
    assert len(keys) == 6  # hub + five sample forces
    assert set(NKEY.findall(overlay)) == keys
    values = yaml.safe_load(overlay)
    users = values["config"]["merge"]["accounts"]["CROSSFORCE"]["users"]
    kent = next(u for u in users if "cf.in.KENT.>" in u["permissions"]["publish"]["allow"])
    assert kent["permissions"]["subscribe"]["allow"] == ["_INBOX_KENT.>"]


def test_compose_runs_three_nats_nodes_two_hubs_and_postgres() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"nats-1", "nats-2", "nats-3", "postgres", "hub"} == set(services)
    for node in ("nats-1", "nats-2", "nats-3"):
        command = services[node]["command"]
        assert command == ["-c", f"/etc/nats/{node}.conf"]
        assert (DEPLOY / "nats" / f"{node}.conf").exists()
    hub = services["hub"]
    assert hub["deploy"]["replicas"] == 2
    assert hub["command"][0] == "up"
    nats_url = hub["command"][hub["command"].index("--nats-url") + 1]
    assert nats_url.count("nats://") == 3
    assert "--db-url" in hub["command"]
    assert hub["build"]["dockerfile"] == "deploy/hub.Dockerfile"
    assert (DEPLOY / "hub.Dockerfile").read_text().startswith("# The Crossforce hub")
    assert "FROM python:3.11-slim" in (DEPLOY / "hub.Dockerfile").read_text()


def test_kubernetes_files_parse() -> None:
    values = yaml.safe_load((DEPLOY / "k8s" / "nats-values.yaml").read_text())
    assert values["config"]["cluster"]["replicas"] == 3
    assert values["config"]["jetstream"]["fileStore"]["enabled"] is True
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "hub-deployment.yaml").read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["containers"][0]["args"][0] == "up"
