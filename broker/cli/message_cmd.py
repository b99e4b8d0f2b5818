"""`crossforce message`: make an example, sign it, verify it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crossforce.broker.cli.common import load_signer
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import parse_envelope
from crossforce.contracts.forces import get_force
from crossforce.contracts.registry import REGISTRY
from crossforce.contracts.signing import sign_envelope, verify_envelope
from crossforce.contracts.trust import TrustStore

app = typer.Typer(help="Build, sign and verify DVDS messages.", no_args_is_help=True)
out = Console(stderr=True)

EXAMPLE_CASE_REF = "CF-2026-000123"


@app.command("example")
def example(
    name: Annotated[str, typer.Argument(help="Message name, e.g. enquiry-requested")],
    sender: Annotated[str, typer.Option("--from", help="Sending force code")],
    recipient: Annotated[str, typer.Option("--to", help="Receiving force code")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Date the example as at this ISO 8601 time (default: now)"),
    ] = None,
) -> None:
    """Print an unsigned example envelope of a message type, dated relative to now: the case
    opens now and later steps fall after it, so the example is one the hub would accept."""
    from crossforce.broker.cli.overdue_cmd import _as_at
    from crossforce.contracts.examples import example as example_payload

    now = _as_at(at)
    sending = get_force(sender)
    get_force(recipient)
    envelope = compose(
        example_payload(name, sending.code, recipient, now=now),
        sender=sending.code,
        case_ref=EXAMPLE_CASE_REF,
        recipients=[recipient],
        jurisdiction=sending.jurisdiction,
        time=now,
    )
    typer.echo(json.dumps(envelope.to_json_dict(), indent=2, ensure_ascii=False))


@app.command("sign")
def sign(
    envelope_file: Annotated[Path, typer.Argument(help="Unsigned envelope JSON")],
    key: Annotated[
        str, typer.Option(help="The sending force's CODE.key, or a pkcs11: URI of its key")
    ],
) -> None:
    """Sign an envelope with a force key; prints the signed envelope."""
    envelope = parse_envelope(envelope_file.read_bytes())
    REGISTRY.open(envelope)  # refuse to sign what the hub would refuse to read
    signed = sign_envelope(envelope, load_signer(key))
    typer.echo(json.dumps(signed.to_json_dict(), indent=2, ensure_ascii=False))


@app.command("verify")
def verify(
    envelope_file: Annotated[Path, typer.Argument(help="Signed envelope JSON")],
    trust: Annotated[Path, typer.Option(help="Signed trust store (trust.json)")],
    anchor_kid: Annotated[
        str | None, typer.Option(help="Pin the trust anchor's kid", envvar="CROSSFORCE_ANCHOR_KID")
    ] = None,
) -> None:
    """Verify size, format, signature, key validity, sender and schema. Exit 0 when valid."""
    store = TrustStore.load(trust, pinned_anchor_kid=anchor_kid)
    if anchor_kid is None:
        # An unpinned store proves only that someone signed it; say how to close that gap.
        out.print(
            f"note: trust anchor {store.anchor.kid} is not pinned; pass --anchor-kid "
            "(or CROSSFORCE_ANCHOR_KID) with the kid you got from your anchor's holder",
            highlight=False,
            soft_wrap=True,
        )
    envelope = parse_envelope(envelope_file.read_bytes())
    record = verify_envelope(envelope, store)
    message = REGISTRY.open(envelope)
    out.print(
        f"[green]OK[/] {envelope.type} {envelope.id} from {envelope.senderforce} "
        f"(kid {record.kid}), data valid as {message.type_uri()}",
        highlight=False,
    )
