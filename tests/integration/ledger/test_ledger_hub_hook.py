"""The hub's case hook (crossforce.broker.service.intelligence) appends every accepted
submission."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ledger_helpers import MASTER_KEY, ORIGIN, SUBJECT_SECRET

from crossforce.broker.service.intelligence import IntelligenceLedger
from crossforce.contracts.examples import example_data
from crossforce.contracts.keys import SigningKey
from crossforce.contracts.messages.closure import IntelligenceSubmission
from crossforce.ledger import Ledger, LedgerError, parse_checkpoint

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _submission(*, b_date_of_birth: bool) -> IntelligenceSubmission:
    data = example_data("intelligence-submission", "KENT", "ESSEX")
    if not b_date_of_birth:
        for party in data["parties"]:
            if party["role"] == "B":
                party["person"].pop("date_of_birth", None)
    return IntelligenceSubmission.model_validate(data)


def _close(hook: IntelligenceLedger, message: IntelligenceSubmission, envelope_id: str) -> Any:
    history: list[tuple[Any, ...]] = []
    uow = SimpleNamespace(history=SimpleNamespace(add=lambda *args: history.append(args)))
    envelope = SimpleNamespace(
        id=envelope_id, caseref="KENT-2026-00417", senderforce="KENT", time=NOW
    )
    case = SimpleNamespace(case_ref="KENT-2026-00417")
    hook(uow, case, envelope, message, NOW)  # type: ignore[arg-type]  # stand-ins
    return history


def test_subject_without_date_of_birth_still_reaches_the_ledger(db_url: str) -> None:
    """A B known by name only: the case closes, the entry lands, with no subject key."""
    key = SigningKey.generate("HUB")
    with Ledger(db_url, key, SUBJECT_SECRET, ORIGIN, master_key=MASTER_KEY) as ledger:
        hook = IntelligenceLedger(ledger)
        history = _close(hook, _submission(b_date_of_birth=False), "env-1")
        assert [h[3] for h in history] == ["ledger-entry"]
        stored = ledger.entry(0, by="DS Smith", justification="test")
        assert stored.subject_key is None
        assert stored.personal is not None
        b = [p for p in stored.personal["parties"] if p["role"] == "B"]
        assert b == [{**b[0], "names": ["Barry Sample"], "date_of_birth": None}]

        _close(hook, _submission(b_date_of_birth=True), "env-2")
        assert ledger.entry(1, by="DS Smith", justification="test").subject_key is not None
        assert ledger.verify().ok


def test_every_hub_append_is_signed_over(db_url: str) -> None:
    """The stored checkpoints always cover the head the hub left, redeliveries included."""
    key = SigningKey.generate("HUB")
    with Ledger(db_url, key, SUBJECT_SECRET, ORIGIN, master_key=MASTER_KEY) as ledger:
        hook = IntelligenceLedger(ledger)
        for number, envelope_id in enumerate(["env-1", "env-2", "env-2"]):
            _close(hook, _submission(b_date_of_birth=number == 0), envelope_id)
            note = ledger.latest_checkpoint()
            assert note is not None
            assert parse_checkpoint(note)[0].tree_size == ledger.size == min(number + 1, 2)
        report = ledger.verify(require_signed_head=True)
        assert report.ok and report.checkpoints_checked == 2


def test_the_hub_hook_refuses_a_ledger_it_cannot_sign(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.db'}", None, SUBJECT_SECRET, ORIGIN)
    with ledger, pytest.raises(LedgerError, match="sign its checkpoints"):
        IntelligenceLedger(ledger)
