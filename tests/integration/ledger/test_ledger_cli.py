"""`crossforce ledger ...`: one-line errors with a reason code, no ledger made by reading,
proofs an outside verifier can check, and published checkpoints that catch a rewrite."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from ledger_helpers import append, forge, open_ledger
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner, Result

from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.migrate import BROKER_SCHEMA, prepare_engine
from crossforce.broker.cli import main
from crossforce.contracts.keys import PASSPHRASE_ENV, SigningKey
from crossforce.ledger import verify_checkpoint, verify_inclusion
from crossforce.ledger.checkpoints import NoteVerifier

PASSPHRASE = "a long test passphrase"
WHO = ["--by", "DS Smith", "--justification", "judicial review bundle"]
runner = CliRunner()


def ledger_cli(*args: str) -> Result:
    main._register()
    return runner.invoke(main.app, ["ledger", *args], env={PASSPHRASE_ENV: PASSPHRASE})


def one_line_error(result: Result, code: str) -> str:
    assert result.exit_code == 3, (result.output, result.exception)  # a runtime error
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error {code}: "), result.stderr
    return lines[0]


def hub_beside(ledger_url: str) -> None:
    """The hub's tables where `crossforce ledger` looks for them: crossforce.db beside a
    SQLite ledger, the same database on PostgreSQL."""
    if ledger_url.startswith("sqlite"):
        folder = Path(ledger_url.removeprefix("sqlite:///")).parent
        ledger_url = f"sqlite:///{folder / 'crossforce.db'}"
    engine = make_engine(ledger_url)
    prepare_engine(engine, BROKER_SCHEMA)
    engine.dispose()


@pytest.fixture()
def key_file(tmp_path: Path) -> tuple[SigningKey, Path]:
    key = SigningKey.generate("HUB")
    path = tmp_path / "HUB.key"
    key.to_encrypted_file(path, PASSPHRASE)
    return key, path


def test_published_checkpoint_catches_a_rewrite_with_checkpoints_deleted(
    db_url: str, key_file: tuple[SigningKey, Path], tmp_path: Path
) -> None:
    key, path = key_file
    with open_ledger(db_url, key) as ledger:
        for number in range(12):
            append(ledger, number, checkpoint=True)
    printed = ledger_cli("checkpoint", "--db-url", db_url, "--key-file", str(path))
    assert printed.exit_code == 0, printed.output
    note = tmp_path / "published.txt"
    note.write_text(printed.stdout)
    verifier = printed.stderr.split("verifier key: ", 1)[1].strip()
    assert ledger_cli("verify", "--db-url", db_url, "--checkpoint", str(note)).exit_code == 0

    forge(db_url, rewrite=5)  # tree recomputed, every stored checkpoint deleted

    result = ledger_cli("verify", "--db-url", db_url, "--checkpoint", str(note))
    assert result.exit_code == 1, result.output
    assert (
        f"FAIL entry 0: checkpoint: published checkpoint {note}: the log's root at size 12 "
        "differs from the signed one: an entry in 0..11 was rewritten" in result.stdout
    )
    assert "covered by no signed checkpoint" in result.stdout
    given = ledger_cli(
        "verify", "--db-url", db_url, "--checkpoint", str(note), "--verifier-key", verifier
    )
    assert given.exit_code == 1 and "was rewritten" in given.stdout


def test_published_checkpoint_catches_deleted_entries(
    db_url: str, key_file: tuple[SigningKey, Path], tmp_path: Path
) -> None:
    key, path = key_file
    with open_ledger(db_url, key) as ledger:
        for number in range(9):
            append(ledger, number, checkpoint=True)
    note = tmp_path / "published.txt"
    note.write_text(ledger_cli("checkpoint", "--db-url", db_url, "--key-file", str(path)).stdout)
    forge(db_url, keep=6, drop_over=6)
    assert ledger_cli("verify", "--db-url", db_url).exit_code == 0  # the database alone
    result = ledger_cli("verify", "--db-url", db_url, "--checkpoint", str(note))
    assert result.exit_code == 1
    assert "signed 9 entries but the log now holds 6: entries 6..8 were deleted" in result.stdout


def test_deleted_checkpoint_rows_fail_verify(
    db_url: str, key_file: tuple[SigningKey, Path]
) -> None:
    key, _ = key_file
    with open_ledger(db_url, key) as ledger:
        for number in range(3):
            append(ledger, number, checkpoint=True)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_checkpoints"))
    engine.dispose()
    result = ledger_cli("verify", "--db-url", db_url)
    assert result.exit_code == 1
    assert "entries 0..2 are covered by no signed checkpoint" in result.stdout


def test_proof_prints_what_an_outside_verifier_needs(
    db_url: str, key_file: tuple[SigningKey, Path]
) -> None:
    key, _ = key_file
    with open_ledger(db_url, key) as ledger:
        for number in range(5):
            append(ledger, number, checkpoint=True)
    hub_beside(db_url)  # a read is reported to a PSD when its case needs it: the hub knows
    result = ledger_cli("proof", "3", *WHO, "--db-url", db_url, "--json")
    assert result.exit_code == 0, result.output
    proof = json.loads(result.stdout)
    entry = base64.b64decode(proof["entry"])
    leaf = hashlib.sha256(b"\x00" + entry).digest()
    assert base64.b64encode(leaf).decode() == proof["leaf_hash"]
    path = [base64.b64decode(h) for h in proof["audit_path"]]
    root = base64.b64decode(proof["root_hash"])
    assert verify_inclusion(3, proof["tree_size"], leaf, path, root)
    verifier = NoteVerifier.from_string(proof["verifier_key"])
    assert verifier.public_key == NoteVerifier.for_signing_key(key, verifier.name).public_key
    checkpoint = verify_checkpoint(proof["checkpoint"], [verifier])
    assert (checkpoint.tree_size, checkpoint.root_hash) == (proof["tree_size"], root)

    text_form = ledger_cli("proof", "3", *WHO, "--db-url", db_url)
    assert f"entry bytes {proof['entry']}" in text_form.stdout
    assert f"verifier key {proof['verifier_key']}" in text_form.stdout
    with open_ledger(db_url) as ledger:  # still a consultation under s.62
        logged = ledger.access_log(entry_index=3)
    assert [(r.who, r.justification) for r in logged] == [(WHO[1], WHO[3])] * 2


def test_read_only_commands_refuse_a_database_without_a_ledger(
    db_url: str, key_file: tuple[SigningKey, Path]
) -> None:
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE other (x INTEGER)")
        conn.close()
    for args in (
        ["verify"],
        ["proof", "0", *WHO],
        ["checkpoint", "--key-file", str(key_file[1])],
        ["find-subject", "--surname", "A", "--forenames", "B", "--dob", "1990-01-01", *WHO],
    ):
        line = one_line_error(ledger_cli(*args, "--db-url", db_url), "DATABASE_ERROR")
        assert "no ledger in" in line, line
    engine = create_engine(db_url)
    with engine.connect() as db:
        assert not [t for t in inspect(db).get_table_names() if t.startswith("ledger_")]
    engine.dispose()
    if db_url.startswith("sqlite"):
        with sqlite3.connect(path) as conn:  # not switched to WAL either
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        conn.close()


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'ledger.db'}"
    line = one_line_error(ledger_cli("verify", "--db-url", url), "DATABASE_ERROR")
    assert "does not exist" in line
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("garbage", "Could not parse SQLAlchemy URL"),
        ("nosuchdialect://x", "Can't load plugin"),
        ("postgresql+psycopg://u:s3cret@127.0.0.1:1/x", "Connection refused"),
    ],
)
def test_unreachable_or_bad_database_is_one_line(url: str, reason: str) -> None:
    for args in (["verify"], ["proof", "0", *WHO]):
        line = one_line_error(ledger_cli(*args, "--db-url", url), "DATABASE_ERROR")
        assert reason in line and "s3cret" not in line


def test_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("this is not SQLite\n" * 100)
    for args in (["verify"], ["proof", "0", *WHO]):
        result = ledger_cli(*args, "--db-url", f"sqlite:///{junk}")
        line = one_line_error(result, "DATABASE_ERROR")
        assert "file is not a database" in line
    assert junk.read_text() == "this is not SQLite\n" * 100


def test_bad_verifier_key_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    open_ledger(url).close()
    line = one_line_error(
        ledger_cli("verify", "--db-url", url, "--verifier-key", "garbage"), "KEY_FILE_INVALID"
    )
    assert "--verifier-key" in line


def test_bad_published_note_fails_verify_by_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_ledger(url, SigningKey.generate("HUB")) as ledger:
        append(ledger, 0, checkpoint=True)
    note = tmp_path / "note.txt"
    note.write_text("not a checkpoint\n")
    result = ledger_cli("verify", "--db-url", url, "--checkpoint", str(note))
    assert result.exit_code == 1
    assert f"published checkpoint {note}: not a signed note" in result.stdout
    missing = ledger_cli("verify", "--db-url", url, "--checkpoint", str(tmp_path / "none.txt"))
    assert "cannot read checkpoint file" in one_line_error(missing, "FILE_ERROR")


def test_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    if shutil.which("crossforce") is None:
        pytest.fail("the crossforce console script is not installed (pip install -e .)")
    junk = tmp_path / "junk.db"
    junk.write_text("junk")
    result = subprocess.run(
        ["crossforce", "ledger", "verify", "--db-url", f"sqlite:///{junk}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error DATABASE_ERROR: cannot open the ledger database")
