"""Names and dates of birth never sit in a case row in the clear, yet the hub's own messages
still name the persons their recipients need."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.schema import cases, metadata, outbox
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.broker.scenario import FORCES, PARTIES, case_steps
from crossforce.broker.service.sealed_persons import persons_key, seal_persons, unseal_persons
from crossforce.contracts.pki import EphemeralPki
from crossforce.ledger.errors import LedgerError

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASE = "CF-2026-000901"


def test_case_rows_hold_no_names_or_dates_of_birth(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    metadata.create_all(engine)
    hub = InProcessHub(engine, EphemeralPki(FORCES, now=NOW), NOW)
    hub.run(CASE, case_steps(CASE, NOW)[:3])
    with engine.connect() as db:
        [state] = db.execute(select(cases.c.state)).scalars()
        published = [row.payload for row in db.execute(select(outbox.c.payload))]
    stored = json.dumps(state)
    for party in PARTIES.values():
        person = party.get("person") or {}
        for value in person.values():
            assert str(value) not in stored
    assert state["sealed_persons"]
    # The rules still ran on what the domain keeps (ids, roles, home forces, subject keys).
    assert state["case"]["parties"]
    assert published


def test_sealed_persons_are_bound_to_their_case() -> None:
    key = persons_key(b"s" * 32)
    sealed = seal_persons(key, CASE, {"B": {"family_name": "Sample"}})
    assert unseal_persons(key, CASE, sealed) == {"B": {"family_name": "Sample"}}
    with pytest.raises(LedgerError):
        unseal_persons(key, "CF-2026-000902", sealed)  # moved to another case's row
    with pytest.raises(LedgerError):
        unseal_persons(persons_key(b"t" * 32), CASE, sealed)
    assert seal_persons(key, CASE, {}) is None and unseal_persons(key, CASE, None) == {}
