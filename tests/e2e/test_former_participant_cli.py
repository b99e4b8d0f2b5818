"""`crossforce cases` and `crossforce case` agree after a transfer: the former co-ordinator
is listed with a read-only record, and the case opens as that record, not a refusal."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from crossforce.broker.cli import main
from tests.e2e.web_hub import LATE_CASE, MOVED_CASE, build_hub

runner = CliRunner()


def test_list_and_case_agree_for_a_former_coordinator(tmp_path: Path) -> None:
    build_hub(tmp_path)
    url = f"sqlite:///{tmp_path / 'crossforce.db'}"
    main._register()
    listed = runner.invoke(main.app, ["cases", "--force", "ESSEX", "--db-url", url])
    assert listed.exit_code == 0, listed.output
    assert MOVED_CASE in listed.output and LATE_CASE in listed.output
    shown = runner.invoke(
        main.app, ["case", MOVED_CASE, "--force", "ESSEX", "--db-url", url], terminal_width=200
    )
    assert shown.exit_code == 0, shown.output
    assert "former participant: read-only record" in shown.output
    # A force that never had a role is neither listed nor shown.
    none = runner.invoke(main.app, ["cases", "--force", "METROPOLITAN", "--db-url", url])
    assert LATE_CASE not in none.output
    refused = runner.invoke(
        main.app, ["case", LATE_CASE, "--force", "METROPOLITAN", "--db-url", url]
    )
    assert refused.exit_code != 0
