"""Secrets given as NAME_FILE: crossforce reads the file itself (container secrets)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crossforce.broker.cli import common
from crossforce.broker.cli.common import (
    DB_URL_ENV,
    WEB_DB_URL_ENV,
    WEB_SECRET_ENV,
    WEB_STORE_URL_ENV,
    passphrase,
    setting,
)
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.keys import PASSPHRASE_ENV

NAMES = (PASSPHRASE_ENV, DB_URL_ENV, WEB_DB_URL_ENV, WEB_STORE_URL_ENV, WEB_SECRET_ENV)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


def test_the_file_forms_cover_the_passphrase_and_the_database_urls() -> None:
    assert common.FILE_SETTINGS == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_value_is_the_file_less_one_trailing_newline(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "secret"
    monkeypatch.setenv(f"{name}_FILE", str(file))
    file.write_text(" a value with spaces \n")
    assert setting(name) == " a value with spaces "
    file.write_text("two newlines\n\n")
    assert setting(name) == "two newlines\n"
    file.write_bytes(b"windows\r\n")
    assert setting(name) == "windows"
    file.write_text("no newline")
    assert setting(name) == "no newline"


@pytest.mark.parametrize("name", NAMES)
def test_name_and_name_file_together_are_refused_naming_both(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret").write_text("from the file\n")
    monkeypatch.setenv(name, "from the variable")
    monkeypatch.setenv(f"{name}_FILE", str(tmp_path / "secret"))
    with pytest.raises(ContractError) as refused:
        setting(name)
    assert refused.value.code is ReasonCode.FILE_ERROR
    assert refused.value.message == f"set {name} or {name}_FILE, not both"
    # Even when a command-line option gave the value, NAME was also set: still ambiguous.
    with pytest.raises(ContractError):
        setting(name, "from the variable")


def test_the_variable_or_an_option_is_used_when_there_is_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert setting(DB_URL_ENV) is None
    monkeypatch.setenv(DB_URL_ENV, "sqlite:///from-the-variable.db")
    assert setting(DB_URL_ENV) == "sqlite:///from-the-variable.db"
    monkeypatch.delenv(DB_URL_ENV)
    (tmp_path / "url").write_text("sqlite:///from-the-file.db\n")
    monkeypatch.setenv(f"{DB_URL_ENV}_FILE", str(tmp_path / "url"))
    # An explicit --db-url wins over the file.
    assert setting(DB_URL_ENV, "sqlite:///from-the-option.db") == "sqlite:///from-the-option.db"
    assert setting(DB_URL_ENV) == "sqlite:///from-the-file.db"


def test_a_missing_or_empty_file_is_one_line_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"{DB_URL_ENV}_FILE", str(tmp_path / "nope"))
    with pytest.raises(ContractError) as missing:
        setting(DB_URL_ENV)
    assert missing.value.code is ReasonCode.FILE_ERROR
    assert missing.value.message.startswith(f"{DB_URL_ENV}_FILE={tmp_path / 'nope'}: ")
    (tmp_path / "empty").write_text("\n")
    monkeypatch.setenv(f"{DB_URL_ENV}_FILE", str(tmp_path / "empty"))
    with pytest.raises(ContractError, match="is empty"):
        setting(DB_URL_ENV)
    monkeypatch.setenv(f"{DB_URL_ENV}_FILE", str(tmp_path))  # a directory
    with pytest.raises(ContractError) as directory:
        setting(DB_URL_ENV)
    assert "\n" not in directory.value.message


def test_the_passphrase_comes_from_its_file_without_a_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "passphrase").write_text("correct horse battery staple\n")
    monkeypatch.setenv(f"{PASSPHRASE_ENV}_FILE", str(tmp_path / "passphrase"))

    def no_prompt(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("prompted although the passphrase file was given")

    monkeypatch.setattr("typer.prompt", no_prompt)
    assert passphrase() == "correct horse battery staple"
    monkeypatch.setenv(PASSPHRASE_ENV, "another")
    with pytest.raises(ContractError, match="not both"):
        passphrase()


@pytest.mark.parametrize("command", [("cases",), ("overdue",), ("ledger", "verify")])
def test_read_only_commands_take_the_database_url_from_its_file(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    # A URL naming a database that does not exist: the command must have read the file to
    # name it in its refusal.
    missing = tmp_path / "from-the-file.db"
    url_file = tmp_path / "db_url"
    url_file.write_text(f"sqlite:///{missing}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    env["CROSSFORCE_DB_URL_FILE"] = str(url_file)
    result = subprocess.run(
        [sys.executable, "-c", "from crossforce.broker.cli.main import run; run()", *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "from-the-file.db" in result.stderr
    assert not missing.exists()
