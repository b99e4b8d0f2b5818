"""The web app's own store: argon2 accounts, server-side sessions, the s.62 consultation log,
and the `crossforce web user` commands."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import make_engine, open_read_only
from crossforce.adapters.web.store import (
    LOCKOUT,
    MAX_FAILURES,
    SESSION_IDLE,
    SESSION_LIFETIME,
    Role,
    WebStore,
    accounts,
)
from crossforce.contracts.errors import ContractError, ReasonCode

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
PASSWORD = "a long enough passphrase"


@pytest.fixture()
def store(tmp_path: Path) -> WebStore:
    return WebStore.open(f"sqlite:///{tmp_path / 'web.db'}")


def test_passwords_are_stored_as_argon2_hashes(store: WebStore) -> None:
    store.add_account("essex.sup", "essex", Role.SUPERVISOR, PASSWORD, NOW)
    with store.engine.connect() as db:
        stored = db.execute(select(accounts.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    account = store.authenticate("essex.sup", PASSWORD, NOW)
    assert account is not None and account.force == "ESSEX"
    assert store.authenticate("essex.sup", PASSWORD + "!", NOW) is None
    assert store.authenticate("nobody", PASSWORD, NOW) is None


def test_account_rules_are_refused_with_a_code(store: WebStore) -> None:
    with pytest.raises(ContractError) as short:
        store.add_account("a", "ESSEX", Role.SUPERVISOR, "short", NOW)
    assert short.value.code is ReasonCode.ACCOUNT_ERROR
    store.add_account("a", "ESSEX", Role.SUPERVISOR, PASSWORD, NOW)
    with pytest.raises(ContractError) as twice:
        store.add_account("a", "KENT", Role.SUPERVISOR, PASSWORD, NOW)
    assert twice.value.code is ReasonCode.ACCOUNT_ERROR
    with pytest.raises(ContractError) as unknown:
        store.add_account("b", "NOWHERE", Role.SUPERVISOR, PASSWORD, NOW)
    assert unknown.value.code is ReasonCode.UNKNOWN_FORCE
    # The name is the signed actor of the account's actions: a short id, not free text.
    for name in ("Jo Example", "x" * 65, ".dot", "a/b"):
        with pytest.raises(ContractError) as unfit:
            store.add_account(name, "ESSEX", Role.SUPERVISOR, PASSWORD, NOW)
        assert unfit.value.code is ReasonCode.ACCOUNT_ERROR
    assert store.add_account("jo.example@essex", "ESSEX", Role.SUPERVISOR, PASSWORD, NOW)


def test_sessions_end_on_sign_out_expiry_idleness_and_disabling(store: WebStore) -> None:
    store.add_account("s", "ESSEX", Role.SENIOR_OFFICER, PASSWORD, NOW)
    ended = store.start_session("s", NOW)
    store.end_session(ended)
    assert store.session_account(ended, NOW) is None

    idle = store.start_session("s", NOW)
    assert store.session_account(idle, NOW + SESSION_IDLE - timedelta(seconds=1)) is not None
    assert store.session_account(idle, NOW + 2 * SESSION_IDLE) is None

    # A live-update stream checking the session does not keep it alive.
    watched = store.start_session("s", NOW)
    assert store.session_account(watched, NOW + SESSION_IDLE / 2, touch=False) is not None
    assert store.session_account(watched, NOW + SESSION_IDLE * 1.01, touch=False) is None

    busy = store.start_session("s", NOW)
    at = NOW
    while at < NOW + SESSION_LIFETIME:  # kept busy, it still ends after one shift
        assert store.session_account(busy, at) is not None
        at += SESSION_IDLE / 2
    assert store.session_account(busy, at + timedelta(minutes=1)) is None

    live = store.start_session("s", NOW)
    store.disable_account("s")
    assert store.session_account(live, NOW) is None
    assert store.authenticate("s", PASSWORD, NOW) is None


def test_wrong_passwords_in_a_row_lock_the_account_for_a_while(store: WebStore) -> None:
    store.add_account("l", "ESSEX", Role.SUPERVISOR, PASSWORD, NOW)
    for _ in range(MAX_FAILURES):
        assert store.authenticate("l", "a guessed password", NOW) is None
    # Locked: even the right password is refused, with the same answer.
    assert store.authenticate("l", PASSWORD, NOW + LOCKOUT - timedelta(seconds=1)) is None
    assert store.authenticate("l", PASSWORD, NOW + LOCKOUT) is not None
    # A success clears the count.
    for _ in range(MAX_FAILURES - 1):
        assert store.authenticate("l", "a guessed password", NOW + LOCKOUT) is None
    assert store.authenticate("l", PASSWORD, NOW + LOCKOUT) is not None
    assert store.authenticate("l", "a guessed password", NOW + LOCKOUT) is None
    assert store.authenticate("l", PASSWORD, NOW + LOCKOUT) is not None


def test_consultations_are_logged(store: WebStore) -> None:
    account = store.add_account("c", "ESSEX", Role.SUPERVISOR, PASSWORD, NOW)
    store.log_consultation(account, "CF-1", "why", True, NOW)
    [line] = store.consultation_log("CF-1")
    assert (line.username, line.force, line.case_ref, line.shown) == ("c", "ESSEX", "CF-1", True)


def test_the_apps_hub_connection_cannot_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crossforce.db'}"
    schema.metadata.create_all(make_engine(url))
    reader = open_read_only(url)
    with pytest.raises(Exception) as refused, reader.begin() as db:
        db.execute(insert(schema.case_participants).values(case_ref="CF-1", force="ESSEX"))
    assert isinstance(refused.value.__cause__ or refused.value, sqlite3.OperationalError)
    assert "readonly" in str(refused.value)


def crossforce(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from crossforce.broker.cli.main import run; run()", *args]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )


def test_web_user_add_and_disable(tmp_path: Path) -> None:
    added = crossforce(
        "web",
        "user",
        "add",
        "kent.sup",
        "--force",
        "KENT",
        "--role",
        "senior-officer",
        cwd=tmp_path,
        CROSSFORCE_WEB_PASSWORD=PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    store = WebStore.open(f"sqlite:///{tmp_path / '.crossforce' / 'web.db'}")
    account = store.authenticate("kent.sup", PASSWORD, NOW)
    assert account is not None and account.role is Role.SENIOR_OFFICER
    again = crossforce(
        "web",
        "user",
        "add",
        "kent.sup",
        "--force",
        "KENT",
        cwd=tmp_path,
        CROSSFORCE_WEB_PASSWORD=PASSWORD,
    )
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        "error ACCOUNT_ERROR: account kent.sup exists already"
    ]
    assert crossforce("web", "user", "disable", "kent.sup", cwd=tmp_path).returncode == 0
    assert store.authenticate("kent.sup", PASSWORD, NOW) is None
    oidc = crossforce(
        "web", "user", "add", "psos.sup", "--force", "PSOS", "--oidc-only", cwd=tmp_path
    )
    assert oidc.returncode == 0, oidc.stderr  # no password asked for
    psos = store.account("psos.sup")
    assert psos is not None and psos.force == "PSOS"
    assert store.authenticate("psos.sup", "", NOW) is None
    missing = crossforce("web", "user", "disable", "nobody", cwd=tmp_path)
    assert missing.returncode == 2 and "ACCOUNT_ERROR" in missing.stderr


def test_the_old_dashboard_command_points_to_the_web_app(tmp_path: Path) -> None:
    old = crossforce("dashboard", "--force", "ESSEX", cwd=tmp_path)
    assert old.returncode == 2
    assert old.stderr.strip().splitlines() == [
        "`crossforce dashboard` is now the supervisors' web app: `crossforce web serve` "
        "(accounts: `crossforce web user add`)"
    ]
