"""Private key files are worth the data they sign for: scrypt at OWASP's cost, readable by
OpenSSL itself, and `crossforce keys rewrap` upgrades older files in place with a backup."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from crossforce.broker.cli import main
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import SigningKey, key_file_protection, rewrap_key_file
from crossforce.contracts.pkcs8 import OWASP_SCRYPT, OWASP_SCRYPT_SETTINGS, ScryptCost

PASSPHRASE = "correct horse battery staple"
runner = CliRunner()


def _old_style_file(path: Path, key: SigningKey) -> None:
    """A key file as Crossforce wrote them before: PBKDF2 at 2,048 iterations."""
    pem = key._private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )
    body = {"force": key.force, "kid": key.kid, "encrypted_pkcs8": pem.decode("ascii")}
    path.write_text(json.dumps(body, indent=2) + "\n")
    path.chmod(0o600)


def test_a_new_key_file_uses_scrypt_at_owasps_cost(tmp_path: Path) -> None:
    key = SigningKey.generate("KENT")
    key.to_encrypted_file(tmp_path / "KENT.key", PASSPHRASE)
    found = key_file_protection(tmp_path / "KENT.key")
    assert found.kdf == "scrypt" and found.scrypt is not None
    assert found.scrypt in OWASP_SCRYPT_SETTINGS and found.strong
    assert found.scrypt == OWASP_SCRYPT
    assert SigningKey.from_encrypted_file(tmp_path / "KENT.key", PASSPHRASE).kid == key.kid
    with pytest.raises(ContractError) as wrong:
        SigningKey.from_encrypted_file(tmp_path / "KENT.key", "wrong")
    assert wrong.value.code is ReasonCode.BAD_PASSPHRASE


def test_weaker_scrypt_settings_are_not_strong() -> None:
    from crossforce.contracts.pkcs8 import Protection

    assert not Protection("scrypt", scrypt=ScryptCost(2**14, 8, 1)).strong  # OpenSSL's default
    assert Protection("scrypt", scrypt=ScryptCost(2**17, 8, 1)).strong
    assert not Protection("pbkdf2", iterations=599_999, prf="1.2.840.113549.2.9").strong
    assert Protection("pbkdf2", iterations=600_000, prf="1.2.840.113549.2.9").strong


def test_openssl_reads_the_key_file(tmp_path: Path) -> None:
    """The PKCS#8 structure is standard: OpenSSL decrypts it to the same public key."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is part of the CI image (apt-get install openssl)"
    key = SigningKey.generate("KENT")
    key.to_encrypted_file(tmp_path / "KENT.key", PASSPHRASE)
    pem = json.loads((tmp_path / "KENT.key").read_text())["encrypted_pkcs8"]
    (tmp_path / "KENT.pem").write_text(pem)
    shown = subprocess.run(
        [openssl, "pkcs8", "-in", str(tmp_path / "KENT.pem"), "-passin", "env:PASS"],
        env={"PASS": PASSPHRASE},
        capture_output=True,
        check=True,
    ).stdout
    decrypted = serialization.load_pem_private_key(shown, None)
    assert decrypted.public_key().public_bytes_raw() == (  # type: ignore[union-attr]
        key._private_key.public_key().public_bytes_raw()
    )
    parsed = subprocess.run(
        [openssl, "asn1parse", "-in", str(tmp_path / "KENT.pem")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ":PBES2" in parsed and ":scrypt" in parsed and ":aes-256-cbc" in parsed


def test_rewrap_upgrades_an_old_file_in_place_and_keeps_a_backup(tmp_path: Path) -> None:
    key = SigningKey.generate("KENT")
    path = tmp_path / "KENT.key"
    _old_style_file(path, key)
    old_text = path.read_text()
    before = key_file_protection(path)
    assert before.kdf == "pbkdf2" and before.iterations == 2048 and not before.strong

    backup = rewrap_key_file(path, PASSPHRASE)
    assert backup == tmp_path / "KENT.key.bak"
    assert backup.read_text() == old_text
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_file_protection(path).strong
    assert SigningKey.from_encrypted_file(path, PASSPHRASE).kid == key.kid
    assert rewrap_key_file(path, PASSPHRASE) is None  # strong already: untouched


def test_rewrap_with_the_wrong_passphrase_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "KENT.key"
    _old_style_file(path, SigningKey.generate("KENT"))
    old_text = path.read_text()
    with pytest.raises(ContractError) as refused:
        rewrap_key_file(path, "not the passphrase")
    assert refused.value.code is ReasonCode.BAD_PASSPHRASE
    assert path.read_text() == old_text
    assert not (tmp_path / "KENT.key.bak").exists()


def test_keys_rewrap_upgrades_a_key_directory(tmp_path: Path) -> None:
    main._register()
    keys = {force: SigningKey.generate(force) for force in ("KENT", "ESSEX")}
    _old_style_file(tmp_path / "KENT.key", keys["KENT"])
    keys["ESSEX"].to_encrypted_file(tmp_path / "ESSEX.key", PASSPHRASE)
    (tmp_path / "KENT.key.bak").write_text("an earlier backup")  # never overwritten
    result = runner.invoke(
        main.app,
        ["keys", "rewrap", "--out", str(tmp_path)],
        env={"CROSSFORCE_KEY_PASSPHRASE": PASSPHRASE},
    )
    assert result.exit_code == 0, result.output
    assert "PBKDF2 with 2048 iterations -> scrypt N=16384 r=8 p=5" in result.output
    assert "strong already: unchanged" in result.output
    assert (tmp_path / "KENT.key.bak").read_text() == "an earlier backup"
    assert key_file_protection(tmp_path / "KENT.key.bak1").iterations == 2048
    for force, key in keys.items():
        path = tmp_path / f"{force}.key"
        assert key_file_protection(path).strong
        assert SigningKey.from_encrypted_file(path, PASSPHRASE).kid == key.kid
