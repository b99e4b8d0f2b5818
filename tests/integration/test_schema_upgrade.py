"""Schema versions: a database made before them, holding real cases and ledger entries, is
refused by `up` until upgraded, loses nothing in the upgrade, and its ledger still verifies;
the migrations build exactly what the models declare."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, create_engine, insert, select
from typer.testing import CliRunner

from crossforce.adapters.sql import schema as broker_tables
from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.migrate import BROKER_SCHEMA, SchemaSpec, differences, prepare_engine
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.broker.cli import main
from crossforce.broker.scenario import FORCES, case_steps
from crossforce.broker.service.intelligence import IntelligenceLedger
from crossforce.contracts.b64 import b64url_encode
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.pki import EphemeralPki
from crossforce.ledger import Ledger
from crossforce.ledger import store as ledger_tables
from crossforce.ledger.merkle import EMPTY_ROOT

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASES = ("CF-2026-000701", "CF-2026-000702")
MASTER_KEY = bytes(range(32))
SUBJECT_SECRET = bytes(range(32, 64))
runner = CliRunner()


def _create_as_before_versions(url: str, *, ledger: bool) -> None:
    """What the code did before schema versions: `metadata.create_all`, and for the ledger
    its head row, with no version recorded."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if ledger:
                ledger_tables.metadata.create_all(connection)
                connection.execute(
                    insert(ledger_tables.head_table).values(
                        id=ledger_tables.HEAD_ID,
                        tree_size=0,
                        frontier=b"",
                        root_hash=EMPTY_ROOT,
                        chain_hash=ledger_tables.CHAIN_START,
                    )
                )
            else:
                broker_tables.metadata.create_all(connection)
    finally:
        engine.dispose()


def _fill(broker_url: str, ledger_url: str) -> None:
    """Whole cases through the hub's pipeline; their intelligence reports reach the ledger."""
    pki = EphemeralPki(FORCES, now=NOW)
    engine = make_engine(broker_url)
    # Opened without `create`: the ledger's schema is the one made above, as before.
    ledger = Ledger(
        ledger_url,
        pki.key("HUB"),
        SUBJECT_SECRET,
        master_key=MASTER_KEY,
        create=False,
    )
    try:
        hub = InProcessHub(
            engine,
            pki,
            NOW,
            subject_key_secret=SUBJECT_SECRET,
            hooks=(IntelligenceLedger(ledger),),
        )
        for case_ref in CASES:
            hub.run(case_ref, case_steps(case_ref, NOW))
    finally:
        ledger.close()
        engine.dispose()


def _rows(url: str, metadata: MetaData) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


@pytest.fixture
def before_versions(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    data_dir = tmp_path / ".crossforce"  # the default data directory, as the README runs
    data_dir.mkdir()
    broker_url = f"sqlite:///{data_dir / 'crossforce.db'}"
    ledger_url = f"sqlite:///{data_dir / 'ledger.db'}"
    _create_as_before_versions(broker_url, ledger=False)
    _create_as_before_versions(ledger_url, ledger=True)
    _fill(broker_url, ledger_url)
    yield data_dir, broker_url, ledger_url


def test_a_database_from_before_versions_upgrades_without_loss(
    before_versions: tuple[Path, str, str],
) -> None:
    data_dir, broker_url, ledger_url = before_versions
    main._register()
    broker_rows = _rows(broker_url, broker_tables.metadata)
    ledger_rows = _rows(ledger_url, ledger_tables.metadata)
    assert len(broker_rows["cases"]) == len(CASES)
    assert len(ledger_rows["ledger_entries"]) == len(CASES)

    current = runner.invoke(main.app, ["db", "current", "--data-dir", str(data_dir)])
    assert current.exit_code == 0, current.output
    assert current.output.count("no version recorded (older;") == 2

    # The hub refuses it rather than run on a schema it was not written for.
    engine = make_engine(broker_url)
    with pytest.raises(ContractError) as refused:
        prepare_engine(engine, BROKER_SCHEMA)
    engine.dispose()
    assert refused.value.code is ReasonCode.DATABASE_ERROR
    assert "crossforce db upgrade" in refused.value.message
    assert _rows(broker_url, broker_tables.metadata) == broker_rows  # and changed nothing

    upgraded = runner.invoke(main.app, ["db", "upgrade", "--data-dir", str(data_dir)])
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output.count("(current)") == 2

    assert _rows(broker_url, broker_tables.metadata) == broker_rows
    assert _rows(ledger_url, ledger_tables.metadata) == ledger_rows
    with Ledger(ledger_url, master_key=MASTER_KEY, create=False) as ledger:
        report = ledger.verify()
        assert report.ok, report
        assert report.tree_size == len(CASES)

    again = runner.invoke(main.app, ["db", "current", "--data-dir", str(data_dir), "--json"])
    assert again.exit_code == 0, again.output
    assert '"state": "current"' in again.output and "older" not in again.output


def test_up_refuses_an_older_database_in_one_line(
    before_versions: tuple[Path, str, str], tmp_path: Path
) -> None:
    data_dir, broker_url, _ = before_versions
    main._register()
    pki = EphemeralPki(FORCES, now=NOW)
    trust, hub_key = tmp_path / "trust.json", tmp_path / "HUB.key"
    trust.write_text(pki.trust_store().to_json())
    pki.key("HUB").to_encrypted_file(hub_key, "a passphrase")
    before = _rows(broker_url, broker_tables.metadata)
    args = ["up", "--data-dir", str(data_dir), "--trust", str(trust), "--hub-key", str(hub_key)]
    result = runner.invoke(main.app, args, env={"CROSSFORCE_KEY_PASSPHRASE": "a passphrase"})
    assert isinstance(result.exception, ContractError), result.output
    assert result.exception.code is ReasonCode.DATABASE_ERROR
    assert "older than this Crossforce" in result.exception.message
    assert "\n" not in result.exception.message
    assert _rows(broker_url, broker_tables.metadata) == before
    assert not (data_dir / "nats").exists()  # refused before anything started


def _assert_migrations_match_models(url: str, spec: SchemaSpec, engine: Engine) -> None:
    with engine.begin() as connection:
        assert differences(connection, spec) == []


@pytest.mark.parametrize("spec_name", ["broker", "ledger"])
def test_the_migrations_build_what_the_models_declare_on_sqlite(
    tmp_path: Path, spec_name: str
) -> None:
    spec = BROKER_SCHEMA if spec_name == "broker" else ledger_tables.LEDGER_SCHEMA
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    try:
        prepare_engine(engine, spec)
        _assert_migrations_match_models(url, spec, engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_migrations_build_what_the_models_declare_on_postgresql(
    fresh_postgres_url: str,
) -> None:
    # The broker and the ledger share one PostgreSQL database in production.
    engine = make_engine(fresh_postgres_url)
    try:
        for spec in (BROKER_SCHEMA, ledger_tables.LEDGER_SCHEMA):
            prepare_engine(engine, spec)
        for spec in (BROKER_SCHEMA, ledger_tables.LEDGER_SCHEMA):
            _assert_migrations_match_models(fresh_postgres_url, spec, engine)
    finally:
        engine.dispose()


def test_a_model_the_migrations_do_not_build_is_a_difference(tmp_path: Path) -> None:
    """The check above can fail: a column added to a model without a revision shows."""
    from sqlalchemy import Column, String, Table

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    try:
        prepare_engine(engine, BROKER_SCHEMA)
        changed = MetaData()
        for table in broker_tables.metadata.tables.values():
            table.to_metadata(changed)
        Table("cases", changed, Column("nickname", String(20)), extend_existing=True)
        spec = SchemaSpec(
            "broker",
            changed,
            BROKER_SCHEMA.script_location,
            BROKER_SCHEMA.version_table,
            BROKER_SCHEMA.lock_key,
        )
        with engine.begin() as connection:
            [difference] = differences(connection, spec)
        assert difference[0] == "add_column" and difference[3].name == "nickname"
    finally:
        engine.dispose()


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_block(heading: str) -> list[str]:
    block = README.read_text().split(heading, 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [
        re.sub(r"\s+#.*$", "", line).strip()
        for line in block.splitlines()
        if line.startswith("crossforce ")
    ]


def test_the_readme_upgrade_commands_run_as_written(
    before_versions: tuple[Path, str, str],
) -> None:
    if shutil.which("crossforce") is None:
        pytest.fail("the crossforce console script is not installed (pip install -e .)")
    data_dir, broker_url, ledger_url = before_versions
    rows = _rows(broker_url, broker_tables.metadata), _rows(ledger_url, ledger_tables.metadata)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    current, upgrade = _readme_block("### Upgrading")
    outputs = []
    for command in (current, upgrade, current):
        result = subprocess.run(
            command,
            shell=True,
            cwd=data_dir.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        outputs.append(result.stdout)
    assert outputs[0].count("older") == 2
    assert outputs[2].count("(current;") == 2
    assert (
        _rows(broker_url, broker_tables.metadata),
        _rows(ledger_url, ledger_tables.metadata),
    ) == rows


def test_up_upgrade_upgrades_then_runs(
    before_versions: tuple[Path, str, str], tmp_path: Path
) -> None:
    import signal
    import sys
    import time
    import urllib.request

    from crossforce.adapters.net import free_port

    data_dir, broker_url, ledger_url = before_versions
    rows = _rows(broker_url, broker_tables.metadata)
    pki = EphemeralPki(FORCES)
    (tmp_path / "trust.json").write_text(pki.trust_store().to_json())
    pki.key("HUB").to_encrypted_file(tmp_path / "HUB.key", "a passphrase")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    env.update(
        CROSSFORCE_KEY_PASSPHRASE="a passphrase",
        CROSSFORCE_LEDGER_MASTER_KEY=b64url_encode(MASTER_KEY),
        CROSSFORCE_LEDGER_SUBJECT_KEY=b64url_encode(SUBJECT_SECRET),
    )
    ops_port = free_port()
    hub = subprocess.Popen(
        [
            sys.executable, "-c", "from crossforce.broker.cli.main import run; run()",
            "up", "--upgrade",
            "--data-dir", str(data_dir), "--trust", str(tmp_path / "trust.json"),
            "--hub-key", str(tmp_path / "HUB.key"), "--port", "0", "--partitions", "2",
            "--ops-port", str(ops_port),
        ],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline, ready = time.monotonic() + 60, False
        while not ready and hub.poll() is None and time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{ops_port}/readyz"
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    ready = response.status == 200
            except OSError:
                time.sleep(0.2)
        assert ready, hub.stderr.read() if hub.poll() is not None else "not ready"
    finally:
        hub.send_signal(signal.SIGTERM)
        _, stderr = hub.communicate(timeout=60)
    assert hub.returncode == 0, stderr
    main._register()
    current = runner.invoke(main.app, ["db", "current", "--data-dir", str(data_dir), "--json"])
    assert [each["state"] for each in json.loads(current.output)] == ["current", "current"]
    assert _rows(broker_url, broker_tables.metadata)["cases"] == rows["cases"]
    with Ledger(ledger_url, master_key=MASTER_KEY, create=False) as ledger:
        assert ledger.verify().ok
