"""A hub keeps the cases it works on, and a stale copy never decides anything: it fails its
version check, or a refusal made on it is checked against the stored row first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from crossforce.adapters.sql.engine import make_engine
from crossforce.adapters.sql.schema import cases, metadata
from crossforce.adapters.sql.unit_of_work import SqlUnitOfWork
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.broker.scenario import FORCES, Step, case_steps
from crossforce.broker.service.case_cache import CaseCache
from crossforce.broker.service.pipeline import Inbound
from crossforce.broker.service.ports import ConcurrentUpdate, StoredCase
from crossforce.contracts.pki import EphemeralPki

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASE = "CF-2026-000911"
STEPS = case_steps(CASE, NOW)


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    return engine


def _stored_case(engine: Engine) -> dict[str, object]:
    with engine.connect() as db:
        [state] = db.execute(select(cases.c.state).where(cases.c.case_ref == CASE)).scalars()
    return dict(state["case"])


def _send(hub: InProcessHub, step: Step) -> bool:
    return hub.send(step.sender, CASE, step.message).accepted


@pytest.fixture
def pki() -> EphemeralPki:
    return EphemeralPki(FORCES, now=NOW)


def test_a_hub_reads_a_case_it_committed_from_memory(tmp_path: Path, pki: EphemeralPki) -> None:
    hub = InProcessHub(_engine(tmp_path / "hub.db"), pki, NOW)
    cache = hub.core.pipeline.handlers.cache
    assert _send(hub, STEPS[0])
    row = cache.get(CASE)
    assert row is not None and row.state["case"] == _stored_case(hub.engine)
    assert _send(hub, STEPS[1])
    assert cache.get(CASE) is not None and cache.get(CASE).version == row.version + 1  # type: ignore[union-attr]


def test_a_refusal_on_a_stale_copy_is_decided_again_on_the_stored_case(
    tmp_path: Path, pki: EphemeralPki
) -> None:
    engine = _engine(tmp_path / "hub.db")
    first, second = InProcessHub(engine, pki, NOW), InProcessHub(engine, pki, NOW)
    assert _send(first, STEPS[0])
    # Another replica held the partition meanwhile and asked for the enquiries.
    assert _send(second, STEPS[1]) and _send(second, STEPS[2])
    # On its own copy the first hub knows no enquiry to acknowledge; the stored case does.
    assert _send(first, STEPS[3])
    alone = InProcessHub(_engine(tmp_path / "alone.db"), pki, NOW)
    for step in STEPS[:4]:
        assert _send(alone, step)
    assert _stored_case(engine) == _stored_case(alone.engine)


def test_a_save_from_a_stale_copy_fails_its_version_check_and_the_retry_reads_afresh(
    tmp_path: Path, pki: EphemeralPki
) -> None:
    engine = _engine(tmp_path / "hub.db")
    first, second = InProcessHub(engine, pki, NOW), InProcessHub(engine, pki, NOW)
    for step in STEPS[:3]:
        assert _send(first, step)
    assert _send(second, STEPS[3])
    step = STEPS[4]  # does not depend on STEPS[3], so nothing refuses it on the stale copy
    data = first.sign(step.sender, CASE, step.message, NOW).to_bytes()
    with pytest.raises(ConcurrentUpdate):
        first.deliver_bytes(step.sender, CASE, data)
    assert first.core.pipeline.handlers.cache.get(CASE) is None
    assert first.deliver_bytes(step.sender, CASE, data).accepted  # the partition's retry
    alone = InProcessHub(_engine(tmp_path / "alone.db"), pki, NOW)
    for step in STEPS[:5]:
        assert _send(alone, step)
    assert _stored_case(engine) == _stored_case(alone.engine)


def test_a_refusal_on_a_fresh_copy_stands(tmp_path: Path, pki: EphemeralPki) -> None:
    hub = InProcessHub(_engine(tmp_path / "hub.db"), pki, NOW)
    assert _send(hub, STEPS[0])
    result = hub.send(STEPS[3].sender, CASE, STEPS[3].message)  # no such enquiry yet
    assert not result.accepted and result.reason is not None


def test_rollback_actions_run_only_for_what_rolled_back(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "hub.db")
    ran: list[str] = []
    with SqlUnitOfWork(engine) as uow:
        uow.on_rollback(lambda: ran.append("committed with its transaction"))
        with pytest.raises(RuntimeError), uow.savepoint():
            uow.on_rollback(lambda: ran.append("its savepoint rolled back"))
            raise RuntimeError
        with uow.savepoint():
            uow.on_rollback(lambda: ran.append("savepoint kept, transaction committed"))
    with pytest.raises(RuntimeError), SqlUnitOfWork(engine) as uow:
        uow.on_rollback(lambda: ran.append("its transaction rolled back"))
        raise RuntimeError
    assert ran == ["its savepoint rolled back", "its transaction rolled back"]


def test_messages_of_one_case_in_one_batch_each_read_the_one_before(
    tmp_path: Path, pki: EphemeralPki
) -> None:
    hub = InProcessHub(_engine(tmp_path / "hub.db"), pki, NOW)
    assert _send(hub, STEPS[0])
    inbounds = [
        Inbound(
            hub.sign(step.sender, CASE, step.message, NOW).to_bytes(),
            f"cf.in.0.{step.sender}.{CASE}",
            sequence,
            NOW,
        )
        for sequence, step in enumerate(STEPS[1:5], start=10)
    ]
    results = hub.core.pipeline.process_batch(inbounds)
    assert [r.accepted for r in results] == [True] * 4, [r.detail for r in results]


def test_a_save_rolled_back_with_its_message_leaves_no_copy(
    tmp_path: Path, pki: EphemeralPki
) -> None:
    hub = InProcessHub(_engine(tmp_path / "hub.db"), pki, NOW)
    assert _send(hub, STEPS[0])
    cache = hub.core.pipeline.handlers.cache
    with pytest.raises(RuntimeError), SqlUnitOfWork(hub.engine) as uow:
        hub.core.pipeline.handlers.apply(
            uow, hub.sign(STEPS[1].sender, CASE, STEPS[1].message, NOW), STEPS[1].message, NOW
        )
        assert cache.get(CASE) is not None
        raise RuntimeError  # e.g. the batch's commit failing
    assert cache.get(CASE) is None
    assert _send(hub, STEPS[1])


def test_the_cache_keeps_the_most_recently_used_cases() -> None:
    cache = CaseCache(capacity=2)
    for ref in ("A", "B"):
        cache.put(StoredCase(ref, 1, {}))
    assert cache.get("A") is not None  # A is now the most recent
    cache.put(StoredCase("C", 1, {}))
    assert cache.get("B") is None and cache.get("A") is not None and len(cache) == 2
    cache.forget("A")
    assert cache.get("A") is None
