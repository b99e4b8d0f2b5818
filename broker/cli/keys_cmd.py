"""`crossforce keys`: generate, rotate, revoke and export force signing keys."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crossforce.adapters.hsm.uri import MODULE_ENV, PIN_ENV, Pkcs11Uri
from crossforce.broker.cli.common import passphrase, setting
from crossforce.contracts.envelope import HUB_FORCE_CODE
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import get_force
from crossforce.contracts.keys import ANCHOR, RevocationReason, key_file_protection, rewrap_key_file
from crossforce.contracts.keystore import KeyDirectory, load_key_set

app = typer.Typer(help="Force signing keys and the signed trust store.", no_args_is_help=True)
out = Console(stderr=True)

OutDir = Annotated[Path, typer.Option("--out", help="Key directory")]


@app.command("new")
def new(
    out_dir: OutDir = Path("keys"),
    force: Annotated[str | None, typer.Option(help="Force code, e.g. KENT")] = None,
    anchor: Annotated[bool, typer.Option("--anchor", help="Make the trust-anchor key")] = False,
    valid_days: Annotated[int, typer.Option(help="Key lifetime in days")] = 365,
    pkcs11: Annotated[
        str | None,
        typer.Option(
            "--pkcs11",
            help="Make the key inside an HSM instead: pkcs11:token=LABEL;object=CODE "
            f"(module from ${MODULE_ENV}, PIN from ${PIN_ENV}); writes only CODE.jwk",
        ),
    ] = None,
) -> None:
    """Generate a key: CODE.key (encrypted, 0600) and CODE.jwk (public key set)."""
    if anchor == (force is not None):
        raise typer.BadParameter("give exactly one of --force CODE or --anchor")
    owner = ANCHOR if anchor else _participant(str(force))
    keys = KeyDirectory(out_dir)
    if pkcs11 is not None:
        _new_in_hsm(keys, owner, pkcs11, timedelta(days=valid_days))
        return
    key = keys.create(owner, passphrase(confirm=True), lifetime=timedelta(days=valid_days))
    out.print(f"{keys.private_path(owner)} (encrypted), {keys.public_path(owner)}  kid={key.kid}")


def _new_in_hsm(keys: KeyDirectory, owner: str, uri: str, lifetime: timedelta) -> None:
    if Pkcs11Uri.parse(uri).label != owner:
        raise typer.BadParameter(f"the key's object label must be {owner}", param_hint="--pkcs11")
    module = os.environ.get(MODULE_ENV) or Pkcs11Uri.parse(uri).module_path
    pin = setting(PIN_ENV)
    if not module or not pin:
        raise typer.BadParameter(f"set {MODULE_ENV} and {PIN_ENV}", param_hint="--pkcs11")
    from crossforce.adapters.hsm.pkcs11 import Pkcs11Signer  # loads the PKCS#11 bindings

    signer = Pkcs11Signer.generate(uri, pin=pin, module_path=module)
    try:
        keys.publish(signer, lifetime=lifetime)
    finally:
        signer.close()
    out.print(f"{uri} (in the HSM), {keys.public_path(owner)}  kid={signer.kid}")


@app.command("rewrap")
def rewrap(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Key files (default: every *.key in --out)", show_default=False),
    ] = None,
    out_dir: OutDir = Path("keys"),
) -> None:
    """Re-encrypt key files made with a weak key derivation (PBKDF2 at 2,048 iterations)
    under scrypt at OWASP's cost, in place, keeping each old file as CODE.key.bak.

    The key, its kid and its passphrase stay the same: nothing needs re-publishing."""
    paths = files or sorted(out_dir.glob("*.key"))
    if not paths:
        raise ContractError(ReasonCode.FILE_ERROR, f"no key files in {out_dir}")
    secret = passphrase()
    for path in paths:
        before = key_file_protection(path).describe()
        backup = rewrap_key_file(path, secret)
        if backup is None:
            out.print(
                f"{path}: {before}, strong already: unchanged", highlight=False, soft_wrap=True
            )
            continue
        after = key_file_protection(path).describe()
        out.print(
            f"{path}: {before} -> {after} (old file kept as {backup})",
            highlight=False,
            soft_wrap=True,
        )


def _participant(code: str) -> str:
    """A force from the directory, or the hub itself (which signs receipts)."""
    return HUB_FORCE_CODE if code == HUB_FORCE_CODE else get_force(code).code


@app.command("rotate")
def rotate(
    force: Annotated[str, typer.Option(help="Force code")],
    out_dir: OutDir = Path("keys"),
    overlap_days: Annotated[int, typer.Option(help="Days the old key stays valid")] = 7,
) -> None:
    """Make a new current key; the old key keeps verifying through the overlap window."""
    keys = KeyDirectory(out_dir)
    key = keys.rotate(force, passphrase(), overlap=timedelta(days=overlap_days))
    out.print(f"rotated {force}: new kid={key.kid}; re-issue the trust store to publish it")


@app.command("revoke")
def revoke(
    force: Annotated[str, typer.Option(help="Force code")],
    kid: Annotated[str, typer.Option(help="Key id (RFC 7638 thumbprint)")],
    at: Annotated[
        str | None,
        typer.Option(help="Revocation time, ISO 8601 with an offset (default: now)"),
    ] = None,
    reason: Annotated[
        RevocationReason,
        typer.Option(
            help="compromise: nothing the key signed after the hub last saw it is trusted; "
            "retirement: what it signed before --at stands"
        ),
    ] = RevocationReason.COMPROMISE,
    out_dir: OutDir = Path("keys"),
) -> None:
    """Revoke a key from a time; the hub picks up the re-issued trust store while it runs."""
    record = KeyDirectory(out_dir).revoke(force, kid, at=_aware_time(at), reason=reason)
    out.print(
        f"revoked {force} {kid} at {record.revoked_at} ({reason.value}); re-issue the trust "
        "store: a running hub reloads it within seconds (or at once on SIGHUP)"
    )


def _aware_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ContractError(
            ReasonCode.KEY_FILE_INVALID, f"--at {text!r} is not an ISO 8601 time"
        ) from None
    if when.tzinfo is None:
        raise ContractError(
            ReasonCode.KEY_FILE_INVALID,
            f"--at {text!r} has no UTC offset: write e.g. {text}+00:00 or {text}Z",
        )
    return when


@app.command("export")
def export(
    force: Annotated[str, typer.Option(help="Force code")],
    out_dir: OutDir = Path("keys"),
    jwks: Annotated[bool, typer.Option("--jwks", help="Plain RFC 7517 JWK Set")] = False,
) -> None:
    """Print a force's public key set (never private material)."""
    key_set = KeyDirectory(out_dir).load_key_set(force)
    if not jwks:
        typer.echo(key_set.to_json(), nl=False)
        return
    plain = [{**k.jwk(), "kid": k.kid, "alg": k.alg, "use": k.use} for k in key_set.keys]
    typer.echo(json.dumps({"keys": plain}, indent=2))


@app.command("trust")
def trust(
    key_sets: Annotated[list[Path], typer.Argument(help="CODE.jwk files to include")],
    anchor: Annotated[Path, typer.Option(help="The trust-anchor private key file")],
) -> None:
    """Write a trust store of the given key sets, signed by the anchor, to stdout."""
    keys = KeyDirectory(anchor.parent)
    if keys.private_path(ANCHOR) != anchor:
        raise typer.BadParameter("the anchor key must be named anchor.key beside anchor.jwk")
    # The anchor signs the store; it is not a participant, so `keys/*.jwk` may name it.
    forces = [ks for ks in map(load_key_set, key_sets) if ks.force != ANCHOR]
    store = keys.issue_trust_store(passphrase(), forces)
    typer.echo(store.to_json(), nl=False)
