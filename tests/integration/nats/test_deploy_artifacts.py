"""The committed deployment files can run: consistent, accepted by the real nats-server, and
giving every hub replica what `crossforce up` needs, under names the product actually reads.

Docker images cannot be built here, so the compose file and the Kubernetes manifests are
checked by parsing them; the settings they name are checked against the CLI itself.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from typer.main import get_command
from typer.testing import CliRunner

from crossforce.adapters.nats.security import HUB, read_credentials
from crossforce.adapters.nats.server import find_nats_server
from crossforce.broker import runtime
from crossforce.broker import secrets as hub_secrets
from crossforce.broker.cli import common as cli_common
from crossforce.broker.cli import main as cli_main
from crossforce.contracts.b64 import b64url_decode
from crossforce.contracts.keys import PASSPHRASE_ENV
from crossforce.ledger import key_material

pytestmark = pytest.mark.server

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
CONFIGS = sorted((DEPLOY / "nats").glob("nats-*.conf"))
NKEY = re.compile(r"\bU[A-Z2-7]{55}\b")
SEED = re.compile(r"\bS[A-Z][A-Z2-7]{50,}")
DOCKERFILE = DEPLOY / "hub.Dockerfile"
COMPOSE_SECRETS = PurePosixPath("/run/secrets")


# --- What the product reads ------------------------------------------------------------


# Typer vendors click, so commands are told apart by shape: a group has `commands`.
Command = Any


def _is_group(command: Command) -> bool:
    return hasattr(command, "commands")


def _cli() -> Command:
    cli_main._register()
    return get_command(cli_main.app)


def _command(*path: str) -> Command:
    command = _cli()
    for name in path:
        assert _is_group(command), f"`crossforce {' '.join(path)}`: no such group"
        assert name in command.commands, f"`crossforce {' '.join(path)}`: no such command"
        command = command.commands[name]
    return command


def _flags(command: Command) -> set[str]:
    return {opt for param in command.params for opt in param.opts if opt.startswith("-")}


def _envvars(command: Command) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        envvar = getattr(param, "envvar", None)
        if isinstance(envvar, str):
            names.add(envvar)
        elif envvar:
            names.update(envvar)
    return names


# `crossforce up` builds broker.runtime.BrokerSettings from its options; the runtime reads
# the ledger secrets through broker.secrets -> ledger.key_material, and the CLI reads the
# key passphrase and the database URL (or their NAME_FILE forms) itself.
LEDGER_FILE_ENVS = (key_material.MASTER_KEY_FILE_ENV, key_material.SUBJECT_KEY_FILE_ENV)
FILE_SETTINGS = cli_common.FILE_SETTINGS


def _product_envs(command: Command) -> set[str]:
    return (
        _envvars(command)
        | {PASSPHRASE_ENV}
        | {
            key_material.MASTER_KEY_ENV,
            key_material.SUBJECT_KEY_ENV,
            *LEDGER_FILE_ENVS,
        }
    )


def _allowed_envs(command: Command) -> set[str]:
    return _product_envs(command) | {f"{name}_FILE" for name in FILE_SETTINGS}


def test_the_file_forms_are_of_variables_crossforce_reads() -> None:
    assert FILE_SETTINGS == (
        PASSPHRASE_ENV,
        "CROSSFORCE_DB_URL",
        "CROSSFORCE_WEB_DB_URL",
        "CROSSFORCE_WEB_STORE_URL",
        "CROSSFORCE_WEB_SECRET",
    )
    assert "CROSSFORCE_DB_URL" in _envvars(_command("up"))
    # The web app reads its own read-only URL, never the hub's read-write one.
    web = _envvars(_command("web", "serve"))
    assert {"CROSSFORCE_WEB_DB_URL", "CROSSFORCE_WEB_STORE_URL"} <= web
    assert "CROSSFORCE_DB_URL" not in web
    # crossforce reads them itself: no wrapper script turns files into variables.
    assert not list(DEPLOY.glob("*.sh"))


def _run_crossforce(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    command = [sys.executable, "-c", "from crossforce.broker.cli.main import run; run()", *args]
    return subprocess.run(
        command, env={**base, **env}, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_the_web_app_reads_the_database_url_from_the_file_the_manifests_name(
    tmp_path: Path,
) -> None:
    # The URL names a database that is not there, so the app stops at once and says which
    # one it tried: the one in the file, not the default.
    for web in _webs():
        assert web.env["CROSSFORCE_WEB_DB_URL_FILE"] == web.env["CROSSFORCE_WEB_STORE_URL_FILE"]
    (tmp_path / "db_url").write_text(f"sqlite:///{tmp_path / 'in-the-file.db'}\n")
    result = _run_crossforce(
        {"CROSSFORCE_WEB_DB_URL_FILE": str(tmp_path / "db_url")},
        *("web", "serve"),
        cwd=tmp_path,
    )
    assert result.returncode == 3
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error DATABASE_ERROR: ") and "in-the-file.db" in line
    # Both forms at once are refused, in one line naming both.
    both = _run_crossforce(
        {
            "CROSSFORCE_WEB_DB_URL_FILE": str(tmp_path / "db_url"),
            "CROSSFORCE_WEB_DB_URL": "sqlite://",
        },
        *("web", "serve"),
        cwd=tmp_path,
    )
    [line] = both.stderr.strip().splitlines()
    assert both.returncode == 3
    assert line == (
        "error FILE_ERROR: set CROSSFORCE_WEB_DB_URL or CROSSFORCE_WEB_DB_URL_FILE, not both"
    )


def test_hub_image_runs_crossforce_as_uid_10001_with_a_data_directory() -> None:
    text = DOCKERFILE.read_text()
    assert text.startswith("# The Crossforce hub")
    assert "FROM python:3.11-slim" in text
    assert 'ENTRYPOINT ["crossforce"]' in text
    assert "USER 10001:10001" in text
    assert "--uid 10001 --gid 10001" in text
    assert "install -d -o crossforce -g crossforce -m 0700 /var/lib/crossforce/data" in text


# --- NATS server configs -----------------------------------------------------------------


def _validate(config: Path) -> None:
    result = subprocess.run(
        [str(find_nats_server()), "-t", "-c", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_three_node_sample_configs_exist() -> None:
    assert [c.name for c in CONFIGS] == ["nats-1.conf", "nats-2.conf", "nats-3.conf"]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_sample_config_is_valid_for_nats_server(config: Path) -> None:
    _validate(config)
    text = config.read_text()
    for node in ("nats-1", "nats-2", "nats-3"):
        assert f"nats-route://{node}:6222" in text
    # No seed (secret) ever appears in a server config.
    assert not SEED.search(text)


def test_helm_overlay_and_compose_configs_name_the_same_users() -> None:
    overlay = (DEPLOY / "k8s" / "nats-accounts.values.yaml").read_text()
    keys = set(NKEY.findall(CONFIGS[0].read_text()))
    assert len(keys) == 6  # hub + five sample forces
    assert set(NKEY.findall(overlay)) == keys
    values = yaml.safe_load(overlay)
    users = values["config"]["merge"]["accounts"]["CROSSFORCE"]["users"]
    kent = next(u for u in users if "cf.in.KENT.>" in u["permissions"]["publish"]["allow"])
    assert kent["permissions"]["subscribe"]["allow"] == ["_INBOX_KENT.>"]


def test_the_readme_nats_config_command_writes_valid_configs_and_the_hub_seed(
    tmp_path: Path,
) -> None:
    command = next(c for c in _readme_commands() if c[:2] == ["deploy", "nats-config"])
    args = [str(tmp_path / "nats") if a == "deploy/nats" else a for a in command[2:]]
    args = [str(tmp_path / "accounts.yaml") if a.startswith("deploy/k8s/") else a for a in args]
    _cli()
    result = CliRunner().invoke(cli_main.app, ["deploy", "nats-config", *args])
    assert result.exit_code == 0, result.output
    configs = sorted((tmp_path / "nats").glob("nats-*.conf"))
    assert [c.name for c in configs] == ["nats-1.conf", "nats-2.conf", "nats-3.conf"]
    hub = read_credentials(HUB, tmp_path / "nats" / "creds" / f"{HUB}.nk")
    for config in configs:
        _validate(config)
        assert hub.public_key in config.read_text()
        assert not SEED.search(config.read_text())


# --- The README's commands exist ----------------------------------------------------------


def _readme_blocks() -> Iterator[str]:
    yield from re.findall(r"```sh\n(.*?)```", (DEPLOY / "README.md").read_text(), re.S)


def _readme_lines() -> Iterator[str]:
    for block in _readme_blocks():
        text = re.sub(r"\\\n\s*", " ", block)
        for line in text.splitlines():
            # Drop comments: whole-line ones, and trailing ones after a space.
            line = re.sub(r"(^|\s)#.*$", "", line).strip()
            if line:
                yield line


def _readme_commands() -> list[list[str]]:
    """Every `crossforce ...` invocation in the README's shell blocks, without the program,
    any VAR=value prefix and any redirection."""
    commands = []
    for line in _readme_lines():
        match = re.match(r'(?:[A-Z_]+=(?:"[^"]*"|\S+)\s+)*crossforce\s+(.*)$', line)
        if match is None:
            continue
        words = shlex.split(match.group(1).split(">", 1)[0])
        commands.append(words)
    return commands


def test_every_crossforce_command_and_flag_in_the_readme_exists() -> None:
    commands = _readme_commands()
    assert len(commands) >= 6
    documented = set()
    for words in commands:
        path = [w for w in words if not w.startswith("-")]
        command = _cli()
        used = []
        while _is_group(command) and path and path[0] in command.commands:
            used.append(path.pop(0))
            command = command.commands[used[-1]]
        assert not _is_group(command), f"incomplete command: {words}"
        flags = {w.split("=", 1)[0] for w in words if w.startswith("--")}
        assert flags <= _flags(command), f"`crossforce {' '.join(used)}`: {flags}"
        documented.add(" ".join(used))
    assert {"deploy nats-config", "keys new", "keys trust", "deploy nats-image"} <= documented


def _readme_secret_files() -> set[str]:
    """Files the README's steps write or copy into deploy/secrets/."""
    return set(re.findall(r"(?:>|cp \S+) deploy/secrets/(\w+)", "\n".join(_readme_lines())))


def _readme_k8s_secret_keys() -> set[str]:
    return set(re.findall(r"--from-file=deploy/secrets/(\w+)", "\n".join(_readme_lines())))


def test_readme_makes_every_secret_file_and_no_secret_is_committed() -> None:
    compose = _compose()
    files = {Path(s["file"]).name for s in compose["secrets"].values()}
    assert {Path(s["file"]).parent for s in compose["secrets"].values()} == {Path("secrets")}
    assert _readme_secret_files() == files
    # git ignores everything the steps write into deploy/secrets/ ...
    ignore = (DEPLOY / "secrets" / ".gitignore").read_text().split("\n")
    assert "*" in ignore and "!.gitignore" in ignore
    # ... and no committed file holds a seed.
    for path in DEPLOY.rglob("*"):
        if path.is_file() and not {"creds", "secrets"} & set(path.relative_to(DEPLOY).parts):
            assert not SEED.search(path.read_text()), path


# --- One normalised view of a hub (or web app) container -------------------------------


@dataclass
class Container:
    where: str
    args: list[str]
    env: dict[str, str]
    # Mounted secret files: path in the container -> secret (file or key) name.
    secret_files: dict[PurePosixPath, str] = field(default_factory=dict)
    # Directories under which any key of a whole mounted secret appears.
    secret_dirs: set[PurePosixPath] = field(default_factory=set)
    writable: set[PurePosixPath] = field(default_factory=set)
    read_only_root: bool = False

    def option(self, flag: str) -> str | None:
        return self.args[self.args.index(flag) + 1] if flag in self.args else None

    def secret(self, path: str | None) -> str | None:
        """The secret mounted at `path`, or None if nothing secret is mounted there."""
        if path is None:
            return None
        file = PurePosixPath(path)
        if file in self.secret_files:
            return self.secret_files[file]
        return file.name if file.parent in self.secret_dirs else None

    def is_writable(self, path: str | None) -> bool:
        return path is not None and PurePosixPath(path) in self.writable


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return compose


def _compose_container(name: str) -> Container:
    compose = _compose()
    service = compose["services"][name]
    secret_files: dict[PurePosixPath, str] = {}
    for entry in service.get("secrets", []):
        source = entry if isinstance(entry, str) else entry["source"]
        target = source if isinstance(entry, str) else entry.get("target", source)
        assert source in compose["secrets"], f"{name}: undeclared secret {source}"
        secret_files[COMPOSE_SECRETS / target] = Path(compose["secrets"][source]["file"]).name
    writable = {PurePosixPath(t) for t in service.get("tmpfs", [])}
    for volume in service.get("volumes", []):
        source, target, *mode = volume.split(":")
        if mode != ["ro"]:
            assert source in compose["volumes"], f"{name}: {source} is not a named volume"
            writable.add(PurePosixPath(target))
    return Container(
        where=f"compose {name}",
        args=[str(a) for a in service["command"]],
        env={k: str(v) for k, v in service.get("environment", {}).items()},
        secret_files=secret_files,
        writable=writable,
        read_only_root=service.get("read_only") is True,
    )


def _k8s_docs(file: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((DEPLOY / "k8s" / file).read_text()))


def _k8s_deployment(file: str) -> dict[str, Any]:
    return next(d for d in _k8s_docs(file) if d["kind"] == "Deployment")


def _k8s_container(file: str) -> Container:
    pod = _k8s_deployment(file)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    found = Container(
        where=f"k8s {file}",
        args=[str(a) for a in container["args"]],
        env={e["name"]: str(e.get("value", "<from a reference>")) for e in container["env"]},
        read_only_root=container["securityContext"]["readOnlyRootFilesystem"] is True,
    )
    for mount in container["volumeMounts"]:
        volume, path = volumes[mount["name"]], PurePosixPath(mount["mountPath"])
        if "secret" in volume:
            assert mount.get("readOnly") is True
            assert volume["secret"]["secretName"] in ("crossforce-hub", "crossforce-web")
            # Group-readable: the pod's fsGroup owns the files, uid 10001 reads them.
            assert volume["secret"]["defaultMode"] == 0o440
            assert pod["securityContext"]["fsGroup"] == 10001
            items = volume["secret"].get("items")
            if items is None:
                found.secret_dirs.add(path)
            for item in items or []:
                found.secret_files[path / item["path"]] = item["key"]
        elif "emptyDir" in volume:
            found.writable.add(path)
    assert pod["securityContext"]["runAsUser"] == 10001  # the image's user
    return found


def _hubs() -> list[Container]:
    return [_compose_container("hub"), _k8s_container("hub-deployment.yaml")]


def _webs() -> list[Container]:
    return [_compose_container("web"), _k8s_container("web.yaml")]


@pytest.fixture(params=["compose", "k8s"])
def hub(request: pytest.FixtureRequest) -> Container:
    return _hubs()[["compose", "k8s"].index(request.param)]


# --- The compose file ----------------------------------------------------------------------


def test_compose_runs_three_nats_nodes_two_hubs_postgres_and_the_web_app() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"nats-1", "nats-2", "nats-3", "postgres", "hub", "web"} == set(services)
    for node in ("nats-1", "nats-2", "nats-3"):
        assert services[node]["command"] == ["-c", f"/etc/nats/{node}.conf"]
        assert "./nats:/etc/nats:ro" in services[node]["volumes"]
        assert (DEPLOY / "nats" / f"{node}.conf").exists()
    hub = services["hub"]
    assert hub["deploy"]["replicas"] == 2
    assert hub["command"][0] == "up"
    assert hub["environment"]["CROSSFORCE_NATS_URL"].count("nats://") == 3
    assert hub["environment"]["CROSSFORCE_STREAM_REPLICAS"] == "3"
    for name in ("hub", "web"):
        assert services[name]["build"]["dockerfile"] == "deploy/hub.Dockerfile"
        assert services[name]["image"] == "crossforce/hub:0.1.0"
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    # PostgreSQL takes its password from a secret file too.
    postgres = services["postgres"]
    assert "POSTGRES_PASSWORD" not in postgres["environment"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert postgres["secrets"] == ["postgres_password", "web_db_password"]
    assert "./postgres-init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]


def test_compose_values_are_never_secrets() -> None:
    # Secrets reach the containers as files; environment values are paths or settings.
    for name, service in _compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            assert not re.search(r"PASSWORD$|PASSPHRASE$|_KEY$", key), f"{name}: {key}"
            assert "://" not in str(value) or "@" not in str(value), f"{name}: {key}"
        assert "env_file" not in service


# --- Every hub replica gets what `crossforce up` needs --------------------------------------


def test_every_hub_replica_gets_trust_store_key_passphrase_and_nats_seed(
    hub: Container,
) -> None:
    up = _command("up")
    assert hub.args[0] == "up"
    assert {a for a in hub.args[1:] if a.startswith("-")} <= _flags(up), hub.where
    assert set(hub.env) <= _allowed_envs(up), (hub.where, set(hub.env) - _allowed_envs(up))

    # `crossforce up` refuses to start (KEY_FILE_INVALID) without these two files.
    assert hub.secret(hub.option("--trust")) == "trust_store", hub.where
    assert hub.secret(hub.option("--hub-key")) == "hub_key", hub.where
    # ... and without a passphrase it would prompt on a terminal that isn't there.
    assert PASSPHRASE_ENV not in hub.env
    passphrase_file = hub.env[f"{PASSPHRASE_ENV}_FILE"]
    assert hub.secret(passphrase_file) == "hub_key_passphrase", hub.where
    # The nkey seed of the NATS user the servers know as the hub.
    assert hub.secret(hub.env["CROSSFORCE_NATS_CREDS"]) == "hub_nkey", hub.where
    assert hub.env["CROSSFORCE_NATS_URL"].count("nats://") == 3
    assert hub.env["CROSSFORCE_STREAM_REPLICAS"] == "3"
    assert "CROSSFORCE_ANCHOR_KID" in hub.env
    # The database URL holds a password: it comes from a file too.
    assert "CROSSFORCE_DB_URL" not in hub.env and "--db-url" not in hub.args
    assert hub.secret(hub.env["CROSSFORCE_DB_URL_FILE"]) == "db_url", hub.where


def test_every_hub_replica_gets_the_same_ledger_secrets(hub: Container) -> None:
    # Without these each replica would make its own keys in its data directory, and the
    # replicas would seal entries under different keys that a new container loses.
    assert key_material.MASTER_KEY_ENV not in hub.env
    assert key_material.SUBJECT_KEY_ENV not in hub.env
    master = hub.secret(hub.env[key_material.MASTER_KEY_FILE_ENV])
    subject = hub.secret(hub.env[key_material.SUBJECT_KEY_FILE_ENV])
    assert (master, subject) == ("ledger_master_key", "ledger_subject_key"), hub.where
    # One definition for both replicas: nothing in it differs per replica.
    text = "\n".join([*hub.args, *hub.env.values()])
    assert "{{" not in text and "$(POD_NAME)" not in text


def test_the_runtime_takes_the_ledger_keys_and_passphrase_from_the_names_given(
    hub: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Through the very functions `crossforce up` and broker.runtime call, with the names the
    # manifest sets: the files are used, and nothing is generated in the data directory.
    for name in (*LEDGER_FILE_ENVS, key_material.MASTER_KEY_ENV, key_material.SUBJECT_KEY_ENV):
        monkeypatch.delenv(name, raising=False)
    load_or_create = vars(runtime)["load_or_create"]  # what RunningBroker.start calls
    assert load_or_create is hub_secrets.load_or_create
    written = {}
    for name in LEDGER_FILE_ENVS:
        written[name] = key_material.generate_secret()
        (tmp_path / name).write_text(written[name] + "\n")
        assert name in hub.env
        monkeypatch.setenv(name, str(tmp_path / name))
    loaded = load_or_create(tmp_path / "data" / "secrets")
    assert loaded.ledger_master_key == b64url_decode(written[key_material.MASTER_KEY_FILE_ENV])
    assert loaded.subject_key_secret == b64url_decode(written[key_material.SUBJECT_KEY_FILE_ENV])
    assert not (tmp_path / "data").exists()

    # The CLI reads the passphrase and the database URL from the files the manifest names.
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.delenv("CROSSFORCE_DB_URL", raising=False)
    (tmp_path / "passphrase").write_text("from the secret file\n")
    (tmp_path / "db_url").write_text("postgresql+psycopg://u:p@postgres:5432/crossforce\n")
    assert f"{PASSPHRASE_ENV}_FILE" in hub.env and "CROSSFORCE_DB_URL_FILE" in hub.env
    monkeypatch.setenv(f"{PASSPHRASE_ENV}_FILE", str(tmp_path / "passphrase"))
    monkeypatch.setenv("CROSSFORCE_DB_URL_FILE", str(tmp_path / "db_url"))
    assert cli_common.passphrase() == "from the secret file"
    assert cli_common.setting("CROSSFORCE_DB_URL") == (
        "postgresql+psycopg://u:p@postgres:5432/crossforce"
    )


def test_both_shapes_run_two_replicas_of_one_definition() -> None:
    assert _compose()["services"]["hub"]["deploy"]["replicas"] == 2
    assert _k8s_deployment("hub-deployment.yaml")["spec"]["replicas"] == 2
    compose, k8s = _hubs()
    assert set(compose.env) == set(k8s.env)
    assert [a for a in compose.args if a.startswith("-")] == [
        a for a in k8s.args if a.startswith("-")
    ]


def test_hub_data_directory_is_a_writable_volume_on_a_read_only_root(hub: Container) -> None:
    data_dir = hub.option("--data-dir")
    assert data_dir == "/var/lib/crossforce/data"  # created for uid 10001 in the image
    assert hub.is_writable(data_dir), hub.where
    assert hub.is_writable("/tmp"), hub.where
    assert hub.read_only_root, hub.where
    # Secrets are never read from (or left in) the data directory.
    for path in hub.secret_files:
        assert not str(path).startswith(data_dir)


# --- The web app -----------------------------------------------------------------------------


@pytest.mark.parametrize("web", _webs(), ids=lambda c: c.where)
def test_the_web_app_serves_on_all_interfaces_of_its_container_without_the_hubs_secret(
    web: Container,
) -> None:
    command = _command("web", "serve")
    assert web.args[:2] == ["web", "serve"]
    assert {a for a in web.args[2:] if a.startswith("-")} <= _flags(command)
    assert set(web.env) <= _allowed_envs(command)
    assert web.option("--host") == "0.0.0.0"
    assert web.option("--port") == "8400"
    assert web.secret(web.env["CROSSFORCE_WEB_DB_URL_FILE"]) == "web_db_url"
    # The read-only role's URL only: not the hub's db_url, no key, passphrase or ledger key.
    assert set(web.secret_files.values()) == {"web_db_url"}
    assert not web.secret_dirs
    assert web.read_only_root and web.is_writable("/tmp")
    assert web.is_writable(web.option("--data-dir"))


def test_the_web_app_is_published_on_loopback_only_in_compose() -> None:
    web = _compose()["services"]["web"]
    assert web["ports"] == ["127.0.0.1:8400:8400"]
    service = next(d for d in _k8s_docs("web.yaml") if d["kind"] == "Service")
    assert service["spec"]["type"] == "ClusterIP"


# --- Kubernetes ------------------------------------------------------------------------------


def test_kubernetes_nats_values_and_the_readme_secret_match_the_manifests() -> None:
    values = yaml.safe_load((DEPLOY / "k8s" / "nats-values.yaml").read_text())
    assert values["config"]["cluster"]["replicas"] == 3
    assert values["config"]["jetstream"]["fileStore"]["enabled"] is True
    # `kubectl create secret` in the README makes every key the hub reads from its secret
    # directory, and no more (the PostgreSQL password stays out of the cluster).
    hub = _k8s_container("hub-deployment.yaml")
    used = {hub.secret(hub.option(flag)) for flag in ("--trust", "--hub-key")} | {
        hub.secret(value) for value in hub.env.values()
    }
    used.discard(None)
    # The web app's own Secret holds its read-only URL, which the hub never mounts.
    assert _readme_k8s_secret_keys() == used | {"web_db_url"}
    assert "postgres_password" not in used and "web_db_url" not in used
    web = _k8s_container("web.yaml")
    assert set(web.secret_files.values()) == {"web_db_url"}
