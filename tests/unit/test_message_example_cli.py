"""`crossforce message example`: a valid example of every message, dated relative to now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from crossforce.broker.cli import message_cmd
from crossforce.contracts.envelope import parse_envelope
from crossforce.contracts.examples import example
from crossforce.contracts.registry import REGISTRY

runner = CliRunner()
AT = "2026-12-02T09:00:00+00:00"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", REGISTRY.names())
def test_every_message_has_an_example_dated_as_at_the_given_time(name: str) -> None:
    result = runner.invoke(
        message_cmd.app, ["example", name, "--from", "ESSEX", "--to", "KENT", "--at", AT]
    )
    assert result.exit_code == 0, result.output
    envelope = parse_envelope(result.stdout.encode())
    assert envelope.time == NOW
    REGISTRY.open(envelope)  # the payload validates against its contract
    assert envelope.data == example(name, "ESSEX", "KENT", now=NOW).model_dump(mode="json")


def test_what_an_example_reports_happened_at_now_and_what_it_asks_for_after() -> None:
    opened = example("case-opened", "KENT", "ESSEX", now=NOW)
    assert opened.initial_contact_at == NOW
    closed = example("intelligence-submission", "ESSEX", "KENT", now=NOW)
    assert closed.closed_at == NOW and closed.request.received_at < NOW
    asked = example("enquiry-requested", "ESSEX", "KENT", now=NOW)
    assert asked.due_at is not None and asked.due_at > NOW
    # Dates of birth are dates, not moments: they do not move.
    assert opened.parties[0].person is not None
    assert (
        opened.parties[0].person.date_of_birth
        == example("case-opened", "KENT", "ESSEX").parties[0].person.date_of_birth
    )  # type: ignore[union-attr]


def test_without_now_the_examples_keep_their_fixed_dates() -> None:
    fixed = example("case-opened", "KENT", "ESSEX")
    assert fixed.initial_contact_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    later = example("case-opened", "KENT", "ESSEX", now=NOW + timedelta(days=400))
    assert later.initial_contact_at == NOW + timedelta(days=400)
