"""Shared by the in-process scenarios (tests/unit/service/scenarios/): payloads dated by the
hub's fixed clock, sending with the receipt the sender would get, and the case as the hub
stored it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crossforce.adapters.client.force_client import SignedReceipt
from crossforce.adapters.sql.queries import case_rows, deadline_rows
from crossforce.adapters.testing import payloads
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.adapters.testing.payloads import A_APPLICANT, party
from crossforce.broker.domain.parts import PartOfJob
from crossforce.broker.domain.views import CaseView
from crossforce.broker.service.queries import case_history, case_view
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.messages.base import Message

__all__ = ["A_APPLICANT", "NOW", "party"]

# The hub's clock: a Monday morning, so working-day timescales start at once.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


# -- payloads, dated now -------------------------------------------------------------------
def build(name: str, sender: str, recipient: str, **changes: Any) -> Message:
    return payloads.build(name, sender, recipient, now=NOW, **changes)


def opened(receiving: str, coordinating: str, parties: list[dict[str, Any]], **kw: Any) -> Message:
    return payloads.opened(receiving, coordinating, parties, now=NOW, **kw)


def enquiry(sender: str, to: str, enquiry_id: str, party_id: str, home: str) -> Message:
    return payloads.enquiry(sender, to, enquiry_id, party_id, home, now=NOW)


# -- sending -------------------------------------------------------------------------------
def send(
    hub: InProcessHub, sender: str, case_ref: str, message: Message, actor: str | None = None
) -> SignedReceipt:
    """Signed by `sender` (naming `actor`, if given) and processed: the receipt it gets."""
    return hub.receipt(hub.send(sender, case_ref, message, actor=actor))


def accepted(
    hub: InProcessHub, sender: str, case_ref: str, message: Message, actor: str | None = None
) -> SignedReceipt:
    receipt = send(hub, sender, case_ref, message, actor)
    assert receipt.accepted, f"{message.NAME}: {receipt.reason_code} {receipt.receipt.message}"
    return receipt


def refused(receipt: SignedReceipt, code: ReasonCode, rule: str) -> str:
    """A HUB-signed rejection with the stable reason code, naming the domain rule; returns
    the receipt's message."""
    assert not receipt.accepted, f"accepted, but {rule} should have refused it"
    assert receipt.reason_code is code, receipt.receipt.message
    assert receipt.envelope.senderforce == "HUB"
    message = receipt.receipt.message or ""
    assert message.startswith(f"{rule}:"), message
    return message


# -- what the forces heard -----------------------------------------------------------------
def names_by_force(hub: InProcessHub, *forces: str) -> dict[str, list[str]]:
    """What each force has received since it was last drained, by message name."""
    return {force: hub.names(force) for force in forces}


# -- the case as the hub stored it ---------------------------------------------------------
def view(hub: InProcessHub, case_ref: str, force: str | None = None) -> CaseView:
    return case_view(hub.engine, case_ref, force)


def parts(hub: InProcessHub, kind: str, case_ref: str) -> list[PartOfJob]:
    return [p for p in view(hub, case_ref).parts if p.kind.value == kind]


def events(hub: InProcessHub, case_ref: str) -> list[str]:
    return [line.event for line in case_history(hub.engine, case_ref)]


def history_line(hub: InProcessHub, event: str, case_ref: str) -> str:
    [line] = [h for h in case_history(hub.engine, case_ref) if h.event == event]
    return line.summary


def deadlines(hub: InProcessHub, case_ref: str, **equal: Any) -> list[dict[str, Any]]:
    """The case's deadline rows whose columns equal `equal`."""
    rows = deadline_rows(hub.engine, case_ref=case_ref)
    return [row for row in rows if all(row[k] == v for k, v in equal.items())]


def case_row(hub: InProcessHub, case_ref: str) -> dict[str, Any]:
    [row] = [row for row in case_rows(hub.engine) if row["case_ref"] == case_ref]
    return row
