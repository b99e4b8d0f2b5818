"""`crossforce web`: the supervisors' web app, and its local accounts."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crossforce.adapters.sql.engine import open_read_only
from crossforce.adapters.sql.report_queue import may_queue, open_report_queue
from crossforce.adapters.web.actions import ActionSender
from crossforce.adapters.web.oidc import OidcSettings
from crossforce.adapters.web.store import Role, WebStore
from crossforce.broker.cli.common import (
    FILE_SUFFIX,
    WEB_DB_URL_ENV,
    WEB_SECRET_ENV,
    WEB_STORE_URL_ENV,
    passphrase,
    setting,
)
from crossforce.broker.cli.overdue_cmd import _as_at
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES
from crossforce.contracts.keys import write_private_file

WEB_PASSWORD_ENV = "CROSSFORCE_WEB_PASSWORD"
OIDC_SECRET_ENV = "CROSSFORCE_WEB_OIDC_CLIENT_SECRET"
DEFAULT_DATA_DIR = Path(".crossforce")

app = typer.Typer(help="The supervisors' web app and its accounts.", no_args_is_help=True)
user_app = typer.Typer(help="Local accounts: each belongs to one force.", no_args_is_help=True)
app.add_typer(user_app, name="user")
err = Console(stderr=True)

DataDir = Annotated[
    Path, typer.Option(help="The broker's data directory (holds crossforce.db and web.db)")
]
StoreUrl = Annotated[
    str | None,
    typer.Option(
        envvar=WEB_STORE_URL_ENV,
        help=f"The app's own store of accounts, sessions and consultations "
        f"(${WEB_STORE_URL_ENV}{FILE_SUFFIX}) [default: DATA_DIR/web.db]",
    ),
]


def store_url(data_dir: Path, given: str | None) -> str:
    return setting(WEB_STORE_URL_ENV, given) or f"sqlite:///{data_dir / 'web.db'}"


def _session_secret(data_dir: Path) -> str:
    """Signs session cookies: from the environment, else made once beside the data (0600)."""
    given = setting(WEB_SECRET_ENV)
    if given:
        return given
    path = data_dir / "secrets" / "web-session.key"
    if not path.exists():
        write_private_file(path, secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="The sign-in name")],
    force: Annotated[str, typer.Option(help="The force the account belongs to")],
    role: Annotated[Role, typer.Option(help="supervisor, or senior-officer")] = Role.SUPERVISOR,
    oidc_only: Annotated[
        bool, typer.Option(help="No password: signs in only through the force's provider")
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    store: StoreUrl = None,
) -> None:
    """Create an account. The password comes from $CROSSFORCE_WEB_PASSWORD or a prompt."""
    password = None
    if not oidc_only:
        password = setting(WEB_PASSWORD_ENV) or str(
            typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        )
    web = WebStore.open(store_url(data_dir, store))
    account = web.add_account(username, force, role, password, datetime.now(UTC))
    err.print(f"account {account.username} added: {account.force} {account.role.value}")


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument(help="The sign-in name")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    store: StoreUrl = None,
) -> None:
    """Disable an account and end its sessions at once."""
    WebStore.open(store_url(data_dir, store)).disable_account(username)
    err.print(f"account {username} disabled; its sessions are ended")


@app.command("serve")
def serve(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    db_url: Annotated[
        str | None,
        typer.Option(
            envvar=WEB_DB_URL_ENV,
            help=f"The hub's database, read through a read-only connection or role "
            f"(${WEB_DB_URL_ENV}{FILE_SUFFIX}) [default: DATA_DIR/crossforce.db]",
        ),
    ] = None,
    store: StoreUrl = None,
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8400,
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM)")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM)")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Show every view as at this ISO 8601 time")
    ] = None,
    keys: Annotated[
        Path | None,
        typer.Option(help="Folder of force keys (CODE.key) the app may sign actions with"),
    ] = None,
    trust: Annotated[Path | None, typer.Option(help="Trust store (with --keys)")] = None,
    nats_url: Annotated[str, typer.Option(help="NATS for actions (with --keys)")] = (
        "nats://127.0.0.1:4222"
    ),
    nats_creds: Annotated[
        Path | None, typer.Option(help="Folder of force NATS seed files CODE.nk (with --keys)")
    ] = None,
    oidc_issuer: Annotated[
        str | None,
        typer.Option(
            help="OpenID Connect issuer of the force's identity provider; the client secret "
            f"comes from ${OIDC_SECRET_ENV}{FILE_SUFFIX}"
        ),
    ] = None,
    oidc_client_id: Annotated[str, typer.Option(help="OpenID Connect client id")] = (
        "crossforce-web"
    ),
    oidc_username_claim: Annotated[
        str, typer.Option(help="The ID-token claim that names the local account")
    ] = "preferred_username",
) -> None:
    """Serve the supervisors' web app (Ctrl-C stops)."""
    import uvicorn

    from crossforce.adapters.web.app import WebConfig, create_app

    if (tls_cert is None) != (tls_key is None):
        raise ContractError(ReasonCode.FILE_ERROR, "give --tls-cert and --tls-key together")
    hub_url = setting(WEB_DB_URL_ENV, db_url) or f"sqlite:///{data_dir / 'crossforce.db'}"
    hub = open_read_only(hub_url)
    reports = open_report_queue(hub_url)
    if not may_queue(reports):
        err.print(
            "[yellow]warning[/] this role may not add to the hub's access_reports: cases with a "
            "police employee among the parties will not be shown until the hub grants it "
            "(it does when it starts; see docs/decisions/0051)",
            highlight=False,
        )
    config = WebConfig(
        hub=hub,
        # The one write it may make there: queue reads the hub reports to a PSD (0051).
        reports=reports,
        store=WebStore.open(store_url(data_dir, store)),
        secret_key=_session_secret(data_dir),
        tls=tls_cert is not None,
        as_at=_as_at(at) if at else None,
        actions=_actions(keys, trust, nats_url, nats_creds),
        oidc=_oidc(oidc_issuer, oidc_client_id, oidc_username_claim),
    )
    scheme = "https" if config.tls else "http"
    err.print(f"supervisors' web app on {scheme}://{host}:{port}/ (Ctrl-C stops)")
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        access_log=False,  # request lines name case references: not logged
        log_level="warning",
    )


def _actions(
    keys: Path | None, trust: Path | None, nats_url: str, creds: Path | None
) -> ActionSender | None:
    if keys is None:
        return None
    if trust is None:
        raise ContractError(ReasonCode.FILE_ERROR, "--keys needs --trust")
    from crossforce.adapters.web.actions import NatsActionSender
    from crossforce.contracts.keys import SigningKey
    from crossforce.contracts.trust import TrustStore

    secret = passphrase()
    signing = {
        path.stem: SigningKey.from_encrypted_file(path, secret)
        for path in sorted(keys.glob("*.key"))
        if path.stem in FORCES  # not the trust anchor's key
    }
    seeds = {p.stem: p for p in creds.glob("*.nk")} if creds else {}
    store = TrustStore.load(trust, pinned_anchor_kid=os.environ.get("CROSSFORCE_ANCHOR_KID"))
    return NatsActionSender(signing, store, nats_url, seeds)


def _oidc(issuer: str | None, client_id: str, claim: str) -> OidcSettings | None:
    if issuer is None:
        return None
    secret = setting(OIDC_SECRET_ENV)
    if not secret:
        raise ContractError(ReasonCode.FILE_ERROR, f"--oidc-issuer needs ${OIDC_SECRET_ENV}")
    return OidcSettings(issuer, client_id, secret, claim)


def dashboard_moved() -> None:
    """Replaced by `crossforce web serve`."""
    err.print(
        "`crossforce dashboard` is now the supervisors' web app: "
        "`crossforce web serve` (accounts: `crossforce web user add`)",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(2)
