"""Generated TLS material and the `crossforce deploy` commands, on a real nats-server."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import nats
import pytest
from typer.testing import CliRunner

from crossforce.adapters.nats.bundle import write_bundle
from crossforce.adapters.nats.security import HUB, connect_options, read_credentials
from crossforce.adapters.nats.server import EmbeddedNats, find_nats_server
from crossforce.broker.cli.deploy_cmd import app

pytestmark = pytest.mark.server


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_tls_server_accepts_clients_that_trust_the_dev_ca(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "bundle", ["KENT"], tls=True, store_dir=None)
    assert bundle.tls_dir is not None
    ca = bundle.tls_dir / "ca.pem"
    async with EmbeddedNats(tmp_path / "store", config_file=bundle.configs[0], scheme="tls") as srv:
        context = ssl.create_default_context(cafile=str(ca))
        nc = await nats.connect(
            srv.url, tls=context, **connect_options("KENT", bundle.credentials["KENT"])
        )
        assert nc.connected_url is not None and nc.connected_url.scheme == "tls"
        await nc.close()

        # A client that does not trust the dev CA cannot complete the handshake.
        stranger = ssl.create_default_context()
        with pytest.raises((nats.errors.NoServersError, ssl.SSLError, OSError)):
            await nats.connect(
                srv.url,
                tls=stranger,
                allow_reconnect=False,
                connect_timeout=2,
                max_reconnect_attempts=0,
                **connect_options("KENT", bundle.credentials["KENT"]),
            )


def test_nats_config_writes_secret_files_privately_and_never_prints_them(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["nats-config", "--forces", "KENT,ESSEX,PSOS_E", "--out", str(out), "--tls"]
    )
    assert result.exit_code == 0, result.output
    creds = {path.stem: path for path in (out / "creds").glob("*.nk")}
    assert set(creds) == {"KENT", "ESSEX", "PSOS_E", HUB}
    for code, path in creds.items():
        assert _mode(path) == 0o600
        seed = path.read_bytes().strip()
        assert seed.startswith(b"SU")
        assert seed.decode() not in result.output
        # The config names the public key only.
        identity = read_credentials(code, path)
        config = (out / "server.conf").read_text()
        assert identity.public_key in config and seed.decode() not in config
    assert _mode(out / "creds") == 0o700
    assert _mode(out / "tls" / "server-key.pem") == 0o600
    assert _mode(out / "tls" / "ca-key.pem") == 0o600

    # Running again keeps everyone's credentials, so regenerating never locks a force out.
    before = (out / "creds" / "KENT.nk").read_bytes()
    assert (
        CliRunner().invoke(app, ["nats-config", "--forces", "KENT", "--out", str(out)]).exit_code
        == 0
    )
    assert (out / "creds" / "KENT.nk").read_bytes() == before


def test_nats_config_rejects_unknown_forces(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["nats-config", "--forces", "KENT,NARNIA", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "NARNIA" in result.output


def test_cluster_configs_are_valid_for_nats_server(tmp_path: Path) -> None:
    import subprocess

    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["nats-config", "--out", str(out), "--cluster-size", "3", "--tls", "--mount-dir", str(out)],
    )
    assert result.exit_code == 0, result.output
    configs = sorted(out.glob("nats-*.conf"))
    assert [c.name for c in configs] == ["nats-1.conf", "nats-2.conf", "nats-3.conf"]
    for config in configs:
        text = config.read_text()
        assert "nats-route://nats-2:6222" in text and '"crossforce"' in text
        checked = subprocess.run(
            [str(find_nats_server()), "-t", "-c", str(config)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stderr
        assert "valid" in checked.stdout + checked.stderr


def test_dev_ca_writes_a_usable_pki(tmp_path: Path) -> None:
    from cryptography import x509

    result = CliRunner().invoke(
        app, ["dev-ca", "--out", str(tmp_path), "--hosts", "nats.local,10.0.0.5"]
    )
    assert result.exit_code == 0, result.output
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    server = x509.load_pem_x509_certificate((tmp_path / "server.pem").read_bytes())
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "nats.local" in names.get_values_for_type(x509.DNSName)
    assert _mode(tmp_path / "client-key.pem") == 0o600
    assert "PRIVATE KEY" not in result.output
