"""`crossforce cases`, `crossforce case REF` and `crossforce overdue` over a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.schema import metadata
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.broker.cli import main
from crossforce.broker.scenario import FORCES, case_steps
from crossforce.contracts.pki import EphemeralPki

CASE_REF = "CF-2026-000555"
runner = CliRunner()
WIDE = {"COLUMNS": "200"}  # step names are long; a narrow terminal folds them


def _database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    InProcessHub(engine, EphemeralPki(FORCES, now=now), now).run(
        CASE_REF, case_steps(CASE_REF, now)[:5]
    )
    engine.dispose()
    return url


def test_case_views_follow_need_to_know(tmp_path: Path) -> None:
    main._register()
    url = _database(tmp_path)
    listed = runner.invoke(main.app, ["cases", "--force", "PSOS", "--db-url", url])
    assert listed.exit_code == 0 and CASE_REF in listed.output
    assert (
        CASE_REF not in runner.invoke(main.app, ["cases", "--force", "BTP", "--db-url", url]).output
    )

    whole = runner.invoke(main.app, ["case", CASE_REF, "--db-url", url], env=WIDE)
    assert whole.exit_code == 0, whole.output
    assert "SURREY" in whole.output and "PSOS" in whole.output and "History" in whole.output
    # The case's statutory step clocks, owned by the co-ordinating force (Essex).
    assert "Deadlines and step clocks" in whole.output
    for step in ("ew-right-to-ask.initial-checks", "ew-right-to-ask.whole-enquiry"):
        assert step in whole.output

    psos = runner.invoke(main.app, ["case", CASE_REF, "--force", "PSOS", "--db-url", url])
    assert psos.exit_code == 0
    assert "PSOS" in psos.output and "SURREY" not in psos.output and "History" not in psos.output


def test_overdue_counts_each_owners_working_days(tmp_path: Path) -> None:
    main._register()
    url = _database(tmp_path)
    late = runner.invoke(
        main.app, ["overdue", "--db-url", url, "--at", "2026-12-02T12:00"], env=WIDE
    )
    assert late.exit_code == 0, late.output
    # Surrey's part fell due on Mon 30 Nov; Police Scotland's a day later (St Andrew's Day).
    assert "SURREY" in late.output and "PSOS" in late.output
    # Essex's 24-hour initial checks from Monday 23 November are late too.
    assert "ESSEX" in late.output and "ew-right-to-ask.initial-checks" in late.output
    unknown = runner.invoke(main.app, ["case", "CF-NOPE", "--db-url", url])
    assert unknown.exit_code != 0
